"""Memory one maximum-size request costs the channel proxy (the numbers in docs/services.md).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/request_memory.py awgn
    PYTHONPATH=$PWD .venv/bin/python benchmarks/request_memory.py rayleigh

A latent at the default bounds (SEMCOM_MAX_LATENT_VALUES = 16 x 128 x 128 float64 values, the
largest SEMCOM_MAX_FADING_BLOCK_LENGTH for rayleigh) through `transmit_packet` at 16-QAM; prints
the growth of the process's peak RSS (ru_maxrss) over a warm-up with a small packet.
"""

from __future__ import annotations

import resource
import sys

import numpy as np

from semcom.link.transmission import transmit_packet
from semcom.link.types import ChannelConfig
from semcom.payload.latent import encode_latent
from semcom.payload.packet import SemanticPacket


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "awgn"
    cfg = ChannelConfig(
        snr_db=10.0,
        modulation="16qam",
        model=model,
        latent_policy="always",
        fading_block_length=65536 if model == "rayleigh" else 128,
    )
    small = SemanticPacket(caption=b"x", latent=encode_latent(np.zeros((4, 8, 8)), "float64"), coded_size=(64, 64))
    transmit_packet(small, cfg)  # warm-up: imports, tables
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    big = SemanticPacket(
        caption=b"x" * 77,
        coded_size=(1024, 1024),
        latent=encode_latent(np.random.default_rng(0).normal(size=(16, 128, 128)), "float64"),
    )
    transmit_packet(big, cfg)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{model}: peak RSS growth for one maximum-size latent (16x128x128 float64, 16-QAM): "
        f"{(after - before) / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
