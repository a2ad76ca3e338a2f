"""Latent variants and the cell grid."""

from __future__ import annotations

import pytest

from semcom.eval.grid import Cell, LatentVariant, build_grid, parse_variants


@pytest.mark.parametrize(
    "text, spec, fields",
    [
        ("float64", "float64", ("float64", False, 100.0, "")),
        ("float64:authors", "float64:authors", ("float64", False, 100.0, "authors")),
        ("int8g:p99.9:pc", "int8g:pc:p99.9", ("int8g", True, 99.9, "")),
        ("int8g:pc:p99.9:nb:smmse", "int8g:pc:p99.9:smmse:nb", ("int8g", True, 99.9, "smmse+nb")),
        ("int6:mmse:smmse", "int6:smmse", ("int6", False, 100.0, "smmse")),
        ("float16:fill:nb", "float16:nb", ("float16", False, 100.0, "nb")),
        ("int8g:soft:pc", "int8g:pc:soft", ("int8g", True, 100.0, "soft")),
    ],
)
def test_variant_parsing_is_canonical(text, spec, fields):
    v = LatentVariant.parse(text)
    assert (v.encoding, v.per_channel, v.percentile, v.repair) == fields
    assert v.spec == spec and LatentVariant.parse(v.spec) == v


@pytest.mark.parametrize(
    "text, message",
    [
        ("float128", "unknown latent encoding"),
        ("int8:zz", "unknown option 'zz'"),
        ("float32:pc", "quantised encodings"),
        ("int8:p40", r"percentile must be in \(50, 100\]"),
        ("int8:authors", "authors"),
        ("float64:authors:nb", "authors"),
        ("float16:mmse", "mmse/smmse/soft apply to quantised"),
        ("float16:soft", "mmse/smmse/soft apply to quantised"),
        ("int8g:smmse:soft", "replaces mmse/smmse"),
    ],
)
def test_bad_variants_raise(text, message):
    with pytest.raises(ValueError, match=message):
        LatentVariant.parse(text)


def test_grid_counts_and_keys():
    variants = parse_variants(["float64,int8", "int8"])  # duplicates dropped
    cells = build_grid(("text", "text+latent", "latent"), variants, (5.0, 10.0), (0, 10, 30))
    by_mode = {m: [c for c in cells if c.mode == m] for m in ("text", "text+latent", "latent")}
    assert len(by_mode["text"]) == 2 and all(c.variant == "-" and c.steps == 50 for c in by_mode["text"])
    assert len(by_mode["text+latent"]) == 2 * 2 * 3
    assert len(by_mode["latent"]) == 2 * 2 and all(c.steps == 0 for c in by_mode["latent"])
    assert len({c.key for c in cells}) == len(cells)
    assert Cell("latent", "int8", 6.25, 0).key == "latent|int8|6.25|0"


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="steps k must be in"):
        build_grid(("text+latent",), parse_variants("float64"), (5.0,), (60,))
    with pytest.raises(ValueError, match="no SNR"):
        build_grid(("text",), parse_variants("float64"), (), ())


def test_fading_block_length_is_part_of_a_rayleigh_sweeps_identity_only(tmp_path):
    from semcom.eval.merge import _identity_of
    from semcom.eval.sweep_config import SweepConfig

    def cfg(**kw):
        return SweepConfig(data=tmp_path, out=tmp_path / "run", modes=("latent",), steps=(0,), **kw)

    awgn = cfg().identity()
    assert "fading_block_length" not in awgn  # run directories of other channels keep their identity
    assert cfg(fading_block_length=16).identity() == awgn
    faded = cfg(channel="rayleigh", fading_block_length=16).identity()
    assert faded["fading_block_length"] == 16 and faded != cfg(channel="rayleigh").identity()
    assert _identity_of(cfg(channel="rayleigh", fading_block_length=16).to_json())["fading_block_length"] == 16
    assert _identity_of(cfg().to_json())["fading_block_length"] is None
    with pytest.raises(ValueError, match="fading_block_length"):
        cfg(channel="rayleigh", fading_block_length=0)


