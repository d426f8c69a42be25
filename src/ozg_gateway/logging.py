"""structlog set-up: JSON lines with request id, redacted by allow-list (see redaction)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from ozg_gateway.redaction import structlog_processor


class _CurrentStderr:
    """``sys.stderr`` as it is when a line is written, not when logging was configured.

    Whoever replaces ``sys.stderr`` later (a test runner capturing output, a daemon) closes
    the old one; a logger holding it would then fail on every line.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(*, level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Route structlog and stdlib logging through the redacting pipeline (to ``stream``, by
    default whatever ``sys.stderr`` is at the time of each line)."""
    stream = stream or _CurrentStderr()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog_processor,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Third-party loggers (uvicorn, sqlalchemy, httpx) go through the same redaction.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[*shared[:3], _stdlib_event, structlog_processor],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _stdlib_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    # Foreign messages are free text; keep only the logger name and scrubbed message.
    record = event.get("_record")
    if record is not None:
        event["logger"] = record.name
    return event


def get_logger(name: str) -> Any:
    """Return a bound structlog logger."""
    return structlog.get_logger(name)
