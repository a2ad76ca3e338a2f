"""The dev experiments behind the 1/16 budget's design (docs/analog.md, "The 1/16 budget"):
hybrid digital-analog layering against the pure schemes, and the decoder-weighted allocation
against SoftCast's, on photos kept apart from every fit (fold1, odd positions; statistics and
weights fitted on fold0), plus the closed-form latent/image MSE gains behind them.

    python scripts/analog_experiments_1x16.py --data ../shared/data/flickr8k \\
        --out docs/results/analog/experiments_1x16.json

TAEF2, 512 px reference, AWGN, one channel draw per cell, the budget 16,384 symbols less the
caption (504) and the analog metadata (72) as the eval counts them at 0 dB. The hybrid's residual
statistics are the image's own (an oracle: an upper bound for the layering).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

TOTAL = 16384 - 504 - 72
SHAPE = (32, 32, 32)


def _closed_forms(st) -> dict:
    """Latent- and image-MSE gains of the allocations on the shipped 256 px statistics."""
    lam_c, w_c = st.var, st.weight
    lam, w = np.repeat(lam_c, st.chunk**2), np.repeat(w_c, st.chunk**2)
    m = 2 * TOTAL  # real channel uses
    out = {}
    for snr_db in (-6, -2, 0, 2, 6):
        s2 = 10 ** (-snr_db / 10)

        def dist(imp, weight, s2=s2):
            order = np.argsort(-imp, kind="stable")
            sel, rest = order[:m], order[m:]
            p = np.sqrt(imp[sel])
            p = p / p.sum() * m
            return float(np.sum(weight[sel] * lam[sel] * s2 / (s2 + p)) + np.sum(weight[rest] * lam[rest]))

        def waterfill(imp, weight, s2=s2):
            order = np.argsort(-imp, kind="stable")
            sel, rest = order[:m], order[m:]
            lo, hi = 1e-12, 1e12
            for _ in range(200):
                nu = math.sqrt(lo * hi)
                p = np.maximum(0, np.sqrt(weight[sel] * lam[sel] * s2 / nu) - s2)
                lo, hi = (nu, hi) if p.sum() > m else (lo, nu)
            return float(np.sum(weight[sel] * lam[sel] * s2 / (s2 + p)) + np.sum(weight[rest] * lam[rest]))

        ones = np.ones_like(lam)
        lat_sc, lat_wf = dist(lam, ones), waterfill(lam, ones)
        img_sc, img_dec, img_wf = dist(lam, w), dist(lam * w, w), waterfill(lam * w, w)
        # digital, reverse water-filling at capacity and at QPSK r=1/3 (0.667 bit/symbol) where it closes
        dig = {}
        for name, bits in (("capacity", m / 2 * math.log2(1 + 1 / s2)), ("ldpc_qpsk_r1/3", TOTAL * 0.667)):
            if name != "capacity" and snr_db < 0:
                continue
            lo, hi = 1e-12, float(lam.max())
            for _ in range(100):
                th = math.sqrt(lo * hi)
                r = np.sum(np.maximum(0, 0.5 * np.log2(lam / th)))
                lo, hi = (th, hi) if r > bits else (lo, th)
            dig[name] = float(np.sum(np.minimum(lam, th)))
        out[str(snr_db)] = {
            "latent_mse_softcast": lat_sc,
            "latent_mse_waterfill": lat_wf,
            "latent_mse_digital": dig,
            "image_mse_softcast_alloc": img_sc,
            "image_mse_decoder_alloc": img_dec,
            "image_mse_decoder_waterfill": img_wf,
            "gain_db_decoder_over_softcast": 10 * math.log10(img_sc / img_dec),
            "gain_db_waterfill_over_decoder": 10 * math.log10(img_dec / img_wf),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--hybrid-photos", type=int, default=4)
    p.add_argument("--alloc-photos", type=int, default=6)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    import torch
    from PIL import Image

    from semcom.analog import AnalogCodec, AnalogSpec, AnalogStats
    from semcom.analog import stats as analog_stats
    from semcom.eval.airtime import file_fits, max_file_bytes
    from semcom.eval.codecs import decode_file, fit_to_budget, ssim
    from semcom.eval.dataset import load_dataset, load_image, reference_image
    from semcom.link.types import ChannelConfig
    from semcom.models import load_profile
    from semcom.models.images import to_pil
    from semcom.phy.analog import analog_channel
    from semcom.pipeline.pipeline import Pipeline
    from semcom.pipeline.seeds import posterior_seed

    items = load_dataset(args.data)
    fold0 = next(
        AnalogStats.load(f) for f in analog_stats.packaged_files("analog", SHAPE) if f.name.endswith("_fold0.npz")
    )
    dev = [it for it in items[1::2] if it.name not in fold0.images]
    models = load_profile("taef2", device="cpu")
    sender, dec = Pipeline(models).sender, models.decoder()

    def decode(z: np.ndarray) -> Image.Image:
        with torch.no_grad():
            image = to_pil(dec.decode(torch.from_numpy(np.ascontiguousarray(z, np.float32))[None]))[0]
        return image.resize((512, 512), Image.Resampling.BICUBIC)

    def send(codec, x, n, snr_db, seed):
        frame = codec.encode(x, n)
        y, _, n0 = analog_channel(frame.symbols, snr_db, np.random.default_rng(seed))
        return codec.decode(y, frame.meta, noise_var=n0)

    link = ChannelConfig(snr_db=0.0, snr_convention="esn0", modulation="16qam", model="awgn", fec="ldpc", mcs="auto")
    hybrid: dict[str, list[float]] = {}
    alloc: dict[str, list[float]] = {}
    for k, it in enumerate(dev[: max(args.hybrid_photos, args.alloc_photos)]):
        img = load_image(it)
        ref = reference_image(img, 512)
        z = sender.encode_latent_tensor(img, sample_posterior=True, seed=posterior_seed(0, it.name), size=256)
        if k < args.alloc_photos:
            for name, spec in (
                ("softcast_matched", "analog:sym=1:est=matched"),
                ("decoder_matched", "analog:sym=1:est=matched:alloc=decoder"),
                ("decoder_lmmse", "analog:sym=1:alloc=decoder"),
            ):
                codec = AnalogCodec.for_spec(spec, source_shape=SHAPE, stats=fold0)
                for snr in (-6.0, 0.0, 6.0):
                    alloc.setdefault(f"{name} {snr:g} dB", []).append(ssim(ref, decode(send(codec, z, TOTAL, snr, 3))))
        if k >= args.hybrid_photos:
            continue
        plain = AnalogCodec.for_spec("analog:sym=1:est=matched", source_shape=SHAPE, stats=fold0)
        hybrid.setdefault("analog alone", []).append(ssim(ref, decode(send(plain, z, TOTAL, 0.0, 1))))
        for share in (0.25, 0.5, 1.0):
            base_symbols = int(TOTAL * share)
            cap = max_file_bytes(file_fits(link, base_symbols), base_symbols)
            fitted = fit_to_budget(ref, "webp", lambda n, cap=cap: 0 < n <= cap)
            base, _ = decode_file(fitted.data, "webp", (512, 512))
            hybrid.setdefault(f"webp on {share:g} of the budget alone", []).append(ssim(ref, base))
            if share == 1.0:
                continue
            zb = sender.encode_latent_tensor(base, sample_posterior=False, size=256)
            residual = z - zb
            own = analog_stats.fit(residual[None], "analog", 4, channel=fold0.channel)  # oracle statistics
            for est in ("matched", "lmmse"):
                codec = AnalogCodec(AnalogSpec.parse(f"analog:sym=1:est={est}"), SHAPE, own, 4)
                r_hat = send(codec, residual, TOTAL - base_symbols, 0.0, 2)
                latent_way = decode(zb + r_hat)
                hybrid.setdefault(f"webp {share:g} + analog residual, {est}", []).append(ssim(ref, latent_way))
                pixels = (
                    np.asarray(base, np.float64)
                    + np.asarray(latent_way, np.float64)
                    - np.asarray(decode(zb), np.float64)
                )
                pixel_way = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
                hybrid.setdefault(f"webp {share:g} + analog residual in pixels, {est}", []).append(ssim(ref, pixel_way))
        print(it.name, flush=True)
    result = {
        "what": __doc__.splitlines()[0],
        "dev_photos": [it.name for it in dev[: max(args.hybrid_photos, args.alloc_photos)]],
        "statistics": f"fold0 file {fold0.id} (fitted on {len(fold0.images)} even-position photos)",
        "hybrid_0dB_ssim": {k: float(np.mean(v)) for k, v in hybrid.items()},
        "allocation_ssim": {k: float(np.mean(v)) for k, v in alloc.items()},
        "closed_forms": _closed_forms(fold0),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("hybrid_0dB_ssim", "allocation_ssim")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
