"""What the web page computes, without Gradio: so it is testable (and usable) on its own.

* `UiSettings`: the form (SNR and its convention, channel, mode, latent encoding and repair, FEC /
  MCS, seed, ...) as one frozen value.
* `InProcessBackend`: `semcom.pipeline.Pipeline` in this process (the profile in effect).
* `GrpcBackend`: a running `sender_service` over gRPC (`semcom.rpc.client.SenderClient`), so the
  page can front a real deployment.
* Both return an `Outcome`: the reconstruction, the captions sent and received, the link's
  `TransmissionReport` and the stage timings, with SSIM against the original.
* `paper_settings`: the paper's scheme at the same SNR (float64 latent, uncoded 16-QAM, latent
  always sent), shown next to the user's choice.
* `sweep`: SSIM against SNR for one image and several variants.
* `load_upload`: an uploaded file -> RGB image, or `UiError` with the reason (the services'
  checks, `semcom.rpc.images.decode_image`, plus a byte cap).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import io
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from semcom.eval.grid import service_latent
from semcom.link.types import FEC_SCHEMES, SNR_CONVENTIONS, ChannelConfig, TransmissionReport
from semcom.models.params import LATENT_REPAIRS, MODES
from semcom.payload.caption import caption_segments  # the one definition of a corrupted character
from semcom.variants import VARIANTS, Variant

log = logging.getLogger(__name__)

CHANNELS = ("awgn", "rayleigh")  # the channel models the page offers
# analog latents offered besides "analog" (the int8 latent's airtime); any analog[:OPTIONS] is accepted
ANALOG_CHOICES = ("analog:frac=1/2", "analog:budget=float16")


class UiError(Exception):
    """A message for the person at the page (bad upload, refused request, unreachable service)."""


@dataclass(frozen=True)
class UiSettings:
    snr_db: float = 7.0
    snr_convention: str = "ebn0"
    channel_model: str = "awgn"
    mode: str = "auto"
    encoding: str = "float64"
    int_clip: bool = True  # int encodings: per-channel range clipped at the (0.1, 99.9) percentiles
    latent_repair: str = "none"
    fec: str = "none"
    mcs: str = "auto"
    latent_policy: str = "auto"
    seed: int = 0
    steps: int = 50
    strength: float = 0.6
    caption: str | None = None  # None: the sender's captioner

    def __post_init__(self) -> None:
        for name, allowed in (
            ("snr_convention", SNR_CONVENTIONS),
            ("channel_model", CHANNELS),
            ("mode", MODES),
            ("fec", FEC_SCHEMES),
            ("latent_repair", LATENT_REPAIRS),
        ):
            if getattr(self, name) not in allowed:
                raise UiError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise UiError(f"seed must be an integer in [0, 2**63), got {self.seed!r}")

    def channel(self) -> dict[str, Any]:
        """The link the form sets, as ChannelConfig fields: both back-ends send this channel."""
        return {
            "snr_db": float(self.snr_db),
            "snr_convention": self.snr_convention,
            "model": self.channel_model,
            "latent_policy": self.latent_policy,
            "fec": self.fec,
            "mcs": self.mcs or "auto",
        }


def paper_settings(s: UiSettings) -> UiSettings:
    """The paper's scheme on the same channel at the same SNR: float64 latent, uncoded, always sent,
    the receiver's default float sanitiser (no int repair)."""
    return dataclasses.replace(
        s, encoding="float64", fec="none", mcs="auto", latent_policy="always", latent_repair="none"
    )


@dataclass
class Outcome:
    image: Image.Image  # the reconstruction
    caption_sent: str
    caption_received: str
    mode_used: str
    report: TransmissionReport | None
    timings: dict[str, float] = field(default_factory=dict)
    steps_executed: int = 0
    strength_used: float = 0.0
    ssim: float | None = None  # against the original (resized to the reconstruction)
    ms_ssim: float | None = None  # likewise (semcom.metrics.msssim)


def scores(original: Image.Image, recon: Image.Image) -> dict[str, float | None]:
    """`Outcome.ssim` and `.ms_ssim` (`semcom.metrics.msssim`: fewer scales below 161 px) of the
    reconstruction against the original resized to it; None for an image too small for the metric
    (SSIM's 11x11 window; MS-SSIM: 10 px or less on a side)."""
    from semcom.metrics.msssim import ms_ssim
    from semcom.metrics.ssim import ssim

    reference = original.resize(recon.size, Image.Resampling.BICUBIC)
    out: dict[str, float | None] = {}
    for name, metric in (("ssim", ssim), ("ms_ssim", ms_ssim)):
        try:
            out[name] = metric(reference, recon)
        except ValueError:
            out[name] = None
    return out


