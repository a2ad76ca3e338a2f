"""The tiny profile: the paper's component classes with small configs and seeded random weights.

Built locally, no download: BlipForConditionalGeneration (+ BlipProcessor with a BERT WordPiece
tokenizer), AutoencoderKL, UNet2DConditionModel, CLIPTextModel (+ a byte-level CLIPTokenizer) and a
DDIMScheduler with SD v1.5's noise schedule. Tokenizer vocabularies are written as vocab files
(vocab.txt; vocab.json + merges.txt), loaded with `from_pretrained` and saved with
`save_pretrained`, so the tiny profile loads through exactly the code real weights use. The images
are meaningless; shapes, step counts, seeds, batching and the channel path are all real.

Layout (the SD repository layout): <dir>/{profile.yaml, captioner, vae, unet, text_encoder,
tokenizer, scheduler}.
"""

from __future__ import annotations

import json
import shutil
import string
import tempfile
from pathlib import Path

from semcom import config

TINY_VERSION = "v1"  # bump when the builder changes so caches rebuild
SEED = 0
BLIP_IMAGE_SIZE = 32
LATENT_CHANNELS = 4
VAE_CHANNELS = (8, 16, 32, 32)  # 4 levels: 1/8 resolution, 4x64x64 latents at 512 like SD v1.5
TEXT_HIDDEN = 32
CLIP_CONTEXT = 77

PROFILE_YAML = f"""\
# The tiny profile ({TINY_VERSION}): random weights, real component classes. Built by
# `semcom models build-tiny`; every source is this directory (relative paths).
name: tiny
image_size: 512
captioner:
  source: ./captioner
  generation: {{max_new_tokens: 12, num_beams: 1, do_sample: false}}
encoder:
  type: sd-vae
  name: tiny-vae
  source: .
  subfolder: vae
  latent_space: tiny
  valid_range: [-5, 5]
diffusion:
  source: .
  latent_space: tiny
"""


def default_dir() -> Path:
    return Path(str(config.get("SEMCOM_CACHE_DIR"))).expanduser() / "profiles" / f"tiny-{TINY_VERSION}"


def ensure_tiny_profile(directory: Path | None = None) -> Path:
    """The tiny profile's directory, building it first if it is missing."""
    target = directory or default_dir()
    if not (target / "profile.yaml").is_file():
        build_tiny_profile(target)
    return target


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable unicode map (the byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def _clip_tokenizer(out: Path) -> dict[str, int]:
    """Byte-level CLIP tokenizer: every byte, alone and word-final, plus a few merges; returns vocab."""
    from transformers import CLIPTokenizer

    alphabet = list(_bytes_to_unicode().values())
    tokens = alphabet + [a + "</w>" for a in alphabet]
    merges = ["t h", "th e</w>", "a n", "o n</w>", "i n", "r e"]
    tokens += ["th", "the</w>", "an", "on</w>", "in", "re"]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
        (src / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
        tokenizer = CLIPTokenizer.from_pretrained(src, model_max_length=CLIP_CONTEXT)
        tokenizer.save_pretrained(out)
    return {t: i for i, t in enumerate(tokens)}


def _bert_tokenizer(out: Path) -> dict[str, int]:
    """Character-level WordPiece vocab (BLIP's BERT tokenizer with its [DEC] token); returns vocab."""
    from transformers import BertTokenizer

    chars = string.ascii_lowercase + string.digits + string.punctuation
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars), "[DEC]"]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
        tokenizer = BertTokenizer.from_pretrained(tmp, bos_token="[DEC]", model_max_length=64)
        tokenizer.save_pretrained(out)
    return {t: i for i, t in enumerate(tokens)}


