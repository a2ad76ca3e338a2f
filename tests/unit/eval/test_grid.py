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
