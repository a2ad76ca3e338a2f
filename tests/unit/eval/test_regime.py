"""The regime map is built from the rows: winners, paired margins and their intervals, bounds that
do not compete, budgets from the rows' airtime, broadcast summaries; a changed row changes the map."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from semcom.eval import regime, regime_report
from semcom.eval.aggregate import summarize


def _rows(n_images=6, snrs=(0.0, 10.0), scenario="matched", broadcast=False):
    """Latent A (1/16 of the int8 airtime), baseline B (1/16 budget) and its shannon bound C."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_images):
        base = rng.uniform(0.3, 0.8)
        for snr in snrs:
            common = {"image": f"im{i}", "snr_db": snr, "steps": 0, "reference_symbols": 32768}
            common.update({"scenario": scenario, "broadcast": broadcast})
            a = base + 0.01 * snr + 0.002 * i
            rows.append({**common, "mode": "latent", "variant": "A", "channel_symbols": 2048 + 30, "ssim": a})
            b = a - 0.05 + 0.02 * snr  # loses at 0 dB, wins at 10 dB
            rows.append(
                {**common, "mode": "baseline", "variant": "B", "budget_symbols": 2048, "channel_symbols": 0, "ssim": b}
            )
            c = b + 0.5  # the limit: far better, never a winner
            rows.append(
                {**common, "mode": "baseline", "variant": "C", "budget_symbols": 2048, "link_fec": "shannon", "ssim": c}
            )
    for r in rows:
        r["ms_ssim"], r["psnr"] = r["ssim"], 20 * r["ssim"]
    return rows


def _cell(cells, snr, metric="ssim", scenario="matched"):
    (cell,) = [c for c in cells if c.snr == snr and c.metric == metric and c.scenario == scenario]
    return cell


def test_winner_margin_interval_and_bound_come_from_the_rows():
    rows = _rows()
    cells = regime.build_map(regime.map_records([rows]))
    low, high = _cell(cells, "0"), _cell(cells, "10")
    assert low.budget == high.budget == "1/16"  # 2048 / 32768 and (2048 + 30) / 32768 round to 1/16
    assert (low.winner, low.runner_up) == ("A", "B") and (high.winner, high.runner_up) == ("B", "A")
    a = [r["ssim"] for r in rows if r["variant"] == "A" and r["snr_db"] == 0.0]
    b = [r["ssim"] for r in rows if r["variant"] == "B" and r["snr_db"] == 0.0]
    stat = summarize(x - y for x, y in zip(a, b))
    assert low.margin == pytest.approx(stat.mean) and low.ci95 == pytest.approx(stat.ci95)
    assert low.significant and low.n == 6
    assert "C" not in low.means  # the shannon link bounds, it does not compete
    assert low.bound == "C" and low.bound_margin == pytest.approx(0.45)  # C = B + 0.5 = A + 0.45 at 0 dB
    assert high.bound == "C" and high.bound_margin == pytest.approx(0.5)  # against the winner B
    assert set(low.means) == {"A", "B"}


def test_perturbing_one_row_changes_the_map():
    rows = _rows()
    before = _cell(regime.build_map(regime.map_records([rows])), "0")
    changed = copy.deepcopy(rows)
    target = next(r for r in changed if r["variant"] == "B" and r["snr_db"] == 0.0 and r["image"] == "im3")
    target["ssim"] += 10.0  # one photo: B's mean jumps by 10 / 6
    after = _cell(regime.build_map(regime.map_records([changed])), "0")
    assert before.winner == "A" and after.winner == "B"
    assert after.margin == pytest.approx(10.0 / 6 - before.margin, abs=1e-9)
    assert not after.significant  # one outlier photo: the paired interval is wide


def test_not_significant_when_the_interval_includes_zero():
    rows = _rows(n_images=4)
    for r in rows:  # A and B equal on average at 0 dB, with alternating sign
        if r["variant"] == "B" and r["snr_db"] == 0.0:
            a = next(x for x in rows if x["variant"] == "A" and x["image"] == r["image"] and x["snr_db"] == 0.0)
            r["ssim"] = a["ssim"] + (0.01 if int(r["image"][2:]) % 2 else -0.011)
    cell = _cell(regime.build_map(regime.map_records([rows]), ("ssim",)), "0")
    assert not cell.significant and abs(cell.margin) < 0.01


def test_only_photos_every_scheme_has_are_compared():
    rows = [r for r in _rows() if not (r["variant"] == "A" and r["image"] == "im0")]
    cell = _cell(regime.build_map(regime.map_records([rows])), "0")
    assert cell.n == 5


