"""The decoder-weighted allocation (`alloc=decoder`): the weights' estimator, the budget and the
energy, the weighted closed form, and that it lowers the weighted (decoded-image) error it is
built to lower."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from semcom.analog import AnalogCodec, AnalogSpec, AnalogStats, transform
from semcom.analog import stats as analog_stats
from semcom.phy.analog import analog_channel

SHAPE, CHUNK = (4, 16, 16), 4


def _smooth(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).cumsum(axis=1).cumsum(axis=2).astype(np.float32) / 8


def _stats(weight=None):
    samples = np.stack([_smooth(SHAPE, 1 + i) for i in range(8)])
    st = analog_stats.fit(samples, "analog", CHUNK, "pca", {"images": ["a.png"]})
    return st if weight is None else replace(st, weight=weight)


def _weights(n, seed=4):
    w = np.exp(np.random.default_rng(seed).normal(0.0, 1.5, n))  # spread over ~2 orders of magnitude
    return w / w.mean()


def test_decoder_weights_are_the_diagonal_of_the_transformed_gram():
    """A linear 'decoder' J: the weights from the per-frequency channel grams equal the chunk means
    of diag(T JᵀJ Tᵀ) computed directly, normalised to mean 1."""
    c, h, w = SHAPE
    rng = np.random.default_rng(0)
    jac = rng.standard_normal((40, c * h * w)) * np.linspace(0.2, 3.0, c * h * w)  # image = J z
    dh, dw = transform.dct_matrix(h), transform.dct_matrix(w)
    channel = _stats().channel
    # rows of JᵀJ through the spatial DCT (channels untransformed): gram[h, w] = E[ĝ ĝᵀ] over channels
    jtj = (jac.T @ jac).reshape(c, h, w, c, h, w)
    spatial = np.einsum("ai,bj,cijdkl,ek,fl->cabdef", dh, dw, jtj, dh, dw, optimize=True)
    gram = np.einsum("cabdab->abcd", spatial)
    got = analog_stats.decoder_weights(gram, channel, CHUNK)
    # direct: the full orthonormal transform T as a matrix, diag(T JᵀJ Tᵀ)
    eye = np.eye(c * h * w).reshape(c * h * w, c, h, w)
    t = np.stack([transform.forward(e, channel).reshape(-1) for e in eye], axis=1)  # T applied to basis
    diag = np.einsum("ij,jk,ik->i", t, jac.T @ jac, t).reshape(c, h, w)
    want = transform.to_chunks(diag, CHUNK).mean(axis=1)
    assert np.allclose(got, want / want.mean(), rtol=1e-8)
    assert got.mean() == pytest.approx(1.0)


@pytest.mark.parametrize("n_symbols", [1, 37, 200, 512, 1500])
def test_symbols_equal_the_budget_at_unit_average_energy(n_symbols):
    st = _stats(_weights(64))
    codec = AnalogCodec.for_spec("analog:alloc=decoder", source_shape=SHAPE, stats=st)
    x = _smooth(SHAPE, 5)
    frame = codec.encode(x, n_symbols)
    assert frame.symbols.shape == (n_symbols,)
    assert np.mean(np.abs(frame.symbols.astype(np.complex128)) ** 2) == pytest.approx(1.0, rel=1e-5)
    if n_symbols >= 512:  # every value sent: a noiseless channel returns the source
        assert np.allclose(codec.decode(frame.symbols, frame.meta, noise_var=0.0), x, atol=1e-4)


def test_unit_weights_give_softcast_exactly():
    st = _stats(np.ones(64))
    x = _smooth(SHAPE, 2)
    a = AnalogCodec.for_spec("analog", source_shape=SHAPE, stats=st).encode(x, 300)
    b = AnalogCodec.for_spec("analog:alloc=decoder", source_shape=SHAPE, stats=st).encode(x, 300)
    assert np.allclose(a.symbols, b.symbols, atol=1e-6) and a.meta == pytest.approx(b.meta)


def test_weighted_allocation_lowers_the_weighted_error_and_matches_its_closed_form():
    """Gaussian coefficients: with alloc=decoder the measured MSE per chunk is the closed form of its
    own plan, and the weighted error Σ w·MSE (the decoded image's, for a linear decoder) is lower
    than with SoftCast's allocation."""
    w = _weights(64)
    st = _stats(w)
    rng = np.random.default_rng(9)
    inv = np.linalg.inv(st.channel)
    n_symbols, esn0_db, trials = 300, 3.0, 300
    results = {}
    for alloc in ("softcast", "decoder"):
        codec = AnalogCodec.for_spec(f"analog:alloc={alloc}", source_shape=SHAPE, stats=st)
        sq = np.zeros(codec.n_chunks)
        for _ in range(trials):
            coeffs = st.mean[:, None] + np.sqrt(st.var)[:, None] * rng.standard_normal((codec.n_chunks, 16))
            frame = codec.encode(transform.inverse(transform.from_chunks(coeffs, SHAPE, CHUNK), inv), n_symbols)
            y, _, n0 = analog_channel(frame.symbols, esn0_db, rng)
            est = codec.decode(y, frame.meta, noise_var=n0)
            got = transform.to_chunks(transform.forward(est.astype(np.float64), st.channel), CHUNK)
            sq += np.mean((got - coeffs) ** 2, axis=1)
        closed = codec.mse(n_symbols, 10 ** (-esn0_db / 10))
        assert (sq / trials).sum() == pytest.approx(closed.sum(), rel=0.05)
        results[alloc] = (float(np.dot(w, sq / trials)), float(np.dot(w, closed)))
    assert results["decoder"][1] < 0.9 * results["softcast"][1]  # closed forms
    assert results["decoder"][0] < 0.9 * results["softcast"][0]  # measured


def test_decoder_allocation_needs_weights():
    with pytest.raises(ValueError, match="no decoder weights"):
        AnalogCodec.for_spec("analog:alloc=decoder", source_shape=SHAPE, stats=_stats())
    with pytest.raises(ValueError, match="alloc=decoder"):
        AnalogSpec.parse("analog:stats=image:alloc=decoder")
    with pytest.raises(ValueError, match="alloc=decoder"):
        AnalogSpec.parse("analog:alloc=decoder:stats=image")
    with pytest.raises(ValueError, match="analog latent only"):
        AnalogSpec.parse("softcast:alloc=decoder")
    with pytest.raises(ValueError, match="alloc must be one of softcast, decoder"):
        AnalogSpec.parse("analog:alloc=water")
    with pytest.raises(ValueError, match="finite values > 0"):
        _stats(np.zeros(64))


def test_variant_syntax_round_trips():
    parsed = AnalogSpec.parse("analog:alloc=decoder:scale=2:est=matched:frac=1/16")
    assert parsed.spec == "analog:frac=1/16:est=matched:scale=2:alloc=decoder"
    assert AnalogSpec.parse(parsed.spec) == parsed
    assert AnalogSpec.parse("analog:alloc=softcast").spec == "analog"


def test_weights_round_trip_and_change_the_id(tmp_path):
    st = _stats()
    weighted = replace(st, weight=_weights(64))
    back = AnalogStats.load(weighted.save(tmp_path / "w.npz"))
    assert back.weight is not None and np.array_equal(back.weight, weighted.weight)
    assert back.id == weighted.id != st.id
    assert AnalogStats.load(st.save(tmp_path / "u.npz")).weight is None


def test_shipped_256px_statistics_carry_weights_fitted_on_their_own_photos():
    files = analog_stats.packaged_files("analog", (32, 32, 32))
    assert len(files) == 3
    for path in files:
        st = AnalogStats.load(path)
        assert st.weight is not None and st.weight.mean() == pytest.approx(1.0)
        assert set(st.info["weights"]["images"]) <= set(st.images)  # held out like the statistics


def test_latent_doors_take_the_decoder_weighted_allocation_where_weights_are_shipped():
    """A door's analog latent with alloc=decoder: the shipped weights of the 256 px TAEF2 latent
    (32x32x32) are used by the sender's and the receiver's codec alike; a shape without weights
    (the 512 px latent) is refused with the reason before anything is sent."""
    from semcom.link.analog import canonical, decode_payload, encode_payload, parse_spec

    assert parse_spec("analog:frac=1/16").alloc == "softcast"
    assert canonical("analog:alloc=decoder:frac=1/4") == "analog:frac=1/4:alloc=decoder"
    latent = np.random.default_rng(0).normal(size=(32, 32, 32)).astype(np.float32)
    weighted = encode_payload(latent, "analog:frac=1/4:alloc=decoder", 20)
    plain = encode_payload(latent, "analog:frac=1/4", 20)
    assert weighted.analog is not None and plain.analog is not None
    assert len(weighted.analog.symbols) == len(plain.analog.symbols)  # the same budget
    assert weighted.analog.symbols != plain.analog.symbols  # another allocation
    assert decode_payload(weighted).shape == latent.shape  # the receiver finds the same weights
    with pytest.raises(ValueError, match="carry no decoder weights"):
        encode_payload(np.zeros((32, 64, 64), np.float32), "analog:alloc=decoder", 20)
