"""The Gradio page of `semcom ui` (docs/ui.md): one tab to send an image, one to sweep SNR.

Import only after `GRADIO_ANALYTICS_ENABLED=False` is set (`semcom.cli.ui` does): Gradio reads it
at import time.
"""

from __future__ import annotations

import html
import logging
import os
from typing import Any

from semcom.ui import backend as be

log = logging.getLogger(__name__)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

UPLOAD = "(my upload)"
CSS = """
mark.corrupted { background: #ffb3b3; color: #800; font-weight: 600; padding: 0 1px; }
.report table { border-collapse: collapse; font-size: 0.9em; }
.report td, .report th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
#status p { font-weight: 600; }
"""


def _settings(backend: Any, sample: str, form: dict[str, Any]) -> be.UiSettings:
    """The form's values (`UiSettings` field -> value as Gradio gives it) as settings; an empty
    caption is the sender's own, or the sample's caption when the profile has no captioner (an
    upload then follows the rule of every sender, `semcom.pipeline.stages.sender_caption`)."""
    caption = (form["caption"] or "").strip() or None
    if caption is None and not backend.has_captioner:
        caption = be.sample_photos().get(sample, (None, None))[1]
    try:
        seed, steps = int(form["seed"]), int(form["steps"])
    except (TypeError, ValueError):
        raise be.UiError("seed and steps must be whole numbers") from None
    return be.UiSettings(
        **{
            **form,
            "snr_db": float(form["snr_db"]),
            "int_clip": bool(form["int_clip"]),
            "mcs": (form["mcs"] or "auto").strip(),
            "seed": seed,
            "steps": steps,
            "strength": float(form["strength"]),
            "caption": caption,
        }
    )


def _image(upload: Any, sample: str, max_bytes: int, max_pixels: int):
    if upload:
        return be.load_upload(upload, max_bytes, max_pixels)
    samples = be.sample_photos()
    if sample in samples:
        return samples[sample][0]
    raise be.UiError("no image: upload a photo or pick a sample")


def _error(exc: BaseException) -> str:
    if isinstance(exc, be.UiError):
        return f"**Error:** {html.escape(str(exc))}"
    log.exception("semcom ui: unexpected failure")  # the trace goes to the server log, not the page
    return f"**Error:** internal error ({type(exc).__name__}: {html.escape(str(exc))}); details in the server log"


