"""Fit the shipped analog chunk statistics (semcom/analog/data/*.npz) on a photo set.

For each scheme (`analog`: the profile's VAE latent at each --scales (the image downscaled 1, 2, 4
times: `analog:scale=N`), PCA over channels, 4x4 DCT chunks; `softcast`:
the 512x512 pixels in [0, 1], YCbCr, 32x32 DCT chunks) it writes three files: one fitted on every
photo and two folds (photos at even / odd positions in name order), each fitted on its half only.
The evaluation scores a photo with the file fitted on the most photos that does not contain it
(`semcom.analog.stats.packaged(..., exclude=name)`), i.e. with the other fold: held out.

    python scripts/fit_analog_stats.py --data ../shared/data/flickr8k --profile taef2

Latents are encoded as `semcom eval run` does (posterior sample, seed derived from --seed and the
photo's name), so the statistics are those of the latents the sweep sends. The decoder weights of
`alloc=decoder` are fitted afterwards into the same files: scripts/fit_analog_weights.py (a refit
here drops them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from semcom.analog import stats as analog_stats
from semcom.eval.dataset import load_dataset, load_image, reference_image
from semcom.pipeline.seeds import posterior_seed

CHUNKS = {"analog": (4, "pca"), "softcast": (32, "ycbcr")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--profile", default="taef2")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=analog_stats.DATA_DIR)
    p.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--cache", type=Path, help="a directory for the encoded latents (reused when present)")
    args = p.parse_args(argv)
    items = load_dataset(args.data)
    names = [it.name for it in items]
    sender = None

    def encoded(size: int) -> np.ndarray:
        nonlocal sender
        path = args.cache / f"latents_{size}.npz" if args.cache else None
        if path is not None and path.is_file():
            z = np.load(path)
            if list(z["names"]) != names:
                raise SystemExit(f"{path}: its photos differ from {args.data}")
            return z["lats"]
        if sender is None:
            from semcom.models import load_profile
            from semcom.pipeline.pipeline import Pipeline

            sender = Pipeline(load_profile(args.profile, device="cpu")).sender
        lats = np.stack(
            [
                sender.encode_latent_tensor(
                    load_image(it), sample_posterior=True, seed=posterior_seed(args.seed, it.name), size=size
                )
                for it in items
            ]
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, names=np.array(names), lats=lats)
        return lats

    refs = np.stack([np.asarray(reference_image(load_image(it), args.size)) for it in items])
    sources = [("analog", encoded(args.size // scale).astype(np.float64)) for scale in args.scales]
    sources.append(("softcast", refs.transpose(0, 3, 1, 2).astype(np.float64) / 255.0))
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    for scheme, samples in sources:
        chunk, channel = CHUNKS[scheme]
        shape = "x".join(str(v) for v in samples.shape[1:])
        for part, keep in (("all", slice(None)), ("fold0", slice(0, None, 2)), ("fold1", slice(1, None, 2))):
            info = {
                "images": names[keep],
                "data": str(args.data),
                "profile": args.profile if scheme == "analog" else None,
                "source": "VAE latent (posterior sample)" if scheme == "analog" else "pixels in [0, 1]",
                "fold": part,
                "fold_rule": "photos in name order: fold0 = even positions, fold1 = odd",
                "channel": channel,
                "command": command,
            }
            st = analog_stats.fit(samples[keep], scheme, chunk, channel, info)
            path = st.save(args.out / f"{scheme}_{shape}_{part}.npz")
            print(f"{path}: {len(info['images'])} photos, id {st.id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
