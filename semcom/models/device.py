"""Device and dtype choice: CUDA + float16 when available, CPU + float32 otherwise.

Overridable per call (`load_profile(device=..., dtype=...)`) or through the settings
SEMCOM_DEVICE / SEMCOM_DTYPE (semcom/config.py).
"""

from __future__ import annotations

import torch

from semcom import config

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """`device` if given, else SEMCOM_DEVICE; "auto" means cuda when available, else cpu."""
    name = str(device) if device is not None else str(config.get("SEMCOM_DEVICE"))
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown torch device {name!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return resolved


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """`dtype` if given, else SEMCOM_DTYPE; "auto" means float16 on CUDA, float32 elsewhere."""
    if isinstance(dtype, torch.dtype):
        return dtype
    name = dtype if dtype is not None else str(config.get("SEMCOM_DTYPE"))
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    try:
        return _DTYPES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; use auto or one of {sorted(_DTYPES)}") from None
