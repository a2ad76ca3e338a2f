"""Prometheus metrics of the three services (prometheus_client, default registry).

One process runs one service, so the default registry holds just its series; every metric is
still labelled with `service` so dashboards can mix them. Served over HTTP on
SEMCOM_METRICS_PORT (`start_metrics_server`); 0 disables the endpoint, the counters still count.

* ``semcom_rpc_total{service,method,code}``        - finished RPCs by status code
* ``semcom_rpc_seconds{service,method}``           - RPC latency (a stream: until it ends)
* ``semcom_items_total{service,mode,code}``        - images / packets handled, by receiver mode
* ``semcom_item_seconds{service,mode}``            - per-item latency inside the service
* ``semcom_stage_seconds{service,stage}``          - per-stage timings (caption, encode, channel,
  denoise, decode, network, queue ...) as the cores report them
* ``semcom_queue_depth{service}``                  - receiver admission queue occupancy
* ``semcom_batch_size{service}``                   - receiver dynamic-batch sizes
* ``semcom_abandoned_batches_total{service}``      - batches stopped between DDIM steps because
  every caller had cancelled or run out of time
* ``semcom_admission_refused_total{service,reason}`` - calls refused before any work: reason is
  ``workers`` (SEMCOM_MAX_WORKERS), ``queue`` (SEMCOM_MAX_QUEUE), ``cost`` (SEMCOM_COST_BUDGET)
  or ``draining``
* ``semcom_rpc_in_flight{service}``                 - model RPCs admitted and not finished (live slots)
* ``semcom_rpc_slots_reclaimed_total{service}``     - admission slots found held with nothing running
  (a bug, released by the watchdog's audit; 0 on a healthy service)
* ``semcom_downstream_waiting{service}``            - downstream calls of a hop waiting for a
  downstream permit (SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT)

Every label value comes from a closed set (`label`): a value a client could choose (an unknown
enum number, a stage name from a timing map) is recorded as ``other``, so no request can add
series.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from semcom.models.params import MODES as MODE_NAMES
from semcom.rpc.errors import status_for

# Seconds: from a few ms (tiny profile, channel) to minutes (50 DDIM steps on a CPU).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

RPC_TOTAL = Counter("semcom_rpc", "finished RPCs", ["service", "method", "code"])
RPC_SECONDS = Histogram("semcom_rpc_seconds", "RPC latency", ["service", "method"], buckets=_BUCKETS)
ITEMS_TOTAL = Counter("semcom_items", "images or packets handled", ["service", "mode", "code"])
ITEM_SECONDS = Histogram("semcom_item_seconds", "per-item latency", ["service", "mode"], buckets=_BUCKETS)
STAGE_SECONDS = Histogram("semcom_stage_seconds", "per-stage timings", ["service", "stage"], buckets=_BUCKETS)
QUEUE_DEPTH = Gauge("semcom_queue_depth", "batching queue occupancy (receiver; sender with batching on)", ["service"])
BATCH_SIZE = Histogram(
    "semcom_batch_size",
    "model batch sizes (receiver; sender with batching on)",
    ["service"],
    buckets=(1, 2, 4, 8, 16, 32),
)
ABANDONED = Counter("semcom_abandoned_batches", "batches stopped early: every caller had gone", ["service"])
ADMISSION_REFUSED = Counter("semcom_admission_refused", "calls refused before any work", ["service", "reason"])
INFLIGHT = Gauge("semcom_rpc_in_flight", "model RPCs admitted and not finished", ["service"])
SLOTS_RECLAIMED = Counter(
    "semcom_rpc_slots_reclaimed", "admission slots held with nothing running, reclaimed", ["service"]
)
DOWNSTREAM_WAITING = Gauge("semcom_downstream_waiting", "downstream calls waiting for a permit", ["service"])

# The closed sets of label values; anything else becomes "other".
SERVICES = frozenset({"sender", "channel", "receiver", "service"})
METHODS = frozenset({"Encode", "Transmit", "Reconstruct", "ReconstructStream"})
CODES = frozenset(code.name for code in __import__("grpc").StatusCode)
MODES = frozenset({*MODE_NAMES, "encode"})  # the receiver's modes (semcom.models.params) and the sender's Encode
STAGES = frozenset(
    {
        "caption",
        "encode",
        "pack",
        "network",
        "channel",
        "channel_sim",
        "queue",
        "denoise",
        "decode",
        "repair",
        "unpack",
        "image_encode",
        "receiver",
        "total",
        "prepare",
        "text_encode",
        "vae_decode",
        "sanitise",
    }
)
_SETS = {"service": SERVICES, "method": METHODS, "code": CODES, "mode": MODES, "stage": STAGES}


def label(kind: str, value: object) -> str:
    """`value` if it is in the closed set of `kind` (service, method, code, mode, stage), else "other"."""
    text = str(value)
    return text if text in _SETS[kind] else "other"


def observe_rpc(service: str, method: str, code: str, seconds: float) -> None:
    service, method = label("service", service), label("method", method)
    RPC_TOTAL.labels(service, method, label("code", code)).inc()
    RPC_SECONDS.labels(service, method).observe(seconds)


def observe_item(service: str, mode: str, code: str, seconds: float, stages: Mapping[str, float] | None = None) -> None:
    """Count one handled item and record its latency and its stage timings."""
    service, mode = label("service", service), label("mode", mode)
    ITEMS_TOTAL.labels(service, mode, label("code", code)).inc()
    if code == "OK":
        ITEM_SECONDS.labels(service, mode).observe(seconds)
        for stage, value in (stages or {}).items():
            STAGE_SECONDS.labels(service, label("stage", stage)).observe(value)


def observe_failure(service: str, mode: str, exc: BaseException, t0: float, hop: str = "service") -> None:
    """Count one item that failed with `exc` (its status as `status_for` maps it; `hop` names the
    downstream), `t0` its `time.monotonic()` start."""
    observe_item(service, mode, status_for(exc, hop).code.name, time.monotonic() - t0)


def start_metrics_server(port: int, host: str) -> None:
    """Serve /metrics on host:port (port 0 = disabled)."""
    if port:
        start_http_server(port, addr=host)
