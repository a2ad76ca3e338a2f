"""Fit the decoder weights of the shipped analog latent statistics (`alloc=decoder`).

A chunk's decoder weight is how much squared pixel error the VAE decoder makes per unit of error
variance on that chunk's coefficients (mean 1 over the chunks). The allocation `alloc=decoder`
gives each value energy ∝ √(wλ) instead of SoftCast's √λ and drops the lowest wλ first: it
minimises the decoded image's squared error rather than the latent's (docs/analog.md).

Estimated without perturbing chunk by chunk: for a white image-space probe v, the latent gradient
of <v, decode(z)> is Jᵀv (one backward pass), and E|T Jᵀv|² per coefficient is the diagonal of
T JᵀJ Tᵀ for the orthonormal transform T (PCA over channels, DCT over space; Hutchinson's
estimator). Per photo the script keeps, at every spatial frequency, the channel outer product of
the DCT'd gradient, so every shipped file's own PCA can be applied afterwards
(`semcom.analog.stats.decoder_weights`). Each file's weights come from the photos it was fitted
on (its `info["images"]`: fold0, fold1, all), so the evaluation's held-out rule holds for them too.

    python scripts/fit_analog_weights.py --data ../shared/data/flickr8k --scales 2 --probes 4

Latents are encoded as `semcom eval run` does (posterior sample, seed from --seed and the name).
The other statistics of each file (channel transform, means, variances) are left as they are.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from semcom.analog import stats as analog_stats
from semcom.analog import transform
from semcom.eval.dataset import load_dataset, load_image
from semcom.pipeline.seeds import posterior_seed


def _is_fold(st: analog_stats.AnalogStats) -> bool:
    return str(st.info.get("fold", "")).startswith("fold")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--profile", default="taef2")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scales", type=int, nargs="+", default=[2])
    p.add_argument("--probes", type=int, default=4, help="random probes (backward passes) per photo")
    p.add_argument(
        "--photos-per-fold",
        type=int,
        default=0,
        help="use only the first N photos of each fold file (0: all); the all-photos file uses their union",
    )
    p.add_argument("--cache", type=Path, help="a folder for each photo's gram (reused when present)")
    p.add_argument("--dir", type=Path, default=analog_stats.DATA_DIR, help="the folder of the shipped files")
    args = p.parse_args(argv)
    if not 1 <= args.probes <= 64:
        raise SystemExit("--probes must be in 1..64")
    import torch

    from semcom.models import load_profile
    from semcom.pipeline.pipeline import Pipeline

    torch.manual_seed(args.seed)
    items = {it.name: it for it in load_dataset(args.data)}
    models = load_profile(args.profile, device="cpu")
    sender = Pipeline(models).sender
    codec = models.decoder()
    command = "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    for scale in args.scales:
        side = args.size // scale
        files = [
            f for f in sorted(args.dir.glob("analog_*.npz")) if analog_stats.AnalogStats.load(f).shape[1] * 8 == side
        ]
        if not files:
            raise SystemExit(f"no shipped analog statistics for {side} px in {args.dir}")
        loaded = {f: analog_stats.AnalogStats.load(f) for f in files}
        n_fold = args.photos_per_fold
        subset = {f: (st.images[:n_fold] if n_fold and _is_fold(st) else st.images) for f, st in loaded.items()}
        if n_fold:  # the all-photos file: the union of the folds' subsets (all of them its own photos)
            union = {n for f, st in loaded.items() if _is_fold(st) for n in subset[f]}
            subset = {
                f: subset[f] if _is_fold(st) else (tuple(n for n in st.images if n in union) or st.images[:n_fold])
                for f, st in loaded.items()
            }
        names = sorted({n for images in subset.values() for n in images})
        missing = [n for n in names if n not in items]
        if missing:
            raise SystemExit(
                f"{args.data} lacks {len(missing)} photos the statistics were fitted on, e.g. {missing[0]}"
            )
        grams: dict[str, np.ndarray] = {}
        for k, name in enumerate(names):
            cached = args.cache / f"gram_{side}_{args.probes}_{name}.npy" if args.cache else None
            if cached is not None and cached.is_file():
                grams[name] = np.load(cached)
                continue
            z = sender.encode_latent_tensor(
                load_image(items[name]),
                sample_posterior=True,
                seed=posterior_seed(args.seed, name),
                size=side,
            )
            zt = torch.from_numpy(np.ascontiguousarray(z))[None].requires_grad_(True)
            image = codec.model.decoder(zt / codec.scaling_factor + codec.shift_factor) * 255.0
            c, h, w = z.shape
            dh, dw = transform.dct_matrix(h), transform.dct_matrix(w)
            gram = np.zeros((h, w, c, c))
            for j in range(args.probes):
                (grad,) = torch.autograd.grad(image, zt, torch.randn_like(image), retain_graph=j < args.probes - 1)
                gd = np.matmul(np.matmul(dh, grad[0].double().numpy()), dw.T)
                gram += np.einsum("chw,dhw->hwcd", gd, gd, optimize=True)
            grams[name] = gram / args.probes
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.save(cached, grams[name])
            print(f"{side} px: {k + 1}/{len(names)} {name}", flush=True)
        for path, st in loaded.items():
            mean_gram = np.mean([grams[n] for n in subset[path]], axis=0)
            weight = analog_stats.decoder_weights(mean_gram, st.channel, st.chunk)
            info = dict(st.info)
            info["weights"] = {
                "what": "decoder weight per chunk: squared pixel error (0..255) per unit latent error variance, mean 1",
                "images": list(subset[path]),
                "probes_per_photo": args.probes,
                "command": command,
            }
            out = replace(st, weight=weight, info=info).save(path)
            print(f"{out}: weights from {len(subset[path])} photos, id {replace(st, weight=weight).id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
