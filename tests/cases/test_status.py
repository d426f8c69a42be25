"""Case status from back offices: forward only, idempotent, notes sealed, shown to portals."""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import select

from ozg_gateway.context import GatewayContext
from ozg_gateway.store.models import CaseStatusUpdate
from tests.conftest import BACKOFFICE_KEY, OTHER_PORTAL_KEY, Api, FrozenClock
from tests.factories import aem_submission

BACKOFFICE = {"Authorization": f"Bearer {BACKOFFICE_KEY}"}
NOTE = "Bitte senden Sie uns ein Foto der Stelle."


def _case(api: Api, ctx: GatewayContext) -> tuple[str, str]:
    body = aem_submission(ctx.today())
    body["submit"] = True
    r = api.http.post("/v1/submissions", json=body, headers=api.portal)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["case"]["id"]


def _report(api: Api, case_id: str, **body: object) -> dict[str, object]:
    r = api.http.post(f"/v1/cases/{case_id}/status", json=body, headers=BACKOFFICE)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_status_moves_forward_and_reaches_the_portal(
    api: Api, ctx: GatewayContext, clock: FrozenClock
) -> None:
    sid, case_id = _case(api, ctx)
    assert api.http.get(f"/v1/submissions/{sid}", headers=api.portal).json()["processing"] == (
        "SUBMITTED"
    )
    first = _report(api, case_id, status="received")
    assert (first["monitor_status"], first["changed"]) == ("RECEIVED", True)
    clock.advance(minutes=5)
    asked = _report(api, case_id, status="action_required", note=NOTE, update_id="u-2")
    assert (asked["monitor_status"], asked["note"]) == ("ACTION_REQUIRED", NOTE)
    view = api.http.get(f"/v1/submissions/{sid}", headers=api.portal).json()
    assert view["processing"] == "ACTION_REQUIRED"
    step = view["timeline"][-1]
    assert step["status"] == "status_action_required"
    assert step["note"] == NOTE
    assert "Stadt Maintal" in view["timeline"][-2]["title"]  # the office by name
    with ctx.db.reading() as session:  # the note is sealed at rest
        row = session.scalars(
            select(CaseStatusUpdate).where(CaseStatusUpdate.update_id == "u-2")
        ).one()
        assert row.note_sealed is not None
        assert NOTE.encode() not in row.note_sealed


def test_repeated_late_and_backward_updates_change_nothing(
    api: Api, ctx: GatewayContext, clock: FrozenClock
) -> None:
    _, case_id = _case(api, ctx)
    _report(api, case_id, status="in_progress", update_id="a")
    assert _report(api, case_id, status="in_progress", update_id="a")["changed"] is False
    assert _report(api, case_id, status="received")["changed"] is False  # backwards
    late = (clock() - timedelta(hours=1)).isoformat()
    assert _report(api, case_id, status="completed", occurred_at=late)["changed"] is False
    clock.advance(minutes=1)
    done = _report(api, case_id, status="completed")
    assert (done["changed"], done["monitor_status"]) == (True, "COMPLETED")
    clock.advance(minutes=1)
    again = _report(api, case_id, status="in_progress")  # after the end nothing moves
    assert (again["changed"], again["status"]) == (False, "completed")
    with ctx.db.reading() as session:
        assert len(session.scalars(select(CaseStatusUpdate)).all()) == 2


def test_only_the_offers_back_office_and_a_note_where_the_citizen_must_act(
    api: Api, ctx: GatewayContext
) -> None:
    _, case_id = _case(api, ctx)
    missing = api.http.post(
        f"/v1/cases/{case_id}/status", json={"status": "action_required"}, headers=BACKOFFICE
    )
    assert missing.status_code == 422
    assert "was zu tun ist" in missing.text
    too_long = api.http.post(
        f"/v1/cases/{case_id}/status",
        json={"status": "rejected", "note": "x" * 1001},
        headers=BACKOFFICE,
    )
    assert too_long.status_code == 422
    portal = api.http.post(
        f"/v1/cases/{case_id}/status",
        json={"status": "received"},
        headers={"Authorization": f"Bearer {OTHER_PORTAL_KEY}"},
    )
    assert portal.status_code == 403


NOTICE = b"%PDF-1.7\n% Bescheid\n" + b"0" * 4000 + b"\n%%EOF\n"


def test_a_notice_pdf_goes_with_an_update_to_the_portal_only(api: Api, ctx: GatewayContext) -> None:
    sid, case_id = _case(api, ctx)
    document = {
        "filename": "Bescheid Müller.pdf",
        "content_base64": base64.b64encode(NOTICE).decode(),
    }
    done = _report(api, case_id, status="completed", note="Erledigt.", document=document)
    assert done["changed"] is True
    step = api.http.get(f"/v1/submissions/{sid}", headers=api.portal).json()["timeline"][-1]
    assert step["document"]["filename"] == "Bescheid Müller.pdf"
    assert step["document"]["size"] == len(NOTICE)
    got = api.http.get(step["document"]["href"], headers=api.portal)
    assert got.status_code == 200
    assert got.content == NOTICE
    assert got.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''Bescheid%20M%C3%BCller.pdf" in got.headers["content-disposition"]
    other = api.http.get(
        step["document"]["href"], headers={"Authorization": f"Bearer {OTHER_PORTAL_KEY}"}
    )
    assert other.status_code in (403, 404)
    with ctx.db.reading() as session:  # encrypted at rest, name sealed
        row = session.scalars(select(CaseStatusUpdate)).one()
        assert row.document_ref is not None
        assert row.document_name_sealed is not None
        assert b"M\xc3\xbcller" not in row.document_name_sealed
        files = list(ctx.settings.data_dir.rglob(row.document_ref))
        assert len(files) == 1
        stored = files[0].read_bytes()
        assert b"Bescheid" not in stored
    case = api.http.get(f"/v1/cases/{case_id}", headers=BACKOFFICE).json()
    listed = case["document"]["status_updates"][-1]["document"]
    assert listed["size"] == len(NOTICE)


def test_a_document_that_is_no_pdf_is_refused_and_nothing_is_written(
    api: Api, ctx: GatewayContext
) -> None:
    _, case_id = _case(api, ctx)
    for content in (base64.b64encode(b"<html>").decode(), "QUJDR", "***"):
        r = api.http.post(
            f"/v1/cases/{case_id}/status",
            json={
                "status": "completed",
                "document": {"filename": "a.pdf", "content_base64": content},
            },
            headers=BACKOFFICE,
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["pointer"].startswith("/document")
    with ctx.db.reading() as session:
        assert session.scalars(select(CaseStatusUpdate)).all() == []
