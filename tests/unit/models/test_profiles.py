"""Profiles: parsing, building the tiny one on first use, loading offline, and the one clean
error for missing weights (in-process and through the CLI, with HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from semcom.models import ModelNotAvailableError, ProfileError, load_profile
from semcom.models.spec import parse_profile

REPO = Path(__file__).resolve().parents[3]


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "semcom", *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=300
    )


def test_tiny_profile_is_built_on_first_use(tiny_dir: Path, tiny_cache: Path) -> None:
    assert tiny_dir.is_relative_to(tiny_cache)
    for part in ("captioner", "vae", "unet", "text_encoder", "tokenizer", "scheduler"):
        assert (tiny_dir / part).is_dir(), part
    spec = yaml.safe_load((tiny_dir / "profile.yaml").read_text())
    assert spec["name"] == "tiny"


def test_tiny_uses_the_papers_component_classes(tiny) -> None:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import BlipForConditionalGeneration, CLIPTextModel

    diffusion = tiny.diffusion()
    assert isinstance(diffusion.unet, UNet2DConditionModel)
    assert isinstance(diffusion.text_encoder, CLIPTextModel)
    assert isinstance(diffusion.new_scheduler(), DDIMScheduler)
    assert isinstance(tiny.encoder().model, AutoencoderKL)
    assert tiny.encoder() is tiny.decoder()  # one VAE serves both ends
    assert isinstance(tiny.captioner().model, BlipForConditionalGeneration)


def test_paper_profile_spec() -> None:
    spec = load_profile("paper").spec  # resolving loads no weights
    assert spec.captioner.source.ref == "Salesforce/blip-image-captioning-large"
    assert (spec.encoder.type, spec.encoder.source.subfolder) == ("sd-vae", "vae")
    assert spec.diffusion.source.ref == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert spec.image_size == 512


@pytest.mark.parametrize(
    "data,match",
    [
        ({}, "encoder"),
        ({"encoder": "x", "colour": 1}, "unknown profile keys"),
        ({"encoder": {"type": "jpeg", "source": "x"}}, "codec type"),
        ({"encoder": {"type": "sd-vae"}}, "source"),
        ({"encoder": "x", "image_size": 500}, "multiple of 64"),
        ({"encoder": {"source": "x", "valid_range": [3, 1]}}, "lo < hi"),
        ({"encoder": "x", "captioner": {"source": "y", "generation": {"beams": 3}}}, "generation"),
    ],
)
def test_bad_profiles_raise_profile_error(data: dict, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        parse_profile(data)


def test_unknown_profile_name() -> None:
    with pytest.raises(ProfileError, match="unknown profile"):
        load_profile("no-such-profile-anywhere")


def test_yaml_profile_resolves_relative_paths(tmp_path: Path, tiny_dir: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump({"name": "mine", "encoder": {"type": "taef2", "source": "./weights"}, "image_size": 256})
    )
    spec = load_profile(tmp_path / "p.yaml").spec
    assert spec.encoder.source.ref == str(tmp_path / "weights")
    assert spec.decoder == spec.encoder and spec.diffusion is None and spec.captioner is None


def test_missing_local_directory_fails_fast_with_advice(tmp_path: Path, photo: Image.Image) -> None:
    models = load_profile({"encoder": {"type": "sd-vae", "source": str(tmp_path / "nowhere")}})
    with pytest.raises(ModelNotAvailableError) as info:
        models.sender().encode(photo, caption="x", size=64)
    message = str(info.value)
    assert "nowhere" in message and "semcom models build-tiny" in message
    exc = info.value  # no chained library traceback under the message
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def test_incomplete_local_directory(tmp_path: Path, photo: Image.Image) -> None:
    (tmp_path / "vae").mkdir()  # exists, but holds no config or weights
    models = load_profile({"encoder": {"type": "sd-vae", "source": str(tmp_path), "subfolder": "vae"}})
    with pytest.raises(ModelNotAvailableError, match="image codec"):
        models.sender().encode(photo, caption="x", size=64)


def test_malformed_hub_id_is_a_clean_error(photo: Image.Image) -> None:
    models = load_profile({"encoder": {"type": "taesd", "source": "not a//valid id"}})
    with pytest.raises(ModelNotAvailableError, match="semcom models download"):
        models.sender().encode(photo, caption="x", size=64)


def test_cli_missing_hub_weights_offline(tmp_path: Path, photo: Image.Image) -> None:
    """A bogus hub id with HF_HUB_OFFLINE=1: exit 3, one readable message, no traceback."""
    photo.save(tmp_path / "p.png")
    (tmp_path / "bogus.yaml").write_text(
        yaml.safe_dump({"name": "bogus", "encoder": {"type": "sd-vae", "source": "semcom-test/no-such-model"}})
    )
    proc = _cli(
        [
            "transmit",
            str(tmp_path / "p.png"),
            "--profile",
            str(tmp_path / "bogus.yaml"),
            "--caption",
            "x",
            "--out",
            str(tmp_path / "out"),
        ],
        HF_HOME=str(tmp_path / "hf"),
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "semcom-test/no-such-model" in proc.stderr
    assert "HF_HUB_OFFLINE=1 is set" in proc.stderr and "semcom models download --profile bogus" in proc.stderr
    assert str(tmp_path / "hf") in proc.stderr  # the cache HF_HOME points at


def test_cli_transmit_from_local_profile_offline(tmp_path: Path, tiny_dir: Path, photo: Image.Image) -> None:
    """The whole chain (sender -> link -> receiver) from a profile directory with HF_HUB_OFFLINE=1."""
    photo.save(tmp_path / "p.png")
    proc = _cli(
        [
            "transmit",
            str(tmp_path / "p.png"),
            "--profile",
            str(tiny_dir),
            "--caption",
            "a red disc",
            "--image-size",
            "64",
            "--steps",
            "4",
            "--strength",
            "0.5",
            "--seed",
            "0",
            "--snr-db",
            "10",
            "--latent-policy",
            "always",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    (record,) = json.loads(proc.stdout)
    assert record["mode_used"] == "text+latent" and record["steps_executed"] == 2
    assert record["caption_sent"] == "a red disc"
    assert record["report"]["latent"]["bits"] == 4 * 8 * 8 * 64
    with Image.open(tmp_path / "out" / "p.png") as image:
        assert image.size == (64, 64)
    from semcom.pipeline import RoleSeeds

    record = json.loads((tmp_path / "out" / "p.json").read_text())
    seeds = RoleSeeds.derive(0, 0)  # --seed 0, image 0: independent per-role seeds
    assert record["seed"] == seeds.receiver and record["seeds"] == seeds.as_dict()
    assert len({seeds.sender, seeds.channel, seeds.receiver}) == 3


def test_cli_models_list_json(tiny_cache: Path, tiny_dir: Path) -> None:
    proc = _cli(["models", "list", "--json"], SEMCOM_CACHE_DIR=str(tiny_cache))
    assert proc.returncode == 0, proc.stderr
    profiles = {p["name"]: p for p in json.loads(proc.stdout)}
    assert profiles["tiny"]["built"] is True
    parts = {c["component"] for c in profiles["paper"]["components"]}
    assert parts == {"captioner", "encoder", "unet", "text_encoder", "tokenizer", "scheduler"}