# ---------------------------------------------------------------------------- inputs


def load_upload(path: str | Path | None, max_bytes: int, max_pixels: int) -> Image.Image:
    """An uploaded file -> RGB image; UiError says why not (too large, not an image, corrupt ...)."""
    from semcom.rpc.errors import InvalidRequestError
    from semcom.rpc.images import decode_image

    if path is None:
        raise UiError("no image: upload a photo or pick a sample")
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise UiError(
            f"upload refused: {size} bytes is more than the limit of {max_bytes} bytes (SEMCOM_UI_MAX_UPLOAD_BYTES)"
        )
    try:
        return decode_image(path.read_bytes(), max_pixels)
    except InvalidRequestError as exc:
        raise UiError(f"upload refused: {exc}") from None


@functools.lru_cache(maxsize=1)
def sample_photos() -> dict[str, tuple[Image.Image, str]]:
    """The bundled sample photos (`semcom.samples`, the demo's): name -> (RGB image, its caption)."""
    from semcom.samples import PHOTOS

    return {p.name: (Image.fromarray(p.array()).convert("RGB"), p.caption) for p in PHOTOS}


# ---------------------------------------------------------------------------- back-ends


class InProcessBackend:
    """The pipeline in this process; one transmission at a time (the models are shared)."""

    def __init__(self, profile: Any = None, device: Any = None, dtype: Any = None, size: int | None = None) -> None:
        from semcom.pipeline import Pipeline

        self.pipeline = Pipeline.from_profile(profile, device=device, dtype=dtype)
        self.name = f"in process, profile {self.pipeline.name}"
        self.has_captioner = bool(self.pipeline.models.has_captioner)  # the profile's, fixed once loaded
        self.has_diffusion = bool(self.pipeline.models.has_diffusion)
        self.size = size
        self._lock = threading.Lock()

    def transmit(self, image: Image.Image, s: UiSettings) -> Outcome:
        from semcom.models import ReconParams
        from semcom.models.errors import ModelNotAvailableError, ProfileError
        from semcom.pipeline import LatentSpec, RoleSeeds, TransmissionRequest, stages

        try:
            channel = ChannelConfig(**s.channel())
            params = ReconParams(
                mode=s.mode, num_inference_steps=int(s.steps), strength=float(s.strength), latent_repair=s.latent_repair
            )
            is_int = s.encoding.startswith("int")
            latent = LatentSpec(
                encoding=s.encoding,
                per_channel=is_int and s.int_clip,
                percentile=99.9 if is_int and s.int_clip else 100.0,
                size=self.size,
            )
            request = TransmissionRequest(
                image=image,
                params=params,
                channel=channel,
                latent=latent,
                caption=stages.sender_caption(s.caption, s.mode, self.pipeline.models, "the caption box"),
                seeds=RoleSeeds.derive(s.seed, 0),
            )
            with self._lock:
                done = self.pipeline.run(request)
        except (ValueError, ProfileError, ModelNotAvailableError) as exc:
            raise UiError(str(exc)) from None
        return Outcome(
            image=done.recon.image,
            caption_sent=done.sent.caption.decode("ascii", "replace"),
            caption_received=done.recon.caption_received,  # as the gRPC back-end shows it: the receiver's text
            mode_used=done.mode_used,
            report=done.report,
            timings=dict(done.timings),
            steps_executed=done.recon.steps_executed,
            strength_used=done.recon.strength_used,
            **scores(image, done.recon.image),
        )


class GrpcBackend:
    """A running sender (`semcom serve sender`) and, behind it, the channel proxy and receivers."""

    has_captioner = True  # the sender's profile decides; an unsupported request comes back as a message
    has_diffusion = True

    def __init__(self, target: str, tls: Any = None, deadline_s: float | None = None) -> None:
        from semcom.rpc.client import SenderClient

        self.target = target
        self.name = f"sender at {target} (gRPC)"
        self.client = SenderClient(target, tls=tls, deadline_s=deadline_s)

    def close(self) -> None:
        self.client.close()

    def transmit(self, image: Image.Image, s: UiSettings) -> Outcome:
        import grpc

        from semcom.rpc import convert
        from semcom.rpc.client import image_request

        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        try:
            channel = convert.channel_message(**s.channel())
            is_int = s.encoding.startswith("int")
            request = image_request(
                buffer.getvalue(),
                caption=s.caption,
                latent_encoding=s.encoding,
                mode=s.mode,
                steps=int(s.steps),
                strength=float(s.strength),
                seed=s.seed,
                index=0,
                channel=channel,
                per_channel=is_int and s.int_clip,
                clip_percentile=99.9 if is_int and s.int_clip else None,
                latent_repair=s.latent_repair,
            )
            results = list(self.client.transmit([request]))
        except ValueError as exc:
            raise UiError(str(exc)) from None
        except grpc.RpcError as exc:
            raise UiError(f"the sender at {self.target} answered {exc.code().name}: {exc.details()}") from None
        if len(results) != 1:
            raise UiError(f"the sender at {self.target} returned {len(results)} results for 1 image")
        r = results[0]
        recon = Image.open(io.BytesIO(r.reconstruction.data)).convert("RGB")
        return Outcome(
            image=recon,
            caption_sent=r.caption_sent.decode("ascii", "replace"),
            caption_received=r.caption_received.decode("ascii", "replace"),
            mode_used=convert.mode_label(r.mode_used),
            report=convert.link_report_from_proto(r.report),
            timings=dict(r.timings),
            steps_executed=int(r.steps_executed),
            strength_used=float(r.strength_used),
            **scores(image, recon),
        )


