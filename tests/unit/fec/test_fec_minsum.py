"""The fast CPU decoder (semcom.fec.minsum) against Sionna's LDPC5GDecoder, the reference."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.fec import crc, ldpc, mcs
from semcom.fec.bench import run_fec_bench, wilson_interval
from semcom.fec.codewords import channel_llrs


def _case(name: str, k: int, esn0_db: float, count: int, seed: int):
    scheme = mcs.get(name)
    m = scheme.bits_per_symbol
    rng = np.random.default_rng(seed)
    crc_name = "CRC16" if k <= 3840 else "CRC24B"
    info = crc.attach(rng.integers(0, 2, (count, k - crc.crc_bits(crc_name)), dtype=np.uint8), crc_name)
    llr = channel_llrs(ldpc.encode(info, scheme.codeword_bits(k), m), m, esn0_db, rng)
    return info, llr, m, crc_name


# (MCS, k, Es/N0 dB a few dB above the MCS's waterfall): base graphs 1 and 2, with and without
# filler bits, the 632-bit caption block, the 8,413-bit latent segment, 8,448 (no filler, BG1 max)
CODES = [
    ("qpsk-r1/3", 632, 4.0),
    ("16qam-r5/6", 632, 16.0),
    ("qpsk-r1/2", 320, 6.0),
    ("16qam-r5/6", 8413, 15.0),
    ("64qam-r3/4", 8448, 20.0),
    ("16qam-r2/3", 3000, 13.0),
]


@pytest.mark.parametrize(("name", "k", "esn0_db"), CODES)
def test_fast_decoder_returns_the_same_information_bits_as_sionna(name: str, k: int, esn0_db: float) -> None:
    info, llr, m, _ = _case(name, k, esn0_db, 6, seed=k)
    assert np.count_nonzero((llr > 0) != (ldpc.encode(info, llr.shape[1], m) == 1)) > 0  # noisy, not perfect LLRs
    fast = ldpc.decode(llr, k, m, decoder="minsum")
    reference = ldpc.decode(llr, k, m, decoder="sionna")
    np.testing.assert_array_equal(fast, reference)
    np.testing.assert_array_equal(fast, info)


def test_the_codes_under_test_include_filler_bits_and_both_base_graphs() -> None:
    fillers, graphs = set(), set()
    for name, k, _ in CODES:
        encoder, _ = ldpc._codec(
            k, mcs.get(name).codeword_bits(k), mcs.get(name).bits_per_symbol, ldpc.DEFAULT_NUM_ITER
        )
        fillers.add(encoder.k_filler > 0)
        graphs.add(encoder._bg)
    assert fillers == {True, False} and graphs == {"bg1", "bg2"}


def test_fast_decoder_graph_is_sionnas_pcm_without_the_filler_columns() -> None:
    k, scheme = 8413, mcs.get("16qam-r5/6")
    fast = ldpc._minsum(k, scheme.codeword_bits(k), scheme.bits_per_symbol)
    _, decoder = ldpc._codec(k, scheme.codeword_bits(k), scheme.bits_per_symbol, ldpc.DEFAULT_NUM_ITER)
    pcm = decoder.pcm.tocsr()
    assert fast.k_ldpc - fast.k == 35  # 8448 - 8413 filler bits
    assert fast.columns.size == pcm.shape[1] - 35  # the graph's variable nodes
    assert fast.num_edges == pcm.nnz - pcm[:, fast.k : fast.k_ldpc].nnz
    rebuilt = pcm[:, fast.columns].tocsr()
    rebuilt.sort_indices()
    np.testing.assert_array_equal(rebuilt.indptr, fast.row_ptr)
    np.testing.assert_array_equal(rebuilt.indices, fast.col)


@pytest.mark.parametrize(("name", "k", "esn0_db"), CODES)
def test_pruned_pcm_is_the_matrix_sionnas_decoder_builds(name: str, k: int, esn0_db: float) -> None:
    """The fast decoder's matrix comes from `pruned_pcm` (no Sionna decoder built): the same as Sionna's."""
    scheme = mcs.get(name)
    encoder, decoder = ldpc._codec(k, scheme.codeword_bits(k), scheme.bits_per_symbol, ldpc.DEFAULT_NUM_ITER)
    mine, sionnas = ldpc.pruned_pcm(encoder).tocsr(), decoder.pcm.tocsr()
    assert mine.shape == sionnas.shape and mine.shape[1] < encoder.n_ldpc  # something was pruned
    assert (mine != sionnas).nnz == 0


def test_bler_at_a_waterfall_point_is_no_worse_than_sionnas() -> None:
    """16qam-r1/2, the 632-bit caption block, at 6.0 dB Es/N0 (in its waterfall): both decoders on
    the same LLRs with CRC-aided early termination; the fast decoder's block errors must lie in or
    below Sionna's 99.9% Wilson interval."""
    count = 100
    info, llr, m, crc_name = _case("16qam-r1/2", 632, 6.0, count, seed=1)

    def is_done(bits):
        return crc.check(bits, crc_name)[1]

    errors = {}
    for decoder in ("minsum", "sionna"):
        errors[decoder] = int(np.count_nonzero((ldpc.decode(llr, 632, m, 20, is_done, decoder) != info).any(axis=1)))
    assert 0.1 < errors["sionna"] / count < 0.9, errors  # really a waterfall point
    assert 0.05 < errors["minsum"] / count < 0.95, errors
    _, upper = wilson_interval(errors["sionna"], count, z=3.29)
    assert errors["minsum"] / count <= upper, errors


