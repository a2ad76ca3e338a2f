"""What a sweep is asked to do: `SweepConfig` (its settings, validated, and the identity a resumed
or merged run must match), `parse_shard` and `SweepSummary`. The sweep itself: `semcom.eval.sweep`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semcom.eval import scenario
from semcom.eval.grid import MODES, PAPER_SNRS_DB, build_grid, parse_variants
from semcom.metrics.suite import OPTIONAL

CAPTION_SOURCES = ("blip", "dataset")
# Latent repairs the receiver itself runs (semcom.models.Receiver, `latent_repair`), at any k; the
# other treatments (fill, nb, authors, combinations) are evaluation-only and k = 0 only.
RECEIVER_REPAIRS = ("mmse", "smmse")
# Settings that change what a cell's number means: a resumed run must match them exactly.
IDENTITY_FIELDS = (
    "data",
    "captions",
    "profile",
    "caption_source",
    "snr_convention",
    "modulation",
    "channel",
    "schedule",
    "guidance",
    "size",
    "seed",
    "fec",
    "mcs",
)
CONDITIONAL_IDENTITY_FIELDS = (
    "fading_block_length",
    "adaptive_strength",
    "preset",
    "design_snr_db",
    "design_offset_db",
    "broadcast",
)  # in the identity only where they apply


@dataclass
class SweepConfig:
    """Everything that defines a sweep (the CLI flags of `semcom eval run`)."""

    data: Path
    out: Path
    profile: str = "tiny"
    captions: Path | None = None
    caption_source: str = "blip"
    snr_db: tuple[float, ...] = PAPER_SNRS_DB
    snr_convention: str = "ebn0"
    modulation: str = "16qam"
    channel: str = "awgn"
    fading_block_length: int = 128  # rayleigh: symbols per fading gain (part of the identity only there)
    modes: tuple[str, ...] = MODES
    encodings: tuple[str, ...] = ("float64",)
    steps: tuple[int, ...] = (30,)
    schedule: int = 50
    guidance: float | None = None  # None: the preset's (9; 7.5 for text-only under authors)
    preset: str | None = None  # reproduction preset; None: the profile's (identity only when set)
    limit: int | None = None
    size: int = 512
    seed: int = 0
    fec: str = "none"
    mcs: str = "auto"
    adaptive_strength: bool = False  # strength from the link's reported Eb/N0 (identity only when on)
    metrics: tuple[str, ...] = OPTIONAL
    grid_images: int = 3
    device: str | None = None
    shard: tuple[int, int] | None = None  # (index, count): this process runs images index, index+count, ...
    # the transmitter's plan against the channel (semcom.eval.scenario; identity only when set)
    design_snr_db: float | None = None
    design_offset_db: float | None = None
    broadcast: bool = False
    command: str = ""  # the command line, recorded in config.json for the report

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        self.captions = Path(self.captions) if self.captions is not None else None
        if self.caption_source not in CAPTION_SOURCES:
            raise ValueError(f"caption source must be one of {CAPTION_SOURCES}, got {self.caption_source!r}")
        if self.schedule < 1:
            raise ValueError(f"schedule must be >= 1, got {self.schedule}")
        if self.size < 64 or self.size % 64:
            raise ValueError(f"size must be a multiple of 64, >= 64, got {self.size}")
        if self.grid_images < 0:
            raise ValueError(f"grid_images must be >= 0, got {self.grid_images}")
        if self.shard is not None:
            self.shard = parse_shard(self.shard)
        for snr in self.snr_db:  # ChannelConfig validates the channel settings once, up front
            self.link(snr)
        self.variants = parse_variants(list(self.encodings), self)
        from semcom.eval.analog import check_convention

        check_convention(self.snr_convention, self.variants)
        self.cells = build_grid(tuple(self.modes), self.variants, tuple(self.snr_db), tuple(self.steps), self.schedule)
        scenario.validate(self, self.cells)

    def link(self, snr_db: float, **fields: Any) -> Any:
        """The sweep's channel at `snr_db` as a `ChannelConfig` (its convention, modulation, model,
        fading block, FEC and MCS); `fields` set the others or override these (latent policy, seed)."""
        from semcom.link.types import ChannelConfig

        own: dict[str, Any] = dict(snr_convention=self.snr_convention, modulation=self.modulation, model=self.channel)
        own.update(fading_block_length=self.fading_block_length, fec=self.fec, mcs=self.mcs)
        return ChannelConfig(snr_db=float(snr_db), **(own | fields))

    def identity(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in IDENTITY_FIELDS}
        values["data"] = str(self.data.resolve())
        values["captions"] = str(self.captions.resolve()) if self.captions else None
        if self.channel == "rayleigh":  # only there, so run directories of other channels keep their identity
            values["fading_block_length"] = self.fading_block_length
        if self.adaptive_strength:  # likewise: runs without it keep their identity
            values["adaptive_strength"] = True
        if self.preset is not None:
            values["preset"] = self.preset
        values.update(scenario.identity(self))  # design SNR / broadcast: only when set
        return values

    def to_json(self) -> dict[str, Any]:
        return {
            **self.identity(),
            "out": str(self.out),
            "snr_db": list(self.snr_db),
            "modes": list(self.modes),
            "encodings": [v.spec for v in self.variants],
            "steps": list(self.steps),
            "limit": self.limit,
            "metrics": list(self.metrics),
            "grid_images": self.grid_images,
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
            "command": self.command,
        }


def parse_shard(value: Any) -> tuple[int, int]:
    """`"I/N"` or `(I, N)` -> (I, N) with 0 <= I < N: the shard that runs images I, I+N, I+2N, ...

    Shards of one sweep (same settings, separate run directories, any machines) together cover every
    image once; `semcom eval merge` joins their results. Seeds depend on the image name, not on its
    position, so a sharded sweep computes the same numbers as an unsharded one.
    """
    if isinstance(value, str):
        index_text, _, count_text = value.partition("/")
        try:  # without a "/", count_text is "" and int() refuses it too
            index, count = int(index_text), int(count_text)
        except ValueError:
            raise ValueError(f"shard must be I/N with integers 0 <= I < N (e.g. 0/4), got {value!r}") from None
    else:
        index, count = (int(v) for v in value)
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be I/N with integers 0 <= I < N (e.g. 0/4), got {index}/{count}")
    return index, count


@dataclass
class SweepSummary:
    """What one `Sweep.run` did: `computed` is new work, `cached` the (image, cell) pairs skipped."""

    images: int = 0
    cells: int = 0
    computed: int = 0
    cached: int = 0
    unsupported: dict[str, str] = field(default_factory=dict)  # cell key -> why it was skipped
    seconds: float = 0.0
