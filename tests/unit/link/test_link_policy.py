"""The latent drop policy, alone and inside `transmit_packet`."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from semcom.link.coding import FecUnavailableError
from semcom.link.policy import decide_latent, effective_policy
from semcom.link.transmission import transmit_packet
from semcom.link.types import ChannelConfig
from semcom.payload.latent import encode_latent
from semcom.payload.packet import LatentPayload, QuantParams, SemanticPacket

LATENT = LatentPayload((4, 8, 8), "float64", np.random.default_rng(0).standard_normal((4, 8, 8)).tobytes())


def test_always_and_never() -> None:
    for snr_db in (-10.0, 0.0, 30.0):
        assert decide_latent(ChannelConfig(snr_db=snr_db, latent_policy="always"), LATENT).send
        decision = decide_latent(ChannelConfig(snr_db=snr_db, latent_policy="never"), LATENT)
        assert not decision.send and "never" in decision.reason


def test_threshold_compares_in_the_configured_convention() -> None:
    cfg = ChannelConfig(snr_db=4.99, latent_policy="threshold", drop_threshold_db=5.0)
    decision = decide_latent(cfg, LATENT)
    assert not decision.send and "below" in decision.reason and "ebn0" in decision.reason
    assert decide_latent(ChannelConfig(snr_db=5.0, latent_policy="threshold", drop_threshold_db=5.0), LATENT).send
    # Es/N0 10 dB is Eb/N0 4 dB for 16-QAM: no conversion happens, the esn0 threshold decides
    esn0 = ChannelConfig(snr_db=10.0, snr_convention="esn0", latent_policy="threshold", drop_threshold_db=11.0)
    assert not decide_latent(esn0, LATENT).send
    assert "esn0" in decide_latent(esn0, LATENT).reason


def test_default_threshold_keeps_the_papers_snr_grid() -> None:
    cfg = ChannelConfig()
    assert cfg.latent_policy == "auto" and effective_policy(cfg) == "threshold"  # uncoded link
    for snr_db in (5.0, 6.25, 7.5, 8.75, 10.0):  # the paper's grid, Eb/N0 as in the authors' code
        assert decide_latent(ChannelConfig(snr_db=snr_db), LATENT).send
    assert not decide_latent(ChannelConfig(snr_db=4.0), LATENT).send


def test_auto_policy_is_amc_on_a_coded_link() -> None:
    pytest.importorskip("semcom.fec.amc")
    assert effective_policy(ChannelConfig(fec="ldpc")) == "amc"
    assert effective_policy(ChannelConfig(fec="ldpc", latent_policy="threshold")) == "threshold"  # still available
    # int8: coded at rate 1/2 it still fits the default airtime budget (the uncoded float16 latent's)
    latent = LatentPayload(
        (4, 8, 8), "int8", np.zeros((4, 8, 8), np.int8).tobytes(), QuantParams(per_channel=False, lo=(-1.0,), hi=(1.0,))
    )
    # 6 dB Eb/N0 is below this threshold (7 dB), but on a coded link AMC decides, and 16-QAM at
    # rate 2/3 carries the latent (with its CRC) inside the budget at Es/N0 12 dB
    assert not decide_latent(ChannelConfig(snr_db=6.0, drop_threshold_db=7.0), latent).send
    coded = decide_latent(ChannelConfig(snr_db=6.0, drop_threshold_db=7.0, fec="ldpc"), latent)
    assert coded.send, coded.reason
    dropped = decide_latent(ChannelConfig(snr_db=-10.0, fec="ldpc"), latent)
    assert not dropped.send and dropped.reason.startswith("latent_policy=auto (amc: LDPC FEC): no MCS carries")


def test_amc_without_the_fec_package_is_a_clear_error(monkeypatch) -> None:
    from semcom.link import coding

    monkeypatch.setattr(coding, "_registered", None)
    monkeypatch.setitem(sys.modules, "semcom.fec.coded", None)  # import of it now fails
    with pytest.raises(FecUnavailableError, match=r"semcom\[fec\]"):
        decide_latent(ChannelConfig(latent_policy="amc"), LATENT)


def test_amc_delegates_to_the_fec_package() -> None:
    pytest.importorskip("semcom.fec.amc")
    # float16: the default AMC airtime budget is the uncoded 16-QAM float16 latent's, which a
    # coded float64 latent (64 bits per value) can never meet
    latent = LatentPayload(
        (4, 8, 8), "float16", np.random.default_rng(0).standard_normal((4, 8, 8)).astype(np.float16).tobytes()
    )
    high = decide_latent(ChannelConfig(snr_db=30.0, latent_policy="amc"), latent)
    low = decide_latent(ChannelConfig(snr_db=-10.0, latent_policy="amc"), latent)
    assert high.send and high.reason == ""
    assert not low.send and low.reason.startswith("latent_policy=amc: no MCS carries")


@pytest.mark.parametrize("policy, snr_db", [("never", 20.0), ("threshold", 1.0)])
def test_dropped_latent_in_transmit_packet(policy: str, snr_db: float) -> None:
    packet = SemanticPacket(caption=b"two children play football", latent=LATENT)
    rx, report = transmit_packet(packet, ChannelConfig(snr_db=snr_db, latent_policy=policy, seed=0))
    assert rx.latent is None
    assert report.latent_dropped and report.drop_reason
    assert report.latent.bits == report.latent.symbols == 0
    assert report.caption.info_bits == 8 * len(packet.caption)
    assert report.total_symbols == report.caption.symbols


def test_text_only_packet_is_not_reported_as_dropped() -> None:
    rx, report = transmit_packet(SemanticPacket(caption=b"a cat", latent=None), ChannelConfig(snr_db=1.0, seed=0))
    assert rx.latent is None and not report.latent_dropped


def test_a_drop_reason_names_the_policy_that_made_it() -> None:
    from semcom.link.policy import explain_fallback, policy_name

    latent = encode_latent(np.zeros((4, 8, 8)), "float16")
    assert policy_name(ChannelConfig(snr_db=4.0)) == "latent_policy=auto (threshold: no FEC)"
    assert policy_name(ChannelConfig(snr_db=4.0, latent_policy="never")) == "latent_policy=never"
    reason = decide_latent(ChannelConfig(snr_db=4.0), latent).reason
    assert reason.startswith("latent_policy=auto (threshold: no FEC): snr 4 dB (ebn0) is below the latent threshold")
    assert decide_latent(ChannelConfig(snr_db=4.0, latent_policy="never"), latent).reason.startswith(
        "latent_policy=never"
    )
    _, report = transmit_packet(SemanticPacket(caption=b"a cat", latent=latent), ChannelConfig(snr_db=4.0, seed=0))
    exc = explain_fallback(ValueError("text-only reconstruction is impossible"), report, True)
    assert type(exc) is ValueError and str(exc).startswith(f"the channel dropped the latent ({reason})")
    assert str(exc).endswith("(send the latent anyway with latent policy 'always', or use a higher SNR or --fec ldpc)")
    assert str(explain_fallback(ValueError("other"), report, False)) == "other"  # the latent arrived
    assert str(explain_fallback(ValueError("other"), None, True)) == "other"  # no report: no drop known


@pytest.mark.parametrize(
    ("channel", "hint"),
    [
        # AMC already runs on LDPC: "--fec ldpc" would change nothing (the audit's case)
        (dict(fec="ldpc"), "'always', or use a higher SNR)"),
        # an explicit threshold ignores the FEC: only the SNR or the policy change the decision
        (dict(latent_policy="threshold"), "'always', or use a higher SNR)"),
        # 'never' drops at any SNR with any FEC
        (dict(latent_policy="never"), "'always')"),
    ],
)
def test_a_drop_hint_suggests_only_what_would_change_the_decision(channel: dict, hint: str) -> None:
    from semcom.link.policy import explain_fallback
    from semcom.link.types import TransmissionReport

    report = TransmissionReport(
        ChannelConfig(snr_db=4.0, **channel), esn0_db=10.0, ebn0_db=4.0, latent_dropped=True, drop_reason="r"
    )
    message = str(explain_fallback(ValueError("text-only reconstruction is impossible"), report, True))
    assert message.endswith(f"impossible (send the latent anyway with latent policy {hint}")


def test_a_coded_report_explains_its_ebn0_beside_the_snr_asked_for() -> None:
    """Eb/N0 4 dB asked, 5.77 reported: per information bit after the code rate, said in the report."""
    from semcom.link.types import FieldReport, TransmissionReport

    uncoded = TransmissionReport(ChannelConfig(snr_db=4.0), esn0_db=10.02, ebn0_db=4.0)
    assert uncoded.snr_note == ""
    coded = TransmissionReport(
        ChannelConfig(snr_db=4.0, fec="ldpc"),
        esn0_db=10.0206,
        ebn0_db=5.7748,
        latent=FieldReport(info_bits=131_072, symbols=49_296),
    )
    note = coded.snr_note
    assert note.startswith(
        "asked: ebn0 4 dB, read with 16qam (4 coded bits per symbol) as the channel's Es/N0 10.02 dB"
    )
    assert "ebn0_db 5.77 is per information bit after the code rate" in note and "(2.658 information bits" in note
