"""The paper's models at their real sizes, without their weights.

`semcom/models/configs/` keeps the published configuration files of the two hub repositories the
paper profile uses, as data: `stable-diffusion-v1-5/{model_index.json, unet, vae, text_encoder,
tokenizer, scheduler}` and `blip-image-captioning-large/{config, preprocessor_config,
tokenizer_config, special_tokens_map}.json`. From them:

- `meta_parameter_counts()`: every model instantiated on the meta device (no memory, no weights)
  and its parameters counted: UNet 859,520,964, CLIP text 123,060,480, VAE 83,653,863, BLIP-large
  446,290,492 distinct parameters (469,763,448 as a checkpoint stores them: its LM head's decoder
  weight and bias are tied to other tensors and stored again under their own names);
- `write_random_sd15(out)`: a full-size SD v1.5 directory with seeded random weights, in the hub
  layout (`model_index.json`, one subfolder per component) plus a `profile.yaml`, loadable with
  `--profile DIR`. The CLIP tokenizer is the real BPE vocabulary when `clip_bpe` points at
  open_clip's / OpenAI CLIP's `bpe_simple_vocab_16e6.txt.gz` (found by itself when open_clip is
  installed), else a synthetic byte-level BPE of the same size (49,408 tokens).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from semcom.models.tiny import _bytes_to_unicode

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
SD15 = "stable-diffusion-v1-5"
BLIP_LARGE = "blip-image-captioning-large"
CLIP_VOCAB_SIZE = 49408
CLIP_BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"

# Parameter counts of the published architectures (issue 14; UNet/CLIP/VAE as the hub reports them).
EXPECTED_PARAMETERS = {"unet": 859_520_964, "text_encoder": 123_060_480, "vae": 83_653_863}


def published_config(repo: str, name: str) -> dict[str, Any]:
    """A published config file kept in the repository, e.g. ("stable-diffusion-v1-5", "unet/config.json")."""
    return json.loads((CONFIG_DIR / repo / name).read_text(encoding="utf-8"))


def _sd15_builders() -> dict[str, Callable[[], Any]]:
    """SD v1.5's UNet, VAE and CLIP text encoder, each built (untrained) from its published config."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    return {
        "unet": lambda: UNet2DConditionModel.from_config(published_config(SD15, "unet/config.json")),
        "vae": lambda: AutoencoderKL.from_config(published_config(SD15, "vae/config.json")),
        "text_encoder": lambda: CLIPTextModel(
            CLIPTextConfig.from_dict(published_config(SD15, "text_encoder/config.json"))
        ),
    }


def meta_models() -> dict[str, Any]:
    """UNet, VAE, CLIP text encoder and BLIP-large built from the published configs on the meta device."""
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration

    with torch.device("meta"):
        models = {name: build() for name, build in _sd15_builders().items()}
        models["captioner"] = BlipForConditionalGeneration(
            BlipConfig.from_dict(published_config(BLIP_LARGE, "config.json"))
        )
        return models


def parameter_count(model: Any) -> int:
    """Distinct parameters (a tied weight counts once)."""
    return sum(p.numel() for p in model.parameters())


def stored_parameter_count(model: Any) -> int:
    """Parameters as a checkpoint stores them: every state-dict entry that is a parameter, tied ones
    once per name (as the published BLIP checkpoint holds its LM head's decoder weight)."""
    names = {name for name, _ in model.named_parameters(remove_duplicate=False)}
    return sum(t.numel() for name, t in model.state_dict(keep_vars=True).items() if name in names)


def meta_parameter_counts() -> dict[str, int]:
    models = meta_models()
    counts = {name: parameter_count(model) for name, model in models.items()}
    counts["captioner_stored"] = stored_parameter_count(models["captioner"])
    return counts


# ----------------------------------------------------------------------------- CLIP BPE


