"""The analog latent in the one pipeline, on the paper's latent shape (tiny profile at 512x512: the
SD VAE's 4x64x64 latent): img2img (text+latent, strength k) and k = 0 decoding act on the LMMSE
estimate exactly as on a received digital latent holding the same values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from semcom.link import analog
from semcom.link.types import ChannelConfig
from semcom.payload.latent import encode_latent
from semcom.pipeline import RoleSeeds, TransmissionRequest
from semcom.pipeline.types import LatentSpec

pytestmark = pytest.mark.slow


def _image() -> Image.Image:
    y, x = np.mgrid[0:512, 0:512]
    return Image.fromarray(np.stack([(x // 2) % 256, (y // 2) % 256, ((x + y) // 4) % 256], -1).astype(np.uint8))


@pytest.mark.parametrize("mode,strength,channel", [("text+latent", 0.5, "rayleigh"), ("latent", 0.0, "awgn")])
def test_paper_shaped_analog_latent_is_diffused_as_its_lmmse_estimate(pipeline, mode, strength, channel) -> None:
    from semcom.models.params import ReconParams

    params = ReconParams(mode=mode, num_inference_steps=4, strength=strength, guidance_scale=3.0)
    request = TransmissionRequest(
        _image(),
        params,
        channel=ChannelConfig(snr_db=8.0, snr_convention="esn0", model=channel, fading_block_length=64),
        latent=LatentSpec(encoding="analog", size=512),
        caption="a colourful gradient",
        seeds=RoleSeeds.derive(24, 0),
    )
    done = pipeline.run(request)
    assert done.sent.latent is not None and done.sent.latent.shape == (4, 64, 64)
    assert done.report.latent_analog and not done.report.latent_dropped
    budget = analog.budget(analog.parse_spec("analog"), (4, 64, 64), len(done.sent.caption))
    assert done.report.total_symbols == budget  # the int8 latent packet's symbols (uncoded 16-QAM caption)
    assert done.mode_used == mode and done.recon.steps_executed == int(4 * strength)
    assert done.recon.image.size == (512, 512)

    # the same reconstruction from a digital (float32, error-free) latent holding the LMMSE estimate
    assert done.received.latent is not None
    estimate = analog.decode_payload(done.received.latent)  # the float path clamps to the codec's range alike
    digital = dataclasses.replace(done.received, latent=encode_latent(estimate, "float32"))
    params = dataclasses.replace(params, seed=done.recon.seed)
    again = pipeline.receive(digital, params, done.report)
    assert np.array_equal(np.asarray(again.image), np.asarray(done.recon.image))


def test_semcom_transmit_prints_es_n0_for_an_analog_latent_and_refuses_bad_specs(tmp_path, capsys) -> None:
    from semcom.cli import main

    path = tmp_path / "g.png"
    y, x = np.mgrid[0:64, 0:64]
    Image.fromarray(np.stack([x * 4, y * 4, (x + y) * 2], -1).astype(np.uint8)).save(path)
    common = ["transmit", str(path), "--profile", "tiny", "--image-size", "64", "--caption", "a gradient"]
    common += ["--mode", "latent", "--strength", "0", "--steps", "2", "--out", str(tmp_path / "out")]
    common += ["--snr-db", "3", "--snr-convention", "esn0", "--seed", "1"]
    capsys.readouterr()
    assert main([*common, "--encoding", "analog:stats=image:est=matched"]) == 0
    line = capsys.readouterr().out
    assert "analog latent in" in line and "Es/N0 3.00 dB" in line and "latent bit errors" not in line
    for spec, fragment in (("analog:sym=0", "sym"), ("softcast", "pixels"), ("analog:scale=2", "semcom eval")):
        assert main([*common, "--encoding", spec]) == 2, spec
        assert fragment in capsys.readouterr().err, spec
