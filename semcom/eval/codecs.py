"""Standard image codecs at a byte budget, and a guarded decoder for corrupted files.

Pure (Pillow and numpy, no gRPC, no models): the classical baselines of `semcom.eval.baselines`
use it to compress the reference image with JPEG (libjpeg), WebP (libwebp) or AVIF (libavif,
where the installed Pillow has it) into the largest file a channel-symbol budget allows, and to
decode what the channel delivered without letting a decoder crash or hang the sweep.

Fitting a budget (`fit_to_budget`): for each scale (full size, 1/2, 1/4, 1/8 of the side: at
small budgets a smaller picture at a sane quality beats a full-size one at quality 1), a binary
search on the quality finds the highest quality whose file `fits` (a predicate on the byte count:
the link decides what fits, see `semcom.eval.baselines`); file size grows with quality for these
encoders (a non-monotone step is tolerated: the search only ever keeps files that fit). Among the
scales the sender keeps the candidate whose clean decode, upsampled (Lanczos) to the reference
size, has the highest SSIM against the reference: encoder-side rate-distortion optimisation, which
a sender can do since it holds the original. The receiver upsamples whatever size arrives.

Decoding received bytes (`decode_file`): Pillow opens the header lazily; the image is refused
before any pixel is decoded when its format is not the codec's or its size is not one the sender
can produce (the side / 2^j squares of `SCALES`): a corrupted header cannot make the decoder
allocate a huge image. `ImageFile.LOAD_TRUNCATED_IMAGES` stays False (Pillow's default, asserted
here): a stream that ends early or whose decoder reports an error is a failed decode, i.e. an
outage, never a half-grey image Pillow invented. Corruption the decoder does not detect (libjpeg
carries on through damaged entropy-coded data with a warning) yields an image that is scored as
it is. `GuardedDecoder` runs `decode_file` in a separate worker process with a time limit: a
decoder that crashes (segfault) or hangs costs one outage and a fresh worker, not the sweep.
"""

from __future__ import annotations

import io
import multiprocessing
import re
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any, Self

import numpy as np

SCALES = (1, 2, 4, 8)  # side divisors tried by fit_to_budget
FALLBACK_GREY = 128  # the image an outage is scored with: mid-grey (the receiver knows nothing of the picture)


@dataclass(frozen=True)
class Codec:
    name: str
    pil_format: str  # what Image.save takes
    open_format: str  # what Image.open reports
    quality_range: tuple[int, int]
    options: tuple[tuple[str, Any], ...] = ()

    def available(self) -> tuple[bool, str]:
        from PIL import features

        module = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}[self.name]
        try:
            ok = bool(features.check(module))
        except ValueError:  # a Pillow that does not know the feature at all
            ok = False
        if ok:
            return True, ""
        return False, f"the installed Pillow has no {self.name} support (PIL.features.check({module!r}) is False)"


# Baseline JPEG (not progressive), 4:2:0 chroma subsampling (Pillow's default at these qualities);
# WebP lossy, method 4 (Pillow's default); AVIF at speed 6 (Pillow's default).
CODECS: dict[str, Codec] = {
    "jpeg": Codec("jpeg", "JPEG", "JPEG", (1, 95), (("optimize", True),)),
    "webp": Codec("webp", "WEBP", "WEBP", (0, 100), (("method", 4),)),
    "avif": Codec("avif", "AVIF", "AVIF", (0, 100), (("speed", 6),)),
}


def get_codec(name: str) -> Codec:
    try:
        return CODECS[name]
    except KeyError:
        raise ValueError(f"unknown image codec {name!r}; choose from {', '.join(CODECS)}") from None


