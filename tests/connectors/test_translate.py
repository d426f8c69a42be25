"""The translation table is complete and says what the caller should do."""

from __future__ import annotations

import inspect

import httpx
import pytest

from ozg_gateway.connectors.translate import (
    EXCEPTION_TABLE,
    class_for_status,
    error_for_response,
    translate,
)
from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorBug,
    ConnectorConfigError,
    PermanentError,
    TransientError,
)


def _exported_exceptions(module: object) -> list[type[BaseException]]:
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and not issubclass(cls, Warning)
    ]


@pytest.mark.parametrize("module", [httpx], ids=["httpx"])
def test_every_foreign_exception_has_a_row(module: object) -> None:
    missing = [c.__name__ for c in _exported_exceptions(module) if c not in EXCEPTION_TABLE]
    assert missing == []


def test_every_http_status_is_classified() -> None:
    for status in range(100, 600):
        cls = class_for_status(status)
        if 200 <= status < 300:
            assert cls is None
        elif status in (401, 403):
            assert cls is ConnectorAuthError
        elif status in (408, 425, 429) or status >= 500:
            assert cls is TransientError
        elif 300 <= status < 400:
            assert cls is ConnectorConfigError
        else:
            assert cls is PermanentError, status


def test_retry_after_is_honoured() -> None:
    seconds = error_for_response(httpx.Response(429, headers={"Retry-After": "120"}))
    assert isinstance(seconds, TransientError)
    assert seconds.retry_after == 120
    date = error_for_response(
        httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    )
    assert date is not None
    assert date.retry_after is not None
    assert date.retry_after > 1e6
    assert error_for_response(httpx.Response(404, headers={"Retry-After": "5"})).retry_after is None  # type: ignore[union-attr]


def test_translate_examples() -> None:
    request = httpx.Request("POST", "https://x.example")
    assert isinstance(translate(httpx.ConnectError("refused")), TransientError)
    assert isinstance(translate(httpx.ReadTimeout("slow")), TransientError)
    assert isinstance(translate(httpx.InvalidURL("bad")), ConnectorConfigError)
    status_error = httpx.HTTPStatusError(
        "x", request=request, response=httpx.Response(401, request=request)
    )
    assert isinstance(translate(status_error), ConnectorAuthError)
    # unknown: our bug, retried a bounded number of times, silent to the breaker
    bug = translate(KeyError("bug"))
    assert isinstance(bug, ConnectorBug)
    assert bug.retryable
    assert bug.says_nothing_about_receiver


def test_messages_carry_no_foreign_text() -> None:
    err = translate(httpx.ConnectError("secret-host.internal refused for Erika"))
    assert "Erika" not in str(err)


def test_certificate_failures_inside_connect_errors_are_configuration() -> None:
    import ssl

    outer = httpx.ConnectError("tls")
    outer.__cause__ = ssl.SSLCertVerificationError("self-signed")
    assert isinstance(translate(outer), ConnectorConfigError)
