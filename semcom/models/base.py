"""What the sender and receiver need from a loaded profile, as a Protocol.

`Sender` and `Receiver` are typed against `ModelSet`, not against `semcom.models.profiles.Models`,
so the modules do not import each other (profiles -> receiver/sender only; no circle back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch

    from semcom.models.spec import ProfileSpec


class ModelSet(Protocol):
    """A profile's components, each loaded on first use (`semcom.models.profiles.Models`)."""

    spec: ProfileSpec
    device: torch.device
    dtype: torch.dtype

    @property
    def name(self) -> str: ...

    @property
    def has_captioner(self) -> bool: ...

    @property
    def has_diffusion(self) -> bool: ...

    def captioner(self) -> Any: ...

    def encoder(self) -> Any: ...

    def decoder(self) -> Any: ...

    def diffusion(self) -> Any: ...
