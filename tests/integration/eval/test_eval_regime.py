"""The reduced regime map on the tiny profile, end to end through the CLI: a matched run, a run whose
transmitter overestimates the channel by 6 dB and a broadcast run; rows carry the plan; the map is
built from the rows (a changed row changes it) and written as Markdown, JSON and figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from semcom.cli import main
from semcom.eval import regime_report
from tests.integration.eval.conftest import TINY_ARGS, write_discs

ARGS = [
    *TINY_ARGS,
    "--image-size",
    "128",
    "--snr-db",
    "0",
    "20",
    "--snr-convention",
    "esn0",
    "--modes",
    "latent",
    "--encodings",
    "int8g:pc:p99.9:smmse:size=64",
    "webp:frac=1/4:ldpc",
    "webp:frac=1/4:shannon",
    "--metrics",
    "none",
    "--grid-images",
    "0",
]


@pytest.fixture(scope="module")
def runs(env, tmp_path_factory):
    """Three 96x96 structured images; the three runs."""
    root = tmp_path_factory.mktemp("regime")
    data = write_discs(root / "data", (96, 96), (30, 40), 300, 2.6)
    out = {}
    for name, extra in (("matched", []), ("over6", ["--design-offset-db", "6"]), ("bc", ["--broadcast"])):
        out[name] = root / name
        assert main(["eval", "run", "--data", str(data), "--out", str(out[name]), *ARGS, *extra]) == 0
    return out


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_rows_record_the_plan(runs):
    for name, scenario in (("matched", "matched"), ("over6", "design +6 dB"), ("bc", "broadcast, design 0 dB")):
        rows = _rows(runs[name])
        assert len(rows) == 3 * 3 * 2 and {r["scenario"] for r in rows} == {scenario}
        for r in rows:
            expected = {"matched": r["snr_db"], "over6": r["snr_db"] + 6, "bc": 0.0}[name]
            assert r["design_snr_db"] == expected and r["reference_symbols"] == 2048  # tiny: 4x16x16 int8 over 16-QAM
            assert 0 <= r["ms_ssim"] <= 1
    matched = {(r["image"], r["cell"]): r for r in _rows(runs["matched"])}
    over = {(r["image"], r["cell"]): r for r in _rows(runs["over6"])}
    for key, r in matched.items():
        if r["mode"] == "latent":  # nothing planned on the uncoded latent: the same numbers
            assert over[key]["ssim"] == r["ssim"]
        if r.get("link_fec") == "shannon":  # sized to the capacity it then meets
            assert not r["outage"] or r["outage_reason"].startswith("budget")
    shannon_over = [r for r in over.values() if r.get("link_fec") == "shannon" and r["file_bytes"] > 0]
    assert shannon_over
    for r in shannon_over:  # sized for 6 dB more than the channel has: an outage exactly when it exceeds the capacity
        assert r["outage"] == (8 * r["file_bytes"] > r["budget_symbols"] * r["capacity_actual"])
        assert 8 * r["file_bytes"] <= r["budget_symbols"] * r["capacity_design"]
    assert any(r["outage"] and r["outage_reason"].startswith("capacity") for r in shannon_over)
    bc = [r for r in _rows(runs["bc"]) if r["variant"] == "webp:frac=1/4:ldpc"]
    by_image: dict[str, set] = {}
    for r in bc:  # one transmission per image: the same file and MCS at every receiver
        by_image.setdefault(r["image"], set()).add((r["file_bytes"], r["mcs"]))
    assert all(len(v) == 1 for v in by_image.values())


@pytest.mark.slow
def test_map_from_the_rows(runs, tmp_path, capsys):
    out = tmp_path / "map"
    assert main(["eval", "map", str(runs["matched"]), str(runs["over6"]), str(runs["bc"]), "--out", str(out)]) == 0
    capsys.readouterr()
    for name in ("regime.md", "regime.json", "regime_ssim.png", "regime_ms_ssim.png", "regime_psnr.png"):
        assert (out / name).is_file(), name
    md = (out / "regime.md").read_text()
    assert "### matched" in md and "### design +6 dB" in md and "broadcast, design 0 dB" in md and "worst rx" in md
    cells = json.loads((out / "regime.json").read_text())["cells"]
    assert {c["budget"] for c in cells} == {"1/4"}  # the three schemes share the 1/4 budget
    assert all(set(c["means"]) <= {"int8g:pc:p99.9:smmse:size=64", "webp:frac=1/4:ldpc"} for c in cells)

    # perturb one row of the matched run: the cell's winner (or margin) follows
    before = [c for c in regime_report.regime_map([runs["matched"]], tmp_path / "a")[0] if c.metric == "ssim"]
    target = before[0]
    loser = target.runner_up
    rows = _rows(runs["matched"])
    hit = next(r for r in rows if r["variant"] == loser and f"{r['snr_db']:g}" == target.snr)
    hit["ssim"] += 5.0
    (runs["matched"] / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    after = [c for c in regime_report.regime_map([runs["matched"]], tmp_path / "b")[0] if c.metric == "ssim"]
    changed = next(c for c in after if (c.scenario, c.budget, c.snr) == (target.scenario, target.budget, target.snr))
    assert changed.winner == loser and changed.margin != target.margin
