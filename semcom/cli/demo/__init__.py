"""`semcom demo`: real photos through the three services on this machine, offline (about 90 CPU seconds).

Starts receiver, channel proxy and sender as three local processes on 127.0.0.1 (the compose
topology: sender -> channel -> receiver, plaintext on loopback) and sends the sample photos that
scikit-image ships (`semcom.samples`, with their licences and our captions) through them at a few
SNRs. The default profile is the TAEF2 codec packaged with semcom (real weights, no download):
the latent is decoded as received (k = 0, the autoencoder as transceiver). Each photo crosses
the same 16-QAM AWGN channel (same Es/N0) as

  float64      the paper's encoding: float64 latent, uncoded (received values outside the codec's
               range are clamped, never redrawn at random);
  int8g+sMMSE  the best uncoded compact encoding (docs/evaluation.md): Gray int8, per-channel range
               at the 99.9th percentile, repaired at the receiver by the spatial MMSE "smmse";
  LDPC+AMC     int8 per channel, 5G LDPC with a CRC per segment, MCS picked by AMC (docs/fec.md);
  analog       the latent as analog symbols in the int8 latent's airtime (no bits: noise degrades
               it gracefully; LMMSE estimate at the receiver; docs/channel.md "Analog latent");

and, when the profile has real diffusion weights (`--profile paper` on a machine that has them,
or a local profile directory), also as the paper's text-only and text + latent reconstructions.
A clean-channel float64 transmission gives the codec's own quality as a reference.

--snrs are the paper's axis, Eb/N0 of uncoded 16-QAM in dB; every variant is sent at the same
Es/N0 = Eb/N0 + 6.02 dB (SNR per channel symbol), so coded and uncoded links share one channel
and the symbols each uses can be compared. Writes to --out:

* contact_sheet.png - per photo and SNR one row: original | float64 | int8g+sMMSE | LDPC+AMC | analog
                      [| text | text + latent], each cell labelled with its SSIM and the latent's
                      channel symbols; under each row the caption sent and received (corrupted
                      characters in red);
* ssim_vs_snr.png   - mean SSIM against SNR per variant (each photo as a faint dot);
* report.json       - every transmission (SSIM, PSNR, symbols, bit errors, MCS, segments, captions,
                      timings) and the mean SSIM per variant and SNR;
* report.md         - the same as tables.
"""

from __future__ import annotations

import argparse

from semcom.cli.demo.plan import DEFAULT_PROFILE, DEFAULT_SNRS, PAPER_STEPS, TAEF2_SIZE, TINY_SIZE, snr_arg
from semcom.cli.demo.run import run
from semcom.cli.flags import add_documented_parser, add_preset_argument, add_snr_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = add_documented_parser(sub, "demo", "real photos through sender, channel and receiver on this machine", __doc__)
    p.add_argument("--out", default="semcom-demo", help="output directory (default semcom-demo)")
    add_preset_argument(p, "of the services' models; default: the profile's")
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="model profile: taef2 (default, packaged, offline), paper, tiny, or a profile file/directory",
    )
    p.add_argument(
        "--image-size",
        type=int,
        help=f"image side (default {TAEF2_SIZE} for taef2, {TINY_SIZE} for tiny, else SEMCOM_IMAGE_SIZE)",
    )
    p.add_argument("--steps", type=int, help=f"DDIM schedule length of the diffusion columns (default {PAPER_STEPS})")
    p.add_argument(
        "--num-images",
        type=int,
        default=5,
        help="how many sample photos, 1-5 (default 5)",
    )
    note = "Eb/N0 of uncoded 16-QAM, sent as Es/N0 = Eb/N0 + 6.02; default 0 4 8"
    add_snr_argument(p, note, list(DEFAULT_SNRS), many=True, kind=snr_arg)
    p.add_argument(
        "--diffusion",
        choices=("auto", "on", "off"),
        default="auto",
        help="diffusion columns: auto = when the profile has real diffusion weights (not tiny)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of sender, channel and receiver randomness")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for start-up and for each stream")
    p.set_defaults(func=run)
