"""Paper scale without weights: the published SD v1.5 and BLIP-large configs (kept as data) give the
published parameter counts on the meta device, and the loaders accept the hub snapshot layout
(model_index.json, fp16 variant files beside the full ones, the legacy vocab.json + merges.txt CLIP
tokenizer, the legacy vocab.txt BLIP tokenizer, preprocessor_config.json), shown by loading the
built-in `paper` profile itself from a Hugging Face cache filled with the tiny profile's weights."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from semcom.loadtest.cluster import free_port  # bound, then released: nothing listens, connections are refused
from semcom.models.fullsize import (
    BLIP_LARGE,
    CLIP_VOCAB_SIZE,
    CONFIG_DIR,
    EXPECTED_PARAMETERS,
    SD15,
    clip_vocabulary,
    meta_parameter_counts,
    write_clip_tokenizer,
)

REPO = Path(__file__).resolve().parents[3]


def test_published_configs_give_the_published_parameter_counts() -> None:
    counts = meta_parameter_counts()
    for name, expected in EXPECTED_PARAMETERS.items():
        assert counts[name] == expected, name
    # BLIP-large: "about 470M" as published = the checkpoint's tensors; its LM head's decoder
    # weight (30,524 x 768) and bias (30,524) are tied, so the distinct count is lower by those
    assert 465e6 < counts["captioner_stored"] < 475e6
    assert counts["captioner_stored"] - counts["captioner"] == 30524 * 768 + 30524


def test_published_files_are_the_hub_layout() -> None:
    index = json.loads((CONFIG_DIR / SD15 / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert {k for k, v in index.items() if isinstance(v, list)} == {
        "feature_extractor",
        "safety_checker",
        "scheduler",
        "text_encoder",
        "tokenizer",
        "unet",
        "vae",
    }
    sched = json.loads((CONFIG_DIR / SD15 / "scheduler" / "scheduler_config.json").read_text())
    assert (sched["_class_name"], sched["steps_offset"], sched["clip_sample"], sched["skip_prk_steps"]) == (
        "PNDMScheduler",
        1,
        False,
        True,
    )
    pre = json.loads((CONFIG_DIR / BLIP_LARGE / "preprocessor_config.json").read_text())
    assert pre["size"] == {"height": 384, "width": 384} and pre["image_processor_type"] == "BlipImageProcessor"


def test_synthetic_clip_tokenizer_has_clips_size(tmp_path) -> None:
    from transformers import CLIPTokenizer

    vocab, merges, origin = clip_vocabulary(None)
    assert len(vocab) == CLIP_VOCAB_SIZE and len(merges) == CLIP_VOCAB_SIZE - 514 and "synthetic" in origin
    write_clip_tokenizer(tmp_path, None)
    assert not (tmp_path / "tokenizer.json").exists()  # the legacy layout
    tok = CLIPTokenizer.from_pretrained(tmp_path)
    ids = tok("a dog runs on the grass", padding="max_length", max_length=77, truncation=True).input_ids
    assert len(ids) == 77 and ids[0] == vocab["<|startoftext|>"] and vocab["<|endoftext|>"] in ids
    assert len(tok) == CLIP_VOCAB_SIZE


# ----------------------------------------------------------------------------- hub snapshot layout


def _bpe_files(tokenizer_json: Path) -> tuple[dict[str, int], list[str]]:
    model = json.loads(tokenizer_json.read_text())["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    return model["vocab"], merges


def _snapshot(cache: Path, repo: str) -> Path:
    """An empty snapshot directory of `repo` in a Hugging Face hub cache, refs/main pointing at it."""
    sha = "0" * 40
    base = cache / "hub" / f"models--{repo.replace('/', '--')}"
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(sha)
    snap = base / "snapshots" / sha
    snap.mkdir(parents=True)
    return snap


def _fp16_variant(src: Path, dst: Path) -> None:
    from safetensors.torch import load_file, save_file

    save_file({k: v.half() for k, v in load_file(src).items()}, dst)


def _fill_cache(tiny_dir: Path, cache: Path) -> None:
    """The tiny profile's weights, laid out exactly as the paper's two hub repositories are."""
    sd = _snapshot(cache, "stable-diffusion-v1-5/stable-diffusion-v1-5")
    shutil.copyfile(CONFIG_DIR / SD15 / "model_index.json", sd / "model_index.json")
    for part, weights in (
        ("unet", "diffusion_pytorch_model"),
        ("vae", "diffusion_pytorch_model"),
        ("text_encoder", "model"),
    ):
        (sd / part).mkdir()
        shutil.copyfile(tiny_dir / part / "config.json", sd / part / "config.json")
        shutil.copyfile(tiny_dir / part / f"{weights}.safetensors", sd / part / f"{weights}.safetensors")
        _fp16_variant(tiny_dir / part / f"{weights}.safetensors", sd / part / f"{weights}.fp16.safetensors")
    (sd / "scheduler").mkdir()
    shutil.copyfile(
        CONFIG_DIR / SD15 / "scheduler" / "scheduler_config.json", sd / "scheduler" / "scheduler_config.json"
    )
    (sd / "tokenizer").mkdir()
    vocab, merges = _bpe_files(tiny_dir / "tokenizer" / "tokenizer.json")
    (sd / "tokenizer" / "vocab.json").write_text(json.dumps(vocab))
    (sd / "tokenizer" / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(CONFIG_DIR / SD15 / "tokenizer" / name, sd / "tokenizer" / name)

    blip = _snapshot(cache, "Salesforce/blip-image-captioning-large")
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(tiny_dir / "captioner" / name, blip / name)
    words = json.loads((tiny_dir / "captioner" / "tokenizer.json").read_text())["model"]["vocab"]
    (blip / "vocab.txt").write_text("\n".join(sorted(words, key=words.get)) + "\n")
    tok_cfg = json.loads((CONFIG_DIR / BLIP_LARGE / "tokenizer_config.json").read_text())
    tok_cfg["model_max_length"] = 64
    (blip / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    special = json.loads((CONFIG_DIR / BLIP_LARGE / "special_tokens_map.json").read_text())
    special.pop("additional_special_tokens")  # the tiny vocabulary has no [ENC]
    (blip / "special_tokens_map.json").write_text(json.dumps(special))
    pre = json.loads((CONFIG_DIR / BLIP_LARGE / "preprocessor_config.json").read_text())
    pre["size"] = {"height": 32, "width": 32}  # the tiny BLIP's image size
    (blip / "preprocessor_config.json").write_text(json.dumps(pre))


CHECK = r"""
import json, sys, numpy as np, torch
from PIL import Image
from safetensors.torch import load_file
from semcom.models import ReconParams, load_profile
torch.set_num_threads(1)
models = load_profile("paper", device="cpu", dtype="float32")
image = Image.fromarray((np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3))
packet = models.sender().encode(image, size=64, seed=0)                       # BLIP caption: no caption given
result = models.receiver().reconstruct(packet, ReconParams(mode="text+latent", num_inference_steps=4, seed=0))
unet = models.diffusion().unet
full = load_file(sys.argv[1])
name = next(iter(full))
print(json.dumps({"caption": packet.caption.decode(), "steps": result.steps_executed, "preset": result.preset_used,
                  "size": list(result.image.size), "captioner_calls": models.captioner().calls,
                  "full_weights": bool(torch.equal(unet.state_dict()[name], full[name])),
                  "tokenizer": type(models.diffusion().tokenizer).__name__}))
