"""Sender.encode_batch == Sender.encode item by item: captions, per-item seeds, mixed sizes, bad items."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from semcom.models import load_profile
from semcom.payload.latent import decode_latent

SIZE = 64
ATOL = 1e-5  # batched CPU kernels may round the last bits differently (observed max |diff|: 0 on 64 px)


def _images(photo: Image.Image) -> list[Image.Image]:
    """Four different images: the photo, flipped, rotated, and a channel swap."""
    r, g, b = photo.split()
    return [
        photo,
        photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        photo.rotate(90, expand=True),
        Image.merge("RGB", (b, r, g)),
    ]


def _assert_same(batched, alone) -> None:
    assert batched.caption == alone.caption
    assert batched.coded_size == alone.coded_size and batched.original_size == alone.original_size
    assert batched.latent.encoding == alone.latent.encoding
    np.testing.assert_allclose(
        decode_latent(batched.latent).values, decode_latent(alone.latent).values, rtol=0, atol=ATOL
    )


def test_batch_equals_one_at_a_time_with_given_captions(tiny, photo: Image.Image) -> None:
    sender = tiny.sender()
    items = [dict(image=im, caption=f"image {i}", seed=10 + i, size=SIZE) for i, im in enumerate(_images(photo))]
    items.append(dict(image=photo, caption="mean", sample_posterior=False, size=SIZE))  # its own encoder group
    items.append(dict(image=photo, caption="bigger", seed=3, size=2 * SIZE, encoding="float32"))  # another size
    batched = sender.encode_batch(items)
    for item, packet in zip(items, batched):
        _assert_same(packet, sender.encode(**item))
    # the seeds really are per item: same image, different seeds -> different samples
    a, b = sender.encode_batch(
        [dict(image=photo, caption="x", seed=1, size=SIZE), dict(image=photo, caption="x", seed=2, size=SIZE)]
    )
    assert a.latent.data != b.latent.data


def test_batch_blip_captions_once_for_all(tiny_dir, photo: Image.Image) -> None:
    models = load_profile(tiny_dir, device="cpu", dtype="float32")
    sender = models.sender()
    items = [dict(image=im, seed=i, size=SIZE) for i, im in enumerate(_images(photo))]
    items[1]["caption"] = "given"  # not captioned by BLIP
    results = sender.encode_batch_with_timings(items)
    assert models.captioner().calls == 3
    assert "caption" not in results[1][1] and all("caption" in results[i][1] for i in (0, 2, 3))
    for item, (packet, _timings) in zip(items, results):
        _assert_same(packet, sender.encode(**item))


def test_bad_items_fail_alone_with_return_exceptions(tiny, photo: Image.Image) -> None:
    sender = tiny.sender()
    items = [
        dict(image=photo, caption="ok", seed=1, size=SIZE),
        dict(image="not an image", caption="x"),
        dict(image=photo, caption="x", size=65),
        dict(image=photo, caption="x", seed=-1, size=SIZE),
        dict(image=photo, caption="x", size=SIZE, colour="red"),
    ]
    out = sender.encode_batch(items, return_exceptions=True)
    _assert_same(out[0], sender.encode(**items[0]))
    assert [type(o) for o in out[1:]] == [TypeError, ValueError, ValueError, TypeError]
    with pytest.raises(ValueError, match="multiple of 64"):
        sender.encode_batch([items[0], items[2]])
    assert sender.encode_batch([]) == []