def test_the_sweeps_link_is_one_channel_config_with_cell_fields_on_top(tmp_path):
    from semcom.eval.sweep_config import SweepConfig

    cfg = SweepConfig(
        data=tmp_path,
        out=tmp_path / "run",
        modes=("latent",),
        steps=(0,),
        snr_convention="esn0",
        modulation="qpsk",
        channel="rayleigh",
        fading_block_length=32,
        fec="ldpc",
        mcs="auto",
    )
    link = cfg.link(4, latent_policy="never", seed=7)
    assert (link.snr_db, link.snr_convention, link.modulation, link.model) == (4.0, "esn0", "qpsk", "rayleigh")
    assert (link.fading_block_length, link.fec, link.mcs, link.latent_policy, link.seed) == (
        32,
        "ldpc",
        "auto",
        "never",
        7,
    )
    assert cfg.link(4, fec="none").fec == "none"  # a field given wins over the sweep's
    with pytest.raises(ValueError):
        SweepConfig(data=tmp_path, out=tmp_path / "run", modes=("latent",), steps=(0,), fec="turbo")


def test_encodings_take_the_variant_registrys_names_where_the_sweep_shares_their_settings(tmp_path, capsys):
    from semcom.cli import main
    from semcom.eval.sweep_config import SweepConfig

    def sweep(*encodings, **fields):
        return SweepConfig(data=tmp_path, out=tmp_path / "run", encodings=encodings, snr_db=(5.0,), **fields)

    assert parse_variants("int8g-smmse") == parse_variants("int8g:pc:p99.9:smmse")  # the spec, for any sweep
    assert sweep("int8g-smmse", "jpeg").to_json()["encodings"] == ["int8g:pc:p99.9:smmse", "jpeg"]
    assert [v.spec for v in sweep("clean", channel="none").variants] == ["float64"]
    assert [c.key for c in sweep("text", modes=("text",)).cells] == ["text|-|5|50"]
    assert sweep("float64", channel="rayleigh").variants == (LatentVariant("float64"),)  # a spec stays a spec
    for encoding, fields, difference in (
        ("clean", {}, r"--channel-model none \(the sweep's: awgn\)"),
        ("int8g-smmse", {"modes": ("text", "text+latent")}, r"--modes latent \(the sweep's: text text\+latent\)"),
        ("ldpc-amc", {}, r"--fec ldpc \(the sweep's: none\), latent policy amc \(the sweep's: always\)\."),
        ("ldpc-amc", {"fec": "ldpc", "mcs": "5"}, r"--mcs auto \(the sweep's: 5\), latent policy amc"),
        ("text", {"modes": ("latent",)}, r"--modes text \(the sweep's: latent\)\."),
    ):
        with pytest.raises(
            ValueError, match=rf"registry variant '{encoding}' \([^)]*\) differs from this sweep: {difference}"
        ):
            sweep(encoding, **fields)
    with pytest.raises(
        ValueError,
        match=r"'int8q': not a latent encoding \(float64, .*\), an image codec \(jpeg, webp, avif\), an analog scheme \(analog, softcast\) nor a registry variant \(clean, .*int8g-smmse",
    ):
        sweep("int8q")
    assert (
        main(["eval", "run", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--encodings", "ldpc-amc"]) == 2
    )
    assert "semcom eval: registry variant 'ldpc-amc' (int8:pc) differs from this sweep" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_sweep_modes_are_the_receivers_named_once(monkeypatch):
    """The sweep's modes are semcom.models.params.MODES without "auto", captioned first (the tables'
    order): a receiver mode added there is a sweep mode, with no second list to update."""
    import importlib.util
    import sys

    from semcom.eval import grid
    from semcom.models import params

    assert grid.MODES == ("text", "text+latent", "latent") and set(grid.MODES) == set(params.MODES) - {"auto"}
    monkeypatch.setattr(params, "MODES", (*params.MODES, "text+hint"))
    spec = importlib.util.spec_from_file_location("grid_copy", grid.__file__)
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "grid_copy", copy)
    spec.loader.exec_module(copy)
    assert copy.MODES == ("text", "text+latent", "text+hint", "latent")
