"""Table 1 of the paper: payload sizes, bits and 16-QAM symbols, from the library and the CLI."""

from __future__ import annotations

import json

import pytest

from semcom.cli import main
from semcom.payload.table import format_table, payload_table


def _rows_by_key(rows):  # (payload, type) -> row
    return {(r.payload, r.type): r for r in rows}


def test_table1_numbers_of_the_paper() -> None:
    rows = _rows_by_key(payload_table())
    image = rows[("whole image", "float64")]
    assert (image.shape, image.bytes, image.bits, image.symbols) == ("3x512x512", 6_291_456, 50_331_648, 12_582_912)
    assert rows[("whole image", "uint8")].bytes == 786_432
    caption = rows[("caption", "8-bit ASCII")]
    assert (caption.bytes, caption.bits, caption.symbols) == (77, 616, 154)
    latent = rows[("latent", "float64")]
    assert (latent.shape, latent.bytes, latent.bits, latent.symbols) == ("4x64x64", 131_072, 1_048_576, 262_144)
    both = rows[("caption + latent", "float64")]
    assert (both.bytes, both.bits, both.symbols) == (131_149, 1_049_192, 262_298)
    # the abstract's "2.09%" is 131,688 / 6,291,456 (the paper's sum); the exact sum gives 2.08%
    assert round(100 * both.ratio_to_image_float64, 2) == 2.08
    assert round(100 * both.ratio_to_image_uint8, 1) == 16.7


def test_compact_encodings_sizes() -> None:
    rows = _rows_by_key(payload_table())
    assert {t: rows[("latent", t)].bytes for t in ("float32", "float16", "int8", "int6", "int4")} == {
        "float32": 65_536, "float16": 32_768, "int8": 16_384, "int6": 12_288, "int4": 8_192,
    }  # fmt: skip
    assert rows[("caption + latent", "int8g")].bytes == 16_461
    assert rows[("latent", "int8")].side_bytes == 8
    per_channel = _rows_by_key(payload_table(per_channel=True))
    assert per_channel[("latent", "int4")].side_bytes == 32 and per_channel[("latent", "float64")].side_bytes == 0


def test_other_sizes_and_modulations() -> None:
    rows = _rows_by_key(payload_table(image_size=256, latent_shape=(16, 32, 32), modulation="qpsk", caption_chars=10))
    assert rows[("whole image", "uint8")].bytes == 3 * 256 * 256
    latent = rows[("latent", "int6")]
    assert (latent.shape, latent.bytes, latent.symbols) == ("16x32x32", 16 * 32 * 32 * 6 // 8, 16 * 32 * 32 * 6 // 2)
    assert rows[("caption", "8-bit ASCII")].symbols == 40  # 80 bits / 2 bits per QPSK symbol
    odd = _rows_by_key(payload_table(latent_shape=(3,), encodings=("int6",), modulation="16qam"))
    assert (odd[("latent", "int6")].bytes, odd[("latent", "int6")].symbols) == (3, 5)  # ceil(18 / 4)


def test_table_rejects_bad_arguments() -> None:
    cases: list[tuple[dict, str]] = [
        ({"image_size": 0}, "image_size"),
        ({"modulation": "8psk"}, "modulation"),
        ({"encodings": ("int7",)}, "unknown latent encoding"),
        ({"latent_shape": (4, 0)}, "1..4096"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            payload_table(**kwargs)


def test_cli_json_and_human_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payload", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bits_per_symbol"] == 4
    both = next(r for r in data["rows"] if r["payload"] == "caption + latent" and r["type"] == "float64")
    assert both["bytes"] == 131_149 and both["symbols"] == 262_298
    assert main(["payload"]) == 0
    text = capsys.readouterr().out
    assert "131,149" in text and "2.085%" in text and "16.68%" in text
    assert text == format_table(payload_table()) + "\n"


def test_cli_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["payload", "--json", "--image-size", "256", "--latent-channels", "16", "--encodings", "float16", "int4"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)["rows"]
    latent = [r for r in rows if r["payload"] == "latent"]
    got = [(r["type"], r["shape"], r["bytes"]) for r in latent]
    assert got == [("float16", "16x32x32", 32_768), ("int4", "16x32x32", 8_192)]
    assert main(["payload", "--image-size", "500"]) == 2
    assert "multiple of --downsample" in capsys.readouterr().err
    assert main(["payload", "--encodings", "nope"]) == 2


def test_cli_bit_error_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["payload", "--bit-errors", "--json", "--latent-shape", "2x8x8", "--trials", "2", "--ber", "0", "0.01"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    results = {(r["encoding"], r["ber"]): r for r in data["results"]}
    assert len(results) == 2 * 9
    for name in ("float64", "int8", "int4g"):
        assert results[(name, 0.0)]["mse"] == results[(name, 0.0)]["mse_clean"]
    assert main(["payload", "--bit-errors", "--latent-shape", "2x8x8", "--trials", "1", "--ber", "0.01"]) == 0
    assert "int8g" in capsys.readouterr().out


def test_cli_bit_flips_take_their_seed_from_the_one_seed_derivation(capsys: pytest.CaptureFixture[str]) -> None:
    """The latent from --seed, the flips from `derive_seed(seed, "bit-flips")` (semcom.pipeline.seeds)."""
    import numpy as np

    from semcom.payload.robustness import bit_error_mse, synthetic_latent
    from semcom.pipeline.seeds import derive_seed

    argv = ["payload", "--bit-errors", "--json", "--latent-shape", "2x8x8", "--trials", "2", "--ber", "0.05"]
    assert main([*argv, "--encodings", "int8", "--seed", "7"]) == 0
    (got,) = json.loads(capsys.readouterr().out)["results"]
    x = synthetic_latent((2, 8, 8), "gaussian", np.random.default_rng(7))
    (expected,) = bit_error_mse(x, ("int8",), (0.05,), trials=2, seed=derive_seed(7, "bit-flips"))
    assert got["mse"] == expected.mse


def test_paper_209_percent_is_the_bytes_plus_bits_sum():
    from semcom.payload.table import PAPER_CAPTION_PLUS_LATENT, payload_table, table_dict

    rows = {(r.payload, r.type): r for r in payload_table()}
    exact = rows[("caption + latent", "float64")]
    # the paper's 131,688 = latent bytes + caption bits
    assert rows[("latent", "float64")].bytes + rows[("caption", "8-bit ASCII")].bits == PAPER_CAPTION_PLUS_LATENT
    assert round(100 * table_dict(payload_table())["paper_ratio_caption_plus_float64_latent"], 2) == 2.09
    assert round(100 * exact.ratio_to_image_float64, 3) == 2.085
