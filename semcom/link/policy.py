"""Whether the latent is worth sending at this channel quality (the caption always goes).

Policies (`ChannelConfig.latent_policy`):

* ``always``: send the latent whatever the SNR (the paper's behaviour).
* ``never``: text only.
* ``threshold``: drop the latent when ``snr_db < drop_threshold_db``; both numbers are in the
  configuration's own SNR convention, so no conversion happens here. The default threshold and
  its justification are in docs/channel.md.
* ``amc``: asks the coded link (`semcom.link.coding`, registered by the FEC package) for the
  highest-throughput MCS whose segment BLER at the channel's Es/N0 meets the latent's target
  within the latent's airtime budget; the latent is dropped when there is none. The Es/N0 is
  the one the coded link uses: `cfg.snr_db` read in its convention with the configured modulation.

An analog latent (`LatentPayload.analog`, docs/channel.md "Analog latent") degrades with the SNR
instead of failing at a cliff, so it is never dropped for a low SNR unless that is asked for:
``auto`` and ``amc`` send it (AMC has no MCS to choose for symbols that carry no bits; its header
always crosses at the most robust MCS, `semcom.link.analog`), ``threshold`` given explicitly still
applies, ``never`` drops it.
"""

from __future__ import annotations

from dataclasses import dataclass

from semcom.link.coding import coded_link
from semcom.link.types import ChannelConfig, TransmissionReport
from semcom.payload.packet import LatentPayload


@dataclass(frozen=True)
class LatentDecision:
    send: bool
    reason: str = ""  # why the latent is dropped; empty when it is sent


def effective_policy(cfg: ChannelConfig) -> str:
    """`cfg.latent_policy` with "auto" resolved: AMC on a coded link, the SNR threshold otherwise."""
    if cfg.latent_policy == "auto":
        return "amc" if cfg.fec == "ldpc" else "threshold"
    return cfg.latent_policy


def policy_name(cfg: ChannelConfig) -> str:
    """The policy as a drop reason names it: "latent_policy=threshold", or for "auto" what it
    resolved to and why ("latent_policy=auto (threshold: no FEC)")."""
    policy = effective_policy(cfg)
    if cfg.latent_policy == "auto":
        return f"latent_policy=auto ({policy}: {'LDPC' if cfg.fec == 'ldpc' else 'no'} FEC)"
    return f"latent_policy={policy}"


def decide_latent(cfg: ChannelConfig, latent: LatentPayload) -> LatentDecision:
    """Apply `cfg.latent_policy` to `latent` (its size matters only to ``amc``). A drop's reason
    names the policy that made it (`policy_name`)."""
    policy = effective_policy(cfg)
    if latent.analog is not None and (cfg.latent_policy == "auto" or policy == "amc"):
        return LatentDecision(True)
    if policy == "always":
        return LatentDecision(True)
    if policy == "never":
        return LatentDecision(False, f"{policy_name(cfg)}: text-only transmission")
    if policy == "threshold":
        if cfg.snr_db < cfg.drop_threshold_db:
            return LatentDecision(
                False,
                f"{policy_name(cfg)}: snr {cfg.snr_db:g} dB ({cfg.snr_convention}) is below the latent threshold "
                f"{cfg.drop_threshold_db:g} dB",
            )
        return LatentDecision(True)
    # "amc", the last policy ChannelConfig allows: the coded link's AMC (semcom.link.coding, registered by semcom.fec)
    reason = coded_link().latent_drop_reason(cfg, latent)
    return LatentDecision(False, f"{policy_name(cfg)}: {reason}") if reason else LatentDecision(True)


def explain_fallback(exc: Exception, report: TransmissionReport | None, latent_missing: bool) -> Exception:
    """Prefix the message of `exc` (a receiver refusal, changed in place and returned; same type,
    so the error keeps its status) with the channel's latent drop, when the channel dropped the
    latent (`report`) and the receiver therefore fell back to text only, and suggest only what
    would change that decision for `report.channel`: latent policy 'always'; a higher SNR unless
    the policy is 'never'; --fec ldpc where 'auto' resolved to the SNR threshold for want of FEC.
    Without a drop, `exc` unchanged."""
    if report is not None and report.latent_dropped and latent_missing and exc.args and isinstance(exc.args[0], str):
        cfg = report.channel
        fixes = ["use a higher SNR"] if effective_policy(cfg) != "never" else []
        fixes += ["--fec ldpc"] if cfg.latent_policy == "auto" and cfg.fec != "ldpc" else []
        exc.args = (
            f"the channel dropped the latent ({report.drop_reason}), so the receiver fell back to text only: "
            f"{exc.args[0]} (send the latent anyway with latent policy 'always'"
            + (f", or {' or '.join(fixes)})" if fixes else ")"),
            *exc.args[1:],
        )
    return exc
