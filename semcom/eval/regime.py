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
that interval excludes zero; **wins**, the paired win count, is on how many of those photos the
winner scores higher than the runner-up. Nothing is special-cased by scheme name: any scheme in the rows
(latent variants, baselines, analog schemes, ...) competes. Rows of a *bound* (a baseline on the
`shannon` link: `link_fec` "shannon", the digital limit, not a realisable link) do not compete;
the best bound of the cell is reported beside the winner with its paired difference to it.

`versus_cells` puts the best scheme of every other family against the best of one (the digital link,
"baseline"), paired the same way, with its win count.

Outputs (in --out, written by `semcom.eval.regime_report.regime_map`): `regime.md` (a table per metric and scenario: rows budgets, columns SNRs; and
the broadcast summary, mean and worst receiver per scheme), `regime.json` (every map cell with
every scheme's mean) and `regime_<metric>.png|svg` (a panel per scenario, cells coloured by the
winner). When a row changes, the map changes: nothing in it is entered by hand (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from semcom.eval.aggregate import selected_rows, summarize
from semcom.eval.store import RunStore

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
    rows = selected_rows(store, store.read_json("config.json") or {})
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
def _paired(a: dict[str, float], b: dict[str, float], images: Sequence[str]) -> tuple[float, float, bool, int]:
    """Scheme a against scheme b over `images`: the paired mean difference, its 95% t-interval
    half-width, whether that interval excludes zero, and on how many images a scores strictly higher."""
    stat = summarize(a[i] - b[i] for i in images)
    significant = bool(math.isfinite(stat.ci95) and abs(stat.mean) > stat.ci95)
    return stat.mean, stat.ci95, significant, sum(a[i] > b[i] for i in images)


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
        cell.margin, cell.ci95, cell.significant, cell.wins = _paired(finite[cell.winner], finite[ranked[1]], common)
    best_of: dict[str, str] = {}
    for name in ranked:  # ranked best first: the first scheme seen of a family is its best
        best_of.setdefault((families or {}).get(name, ""), name)
    fam = list(best_of)
    cell.family = fam[0]
    if len(fam) > 1:
        cell.family_runner_up = fam[1]
        paired = _paired(finite[best_of[fam[0]]], finite[best_of[fam[1]]], common)
        cell.family_margin, cell.family_ci95, cell.family_significant, cell.family_wins = paired
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


# ------------------------------------------------------------------------------------------ versus
def _best(schemes: dict[str, dict[str, float]], images: Sequence[str]) -> str:
    """The scheme with the highest mean over `images` (the first of equals, in the dict's order)."""
    means = {name: float(np.mean([v[i] for i in images])) for name, v in schemes.items()}
    return max(means, key=lambda name: means[name])


def versus_cells(records: list[dict[str, Any]], family: str, metrics: Sequence[str] = METRICS) -> list[VersusCell]:
    """Per metric and (scenario, budget, SNR): the best scheme of every other family against the best
    scheme of `family` (e.g. "baseline": every semantic scheme against the digital link), paired over the
    photos every scheme of the cell has (a broadcast's "mean rx" / "worst rx" columns too); bounds do not
    compete. Metric by metric, each in map order."""
    cells = {key: [r for r in rows if not r["bound"]] for key, rows in _groups(records).items()}
    out: list[VersusCell] = []
    for metric in metrics:
        mine_of_metric: list[VersusCell] = []
        for key, rows in cells.items():
            schemes: dict[tuple[bool, str], dict[str, float]] = {}
            for r in rows:
                schemes.setdefault((r["family"] == family, r["scheme"]), {})[r["image"]] = r[metric]
            if not schemes:
                continue
            common = sorted(set.intersection(*(set(v) for v in schemes.values())))
            sides = [{k[1]: v for k, v in schemes.items() if k[0] == mine} for mine in (False, True)]
            if not all(sides) or not common:
                continue
            best, best_against = (_best(side, common) for side in sides)
            margin, ci95, significant, wins = _paired(sides[0][best], sides[1][best_against], common)
            cell = VersusCell(*key, metric, family, best, best_against, len(common), margin, ci95, significant, wins)
            mine_of_metric.append(cell)
        out += sorted(
            mine_of_metric, key=lambda c: (_scenario_order(c.scenario), _budget_order(c.budget), _snr_order(c.snr))
        )
    return out
