"""Untrusted files: parsed in the sandbox, refused with 4xx when crafted, active or cut off."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select

from ozg_gateway import sandbox
from ozg_gateway.context import GatewayContext
from ozg_gateway.store.models import Attachment, Submission
from tests.conftest import Api
from tests.factories import PNG_BYTES, aem_submission, form, padded_object_stream
from tests.mappings.test_pdf import fill

APPLICANT = {"family_name": "Muster", "email": "m@example.org"}


def with_javascript(pdf: bytes, action: str = "/JavaScript") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    script = {NameObject("/S"): NameObject(action)}
    if action == "/JavaScript":
        script[NameObject("/JS")] = TextStringObject("app.alert('hallo');")
    else:
        script[NameObject("/F")] = TextStringObject("cmd.exe")
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(DictionaryObject(script))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _upload(api: Api, name: str, content: bytes) -> tuple[str, object]:
    draft = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal).json()
    r = api.http.post(
        f"/v1/submissions/{draft['id']}/attachments",
        files={"file": (name, content, "application/octet-stream")},
        headers=api.portal,
    )
    return draft["id"], r


def test_form_pdf_with_javascript_is_refused(api: Api, ctx: GatewayContext) -> None:
    pdf = with_javascript(fill("aem-meldung", form("aem-meldung"), APPLICANT))
    r = api.http.post("/v1/submissions/pdf", files={"file": ("a.pdf", pdf)}, headers=api.portal)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/file", "active_content")
    assert "JavaScript" in error["detail"]
    with ctx.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0


def test_attached_pdf_with_javascript_is_refused(api: Api, ctx: GatewayContext) -> None:
    for action in ("/JavaScript", "/Launch"):
        _, r = _upload(api, "beleg.pdf", with_javascript(blank_pdf(), action))
        assert r.status_code == 422  # type: ignore[attr-defined]
        assert r.json()["errors"][0]["code"] == "active_content"  # type: ignore[attr-defined]
    _, ok = _upload(api, "beleg.pdf", blank_pdf())
    assert ok.status_code == 201  # type: ignore[attr-defined]
    with ctx.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1


def test_crafted_pdf_is_a_4xx_and_does_not_block_the_server(api: Api) -> None:
    crafted = padded_object_stream(70 * 1024 * 1024)
    assert len(crafted) < 200_000
    start = time.monotonic()
    r = api.http.post("/v1/submissions/pdf", files={"file": ("a.pdf", crafted)}, headers=api.portal)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert time.monotonic() - start < 30


def test_sandbox_enforces_time_and_memory() -> None:
    spin = "ozg_gateway.sandbox:_spin_for_tests"
    with pytest.raises(sandbox.SandboxError) as info:
        asyncio.run(sandbox.run(spin, b"cpu", limits=sandbox.Limits(1, 256 * 2**20)))
    assert info.value.reason in ("limit", "timeout")
    with pytest.raises(sandbox.SandboxError) as info:
        asyncio.run(sandbox.run(spin, b"memory", limits=sandbox.Limits(5, 256 * 2**20)))
    assert info.value.reason == "limit"


def test_truncated_multipart_is_refused(api: Api, ctx: GatewayContext) -> None:
    draft = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal).json()
    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=file; filename=a.png\r\n"
        b"Content-Type: image/png\r\n\r\n" + PNG_BYTES + b"\r\n"  # no closing --XyZ--
    )
    r = api.http.post(
        f"/v1/submissions/{draft['id']}/attachments",
        content=body,
        headers={**api.portal, "content-type": "multipart/form-data; boundary=XyZ"},
    )
    assert r.status_code == 400
    assert "unvollständig" in r.json()["detail"]
    with ctx.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
    assert list((ctx.settings.data_dir / "blobs").rglob("*.part")) == []


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("foto.html", "foto.png"),
        ("foto", "foto.png"),
        ("foto.PNG", "foto.PNG"),
        ("bild.jpg.exe", "bild.jpg.png"),
    ],
)
def test_stored_name_matches_the_content(api: Api, name: str, stored: str) -> None:
    _, r = _upload(api, name, PNG_BYTES)
    assert r.status_code == 201  # type: ignore[attr-defined]
    assert r.json()["filename"] == stored  # type: ignore[attr-defined]
