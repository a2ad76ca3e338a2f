"""The coded link: LDPC round trips, LLR sign convention, CRC-flagged failures, the packet hook."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semcom.fec import codewords as cw
from semcom.fec import ldpc, mcs, segmentation, transmit
from semcom.link.transmission import transmit_packet
from semcom.link.types import ChannelConfig
from semcom.payload.packet import LatentPayload, SemanticPacket

RNG = np.random.default_rng


def test_encode_decode_round_trip_without_noise_has_no_errors_or_failed_segments() -> None:
    bits = RNG(0).integers(0, 2, 1800, dtype=np.uint8)
    out = transmit.transmit_coded(bits, mcs.get("16qam-r3/4"), 0.0, RNG(1), model="none", max_segment_bits=1024)
    assert out.plan.segments == 2  # 1800 > 1024 - 24: two CRC24B segments
    np.testing.assert_array_equal(out.rx_bits, bits)
    assert out.segment_ok.all() and not out.erased.any()
    assert out.symbols == 2 * mcs.get("16qam-r3/4").symbols(out.plan.k)


@pytest.mark.parametrize("name, esn0_db", [("qpsk-r1/2", 6.0), ("16qam-r2/3", 13.0), ("64qam-r5/6", 22.0)])
def test_awgn_at_high_snr_decodes_exactly(name: str, esn0_db: float) -> None:
    """The PHY's LLRs (log p1/p0) feed Sionna's decoder with the right sign: a flipped sign would
    make every block fail at any SNR."""
    bits = RNG(2).integers(0, 2, 600, dtype=np.uint8)
    out = transmit.transmit_coded(bits, mcs.get(name), esn0_db, RNG(3))
    np.testing.assert_array_equal(out.rx_bits, bits)
    assert out.segment_ok.all()


def test_llrs_are_logits_of_bit_one() -> None:
    codewords = RNG(4).integers(0, 2, (3, 400), dtype=np.uint8)
    llr = cw.channel_llrs(codewords, 4, 30.0, RNG(5))
    assert llr.shape == codewords.shape
    np.testing.assert_array_equal(llr > 0, codewords.astype(bool))


@pytest.mark.parametrize(("decoder", "esn0_db"), [("minsum", 6.5), ("sionna", 7.0)])
def test_failed_segments_are_flagged_and_their_bits_erased(decoder: str, esn0_db: float, monkeypatch) -> None:
    """Below the waterfall: CRC-failed segments are marked; bits outside them are all correct.
    (The fast decoder's waterfall is ~0.5 dB lower here, hence its lower Es/N0.)"""
    monkeypatch.setenv("SEMCOM_FEC_DECODER", decoder)
    bits = RNG(6).integers(0, 2, 12 * 400, dtype=np.uint8)
    # 12 short segments in the waterfall of 16qam-r1/2: some decode, some fail
    out = transmit.transmit_coded(bits, mcs.get("16qam-r1/2"), esn0_db, RNG(7), num_iter=10, max_segment_bits=424)
    assert out.plan.segments == 12
    assert 0 < np.count_nonzero(~out.segment_ok) < 12
    wrong = out.rx_bits != bits
    assert not wrong[~out.erased].any()  # CRC24B: no undetected segment errors
    assert wrong[out.erased].any()
    expected = np.repeat(~out.segment_ok, out.plan.payload_bits)[: bits.size]
    np.testing.assert_array_equal(out.erased, expected)


def test_transmit_field_coded_reports_what_it_spent() -> None:
    bits = RNG(8).integers(0, 2, 77 * 8, dtype=np.uint8)
    cfg = ChannelConfig(snr_db=20.0, snr_convention="esn0", fec="ldpc", mcs="qpsk-r1/2", seed=0)
    result = transmit.transmit_field_coded(bits, cfg, RNG(9), "caption")
    assert result.mcs == "qpsk-r1/2" and result.segments == 1 and result.segments_failed == 0
    assert result.coded_bits == mcs.get("qpsk-r1/2").codeword_bits(616 + 16) == 2 * result.symbols
    assert result.bit_errors == 0 and not result.erased.any()
    empty = transmit.transmit_field_coded(np.zeros(0, np.uint8), cfg, RNG(9), "latent")
    assert (empty.symbols, empty.coded_bits, empty.rx_bits.size) == (0, 0, 0)
    with pytest.raises(ValueError, match="field"):
        transmit.transmit_field_coded(bits, cfg, RNG(9), "image")
    with pytest.raises(ValueError, match="unknown MCS"):
        transmit.transmit_field_coded(bits, ChannelConfig(fec="ldpc", mcs="qpsk-r9/10"), RNG(9), "caption")


def test_channel_esn0_reads_ebn0_with_the_uncoded_modulation() -> None:
    cfg = ChannelConfig(snr_db=5.0, snr_convention="ebn0", modulation="16qam")
    assert cfg.snr_pair[0] == pytest.approx(5.0 + 10 * math.log10(4))


def test_decoder_rejects_bad_llrs() -> None:
    with pytest.raises(ValueError, match="finite"):
        ldpc.decode(np.full((1, 64), np.nan), 32, 2)
    with pytest.raises(ValueError):
        ldpc.decode(np.zeros((1, 63)), 32, 2)


def _packet(shape=(4, 16, 16)) -> SemanticPacket:
    latent = RNG(10).standard_normal(shape).astype(np.float16)
    return SemanticPacket(caption=b"a dog runs on the beach", latent=LatentPayload(shape, "float16", latent.tobytes()))


def test_transmit_packet_with_ldpc_end_to_end() -> None:
    packet = _packet()  # float16 latent: 16,384 bits = 2 segments; its budget is 4 symbols per value
    cfg = ChannelConfig(snr_db=16.5, snr_convention="esn0", fec="ldpc", mcs="auto", latent_policy="amc", seed=3)
    rx, report = transmit_packet(packet, cfg)
    assert not report.latent_dropped
    assert rx.caption == packet.caption and rx.latent.data == packet.latent.data
    assert report.latent.symbols <= 4 * 4 * 16 * 16
    for field, sent in (("caption", len(packet.caption) * 8), ("latent", len(packet.latent.data) * 8)):
        fr = getattr(report, field)
        plan = segmentation.plan(sent)
        assert fr.info_bits == sent and fr.bit_errors == 0 and fr.segments == plan.segments and fr.segments_failed == 0
        m = mcs.get(fr.mcs)
        assert fr.symbols == plan.segments * m.symbols(plan.k) and fr.bits == plan.segments * m.codeword_bits(plan.k)
    assert report.total_symbols == report.caption.symbols + report.latent.symbols
    # UEP: the short caption at a stricter BLER target gets a slower MCS than the latent here
    assert mcs.get(report.caption.mcs).spectral_efficiency < mcs.get(report.latent.mcs).spectral_efficiency


def test_transmit_packet_amc_drops_the_latent_when_no_mcs_can_carry_it() -> None:
    packet = _packet()
    cfg = ChannelConfig(snr_db=-6.0, snr_convention="esn0", fec="ldpc", latent_policy="amc", seed=4)
    rx, report = transmit_packet(packet, cfg)
    assert rx.latent is None and report.latent_dropped and "amc" in report.drop_reason
    assert report.caption.mcs == mcs.MCS_TABLE[0].name  # fallback: the caption always goes, most robust
    assert report.latent.symbols == 0


@pytest.mark.parametrize("model", ["rayleigh", "bsc"])
def test_fading_and_bsc_channels_decode_at_high_snr(model: str) -> None:
    bits = RNG(11).integers(0, 2, 500, dtype=np.uint8)
    cfg = ChannelConfig(snr_db=25.0, snr_convention="esn0", fec="ldpc", mcs="qpsk-r1/2", model=model)
    result = transmit.transmit_field_coded(bits, cfg, RNG(12), "latent")
    assert result.bit_errors == 0 and result.segments_failed == 0


def test_non_binary_bits_are_rejected() -> None:
    cfg = ChannelConfig(fec="ldpc", mcs="qpsk-r1/2")
    with pytest.raises(ValueError):
        transmit.transmit_field_coded(np.array([0, 1, 2], np.uint8), cfg, RNG(0), "caption")


@pytest.mark.parametrize("model", ["awgn", "rayleigh"])
def test_interleaved_llrs_come_back_in_codeword_order(model: str) -> None:
    """A wrong inverse permutation would scramble the logits across codewords: their signs
    would no longer match the sent bits even without noise to speak of."""
    codewords = RNG(13).integers(0, 2, (5, 240), dtype=np.uint8)
    llr = cw.channel_llrs(codewords, 4, 60.0, RNG(14), model, fading_block_length=7, interleave=True)
    assert llr.shape == codewords.shape
    np.testing.assert_array_equal(llr > 0, codewords.astype(bool))
    with pytest.raises(ValueError, match="multiple of 4"):
        cw.channel_llrs(codewords[:, :238], 4, 10.0, RNG(0), interleave=True)


def test_interleaving_spreads_each_codeword_over_many_fades() -> None:
    """64 codewords of 500 symbols on fades of 128 symbols: sent one after another each sees ~4
    gains and a deep fade sinks it; interleaved, each sees ~250 and decodes as on AWGN."""
    bits = RNG(15).integers(0, 2, 64 * 476, dtype=np.uint8)
    common = dict(
        mcs=mcs.get("qpsk-r1/2"), esn0_db=7.0, model="rayleigh", fading_block_length=128, max_segment_bits=500
    )
    plain = transmit.transmit_coded(bits, rng=RNG(16), interleave=False, **common)
    spread = transmit.transmit_coded(bits, rng=RNG(16), interleave=True, **common)
    assert plain.plan.segments == spread.plan.segments == 64
    assert np.count_nonzero(~plain.segment_ok) >= 5  # 11 of 64 here
    assert spread.segment_ok.all()
    np.testing.assert_array_equal(spread.rx_bits, bits)
    assert cw.effective_fading_block_length(128, 64) == 2 and cw.effective_fading_block_length(128, 1) == 128
    assert cw.effective_fading_block_length(128, 64, interleave=False) == 128


def test_per_codeword_fading_starts_every_codeword_on_a_fresh_gain() -> None:
    """The BLER sweep's channel: rows of 10 symbols on 4-symbol blocks see gains over symbols
    0-3, 4-7, 8-9 of each row; back to back, row 1 would share a gain with row 0."""
    x = np.ones((3, 10), np.complex64)
    y, n0_sym = cw._fade_per_codeword(x, 1e-6, RNG(17), 4)
    per_row = n0_sym.reshape(3, 10)
    for row in per_row:
        for block in (row[0:4], row[4:8], row[8:10]):
            np.testing.assert_allclose(block, block[0], rtol=1e-6)
        assert len({float(row[0]), float(row[4]), float(row[8])}) == 3
    assert len({float(r[0]) for r in per_row}) == 3 and y.shape == (30,)
    # the same through the sweep's entry point: at high SNR the logits still carry the bits
    codewords = RNG(18).integers(0, 2, (3, 40), dtype=np.uint8)
    llr = cw.channel_llrs(codewords, 4, 60.0, RNG(19), "rayleigh", fading_block_length=4, fading_per_codeword=True)
    np.testing.assert_array_equal(llr > 0, codewords.astype(bool))


def test_coded_link_and_drop_policy_read_the_same_fading_curves() -> None:
    """Packaged table: on Rayleigh an int8 32x64x64 latent (125 interleaved codewords) reads the
    curves of 4 symbols per fade, needs more SNR than on AWGN, and the drop policy and the MCS
    selection agree on it."""
    from semcom.fec import amc
    from semcom.link.policy import decide_latent
    from semcom.payload.latent import encode_latent

    latent = encode_latent(RNG(20).standard_normal((32, 64, 64)), "int8", per_channel=True)
    bits = 8 * len(latent.data)
    budget = amc.latent_airtime_budget(32 * 64 * 64)

    def cfg(model: str, esn0: float) -> ChannelConfig:
        return ChannelConfig(
            snr_db=esn0, snr_convention="esn0", model=model, fec="ldpc", mcs="auto", latent_policy="amc"
        )

    assert amc.field_channel(cfg("rayleigh", 12.0), bits) == "rayleigh-L4"
    assert amc.field_channel(cfg("rayleigh", 12.0), 616) == "rayleigh-L128"  # a caption: one codeword, k = 632
    sends = {
        model: [e for e in np.arange(6.0, 20.0, 0.5) if decide_latent(cfg(model, e), latent).send]
        for model in ("awgn", "rayleigh")
    }
    assert sends["rayleigh"][0] > sends["awgn"][0]
    for e in (sends["rayleigh"][0], 19.5):
        chosen = transmit.select_mcs(cfg("rayleigh", e), "latent", bits, budget)
        expected = amc.choose(e, "latent", bits, budget, channel="rayleigh-L4")
        assert chosen == expected.mcs
    below = decide_latent(cfg("rayleigh", sends["rayleigh"][0] - 0.5), latent)
    assert not below.send and "rayleigh-L4" in below.reason
