"""`semcom serve sender|channel|receiver`: run one of the three gRPC services.

Every flag mirrors a SEMCOM_* environment variable (shown in its help) and overrides it; the
environment overrides the documented defaults (`semcom config`). Examples:

    semcom serve receiver --port 50053 --profile tiny --insecure
    semcom serve channel  --port 50052 --upstream 127.0.0.1:50053 --snr-db 7.5 --insecure
    semcom serve sender   --port 50051 --upstream 127.0.0.1:50052 --profile tiny --insecure

Plaintext needs --insecure (or SEMCOM_INSECURE=true); otherwise --tls-cert/--tls-key (and
--tls-ca for mutual TLS) are required. The same TLS settings are used to dial the upstream.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from semcom import config
from semcom.cli.connection import add_tls_arguments
from semcom.cli.flags import (
    add_channel_arguments,
    add_documented_parser,
    add_preset_argument,
    add_snr_argument,
    channel_values,
)
from semcom.models.params import LATENT_REPAIRS  # torch-free

PORT_ENV = {"sender": "SEMCOM_SENDER_PORT", "channel": "SEMCOM_CHANNEL_PORT", "receiver": "SEMCOM_RECEIVER_PORT"}


def _server_flags(role: str) -> list[tuple[str, Any, str]]:
    """(ServerOptions field, type, help) of each server flag: it overrides that field's setting."""
    return [
        ("host", str, "address to bind (SEMCOM_HOST; 0.0.0.0 or [::] in containers)"),
        ("port", int, f"port to bind, 0 = any free port ({PORT_ENV[role]})"),
        (
            "max_workers",
            int,
            "model calls/streams at once, health not counted; beyond: RESOURCE_EXHAUSTED (SEMCOM_MAX_WORKERS)",
        ),
        ("max_queue", int, "requests waiting at once before RESOURCE_EXHAUSTED (SEMCOM_MAX_QUEUE)"),
        ("max_message_bytes", int, "largest gRPC message (SEMCOM_MAX_MESSAGE_BYTES)"),
        ("shutdown_grace_s", float, "drain time on SIGTERM (SEMCOM_SHUTDOWN_GRACE_S)"),
        ("metrics_port", int, "Prometheus /metrics port, 0 = off (SEMCOM_METRICS_PORT)"),
        ("metrics_host", str, "address /metrics binds to, plain HTTP (SEMCOM_METRICS_HOST, default 127.0.0.1)"),
    ]


def _common(parser: argparse.ArgumentParser, role: str) -> None:
    g = parser.add_argument_group("server")
    for dest, kind, help_text in _server_flags(role):
        g.add_argument(f"--{dest.replace('_', '-')}", type=kind, help=help_text)
    g.add_argument("--log-format", choices=("json", "text"), help="SEMCOM_LOG_FORMAT")
    g.add_argument("--log-level", help="SEMCOM_LOG_LEVEL")
    add_tls_arguments(parser.add_argument_group("transport security"), "the upstream", serving=True)
    if role != "receiver":
        u = parser.add_argument_group("upstream")
        u.add_argument(
            "--upstream", help="downstream target: HOST:PORT, a comma list, or dns:///name:port (SEMCOM_UPSTREAM)"
        )
        u.add_argument("--lb-policy", help="gRPC load balancing towards the upstream (SEMCOM_LB_POLICY)")
    if role != "channel":
        m = parser.add_argument_group("models")
        m.add_argument("--profile", help="tiny | taef2 | paper | profile file/dir (SEMCOM_PROFILE)")
        m.add_argument("--device", help="auto | cpu | cuda | cuda:N (SEMCOM_DEVICE)")
        m.add_argument("--dtype", help="auto | float32 | float16 | bfloat16 (SEMCOM_DTYPE)")
        m.add_argument(
            "--torch-threads", type=int, help="torch intra-op threads, 0 = one per core (SEMCOM_TORCH_THREADS)"
        )
        m.add_argument("--max-image-pixels", type=int, help="pixel cap for images in and out (SEMCOM_MAX_IMAGE_PIXELS)")
        add_preset_argument(m, "of requests that name none; sender: BLIP decoding; default SEMCOM_PRESET")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_documented_parser(sub, "serve", "run a gRPC service: sender | channel | receiver", __doc__)
    roles = p.add_subparsers(dest="role", metavar="ROLE", required=True)

    s = roles.add_parser("sender", help="SenderService: image -> caption + latent, and end-to-end Transmit")
    _common(s, "sender")
    s.add_argument("--image-size", type=int, help="square side fed to the encoder (SEMCOM_IMAGE_SIZE)")
    s.add_argument("--latent-encoding", help="default latent encoding (SEMCOM_LATENT_ENCODING)")
    s.add_argument(
        "--batch-max",
        type=int,
        help="batch captioning/encoding of concurrent requests: largest batch, 1 = off (SEMCOM_SENDER_BATCH_MAX)",
    )
    s.add_argument("--batch-window-ms", type=float, help="sender batching window (SEMCOM_SENDER_BATCH_WINDOW_MS)")
    s.set_defaults(func=run)

    c = roles.add_parser("channel", help="channel_sim: ReceiverService proxy applying the simulated channel")
    _common(c, "channel")
    g = c.add_argument_group("channel (per-request overrides: ReconstructRequest.channel)")
    add_snr_argument(g, "default SEMCOM_SNR_DB")
    add_channel_arguments(g)
    g.add_argument("--channel-seed", type=int, help="seed of the channel noise (SEMCOM_CHANNEL_SEED)")
    g.add_argument("--soft-demapping", action="store_true", default=None, help="SEMCOM_SOFT_DEMAPPING")
    c.set_defaults(func=run)

    r = roles.add_parser("receiver", help="ReceiverService: packet -> image by latent diffusion")
    _common(r, "receiver")
    r.add_argument("--batch-max", type=int, help="dynamic batching: largest batch, 1 = off (SEMCOM_BATCH_MAX)")
    r.add_argument("--batch-window-ms", type=float, help="dynamic batching window (SEMCOM_BATCH_WINDOW_MS)")
    r.add_argument(
        "--latent-repair",
        choices=LATENT_REPAIRS,
        help="default treatment of a received int-quantised latent on an uncoded link (SEMCOM_LATENT_REPAIR)",
    )
    r.set_defaults(func=run)


