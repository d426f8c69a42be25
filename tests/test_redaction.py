"""No personal data, keys or tokens in any log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from ozg_gateway.logging import configure_logging
from ozg_gateway.redaction import REDACTED, redact_event, scrub
from tests.conftest import PORTAL_KEY, Api
from tests.factories import PDF_BYTES, SECRET_EMAIL, aem_submission

FORBIDDEN = ("Quaxenbrink", "Zoltan", "quaxenbrink", "Laterne", PORTAL_KEY, "example.org")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    yield stream
    configure_logging(level="INFO", fmt="console")


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_allow_list_redacts_everything_else() -> None:
    out = redact_event(
        {
            "event": "x",
            "status": 201,
            "form_data": {"name": "Quaxenbrink"},
            "applicant": "Zoltan",
            "authorization": "Bearer abc",
            "service_id": "aem-meldung",
        }
    )
    assert out == {
        "event": "x",
        "status": 201,
        "form_data": REDACTED,
        "applicant": REDACTED,
        "authorization": REDACTED,
        "service_id": "aem-meldung",
    }


def test_scrub_free_text() -> None:
    text = scrub(
        f"mail {SECRET_EMAIL} auth Bearer s3cr3t.token key ozg_abcdefghijkl "
        "url https://user:pw@host/p?token=abc"
    )
    for secret in (SECRET_EMAIL, "s3cr3t", "ozg_abcdefghijkl", "user:pw", "token=abc"):
        assert secret not in text


def test_exceptions_lose_their_messages(log_stream: io.StringIO) -> None:
    log = structlog.get_logger("t")
    try:
        raise ValueError(f"bad input {SECRET_EMAIL}")
    except ValueError as exc:
        log.error("failed", exc_info=exc)
    logging.getLogger("third.party").error("oops %s", SECRET_EMAIL)
    text = log_stream.getvalue()
    assert SECRET_EMAIL not in text
    lines = _lines(log_stream)
    assert "builtins.ValueError at test_redaction.py" in str(lines[0]["exception"])


def test_full_flow_logs_no_personal_data(api: Api, log_stream: io.StringIO) -> None:
    r = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal)
    sid = r.json()["id"]
    api.http.post(
        f"/v1/submissions/{sid}/attachments",
        files={"file": ("Quaxenbrink.pdf", PDF_BYTES)},
        headers=api.portal,
    )
    api.http.post(f"/v1/submissions/{sid}/submit", headers=api.portal)
    api.http.post(
        "/v1/submissions", json={**aem_submission(), "x": SECRET_EMAIL}, headers=api.portal
    )
    api.http.get("/v1/submissions/x", headers={"Authorization": f"Bearer {PORTAL_KEY}"})
    lines = _lines(log_stream)
    assert len(lines) >= 5
    assert all(line.get("request_id") for line in lines)
    text = log_stream.getvalue()
    for secret in FORBIDDEN:
        assert secret not in text


def test_stdlib_records_render_without_logging_errors(
    log_stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    assert "--- Logging error ---" not in capsys.readouterr().err
    line = _lines(log_stream)[-1]
    assert line["event"] == "Started server process [42]"
    assert line["logger"] == "uvicorn.error"
