"""Block errors of the fast decoder's check-node variants on identical LLRs (how ALPHA / BETA of
semcom.fec.minsum were chosen; docs/fec.md "Fast decoder").

    PYTHONPATH=$PWD .venv/bin/python benchmarks/fec_minsum_constants.py \
        --variants 0.6/0 0.65/0 0.7/0 0.75/0 0.8/0 1/0.5 0.85/0.3 \
        --points qpsk-r1/3@-1.25 qpsk-r1/2@1.0 16qam-r1/2@6.25 16qam-r3/4@10.0 64qam-r5/6@16.75

Per point: `--codewords` random blocks of k bits (seeded), Sionna's encoder, scrambled Gray QAM,
AWGN, max-log LLRs (`semcom.fec.codewords.channel_llrs`); each variant alpha/beta (|out| =
max(alpha x min - beta, 0)) decodes the same LLRs, at most 20 iterations, syndrome stop.
"""

from __future__ import annotations

import argparse

import numpy as np


def _variant(text: str) -> tuple[float, float]:
    try:
        alpha, beta = (float(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ALPHA/BETA, got {text!r}") from None
    return alpha, beta


def _point(text: str) -> tuple[str, float]:
    from semcom.fec.bench import parse_point

    try:
        return parse_point(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        type=_variant,
        nargs="+",
        default=[(0.75, 0.0), (0.85, 0.3)],
        metavar="ALPHA/BETA",
        help="check-node variants (default 0.75/0 0.85/0.3)",
    )
    parser.add_argument(
        "--points",
        type=_point,
        nargs="+",
        metavar="MCS@ESN0_DB",
        default=[("qpsk-r1/3", -1.25), ("16qam-r1/2", 6.25)],
        help="operating points (default qpsk-r1/3@-1.25 16qam-r1/2@6.25)",
    )
    parser.add_argument("--codewords", type=int, default=200)
    parser.add_argument("--k", type=int, default=8448)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import numba

    from semcom.fec import ldpc, mcs
    from semcom.fec.codewords import channel_llrs
    from semcom.fec.minsum import MinSumDecoder

    numba.set_num_threads(1)
    variants = args.variants
    for name, esn0 in args.points:
        scheme = mcs.get(name)
        n, m = scheme.codeword_bits(args.k), scheme.bits_per_symbol
        rng = np.random.default_rng(args.seed)
        info = rng.integers(0, 2, (args.codewords, args.k), dtype=np.uint8)
        llr = channel_llrs(ldpc.encode(info, n, m), m, float(esn0), rng)
        coders = ldpc._codec(args.k, n, m, ldpc.DEFAULT_NUM_ITER)
        cells = []
        for alpha, beta in variants:
            fast = MinSumDecoder(*coders, alpha=alpha, beta=beta)
            post, msg = fast.start(llr)
            iters, _ = fast.run(post, msg, ldpc.DEFAULT_NUM_ITER)
            errors = int(np.count_nonzero((fast.info_bits(post) != info).any(axis=1)))
            cells.append(f"{alpha:g}/{beta:g}: {errors} (mean {iters.mean():.1f} it)")
        print(f"{name} @ {float(esn0):g} dB, {args.codewords} codewords of k={args.k}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
