"""The analog and regime-map blocks of `benchmarks/results_tables.py` (which renders and checks every
block): the tables and summaries written from `docs/results/analog/*` and the regime maps' regime.json
(`semcom eval map`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

WRITTEN = "Table written from it by `.venv/bin/python benchmarks/results_tables.py`."


def _load(rel: str, results: Path) -> dict[str, Any]:
    return json.loads((results / rel).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- analog transmission

ANALOG_SNRS = (-6.0, -2.0, 0.0, 2.0, 6.0, 10.0, 20.0)


def _scheme(variant: str) -> Any:
    """The eval's own parse of an analog / SoftCast / baseline spec (`AnalogSpec`, `BaselineVariant`)."""
    from semcom.analog.spec import AnalogSpec, is_analog
    from semcom.eval.baselines import BaselineVariant

    return AnalogSpec.parse(variant) if is_analog(variant) else BaselineVariant.parse(variant)


def _fraction(frac: Any) -> str:
    return f"{frac.numerator}/{frac.denominator}" if frac is not None else ""


def analog_label(variant: str) -> str:
    """A row label for an `analog:` / `softcast:` / `webp:...:ldpc` eval spec."""
    spec = _scheme(variant)
    budget = _fraction(spec.frac)
    if getattr(spec, "scheme", "") == "softcast":
        return f"SoftCast on pixels, {budget}"
    if not hasattr(spec, "scheme"):
        return f"{ {'webp': 'WebP', 'avif': 'AVIF', 'jpeg': 'JPEG'}.get(spec.codec, spec.codec) } + LDPC/AMC, {budget}"
    side = {2: "256 px", 4: "128 px"}.get(spec.scale, "")
    label = "analog latent" + (f" {side}" if side else "")
    if spec.alloc == "decoder":
        label += ", decoder-weighted (`alloc=decoder`)"
    elif side:
        label += f" (`scale={spec.scale}`)"
    return f"{label}, {budget}"


