"""The regime map: which scheme wins where, built from the rows of one or more runs.

    semcom eval map RUN_DIR [RUN_DIR ...] [--out DIR] [--metrics ssim ms_ssim psnr]

Every result row of every run (the cells and images of each run's last sweep, as `semcom eval
report` aggregates them) is put in a map cell

    (scenario, budget, SNR)

* scenario: the row's `scenario` (`semcom.eval.scenario`: "matched", "design +3 dB", "broadcast,
  design 0 dB", ...; rows of runs made before it existed are "matched");
* budget: the row's airtime in units of the int8 latent's uncoded symbols (`reference_symbols`,
  recorded in every row), rounded to the nearest power of 2 and written 1, 1/2, ..., 1/256. The
  airtime is the row's `budget_symbols` where it has one (a baseline: what it was allowed to send,
  also when it sent nothing), else its `channel_symbols` (what the scheme sent: a latent packet
  counts its caption too);
* SNR: the channel's SNR of the row (`snr_db`, the receiver's in a broadcast). A broadcast scenario
  gets two more columns: "mean rx" (per photo, the mean over the receivers) and "worst rx" (per
  photo, the worst receiver), for photos with a row at every receiver SNR.

In each map cell and for each metric (SSIM, MS-SSIM, PSNR; all higher-is-better), the schemes
(`variant`, with ` k=N` for denoised cells) are compared on the photos every one of them has (the
intersection, so every mean is over the same photos): the **winner** has the highest mean; its
**margin** is the paired mean difference to the runner-up over those photos, with the 95 %
t-interval of the paired differences (`semcom.eval.aggregate.summarize`); **significant** when
that interval excludes zero. Nothing is special-cased by scheme name: any scheme in the rows
(latent variants, baselines, analog schemes, ...) competes. Rows of a *bound* (a baseline on the
`shannon` link: `link_fec` "shannon", the digital limit, not a realisable link) do not compete;
the best bound of the cell is reported beside the winner with its paired difference to it.

Outputs (in --out): `regime.md` (a table per metric and scenario: rows budgets, columns SNRs; and
the broadcast summary, mean and worst receiver per scheme), `regime.json` (every map cell with
every scheme's mean) and `regime_<metric>.png|svg` (a panel per scenario, cells coloured by the
winner). When a row changes, the map changes: nothing in it is entered by hand (tested).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from semcom.eval.aggregate import current_selection, load_rows, summarize
from semcom.eval.store import RunStore, json_safe

METRICS = ("ssim", "ms_ssim", "psnr")
METRIC_NAMES = {"ssim": "SSIM", "ms_ssim": "MS-SSIM", "psnr": "PSNR (dB)"}
DIGITS = {"ssim": 3, "ms_ssim": 3, "psnr": 2}
BOUND_LINKS = ("shannon",)  # link_fec values of rows that bound a scheme rather than realise it
MEAN_RX, WORST_RX = "mean rx", "worst rx"


@dataclass
class MapCell:
    """One (scenario, budget, SNR column, metric) of the map."""

    scenario: str
    budget: str
    snr: str  # "10" (dB) or MEAN_RX / WORST_RX
    metric: str
    n: int  # photos compared (common to every competing scheme)
    means: dict[str, float] = field(default_factory=dict)  # competing schemes, over the n photos
    winner: str = ""
    runner_up: str = ""
    margin: float = math.nan  # winner - runner-up, paired mean
    ci95: float = math.nan
    significant: bool = False
    wins: int = 0  # photos (of the n) on which the winner beats the runner-up
    bound: str = ""  # best bound scheme (shannon link) with photos in common with the winner
    bound_margin: float = math.nan  # bound - winner, paired mean
    bound_ci95: float = math.nan
    bound_n: int = 0
    # families (the rows' `mode`: latent, baseline, analog, ...): the best scheme of the best family
    # against the best scheme of the runner-up family, paired over the same photos
    family: str = ""
    family_runner_up: str = ""
    family_margin: float = math.nan
    family_ci95: float = math.nan
    family_significant: bool = False
    family_wins: int = 0  # photos on which the winning family's best beats the runner-up family's


@dataclass
class VersusCell:
    """One (scenario, budget, SNR, metric): the best scheme of the other families against the best
    scheme of family `against` (e.g. every semantic scheme against the digital link), paired."""

    scenario: str
    budget: str
    snr: str
    metric: str
    against: str
    best: str  # the best scheme of the other families
    best_against: str  # the best scheme of `against`
    n: int  # photos both have
    margin: float  # best - best_against, paired mean (positive: another family wins)
    ci95: float
    significant: bool
    wins: int  # photos on which `best` beats `best_against`


# ------------------------------------------------------------------------------------------ rows
def run_rows(root: Path) -> list[dict[str, Any]]:
    """The rows of a run's last sweep (its cells and images, as the report aggregates them)."""
    store = RunStore(Path(root))
    keys, images = current_selection(store.read_json("config.json") or {})
    rows = [
        r for r in load_rows(store) if (keys is None or r["cell"] in keys) and (images is None or r["image"] in images)
    ]
    if not rows:
        raise ValueError(f"{root} holds no results")
    return rows


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def budget_label(fraction: float) -> str:
    """The nearest power of 2 to `fraction`, written 1, 1/2, ..., 2, 4."""
    if not fraction > 0 or not math.isfinite(fraction):
        return "?"
    power = round(math.log2(fraction))
    return str(Fraction(2) ** power)