# ---------------------------------------------------------------------------- presentation


def caption_html(sent: str, received: str) -> str:
    """Sent and received captions, corrupted characters of the received one marked."""
    parts = []
    for text, label in caption_segments(sent, received):
        esc = html.escape(text)
        parts.append(f'<mark class="corrupted" title="corrupted on the channel">{esc}</mark>' if label else esc)
    wrong = sum(len(t) for t, label in caption_segments(sent, received) if label)
    return (
        '<div class="captions">'
        f'<p><b>caption sent</b>: <span id="caption-sent">{html.escape(sent)}</span></p>'
        f'<p><b>caption received</b>: <span id="caption-received">{"".join(parts)}</span>'
        f" ({wrong} of {len(received)} characters corrupted)</p></div>"
    )


def report_html(outcome: Outcome, title: str) -> str:
    """Per field: bits, bit errors, symbols, MCS; the latent's fate; stage timings."""
    rep = outcome.report
    rows = []
    if rep is not None:
        latent_name = "latent header + analog symbols" if rep.latent_analog else "latent"
        for name, f in (("caption", rep.caption), (latent_name, rep.latent)):
            ber = f"{f.bit_errors / f.info_bits:.2e}" if f.info_bits else "-"
            seg = f"{f.segments_failed}/{f.segments}" if f.segments else "-"
            symbols = f"{f.symbols} ({f.analog_symbols} analog)" if f.analog_symbols else f"{f.symbols}"
            rows.append(
                f"<tr><td>{name}</td><td>{f.info_bits}</td><td>{f.bits}</td><td>{f.bit_errors}</td>"
                f"<td>{ber}</td><td>{symbols}</td><td>{html.escape(f.mcs or 'uncoded')}</td>"
                f"<td>{seg}</td></tr>"
            )
        fate = (
            f"latent dropped: {html.escape(rep.drop_reason or 'by the channel policy')}"
            if rep.latent_dropped
            else "latent sent"
        )
        if rep.latent_analog:  # analog symbols carry no bits: no Eb/N0 describes the latent
            link = (
                f"{rep.channel.model}, analog latent + {rep.channel.modulation} caption, Es/N0 {rep.esn0_db:.2f} dB "
                f"(analog latent: only Es/N0 is defined), {rep.total_symbols} symbols"
            )
        else:
            link = (
                f"{rep.channel.model}, {rep.channel.modulation}, Es/N0 {rep.esn0_db:.2f} dB, "
                f"Eb/N0 {rep.ebn0_db:.2f} dB per information bit, {rep.total_symbols} symbols"
            )
    else:
        fate, link = "no report", ""
    ssim = f"{outcome.ssim:.4f}" if outcome.ssim is not None else "n/a"
    ms_ssim = f"{outcome.ms_ssim:.4f}" if outcome.ms_ssim is not None else "n/a"
    timings = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in sorted(outcome.timings.items()))
    return (
        f'<div class="report"><h4>{html.escape(title)}</h4>'
        f"<p>{html.escape(link)}</p>"
        "<table><tr><th>field</th><th>info bits</th><th>channel bits</th><th>bit errors</th><th>BER</th>"
        f"<th>symbols</th><th>MCS</th><th>FEC segments failed</th></tr>{''.join(rows)}</table>"
        f'<p><span class="fate">{fate}</span>; mode used: {html.escape(outcome.mode_used)}, '
        f"{outcome.steps_executed} denoising steps, strength {outcome.strength_used:.2f}; SSIM {ssim}, MS-SSIM {ms_ssim}</p>"
        f'<p class="timings">stage timings: {html.escape(timings)}</p></div>'
    )


