"""TAEF2 network: layer indices match the published state dicts; loading from .pth/.safetensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from semcom.models import IncompatibleLatentError
from semcom.models.taef2 import TAEF2, build_decoder, build_encoder


def test_published_weights_load_strictly(taef2_dir: Path) -> None:
    for name, net in (("taef2_encoder.pth", build_encoder()), ("taef2_decoder.pth", build_decoder())):
        state = torch.load(taef2_dir / name, map_location="cpu", weights_only=True)
        result = net.load_state_dict(state, strict=True)
        assert not result.missing_keys and not result.unexpected_keys


def test_shapes_and_safetensors_round_trip(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = TAEF2().eval()
    save_file(model.encoder.state_dict(), tmp_path / "taef2_encoder.safetensors")
    save_file(model.decoder.state_dict(), tmp_path / "taef2_decoder.safetensors")
    loaded = TAEF2.from_pretrained(str(tmp_path))
    x = torch.rand(2, 3, 64, 48)
    with torch.no_grad():
        z = loaded.encoder(x)
        y = loaded.decoder(z)
        assert torch.equal(z, model.encoder(x))
    assert z.shape == (2, 32, 8, 6)
    assert y.shape == (2, 3, 64, 48)


PHOTOS = 4


@pytest.mark.slow
@pytest.mark.shared
def test_taef2_round_trip_ssim_on_photos(taef2_dir: Path, flickr_dir: Path) -> None:
    """Real weights, real photos, through the project's own path: a user profile with the TAEF2
    codec, Sender.encode (float64), Receiver.reconstruct in k = 0 decode, no channel noise."""
    from PIL import Image
    from skimage.metrics import structural_similarity

    from semcom.models import ReconParams, load_profile

    models = load_profile({"name": "taef2", "encoder": {"type": "taef2", "name": "taef2", "source": str(taef2_dir)}})
    sender, receiver = models.sender(), models.receiver()
    scores = []
    for path in sorted((flickr_dir / "images").glob("*.jpg"))[:PHOTOS]:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        packet = sender.encode(image, caption="", size=512)
        assert packet.latent.shape == (32, 64, 64) and packet.codec.name == "taef2"
        result = receiver.reconstruct(packet, ReconParams())  # auto: TAEF2 latent -> k = 0 decode
        assert (result.mode_used, result.steps_executed, result.values_sanitised) == ("latent", 0, 0)
        ref = np.asarray(image.resize((512, 512), Image.Resampling.LANCZOS), dtype=np.float64) / 255
        out = np.asarray(result.image, dtype=np.float64) / 255
        scores.append(structural_similarity(ref, out, channel_axis=2, data_range=1))
    assert np.mean(scores) >= 0.85, scores
    # a TAEF2-only profile has no UNet: every diffusion mode is refused with a clear ValueError
    with pytest.raises(ValueError, match="no diffusion model"):
        receiver.reconstruct(packet, ReconParams(mode="text"))
    with pytest.raises(IncompatibleLatentError, match="k = 0"):
        receiver.reconstruct(packet, ReconParams(mode="text+latent"))