def build_app(backend: Any, defaults: be.UiSettings, *, max_upload_bytes: int, max_pixels: int):
    import gradio as gr

    from semcom.link.types import LATENT_POLICIES
    from semcom.rpc.convert import LATENT_ENCODINGS

    samples = list(be.sample_photos())

    def read_form(data: dict) -> tuple[Any, be.UiSettings]:
        """The image and settings on the form; `data`: Gradio's component -> value of an event's inputs."""
        values = {name: data[component] for name, component in form.items()}
        upload, sample = values.pop("upload"), values.pop("sample")
        return _image(upload, sample, max_upload_bytes, max_pixels), _settings(backend, sample, values)

    def transmit(data: dict, progress=gr.Progress()):  # noqa: B008 - Gradio's idiom
        blank = (None, None, None, "", "", "")
        try:
            progress(0.0, desc="reading the image")
            image, s = read_form(data)
            progress(0.1, desc=f"transmitting at {s.snr_db:g} dB ({backend.name})")
            out = backend.transmit(image, s)
            paper_img, paper_rep = None, ""
            if data[compare]:
                progress(0.55, desc="the paper's float64 at the same SNR")
                paper = backend.transmit(image, be.paper_settings(s))
                paper_img, paper_rep = paper.image, be.report_html(paper, "the paper's float64, uncoded, same SNR")
            progress(1.0, desc="done")
            status = (
                f"Done: {html.escape(out.mode_used)} reconstruction at {s.snr_db:g} dB "
                f"{'Eb/N0' if s.snr_convention == 'ebn0' else 'Es/N0'} over {s.channel_model} "
                f"({html.escape(backend.name)})."
            )
            return (
                image,
                out.image,
                paper_img,
                be.caption_html(out.caption_sent, out.caption_received),
                be.report_html(out, "your settings"),
                paper_rep,
                status,
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message on the page
            return (*blank, _error(exc))

    def run_sweep(data: dict, progress=gr.Progress()):  # noqa: B008
        try:
            image, s = read_form(data)
            points = be.parse_snrs(data[snrs])
            rows = be.sweep(
                backend, image, s, list(data[variants] or []), points, progress=lambda f, d: progress(f, desc=d)
            )
            table = "".join(
                f"<tr><td>{html.escape(r.variant)}</td><td>{r.snr_db:g}</td>"
                f"<td>{'' if r.ssim is None else f'{r.ssim:.4f}'}</td>"
                f"<td>{'' if r.ms_ssim is None else f'{r.ms_ssim:.4f}'}</td><td>{r.latent_bit_errors}</td>"
                f"<td>{'dropped' if r.latent_dropped else ''}</td><td>{html.escape(r.error)}</td></tr>"
                for r in rows
            )
            body = (
                '<div class="report"><table><tr><th>variant</th><th>SNR dB</th><th>SSIM</th><th>MS-SSIM</th>'
                f"<th>latent bit errors</th><th>latent</th><th>refused</th></tr>{table}</table></div>"
            )
            failed = sum(1 for r in rows if r.error)
            status = f"Sweep done: {len(rows)} transmissions" + (f", {failed} refused (see table)" if failed else "")
            return be.sweep_figure(rows, s.snr_convention), body, status
        except Exception as exc:  # noqa: BLE001
            return None, "", _error(exc)

    with gr.Blocks(title="semcom: an image across the channel", analytics_enabled=False) as app:
        gr.Markdown(
            f"## semcom: watch an image cross the channel\nBack-end: **{html.escape(backend.name)}**. "
            "Caption + latent go over the simulated channel; the receiver rebuilds the picture."
        )
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(
                    label="upload a photo (PNG, JPEG, ...; used when present)", type="filepath", elem_id="upload"
                )
                sample = gr.Dropdown([UPLOAD, *samples], value=samples[0], label="or a sample photo", elem_id="sample")
                caption = gr.Textbox(
                    label="caption to send (empty: the sender's captioner"
                    + ("" if backend.has_captioner else "; this profile has none: the sample's caption, else none")
                    + ")",
                    elem_id="caption",
                )
            with gr.Column(scale=2):
                with gr.Row():
                    snr = gr.Slider(-5, 30, value=defaults.snr_db, step=0.5, label="SNR (dB)", elem_id="snr")
                    convention = gr.Radio(
                        list(be.SNR_CONVENTIONS),
                        value=defaults.snr_convention,
                        label="SNR convention (Es/N0 per symbol, Eb/N0 per information bit)",
                    )
                    channel = gr.Radio(list(be.CHANNELS), value=defaults.channel_model, label="channel")
                with gr.Row():
                    mode = gr.Dropdown(list(be.MODES), value=defaults.mode, label="receiver mode")
                    encoding = gr.Dropdown(
                        [*LATENT_ENCODINGS, *be.ANALOG_CHOICES],
                        value=defaults.encoding,
                        allow_custom_value=True,  # any analog[:OPTIONS] spec (docs/channel.md)
                        label="latent encoding (analog: symbols, no bits; analog:OPTIONS typed in)",
                    )
                    int_clip = gr.Checkbox(value=defaults.int_clip, label="int encodings: per-channel range, p99.9")
                    repair = gr.Dropdown(
                        list(be.LATENT_REPAIRS),
                        value=defaults.latent_repair,
                        label="latent repair (int latent, uncoded)",
                    )
                with gr.Row():
                    fec = gr.Radio(list(be.FEC_SCHEMES), value=defaults.fec, label="FEC")
                    mcs = gr.Textbox(value=defaults.mcs, label="MCS (auto = AMC; or a name from `semcom channel mcs`)")
                    policy = gr.Dropdown(list(LATENT_POLICIES), value=defaults.latent_policy, label="latent policy")
                with gr.Row():
                    seed = gr.Number(value=defaults.seed, precision=0, label="seed")
                    steps = gr.Number(value=defaults.steps, precision=0, label="DDIM steps")
                    strength = gr.Slider(0, 1, value=defaults.strength, step=0.05, label="strength (0 = decode only)")
        form = {  # the picture, then UiSettings field -> its component
            "upload": upload,
            "sample": sample,
            "snr_db": snr,
            "snr_convention": convention,
            "channel_model": channel,
            "mode": mode,
            "encoding": encoding,
            "int_clip": int_clip,
            "latent_repair": repair,
            "fec": fec,
            "mcs": mcs,
            "latent_policy": policy,
            "seed": seed,
            "steps": steps,
            "strength": strength,
            "caption": caption,
        }
        status = gr.Markdown("", elem_id="status")
        with gr.Tab("Transmit"):
            compare = gr.Checkbox(value=True, label="also show the paper's float64 (uncoded) at the same SNR")
            go = gr.Button("Transmit", variant="primary", elem_id="transmit")
            with gr.Row():
                original = gr.Image(label="original", type="pil", interactive=False, elem_id="original")
                recon = gr.Image(label="reconstruction", type="pil", interactive=False, elem_id="reconstruction")
                paper = gr.Image(label="paper's float64, same SNR", type="pil", interactive=False, elem_id="paper")
            captions = gr.HTML(elem_id="captions")
            with gr.Row():
                report = gr.HTML(elem_id="report")
                paper_report = gr.HTML(elem_id="paper-report")
            go.click(
                transmit, {*form.values(), compare}, [original, recon, paper, captions, report, paper_report, status]
            )
        with gr.Tab("SNR sweep"):
            gr.Markdown("SSIM against SNR for the image and settings above, one line per variant.")
            choices = be.sweep_choices()
            variants = gr.CheckboxGroup(choices, value=[name for _, name in choices[:2]], label="variants")
            snrs = gr.Textbox(value="0:12:3", label="SNRs in dB: '0 4 8' or start:stop:step", elem_id="snrs")
            sweep_go = gr.Button("Sweep", variant="primary", elem_id="sweep")
            plot = gr.Plot(label="SSIM vs SNR", elem_id="sweep-plot")
            sweep_table = gr.HTML(elem_id="sweep-table")
            sweep_go.click(run_sweep, {*form.values(), variants, snrs}, [plot, sweep_table, status])
    return app


def launch(app: Any, host: str, port: int, max_upload_bytes: int, block: bool = True) -> None:
    """Serve the page. Gradio's own upload cap is twice ours: a file between the two reaches
    `load_upload`, which refuses it with a message on the page (Gradio's refusal is a toast that
    fades); beyond twice the cap Gradio refuses the transfer itself, so no upload costs more."""
    import gradio as gr

    app.queue(default_concurrency_limit=1).launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        show_error=False,
        ssr_mode=False,
        max_file_size=2 * max_upload_bytes,
        prevent_thread_lock=not block,
        css=CSS,
        theme=gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
        footer_links=[],
    )
