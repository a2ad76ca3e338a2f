"""One user seed -> independent random streams per role (sender, channel, receiver).

The sender draws the VAE posterior sample, the channel its noise, the receiver its re-noising /
diffusion noise. Feeding one number to all three made them the *same* stream: the receiver's
re-noising noise equalled the sender's posterior noise (correlation 1.0). `RoleSeeds.derive`
spawns three children of `numpy.random.SeedSequence(seed)` (one per role, in `ROLES` order) and
takes a 63-bit integer from each: independent streams, reproducible across platforms, small
enough for every consumer (torch generators, proto uint64 fields, `ChannelConfig.seed`).

A request may also carry explicit per-role seeds (`RoleSeeds(sender=..., channel=..., receiver=...)`),
e.g. to replay one row of an evaluation sweep through `semcom transmit --seeds` or the services.
Roles left None draw fresh entropy. docs/pipeline.md documents the scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROLES = ("sender", "channel", "receiver")
_MAX = 2**63


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
        """Independent per-role seeds from one user `seed` (None: all fresh).

        `key`: non-negative integers that make further independent families from the same seed
        (every door uses the image's index in its batch: ``derive(seed, i)``, so image i of
        `semcom transmit`, `semcom send` and `semcom demo` gets the same seeds).
        """
        if seed is None:
            return cls()
        _check("user", seed)
        if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in key):
            raise ValueError(f"seed keys must be non-negative integers, got {key!r}")
        children = np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)).spawn(len(ROLES))
        values = [int(child.generate_state(1, np.uint64)[0]) % _MAX for child in children]
        return cls(*values)

    def as_dict(self) -> dict[str, int | None]:
        return {role: getattr(self, role) for role in ROLES}