def encode(image: Any, codec: Codec | str, quality: int, scale: int = 1) -> bytes:
    """`image` (PIL RGB) shrunk by `scale` (Lanczos) and compressed at `quality`."""
    from PIL import Image

    codec = get_codec(codec) if isinstance(codec, str) else codec
    if scale != 1:
        w, h = image.size
        image = image.resize((max(1, w // scale), max(1, h // scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format=codec.pil_format, quality=int(quality), **dict(codec.options))
    return buffer.getvalue()


@dataclass(frozen=True)
class Fitted:
    """The file the sender transmits: None when no quality at any scale fits the budget."""

    data: bytes | None
    quality: int | None
    scale: int | None
    encodes: int  # files compressed during the search (its cost)
    clean_ssim: float = float("nan")  # SSIM of its error-free decode against the reference


@dataclass
class FitMemo:
    """What `fit_to_budget` keeps for one reference picture between fits: the files compressed and
    the clean SSIMs computed, by (codec, scale, quality), and the reference's SSIM terms. The searches
    for different budgets probe many of the same qualities and the encoders are deterministic, so a
    memo changes the cost of a fit, never its result (`Fitted.encodes` still counts every probe)."""

    files: dict[tuple[str, int, int], bytes] = field(default_factory=dict)
    scores: dict[tuple[str, int, int], float] = field(default_factory=dict)
    terms: Any = None  # semcom.eval.metric_cache.ReferenceTerms of the reference, on first use

    def ssim(self, reference: Any, image: Any) -> float:
        """`ssim(reference, image)`, the same number, with the reference's filtered terms kept."""
        from semcom.eval.metric_cache import ReferenceTerms
        from semcom.metrics.images import to_float_rgb

        if self.terms is None:
            self.terms = ReferenceTerms(to_float_rgb(reference))
        return float(self.terms.ssim(to_float_rgb(image)))


def _search_quality(
    image: Any, codec: Codec, scale: int, fits: Callable[[int], bool], memo: FitMemo | None = None
) -> tuple[bytes | None, int | None, int]:
    """Highest quality in the codec's range whose file fits (binary search), with the encode count."""
    lo, hi = codec.quality_range
    best: tuple[bytes | None, int | None] = (None, None)
    encodes = 0
    while lo <= hi:
        q = (lo + hi) // 2
        data = memo.files.get((codec.name, scale, q)) if memo is not None else None
        if data is None:
            data = encode(image, codec, q, scale)
            if memo is not None:
                memo.files[(codec.name, scale, q)] = data
        encodes += 1
        if fits(len(data)):
            best, lo = (data, q), q + 1
        else:
            hi = q - 1
    return best[0], best[1], encodes


def fit_to_budget(
    reference: Any,
    codec: Codec | str,
    fits: Callable[[int], bool],
    scales: tuple[int, ...] = SCALES,
    memo: FitMemo | None = None,
) -> Fitted:
    """The best file (see the module docstring) whose byte count satisfies `fits`; `memo`: the
    caller's `FitMemo` of this reference, kept between fits."""
    codec = get_codec(codec) if isinstance(codec, str) else codec
    size = reference.size
    best: Fitted | None = None
    encodes = 0
    for scale in scales:
        data, quality, n = _search_quality(reference, codec, scale, fits, memo)
        encodes += n
        if data is None:
            continue
        assert quality is not None
        score = memo.scores.get((codec.name, scale, quality)) if memo is not None else None
        if score is None:
            image, reason = decode_file(data, codec, size)
            if image is None:  # cannot happen for a file we just wrote; defensive
                raise RuntimeError(f"{codec.name} failed to decode its own file: {reason}")
            score = ssim(reference, image) if memo is None else memo.ssim(reference, image)
            if memo is not None:
                memo.scores[(codec.name, scale, quality)] = score
        if best is None or score > best.clean_ssim:
            best = Fitted(data, quality, scale, 0, score)
    return Fitted(None, None, None, encodes) if best is None else replace(best, encodes=encodes)


def ssim(reference: Any, image: Any) -> float:
    """The sweep's SSIM (`semcom.metrics`) of two PIL images."""
    from semcom.metrics.ssim import ssim as ssim_metric

    return float(ssim_metric(reference, image))


def decode_file(data: bytes, codec: Codec | str, size: tuple[int, int]) -> tuple[Any, str]:
    """Received file bytes -> (RGB image at `size`, "") or (None, why it is an outage).

    Refused before decoding: a format other than the codec's, a size the sender cannot produce.
    Any decoder error (truncated stream, broken header, ...) is an outage; warnings are ignored.
    """
    from PIL import Image, ImageFile

    codec = get_codec(codec) if isinstance(codec, str) else codec
    assert not ImageFile.LOAD_TRUNCATED_IMAGES, "a truncated file must be an outage, not a padded image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=[codec.open_format]) as im:
                if im.size not in {(max(1, size[0] // s), max(1, size[1] // s)) for s in SCALES}:
                    return None, f"header says {im.size[0]}x{im.size[1]}, not a size the sender produces"
                im.load()
                image = im.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - every decoder failure is an outage, with its reason
        # without object addresses ("<_io.BytesIO object at 0x...>"): the same file, the same reason
        return None, re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<file>", f"{type(exc).__name__}: {exc}")[:200]
    width, height = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return image, ""


def fallback_image(size: tuple[int, int]) -> Any:
    """What an outage is scored with: a uniform mid-grey (128, 128, 128) image."""
    from PIL import Image

    width, height = size
    return Image.new("RGB", (width, height), (FALLBACK_GREY,) * 3)


def _decode_to_array(data: bytes, codec_name: str, size: tuple[int, int]) -> tuple[np.ndarray | None, str]:
    image, reason = decode_file(data, codec_name, size)
    return (None if image is None else np.asarray(image, dtype=np.uint8)), reason


class GuardedDecoder:
    """`decode_file` in a worker process with a time limit (spawned once, replaced after a crash
    or timeout). `timeout_s` bounds one decode; the worker is killed when it overruns."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self.timeout_s = float(timeout_s)
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):  # a hung worker: stop it
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1

    def decode(self, data: bytes, codec: str, size: tuple[int, int]) -> tuple[Any, str]:
        from PIL import Image

        future = self._executor().submit(_decode_to_array, bytes(data), codec, (size[0], size[1]))
        try:
            array, reason = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            self._discard()
            return None, f"decoder timed out after {self.timeout_s:g} s"
        except BrokenProcessPool:
            self._discard()
            return None, "decoder process died"
        return (None if array is None else Image.fromarray(array, "RGB")), reason

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
