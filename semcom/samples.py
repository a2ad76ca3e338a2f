"""Sample photographs that need no download: the real photos scikit-image ships in its wheel.

`semcom demo` sends these when nothing else is given, so a fresh clone shows real pictures
offline. Each comes with the licence scikit-image's documentation states for it (the docstring
of the `skimage.data` function of the same name, scikit-image 0.26) and a caption written for
this project (at most 77 ASCII characters, the caption format's limit; the paper's captioner,
BLIP, is not available offline).

| name | skimage.data | licence (as scikit-image documents it) |
| --- | --- | --- |
| astronaut | astronaut() | NASA Great Images database: "No known copyright restrictions, released into the public domain." |
| coffee | coffee() | courtesy of Pikolo Espresso Bar: "No copyright restrictions. CC0 by the photographer (Rachel Michetti)." |
| chelsea | chelsea() | "No copyright restrictions. CC0 by the photographer (Stefan van der Walt)." |
| rocket | rocket() | SpaceX photos, "released in the public domain" by SpaceX. |
| hubble_deep_field | hubble_deep_field() | NASA / HubbleSite: "may be freely used in the public domain". |

Left out: `stereo_motorcycle()` (Middlebury 2014 stereo benchmark) is in the wheel too, but
scikit-image's documentation states no licence for it; photos that `skimage.data` fetches with
pooch (not in the wheel) are not used, so nothing here touches the network.

Every photo is centre-cropped to a square (the codecs work on square images; a resize alone
would squash it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplePhoto:
    name: str
    caption: str
    licence: str
    loader: str  # the skimage.data function

    def array(self) -> np.ndarray:
        """The photo as uint8 RGB (H, W, 3), centre-cropped to a square."""
        import skimage.data

        image = np.asarray(getattr(skimage.data, self.loader)())
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"skimage.data.{self.loader}() is not an RGB photo: shape {image.shape}")
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        return np.ascontiguousarray(image[top : top + side, left : left + side])

    def png(self) -> bytes:
        """The square photo as PNG bytes (what a client would send)."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.array()).save(buffer, format="PNG")
        return buffer.getvalue()


PHOTOS: tuple[SamplePhoto, ...] = (
    SamplePhoto(
        "astronaut",
        "a smiling astronaut in an orange flight suit next to a flag and a shuttle",
        "public domain (NASA)",
        "astronaut",
    ),
    SamplePhoto(
        "coffee",
        "a red cup of espresso with a spoon on a red saucer on a wooden table",
        "CC0 (Rachel Michetti)",
        "coffee",
    ),
    SamplePhoto(
        "chelsea", "close-up of a tabby cat with green eyes looking to the side", "CC0 (Stefan van der Walt)", "chelsea"
    ),
    SamplePhoto(
        "rocket", "a rocket standing on its launch pad between two towers at dusk", "public domain (SpaceX)", "rocket"
    ),
    SamplePhoto(
        "hubble_deep_field",
        "thousands of small colourful galaxies scattered across a black sky",
        "public domain (NASA)",
        "hubble_deep_field",
    ),
)


def sample_photos(count: int | None = None) -> list[SamplePhoto]:
    """The first `count` sample photos (all when None); ValueError for a count outside 1..5."""
    if count is None:
        return list(PHOTOS)
    if not 1 <= count <= len(PHOTOS):
        raise ValueError(f"there are {len(PHOTOS)} sample photos; asked for {count}")
    return list(PHOTOS[:count])
