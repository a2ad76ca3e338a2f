"""Connection flags shared by every client command (`semcom send`, `semcom loadtest`,
`semcom bench sweep --to`, `semcom health`, `semcom ui --to`): TLS / mutual TLS / plaintext,
one definition, one reading.

Each flag overrides its SEMCOM_* setting; unset flags fall back to the environment
(`semcom.rpc.tls.TlsConfig.from_settings`).
"""

from __future__ import annotations

import argparse


def add_tls_arguments(group: argparse._ActionsContainer, peer: str = "the server", serving: bool = False) -> None:
    """--insecure, --tls-cert, --tls-key, --tls-ca, --tls-server-name on `group`. `serving`: those
    of a service (`semcom serve`): the same settings, but its certificate and key are its own
    identity and its CA also requires client certificates; they dial `peer`, its upstream, too."""
    cert, key, ca = (
        ("PEM certificate chain", "PEM private key", "PEM CA bundle; on a server it requires client certificates")
        if serving
        else ("client certificate for mutual TLS", "client key", f"CA bundle to verify {peer}")
    )
    group.add_argument("--insecure", action="store_true", default=None, help="plaintext, no TLS (SEMCOM_INSECURE)")
    group.add_argument("--tls-cert", help=f"{cert} (SEMCOM_TLS_CERT)")
    group.add_argument("--tls-key", help=f"{key} (SEMCOM_TLS_KEY)")
    group.add_argument("--tls-ca", help=f"{ca} (SEMCOM_TLS_CA{'' if serving else '; default: the system roots'})")
    group.add_argument(
        "--tls-server-name",
        help=f"name in {peer}'s certificate when it differs from the target host "
        "(SEMCOM_TLS_SERVER_NAME; needed for address lists of different hosts)",
    )


def tls_from_args(args: argparse.Namespace):
    """The TlsConfig the flags of `add_tls_arguments` (then SEMCOM_* settings) describe."""
    from semcom.rpc.tls import TlsConfig

    return TlsConfig.from_settings(
        insecure=args.insecure, cert=args.tls_cert, key=args.tls_key, ca=args.tls_ca, server_name=args.tls_server_name
    )
