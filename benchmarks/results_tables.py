"""The README and docs tables written from the committed results under docs/results/, so that every
figure there is one a command wrote down (tests/unit/test_results_tables.py checks they agree).

    .venv/bin/python benchmarks/results_tables.py           # rewrite every block in README.md and docs/*.md
    .venv/bin/python benchmarks/results_tables.py --check   # exit 1 naming each block that differs

A block is the text between `<!-- results: NAME -->` and `<!-- /results: NAME -->` on lines of their
own; NAME is a key of `BLOCKS`, rendered from its JSON/CSV (which holds the command that wrote it).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/results_maps.py
from results_maps import REGIME_SCENARIOS, WRITTEN, analog_table, regime_summary, regime_table  # noqa: E402, F401

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "results"
DOCS = (
    "README.md",
    "docs/fec.md",
    "docs/evaluation.md",
    "docs/models.md",
    "docs/performance.md",
    "docs/results/regime/README.md",
)
PAPER_SYMBOLS = 16 * 32 * 64 * 64  # the paper's float64 latent: 64 bits per value, 4 per 16-QAM symbol
BLOCK = re.compile(r"^<!-- results: (?P<name>[\w-]+) -->\n(?P<body>.*?)^<!-- /results: (?P=name) -->$", re.M | re.S)


def load_json(rel: str, results: Path = RESULTS) -> dict[str, Any]:
    return json.loads((results / rel).read_text(encoding="utf-8"))


def _load(rel: str, results: Path) -> dict[str, Any]:
    return load_json(rel, results)


# ---------------------------------------------------------------------- SSIM over the coded link

FEC_COLUMNS = {
    "float64": "float64 uncoded (the paper)",
    "int8": "int8 uncoded",
    "int8g-smmse": "int8g + sMMSE, uncoded",
    "int8g-soft": "int8g + soft sMMSE, uncoded",
    "amc-ldpc": "int8 + AMC + LDPC",
}


def _fec_cell(point: dict[str, Any], bold: bool = False) -> str:
    if point["ssim"] is None:
        return "latent dropped (no MCS within budget)"
    ssim = f"**{point['ssim']:.4f}**" if bold else f"{point['ssim']:.4f}"
    return f"{ssim} / {point['symbols']:,.0f} ({point['symbols'] / PAPER_SYMBOLS:.3g}x)"


def fec_table(summary: dict[str, Any], variants: list[str], details: bool) -> str:
    """SSIM / latent symbols per variant and Es/N0 from a `benchmarks/fec_taef2_ssim.py` summary;
    `details`: the coded link's MCS and failed segments too."""
    have = [v for v in variants if v in summary["variants"]]
    awgn = summary["settings"]["channel"] == "awgn"
    first = summary["variants"][have[0]]["points"]
    head = "Es/N0 dB (Eb/N0 of uncoded 16-QAM)" if awgn else "Es/N0 dB (average)"
    columns = [FEC_COLUMNS[v] for v in have] + (["AMC MCS", "failed segments"] if details else [])
    lines = [f"| {head} | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    for j, p in enumerate(first):
        snr = f"{p['esn0_db']:.2f} ({p['ebn0_db_uncoded_16qam']:g})" if awgn else f"{p['esn0_db']:g}"
        cells = [_fec_cell(summary["variants"][v]["points"][j], bold=v == "amc-ldpc") for v in have]
        if details and "amc-ldpc" in have:
            amc = summary["variants"]["amc-ldpc"]["points"][j]
            sent = amc["ssim"] is not None
            cells += [", ".join(amc["mcs"]) if sent else "-"]
            cells += [f"{amc['segments_failed']:,} / {amc['segments']:,}" if sent else "-"]
        lines.append(f"| {snr} | " + " | ".join(cells) + " |")
    photos = len(summary["settings"]["photos"])
    lines += [
        "",
        f"{photos} photos; clean codec (float64, no channel) SSIM {summary['clean']:.4f}. "
        f"`{summary['command']}` wrote `{_summary_path(summary)}`. {WRITTEN}",
    ]
    return "\n".join(lines)


def _summary_path(summary: dict[str, Any]) -> str:
    out = summary["command"].split("--out ")[1].split()[0]
    return f"{out}/summary.json"


def soft_paragraph(awgn: dict[str, Any], rayleigh: dict[str, Any]) -> str:
    """The soft repair against smmse, paired over the same packets and noise, at each grid's
    lowest SNR, and on how many photos it beats smmse at every point of both grids."""

    def share(summary: dict[str, Any], channel: str) -> str:
        """On how many of the grid's photos soft wins at its worst point."""
        rows = summary["soft_vs_smmse"]
        wins, photos = min(r["wins"] for r in rows), min(r["photos"] for r in rows)
        return f"{'all ' if wins == photos else f'at least {wins} of '}{photos} photos on {channel}"

    a, r = awgn["soft_vs_smmse"][0], rayleigh["soft_vs_smmse"][0]
    a_soft = awgn["variants"]["int8g-soft"]["points"][0]["ssim"]
    r_soft = rayleigh["variants"]["int8g-soft"]["points"][0]["ssim"]
    return (
        "**Soft repair** (in process: the uncoded link's exact per-bit LLRs, with CSI, instead of its average "
        "bit error rates, into the same spatial MMSE; `semcom eval ... --encodings int8g:pc:p99.9:soft`): "
        "on the same packets and noise it beats smmse on "
        + f"{share(awgn, 'AWGN')} and {share(rayleigh, 'Rayleigh')}"
        + " at every SNR of the grids above, by "
        + f"{a['mean_diff']:+.3f} SSIM at Es/N0 {a['esn0_db']:.2f} dB on AWGN ({a_soft:.3f}) "
        f"and {r['mean_diff']:+.3f} at {r['esn0_db']:g} dB average Es/N0 on Rayleigh ({r_soft:.3f}) "
        "(`soft_vs_smmse` in both summaries; [docs/evaluation.md](docs/evaluation.md#soft-repair-in-process))."
    )


def soft_table(awgn: dict[str, Any], rayleigh: dict[str, Any]) -> str:
    lines = [
        "| channel, Es/N0 (dB) | smmse | soft | soft - smmse (paired, 95% CI) | photos better |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, summary in (("AWGN", awgn), ("Rayleigh", rayleigh)):
        smmse = summary["variants"]["int8g-smmse"]["points"]
        soft = summary["variants"]["int8g-soft"]["points"]
        for j, row in enumerate(summary["soft_vs_smmse"]):
            ci = "" if row["ci95"] is None else f" ± {row['ci95']:.4f}"
            a, b = smmse[j]["ssim"], soft[j]["ssim"]
            a_cell, b_cell = (f"{a:.4f}", f"**{b:.4f}**") if b > a else (f"**{a:.4f}**", f"{b:.4f}")
            lines.append(
                f"| {name} {row['esn0_db']:g} | {a_cell} | {b_cell} | "
                f"{row['mean_diff']:+.4f}{ci} | {row['wins']} / {row['photos']} |"
            )
    lines += ["", f"`{awgn['command']}` and `{rayleigh['command']}` (`soft_vs_smmse` in each summary). {WRITTEN}"]
    return "\n".join(lines)


# ---------------------------------------------------------------------- erasures


def erasure_table(result: dict[str, Any]) -> str:
    lines = [
        "| MCS at Es/N0 | segments failed | bit errors inside failed segments | clean | decoded kept | zero fill | neighbour fill |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in result["points"]:
        m = p["mean"]
        best = max(("trusted", "zero", "neighbours"), key=lambda k: m[k])
        cells = [f"**{m[k]:.4f}**" if k == best else f"{m[k]:.4f}" for k in ("trusted", "zero", "neighbours")]
        lines.append(
            f"| {result['settings']['mcs']} at {p['esn0_db']:g} dB | {p['segments_failed_fraction']:.1%} | "
            f"{p['ber_in_failed_segments']:.2%} | {m['clean']:.4f} | " + " | ".join(cells) + " |"
        )
    photos = len(result["settings"]["photos"])
    lines += ["", f"Mean SSIM over the first {photos} photos; `{result['command']}`. {WRITTEN}"]
    return "\n".join(lines)


# ---------------------------------------------------------------------- the modem against theory


def ber_table(run: dict[str, Any], label: str) -> str:
    """The README's BER table: simulated against the closed form, from `semcom channel ber --json`."""
    rows = run["result"]["rows"]
    table = [
        ["Eb/N0 dB", *(f"{r['ebn0_db']:g}" for r in rows)],
        ["---"] * (len(rows) + 1),
        ["simulated", *(f"{r['ber']:.4e}" for r in rows)],
        ["exact", *(f"{r['ber_theory']:.4e}" for r in rows)],
    ]
    return "\n".join(
        [f"**{label} BER vs the closed form** (`{run['command']}`):", ""]
        + ["| " + " | ".join(row) + " |" for row in table]
    )


# ---------------------------------------------------------------------- timings


def modem_sentence(bench: dict[str, Any]) -> str:
    impl, work = bench["result"]["implementations"], bench["result"]["workload"]
    ours = impl["semcom"]
    mbit = work["bits"] / 1e6
    parts = [
        f"ours {ours['seconds'] * 1e3:.1f} ms wall / {ours['cpu_seconds'] * 1e3:.1f} ms CPU "
        f"({ours['cpu_seconds'] * 1e3 / mbit:.1f} ms CPU per Mbit)"
    ]
    names = {"commpy": "commpy", "sionna_1thread": "Sionna PHY on CPU, one thread"}
    for key, label in names.items():
        other = impl.get(key, {})
        if other.get("available"):
            parts.append(
                f"{label} {other['seconds'] * 1e3:.0f} ms (**{other['seconds'] / ours['seconds']:.0f}x** slower)"
            )
    host = bench["host"]
    return (
        f"**Modem speed** (`{bench['command']}`; 16-QAM modulate + AWGN + hard demap of one float64 latent, "
        f"{work['bits']:,} bits, median of {work['repeats']}, all in one run): " + "; ".join(parts) + ". "
        f"Machine: {host['cpus']} shared cores ({host['cpu']}), load average {host['loadavg'][0]:g} at the start, "
        f"{bench['host_at_end']['loadavg'][0]:g} at the end (`docs/results/modem_speed/bench.json`); "
        f"the <= 10 ms per Mbit target {'holds' if ours['cpu_seconds'] * 1e3 / mbit <= 10 else 'is missed'} in CPU time."
    )


def _speedups(bench: dict[str, Any]) -> tuple[list[float], list[float]]:
    points = bench["result"]["points"]
    return [p["speedup_cpu"] for p in points], [p["speedup"] for p in points]


def decoder_speedup(bench: dict[str, Any]) -> str:
    """The fast decoder's speed-up over Sionna's, as a README paragraph."""
    cpu, wall = _speedups(bench)
    verdicts = sorted({p["bler_verdict"] for p in bench["result"]["points"]})
    return (
        "The fast decoder (numba layered min-sum on Sionna's 5G parity-check matrices, "
        f"`SEMCOM_FEC_DECODER=minsum`, the default) is {min(cpu):.0f}-{max(cpu):.0f}x faster (CPU time; "
        f"{min(wall):.0f}-{max(wall):.0f}x wall) than Sionna's on identical LLRs, at a BLER "
        + " or ".join(verdicts)
        + f" against Sionna's 95% interval (`{bench['command']}`, one run; every point in "
        "[docs/fec.md](docs/fec.md#fast-decoder-semcomfecminsum))."
    )


def decoder_table(bench: dict[str, Any]) -> str:
    result = bench["result"]
    lines = [
        "| point | decoder | wall s | CPU s | s / Mbit (wall) | block errors / codewords | BLER [95% Wilson CI] |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for p in result["points"]:
        for i, (name, d) in enumerate(p["decoders"].items()):
            point = f"{p['mcs']} @ {p['esn0_db']:g} dB" if i == 0 else ""
            lo, hi = d["bler_ci95"]
            lines.append(
                f"| {point} | {name} | {d['seconds']:.3g} | {d['cpu_seconds']:.3g} | {d['s_per_mbit']:.3g} | "
                f"{d['block_errors']} / {result['workload']['codewords']} | {d['bler']:.3g} [{lo:.3g}, {hi:.3g}] |"
            )
    cpu, wall = _speedups(bench)
    host = bench["host"]
    lines += [
        "",
        "Speed-up of the fast decoder ("
        + ", ".join(p["mcs"] for p in result["points"])
        + "): **"
        + " / ".join(f"{x:.0f}x" for x in cpu)
        + " CPU, "
        + " / ".join(f"{x:.0f}x" for x in wall)
        + " wall**; BLER "
        + ", ".join(p["bler_verdict"] for p in result["points"])
        + f" (against Sionna's 95% interval). `{bench['command']}`, median of {result['workload']['repeats']}, "
        f"{result['workload']['threads']} thread; {host['cpus']} shared cores, load average "
        f"{host['loadavg'][0]:g} at the start, {bench['host_at_end']['loadavg'][0]:g} at the end "
        f"(`docs/results/fec_decoder_speed/bench.json`). {WRITTEN}",
    ]
    return "\n".join(lines)


def soft_cost_sentence(run: dict[str, Any]) -> str:
    """The soft repair's cost beside sMMSE's, from `benchmarks/repair_cost.py`."""
    res = run["result"]
    cpu, shape = res["cpu_s"], "x".join(map(str, res["latent_shape"]))
    return (
        f"Cost, one core, one {shape} int8g latent (median of {run['settings']['repeats']}, "
        f"`{run['command']}`): soft {cpu['soft']:.2f} s CPU against {cpu['smmse']:.2f} s for smmse, and "
        f"{res['llr_cpu_s_per_mbit'] * 1e3:.0f} ms per Mbit for the link's exact LLRs."
    )


# ---------------------------------------------------------------------- the TAEF2 sweep


def taef2_channel_table(results: Path) -> str:
    """float64 / float16 / int8 over uncoded 16-QAM AWGN at a few Eb/N0, from the committed
    75-photo TAEF2 k = 0 sweep (docs/results/taef2_k0)."""
    with (results / "taef2_k0" / "aggregate.csv").open(encoding="utf-8") as fh:
        rows = {(r["variant"], float(r["snr_db"])): r for r in csv.DictReader(fh)}
    with (results / "taef2_k0" / "clean_channel_aggregate.csv").open(encoding="utf-8") as fh:
        clean = {r["variant"]: r for r in csv.DictReader(fh)}
    snrs = (5.0, 7.0, 10.0)
    labels = {"float64": "float64, the paper", "float16": "float16", "int8": "int8, per tensor"}
    lines = [
        "| encoding (payload) | " + " | ".join(f"Eb/N0 {s:g} dB" for s in snrs) + " |",
        "| --- |" + " ---: |" * len(snrs),
    ]
    for variant, label in labels.items():
        cells = []
        for s in snrs:
            r = rows[(variant, s)]
            cells.append(f"{float(r['ssim_mean']):.3f} ± {float(r['ssim_ci95']):.3f}")
        payload = int(rows[(variant, snrs[0])]["latent_bytes"])
        lines.append(f"| {label} ({payload:,} bytes) | " + " | ".join(cells) + " |")
    n = rows[("float64", snrs[0])]["n_images"]
    sanitised = "; ".join(
        f"{v} " + " / ".join(f"{float(rows[(v, x)]['values_sanitised_mean']):,.0f}" for x in snrs) for v in labels
    )
    lines += [
        "",
        f"Values sanitised per 32x64x64 latent (131,072 values), mean at {' / '.join(f'{x:g}' for x in snrs)} dB: "
        f"{sanitised}.",
        "",
        f"Mean SSIM over {n} photos with 95 % CIs; the clean float64 codec scores "
        f"{float(clean['float64']['ssim_mean']):.3f} (`docs/results/taef2_k0/aggregate.csv` and "
        "`clean_channel_aggregate.csv`; the sweep's commands are in `docs/results/taef2_k0/report.md`). " + WRITTEN,
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ coded-link timing

TIMING_STAGES = ("segment+crc", "ldpc encode", "channel+llr", "ldpc decode", "crc check")
TIMING_RUNS = ("minsum_t1", "sionna_t1", "sionna_t2")


def fec_timing_table(results: Path) -> str:
    """Seconds wall (CPU) per stage of one packet field over the coded link, from the committed
    `benchmarks/fec_timing.py` runs (docs/results/fec_timing/DECODER_tTHREADS.json)."""
    header = ["decoder", "threads", "field", "bits", "MCS x segments", *TIMING_STAGES, "total"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * 3 + " ---: |" + " --- |" + " ---: |" * 6]
    commands, loads = [], []
    for name in TIMING_RUNS:
        run = load_json(f"fec_timing/{name}.json", results)
        commands.append(f"`{run['command']}`")
        loads.append(f"{run['host']['loadavg'][0]:.1f}-{run['host_at_end']['loadavg'][0]:.1f}")
        for field, r in run["results"].items():
            cells = [f"{r['wall_s'][s]:.3f} ({r['cpu_s'][s]:.3f})" for s in TIMING_STAGES]
            wall = sum(r["wall_s"][s] for s in TIMING_STAGES)
            cpu = sum(r["cpu_s"][s] for s in TIMING_STAGES)
            row = [run["settings"]["decoder"], str(run["settings"]["torch_threads"]), field, f"{r['bits']:,}", r["mcs"]]
            lines.append("| " + " | ".join([*row, *cells, f"**{wall:.2f} ({cpu:.2f})**"]) + " |")
    settings = load_json(f"fec_timing/{TIMING_RUNS[0]}.json", results)["settings"]
    lines += [
        "",
        f"Seconds wall (CPU), median of {settings['repeats']} after a warm-up, Es/N0 {settings['esn0_db']:g} dB "
        f"(AMC's MCS for each field); load average at start-end of each run: {', '.join(loads)} (2 shared "
        f"cores: read CPU seconds). Commands: {'; '.join(commands)}. " + WRITTEN,
    ]
    return "\n".join(lines)


def fec_timing_sentence(results: Path) -> str:
    """The README's one-line cost of the coded link, from the same runs as `fec_timing_table`."""
    fast = load_json("fec_timing/minsum_t1.json", results)["results"]["latent-int8"]
    slow = load_json("fec_timing/sionna_t1.json", results)["results"]["latent-int8"]

    def cpu(r: dict[str, Any]) -> float:
        return sum(r["cpu_s"][s] for s in TIMING_STAGES)

    return (
        f"Coded-link cost on this CPU: {cpu(fast):.2f} s CPU per 32x64x64 int8 latent with the fast LDPC "
        f"decoder (decoding {fast['cpu_s']['ldpc decode']:.2f} s of it; {cpu(slow):.2f} s with Sionna's decoder, "
        f"{slow['cpu_s']['ldpc decode']:.2f} s of it decoding; one thread, median of 3: `benchmarks/fec_timing.py`, "
        "[docs/fec.md](docs/fec.md#encode--decode-time-per-packet-field-this-machine-2-shared-cpu-cores))."
    )


# --------------------------------------------------------------------------- services under overload


def overload_sentence(run: dict[str, Any]) -> str:
    """The README's overload result, from `benchmarks/overload.py --json`."""
    st, checks, codes = run["settings"], run["health_check_ms"], run["status_codes"]
    served = all(set(c["answers"]) == {"SERVING"} for c in checks.values())
    roles = list(checks)
    p99 = " / ".join(f"{checks[r]['p99']:.0f}" for r in roles)
    normal = "; ".join(f"{name} {r['code']} in {r['seconds']:.2f} s" for name, r in run["normal_requests"].items())
    refused = {k: v.get("RESOURCE_EXHAUSTED", 0) for k, v in codes.items() if v.get("RESOURCE_EXHAUSTED")}
    load = (
        f"load average {run['host']['loadavg'][0]:.1f} at the start, {run['host_at_end']['loadavg'][0]:.1f} at the end"
    )
    return (
        f"`{run['command']}`: {st['active_streams']} active and {st['idle_streams']} idle streams against "
        f"{st['receiver_workers']} receiver workers for {st['seconds']:g} s ({load}): "
        + ("every health Check answered SERVING" if served else "**not every health Check answered SERVING**")
        + f" ({sum(c['n'] for c in checks.values())} Checks; p99 {p99} ms at the {' / '.join(roles)}); "
        f"the normal requests sent halfway: {normal}; {run['active_items_served']} items served; refused at once "
        "with RESOURCE_EXHAUSTED and a retry hint: "
        + ", ".join(f"{n} {kind} openings" for kind, n in refused.items())
        + f"; {run['still_alive_threads']} client threads left alive. "
        + "([docs/results/overload/overload.json](docs/results/overload/overload.json); this sentence is "
        "written from it by `.venv/bin/python benchmarks/results_tables.py`.)"
    )


def soak_sentence(run: dict[str, Any]) -> str:
    """The README's soak result, from `benchmarks/soak.py --out`."""
    burst, mixed, refused = run["burst"], run["mixed"], run["refused"]
    gauges = [v for part in (mixed, refused) for v in part["gauges_after"]["in_flight"].values()]
    events = "; ".join(e["what"] for e in mixed["events"])
    failed = [name for name, ok in run["checks"].items() if not ok]
    return (
        f"`{run['command']}`: {burst['completed']} of {len(burst['outcomes'])} simultaneous "
        f"{run['settings']['images']}-image streams completed; {mixed['seconds']:.0f} s of mixed normal, cancelled "
        f"and deadline-expired streams ({events}) ended with every in-flight gauge at "
        f"{max(gauges):g} and {mixed['problem_count']} streams lost, duplicated or failed part-way outside the "
        f"chaos; the sender's RSS over {refused['requests']:,} refused requests: {refused['growth_mib']:+.1f} MiB "
        f"in all, {refused['slope_last_half_mib_per_10k']:.1f} MiB per 10,000 over the last half; "
        + ("every check passed" if run["passed"] else f"**failed checks: {', '.join(failed)}**")
        + " ([docs/results/soak/soak.json](docs/results/soak/soak.json); this sentence is written from it by "
        "`.venv/bin/python benchmarks/results_tables.py`)."
    )


BLOCKS: dict[str, Callable[[Path], str]] = {
    "soak-readme": lambda r: soak_sentence(_load("soak/soak.json", r)),
    "overload-readme": lambda r: overload_sentence(_load("overload/overload.json", r)),
    "regime-awgn": lambda r: regime_table(r, "awgn"),
    "regime-awgn-summary": lambda r: regime_summary(r, "awgn"),
    "regime-rayleigh-summary": lambda r: regime_summary(r, "rayleigh"),
    "regime-awgn-local": lambda r: regime_table(r, "awgn", link="../"),
    "regime-awgn-psnr-local": lambda r: regime_table(r, "awgn", "psnr", link="../"),
    "regime-awgn-summary-local": lambda r: regime_summary(r, "awgn", link="../"),
    "regime-rayleigh-local": lambda r: regime_table(r, "rayleigh", link="../"),
    "regime-rayleigh-summary-local": lambda r: regime_summary(r, "rayleigh", link="../"),
    "fec-timing": fec_timing_table,
    "fec-timing-readme": fec_timing_sentence,
    "analog-awgn": lambda r: analog_table(r, "awgn"),
    "analog-rayleigh": lambda r: analog_table(r, "rayleigh"),
    "fec-awgn-readme": lambda r: fec_table(
        _load("fec_ssim/awgn/summary.json", r), ["float64", "int8", "int8g-smmse", "amc-ldpc"], details=True
    ),
    "fec-awgn": lambda r: fec_table(_load("fec_ssim/awgn/summary.json", r), list(FEC_COLUMNS), details=True),
    "fec-rayleigh": lambda r: fec_table(_load("fec_ssim/rayleigh/summary.json", r), list(FEC_COLUMNS), details=True),
    "fec-rayleigh-readme": lambda r: fec_table(
        _load("fec_ssim/rayleigh/summary.json", r), ["float64", "int8g-smmse", "int8g-soft", "amc-ldpc"], details=True
    ),
    "soft-repair": lambda r: soft_paragraph(
        _load("fec_ssim/awgn/summary.json", r), _load("fec_ssim/rayleigh/summary.json", r)
    ),
    "soft-table": lambda r: soft_table(
        _load("fec_ssim/awgn/summary.json", r), _load("fec_ssim/rayleigh/summary.json", r)
    ),
    "erasure-fill": lambda r: erasure_table(_load("fec_erasure_fill/erasure_fill.json", r)),
    "soft-cost": lambda r: soft_cost_sentence(_load("repair_cost/cost.json", r)),
    "ber-16qam": lambda r: ber_table(_load("ber_16qam/ber.json", r), "16-QAM"),
    "modem-speed": lambda r: modem_sentence(_load("modem_speed/bench.json", r)),
    "decoder-speedup": lambda r: decoder_speedup(_load("fec_decoder_speed/bench.json", r)),
    "decoder-table": lambda r: decoder_table(_load("fec_decoder_speed/bench.json", r)),
    "taef2-channel": taef2_channel_table,
}


def render(name: str, results: Path = RESULTS) -> str:
    return BLOCKS[name](results)


def blocks(text: str) -> list[tuple[str, str]]:
    """(name, body) of every block in `text`, in order."""
    return [(m["name"], m["body"]) for m in BLOCK.finditer(text)]


def rewrite(text: str, results: Path = RESULTS) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m["name"]
        return f"<!-- results: {name} -->\n{render(name, results)}\n<!-- /results: {name} -->"

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 where a block differs")
    args = parser.parse_args(argv)
    stale = []
    for rel in DOCS:
        path = REPO / rel
        text = path.read_text(encoding="utf-8")
        for name, body in blocks(text):
            if name not in BLOCKS:
                print(f"{rel}: unknown block {name!r}", file=sys.stderr)
                return 2
            if body != render(name) + "\n":
                stale.append(f"{rel}: {name}")
        if not args.check:
            path.write_text(rewrite(text), encoding="utf-8")
    if args.check and stale:
        print("stale blocks (run benchmarks/results_tables.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
