"""The regime map's outputs: regime.md (Markdown tables), regime.json and the figures, written by
`regime_map` from the runs' rows (`semcom eval map`); the cells themselves come from
`semcom.eval.regime`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from semcom.eval.regime import (
    DIGITS,
    MEAN_RX,
    METRIC_NAMES,
    METRICS,
    WORST_RX,
    MapCell,
    VersusCell,
    _budget_order,
    _scenario_order,
    _snr_order,
    build_map,
    map_records,
    run_rows,
    versus_cells,
)
from semcom.eval.report import table_head
from semcom.eval.store import json_safe


def _cell_text(c: MapCell) -> str:
    if not c.winner:
        return ""
    d = DIGITS.get(c.metric, 3)
    text = f"**{c.winner}**"
    if c.runner_up and c.margin == 0.0:
        text = "tie: " + ", ".join(sorted(n for n, v in c.means.items() if v == c.means[c.winner]))
    elif c.runner_up:
        ci = "" if math.isnan(c.ci95) else f" ± {c.ci95:.{d}f}"
        text += f" +{c.margin:.{d}f}{ci} {'✓' if c.significant else '✗'} ({c.wins}/{c.n}) vs {c.runner_up}"
    else:
        text += " (alone)"
    if c.bound:
        ci = "" if math.isnan(c.bound_ci95) else f" ± {c.bound_ci95:.{d}f}"
        text += f"; limit {c.bound_margin:+.{d}f}{ci}"
    return text + f" (n={c.n})"


def scheme_letters(cells: list[MapCell]) -> dict[str, str]:
    """A letter per scheme that wins or competes somewhere (A, B, ...), in name order."""
    names = sorted({s for c in cells for s in c.means} | {c.bound for c in cells if c.bound})
    return {s: (chr(65 + i) if i < 26 else f"S{i}") for i, s in enumerate(names)}


def _cell_table(mine: list[Any], title: str, text_of: Callable[[Any], str], col_align: str = "---") -> list[str]:
    """A Markdown table of `mine` (map or versus cells): a row per (scenario, budget), a column per SNR
    aligned by `col_align`, each cell `text_of(cell)` (None where the run has no such cell)."""
    snrs = sorted({c.snr for c in mine}, key=_snr_order)
    at = {(c.scenario, c.budget, c.snr): c for c in mine}
    out = [title, "", *table_head("scenario | budget", "--- | ---", [_snr_head(s) for s in snrs], col_align)]
    for scenario in sorted({c.scenario for c in mine}, key=_scenario_order):
        for budget in sorted({c.budget for c in mine if c.scenario == scenario}, key=_budget_order):
            texts = [text_of(at.get((scenario, budget, snr))) for snr in snrs]
            out.append(f"| {scenario} | {budget} | " + " | ".join(texts) + " |")
    return out


def compact_markdown(cells: list[MapCell], metric: str) -> list[str]:
    """One table for `metric`: a row per (scenario, budget), a column per SNR; each cell the winner's
    letter, its margin over the runner-up and ✓ / ✗ (95% interval excludes / includes zero)."""
    letters = scheme_letters(cells)
    mine = [c for c in cells if c.metric == metric]
    if not mine:
        return []
    d = DIGITS.get(metric, 3)

    def text(c: MapCell | None) -> str:
        if c is None or not c.winner:
            return ""
        if not c.runner_up:
            return f"{letters[c.winner]} (alone)"
        if c.margin == 0.0:  # e.g. every scheme in outage: the same grey image
            tied = sorted(letters[n] for n, v in c.means.items() if v == c.means[c.winner])
            return f"tie {'/'.join(tied)}"
        return f"{letters[c.winner]} +{c.margin:.{d}f} {'✓' if c.significant else '✗'} {c.wins}/{c.n}"

    title = f"{METRIC_NAMES.get(metric, metric)}, winner, margin over the runner-up and paired wins per cell:"
    out = _cell_table(mine, title, text)
    return [*out, "", "Schemes: " + "; ".join(f"{v} = `{k}`" for k, v in letters.items()), ""]


def family_markdown(cells: list[MapCell], metric: str) -> list[str]:
    """One table for `metric`: per cell the winning family (the rows' mode) and the paired margin of
    its best scheme over the best scheme of the runner-up family, ✓ / ✗ as above."""
    mine = [c for c in cells if c.metric == metric and c.family_runner_up]
    if not mine:
        return []
    d = DIGITS.get(metric, 3)

    def text(c: MapCell | None) -> str:
        if c is None:
            return ""
        if c.family_margin == 0.0:
            return "tie"
        mark = "✓" if c.family_significant else "✗"
        return f"{c.family} +{c.family_margin:.{d}f} ± {c.family_ci95:.{d}f} {mark} {c.family_wins}/{c.n}"

    title = f"{METRIC_NAMES.get(metric, metric)}, winning family (best scheme of each family, paired):"
    return [*_cell_table(mine, title, text), ""]


def versus_text(c: VersusCell) -> str:
    """`+0.137 ✓ 10/12`, in bold where another family wins significantly."""
    text = f"{c.margin:+.{DIGITS.get(c.metric, 3)}f}" + (" ✓" if c.significant else "")
    return (f"**{text}**" if c.significant and c.margin > 0 else text) + f" {c.wins}/{c.n}"


def versus_markdown(cells: list[VersusCell], metric: str) -> list[str]:
    """The `versus_cells` of `metric` as a table: a row per (scenario, budget), a column per SNR."""
    mine = [c for c in cells if c.metric == metric]
    if not mine:
        return []
    title = (
        f"{METRIC_NAMES.get(metric, metric)}: the best scheme of the other families minus the best "
        f"`{mine[0].against}` scheme (positive: another family wins; ✓ the paired 95% interval excludes zero; "
        "k/n: the photos on which the other family's best wins):"
    )
    return [*_cell_table(mine, title, lambda c: "" if c is None else versus_text(c), "---:"), ""]


def markdown(cells: list[MapCell], command: str = "", versus: list[str] | None = None) -> str:
    lines = ["# Regime map: which scheme wins where", ""]
    if command:
        lines += [f"Built with `{command}`.", ""]
    lines += ["## Overview", ""]
    lines += versus or []
    for metric in dict.fromkeys(c.metric for c in cells):
        lines += family_markdown(cells, metric)
    for metric in dict.fromkeys(c.metric for c in cells):
        lines += compact_markdown(cells, metric)
    lines += [
        "Each cell: the winning scheme (highest mean over the photos every competing scheme of the cell has), "
        "its margin over the runner-up (paired mean difference ± 95% t-interval over those photos; ✓ the "
        "interval excludes zero, ✗ it does not), and `limit`: the digital limit (the best `shannon`-link "
        "baseline of the cell) minus the winner, paired. Budgets in units of the int8 latent's uncoded "
        "airtime; SNR the channel's (the receiver's in a broadcast), in the runs' convention.",
        "",
    ]
    for metric in dict.fromkeys(c.metric for c in cells):
        mine = [c for c in cells if c.metric == metric]
        lines += [f"## {METRIC_NAMES.get(metric, metric)}", ""]
        for scenario in sorted({c.scenario for c in mine}, key=_scenario_order):
            sc = [c for c in mine if c.scenario == scenario]
            snrs = sorted({c.snr for c in sc}, key=_snr_order)
            budgets = sorted({c.budget for c in sc}, key=_budget_order)
            lines += [f"### {scenario}", "", *table_head("budget", "---", [_snr_head(s) for s in snrs], "---")]
            at = {(c.budget, c.snr): c for c in sc}
            for b in budgets:
                lines.append(
                    f"| {b} | " + " | ".join(_cell_text(at[(b, s)]) if (b, s) in at else "" for s in snrs) + " |"
                )
            lines.append("")
    lines += broadcast_markdown(cells)
    return "\n".join(lines)


def _snr_head(label: str) -> str:
    return label if label in (MEAN_RX, WORST_RX) else f"{label} dB"


def broadcast_markdown(cells: list[MapCell]) -> list[str]:
    """Per broadcast scenario and budget: each scheme's mean over the receivers and its worst receiver."""
    out: list[str] = []
    rows = [c for c in cells if c.snr not in (MEAN_RX, WORST_RX) and c.scenario.startswith("broadcast")]
    if not rows:
        return out
    out += ["## Broadcast: mean and worst receiver per scheme", ""]
    out += [
        "Per scheme, over the photos of each receiver's cell: the mean of the receivers' mean quality, and the "
        "worst receiver's mean quality (with its SNR).",
        "",
    ]
    for metric in dict.fromkeys(c.metric for c in rows):
        d = DIGITS.get(metric, 3)
        out += [
            f"{METRIC_NAMES.get(metric, metric)}:",
            "",
            *table_head("scenario | budget | scheme", "--- | --- | ---", ["mean receiver", "worst receiver"]),
        ]
        mine = [c for c in rows if c.metric == metric]
        for scenario in sorted({c.scenario for c in mine}):
            for budget in sorted({c.budget for c in mine if c.scenario == scenario}, key=_budget_order):
                group = [c for c in mine if c.scenario == scenario and c.budget == budget]
                schemes = sorted({s for c in group for s in c.means})
                for s in schemes:
                    values = [(c.means[s], c.snr) for c in group if s in c.means]
                    worst = min(values)
                    out.append(
                        f"| {scenario} | {budget} | {s} | {np.mean([v for v, _ in values]):.{d}f} | "
                        f"{worst[0]:.{d}f} ({worst[1]} dB) |"
                    )
        out.append("")
    return out


def figure(cells: list[MapCell], metric: str, stem: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """A panel per scenario: budget (rows) x SNR (columns), coloured by the winner, with its margin."""
    from semcom.eval import plots

    plt = plots._pyplot()
    mine = [c for c in cells if c.metric == metric and c.winner]
    scenarios = sorted({c.scenario for c in mine}, key=_scenario_order)
    letters = scheme_letters(cells)  # the same letters as regime.md's overview
    schemes = sorted({c.winner for c in mine})
    colours = plt.get_cmap("tab10" if len(letters) <= 10 else "tab20")
    index = {s: i for i, s in enumerate(letters)}
    ncols = min(3, max(1, len(scenarios)))
    nrows = max(1, -(-len(scenarios) // ncols))
    rows_per_panel = max(len({c.budget for c in mine if c.scenario == s}) for s in scenarios) if mine else 1
    height = max(2.6, 0.8 * rows_per_panel + 0.8)  # 4 lines of text per cell
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, height * nrows + 1.2), squeeze=False)
    for ax in axes.flat[len(scenarios) :]:
        ax.set_visible(False)
    d = DIGITS.get(metric, 3)
    for ax, scenario in zip(axes.flat, scenarios):
        sc = [c for c in mine if c.scenario == scenario]
        snrs = sorted({c.snr for c in sc}, key=_snr_order)
        budgets = sorted({c.budget for c in sc}, key=_budget_order)
        for c in sc:
            x, y = snrs.index(c.snr), budgets.index(c.budget)
            colour = colours(index[c.winner] % colours.N)
            ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, color=colour, alpha=0.85 if c.significant else 0.35))
            label = letters[c.winner]
            if c.runner_up and c.margin == 0.0:
                label = "tie"
            elif c.runner_up:
                label += f"\n+{c.margin:.{d}f}{'' if c.significant else '?'}\n{c.wins}/{c.n}"
            if c.bound and c.bound_margin > 0:
                label += "\nL" if math.isfinite(c.bound_ci95) and c.bound_margin > c.bound_ci95 else "\n(L)"
            ax.text(x, y, label, ha="center", va="center", fontsize=6.5)
        ax.set_xlim(-0.5, len(snrs) - 0.5)
        ax.set_ylim(len(budgets) - 0.5, -0.5)  # the largest budget on top
        ax.set_xticks(range(len(snrs)), [_snr_head(s) for s in snrs], fontsize=7, rotation=30)
        ax.set_yticks(range(len(budgets)), budgets, fontsize=7)
        ax.set_ylabel("budget (x int8 latent airtime)", fontsize=7)
        ax.set_title(scenario, fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(index[s] % colours.N)) for s in schemes]
    labels = [f"{letters[s]}: {s}" for s in schemes]
    fig.suptitle(
        f"{METRIC_NAMES.get(metric, metric)}: winner, margin over the runner-up (? = 95% CI includes 0, pale) "
        "and photos it wins; "
        "L = the digital limit beats the winner ((L): not significantly)",
        fontsize=9,
    )
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, bbox_to_anchor=(0.5, 0.0))
    legend_rows = -(-len(labels) // 2)
    fig.tight_layout(rect=(0, 0.02 + 0.2 * legend_rows / fig.get_figheight(), 1, 0.95))
    return plots._save(fig, Path(stem), formats)


def regime_map(
    run_dirs: Sequence[Path],
    out: Path,
    metrics: Sequence[str] = METRICS,
    command: str = "",
    versus: str | None = "baseline",
) -> tuple[list[MapCell], list[Path]]:
    """Build the map from the runs' rows and write regime.md, regime.json and the figures to `out`."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown map metrics {sorted(unknown)}; choose from {METRICS}")
    records = map_records([run_rows(Path(r)) for r in run_dirs])
    cells = build_map(records, metrics)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for metric in metrics:
        if any(c.metric == metric and c.winner for c in cells):
            written += figure(cells, metric, out / f"regime_{metric}")
    md = out / "regime.md"
    against = versus_cells(records, versus, metrics) if versus else []
    versus_lines = [line for m in metrics for line in versus_markdown(against, m)]
    md.write_text(markdown(cells, command, versus_lines), encoding="utf-8")
    js = out / "regime.json"
    body = {
        "runs": [str(r) for r in run_dirs],
        "cells": [asdict(c) for c in cells],
        "versus": [asdict(c) for c in against],
    }
    js.write_text(json.dumps(json_safe(body), indent=1), encoding="utf-8")
    return cells, [*written, md, js]
