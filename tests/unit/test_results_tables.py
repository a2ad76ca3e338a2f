"""README and docs figures agree with the committed results under docs/results/ they come from:
each generated block equals what `benchmarks/results_tables.py` renders from its JSON/CSV, and a
few numbers are read back from the README and compared with the JSON directly (not through the
renderer), so a renderer that mixed up columns would fail too."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from tests.conftest import REPO


def _load_script():
    # by path: `benchmarks` also names the tests/integration/benchmarks package in a full run
    spec = importlib.util.spec_from_file_location("results_tables", REPO / "benchmarks" / "results_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


results_tables = _load_script()


def _docs() -> dict[str, str]:
    return {rel: (REPO / rel).read_text(encoding="utf-8") for rel in results_tables.DOCS}


def test_every_block_equals_its_rendering_from_the_committed_results() -> None:
    seen = set()
    for rel, text in _docs().items():
        for name, body in results_tables.blocks(text):
            seen.add(name)
            assert body == results_tables.render(name) + "\n", (
                f"{rel}: block {name!r} is stale; run .venv/bin/python benchmarks/results_tables.py"
            )
    assert seen == set(results_tables.BLOCKS), f"blocks not used anywhere: {set(results_tables.BLOCKS) - seen}"


def test_every_results_json_names_the_command_that_wrote_it() -> None:
    for rel in (
        "fec_ssim/awgn/summary.json",
        "fec_ssim/rayleigh/summary.json",
        "fec_erasure_fill/erasure_fill.json",
        "modem_speed/bench.json",
        "fec_decoder_speed/bench.json",
        "fec_timing/minsum_t1.json",
        "fec_timing/sionna_t1.json",
        "fec_timing/sionna_t2.json",
    ):
        data = results_tables.load_json(rel)
        assert data["command"].startswith(".venv/bin/python benchmarks/"), rel
        assert data["host"]["cpus"] >= 1 and len(data["host"]["loadavg"]) == 3, rel
        assert "settings" in data, rel


def _block(text: str, name: str) -> str:
    return dict(results_tables.blocks(text))[name]


def test_readme_fec_table_reads_back_as_the_summary() -> None:
    summary = results_tables.load_json("fec_ssim/awgn/summary.json")
    rows = [line for line in _block(_docs()["README.md"], "fec-awgn-readme").splitlines() if re.match(r"^\| \d", line)]
    variants = ["float64", "int8", "int8g-smmse", "amc-ldpc"]
    assert len(rows) == len(summary["settings"]["esn0_db"])
    for j, line in enumerate(rows):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[0].split()[0]) == pytest.approx(summary["settings"]["esn0_db"][j], abs=0.005)
        for v, cell in zip(variants, cells[1:5], strict=True):
            point = summary["variants"][v]["points"][j]
            if point["ssim"] is None:
                assert "dropped" in cell
                continue
            ssim, symbols = re.match(r"^\**([\d.]+)\** / ([\d,]+)", cell).groups()
            assert float(ssim) == pytest.approx(point["ssim"], abs=5e-5), (v, j)
            assert int(symbols.replace(",", "")) == round(point["symbols"]), (v, j)


def test_readme_modem_ratios_read_back_as_the_benchmark() -> None:
    bench = json.loads((REPO / "docs/results/modem_speed/bench.json").read_text())
    impl = bench["result"]["implementations"]
    text = _block(_docs()["README.md"], "modem-speed")
    ratios = [int(x) for x in re.findall(r"\*\*(\d+)x\*\* slower", text)]
    expected = [round(impl[k]["seconds"] / impl["semcom"]["seconds"]) for k in ("commpy", "sionna_1thread")]
    assert ratios == expected


def test_a_block_follows_its_results(tmp_path) -> None:
    """Rendering reads the results directory it is given: a changed number changes the table."""
    import shutil

    shutil.copytree(REPO / "docs/results/modem_speed", tmp_path / "modem_speed")
    path = tmp_path / "modem_speed" / "bench.json"
    bench = json.loads(path.read_text())
    bench["result"]["implementations"]["commpy"]["seconds"] = (
        bench["result"]["implementations"]["semcom"]["seconds"] * 3
    )
    path.write_text(json.dumps(bench))
    assert "**3x** slower" in results_tables.render("modem-speed", tmp_path)
    assert "**3x** slower" not in results_tables.render("modem-speed")


def test_readme_regime_cells_read_back_as_the_map() -> None:
    """Every cell of the README's SSIM map is the map's versus cell of that scenario, budget and SNR:
    margin, ✓ and the paired win count, read back from the text and compared with regime.json."""
    versus = results_tables.load_json("regime/map/regime.json")["versus"]
    at = {(c["scenario"], c["budget"], c["snr"]): c for c in versus if c["metric"] == "ssim"}
    names = {v: k for k, v in results_tables.REGIME_SCENARIOS.items()}
    seen = 0
    budget, snrs = "", []
    for line in _block(_docs()["README.md"], "regime-awgn").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| scenario (budget"):
            budget = cells[0].removeprefix("scenario (budget ").rstrip(")")
            snrs = [c.removesuffix(" dB") for c in cells[1:]]
        elif cells[0] in names:
            for snr, text in zip(snrs, cells[1:], strict=True):
                if not text:
                    assert (names[cells[0]], budget, snr) not in at
                    continue
                cell = at[(names[cells[0]], budget, snr)]
                margin, wins, n = re.match(r"^\**([+-][\d.]+)(?: ✓)?\** (\d+)/(\d+)$", text).groups()
                assert float(margin) == pytest.approx(cell["margin"], abs=5e-4)
                assert ("✓" in text) == cell["significant"] and (int(wins), int(n)) == (cell["wins"], cell["n"])
                seen += 1
    assert seen == len({k for k in at if k[0] in results_tables.REGIME_SCENARIOS})
