"""Client keepalive on this grpcio: which ping interval a gRPC server with its *default* ping
policy tolerates during a long call, and how long a frozen (SIGSTOPped) server takes to notice.

    PYTHONPATH=. .venv/bin/python benchmarks/client_keepalive.py            # about 45 s, loopback only

Every case runs at once, each against its own server process on 127.0.0.1 whose one method sleeps
`--call-s` seconds before answering:
* "tolerated": keepalive every 5 s and every 10 s (ping timeout 5 s) against a default server,
  the call should end OK after --call-s (a too-frequent pinger gets a too_many_pings GOAWAY:
  UNAVAILABLE);
* "frozen": the server is SIGSTOPped 1 s into the call; with the project's client options
  (`semcom.rpc.client.keepalive_options`, defaults 10 s + 5 s), and with the same keepalive but
  without ``grpc.http2.ping_timeout_ms`` (keepalive_timeout_ms alone), to show which option times
  the ping out on this grpcio.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from semcom.loadtest.cluster import free_port  # noqa: E402
from semcom.loadtest.loopback import require_loopback  # noqa: E402
from semcom.rpc.client import keepalive_options  # noqa: E402

SERVER = """
import sys, time, grpc
from concurrent import futures
def slow(req, ctx):
    time.sleep(float(sys.argv[2])); return b"ok"
h = grpc.method_handlers_generic_handler("t.T", {"Slow": grpc.unary_unary_rpc_method_handler(slow)})
s = grpc.server(futures.ThreadPoolExecutor(4)); s.add_generic_rpc_handlers((h,))
s.add_insecure_port("127.0.0.1:" + sys.argv[1]); s.start(); print("up", flush=True); s.wait_for_termination()
"""


def case(name: str, options: list[tuple[str, int]], call_s: float, freeze_after_s: float | None) -> dict:
    port = free_port()
    target = require_loopback(f"127.0.0.1:{port}")
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), str(call_s)], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        proc.stdout.readline()
        with grpc.insecure_channel(target, options=options) as channel:
            call = channel.unary_unary("/t.T/Slow")
            t0 = time.monotonic()
            frozen_at = [None]
            if freeze_after_s is not None:

                def freeze() -> None:
                    time.sleep(freeze_after_s)
                    os.kill(proc.pid, signal.SIGSTOP)
                    frozen_at[0] = time.monotonic()

                threading.Thread(target=freeze, daemon=True).start()
            try:
                call(b"x", timeout=call_s + 10)
                code, details = "OK", ""
            except grpc.RpcError as exc:
                code, details = exc.code().name, exc.details()
            end = time.monotonic()
        out = {"case": name, "code": code, "details": details[:80], "after_s": round(end - t0, 1)}
        if frozen_at[0] is not None:
            out["noticed_after_freeze_s"] = round(end - frozen_at[0], 1)
        return out
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--call-s", type=float, default=35.0, help="how long each call takes (default 35)")
    args = parser.parse_args()
    ours = keepalive_options()
    no_ping_timeout = [o for o in ours if o[0] != "grpc.http2.ping_timeout_ms"]
    every = lambda s: [(k, s * 1000 if k == "grpc.keepalive_time_ms" else v) for k, v in ours]  # noqa: E731
    cases = [
        ("tolerated: ping every 5 s, default server", every(5), args.call_s, None),
        ("tolerated: ping every 10 s, default server", every(10), args.call_s, None),
        ("frozen: project defaults", ours, args.call_s, 1.0),
        ("frozen: keepalive_timeout_ms without ping_timeout_ms", no_ping_timeout, args.call_s, 1.0),
    ]
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(lambda c: case(*c), cases))
    print(json.dumps({"grpcio": grpc.__version__, "client_options": dict(ours), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
