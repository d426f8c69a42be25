"""The one table that turns foreign exceptions and HTTP statuses into ConnectorErrors.

Exception classes are looked up along their MRO, most specific first, so a new subclass in a
library falls back to its parent's row. ``tests/connectors/test_translate.py`` proves every
exception class httpx exports has a row of its own or an intended parent row. (SOAP faults
are read by each protocol's own fault mapper, e.g. ``xta.faults``; no runtime code uses zeep.)
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorBug,
    ConnectorConfigError,
    ConnectorError,
    PermanentError,
    TransientError,
)

EXCEPTION_TABLE: dict[type[BaseException], type[ConnectorError]] = {
    # httpx: every exported exception class has its row (tests prove it).
    httpx.HTTPError: TransientError,
    httpx.RequestError: TransientError,
    httpx.TransportError: TransientError,
    httpx.TimeoutException: TransientError,
    httpx.ConnectTimeout: TransientError,
    httpx.ReadTimeout: TransientError,
    httpx.WriteTimeout: TransientError,
    httpx.PoolTimeout: TransientError,
    httpx.NetworkError: TransientError,
    httpx.ConnectError: TransientError,
    httpx.ReadError: TransientError,
    httpx.WriteError: TransientError,
    httpx.CloseError: TransientError,
    httpx.ProxyError: TransientError,
    httpx.ProtocolError: TransientError,
    httpx.RemoteProtocolError: TransientError,
    httpx.LocalProtocolError: ConnectorConfigError,  # we built an invalid request
    httpx.UnsupportedProtocol: ConnectorConfigError,
    httpx.InvalidURL: ConnectorConfigError,
    httpx.TooManyRedirects: ConnectorConfigError,
    httpx.DecodingError: PermanentError,
    httpx.HTTPStatusError: PermanentError,  # refined by status in translate()
    httpx.CookieConflict: ConnectorConfigError,
    httpx.StreamError: ConnectorConfigError,  # programming errors around streams
    httpx.StreamConsumed: ConnectorConfigError,
    httpx.StreamClosed: ConnectorConfigError,
    httpx.RequestNotRead: ConnectorConfigError,
    httpx.ResponseNotRead: ConnectorConfigError,
    # TLS: a certificate that does not verify is a configuration matter, not an outage.
    ssl.SSLCertVerificationError: ConnectorConfigError,
    ssl.SSLError: TransientError,
    # SMTP (the smtp connector's stdlib client)
    smtplib.SMTPAuthenticationError: ConnectorAuthError,
    smtplib.SMTPRecipientsRefused: PermanentError,
    smtplib.SMTPSenderRefused: ConnectorConfigError,
    smtplib.SMTPNotSupportedError: ConnectorConfigError,
    smtplib.SMTPDataError: TransientError,
    smtplib.SMTPServerDisconnected: TransientError,
    smtplib.SMTPConnectError: TransientError,
    smtplib.SMTPException: TransientError,
    # Plain OS-level failures (e.g. from a raw socket).
    ConnectionError: TransientError,
    TimeoutError: TransientError,
}


def class_for_status(status: int) -> type[ConnectorError] | None:
    """ConnectorError class for an HTTP status, or None for success (2xx)."""
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return ConnectorAuthError
    if status in (408, 425, 429) or status >= 500:
        return TransientError
    if 300 <= status < 400:
        return ConnectorConfigError  # we never follow redirects: configure the final URL
    return PermanentError


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def error_for_response(response: httpx.Response, *, what: str = "request") -> ConnectorError | None:
    """ConnectorError for a non-2xx response (no body text: it may quote personal data)."""
    cls = class_for_status(response.status_code)
    if cls is None:
        return None
    return cls(
        f"{what} answered HTTP {response.status_code}",
        status=response.status_code,
        retry_after=_retry_after(response.headers) if cls is TransientError else None,
    )


def translate(exc: BaseException) -> ConnectorError:
    """Translate any exception raised by a client into the taxonomy."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        err = error_for_response(exc.response)
        if err is not None:
            return err
    # httpx wraps TLS failures in ConnectError: a certificate that does not verify is ours to fix.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return ConnectorConfigError("server certificate does not verify")
        cause = cause.__cause__ or cause.__context__
    for klass in type(exc).__mro__:
        target = EXCEPTION_TABLE.get(klass)
        if target is not None:
            return target(f"{type(exc).__name__} ({target.__name__})")
    # Not in the table: our own code failed (KeyError, TypeError, ...), not the receiver.
    return ConnectorBug(f"connector bug: {type(exc).__name__}")


def send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One HTTP call; any transport failure leaves as a ConnectorError from the table."""
    try:
        return client.request(method, url, **kwargs)
    except Exception as exc:
        raise translate(exc) from exc


@contextmanager
def streaming(
    client: httpx.Client, method: str, url: str, **kwargs: Any
) -> Iterator[httpx.Response]:
    """``send`` for streamed answers: read the body inside the block; failures are translated."""
    try:
        with client.stream(method, url, **kwargs) as response:
            yield response
    except ConnectorError:
        raise
    except Exception as exc:
        raise translate(exc) from exc
