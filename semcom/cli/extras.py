"""Which optional extra provides a missing module, so a command can say what to install.

The core install (`pip install semcom`) is the wire formats, the channel simulator, the gRPC
client and this CLI. A command that needs more (models, FEC, serving, evaluation) fails with one
line naming the extra instead of a traceback.
"""

from __future__ import annotations

# top-level module -> the extra of pyproject.toml that installs it
EXTRA_OF: dict[str, str] = {
    "torch": "models",
    "diffusers": "models",
    "transformers": "models",
    "safetensors": "models",
    "tokenizers": "models",
    "huggingface_hub": "models",
    "accelerate": "models",
    "scipy": "models",  # also in fec, eval and metrics; models is the smallest extra that has it
    "sionna": "fec",
    "numba": "fec",
    "prometheus_client": "serve",
    "skimage": "eval",
    "matplotlib": "eval",
    "lpips": "metrics",
    "torchmetrics": "metrics",
    "torch_fidelity": "metrics",
    "gradio": "ui",
}


def message(command: str, exc: ModuleNotFoundError) -> str | None:
    """The line naming the extra whose absence raised `exc`, or None when `exc` is not about an
    optional package."""
    extra = EXTRA_OF.get((exc.name or "").split(".")[0])
    if extra is None:
        return None
    return (
        f"semcom {command}: needs the optional '{extra}' dependencies ({exc.name} is not installed): "
        f"pip install 'semcom[{extra}]'"
    )
