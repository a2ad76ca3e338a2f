"""`transmit_packet` / `transmit_bits`: error accounting, seeds, reports, the FEC hook."""

from __future__ import annotations

import dataclasses
import sys
import types

import numpy as np
import pytest

from semcom.link.coding import FecUnavailableError
from semcom.link.transmission import transmit_bits, transmit_packet
from semcom.link.types import ChannelConfig, FieldResult
from semcom.payload.packet import LatentPayload, SemanticPacket
from semcom.phy.theory import ber_qam_awgn

CAPTION = b"a brown dog runs through the tall grass near a lake"


def _packet(shape=(4, 16, 16)) -> SemanticPacket:
    latent = np.random.default_rng(0).standard_normal(shape)
    return SemanticPacket(caption=CAPTION, latent=LatentPayload(shape, "float64", latent.tobytes()), packet_id="p1")


def _bit_errors(a: bytes, b: bytes) -> int:
    assert len(a) == len(b)
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


def _cfg(**kw) -> ChannelConfig:
    return ChannelConfig(**{"latent_policy": "always", **kw})


@pytest.mark.parametrize("model", ["awgn", "rayleigh", "bsc"])
def test_reported_errors_equal_the_bit_differences(model: str) -> None:
    packet = _packet()
    rx, report = transmit_packet(packet, _cfg(snr_db=4.0, model=model, seed=1))
    caption_errors = _bit_errors(packet.caption, rx.caption)
    latent_errors = _bit_errors(packet.latent.data, rx.latent.data)
    assert report.caption.bit_errors == caption_errors
    assert report.latent.bit_errors == latent_errors
    assert latent_errors > 0  # 4 dB Eb/N0: about 6% of bits flip
    assert rx.latent.shape == packet.latent.shape and rx.latent.encoding == "float64"
    assert rx.packet_id == packet.packet_id