def build_tiny_profile(directory: Path | None = None) -> Path:
    """Write the tiny profile to `directory` (default: SEMCOM_CACHE_DIR/profiles/tiny-v1).

    Built in a temporary sibling directory and moved into place, so concurrent builders never
    see a half-written profile.
    """
    import torch

    # From their modules: under TYPE_CHECKING `diffusers/__init__.py` re-exports the torch-less
    # placeholder classes (utils.dummy_pt_objects), which have no save_pretrained.
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.schedulers.scheduling_ddim import DDIMScheduler
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessorPil,
        BlipProcessor,
        BlipTextConfig,
        BlipVisionConfig,
        CLIPTextConfig,
        CLIPTextModel,
    )

    target = directory or default_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        # --- tokenizers -------------------------------------------------------------------
        clip_vocab = _clip_tokenizer(tmp / "tokenizer")
        bert_vocab = _bert_tokenizer(tmp / "captioner")

        # --- captioner: BLIP -----------------------------------------------------------------
        torch.manual_seed(SEED)
        blip = BlipForConditionalGeneration(
            BlipConfig(
                text_config=BlipTextConfig(
                    vocab_size=len(bert_vocab),
                    hidden_size=TEXT_HIDDEN,
                    encoder_hidden_size=TEXT_HIDDEN,
                    intermediate_size=37,
                    num_hidden_layers=2,
                    num_attention_heads=4,
                    max_position_embeddings=64,
                    bos_token_id=bert_vocab["[DEC]"],
                    pad_token_id=bert_vocab["[PAD]"],
                    sep_token_id=bert_vocab["[SEP]"],
                    eos_token_id=bert_vocab["[SEP]"],
                ).to_dict(),
                vision_config=BlipVisionConfig(
                    hidden_size=TEXT_HIDDEN,
                    intermediate_size=37,
                    num_hidden_layers=2,
                    num_attention_heads=4,
                    image_size=BLIP_IMAGE_SIZE,
                    patch_size=8,
                ).to_dict(),
                projection_dim=TEXT_HIDDEN,
            )
        )
        blip.save_pretrained(tmp / "captioner")
        tokenizer = BertTokenizer.from_pretrained(tmp / "captioner")
        image_processor = BlipImageProcessorPil(size={"height": BLIP_IMAGE_SIZE, "width": BLIP_IMAGE_SIZE})
        BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(tmp / "captioner")

        # --- image codec: AutoencoderKL ------------------------------------------------------
        torch.manual_seed(SEED)
        AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * len(VAE_CHANNELS),
            up_block_types=("UpDecoderBlock2D",) * len(VAE_CHANNELS),
            block_out_channels=VAE_CHANNELS,
            layers_per_block=1,
            latent_channels=LATENT_CHANNELS,
            norm_num_groups=8,
            sample_size=64,
            scaling_factor=0.18215,
            mid_block_add_attention=False,
        ).save_pretrained(tmp / "vae")

        # --- denoiser: UNet2DConditionModel + CLIP text encoder ---------------------------------
        torch.manual_seed(SEED)
        UNet2DConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=64,
            in_channels=LATENT_CHANNELS,
            out_channels=LATENT_CHANNELS,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=TEXT_HIDDEN,
            attention_head_dim=8,
            norm_num_groups=32,
        ).save_pretrained(tmp / "unet")
        torch.manual_seed(SEED)
        CLIPTextModel(
            CLIPTextConfig(
                vocab_size=len(clip_vocab),
                hidden_size=TEXT_HIDDEN,
                intermediate_size=37,
                num_hidden_layers=3,
                num_attention_heads=4,
                max_position_embeddings=CLIP_CONTEXT,
                bos_token_id=clip_vocab["<|startoftext|>"],
                eos_token_id=clip_vocab["<|endoftext|>"],
                pad_token_id=clip_vocab["<|endoftext|>"],
            )
        ).save_pretrained(tmp / "text_encoder")

        # --- scheduler: DDIM with SD v1.5's noise schedule -------------------------------------
        DDIMScheduler(
            num_train_timesteps=1000,
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            clip_sample=False,
            set_alpha_to_one=False,
            steps_offset=1,
            prediction_type="epsilon",
        ).save_pretrained(tmp / "scheduler")

        (tmp / "profile.yaml").write_text(PROFILE_YAML, encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the profile is a shared cache
        if target.exists():
            shutil.rmtree(target)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: keep its build
            if not (target / "profile.yaml").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
