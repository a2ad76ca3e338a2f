"""Structured logging for the services: one JSON object per line on stderr.

Every record carries ts, level, logger, msg, and the `service` name; fields passed through
``logger.info("...", extra={"fields": {...}})`` are merged in (request_id, method, code,
seconds ...), so a log shipper can index them without parsing text.
"""

from __future__ import annotations

import json
import logging
import sys
import time

_SERVICE = {"name": ""}


class JsonFormatter(logging.Formatter):
    """Formats a LogRecord as a single-line JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if _SERVICE["name"]:
            entry["service"] = _SERVICE["name"]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(service: str, fmt: str = "json", level: str = "INFO") -> None:
    """Configure the root logger for a service process (replaces existing handlers)."""
    if fmt not in ("json", "text"):
        raise ValueError(f"log format must be json or text, got {fmt!r}")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    _SERVICE["name"] = service
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)


def fields(**values: object) -> dict[str, dict[str, object]]:
    """`extra=` argument carrying structured fields: ``log.info("done", extra=fields(code="OK"))``."""
    return {"fields": values}