"""


@pytest.mark.parametrize("offline", ["HF_HUB_OFFLINE=1", "hub unreachable"])
def test_paper_profile_loads_the_hub_snapshot_layout(tiny_dir, tmp_path, offline) -> None:
    """From the cache alone: with HF_HUB_OFFLINE=1, or with the hub unreachable (an endpoint on a
    closed loopback port), which the loaders detect up front and then search the cache only."""
    cache = tmp_path / "hf"
    _fill_cache(tiny_dir, cache)
    env = {
        **os.environ,
        "HF_HOME": str(cache),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("HF_HUB_CACHE", None)
    if offline == "HF_HUB_OFFLINE=1":
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env.pop("HF_HUB_OFFLINE", None)
        env["HF_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(tiny_dir / "unet" / "diffusion_pytorch_model.safetensors")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["steps"] == 2 and out["preset"] == "authors" and out["size"] == [64, 64]
    assert out["captioner_calls"] == 1 and out["caption"]  # BLIP ran from the legacy layout
    assert out["full_weights"]  # the float32 files, not the fp16 variants beside them
    assert out["tokenizer"] == "CLIPTokenizer"


@pytest.mark.parametrize("part", ["unet", "text_encoder"])
def test_fp16_variant_files_are_loadable(tiny_dir, tmp_path, part) -> None:
    """A snapshot holding only fp16 variant weights loads with variant="fp16"."""
    import torch

    weights = "diffusion_pytorch_model" if part == "unet" else "model"
    (tmp_path / part).mkdir()
    shutil.copyfile(tiny_dir / part / "config.json", tmp_path / part / "config.json")
    _fp16_variant(tiny_dir / part / f"{weights}.safetensors", tmp_path / part / f"{weights}.fp16.safetensors")
    if part == "unet":
        from diffusers import UNet2DConditionModel as cls
    else:
        from transformers import CLIPTextModel as cls
    model = cls.from_pretrained(
        tmp_path / part,
        variant="fp16",
        **({"torch_dtype": torch.float16} if part == "unet" else {"dtype": torch.float16}),
    )
    assert next(model.parameters()).dtype == torch.float16
