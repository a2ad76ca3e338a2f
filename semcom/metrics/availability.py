"""Why a metric could not be computed, carried as data instead of a crash or a silent zero.

LPIPS, FID and CLIP score need optional libraries (`pip install semcom[metrics]`) and
pretrained weights that may not be on disk. A sweep must go on without them: every metric that
cannot run is reported as `NaN` in the numbers and with a human-readable reason next to them.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

INSTALL_HINT = "pip install semcom[metrics]"


class MetricUnavailable(RuntimeError):
    """A metric cannot be computed here; `reason` says why and how to fix it."""

    def __init__(self, metric: str, reason: str) -> None:
        super().__init__(f"{metric} unavailable: {reason}")
        self.metric = metric
        self.reason = reason


@dataclass(frozen=True)
class Availability:
    """Whether a metric can run, and if not, why (one line, suitable for a table cell)."""

    metric: str
    available: bool
    reason: str = ""


def require_module(metric: str, module: str, package: str | None = None) -> ModuleType:
    """Import `module` or raise MetricUnavailable naming the package and the install hint.

    Import errors other than "not installed" (a broken install) are reported with their message,
    because they are just as fatal for the metric and the user needs to see them.
    """
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise MetricUnavailable(metric, f"{package or module} not installed ({INSTALL_HINT})")
    try:
        return importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure makes the metric unavailable
        raise MetricUnavailable(metric, f"{package or module} failed to import: {type(exc).__name__}: {exc}") from exc


def module_installed(module: str) -> bool:
    """True when `module` can be found (without importing it)."""
    return importlib.util.find_spec(module) is not None