# ---------------------------------------------------------------------------- sweep

FORM = "as set on the form"  # the sweep's own variant: the form's settings unchanged


def form_settings(variant: Variant) -> dict[str, Any]:
    """What a registry variant (`semcom.variants`) sets on the form, the UI's one conversion: its
    latent and link; the form keeps its mode and channel model. UiError for a variant the form
    cannot carry: another receiver mode, a clean channel, an int clip other than the form's
    (per-channel at p99.9, or none), a spec the services do not send."""
    try:
        latent = service_latent(variant)
    except ValueError as exc:
        raise UiError(str(exc)) from None
    if variant.mode != "latent" or variant.model == "none" or latent.percentile not in (None, 99.9):
        raise UiError(f"{variant.name}: the form sends another mode, channel or clip range")
    if latent.per_channel != (latent.percentile is not None):
        raise UiError(f"{variant.name}: the form clips per channel at p99.9 or not at all")
    return {
        "encoding": latent.encoding,
        "int_clip": latent.per_channel,
        "fec": variant.fec,
        "mcs": variant.mcs,
        "latent_policy": variant.policy,
        "latent_repair": latent.repair or "none",
    }


def sweep_choices() -> list[tuple[str, str]]:
    """(label, name) of the sweep's variants: the form's settings, then every registry variant the
    form can carry, in the registry's order."""
    offered = []
    for v in VARIANTS.values():
        try:
            form_settings(v)
        except UiError:
            continue
        offered.append((v.label, v.name))
    return [(FORM, FORM), *offered]


@dataclass
class SweepRow:
    variant: str
    snr_db: float
    ssim: float | None
    latent_bit_errors: int
    latent_dropped: bool
    error: str = ""
    ms_ssim: float | None = None


def sweep(
    backend: Any,
    image: Image.Image,
    base: UiSettings,
    variants: Sequence[str],
    snrs: Sequence[float],
    progress: Callable[[float, str], None] | None = None,
) -> list[SweepRow]:
    """Every (variant, SNR) once, `variants` names from `sweep_choices` (the rows carry their
    labels); a refused cell is recorded with its reason, not raised."""
    offered = dict((name, label) for label, name in sweep_choices())
    unknown = [v for v in variants if v not in offered]
    if unknown:
        raise UiError(f"unknown variants: {', '.join(unknown)}")
    if not variants or not snrs:
        raise UiError("pick at least one variant and one SNR")
    rows: list[SweepRow] = []
    total = len(variants) * len(snrs)
    for i, name in enumerate(variants):
        variant = offered[name]
        changes = {} if name == FORM else form_settings(VARIANTS[name])
        for j, snr in enumerate(snrs):
            if progress is not None:
                progress((i * len(snrs) + j) / total, f"{variant} at {snr:g} dB")
            settings = dataclasses.replace(base, snr_db=float(snr), **changes)
            try:
                out = backend.transmit(image, settings)
                rows.append(
                    SweepRow(
                        variant,
                        float(snr),
                        out.ssim,
                        out.report.latent.bit_errors if out.report else 0,
                        bool(out.report and out.report.latent_dropped),
                        ms_ssim=out.ms_ssim,
                    )
                )
            except UiError as exc:
                rows.append(SweepRow(variant, float(snr), None, 0, False, str(exc)))
    return rows


def sweep_figure(rows: Sequence[SweepRow], convention: str):
    """SSIM against SNR, one line per variant (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=100)
    ax = fig.add_subplot()
    for variant in dict.fromkeys(r.variant for r in rows):
        pts = [(r.snr_db, r.ssim) for r in rows if r.variant == variant and r.ssim is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=variant)
    ax.set_xlabel(f"SNR ({'Eb/N0' if convention == 'ebn0' else 'Es/N0'}, dB)")
    ax.set_ylabel("SSIM")
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def parse_snrs(text: str, limit: int = 25) -> list[float]:
    """'0 2 4' or '0,2,4' or '0:12:2' (start:stop:step, stop included) -> SNRs in dB."""
    text = (text or "").strip()
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0:
                raise ValueError
            values = list(np.arange(start, stop + step / 2, step))
        else:
            values = [float(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise UiError(f"SNRs: give numbers ('0 4 8'), or start:stop:step ('0:12:2'), not {text!r}") from None
    if not values:
        raise UiError("SNRs: give at least one")
    if len(values) > limit:
        raise UiError(f"SNRs: at most {limit} points, got {len(values)}")
    if any(not -50 <= v <= 100 for v in values):
        raise UiError("SNRs must lie in [-50, 100] dB")
    return [round(float(v), 6) for v in values]
