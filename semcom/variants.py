"""The one registry of named variants, shared by the three doors that send them (issue 23):
`semcom eval` (its `--encodings` take the name or the spec), the web UI's SNR sweep (`semcom.ui.backend`) and
`semcom demo`'s columns (`semcom.cli.demo.plan`).

A variant is a name, a label, the eval spec string (the canonical text form, in the grammar of
`semcom.eval.grid.LatentVariant`, `semcom.eval.baselines.BaselineVariant` or
`semcom.analog.spec.AnalogSpec`) and the link settings a service request needs. Each door turns
an entry into its own settings with one function (`semcom.ui.backend.form_settings`,
`semcom.cli.demo.plan.request_settings`, `semcom.eval.grid.parse_variants`); a new encoding plugs
in here, once.

Pure data: this module imports nothing of the package, so every layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    name: str  # the key in every output (the demo's report.json, the UI's sweep)
    label: str  # what a person reads (the demo's columns, the UI's check boxes)
    spec: str  # the eval spec: encoding, sender options and the receiver's repair
    mode: str = "latent"  # receiver mode; "latent" is decoded with strength 0 (k = 0)
    fec: str = "none"
    mcs: str = "auto"  # with fec "ldpc"
    policy: str = "always"  # the channel's latent policy
    model: str = "awgn"  # the channel model ("none": a clean channel)
    receiver_repair: bool = False  # a spec naming no repair leaves it to the receiver's default, not "none"
    diffusion: bool = False  # the diffusion columns: strength and steps from the profile

    @property
    def encoding(self) -> str:
        """The spec's first field (latent encoding, codec or analog scheme)."""
        return self.spec.split(":")[0]


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("clean", "clean channel, float64", "float64", model="none"),
        Variant("float64", "float64 (the paper), uncoded", "float64"),
        Variant("float16", "float16, uncoded", "float16"),
        Variant("int8g-smmse", "int8g + sMMSE, uncoded", "int8g:pc:p99.9:smmse"),
        Variant("ldpc-amc", "LDPC + AMC, int8", "int8:pc", fec="ldpc", policy="amc", receiver_repair=True),
        Variant("float16-ldpc-amc", "float16, LDPC + AMC", "float16", fec="ldpc", policy="auto"),
        # the int8 latent's airtime as analog symbols (docs/channel.md "Analog latent"); never dropped for low SNR
        Variant("analog", "analog, int8 airtime", "analog", policy="auto", receiver_repair=True),
        Variant("text", "text only (diffusion)", "float64", mode="text", policy="never", diffusion=True),
        Variant("text+latent", "text + latent (diffusion)", "float64", mode="text+latent", diffusion=True),
    )
}


def get(name: str) -> Variant:
    """The registry's entry `name`; ValueError naming the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}") from None
