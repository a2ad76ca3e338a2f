"""`semcom.fec`'s coded link, registered with the link (`semcom.link.coding`) on import: each
field LDPC-coded with the MCS AMC picks (`semcom.fec.transmit.transmit_field_coded`), and AMC's
drop rule for the latent (`semcom.fec.amc`)."""

from __future__ import annotations

import math

import numpy as np

from semcom.fec import amc, segmentation
from semcom.fec.mcs import get
from semcom.fec.transmit import transmit_field_coded
from semcom.link import coding
from semcom.link.types import ChannelConfig, FieldResult
from semcom.payload.packet import LatentPayload


class LdpcLink:
    """The 5G LDPC coded link with adaptive modulation and coding (docs/fec.md)."""

    def transmit_field(self, bits: np.ndarray, cfg: ChannelConfig, rng: np.random.Generator, field: str) -> FieldResult:
        return transmit_field_coded(bits, cfg, rng, field)

    def field_symbols(self, n_bits: int, mcs: str) -> int:
        """Symbols of an `n_bits` field at `mcs`: LDPC segments with their CRC."""
        if n_bits <= 0:
            return 0
        code = get(mcs)
        plan = segmentation.plan(int(n_bits))
        return plan.segments * (code.codeword_bits(plan.k) // code.bits_per_symbol)

    def latent_drop_reason(self, cfg: ChannelConfig, latent: LatentPayload) -> str:
        """The highest-throughput MCS whose segment BLER at the channel's Es/N0 meets the latent's
        target within its airtime budget (`amc.latent_airtime_budget`); "" when there is one."""
        latent_bits = 8 * len(latent.data)
        if latent_bits == 0:
            return ""
        esn0_db = cfg.snr_pair[0]
        budget = amc.latent_airtime_budget(math.prod(latent.shape))
        channel = amc.field_channel(cfg, latent_bits)
        if amc.choose(esn0_db, "latent", latent_bits, budget, channel=channel) is not None:
            return ""
        return (
            f"no MCS carries the {latent_bits}-bit latent at Es/N0 {esn0_db:.2f} dB within "
            f"its BLER target and the {budget}-symbol airtime budget ({channel} BLER curves)"
        )


coding.register(LdpcLink())