def test_rounds_resume_exactly_where_they_stopped() -> None:
    """Running 5 rounds of 4 iterations equals one run of 20: the state (a posteriori LLRs and
    edge messages) is the whole decoder state, as CRC-aided early termination needs."""
    k = 632
    _, llr, m, _ = _case("16qam-r1/2", k, 5.5, 8, seed=3)
    fast = ldpc._minsum(k, llr.shape[1], m)
    post_a, msg_a = fast.start(llr)
    iters_a, ok_a = fast.run(post_a, msg_a, 20)
    post_b, msg_b = fast.start(llr)
    total = np.zeros(llr.shape[0], dtype=np.int64)
    for _ in range(5):
        iters, ok_b = fast.run(post_b, msg_b, 4)
        total += iters
    np.testing.assert_array_equal(post_a, post_b)
    np.testing.assert_array_equal(msg_a, msg_b)
    np.testing.assert_array_equal(ok_a, ok_b)
    np.testing.assert_array_equal(iters_a, total)
    assert (iters_a > 4).any()  # the rounds did resume something


def test_syndrome_early_termination_stops_a_clean_codeword_at_once() -> None:
    info, llr, m, _ = _case("16qam-r3/4", 632, 30.0, 3, seed=4)
    fast = ldpc._minsum(632, llr.shape[1], m)
    post, msg = fast.start(llr)
    iters, ok = fast.run(post, msg, 20)
    assert ok.all() and (iters <= 1).all()
    np.testing.assert_array_equal(fast.info_bits(post), info)


def test_no_information_at_all_does_not_crash_and_fails_the_crc() -> None:
    k, scheme = 632, mcs.get("qpsk-r1/2")
    llr = np.zeros((2, scheme.codeword_bits(k)), dtype=np.float32)
    bits = ldpc.decode(llr, k, scheme.bits_per_symbol, decoder="minsum")
    assert bits.shape == (2, k) and bits.dtype == np.uint8


