"""TAEF2: the tiny autoencoder for the FLUX.2 latent space (Ollin Boer Bohan, MIT), as plain torch.

The TAESD architecture (which diffusers ships as `AutoencoderTiny`) plus group-norm pooling in the
blocks next to the latent, and 32 latent channels at 1/8 of the image side. The layer indices of
the two `nn.Sequential`s match the published state dicts exactly, so
`load_state_dict(strict=True)` works on `taef2_encoder.pth` / `taef2_decoder.pth` (or the same
tensors saved as .safetensors).

Conventions (the original's): images in [0, 1]; latents raw (no scaling factor); decoder output
roughly in [0, 1] (callers clamp).

The published weights ship inside the package (`semcom/models/weights/taef2/`: the two .pth files,
the MIT notice, their source and a SHA256SUMS file), so a clone has a real codec offline:
`PACKAGED_DIR` is that folder and `PACKAGED_PROFILE` a profile (k = 0 decoding only) that uses it.
Whenever a weights folder holds a SHA256SUMS file, every file loaded from it is checked against it
first (`WeightsChecksumError`, an OSError, on a mismatch or an unlisted file); the state dicts are
read with `weights_only=True` (no pickled code runs) or from .safetensors.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from semcom.models.hub import file_sha256

WIDTH = 64
LATENT_CHANNELS = 32
SPATIAL_FACTOR = 8
POOL_WIDTH = 256
POOL_GROUPS = 4
WEIGHT_NAMES = {"encoder": "taef2_encoder", "decoder": "taef2_decoder"}
PACKAGED_DIR = Path(__file__).resolve().parent / "weights" / "taef2"
PACKAGED_PROFILE = PACKAGED_DIR / "profile.yaml"
CHECKSUMS_FILE = "SHA256SUMS"


class WeightsChecksumError(OSError):
    """A weights file does not match the SHA256SUMS beside it (corrupt, truncated or replaced)."""


def read_checksums(directory: Path) -> dict[str, str] | None:
    """{file name: sha256} from `directory`/SHA256SUMS (sha256sum's format); None when absent."""
    sums = directory / CHECKSUMS_FILE
    if not sums.is_file():
        return None
    table: dict[str, str] = {}
    for line in sums.read_text(encoding="ascii").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            table[name.lstrip("*").strip()] = digest.lower()
    return table


def verify_weights(path: Path) -> None:
    """Check `path` against the SHA256SUMS in its folder, if that folder has one."""
    table = read_checksums(path.parent)
    if table is None:
        return
    if path.name not in table:
        raise WeightsChecksumError(f"{path} is not listed in {path.parent / CHECKSUMS_FILE}")
    actual = file_sha256(path)
    if actual != table[path.name]:
        raise WeightsChecksumError(
            f"{path}: sha256 {actual} does not match {table[path.name]} in {path.parent / CHECKSUMS_FILE}"
        )


def conv(n_in: int, n_out: int, bias: bool = True, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, bias=bias, stride=stride)


class SoftClamp(nn.Module):
    """x -> 3 tanh(x / 3): keeps decoder inputs in (-3, 3) without a hard edge."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    """Residual block of three 3x3 convs; optionally preceded by group-norm pooling x += pool(x)."""

    def __init__(self, width: int = WIDTH, use_pool: bool = False) -> None:
        super().__init__()
        self.conv = nn.Sequential(conv(width, width), nn.ReLU(), conv(width, width), nn.ReLU(), conv(width, width))
        self.pool: nn.Module | None = None
        if use_pool:
            self.pool = nn.Sequential(
                nn.Conv2d(width, POOL_WIDTH, 1, bias=False),
                nn.GroupNorm(POOL_GROUPS, POOL_WIDTH),
                nn.ReLU(),
                nn.Conv2d(POOL_WIDTH, width, 1, bias=False),
            )
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + x)


def build_encoder() -> nn.Sequential:
    """Image [0,1] (B,3,H,W) -> raw latent (B,32,H/8,W/8)."""
    return nn.Sequential(
        conv(3, WIDTH), Block(),
        conv(WIDTH, WIDTH, bias=False, stride=2), Block(), Block(), Block(),
        conv(WIDTH, WIDTH, bias=False, stride=2), Block(), Block(), Block(),
        conv(WIDTH, WIDTH, bias=False, stride=2), Block(use_pool=True), Block(use_pool=True), Block(use_pool=True),
        conv(WIDTH, LATENT_CHANNELS),
    )  # fmt: skip


def build_decoder() -> nn.Sequential:
    """Raw latent (B,32,h,w) -> image of about [0,1] (B,3,8h,8w)."""
    return nn.Sequential(
        SoftClamp(), conv(LATENT_CHANNELS, WIDTH), nn.ReLU(),
        Block(use_pool=True), Block(use_pool=True), Block(use_pool=True),
        nn.Upsample(scale_factor=2), conv(WIDTH, WIDTH, bias=False), Block(), Block(), Block(),
        nn.Upsample(scale_factor=2), conv(WIDTH, WIDTH, bias=False), Block(), Block(), Block(),
        nn.Upsample(scale_factor=2), conv(WIDTH, WIDTH, bias=False), Block(),
        conv(WIDTH, 3),
    )  # fmt: skip


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    verify_weights(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def find_weights(directory: Path, part: str) -> Path:
    """`taef2_<part>.safetensors` or `.pth` in `directory`; FileNotFoundError if neither exists."""
    for suffix in (".safetensors", ".pth"):
        candidate = directory / f"{WEIGHT_NAMES[part]}{suffix}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {WEIGHT_NAMES[part]}.safetensors or .pth in {directory}")


class TAEF2(nn.Module):
    """Encoder + decoder pair; `from_pretrained` has the diffusers/transformers signature."""

    latent_channels = LATENT_CHANNELS
    spatial_factor = SPATIAL_FACTOR

    def __init__(self) -> None:
        super().__init__()
        self.encoder = build_encoder()
        self.decoder = build_decoder()

    @classmethod
    def from_pretrained(cls, ref: str, subfolder: str | None = None, revision: str | None = None) -> TAEF2:
        """Load from a local directory or a hub repository holding taef2_{encoder,decoder}.{pth,safetensors}."""
        model = cls()
        for part, net in (("encoder", model.encoder), ("decoder", model.decoder)):
            net.load_state_dict(_read_state_dict(_resolve(ref, part, subfolder, revision)), strict=True)
        return model.eval()


def _resolve(ref: str, part: str, subfolder: str | None, revision: str | None) -> Path:
    local = Path(ref).expanduser()
    if local.is_dir():
        return find_weights(local / subfolder if subfolder else local, part)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return Path(hf_hub_download(ref, f"{WEIGHT_NAMES[part]}.safetensors", subfolder=subfolder, revision=revision))
    except EntryNotFoundError:
        return Path(hf_hub_download(ref, f"{WEIGHT_NAMES[part]}.pth", subfolder=subfolder, revision=revision))