def test_report_counts_bits_symbols_and_both_snrs() -> None:
    packet = _packet()
    _, report = transmit_packet(packet, _cfg(snr_db=10.0, snr_convention="ebn0", modulation="16qam", seed=2))
    caption_bits, latent_bits = 8 * len(CAPTION), 8 * len(packet.latent.data)
    assert (report.caption.bits, report.caption.info_bits, report.caption.symbols) == (
        caption_bits,
        caption_bits,
        -(-caption_bits // 4),
    )
    assert (report.latent.bits, report.latent.info_bits, report.latent.symbols) == (
        latent_bits,
        latent_bits,
        latent_bits // 4,
    )
    assert report.total_symbols == report.caption.symbols + report.latent.symbols
    assert report.ebn0_db == pytest.approx(10.0) and report.esn0_db == pytest.approx(10 + 10 * np.log10(4))
    assert report.channel_seconds > 0 and not report.latent_dropped and report.drop_reason == ""
    _, report = transmit_packet(packet, _cfg(snr_db=12.0, snr_convention="esn0", modulation="64qam", seed=2))
    assert report.esn0_db == pytest.approx(12.0) and report.ebn0_db == pytest.approx(12 - 10 * np.log10(6))
    assert report.latent.symbols == -(-latent_bits // 6)


def test_model_none_is_error_free() -> None:
    packet = _packet()
    rx, report = transmit_packet(packet, _cfg(snr_db=-20.0, model="none"))
    assert rx == packet
    assert report.caption.bit_errors == report.latent.bit_errors == 0
    assert report.total_symbols == -(-8 * len(CAPTION) // 4) + 8 * len(packet.latent.data) // 4


def test_seed_reproduces_and_streams_are_independent() -> None:
    packet = _packet()
    cfg = _cfg(snr_db=3.0, seed=42)
    first, second = transmit_packet(packet, cfg)[0], transmit_packet(packet, cfg)[0]
    assert first == second
    assert transmit_packet(packet, dataclasses.replace(cfg, seed=43))[0] != first
    # the caption's noise does not depend on the latent being there
    text_only = transmit_packet(dataclasses.replace(packet, latent=None), cfg)[0]
    assert text_only.caption == first.caption
    dropped = transmit_packet(packet, dataclasses.replace(cfg, latent_policy="never"))[0]
    assert dropped.caption == first.caption
    # no seed: fresh randomness each time; an rng argument then decides
    unseeded = dataclasses.replace(cfg, seed=None)
    assert transmit_packet(packet, unseeded)[0] != transmit_packet(packet, unseeded)[0]
    a = transmit_packet(packet, unseeded, np.random.default_rng(5))[0]
    assert a == transmit_packet(packet, unseeded, np.random.default_rng(5))[0]
    # cfg.seed wins over an rng argument
    assert transmit_packet(packet, cfg, np.random.default_rng(5))[0] == first


def test_packet_ber_matches_theory() -> None:
    packet = _packet(shape=(4, 32, 32))  # 262,144 latent bits
    _, report = transmit_packet(packet, _cfg(snr_db=6.0, seed=3))
    n, p = report.latent.info_bits, ber_qam_awgn(4, 6.0)
    assert abs(report.latent.bit_errors - n * p) <= 5 * np.sqrt(n * p * (1 - p))


def test_soft_demapping_decides_like_hard_within_statistics() -> None:
    bits = np.random.default_rng(8).integers(0, 2, 400_000, dtype=np.uint8)
    hard = transmit_bits(bits, _cfg(snr_db=8.0, seed=4))
    soft = transmit_bits(bits, _cfg(snr_db=8.0, seed=4, soft_demapping=True))
    assert soft.bit_errors == np.count_nonzero(soft.rx_bits != bits)
    p = ber_qam_awgn(4, 8.0)
    for result in (hard, soft):
        assert abs(result.bit_errors - bits.size * p) <= 5 * np.sqrt(bits.size * p * (1 - p))


def test_transmit_bits_shapes_and_edge_cases() -> None:
    cfg = _cfg(snr_db=5.0, seed=0)
    result = transmit_bits(np.zeros(0, np.uint8), cfg)
    assert result.rx_bits.shape == (0,) and result.symbols == result.bit_errors == 0
    result = transmit_bits(np.ones(13, np.uint8), cfg, np.random.default_rng(1))
    assert result.rx_bits.shape == (13,) and result.rx_bits.dtype == np.uint8 and result.symbols == 4
    assert result.coded_bits == 13 and (result.segments, result.segments_failed, result.erased) == (0, 0, None)
    with pytest.raises(ValueError):
        transmit_bits(np.array([0, 2, 1]), cfg)
    with pytest.raises(ValueError):
        transmit_bits(np.zeros(8, np.uint8), _cfg(fec="ldpc"))


def test_empty_caption_and_bad_arguments() -> None:
    packet = dataclasses.replace(_packet(), caption=b"")
    rx, report = transmit_packet(packet, _cfg(seed=0))
    assert rx.caption == b"" and report.caption.bits == 0
    with pytest.raises(TypeError):
        transmit_packet(b"not a packet", _cfg())
    with pytest.raises(TypeError):
        transmit_packet(packet, {"snr_db": 5})
    with pytest.raises(ValueError):
        ChannelConfig(fading_block_length=0)


def test_ldpc_without_the_fec_package_is_a_clear_error(monkeypatch) -> None:
    from semcom.link import coding

    monkeypatch.setattr(coding, "_registered", None)
    monkeypatch.setitem(sys.modules, "semcom.fec.coded", None)  # import of it now fails
    with pytest.raises(FecUnavailableError, match=r"semcom\[fec\]"):
        transmit_packet(_packet(), _cfg(fec="ldpc"))


def test_ldpc_goes_through_the_fec_hook_per_field(monkeypatch) -> None:
    """The contract with semcom.fec: called once per field with (bits, cfg, rng, field); the
    report is built from its FieldResult, Eb/N0 from the information bits per symbol."""
    calls = []

    def transmit_field_coded(bits, cfg, rng, field):
        calls.append((field, bits.copy(), cfg))
        rx = bits.copy()
        rx[:3] ^= 1
        return FieldResult(
            rx_bits=rx,
            symbols=bits.size // 2,
            coded_bits=2 * bits.size,
            bit_errors=3,
            segments=2,
            segments_failed=1,
            erased=np.zeros(bits.size, bool),
            mcs="qpsk-1/2",
        )

    from semcom.link import coding

    # the link's contract with a code is the registered strategy object (semcom.link.coding)
    monkeypatch.setattr(coding, "_registered", types.SimpleNamespace(transmit_field=transmit_field_coded))
    packet = _packet()
    cfg = _cfg(fec="ldpc", snr_db=3.0, snr_convention="esn0")
    rx, report = transmit_packet(packet, cfg)
    assert [c[0] for c in calls] == ["caption", "latent"] and all(c[2] is cfg for c in calls)
    np.testing.assert_array_equal(calls[1][1], np.unpackbits(np.frombuffer(packet.latent.data, np.uint8)))
    assert _bit_errors(packet.latent.data, rx.latent.data) == 3 == report.latent.bit_errors
    assert (report.latent.segments, report.latent.segments_failed, report.latent.mcs) == (2, 1, "qpsk-1/2")
    assert report.latent.bits == 2 * report.latent.info_bits
    assert report.esn0_db == pytest.approx(3.0)
    assert report.ebn0_db == pytest.approx(3.0 - 10 * np.log10(2))  # 2 information bits per symbol


def test_ldpc_end_to_end_when_the_fec_package_is_present() -> None:
    pytest.importorskip("semcom.fec.transmit")
    pytest.importorskip("sionna.phy.fec")
    packet = _packet(shape=(2, 8, 8))
    rx, report = transmit_packet(packet, _cfg(fec="ldpc", mcs="auto", snr_db=20.0, seed=1))
    assert report.latent.segments >= 1 and report.latent.mcs
    assert report.latent.bit_errors == _bit_errors(packet.latent.data, rx.latent.data)
    assert report.caption.bit_errors == _bit_errors(packet.caption, rx.caption)
