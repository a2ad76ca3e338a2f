"""One transmission pipeline behind every entry point (docs/pipeline.md).

`types`: the request and result of a transmission; `seeds`: one user seed -> per-role streams;
`stages`: the rules each stage applies, shared by the in-process pipeline and the services;
`pipeline`: the `Pipeline` object built once from a profile.
"""

from typing import TYPE_CHECKING

from semcom.pipeline.seeds import ROLES, RoleSeeds
from semcom.pipeline.types import LatentSpec, TransmissionRequest, TransmissionResult

if TYPE_CHECKING:
    from semcom.pipeline.pipeline import Pipeline

__all__ = ["ROLES", "LatentSpec", "Pipeline", "RoleSeeds", "TransmissionRequest", "TransmissionResult"]


def __getattr__(name: str) -> "type[Pipeline]":  # Pipeline imports the model stack lazily
    if name == "Pipeline":
        from semcom.pipeline.pipeline import Pipeline

        return Pipeline
    raise AttributeError(name)
