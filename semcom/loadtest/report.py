"""Load-test output: JSON (everything), Markdown tables (for docs), a latency-vs-load plot (PNG).

`write_report(report, out_dir)` writes `loadtest.json`, `loadtest.md` and `loadtest.png` and
returns their paths. Latencies are printed in milliseconds; JSON keeps seconds, as measured.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

from semcom.loadtest.runner import LoadTestReport
from semcom.loadtest.stats import LevelResult

# Stage columns in pipeline order; stages a service reports that are not listed follow
# alphabetically. "channel_sim", "receiver" and "total" are hop wall times (they contain the
# stages after them); "network" is the sender's round trip minus the downstream wall time;
# "client_link" is the load generator's latency minus the target's "total".
STAGE_ORDER = (
    "caption",
    "encode",
    "pack",
    "network",
    "channel_sim",
    "channel",
    "receiver",
    "queue",
    "unpack",
    "text_encode",
    "denoise",
    "decode",
    "image_encode",
    "total",
    "client_link",
)


def _ms(seconds: float) -> str:
    return "-" if seconds is None or math.isnan(seconds) else f"{seconds * 1e3:.1f}"


def _snr(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _level_label(level: LevelResult) -> str:
    return f"{level.offered_rps:g}/s" if level.loop == "open" else str(level.concurrency)


def ordered_stages(levels: list[LevelResult]) -> list[str]:
    names = {name for level in levels for name in level.stages}
    known = [s for s in STAGE_ORDER if s in names]
    return known + sorted(names - set(STAGE_ORDER))


def markdown_tables(report: LoadTestReport) -> str:
    """Two tables: latency/throughput per level, then the mean server-side stage times."""
    load_col = "rate" if any(level.loop == "open" for level in report.levels) else "conc."
    lines = [
        f"Target `{report.target}` ({report.service}), {report.host.get('cpus', '?')} CPUs, "
        f"started {report.started_at}; latencies in ms over successful requests.",
        "",
        f"| mode | SNR dB | {load_col} | ok/sent | errors | req/s | p50 | p90 | p95 | p99 | max |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for lv in report.levels:
        lat = lv.latency
        errors = ", ".join(f"{code} {n}" for code, n in lv.errors.items()) or "0"
        lines.append(
            f"| {lv.mode} | {_snr(lv.snr_db)} | {_level_label(lv)} | {lv.completed}/{lv.issued} | {errors} "
            f"| {lv.throughput_rps:.2f} | {_ms(lat.p50)} | {_ms(lat.p90)} | {_ms(lat.p95)} | {_ms(lat.p99)} "
            f"| {_ms(lat.max)} |"
        )
    stages = "Server-side stages (mean ms per request, from the responses' `timings` maps):"
    cpu = "Server CPU time per request (ms, user + system of each service process):"
    services = sorted({name for level in report.levels for name in level.server_cpu_s})
    per_level: list[tuple[str, list[str], Callable[[LevelResult], Mapping[str, float]]]] = [
        (stages, ordered_stages(report.levels), lambda lv: {s: stat.mean for s, stat in lv.stages.items()}),
        (cpu, services, lambda lv: lv.server_cpu_s),
    ]
    for title, columns, ms_of in per_level:
        if not columns:
            continue
        lines += ["", title, "", f"| mode | SNR dB | {load_col} | " + " | ".join(columns) + " |"]
        lines.append("| --- | --- | --- | " + " | ".join("---" for _ in columns) + " |")
        for lv in report.levels:
            values = ms_of(lv)
            cells = [_ms(values[c]) if c in values else "-" for c in columns]
            lines.append(f"| {lv.mode} | {_snr(lv.snr_db)} | {_level_label(lv)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_latency(report: LoadTestReport, path: str | Path) -> Path:
    """p50 and p95 latency (left) and throughput (right) against load, one line per mode and SNR."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    open_loop = any(level.loop == "open" for level in report.levels)
    fig, (ax_lat, ax_thr) = plt.subplots(1, 2, figsize=(10, 4))
    series: dict[tuple[str, float | None], list[LevelResult]] = {}
    for level in report.levels:
        series.setdefault((level.mode, level.snr_db), []).append(level)
    for (mode, snr), levels in series.items():
        xs = [lv.offered_rps if open_loop else lv.concurrency for lv in levels]
        label = mode if snr is None else f"{mode} @ {snr:g} dB"
        (line,) = ax_lat.plot(xs, [lv.latency.p50 * 1e3 for lv in levels], marker="o", label=f"{label} p50")
        ax_lat.plot(
            xs,
            [lv.latency.p95 * 1e3 for lv in levels],
            marker="x",
            linestyle="--",
            color=line.get_color(),
            label=f"{label} p95",
        )
        ax_thr.plot(xs, [lv.throughput_rps for lv in levels], marker="o", color=line.get_color(), label=label)
    xlabel = "offered rate (req/s)" if open_loop else "concurrency (requests in flight)"
    ax_lat.set(xlabel=xlabel, ylabel="latency (ms)", title=f"{report.service} latency")
    ax_thr.set(xlabel=xlabel, ylabel="throughput (req/s)", title=f"{report.service} throughput")
    levels_x = sorted({lv.concurrency for lv in report.levels})
    for ax in (ax_lat, ax_thr):
        ax.grid(True, alpha=0.3)
        if not open_loop:
            ax.set_xscale("log", base=2)
            ax.set_xticks(levels_x, [str(x) for x in levels_x])
            ax.minorticks_off()
    ax_lat.legend(fontsize=7)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _json_safe(value):
    """NaN is not JSON: write null instead (an empty level has no percentiles)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def to_json(report: LoadTestReport) -> str:
    return json.dumps(_json_safe(dataclasses.asdict(report)), indent=2, allow_nan=False)


def write_report(report: LoadTestReport, out_dir: str | Path, stem: str = "loadtest") -> dict[str, Path]:
    """Write `<stem>.json`, `<stem>.md` and `<stem>.png` into `out_dir` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md", "plot": out / f"{stem}.png"}
    paths["json"].write_text(to_json(report) + "\n")
    paths["markdown"].write_text(markdown_tables(report))
    plot_latency(report, paths["plot"])
    return paths
