"""The bit-error experiment: the flip model, the first-order MSE prediction against measurement,
and what Gray code does to the MSE."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.payload.latent import encode_latent, get_encoding
from semcom.payload.packet import CodecInfo
from semcom.payload.robustness import bit_error_mse, flip_bits, predicted_flip_mse, synthetic_latent


def test_flip_bits_extremes_and_rate() -> None:
    rng = np.random.default_rng(0)
    data = bytes(range(256)) * 40
    assert flip_bits(data, 0.0, rng) == data
    assert flip_bits(data, 1.0, rng) == bytes(b ^ 0xFF for b in data)
    noisy = np.frombuffer(flip_bits(data, 0.1, rng), dtype=np.uint8) ^ np.frombuffer(data, dtype=np.uint8)
    errors = int(np.unpackbits(noisy).sum())
    n = len(data) * 8
    assert abs(errors - 0.1 * n) < 5 * np.sqrt(n * 0.1 * 0.9)
    with pytest.raises(ValueError, match="ber"):
        flip_bits(data, 1.5, rng)


@pytest.mark.parametrize("name", ["int8", "int6", "int4"])
def test_natural_binary_prediction_is_the_closed_form(name: str) -> None:
    x = synthetic_latent((4, 16, 16), "laplace", np.random.default_rng(1))
    p = encode_latent(x, name)
    k = get_encoding(name).bits
    step = (p.quant.hi[0] - p.quant.lo[0]) / (2**k - 1)
    assert predicted_flip_mse(p, 1e-3) == pytest.approx(1e-3 * step**2 * (4**k - 1) / 3, rel=1e-12)


def test_measured_mse_matches_the_first_order_prediction() -> None:
    x = synthetic_latent((4, 32, 32), "gaussian", np.random.default_rng(2))
    results = bit_error_mse(x, ("int8", "int8g", "int4", "int4g"), (3e-3,), trials=24, seed=5)
    for r in results:
        assert r.predicted is not None
        assert r.mse == pytest.approx(r.predicted, rel=0.15), r


def test_gray_code_lowers_mse_for_a_peaked_source_but_not_for_a_flat_one() -> None:
    rng = np.random.default_rng(4)
    gaussian = synthetic_latent((4, 32, 32), "gaussian", rng)
    flat = rng.uniform(-1, 1, (4, 32, 32))
    for bits in ("8", "6", "4"):
        binary_g, gray_g = (predicted_flip_mse(encode_latent(gaussian, f"int{bits}{s}"), 1e-3) for s in ("", "g"))
        binary_f, gray_f = (predicted_flip_mse(encode_latent(flat, f"int{bits}{s}"), 1e-3) for s in ("", "g"))
        assert gray_g < 0.8 * binary_g  # indices near the middle: a Gray MSB flip reflects to a near level
        assert gray_f > binary_f  # uniform indices: natural binary is the better map
    measured = {r.encoding: r.mse for r in bit_error_mse(gaussian, ("int8", "int8g"), (1e-2,), trials=8, seed=9)}
    assert measured["int8g"] < measured["int8"]


def test_quantised_encodings_beat_floats_under_bit_errors() -> None:
    x = synthetic_latent((4, 16, 16), "gaussian", np.random.default_rng(6))
    codec = CodecInfo(valid_min=-8.0, valid_max=8.0)
    results = {r.encoding: r for r in bit_error_mse(x, ("float64", "int8"), (1e-2,), trials=8, seed=3, codec=codec)}
    assert results["float64"].values_sanitised > 0 and results["int8"].values_sanitised == 0
    assert results["int8"].mse < results["float64"].mse
    fill = bit_error_mse(x, ("float64",), (1e-2,), trials=8, seed=3, codec=codec, out_of_range="fill")[0]
    assert fill.mse < results["float64"].mse  # the fill value is nearer than a range bound


def test_experiment_rejects_bad_arguments() -> None:
    x = np.zeros((1, 4))
    with pytest.raises(ValueError, match="trials"):
        bit_error_mse(x, ("int8",), (0.1,), trials=0)
    with pytest.raises(ValueError, match="source"):
        synthetic_latent((2,), "cauchy", np.random.default_rng(0))
    with pytest.raises(ValueError, match="uniform encoding"):
        predicted_flip_mse(encode_latent(x, "float32"), 0.1)
