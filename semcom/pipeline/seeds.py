"""Every seed of a run, derived from one user `--seed` (the only module that derives seeds).

One primitive, `derive_seed(*parts)`: a 63-bit integer from the BLAKE2b hash of the parts' text,
stable across runs, processes and platforms, small enough for every consumer (torch generators,
proto uint64 fields, `ChannelConfig.seed`). Two families are built on it:

* the doors (`semcom transmit`, `semcom send`, `semcom demo`, the web UI, the services' clients):
  `RoleSeeds.derive(seed, *key)` gives image `key` (its index in the batch) three independent
  streams, ``derive_seed(seed, *key, role)`` for each role of `ROLES`;
* the evaluation sweep: `RoleSeeds.of_cell(seed, image, cell_key)`, where the posterior sample
  (`posterior_seed`) and the diffusion noise depend on the image only (common random numbers
  across an image's cells) and the channel noise (`channel_seed`) on the image and the cell; an evaluation-only
  receiver treatment that draws noise (the authors' sanitiser) takes `repair_seed`.

The sender draws the VAE posterior sample, the channel its noise, the receiver its re-noising /
diffusion noise. Feeding one number to all three made them the *same* stream (the receiver's
re-noising noise equalled the sender's posterior noise); every role has its own seed.

A request may also carry explicit per-role seeds (`RoleSeeds(sender=..., channel=..., receiver=...)`),
e.g. to replay one row of an evaluation sweep through `semcom transmit --seeds` or the services.
Roles left None draw fresh entropy. docs/pipeline.md documents the scheme.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

ROLES = ("sender", "channel", "receiver")


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts (BLAKE2b of their text): stable across runs and platforms."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def posterior_seed(seed: int, image: str) -> int:
    """The sweep's seed of `image`'s VAE posterior sample (the sender's), shared by all its cells."""
    return derive_seed(seed, image, "posterior")


def channel_seed(seed: int, image: str, cell_key: str) -> int:
    """The sweep's seed of the channel noise of one (image, cell), whatever the cell's link
    (the semantic link, a classical baseline's, an analog one's)."""
    return derive_seed(seed, image, cell_key, "channel")


def repair_seed(seed: int, image: str, cell_key: str) -> int:
    """The sweep's seed of an evaluation-only receiver treatment's draws (the authors' sanitiser)."""
    return derive_seed(seed, image, cell_key, "repair")


def _check(name: str, value: int | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < 2**64
    ):
        raise ValueError(f"{name} seed must be None or an integer in [0, 2**64), got {value!r}")


@dataclass(frozen=True)
class RoleSeeds:
    sender: int | None = None  # posterior sample of the VAE encoder
    channel: int | None = None  # channel noise (and fading gains)
    receiver: int | None = None  # re-noising and diffusion noise

    def __post_init__(self) -> None:
        for role in ROLES:
            _check(role, getattr(self, role))

    @classmethod
    def derive(cls, seed: int | None, *key: int) -> RoleSeeds:
        """Independent per-role seeds from one user `seed` (None: all fresh):
        ``derive_seed(seed, *key, role)`` for each role.

        `key`: non-negative integers that make further independent families from the same seed
        (every door uses the image's index in its batch: ``derive(seed, i)``, so image i of
        `semcom transmit`, `semcom send` and `semcom demo` gets the same seeds).
        """
        if seed is None:
            return cls()
        _check("user", seed)
        if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in key):
            raise ValueError(f"seed keys must be non-negative integers, got {key!r}")
        parts = (int(seed), *(int(k) for k in key))
        return cls(*(derive_seed(*parts, role) for role in ROLES))

    @classmethod
    def of_cell(cls, seed: int, image: str, cell_key: str) -> RoleSeeds:
        """The evaluation sweep's seeds of one (image, cell): recorded in its row, replayed by
        `semcom transmit --seeds`. Posterior and diffusion noise depend on the image only (common
        random numbers across an image's cells), the channel noise on the image and the cell."""
        return cls(
            sender=posterior_seed(seed, image),
            channel=channel_seed(seed, image, cell_key),
            receiver=derive_seed(seed, image, "diffusion"),
        )

    def as_dict(self) -> dict[str, int | None]:
        return {role: getattr(self, role) for role in ROLES}