def proxy_channel_config(args: argparse.Namespace) -> Any:
    """The proxy's channel: the shared channel flags (`channel_values`, each flag given wins over
    its setting), plus the noise seed (SEMCOM_CHANNEL_SEED) and soft demapping
    (SEMCOM_SOFT_DEMAPPING). ValueError names a malformed setting or an invalid combination."""
    from semcom.link.types import ChannelConfig

    seed = args.channel_seed
    if seed is None:
        text = str(config.get("SEMCOM_CHANNEL_SEED")).strip()
        seed = int(text) if text else None
    soft = args.soft_demapping if args.soft_demapping is not None else config.get("SEMCOM_SOFT_DEMAPPING")
    return ChannelConfig(**channel_values(args), seed=seed, soft_demapping=soft)


def _pick(value, env: str):
    return value if value is not None else config.get(env)


def run(args: argparse.Namespace) -> int:
    try:
        return _serve(args)
    except (ValueError, OSError) as exc:  # bad configuration, unreadable certificate, port in use
        print(f"semcom serve {args.role}: error: {exc}", file=sys.stderr)
        return 2


# the settings of a model service's batching, per role (--batch-max, --batch-window-ms override them)
_BATCH_SETTINGS = {
    "receiver": ("SEMCOM_BATCH_MAX", "SEMCOM_BATCH_WINDOW_MS"),
    "sender": ("SEMCOM_SENDER_BATCH_MAX", "SEMCOM_SENDER_BATCH_WINDOW_MS"),
}


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The model and batching flags of the sender and the receiver, unset ones from the settings."""
    batch_max, batch_window_ms = _BATCH_SETTINGS[args.role]
    return {
        "profile": _pick(args.profile, "SEMCOM_PROFILE"),
        "device": args.device,
        "dtype": args.dtype,
        "torch_threads": _pick(args.torch_threads, "SEMCOM_TORCH_THREADS"),
        "max_image_pixels": _pick(args.max_image_pixels, "SEMCOM_MAX_IMAGE_PIXELS"),
        "batch_max": _pick(args.batch_max, batch_max),
        "batch_window_ms": _pick(args.batch_window_ms, batch_window_ms),
    }


def _serve(args: argparse.Namespace) -> int:
    from semcom.cli.connection import tls_from_args
    from semcom.rpc.logs import setup_logging
    from semcom.rpc.server import ServerOptions

    role = args.role
    setup_logging(role, _pick(args.log_format, "SEMCOM_LOG_FORMAT"), _pick(args.log_level, "SEMCOM_LOG_LEVEL"))
    tls = tls_from_args(args)
    flags = {dest: getattr(args, dest) for dest, _, _ in _server_flags(role)}
    server = ServerOptions.from_settings(PORT_ENV[role], **flags, tls=tls)
    if getattr(args, "preset", None):  # read by semcom.models.load_profile in this process
        os.environ["SEMCOM_PRESET"] = args.preset
    if role == "receiver":
        from receiver_service.server import ReceiverOptions
        from receiver_service.server import serve as serve_receiver

        return serve_receiver(
            server,
            ReceiverOptions(**_model_options(args), latent_repair=_pick(args.latent_repair, "SEMCOM_LATENT_REPAIR")),
        )
    upstream = _pick(args.upstream, "SEMCOM_UPSTREAM")
    if role == "channel":
        from channel_sim.server import serve as serve_channel

        channel = proxy_channel_config(args)
        return serve_channel(server, channel, upstream, tls, lb_policy=args.lb_policy)
    from sender_service.server import SenderOptions
    from sender_service.server import serve as serve_sender

    return serve_sender(
        server,
        SenderOptions(
            **_model_options(args),
            image_size=_pick(args.image_size, "SEMCOM_IMAGE_SIZE"),
            latent_encoding=_pick(args.latent_encoding, "SEMCOM_LATENT_ENCODING"),
            upstream=upstream,
            lb_policy=args.lb_policy,
        ),
        tls,
    )