def test_decoder_setting_selects_and_validates(monkeypatch) -> None:
    monkeypatch.setenv("SEMCOM_FEC_DECODER", "sionna")
    assert ldpc.decoder_name() == "sionna"
    monkeypatch.delenv("SEMCOM_FEC_DECODER")
    assert ldpc.decoder_name() == "minsum"
    monkeypatch.setenv("SEMCOM_FEC_DECODER", "aff3ct")
    _, llr, m, _ = _case("qpsk-r1/2", 320, 6.0, 1, seed=5)
    with pytest.raises(ValueError, match="LDPC decoder must be one of"):
        ldpc.decode(llr, 320, m)


def test_bench_reports_both_decoders_on_the_same_llrs() -> None:
    result = run_fec_bench(points=[("16qam-r5/6", 15.0)], k=632, codewords=4, seed=2)
    (row,) = result["points"]
    assert set(row["decoders"]) == {"minsum", "sionna"}
    for d in row["decoders"].values():
        assert (
            d["block_errors"] == 0
            and d["seconds"] > 0
            and d["s_per_mbit"] == pytest.approx(d["seconds"] / (4 * 616 / 1e6))
        )
    assert row["speedup"] > 0 and row["bler_verdict"] == "equal within CI"


def test_wilson_interval_covers_the_estimate() -> None:
    lo, hi = wilson_interval(5, 100)
    assert lo < 0.05 < hi and lo >= 0.0 and hi <= 1.0
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0


def test_amc_reads_the_table_measured_with_the_decoder_in_use(monkeypatch) -> None:
    from semcom.fec import bler

    monkeypatch.delenv("SEMCOM_BLER_TABLE", raising=False)
    monkeypatch.setenv("SEMCOM_FEC_DECODER", "sionna")
    assert bler.default_table().meta["decoder"].startswith("sionna LDPC5GDecoder")
    monkeypatch.setenv("SEMCOM_FEC_DECODER", "minsum")
    assert bler.default_table().meta["decoder"].startswith("minsum")


def test_bench_runs_on_fading_and_rejects_unknown_channels() -> None:
    result = run_fec_bench(points=[("qpsk-r1/2", 40.0)], k=320, codewords=2, channel="rayleigh", fading_block_length=16)
    assert result["workload"]["channel"] == "rayleigh, 16 symbols per fade"
    assert all(d["block_errors"] == 0 for d in result["points"][0]["decoders"].values())
    with pytest.raises(ValueError, match="channel must be"):
        run_fec_bench(points=[("qpsk-r1/2", 40.0)], k=320, codewords=2, channel="bsc")


def test_the_fast_decoder_leaves_torchs_thread_count_alone() -> None:
    """numba's OpenMP layer would reset torch's intra-op threads (shared libgomp): a sweep or a
    service that set one thread would compute later torch results with another count."""
    import torch

    from semcom.fec.transmit import transmit_field_coded
    from semcom.link.types import ChannelConfig

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        bits = np.random.default_rng(0).integers(0, 2, 9000).astype(np.uint8)
        cfg = ChannelConfig(snr_db=9.0, snr_convention="esn0", fec="ldpc")
        result = transmit_field_coded(bits, cfg, np.random.default_rng(1), "latent")
        assert result.segments > 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_concurrent_decodes_from_several_threads() -> None:
    """A service decodes the requests of several worker threads at once: the decoder's threading
    layer must be thread-safe (numba's work-queue layer aborts the process here)."""
    from concurrent.futures import ThreadPoolExecutor

    from semcom.fec.transmit import transmit_field_coded
    from semcom.link.types import ChannelConfig

    bits = np.random.default_rng(2).integers(0, 2, 6000).astype(np.uint8)
    cfg = ChannelConfig(snr_db=12.0, snr_convention="esn0", fec="ldpc")

    def one(seed: int) -> int:
        return transmit_field_coded(bits, cfg, np.random.default_rng(seed), "latent").bit_errors

    with ThreadPoolExecutor(4) as pool:
        errors = list(pool.map(one, range(8)))
    assert errors == [one(seed) for seed in range(8)]  # same noise, same result, threads or not
