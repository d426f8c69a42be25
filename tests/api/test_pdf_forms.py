"""PDF routes: download the form, submit it filled, get the receipt; unusable PDFs are 4xx."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import func, select

from ozg_gateway.context import GatewayContext
from ozg_gateway.store.models import Attachment, Submission
from tests.conftest import Api
from tests.factories import PNG_BYTES, form
from tests.mappings.test_pdf import _plain_pdf, fill

APPLICANT = {"family_name": "Muster", "email": "m@example.org"}


def test_form_pdf_is_served_and_listed(api: Api) -> None:
    service = api.http.get("/v1/services/kita-anmeldung").json()
    assert service["generated_form_pdf_url"].endswith("/v1/services/kita-anmeldung/form.pdf")
    r = api.http.get("/v1/services/kita-anmeldung/form.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert "form.kind.vornamen" in (PdfReader(io.BytesIO(r.content)).get_fields() or {})
    assert api.http.get("/v1/services/hundesteuer-anmeldung/form.pdf").status_code == 404


def test_filled_pdf_becomes_a_case_with_the_original_kept(api: Api, ctx: GatewayContext) -> None:
    pdf = fill("personenstandsurkunde", form("personenstandsurkunde"), APPLICANT)
    r = api.http.post(
        "/v1/submissions/pdf",
        files={"file": ("antrag.pdf", pdf, "application/pdf")},
        headers=api.portal,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "submitted"
    assert body["service_id"] == "personenstandsurkunde"
    [att] = body["attachments"]
    assert att["purpose"] == "antragsformular"
    receipt = api.http.get(f"/v1/submissions/{body['id']}/receipt.pdf", headers=api.portal)
    assert receipt.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.content)).pages)
    assert body["case"]["case_number"] in text
    assert "24,00 €" in text  # 12 € + 2 further copies at 6 €


def test_pdf_with_invalid_fields_gets_the_same_errors_as_json(
    api: Api, ctx: GatewayContext
) -> None:
    data = form("personenstandsurkunde")
    data["beurkundung"]["ereignisdatum"] = "31.02.1990"  # no such day
    pdf = fill("personenstandsurkunde", data, APPLICANT)
    r = api.http.post("/v1/submissions/pdf", files={"file": ("a.pdf", pdf)}, headers=api.portal)
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/form_data/beurkundung/ereignisdatum"
    with ctx.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
    assert [p for p in (ctx.settings.data_dir / "blobs").rglob("*") if p.is_file()] == []


def test_unusable_pdfs(api: Api) -> None:
    cases = [
        (PNG_BYTES, 415, None),
        (b"%PDF-1.7\n broken \x00", 400, None),
        (_plain_pdf(), 422, "foreign"),
        (_plain_pdf("ozg-gateway-form;offer=aem-meldung;version=0"), 422, "flattened"),
    ]
    for content, status, code in cases:
        r = api.http.post(
            "/v1/submissions/pdf", files={"file": ("x.pdf", content)}, headers=api.portal
        )
        assert r.status_code == status, (code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        if code:
            assert r.json()["errors"][0] == {
                "pointer": "/file",
                "code": code,
                "detail": r.json()["detail"],
            }


def test_receipt_needs_a_submitted_case(api: Api) -> None:
    body = {"service_id": "aem-meldung", "form_data": form("aem-meldung")}
    sid = api.http.post("/v1/submissions", json=body, headers=api.portal).json()["id"]
    assert api.http.get(f"/v1/submissions/{sid}/receipt.pdf", headers=api.portal).status_code == 409
