"""ReconParams validation and the SNR-adaptive strength policy."""

from __future__ import annotations

import math

import pytest

from semcom.models import ReconParams, adaptive_strength


def test_defaults_are_the_papers() -> None:
    p = ReconParams()
    assert (p.mode, p.num_inference_steps, p.strength) == ("auto", 50, 0.6)
    assert p.denoise_steps() == 30  # int(50 * 0.6)
    # guidance and preset unset: the preset's guidance (9 = the paper's; 7.5 text-only under
    # `authors`), the profile's preset
    assert (p.guidance_scale, p.preset) == (None, None)
    from semcom.models.presets import PRESETS

    assert {name: (pr.guidance("text+latent"), pr.guidance("text")) for name, pr in PRESETS.items()} == {
        "authors": (9.0, 7.5),
        "paper-text": (9.0, 9.0),
        "diffusers": (9.0, 9.0),
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "img2img"},
        {"num_inference_steps": 0},
        {"num_inference_steps": 1001},
        {"num_inference_steps": 2.5},
        {"num_inference_steps": True},
        {"strength": -0.1},
        {"strength": 1.01},
        {"strength": math.nan},
        {"guidance_scale": -1.0},
        {"guidance_scale": math.inf},
        {"guidance_scale": 51.0},
        {"seed": -1},
        {"seed": 2**64},
        {"seed": True},
        {"seed": 1.5},
        {"preset": "ldm"},
        {"preset": ""},
        {"preset": 1},
    ],
)
def test_invalid_params_raise_value_error(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ReconParams(**kwargs)


@pytest.mark.parametrize("steps,strength,k", [(50, 0.6, 30), (50, 0.0, 0), (50, 1.0, 50), (10, 0.55, 5), (7, 0.99, 6)])
def test_denoise_steps_follow_diffusers_rule(steps: int, strength: float, k: int) -> None:
    assert ReconParams(num_inference_steps=steps, strength=strength).denoise_steps() == k


def test_float32_strength_from_the_wire_keeps_its_step_count() -> None:
    import numpy as np

    for steps, strength, k in [(50, 0.02, 1), (50, 0.6, 30), (50, 0.1, 5), (10, 0.3, 3), (50, 0.7, 35)]:
        wire = float(np.float32(strength))  # what a proto float field carries
        assert ReconParams(num_inference_steps=steps, strength=wire).denoise_steps() == k, (steps, strength)
    assert int(50 * float(np.float32(0.02))) == 0  # what plain int() would give


def test_adaptive_strength_is_monotone_and_clamped() -> None:
    assert adaptive_strength(-20.0) == adaptive_strength(5.0) == pytest.approx(0.8)
    assert adaptive_strength(30.0) == adaptive_strength(10.0) == pytest.approx(0.4)
    assert adaptive_strength(7.5) == pytest.approx(0.6)
    grid = [adaptive_strength(s) for s in (4.0, 5.0, 6.25, 7.5, 8.75, 10.0, 11.0)]
    assert all(a >= b for a, b in zip(grid, grid[1:]))
    assert adaptive_strength(math.nan) == pytest.approx(0.8)


def test_max_steps_fits_the_sd_ddim_schedule():
    """MAX_STEPS must give only valid timesteps with SD v1.5's scheduler settings (the paper's)."""
    from diffusers import DDIMScheduler

    from semcom.models.params import MAX_STEPS

    sched = DDIMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        set_alpha_to_one=False,
        clip_sample=False,
    )
    sched.set_timesteps(MAX_STEPS)
    assert int(sched.timesteps.max()) < sched.config.num_train_timesteps
    sched.set_timesteps(MAX_STEPS + 1)
    assert int(sched.timesteps.max()) >= sched.config.num_train_timesteps  # why the cap is where it is
