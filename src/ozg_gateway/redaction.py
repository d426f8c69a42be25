"""Keep personal data and secrets out of logs and diagnostics.

The rule is an allow-list: a log field is printed only if its key is in ``SAFE_KEYS`` and its
value is a scalar; everything else becomes ``[redacted]``. Allowed strings are still scrubbed
for e-mail addresses, bearer tokens and API keys, and exceptions are reduced to their type and
location, because exception messages may quote submitted values.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

REDACTED = "[redacted]"
# structlog's ProcessorFormatter bookkeeping; removed before rendering, never printed.
_STRUCTLOG_META = frozenset({"_record", "_from_structlog"})

SAFE_KEYS = frozenset(
    {
        "event",
        "level",
        "logger",
        "timestamp",
        "request_id",
        "method",
        "path",
        "route",
        "status",
        "duration_ms",
        "client_id",
        "role",
        "submission_id",
        "case_id",
        "case_number",
        "attachment_id",
        "service_id",
        "delivery_id",
        "connector",
        "attempt",
        "outcome",
        "error_type",
        "error_code",
        "count",
        "host",
        "port",
        "url",
        "mode",
        "key_id",
        "feature",
        "features",
        "missing",
        "exception",
        "size",
        "content_type",
        "revision",
        "message_type",  # XTA message type codes (never content)
        "hint",
    }
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w\-.~+/=]+")
_API_KEY = re.compile(r"\bozg_[A-Za-z0-9_\-]{8,}")
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_QUERY = re.compile(r"\?[^\s]*")


def scrub(text: str) -> str:
    """Remove e-mail addresses, credentials and query strings from free text."""
    text = _EMAIL.sub("[email]", text)
    text = _BEARER.sub(r"\1 " + REDACTED, text)
    text = _API_KEY.sub(REDACTED, text)
    text = _URL_USERINFO.sub("", text)
    return _QUERY.sub("?" + REDACTED, text)


def _safe_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple | frozenset | set) and all(
        isinstance(v, str | int) for v in value
    ):
        return [_safe_value(v) for v in value]
    return REDACTED


def describe_exception(exc: BaseException) -> str:
    """Exception chain as types and locations only, never messages."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 5:
        tb: TracebackType | None = current.__traceback__
        frames = traceback.extract_tb(tb)[-3:] if tb else []
        where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
        parts.append(f"{type(current).__module__}.{type(current).__qualname__} at {where or '?'}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def describe_traceback(exc: BaseException) -> str:
    """The whole stack of an exception as file, line and function, never messages or values.

    For bugs, where the operator needs to see where it broke (``traceback_of=exc`` in a log
    call); the exception's message may quote personal data and is left out.
    """
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = "; ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames[-30:]
    )
    return f"Traceback (most recent call last): {where}; {type(exc).__qualname__}"


def redact_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the allow-list to one structured log event."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in _STRUCTLOG_META:
            out[key] = value
            continue
        if key == "exc_info":
            exc = _exc_from(value)
            if exc is not None:
                out["exception"] = describe_exception(exc)
            continue
        if key == "traceback_of" and isinstance(value, BaseException):
            out["traceback"] = describe_traceback(value)
            continue
        out[key] = _safe_value(value) if key in SAFE_KEYS else REDACTED
    return out


def _exc_from(value: Any) -> BaseException | None:
    if isinstance(value, BaseException):
        return value
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value[1]
    if value is True:
        import sys

        return sys.exc_info()[1]
    return None


def structlog_processor(_logger: Any, _method: str, event: Any) -> dict[str, Any]:
    """structlog processor wrapping :func:`redact_event`."""
    return redact_event(event)
