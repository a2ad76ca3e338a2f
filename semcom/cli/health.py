"""`semcom health HOST:PORT`: ask a service's grpc.health.v1 endpoint; exit 0 only when SERVING.

`--probe readiness` (the default) asks the server's overall status (health service name ""):
SERVING once the models are loaded, while it is not draining and its model queue is below its
high-water mark. `--probe liveness` asks the "liveness" name: SERVING whenever the process
answers (also while loading, draining or overloaded), so a busy service is not restarted.
Used by the compose healthchecks and Kubernetes exec probes. Prints the status (or JSON with
--json). TLS settings come from the SEMCOM_TLS_* variables or the flags, as for `semcom serve`.
"""

from __future__ import annotations

import argparse
import json

from semcom.cli.connection import add_tls_arguments, tls_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="check a service's health (exit 0 only when SERVING)", description=__doc__)
    p.add_argument("target", help="HOST:PORT of the service")
    p.add_argument(
        "--probe",
        choices=("readiness", "liveness"),
        default="readiness",
        help="readiness: models loaded, not draining, queue below high-water (default); liveness: the process answers",
    )
    p.add_argument(
        "--service", help="ask this health service name instead, e.g. semcom.v1.ReceiverService (overrides --probe)"
    )
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_tls_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from semcom.rpc.client import health_status
    from semcom.rpc.server import LIVENESS

    service = args.service if args.service is not None else (LIVENESS if args.probe == "liveness" else "")
    status = health_status(args.target, service=service, tls=tls_from_args(args), timeout=args.timeout)
    if args.json:
        print(json.dumps({"target": args.target, "probe": args.probe, "service": service, "status": status}))
    else:
        print(status)
    return 0 if status == "SERVING" else 1