def find_clip_bpe() -> Path | None:
    """open_clip's bundled CLIP BPE merges file, located without importing open_clip (which pulls
    torchvision); None when open_clip is not installed."""
    spec = importlib.util.find_spec("open_clip")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / CLIP_BPE_NAME
        if path.is_file():
            return path
    return None


def clip_vocabulary(bpe_path: Path | None) -> tuple[dict[str, int], list[str], str]:
    """(vocab, merges, origin) of a CLIP tokenizer with CLIP's 49,408 tokens.

    From `bpe_path` as OpenAI's simple_tokenizer builds it (the 256 byte symbols, the same with
    `</w>`, the first 48,894 merges, then `<|startoftext|>` and `<|endoftext|>`); without a file, a
    synthetic byte-level BPE of the same size (pairs of byte symbols).
    """
    alphabet = list(_bytes_to_unicode().values())
    n_merges = CLIP_VOCAB_SIZE - 2 * len(alphabet) - 2
    if bpe_path is not None:
        with gzip.open(bpe_path) as fh:
            lines = fh.read().decode("utf-8").split("\n")
        merges = lines[1 : n_merges + 1]
        origin = f"CLIP BPE from {bpe_path}"
    else:
        merges = [f"{a} {b}" for a in alphabet for b in alphabet][:n_merges]
        origin = "synthetic byte-level BPE (open_clip not installed; pass --clip-bpe for the real one)"
    tokens = alphabet + [a + "</w>" for a in alphabet] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab: dict[str, int] = {}
    for token in tokens:
        vocab.setdefault(token, len(vocab))
    if len(vocab) != CLIP_VOCAB_SIZE:
        raise ValueError(f"{origin}: {len(vocab)} distinct tokens, expected {CLIP_VOCAB_SIZE}")
    return vocab, merges, origin


def write_clip_tokenizer(out: Path, bpe_path: Path | None) -> str:
    """The legacy (slow) tokenizer files of SD v1.5's `tokenizer/`: vocab.json, merges.txt and the
    published tokenizer_config.json / special_tokens_map.json. Returns the vocabulary's origin."""
    vocab, merges, origin = clip_vocabulary(bpe_path)
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(CONFIG_DIR / SD15 / "tokenizer" / name, out / name)
    return origin


# ----------------------------------------------------------------------------- full-size directory

PROFILE_YAML = """\
# SD v1.5 at its real size with seeded random weights (semcom.models.fullsize.write_random_sd15):
# for timing and memory, not for images. No captioner: supply captions.
name: paper-scale
image_size: 512
preset: {preset}
encoder: {{type: sd-vae, name: sd15-vae, source: ., subfolder: vae, latent_space: sd15}}
diffusion: {{source: ., latent_space: sd15}}
"""


def write_random_sd15(
    out: Path, seed: int = 0, clip_bpe: Path | None = None, preset: str = "authors"
) -> dict[str, Any]:
    """Write SD v1.5's UNet, VAE, CLIP text encoder (seeded random weights, float32 safetensors),
    tokenizer and scheduler in the hub layout to `out`, with `model_index.json` and `profile.yaml`.
    Returns what was written: parameter counts and the tokenizer's origin."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIG_DIR / SD15 / "model_index.json", out / "model_index.json")
    (out / "scheduler").mkdir(exist_ok=True)
    shutil.copyfile(
        CONFIG_DIR / SD15 / "scheduler" / "scheduler_config.json", out / "scheduler" / "scheduler_config.json"
    )
    origin = write_clip_tokenizer(out / "tokenizer", clip_bpe)
    counts: dict[str, int] = {}
    for name, build in _sd15_builders().items():
        torch.manual_seed(seed)
        model = build()
        counts[name] = parameter_count(model)
        model.save_pretrained(out / name)
        del model
    (out / "profile.yaml").write_text(PROFILE_YAML.format(preset=preset), encoding="utf-8")
    return {"path": str(out), "parameters": counts, "tokenizer": origin}
