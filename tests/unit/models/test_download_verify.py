"""`semcom models download` verifies what it fetched against the hub's file list (sizes, SHA-256
of LFS files, git blob SHA-1 of small files). The hub's answer is built here from real files with
huggingface_hub's own types; the hashing and comparison are the code under test."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from semcom.models import ModelNotAvailableError
from semcom.models.hub import verify_snapshot


def _listing(root: Path, lfs: set[str], extra: list[str] = ()):
    from huggingface_hub.hf_api import BlobLfsInfo, RepoSibling

    siblings = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        data = path.read_bytes()
        if name in lfs:
            siblings.append(
                RepoSibling(
                    rfilename=name,
                    size=len(data),
                    lfs=BlobLfsInfo(size=len(data), sha256=hashlib.sha256(data).hexdigest(), pointer_size=130),
                )
            )
        else:
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            siblings.append(RepoSibling(rfilename=name, size=len(data), blob_id=blob))
    siblings += [RepoSibling(rfilename=name, size=1) for name in extra]
    return SimpleNamespace(
        model_info=lambda repo, revision=None, files_metadata=False: SimpleNamespace(siblings=siblings)
    )


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "config.json").write_text('{"in_channels": 4}')
    (tmp_path / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "unet" / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"\0" * 10)
    return tmp_path


def test_a_complete_snapshot_verifies(snapshot) -> None:
    api = _listing(
        snapshot, {"unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors"}
    )
    counts = verify_snapshot(snapshot, "org/sd", ["unet/*.json", "unet/*.safetensors"], ["*.fp16.*"], api=api)
    assert counts == {"files": 2, "bytes": 16384 + 18, "sha256": 1, "sha1": 1}


def test_corrupt_truncated_and_missing_files_are_named(snapshot) -> None:
    weights = snapshot / "unet" / "diffusion_pytorch_model.safetensors"
    api = _listing(snapshot, {"unet/diffusion_pytorch_model.safetensors"}, extra=["unet/missing.json"])
    data = bytearray(weights.read_bytes())
    data[100] ^= 1  # same size, one bit flipped
    weights.write_bytes(bytes(data))
    (snapshot / "unet" / "config.json").write_text('{"in_channels": 5}')  # same size, other content
    with pytest.raises(ModelNotAvailableError) as info:
        verify_snapshot(snapshot, "org/sd", ["unet/*"], ["*.fp16.*"], api=api)
    message = str(info.value)
    assert "diffusion_pytorch_model.safetensors: SHA-256 differs" in message
    assert "config.json: git blob SHA-1 differs" in message
    assert "unet/missing.json: missing" in message and "fp16" not in message
    weights.write_bytes(bytes(data[:-1]))
    with pytest.raises(ModelNotAvailableError, match="16383 bytes, published 16384"):
        verify_snapshot(snapshot, "org/sd", ["unet/*.safetensors"], ["*.fp16.*"], api=api)
