"""What the transmitter plans for against what the channel is: SNR mismatch and broadcast.

By default a sweep's transmitter knows the channel: every cell is planned (AMC's MCS, the file
size that fits the budget, a baseline's budget) for the SNR the channel then has. Two settings
break that (`semcom eval run` flags, `SweepConfig` fields):

    --design-snr-db D      the transmitter plans for D dB (same convention as --snr-db) whatever the
                           channel's SNR; each --snr-db value is then the SNR the channel really has
    --design-offset-db O   it plans for (actual + O) dB: a transmitter that overestimates (O > 0) or
                           underestimates (O < 0) its channel by O dB in every cell
    --broadcast            one transmission per image and cell, received by one receiver at every
                           --snr-db value (independent noise per receiver, seeded by the cell as
                           always); the transmitter plans for --design-snr-db, by default the weakest
                           receiver, min(--snr-db). A broadcast transmitter cannot adapt per
                           receiver, so --design-offset-db does not apply

What "plans" means per scheme:

* the digital baselines (`semcom.eval.baselines`): the budget (with `budget=ENC` on a coded sweep
  it is the latent's symbols at the design SNR), the file size that fits it, and AMC's MCS are
  chosen at the design SNR; the bits are then sent with that MCS over the actual channel, and a
  file whose codewords fail is an outage. The `shannon` link sizes the file to the capacity at the
  design SNR and is an outage when that exceeds the capacity at the actual SNR;
* the latent on the uncoded link: nothing is planned (the eval sends it always, `latent_policy`
  "always"); the receiver's repair (mmse/smmse/soft) uses the SNR of its own channel, which a
  receiver measures from pilots. The latent rows of a mismatched run therefore equal those of the
  matched run (same seeds), as they should;
* the latent or the caption on the coded link with AMC (`--fec ldpc --mcs auto`): not implemented
  (the packet's two fields would need their MCS fixed separately); refused up front.

Rows record `design_snr_db` (what was planned for; = `snr_db` in a matched run), `broadcast` and
`scenario`, a label the regime map (`semcom.eval.regime`) groups by: "matched", "design D dB",
"design +O dB", "broadcast, design D dB".
"""

from __future__ import annotations

from typing import Any


def design_snr_db(cfg: Any, snr_db: float) -> float:
    """The SNR the transmitter plans a cell at, whose channel is at `snr_db` (cfg: a SweepConfig)."""
    if cfg.design_snr_db is not None:
        return float(cfg.design_snr_db)
    if cfg.broadcast:
        return float(min(cfg.snr_db))
    if cfg.design_offset_db is not None:
        return float(snr_db) + float(cfg.design_offset_db)
    return float(snr_db)


def scenario_label(cfg: Any) -> str:
    """The scenario a run's rows belong to (see the module docstring)."""
    if cfg.broadcast:
        return f"broadcast, design {design_snr_db(cfg, 0.0):g} dB"
    if cfg.design_snr_db is not None:
        return f"design {float(cfg.design_snr_db):g} dB"
    if cfg.design_offset_db is not None and float(cfg.design_offset_db) != 0.0:
        return f"design {float(cfg.design_offset_db):+g} dB"
    return "matched"


def row_fields(cfg: Any, snr_db: float) -> dict[str, Any]:
    """The fields every result row of `cfg`'s sweep carries about the transmitter's plan."""
    return {
        "design_snr_db": design_snr_db(cfg, snr_db),
        "broadcast": bool(cfg.broadcast),
        "scenario": scenario_label(cfg),
    }


def identity(cfg: Any) -> dict[str, Any]:
    """The settings of the plan that enter a run's identity (only those set: other runs keep theirs)."""
    out: dict[str, Any] = {}
    if cfg.design_snr_db is not None:
        out["design_snr_db"] = float(cfg.design_snr_db)
    if cfg.design_offset_db is not None:
        out["design_offset_db"] = float(cfg.design_offset_db)
    if cfg.broadcast:
        out["broadcast"] = True
    return out


def validate(cfg: Any, cells: list[Any]) -> None:
    """ValueError for plans the sweep cannot carry out (see the module docstring)."""
    if cfg.broadcast and cfg.design_offset_db is not None:
        raise ValueError("--broadcast sends one transmission to every receiver: give --design-snr-db, not an offset")
    if cfg.design_snr_db is not None and cfg.design_offset_db is not None:
        raise ValueError("give --design-snr-db or --design-offset-db, not both")
    if scenario_label(cfg) == "matched" or cfg.fec == "none" or cfg.mcs.strip().lower() != "auto":
        return
    coded = sorted({c.mode for c in cells if c.mode != "baseline"})
    if coded:
        raise ValueError(
            f"a design SNR other than the channel's is implemented for the baselines and the uncoded link; "
            f"the {', '.join(coded)} cells of this sweep run on --fec ldpc --mcs auto (use --fec none or a fixed --mcs)"
        )
