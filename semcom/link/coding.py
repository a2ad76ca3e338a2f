"""The coded link, plugged into the link by registration: a strategy object, so that the link
never imports the FEC package, which sits above it (semcom.fec imports semcom.link).

`semcom.fec.coded` registers `semcom.fec`'s implementation (LDPC with AMC) when it is imported.
The package root (semcom/__init__.py), which composes the layers, registers a loader that
imports it the first time a coded link is asked for, so that `transmit_packet` with
``fec="ldpc"`` works without the caller importing anything. Without the FEC package (the 'fec'
extra) the first use raises `FecUnavailableError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # this module is imported by the package root: it stays import-light
    import numpy as np

    from semcom.link.types import ChannelConfig, FieldResult
    from semcom.payload.packet import LatentPayload


class FecUnavailableError(RuntimeError):
    """The configuration needs `semcom.fec`, which is not installed or not importable."""


class CodedLink(Protocol):
    """What the link needs from a channel code."""

    def transmit_field(self, bits: np.ndarray, cfg: ChannelConfig, rng: np.random.Generator, field: str) -> FieldResult:
        """One field (caption or latent bits) over the coded link."""
        ...

    def latent_drop_reason(self, cfg: ChannelConfig, latent: LatentPayload) -> str:
        """AMC: why the latent is dropped at `cfg`'s SNR ("" when some MCS carries it)."""
        ...

    def field_symbols(self, n_bits: int, mcs: str) -> int:
        """Channel symbols an `n_bits` field takes at `mcs` (its segments, CRCs and parity)."""
        ...


_registered: CodedLink | None = None
_loader: Callable[[], object] | None = None


def register(link: CodedLink) -> None:
    """Make `link` the coded link (`semcom.fec.coded` calls this when it is imported)."""
    global _registered
    _registered = link


def register_loader(loader: Callable[[], object]) -> None:
    """The callable that registers a coded link when called (imports the module that does it)."""
    global _loader
    _loader = loader


def coded_link() -> CodedLink:
    """The registered coded link, loaded on first use; FecUnavailableError without one."""
    if _registered is None and _loader is not None:
        try:
            _loader()
        except ModuleNotFoundError as exc:
            raise FecUnavailableError(
                f"fec='ldpc' and latent_policy 'amc' need the FEC package (semcom.fec, pip install "
                f"'semcom[fec]'), which is not importable: {exc}"
            ) from exc
    if _registered is None:
        raise FecUnavailableError("no coded link is registered (semcom.fec.coded registers LDPC when imported)")
    return _registered
