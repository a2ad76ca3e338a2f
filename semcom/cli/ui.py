"""`semcom ui`: a web page to pick a photo, set the SNR and watch what the receiver rebuilds.

In process (default: the profile in effect) or in front of a running sender (`--to HOST:PORT`,
TLS flags as on `semcom send`). Needs the `ui` extra: pip install 'semcom[ui]'.

    semcom ui --port 7860                      # http://127.0.0.1:7860
    semcom ui --to 127.0.0.1:50051 --insecure  # front a deployment
"""

from __future__ import annotations

import argparse
import os
import sys

from semcom.cli.connection import add_tls_arguments, tls_from_args
from semcom.cli.flags import add_documented_parser

MISSING = "semcom ui: needs Gradio, the 'ui' extra: pip install 'semcom[ui]'"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_documented_parser(
        sub, "ui", "web page: send an image over the channel and watch the reconstruction", __doc__
    )
    p.add_argument("--host", help="listen address (default SEMCOM_UI_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default SEMCOM_UI_PORT, 7860)")
    p.add_argument(
        "--profile",
        help="in process: tiny | taef2 | paper | profile file (default: SEMCOM_PROFILE when set, else "
        "taef2, the packaged TAEF2 codec, when its weights load, else tiny)",
    )
    p.add_argument("--device", help="torch device (default: SEMCOM_DEVICE)")
    p.add_argument("--dtype", help="torch dtype (default: SEMCOM_DTYPE)")
    p.add_argument("--image-size", type=int, help="encoder input side, multiple of 64 (default: profile's)")
    p.add_argument("--steps", type=int, help="initial DDIM steps on the form (default 50)")
    p.add_argument("--max-upload-bytes", type=int, help="default SEMCOM_UI_MAX_UPLOAD_BYTES")
    t = p.add_argument_group("gRPC back-end")
    t.add_argument("--to", help="a running sender HOST:PORT instead of the in-process pipeline")
    t.add_argument("--deadline-s", type=float, help="deadline per transmission (SEMCOM_DEADLINE_S)")
    add_tls_arguments(t, "the sender")
    p.set_defaults(func=run)


def _in_process(args: argparse.Namespace):
    """The in-process back-end: the profile asked for, else TAEF2 (a real picture offline), else tiny."""
    from semcom.ui.backend import InProcessBackend

    if args.profile or os.environ.get("SEMCOM_PROFILE"):
        return InProcessBackend(args.profile, device=args.device, dtype=args.dtype, size=args.image_size)
    try:
        backend = InProcessBackend("taef2", device=args.device, dtype=args.dtype, size=args.image_size)
        backend.pipeline.models.encoder()  # the weights load now, or this falls back to tiny
        return backend
    except Exception as exc:  # noqa: BLE001 - any reason the real codec is unavailable
        print(f"semcom ui: TAEF2 profile not loadable ({exc}); using the tiny profile", file=sys.stderr)
    return InProcessBackend("tiny", device=args.device, dtype=args.dtype, size=args.image_size)


def run(args: argparse.Namespace) -> int:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is imported
    try:
        import gradio  # noqa: F401
    except ImportError:
        print(MISSING, file=sys.stderr)
        return 3
    from semcom import config
    from semcom.models.errors import ModelNotAvailableError, ProfileError
    from semcom.ui.app import build_app, launch
    from semcom.ui.backend import UiSettings

    try:
        host = args.host or config.get("SEMCOM_UI_HOST")
        port = args.port if args.port is not None else config.get("SEMCOM_UI_PORT")
        max_bytes = args.max_upload_bytes or config.get("SEMCOM_UI_MAX_UPLOAD_BYTES")
        max_pixels = config.get("SEMCOM_MAX_IMAGE_PIXELS")
        if args.to:
            from semcom.ui.backend import GrpcBackend

            backend = GrpcBackend(args.to, tls=tls_from_args(args), deadline_s=args.deadline_s)
        else:
            backend = _in_process(args)
    except (ValueError, OSError, ProfileError, ModelNotAvailableError) as exc:
        print(f"semcom ui: error: {exc}", file=sys.stderr)
        return 2
    if backend.has_diffusion:  # the paper's receiver: text+latent, k = 30 of 50
        defaults = UiSettings(mode="auto", steps=args.steps or 50)
    else:  # a codec alone (TAEF2): k = 0 latent decoding, the latent always sent
        defaults = UiSettings(mode="latent", strength=0.0, latent_policy="always", steps=args.steps or 50)
    app = build_app(backend, defaults, max_upload_bytes=max_bytes, max_pixels=max_pixels)
    print(f"semcom ui: http://{host}:{port} ({backend.name})", flush=True)
    launch(app, host, port, max_bytes)
    return 0
