"""The one variant registry (`semcom.variants`) and its three doors: the eval's spec grammar, the
web UI's SNR sweep and `semcom demo`'s columns (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from semcom import variants as registry
from semcom.cli.demo.plan import CLEAN, CODEC_VARIANTS, build_request, request_settings
from semcom.cli.demo.report import variant_record
from semcom.eval.grid import LatentVariant, parse_variants, service_latent
from semcom.pipeline import RoleSeeds
from semcom.rpc.convert import LATENT_ENCODINGS, LATENT_REPAIRS
from semcom.ui import backend as be

REPO = Path(__file__).resolve().parents[2]


def test_every_entry_has_a_unique_name_and_label_and_a_canonical_eval_spec() -> None:
    entries = list(registry.VARIANTS.values())
    assert len({v.label for v in entries}) == len(entries)
    assert [v.name for v in entries] == list(registry.VARIANTS)
    for v in entries:
        (parsed,) = parse_variants(v.spec)
        assert parsed.spec == v.spec and parsed.encoding == v.encoding
    with pytest.raises(ValueError, match="unknown variant 'nope'; known: clean, float64"):
        registry.get("nope")


def test_the_demo_sends_what_its_committed_report_records() -> None:
    """The demo's columns from the registry: same keys, labels and settings as the measured run."""
    recorded = json.loads((REPO / "docs/results/demo/report.json").read_text())["variants"]
    assert [variant_record(v) for v in (CLEAN, *CODEC_VARIANTS)] == recorded
    assert request_settings(registry.get("int8g-smmse")) == {
        "latent_encoding": "int8g",
        "per_channel": True,
        "clip_percentile": 99.9,
        "latent_repair": "smmse",
    }


def test_the_ui_offers_the_entries_its_form_can_carry() -> None:
    names = [name for _, name in be.sweep_choices()]
    assert names == [be.FORM, "float64", "float16", "int8g-smmse", "float16-ldpc-amc", "analog"]
    assert be.form_settings(registry.get("int8g-smmse")) == {
        "encoding": "int8g",
        "int_clip": True,
        "fec": "none",
        "mcs": "auto",
        "latent_policy": "always",
        "latent_repair": "smmse",
    }
    for name, why in (("clean", "channel"), ("text", "mode"), ("ldpc-amc", "p99.9")):
        with pytest.raises(be.UiError, match=why):
            be.form_settings(registry.get(name))


def test_a_service_door_refuses_a_spec_the_services_do_not_send() -> None:
    for spec in ("webp:frac=1/16:ldpc", "softcast", "int8g:pc:nb", "float64:size=128"):
        with pytest.raises(ValueError):
            service_latent(registry.Variant("x", "x", spec))


class _Recorder:
    """A back-end that records the settings each transmission got."""

    def __init__(self) -> None:
        self.sent: list[be.UiSettings] = []

    def transmit(self, image: Image.Image, s: be.UiSettings) -> be.Outcome:
        self.sent.append(s)
        return be.Outcome(image, "", "", "latent", None, ssim=0.5)


def test_a_new_entry_plugs_into_every_door_once(monkeypatch: pytest.MonkeyPatch) -> None:
    new = registry.Variant("int4g-mmse", "int4g + MMSE, LDPC", "int4g:pc:p99.9:mmse", fec="ldpc", policy="auto")
    monkeypatch.setitem(registry.VARIANTS, new.name, new)

    # the eval accepts its spec
    assert parse_variants(new.spec) == (LatentVariant("int4g", True, 99.9, "mmse"),)

    # the UI lists it and sweeps it with its settings
    assert (new.label, new.name) in be.sweep_choices()
    backend = _Recorder()
    rows = be.sweep(backend, Image.new("RGB", (64, 64)), be.UiSettings(), [new.name], [3.0])
    assert [r.variant for r in rows] == [new.label]
    (s,) = backend.sent
    assert (s.encoding, s.int_clip, s.fec, s.latent_policy, s.latent_repair, s.snr_db) == (
        "int4g",
        True,
        "ldpc",
        "auto",
        "mmse",
        3.0,
    )

    # the demo plans its cell's request
    request = build_request(new, "photo", b"png", "a cat", 10.0, RoleSeeds.derive(0, 0), steps=5)
    assert request.request_id == "photo|int4g-mmse|10.0000"
    assert request.latent_encoding == LATENT_ENCODINGS["int4g"]
    assert request.quant.per_channel and request.clip_percentile == pytest.approx(99.9)
    assert request.params.latent_repair == LATENT_REPAIRS["mmse"]
    assert request.channel.mcs == "auto" and request.params.strength == 0.0
