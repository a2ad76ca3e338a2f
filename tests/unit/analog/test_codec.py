"""The analog codec: transform, budget, energy, the LMMSE estimator against its closed form,
metadata checks and the variant grammar."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from semcom.analog import AnalogCodec, AnalogSpec, AnalogStats, transform
from semcom.analog import stats as analog_stats
from semcom.phy.analog import analog_channel


def _smooth(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).cumsum(axis=1).cumsum(axis=2).astype(np.float32) / 8


def _stats(shape=(4, 16, 16), chunk=4, seed=1):
    samples = np.stack([_smooth(shape, seed + i) for i in range(8)])
    return analog_stats.fit(samples, "analog", chunk, "pca", {"images": ["a.png"]})


def test_dct_is_orthonormal_and_the_transform_inverts():
    d = transform.dct_matrix(16)
    assert np.allclose(d @ d.T, np.eye(16))
    x = _smooth((3, 32, 16))
    for channel in (np.eye(3), transform.YCBCR):
        back = transform.inverse(transform.forward(x, channel), np.linalg.inv(channel))
        assert np.allclose(back, x, atol=1e-9)
    c = transform.forward(x, np.eye(3))
    assert np.array_equal(transform.from_chunks(transform.to_chunks(c, 8), c.shape, 8), c)


@pytest.mark.parametrize("stats_mode", ["fit", "image"])
@pytest.mark.parametrize("n_symbols", [1, 37, 200, 512, 1500])  # 512 symbols = every value; 1500 repeats
def test_symbols_equal_the_budget_at_unit_average_energy(stats_mode, n_symbols):
    x = _smooth((4, 16, 16), 5)
    codec = AnalogCodec.for_spec(
        f"analog:stats={stats_mode}", source_shape=x.shape, stats=_stats() if stats_mode == "fit" else None
    )
    frame = codec.encode(x, n_symbols)
    assert frame.symbols.shape == (n_symbols,) and frame.symbols.dtype == np.complex64
    assert np.mean(np.abs(frame.symbols.astype(np.complex128)) ** 2) == pytest.approx(1.0, rel=1e-5)
    assert len(frame.meta) == codec.meta_size and frame.shape == x.shape
    clean = codec.decode(frame.symbols, frame.meta, noise_var=0.0)
    assert clean.shape == x.shape and clean.dtype == np.float32
    if n_symbols >= 512:  # every value sent: a noiseless channel returns the source
        assert np.allclose(clean, x, atol=1e-4)


def test_lmmse_mse_equals_its_closed_form_on_gaussian_sources():
    """Coefficients drawn N(mean, var) per chunk: the measured per-value MSE is the closed form
    λσ²/(σ² + λ a²) (and λ for values not sent), within the sampling error."""
    shape, chunk = (4, 16, 16), 4
    stats = _stats(shape, chunk)
    codec = AnalogCodec.for_spec("analog:stats=fit", source_shape=shape, stats=stats)
    rng = np.random.default_rng(7)
    n_symbols, esn0_db = 300, 3.0  # 600 of 1024 values: some chunks dropped
    inv = np.linalg.inv(stats.channel)
    sq = np.zeros(codec.n_chunks)
    trials = 400
    for _ in range(trials):
        coeffs = stats.mean[:, None] + np.sqrt(stats.var)[:, None] * rng.standard_normal((codec.n_chunks, 16))
        x = transform.inverse(transform.from_chunks(coeffs, shape, chunk), inv)
        frame = codec.encode(x, n_symbols)
        y, gains, n0 = analog_channel(frame.symbols, esn0_db, rng)
        estimate = codec.decode(y, frame.meta, noise_var=n0, gains=gains)
        got = transform.to_chunks(transform.forward(estimate.astype(np.float64), stats.channel), chunk)
        sq += np.mean((got - coeffs) ** 2, axis=1)
    measured, closed = sq / trials, codec.mse(n_symbols, 10 ** (-esn0_db / 10))
    assert measured.sum() == pytest.approx(closed.sum(), rel=0.05)
    strong = stats.var > np.quantile(stats.var, 0.5)
    assert np.allclose(measured[strong], closed[strong], rtol=0.25)


def test_matched_estimate_keeps_the_prior_variance():
    shape, chunk = (4, 16, 16), 4
    stats = _stats(shape, chunk)
    codec = AnalogCodec.for_spec("analog:est=matched", source_shape=shape, stats=stats)
    rng = np.random.default_rng(3)
    inv = np.linalg.inv(stats.channel)
    got = []
    for _ in range(200):
        coeffs = stats.mean[:, None] + np.sqrt(stats.var)[:, None] * rng.standard_normal((codec.n_chunks, 16))
        frame = codec.encode(transform.inverse(transform.from_chunks(coeffs, shape, chunk), inv), 512)
        y, _, n0 = analog_channel(frame.symbols, 0.0, rng)
        estimate = codec.decode(y, frame.meta, noise_var=n0)
        got.append(transform.to_chunks(transform.forward(estimate.astype(np.float64), stats.channel), chunk))
    var = np.var(np.stack(got), axis=(0, 2))
    strong = stats.var > np.quantile(stats.var, 0.5)
    assert np.allclose(var[strong], stats.var[strong], rtol=0.2)


def test_rayleigh_receiver_uses_the_gains():
    x = _smooth((4, 16, 16), 3)
    codec = AnalogCodec.for_spec("analog", source_shape=x.shape, stats=_stats())
    frame = codec.encode(x, 400)
    rng = np.random.default_rng(0)
    y, gains, n0 = analog_channel(frame.symbols, 15.0, rng, fading="rayleigh", block_length=16)
    good = codec.decode(y, frame.meta, noise_var=n0, gains=gains)
    blind = codec.decode(y, frame.meta, noise_var=n0, gains=None)
    assert np.mean((good - x) ** 2) < 0.5 * np.mean((blind - x) ** 2)


def test_bad_metadata_is_refused():
    shape = (4, 16, 16)
    fit = AnalogCodec.for_spec("analog", source_shape=shape, stats=_stats())
    image = AnalogCodec.for_spec("analog:stats=image", source_shape=shape)
    frame = image.encode(_smooth(shape), 100)
    with pytest.raises(ValueError, match="needs 4"):
        fit.validate_meta(b"\x00" * 5, 10)
    with pytest.raises(ValueError, match="energy scale"):
        fit.validate_meta(np.float32(np.nan).tobytes(), 10)
    with pytest.raises(ValueError, match="energy scale"):
        fit.validate_meta(np.float32(0).tobytes(), 10)
    bad = bytearray(frame.meta)
    bad[4:6] = np.float16(np.inf).tobytes()
    with pytest.raises(ValueError, match="chunk mean"):
        image.validate_meta(bytes(bad), 100)
    with pytest.raises(ValueError, match="positive integer"):
        fit.encode(_smooth(shape), 0)
    with pytest.raises(ValueError, match="source shape"):
        fit.encode(_smooth((4, 8, 8)), 10)


def test_stats_round_trip_and_held_out_choice(tmp_path, monkeypatch):
    st = _stats()
    back = AnalogStats.load(st.save(tmp_path / "analog_4x16x16_all.npz"))
    assert back.id == st.id and back.images == ("a.png",)
    other = analog_stats.fit(np.stack([_smooth((4, 16, 16), 40)]), "analog", 4, "pca", {"images": ["b.png", "c.png"]})
    other.save(tmp_path / "analog_4x16x16_fold.npz")
    monkeypatch.setattr(analog_stats, "DATA_DIR", tmp_path)
    analog_stats._load_cached.cache_clear()
    assert analog_stats.packaged("analog", (4, 16, 16)).images == ("b.png", "c.png")  # the most photos
    assert analog_stats.packaged("analog", (4, 16, 16), exclude="b.png").images == ("a.png",)  # held out
    assert analog_stats.packaged("analog", (4, 16, 16), exclude="zz.png").images == ("b.png", "c.png")
    with pytest.raises(ValueError, match="no shipped analog statistics"):
        AnalogCodec.for_spec("analog:stats=fit", source_shape=(4, 32, 32))
    assert AnalogCodec.for_spec("analog", source_shape=(4, 8, 8)).per_image_stats  # auto: per image


def test_shipped_statistics_cover_taef2_and_pixels():
    for scheme, shape in (("analog", (32, 64, 64)), ("softcast", (3, 512, 512))):
        files = analog_stats.packaged_files(scheme, shape)
        assert len(files) == 3
        folds = [analog_stats.AnalogStats.load(p) for p in files if "fold" in p.name]
        assert not set(folds[0].images) & set(folds[1].images)


@pytest.mark.parametrize(
    ("text", "spec", "frac", "sym"),
    [
        ("analog", "analog", None, None),
        ("ANALOG:frac=1/4", "analog:frac=1/4", Fraction(1, 4), None),
        ("analog:frac=0.25", "analog:frac=1/4", Fraction(1, 4), None),
        ("softcast:sym=16384:stats=fit", "softcast:sym=16384:stats=fit", None, 16384),
        ("analog:budget=float16", "analog:budget=float16", None, None),
        ("analog:frac=1/400", "analog:frac=1/400", Fraction(1, 400), None),
        ("analog:scale=2:est=matched:frac=1/16", "analog:frac=1/16:est=matched:scale=2", Fraction(1, 16), None),
    ],
)
def test_variant_syntax_round_trips(text, spec, frac, sym):
    parsed = AnalogSpec.parse(text)
    assert parsed.spec == spec and parsed.frac == frac and parsed.sym == sym
    assert AnalogSpec.parse(parsed.spec) == parsed


def test_budgets_in_channel_symbols():
    assert AnalogSpec.parse("analog:frac=1/4").symbols(int8_symbols=262144) == 65536
    assert AnalogSpec.parse("analog:frac=1/16").symbols(int8_symbols=262144) == 16384
    assert AnalogSpec.parse("softcast:frac=1/400").symbols(int8_symbols=262144) == 655
    assert AnalogSpec.parse("analog:sym=123").symbols(int8_symbols=262144) == 123
    assert AnalogSpec.parse("analog").symbols(int8_symbols=1, enc_symbols=lambda enc: {"int8": 999}[enc]) == 999
    with pytest.raises(ValueError, match="needs enc_symbols"):
        AnalogSpec.parse("analog").symbols(int8_symbols=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("analog:frac=0", r"frac must be in \(0, 64\]"),
        ("analog:frac=1/0", "zero denominator"),
        ("analog:frac=-1", "frac must be P/Q or a decimal"),
        ("analog:sym=0", "sym must be a positive integer"),
        ("analog:sym=1.5", "sym must be a positive integer"),
        ("analog:frac=1/4:sym=3", "give one budget rule"),
        ("analog:frac=1/4:frac=1/8", "given twice"),
        ("analog:budget=int9", "budget= must name a latent encoding"),
        ("analog:ldpc", "unknown option 'ldpc'"),
        ("analog:stats=mine", "stats must be one of auto, fit, image"),
        ("analog:scale=3", "scale must be one of 1, 2, 4"),
        ("analog:est=zf", "est must be one of lmmse, matched"),
        ("softcast:scale=2", "applies to the analog latent only"),
        ("analogue", "unknown analog scheme"),
    ],
)
def test_bad_variants_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        AnalogSpec.parse(text)
