"""What the receiver's latent repairs cost on this CPU: the soft repair (`semcom.link.repair` "soft",
per-bit LLRs) against sMMSE (the channel's average bit error probabilities), and the link's exact
LLRs per Mbit, on one 32x64x64 int8g latent (the TAEF2 latent of a 512 px photo), one torch thread:

    .venv/bin/python benchmarks/repair_cost.py --out docs/results/repair_cost/cost.json

Each is the median CPU time (process time) of --repeats runs on the same received payload
(AWGN, 16-QAM, Eb/N0 --ebn0-db, per-channel p99.9 clipping as the `int8g:pc:p99.9` variant).
docs/evaluation.md quotes it (block `soft-cost`, written by benchmarks/results_tables.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # benchmarks/artefact.py
from artefact import host, provenance, script_command, write_json  # noqa: E402


def cpu_median(fn: Callable[[], Any], repeats: int) -> float:
    """Median process CPU seconds of `fn` over `repeats` runs."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the results JSON")
    parser.add_argument("--ebn0-db", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = host()

    import torch

    from semcom.link.repair import position_ber, repaired_latent
    from semcom.link.transmission import transmit_bits
    from semcom.link.types import ChannelConfig
    from semcom.payload.latent import encode_latent
    from semcom.payload.packet import CodecInfo, LatentPayload

    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    latent = rng.standard_normal((32, 64, 64)).astype(np.float32)
    payload = encode_latent(latent, "int8g", per_channel=True, percentile=99.9)
    bits = np.unpackbits(np.frombuffer(payload.data, dtype=np.uint8))
    cfg = ChannelConfig(snr_db=args.ebn0_db, snr_convention="ebn0", modulation="16qam", seed=args.seed)
    field = transmit_bits(bits, cfg, soft_output=True)
    received = LatentPayload(payload.shape, payload.encoding, np.packbits(field.rx_bits).tobytes(), payload.quant)
    bers = position_ber(args.ebn0_db, "ebn0", "16qam", "awgn")
    codec = CodecInfo(valid_min=-1e30, valid_max=1e30)
    seconds = {
        "hard link (modulate, channel, hard decisions)": cpu_median(lambda: transmit_bits(bits, cfg), args.repeats),
        "soft link (the same with exact LLRs)": cpu_median(
            lambda: transmit_bits(bits, cfg, soft_output=True), args.repeats
        ),
        "smmse": cpu_median(lambda: repaired_latent(received, codec, "smmse", bers=bers), args.repeats),
        "soft": cpu_median(lambda: repaired_latent(received, codec, "soft", llr=field.llr), args.repeats),
    }
    mbit = bits.size / 1e6
    result = {
        "latent_shape": list(payload.shape),
        "bits": int(bits.size),
        "bit_errors": int(np.count_nonzero(field.rx_bits != bits)),
        "cpu_s": seconds,
        "llr_cpu_s_per_mbit": (seconds["soft link (the same with exact LLRs)"] - seconds[next(iter(seconds))]) / mbit,
        "torch_threads": torch.get_num_threads(),
    }
    command = script_command("repair_cost.py", sys.argv[1:] if argv is None else argv)
    write_json(args.out, {**provenance(command, vars(args) | {"out": str(args.out)}, start), "result": result})
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v:.3f} s" for k, v in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
