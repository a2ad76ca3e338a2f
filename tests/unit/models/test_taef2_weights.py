"""The TAEF2 weights shipped in the package: licence and source beside them, checksums verified
at every load (a changed byte refuses to load), the profile that uses them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from semcom.models.taef2 import (
    CHECKSUMS_FILE,
    PACKAGED_DIR,
    PACKAGED_PROFILE,
    TAEF2,
    WeightsChecksumError,
    file_sha256,
    read_checksums,
)

FILES = ("taef2_encoder.pth", "taef2_decoder.pth")


def test_packaged_folder_has_weights_licence_source_and_sums() -> None:
    sums = read_checksums(PACKAGED_DIR)
    assert sums is not None and set(sums) == set(FILES)
    for name in FILES:
        assert file_sha256(PACKAGED_DIR / name) == sums[name]
    licence = (PACKAGED_DIR / "LICENSE").read_text()
    assert "MIT License" in licence and "Ollin Boer Bohan" in licence
    assert "https://github.com/madebyollin/taesd" in (PACKAGED_DIR / "README.md").read_text()


def test_packaged_copy_equals_the_shared_fixture(shared_dir: Path) -> None:
    fixture = shared_dir / "models" / "taef2"
    if not (fixture / FILES[0]).is_file():
        pytest.skip(f"no TAEF2 weights at {fixture}")
    for name in FILES:
        assert file_sha256(fixture / name) == file_sha256(PACKAGED_DIR / name)


def test_a_changed_byte_refuses_to_load(tmp_path: Path) -> None:
    for name in (*FILES, CHECKSUMS_FILE):
        shutil.copy(PACKAGED_DIR / name, tmp_path / name)
    TAEF2.from_pretrained(str(tmp_path))  # intact copy loads
    data = bytearray((tmp_path / FILES[1]).read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / FILES[1]).write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match="does not match"):
        TAEF2.from_pretrained(str(tmp_path))


def test_a_file_missing_from_the_sums_refuses_to_load(tmp_path: Path) -> None:
    for name in FILES:
        shutil.copy(PACKAGED_DIR / name, tmp_path / name)
    (tmp_path / CHECKSUMS_FILE).write_text(f"{file_sha256(tmp_path / FILES[0])}  {FILES[0]}\n")
    with pytest.raises(WeightsChecksumError, match="not listed"):
        TAEF2.from_pretrained(str(tmp_path))


def test_packaged_profile_loads_the_real_codec() -> None:
    """Through the profile machinery: a corrupt file would surface as a readable load error."""
    import torch

    from semcom.models import load_profile

    models = load_profile(str(PACKAGED_PROFILE), device="cpu", dtype="float32")
    assert not models.has_captioner and not models.has_diffusion
    codec = models.encoder()
    assert codec.name == "taef2" and codec.latent_channels == 32
    torch.manual_seed(0)
    images = torch.rand(1, 3, 64, 64) * 2 - 1
    smooth = torch.nn.functional.avg_pool2d(images, 9, stride=1, padding=4)  # photo-like: smooth
    out = codec.decode(codec.encode(smooth))
    assert out.shape == smooth.shape
    assert float((out - smooth).abs().mean()) < 0.1  # real weights reconstruct; random ones would not


def test_taef2_is_a_profile_name_and_its_default_strength_is_decode_only() -> None:
    """`--profile taef2` in every command; a request that names no strength gets k = 0 decoding,
    the only thing the decode-only profile can do, instead of the paper's 0.6 (refused)."""
    import torch

    from semcom.models import ReconParams, load_profile
    from semcom.models.errors import IncompatibleLatentError
    from semcom.models.params import DEFAULT_STRENGTH, default_strength
    from semcom.models.profiles import builtin_names
    from semcom.payload.latent import encode_latent
    from semcom.payload.packet import SemanticPacket

    assert "taef2" in builtin_names()
    models = load_profile("taef2", device="cpu", dtype="float32")
    assert models.name == "taef2" and not models.has_diffusion
    assert default_strength(models.has_diffusion) == 0.0 and default_strength(True) == DEFAULT_STRENGTH == 0.6
    codec = models.encoder()
    torch.manual_seed(0)
    latent = codec.encode(torch.rand(1, 3, 64, 64) * 2 - 1)[0].numpy()
    packet = SemanticPacket(caption=b"a photo", latent=encode_latent(latent, "float32"), codec=codec.info)
    receiver = models.receiver()
    result = receiver.reconstruct(packet, ReconParams(mode="latent", strength=default_strength(models.has_diffusion)))
    assert result.image.size == (64, 64) and result.steps_executed == 0
    with pytest.raises(IncompatibleLatentError, match="strength 0"):
        receiver.reconstruct(packet, ReconParams(mode="latent"))  # the paper's 0.6: no diffusion model to do it


def test_cli_transmit_on_taef2_without_a_caption(tmp_path: Path, photo, capsys: pytest.CaptureFixture[str]) -> None:
    """`semcom transmit photo --profile taef2`: auto decodes the latent with no caption sent;
    text+latent, conditioned on a caption the profile cannot write, exits 2 naming --caption TEXT."""
    import json

    from semcom.cli import main

    photo.save(tmp_path / "p.png")
    argv = ["transmit", str(tmp_path / "p.png"), "--profile", "taef2", "--image-size", "64", "--device", "cpu"]
    argv += ["--seed", "0", "--snr-db", "20", "--out", str(tmp_path / "out"), "--json"]
    assert main(argv) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["caption_sent"] == "" and record["mode_used"] == "latent" and record["steps_executed"] == 0
    assert main([*argv, "--mode", "text+latent"]) == 2
    assert capsys.readouterr().err.endswith(
        "profile 'taef2' has no captioner and mode 'text+latent' is conditioned on the caption: "
        "supply it with --caption TEXT\n"
    )