def _budget_order(label: str) -> float:
    try:
        return -float(Fraction(label))
    except (ValueError, ZeroDivisionError):
        return math.inf


def scheme_of(row: dict[str, Any]) -> str:
    steps = int(_number(row.get("steps", 0)) or 0)
    return f"{row['variant']} k={steps}" if steps and row.get("mode") != "text" else str(row["variant"])


def map_records(runs: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """(scenario, budget, snr, scheme, image, bound, broadcast, metrics) per row of the runs; a
    (scenario, scheme, snr, image) given by several runs is taken from the first."""
    out: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for rows in runs:
        reference: dict[str, float] = {}
        for r in rows:
            ref = _number(r.get("reference_symbols"))
            if ref > 0:
                reference.setdefault(r["image"], ref)
        for r in rows:
            ref = reference.get(r["image"], math.nan)
            airtime = _number(r.get("budget_symbols"))
            if not airtime > 0:
                airtime = _number(r.get("channel_symbols"))
            scenario = str(r.get("scenario") or "matched")
            scheme = scheme_of(r)
            key = (scenario, scheme, float(r["snr_db"]), r["image"])
            if key in seen:
                continue
            seen.add(key)
            out.append(
                {
                    "scenario": scenario,
                    "budget": budget_label(airtime / ref) if ref > 0 else "?",
                    "snr_db": float(r["snr_db"]),
                    "scheme": scheme,
                    "family": str(r.get("mode") or ""),
                    "image": r["image"],
                    "bound": str(r.get("link_fec") or "") in BOUND_LINKS,
                    "broadcast": bool(r.get("broadcast", False)),
                    **{m: _number(r.get(m)) for m in METRICS},
                }
            )
    return out


# ------------------------------------------------------------------------------------------ cells
def _excludes_zero(stat: Any) -> bool:
    return bool(math.isfinite(stat.ci95) and abs(stat.mean) > stat.ci95)


def _wins(a: dict[str, float], b: dict[str, float], images: Sequence[str]) -> int:
    """On how many of `images` scheme a scores strictly higher than scheme b (paired win count)."""
    return sum(a[i] > b[i] for i in images)


def _compare(
    per_scheme: dict[str, dict[str, float]],
    bounds: dict[str, dict[str, float]],
    cell: MapCell,
    families: dict[str, str] | None = None,
) -> MapCell:
    """Fill `cell` from per-scheme {image: value} (competitors), bounds and each scheme's family."""
    finite = {s: {i: v for i, v in vals.items() if not math.isnan(v)} for s, vals in per_scheme.items()}
    finite = {s: v for s, v in finite.items() if v}
    if not finite:
        return cell
    common = sorted(set.intersection(*(set(v) for v in finite.values())))
    cell.n = len(common)
    if not common:
        return cell
    cell.means = {s: float(np.mean([v[i] for i in common])) for s, v in finite.items()}
    ranked = sorted(cell.means, key=lambda s: (-cell.means[s], s))
    cell.winner = ranked[0]
    if len(ranked) > 1:
        cell.runner_up = ranked[1]
        stat = summarize(finite[cell.winner][i] - finite[cell.runner_up][i] for i in common)
        cell.margin, cell.ci95 = stat.mean, stat.ci95
        cell.significant = _excludes_zero(stat)
        cell.wins = _wins(finite[cell.winner], finite[cell.runner_up], common)
    best_of: dict[str, str] = {}
    for name in ranked:  # ranked best first: the first scheme seen of a family is its best
        best_of.setdefault((families or {}).get(name, ""), name)
    fam = list(best_of)
    cell.family = fam[0]
    if len(fam) > 1:
        cell.family_runner_up = fam[1]
        a, b = best_of[fam[0]], best_of[fam[1]]
        stat = summarize(finite[a][i] - finite[b][i] for i in common)
        cell.family_margin, cell.family_ci95 = stat.mean, stat.ci95
        cell.family_significant = _excludes_zero(stat)
        cell.family_wins = _wins(finite[a], finite[b], common)
    best = None
    for name, vals in bounds.items():
        shared = [i for i in common if i in vals and not math.isnan(vals[i])]
        if not shared:
            continue
        stat = summarize(vals[i] - finite[cell.winner][i] for i in shared)
        if best is None or stat.mean > best[1].mean:
            best = (name, stat)
    if best is not None:
        cell.bound, stat = best
        cell.bound_margin, cell.bound_ci95, cell.bound_n = stat.mean, stat.ci95, stat.n
    return cell


def _groups(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """The records by map cell (scenario, budget, SNR label), with a broadcast scenario's two summary
    columns: per photo, the mean and the worst over its receivers (photos with a row at every one)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["scenario"], r["budget"], f"{r['snr_db']:g}"), []).append(r)
    by_scenario: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        if r["broadcast"]:
            by_scenario.setdefault((r["scenario"], r["budget"]), []).append(r)
    for (scenario, budget), rows in by_scenario.items():
        snrs = {r["snr_db"] for r in rows}
        per: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
        for r in rows:
            per.setdefault((r["scheme"], r["image"], r["bound"]), []).append(r)
        for (scheme, image, bound), group in per.items():
            if {r["snr_db"] for r in group} != snrs:
                continue  # a photo missing a receiver: not in the summary
            for label, reduce in ((MEAN_RX, np.mean), (WORST_RX, np.min)):
                groups.setdefault((scenario, budget, label), []).append(
                    {
                        "scheme": scheme,
                        "family": group[0]["family"],
                        "image": image,
                        "bound": bound,
                        **{m: float(reduce([r[m] for r in group])) for m in METRICS},
                    }
                )
    return groups


def build_map(records: list[dict[str, Any]], metrics: Sequence[str] = METRICS) -> list[MapCell]:
    """Every map cell of the records (see the module docstring), per metric."""
    groups = _groups(records)
    cells: list[MapCell] = []
    for (scenario, budget, snr), rows in groups.items():
        for metric in metrics:
            competitors: dict[str, dict[str, float]] = {}
            bounds: dict[str, dict[str, float]] = {}
            families = {r["scheme"]: r["family"] for r in rows}
            for r in rows:
                (bounds if r["bound"] else competitors).setdefault(r["scheme"], {})[r["image"]] = r[metric]
            cells.append(_compare(competitors, bounds, MapCell(scenario, budget, snr, metric, 0), families))
    return sorted(cells, key=_cell_sort_key)


def _snr_order(label: str) -> float:
    return {MEAN_RX: 1e9, WORST_RX: 1e9 + 1}.get(label, float(label) if label not in (MEAN_RX, WORST_RX) else 0.0)


def _scenario_order(label: str) -> tuple[int, str]:
    return (0 if label == "matched" else 1 if label.startswith("design") else 2, label)


def _cell_sort_key(c: MapCell) -> tuple:
    rank = METRICS.index(c.metric) if c.metric in METRICS else len(METRICS)
    return (rank, c.metric, _scenario_order(c.scenario), _budget_order(c.budget), _snr_order(c.snr))


# ------------------------------------------------------------------------------------------ output
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


def _cell_table(mine: list[MapCell], title: str, text_of: Callable[[MapCell | None], str]) -> list[str]:
    """A Markdown table of `mine`: a row per (scenario, budget), a column per SNR, each cell
    `text_of(cell)` (None where the run has no such cell)."""
    snrs = sorted({c.snr for c in mine}, key=_snr_order)
    at = {(c.scenario, c.budget, c.snr): c for c in mine}
    out = [
        title,
        "",
        "| scenario | budget | " + " | ".join(_snr_head(s) for s in snrs) + " |",
        "| --- | --- | " + " | ".join("---" for _ in snrs) + " |",
    ]
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


def _best(schemes: dict[str, dict[str, float]], images: Sequence[str]) -> str:
    """The scheme with the highest mean over `images` (the first of equals, in the dict's order)."""
    means = {name: float(np.mean([v[i] for i in images])) for name, v in schemes.items()}
    return max(means, key=lambda name: means[name])


def versus_cells(records: list[dict[str, Any]], family: str, metric: str) -> list[VersusCell]:
    """Per (scenario, budget, SNR): the best scheme of every other family against the best scheme of
    `family` (e.g. "baseline": every semantic scheme against the digital link), paired over the photos
    every scheme of the cell has (a broadcast's "mean rx" / "worst rx" columns too); bounds do not compete."""
    groups: dict[tuple[str, str, str], dict[tuple[bool, str], dict[str, float]]] = {}
    for key, rows in _groups(records).items():
        for r in rows:
            if not r["bound"]:
                groups.setdefault(key, {}).setdefault((r["family"] == family, r["scheme"]), {})[r["image"]] = r[metric]
    out: list[VersusCell] = []
    for key, schemes in groups.items():
        common = sorted(set.intersection(*(set(v) for v in schemes.values())))
        sides = [{k[1]: v for k, v in schemes.items() if k[0] == mine} for mine in (False, True)]
        if not all(sides) or not common:
            continue
        best = [_best(side, common) for side in sides]
        other, mine = sides[0][best[0]], sides[1][best[1]]
        stat = summarize(other[i] - mine[i] for i in common)
        out.append(
            VersusCell(
                *key,
                metric,
                family,
                best[0],
                best[1],
                len(common),
                stat.mean,
                stat.ci95,
                _excludes_zero(stat),
                _wins(other, mine, common),
            )
        )
    return sorted(out, key=lambda c: (_scenario_order(c.scenario), _budget_order(c.budget), _snr_order(c.snr)))


def versus_text(c: VersusCell) -> str:
    """`+0.137 ✓ 10/12`, in bold where another family wins significantly."""
    text = f"{c.margin:+.{DIGITS.get(c.metric, 3)}f}" + (" ✓" if c.significant else "")
    return (f"**{text}**" if c.significant and c.margin > 0 else text) + f" {c.wins}/{c.n}"


def versus_markdown(cells: list[VersusCell], metric: str) -> list[str]:
    """The `versus_cells` of `metric` as a table: a row per (scenario, budget), a column per SNR."""
    mine = [c for c in cells if c.metric == metric]
    if not mine:
        return []
    at = {(c.scenario, c.budget, c.snr): versus_text(c) for c in mine}
    snrs = sorted({c.snr for c in mine}, key=_snr_order)
    out = [
        f"{METRIC_NAMES.get(metric, metric)}: the best scheme of the other families minus the best "
        f"`{mine[0].against}` scheme (positive: another family wins; ✓ the paired 95% interval excludes zero; "
        "k/n: the photos on which the other family's best wins):",
        "",
        "| scenario | budget | " + " | ".join(_snr_head(x) for x in snrs) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in snrs) + " |",
    ]
    for scenario, budget in dict.fromkeys((c.scenario, c.budget) for c in mine):
        out.append(f"| {scenario} | {budget} | " + " | ".join(at.get((scenario, budget, x), "") for x in snrs) + " |")
    return [*out, ""]


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
            lines += [f"### {scenario}", "", "| budget | " + " | ".join(_snr_head(s) for s in snrs) + " |"]
            lines.append("| --- | " + " | ".join("---" for _ in snrs) + " |")
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
            "| scenario | budget | scheme | mean receiver | worst receiver |",
        ]
        out.append("| --- | --- | --- | ---: | ---: |")
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 2.6 * nrows + 1.2), squeeze=False)
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
                label += f"\n+{c.margin:.{d}f}{'' if c.significant else '?'}"
            if c.bound and c.bound_margin > 0:
                label += "\nL" if math.isfinite(c.bound_ci95) and c.bound_margin > c.bound_ci95 else "\n(L)"
            ax.text(x, y, label, ha="center", va="center", fontsize=7)
        ax.set_xlim(-0.5, len(snrs) - 0.5)
        ax.set_ylim(len(budgets) - 0.5, -0.5)  # the largest budget on top
        ax.set_xticks(range(len(snrs)), [_snr_head(s) for s in snrs], fontsize=7, rotation=30)
        ax.set_yticks(range(len(budgets)), budgets, fontsize=7)
        ax.set_ylabel("budget (x int8 latent airtime)", fontsize=7)
        ax.set_title(scenario, fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(index[s] % colours.N)) for s in schemes]
    labels = [f"{letters[s]}: {s}" for s in schemes]
    fig.suptitle(
        f"{METRIC_NAMES.get(metric, metric)}: winner, margin over the runner-up (? = 95% CI includes 0, pale); "
        "L = the digital limit beats the winner ((L): not significantly)",
        fontsize=9,
    )
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, bbox_to_anchor=(0.5, 0.0))
    legend_rows = -(-len(labels) // 2)
    fig.tight_layout(rect=(0, 0.02 + 0.035 * legend_rows, 1, 0.95))
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
    against = [c for m in metrics for c in versus_cells(records, versus, m)] if versus else []
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semcom.eval.regime", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--metrics", nargs="+", default=list(METRICS))
    args = parser.parse_args(argv)
    _, paths = regime_map(args.runs, args.out or args.runs[0] / "regime", args.metrics)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
