"""Encode / decode time of one packet field over the coded link, stage by stage, on this machine.

    .venv/bin/python benchmarks/fec_timing.py --repeats 3 --threads 1 --json docs/results/fec_timing/minsum_t1.json
    .venv/bin/python benchmarks/fec_timing.py --repeats 3 --threads 1 --decoder sionna \
        --json docs/results/fec_timing/sionna_t1.json

Workloads: the caption (77 chars = 616 bits) and the TAEF2 latent (32x64x64) as int8 (1,048,576
bits) and float16 (2,097,152 bits), each at the MCS AMC picks at the given Es/N0 (default 13.52 dB,
the middle of the paper's grid in Es/N0). Stages are those of `semcom.fec.transmit.transmit_coded`:
segment + CRC, LDPC encode, channel (scramble, QAM map, AWGN, max-log LLR), LDPC decode (CRC-aided
early termination), CRC check. Reports the median wall and CPU seconds over `--repeats` runs
after one warm-up run (which builds and caches the coders); CPU time is the fairer number on a
shared machine. `--decoder` picks the LDPC decoder (SEMCOM_FEC_DECODER: the fast `minsum`, the
default, or Sionna's); the JSON records the command, settings and the host's load
(`benchmarks/results_tables.py` renders the docs/fec.md table from it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/artefact.py

WORKLOADS = {"caption": 616, "latent-int8": 8 * 32 * 64 * 64, "latent-float16": 16 * 32 * 64 * 64}


def _stages(bits: np.ndarray, field: str, esn0_db: float, rng: np.random.Generator) -> tuple[str, dict, dict]:
    from semcom.fec import amc, crc, ldpc, segmentation
    from semcom.fec.codewords import channel_llrs

    choice = amc.choose(esn0_db, field, bits.size)
    m = choice.mcs if choice is not None else amc.MOST_ROBUST
    plan = segmentation.plan(bits.size)
    n = m.codeword_bits(plan.k)
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        wall[name], cpu[name] = time.perf_counter() - w, time.process_time() - c
        return out

    blocks = timed("segment+crc", lambda: crc.attach(segmentation.split(bits, plan), plan.crc))
    codewords = timed("ldpc encode", ldpc.encode, blocks, n, m.bits_per_symbol)
    llr = timed("channel+llr", channel_llrs, codewords, m.bits_per_symbol, esn0_db, rng)
    decided = timed(
        "ldpc decode", ldpc.decode, llr, plan.k, m.bits_per_symbol, is_done=lambda b: crc.check(b, plan.crc)[1]
    )
    _, ok = timed("crc check", crc.check, decided, plan.crc)
    wall["segments failed"] = cpu["segments failed"] = float(np.count_nonzero(~ok))
    return f"{m.name} x {plan.segments}", wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esn0-db", type=float, default=13.52)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--decoder", choices=("minsum", "sionna"), default=None, help="LDPC decoder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.decoder:
        os.environ["SEMCOM_FEC_DECODER"] = args.decoder
    import torch
    from artefact import host, provenance, script_command, write_json

    from semcom import config

    host_at_start = host()

    if args.threads is not None:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    results = {}
    for name, n_bits in WORKLOADS.items():
        field = "caption" if name == "caption" else "latent"
        bits = rng.integers(0, 2, n_bits, dtype=np.uint8)
        _stages(bits, field, args.esn0_db, rng)  # warm-up: builds the coders
        runs = [_stages(bits, field, args.esn0_db, rng) for _ in range(args.repeats)]
        label = runs[0][0]
        stages = list(runs[0][1])
        med = {s: float(np.median([r[1][s] for r in runs])) for s in stages}
        med_cpu = {s: float(np.median([r[2][s] for r in runs])) for s in stages}
        results[name] = {"bits": n_bits, "mcs": label, "wall_s": med, "cpu_s": med_cpu}
        total = sum(v for k, v in med.items() if k != "segments failed")
        total_cpu = sum(v for k, v in med_cpu.items() if k != "segments failed")
        print(
            f"{name:15s} {n_bits:>9d} bits  {label:22s} total {total:7.2f} s wall, {total_cpu:7.2f} s cpu  "
            + "  ".join(f"{k} {v:.3f}/{med_cpu[k]:.3f}" for k, v in med.items() if k != "segments failed")
        )
    settings = {
        "esn0_db": args.esn0_db,
        "repeats": args.repeats,
        "seed": args.seed,
        "decoder": str(config.get("SEMCOM_FEC_DECODER")),
        "torch_threads": torch.get_num_threads(),
        "note": "median over repeats after a warm-up; values are wall/cpu seconds",
    }
    if args.json:
        command = script_command("fec_timing.py", sys.argv[1:] if argv is None else argv)
        write_json(args.json, {**provenance(command, settings, host_at_start), "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
