"""Exceptions of the model layer.

`ModelNotAvailableError` is what every failed weight load becomes (see `semcom.models.hub`):
one short message that says what is missing and how to get it, never a deep stack trace.
`IncompatibleLatentError` is a `ValueError` for a reconstruction mode the received latent
cannot support (e.g. diffusion on a TAEF2 latent with a Stable Diffusion UNet).
"""

from __future__ import annotations


class ModelNotAvailableError(RuntimeError):
    """A model component could not be loaded (missing download, bad hub id, missing directory)."""


class IncompatibleLatentError(ValueError):
    """The received latent does not live in the latent space the requested mode needs."""


class ProfileError(ValueError):
    """A profile specification (YAML/JSON/dict) is malformed."""
