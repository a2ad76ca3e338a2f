"""Figures are written (PNG + SVG), unavailable metrics are annotated, Table 1 is exact."""

from __future__ import annotations

import math

from semcom.eval import plots
from semcom.eval.report import pivot_markdown, table1_markdown


def _table():
    rows = []
    for mode, variant, steps in (
        ("text", "-", 50),
        ("text+latent", "int8", 30),
        ("text+latent", "int8", 10),
        ("latent", "int8", 0),
    ):
        for snr in (5.0, 10.0):
            base = 0.1 if mode == "text" else 0.3
            row = {
                "cell": f"{mode}|{variant}|{snr:g}|{steps}",
                "mode": mode,
                "variant": variant,
                "encoding": "int8",
                "snr_db": snr,
                "steps": steps,
                "fid": math.nan,
                "latent_bytes": 16384,
            }
            for metric in ("ssim", "psnr", "lpips", "clip_caption", "clip_image"):
                value = base + snr / 100 if metric in ("ssim", "psnr") else math.nan
                row |= {f"{metric}_mean": value, f"{metric}_ci95": 0.01, f"{metric}_n": 3}
            rows.append(row)
    return rows


def test_fig3_and_fig5_files_with_annotated_unavailable_panels(tmp_path):
    reasons = {"lpips": "lpips not installed (pip install semcom[metrics])", "fid": "torch-fidelity not installed"}
    files = plots.metric_vs_snr(_table(), tmp_path / "fig3", unavailable=reasons)
    assert sorted(p.suffix for p in files) == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in files)
    svg = (tmp_path / "fig3.svg").read_text()
    assert "LPIPS (AlexNet) unavailable" in svg and "lpips not installed" in svg
    assert "text+latent int8 (k=30)" in svg and "k=10" not in svg  # Fig. 3 shows the paper's k = 30
    files = plots.metric_vs_steps(_table(), tmp_path / "fig5", unavailable=reasons)
    assert all(p.is_file() for p in files)
    assert "5 dB" in (tmp_path / "fig5.svg").read_text()


def test_default_k_prefers_the_papers_30():
    assert plots.default_k(_table()) == 30
    assert plots.default_k([r for r in _table() if r["steps"] != 30]) == 10
    assert plots.default_k([r for r in _table() if r["mode"] == "latent"]) is None


def test_pivot_table_has_series_rows_and_snr_columns():
    text = pivot_markdown(_table(), "ssim", 30)
    lines = text.splitlines()
    assert lines[0] == "| series | payload bytes | 5 dB | 10 dB |"
    assert "| text only | 16,384 | 0.1500 ± 0.0100 | 0.2000 ± 0.0100 |" in lines
    assert any(line.startswith("| text+latent int8 (k=30) |") for line in lines)
    assert "n/a" in pivot_markdown(_table(), "lpips", 30)


def test_table1_markdown_is_exact():
    from semcom.payload.table import payload_table

    text = table1_markdown(payload_table(encodings=("float64", "int8")))
    assert "| whole image | 3x512x512 | float64 | 6,291,456 | 50,331,648 |" in text
    assert "| caption | 77 | 8-bit ASCII | 77 | 616 |" in text
    assert "| latent | 4x64x64 | float64 | 131,072 | 1,048,576 | 262,144 | 2.083% |" in text
    assert "| caption + latent |  | float64 | 131,149 |" in text
    assert "| latent | 4x64x64 | int8 | 16,384 |" in text


def test_paired_differences_cancel_the_image_spread():
    from semcom.eval.report import paired_markdown

    rows = []
    for i, level in enumerate((0.2, 0.5, 0.8)):  # very different images ...
        for variant, gain in (("float64:authors", 0.0), ("int8g", 0.1)):  # ... the same gain on each
            rows.append({"image": f"im{i}", "mode": "latent", "variant": variant, "snr_db": 5.0, "ssim": level + gain})
    text = paired_markdown(rows, "ssim", "float64:authors")
    assert "| variant - float64:authors | 5 dB |" in text
    assert "| int8g | 0.1000 ± 0.0000 |" in text


def test_wins_count_images_where_the_variant_is_better():
    from semcom.eval.report import wins_markdown

    rows = []
    for i, (base, other) in enumerate(((0.2, 0.3), (0.5, 0.4), (0.8, 0.9), (0.6, float("nan")))):
        rows.append({"image": f"im{i}", "mode": "latent", "variant": "float64:authors", "snr_db": 5.0, "ssim": base})
        rows.append({"image": f"im{i}", "mode": "latent", "variant": "int8g", "snr_db": 5.0, "ssim": other})
    rows.append({"image": "im9", "mode": "latent", "variant": "int8g", "snr_db": 5.0, "ssim": 1.0})  # no baseline
    assert "| int8g | 2/3 |" in wins_markdown(rows, "ssim", "float64:authors")
    assert "| int8g | 1/3 |" in wins_markdown(rows, "ssim", "float64:authors", higher_is_better=False)


def test_image_grid_shows_every_compared_scheme_within_its_row_bound():
    from semcom.eval.report import GRID_ROWS, _grid_series

    def rows(mode, variants, steps=0):
        return [
            {"mode": mode, "variant": v, "steps": steps, "snr_db": 5.0, "cell": f"{mode}|{v}|5|{steps}"}
            for v in variants
        ]

    latents = ["float64:authors", "int8", "int8g:pc:smmse"]
    table = [*rows("text", ["-"], 50), *rows("text+latent", ["int8"], 30), *rows("text+latent", ["int8"], 10)]
    table += rows("latent", latents) + rows("baseline", ["jpeg:ldpc", "webp:ldpc", "webp:frac=1/4:ldpc", "jpeg"])
    table += rows("analog", ["analog:frac=1/16", "softcast:frac=1/16"])
    names = [name for name, _ in _grid_series(table, 30)]
    assert len(names) == 7 > GRID_ROWS  # seven scheme families: one row each, k = 10 not among them
    assert names == [
        "text only",
        "text+latent int8 (k=30)",
        "latent float64:authors",
        "baseline jpeg:ldpc",
        "baseline webp:ldpc",
        "analog analog:frac=1/16",
        "analog softcast:frac=1/16",
    ]
    # fewer families: the rest of the rows in turn, each family its first and its last swept series
    names = [
        name
        for name, _ in _grid_series(
            rows("latent", latents) + rows("baseline", ["webp:ldpc", "webp:frac=1/4:ldpc", "webp"]), None
        )
    ]
    assert names == [f"latent {v}" for v in latents] + [
        "baseline webp:ldpc",
        "baseline webp:frac=1/4:ldpc",
        "baseline webp",
    ]
    names = [
        name
        for name, _ in _grid_series(
            rows("latent", [f"int{b}" for b in range(2, 10)]) + rows("baseline", ["webp"]), None
        )
    ]
    assert names == ["latent int2", "latent int3", "latent int4", "latent int8", "latent int9", "baseline webp"]
    assert _grid_series(rows("analog", ["analog"]), None) == [("analog analog", [(5.0, "analog|analog|5|0")])]