def test_broadcast_mean_and_worst_receiver():
    rows = _rows(scenario="broadcast, design 0 dB", broadcast=True)
    cells = regime.build_map(regime.map_records([rows]))
    mean_rx = _cell(cells, regime.MEAN_RX, scenario="broadcast, design 0 dB")
    worst = _cell(cells, regime.WORST_RX, scenario="broadcast, design 0 dB")
    a = {i: np.mean([r["ssim"] for r in rows if r["variant"] == "A" and r["image"] == f"im{i}"]) for i in range(6)}
    assert mean_rx.means["A"] == pytest.approx(np.mean(list(a.values())))
    b_worst = np.mean(
        [min(r["ssim"] for r in rows if r["variant"] == "B" and r["image"] == f"im{i}") for i in range(6)]
    )
    assert worst.means["B"] == pytest.approx(b_worst)
    md = regime_report.markdown(cells)
    assert "Broadcast: mean and worst receiver per scheme" in md and "worst rx" in md
    # the versus table has the same two columns: the latent A's per-photo mean over the receivers against B's
    versus = {c.snr: c for c in regime.versus_cells(regime.map_records([rows]), "baseline", ("ssim",))}
    b = {i: np.mean([r["ssim"] for r in rows if r["variant"] == "B" and r["image"] == f"im{i}"]) for i in range(6)}
    assert versus[regime.MEAN_RX].margin == pytest.approx(np.mean([a[i] - b[i] for i in range(6)]))
    assert versus[regime.MEAN_RX].wins == sum(a[i] > b[i] for i in range(6)) and regime.WORST_RX in versus


def test_runs_are_combined_and_scenarios_kept_apart(tmp_path):
    matched, shifted = _rows(), _rows(scenario="design +3 dB")
    for r in shifted:
        r["design_snr_db"] = r["snr_db"] + 3
    cells = regime.build_map(regime.map_records([matched, shifted]))
    assert {c.scenario for c in cells} == {"matched", "design +3 dB"}
    assert regime.budget_label(1 / 16) == "1/16" and regime.budget_label(0.9) == "1" and regime.budget_label(0.0) == "?"


def test_markdown_and_figure(tmp_path):
    cells = regime.build_map(regime.map_records([_rows()]))
    md = regime_report.markdown(cells, "semcom eval map x")
    assert "## SSIM" in md and "**A**" in md and "✓" in md and "limit" in md
    paths = regime_report.figure(cells, "ssim", tmp_path / "regime_ssim", formats=("png",))
    assert paths[0].is_file() and paths[0].stat().st_size > 1000
    assert not math.isnan(_cell(cells, "10").margin)


def test_ties_and_the_compact_table():
    rows = _rows(n_images=3)
    for r in rows:  # every scheme in outage at 0 dB: the same grey score
        if r["snr_db"] == 0.0:
            r["ssim"] = 0.3
    cells = regime.build_map(regime.map_records([rows]), ("ssim",))
    tied = _cell(cells, "0")
    assert tied.margin == 0.0 and not tied.significant
    table = "\n".join(regime_report.compact_markdown(cells, "ssim"))
    assert "tie A/B" in table and "| matched | 1/16 |" in table and "C = `C`" in table
    assert "tie: A, B" in regime_report.markdown(cells)


def test_families_compare_the_best_of_each_mode():
    rows = _rows()
    extra = []
    for r in rows:  # a second, worse latent scheme: the family margin is still the best latent's
        if r["variant"] == "A":
            extra.append({**r, "variant": "A2", "ssim": r["ssim"] - 0.2})
    cells = regime.build_map(regime.map_records([rows + extra]), ("ssim",))
    low, high = _cell(cells, "0"), _cell(cells, "10")
    assert (low.family, low.family_runner_up) == ("latent", "baseline")
    assert (high.family, high.family_runner_up) == ("baseline", "latent")
    assert low.family_margin == pytest.approx(low.margin)  # A against B, as the scheme margin
    assert "winning family" in regime_report.markdown(cells) and "latent +" in regime_report.markdown(cells)


def test_versus_table_compares_each_family_best_against_the_named_family():
    rows = _rows()
    records = regime.map_records([rows])
    cells = regime.versus_cells(records, "baseline", ("ssim",))
    lines = regime_report.versus_markdown(cells, "ssim")
    table = "\n".join(lines)
    row = next(line for line in lines if line.startswith("| matched | 1/16 |"))
    a = [r["ssim"] for r in rows if r["variant"] == "A" and r["snr_db"] == 0.0]
    b = [r["ssim"] for r in rows if r["variant"] == "B" and r["snr_db"] == 0.0]
    expected = summarize(x - y for x, y in zip(a, b)).mean  # C (shannon) is a bound, not the best baseline
    wins = sum(x > y for x, y in zip(a, b))
    assert f"**{expected:+.3f} ✓** {wins}/6" in row and "best `baseline` scheme" in table
    low = next(c for c in cells if c.snr == "0")
    assert (low.best, low.best_against, low.n, low.wins) == ("A", "B", 6, wins)
    assert regime.versus_cells(records, "nothing-like-this", ("ssim",)) == []


def test_paired_win_counts_count_photos_not_means():
    """One photo on which the runner-up wins by a lot: the winner's mean still leads, its win count says 5/6."""
    rows = _rows()
    for r in rows:
        if r["image"] == "im0" and r["snr_db"] == 0.0 and r["variant"] == "B":
            r["ssim"] += 0.2  # B beats A on im0 only (A leads B by 0.05 elsewhere at 0 dB)
    records = regime.map_records([rows])
    low = _cell(regime.build_map(records, ("ssim",)), "0")
    assert (low.winner, low.wins, low.n) == ("A", 5, 6) and low.family_wins == 5
    assert "A +" in "\n".join(regime_report.compact_markdown([low], "ssim")) and " 5/6 |" in "\n".join(
        regime_report.compact_markdown([low], "ssim")
    )
    (versus,) = [c for c in regime.versus_cells(records, "baseline", ("ssim",)) if c.snr == "0"]
    assert versus.wins == 5 and regime_report.versus_text(versus).endswith(" 5/6")