def analog_table(results: Path, channel: str) -> str:
    """SSIM (mean ± 95 % CI, file outage rate) per scheme and Es/N0 from the committed analog run
    docs/results/analog/CHANNEL (`semcom eval run`, its command in config.json); the best scheme of
    each budget in bold per column."""
    with (results / "analog" / channel / "aggregate.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cells = {(r["variant"], float(r["snr_db"])): r for r in rows}
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    budget_of = {v: _scheme(v).frac for v in variants}
    budgets = sorted(set(budget_of.values()), key=lambda b: -(b or 0))
    order = {"analog": 0, "webp": 1, "avif": 1, "jpeg": 1, "softcast": 2}
    n = max(int(r["n_images"]) for r in rows)
    title = {"awgn": "AWGN", "rayleigh": "Rayleigh"}.get(channel, channel)
    lines = [
        f"| {title}, {n} photos (symbols) | " + " | ".join(f"{s:g} dB" for s in ANALOG_SNRS) + " |",
        "| --- |" + " ---: |" * len(ANALOG_SNRS),
    ]
    for budget in budgets:
        group = sorted((v for v in variants if budget_of[v] == budget), key=lambda v: order.get(v.split(":")[0], 3))
        best = {s: max(float(cells[(v, s)]["ssim_mean"]) for v in group if (v, s) in cells) for s in ANALOG_SNRS}
        for v in group:
            out = []
            for s in ANALOG_SNRS:
                r = cells.get((v, s))
                if r is None:
                    out.append("")
                    continue
                mean, ci = float(r["ssim_mean"]), float(r["ssim_ci95"])
                outage = float(r["outage_mean"]) if r.get("outage_mean") not in (None, "", "nan") else 0.0
                text = f"{mean:.3f}" if outage >= 1 else f"{mean:.3f} ± {ci:.3f}"
                text = f"**{text}**" if mean == best[s] and outage < 1 else text
                out.append(text + (f" ({outage:.0%})".replace("%", " %") if outage > 0 else ""))
            symbols = max(float(cells[(v, s)]["budget_symbols_mean"] or 0) for s in ANALOG_SNRS if (v, s) in cells)
            lines.append(f"| {analog_label(v)} ({symbols:,.0f}) | " + " | ".join(out) + " |")
    lines += [
        "",
        f"`docs/results/analog/{channel}/aggregate.csv` (its `semcom eval run` command in `config.json`; paired "
        f"differences and win counts in `report.md`). " + WRITTEN,
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the regime map (issue 25)

REGIME_MAPS = {"awgn": "regime/map", "rayleigh": "regime/rayleigh/map"}
REGIME_SCENARIOS = {
    "matched": "transmitter knows the SNR",
    "design +3 dB": "transmitter plans for +3 dB",
    "design +6 dB": "transmitter plans for +6 dB",
    "broadcast, design 0 dB": "broadcast, designed for the 0 dB receiver",
    "broadcast, design 10 dB": "broadcast, designed for the 10 dB (median) receiver",
}


def _versus(results: Path, channel: str) -> list[Any]:
    """The map's `versus` cells (the best semantic scheme against the best digital link) as
    `semcom.eval.regime.VersusCell`s, from the committed regime.json that `semcom eval map` wrote."""
    from semcom.eval.regime import VersusCell

    cells = _load(f"{REGIME_MAPS[channel]}/regime.json", results)["versus"]
    out = []
    for c in cells:
        fields: dict[str, Any] = {k: (float("nan") if v is None else v) for k, v in c.items()}
        out.append(VersusCell(**fields))
    return out


def _regime_source(channel: str, cells: list[Any]) -> str:
    where = REGIME_MAPS[channel]
    counts = sorted({c.n for c in cells})
    photos = f"{counts[0]} photos" if len(counts) == 1 else f"{counts[0]} to {counts[-1]} photos per cell, n in each"
    return (
        f"From `docs/results/{where}/regime.json` ({photos}; `semcom eval map`, its command heads "
        f"[regime.md](docs/results/{where}/regime.md)). " + WRITTEN
    )


def _budgets(cells: list[Any]) -> list[str]:
    from fractions import Fraction

    return sorted({c.budget for c in cells}, key=lambda b: -Fraction(b))


def regime_table(results: Path, channel: str, metric: str = "ssim", link: str = "docs/results/") -> str:
    """Per budget, a row per scenario and a column per receiver SNR (and a broadcast's mean / worst
    receiver): the best semantic scheme minus the best digital link, ✓ where the paired 95 % interval
    excludes zero, and on how many photos the semantic scheme wins."""
    from semcom.eval.regime import _snr_order
    from semcom.eval.regime_report import _snr_head, versus_text

    cells = [c for c in _versus(results, channel) if c.metric == metric]
    at = {(c.scenario, c.budget, c.snr): c for c in cells}
    snrs = sorted({c.snr for c in cells}, key=_snr_order)
    lines: list[str] = []
    for budget in _budgets(cells):
        lines += [
            f"| scenario (budget {budget}) | " + " | ".join(_snr_head(s) for s in snrs) + " |",
            "| --- |" + " ---: |" * len(snrs),
        ]
        for scenario, name in REGIME_SCENARIOS.items():
            if any((scenario, budget, s) in at for s in snrs):
                texts = [versus_text(at[(scenario, budget, s)]) if (scenario, budget, s) in at else "" for s in snrs]
                lines.append(f"| {name} | " + " | ".join(texts) + " |")
        lines.append("")
    return "\n".join([*lines, _regime_source(channel, cells).replace("docs/results/", link)])


def _snr_list(cells: list[Any], positive: bool) -> str:
    won = [c.snr for c in cells if c.significant and (c.margin > 0) == positive]
    return ", ".join(won) + " dB" if won else "none"


def regime_summary(results: Path, channel: str, link: str = "docs/results/") -> str:
    """The issue's four questions, on each metric: (a) below the cliff, (b) a broadcast's mean and worst
    receiver, (c) a transmitter that overestimates the SNR, (d) the budgets with a known SNR."""
    from semcom.eval.regime import MEAN_RX, METRIC_NAMES, WORST_RX
    from semcom.eval.regime_report import versus_text

    cells = _versus(results, channel)
    metrics = list(dict.fromkeys(c.metric for c in cells))
    at = {(c.scenario, c.budget, c.snr, c.metric): c for c in cells}
    budgets = _budgets(cells)

    def one(scenario: str, snr: str, label: str) -> list[str]:
        rows = []
        for b in budgets:
            texts = [versus_text(at[k]) if (k := (scenario, b, snr, m)) in at else "" for m in metrics]
            if any(texts):
                rows.append(f"| {label} | {b} | " + " | ".join(texts) + " |")
        return rows

    def spread(scenario: str, label: str) -> list[str]:
        rows = []
        for b in budgets:
            texts = []
            for m in metrics:
                key = (scenario, b, m)
                mine = [
                    c for c in cells if (c.scenario, c.budget, c.metric) == key and c.snr not in (MEAN_RX, WORST_RX)
                ]
                if mine:
                    texts.append(f"semantic ✓: {_snr_list(mine, True)}; digital ✓: {_snr_list(mine, False)}")
            if texts:
                rows.append(f"| {label} | {b} | " + " | ".join(texts) + " |")
        return rows

    lines = [
        "| question | budget | " + " | ".join(METRIC_NAMES.get(m, m) for m in metrics) + " |",
        "| --- | --- |" + " --- |" * len(metrics),
        *one("matched", "-5", "(a) below the cliff, -5 dB"),
        *one("matched", "-10", "(a) below the cliff, -10 dB"),
    ]
    for scenario, design in (
        ("broadcast, design 0 dB", "0 dB (weakest)"),
        ("broadcast, design 10 dB", "10 dB (median)"),
    ):
        lines += one(scenario, "mean rx", f"(b) broadcast to 0-20 dB, mean receiver, designed for {design}")
        lines += one(scenario, "worst rx", f"(b) broadcast to 0-20 dB, worst receiver, designed for {design}")
    lines += spread("design +3 dB", "(c) design SNR 3 dB above the actual (0 to 20 dB)")
    lines += spread("design +6 dB", "(c) design SNR 6 dB above the actual (0 to 20 dB)")
    lines += spread("matched", "(d) the budget, SNR known (-10 to 20 dB)")
    return "\n".join([*lines, "", _regime_source(channel, cells).replace("docs/results/", link)])
