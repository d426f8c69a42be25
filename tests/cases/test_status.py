"""Case status from back offices: forward only, idempotent, notes sealed, shown to portals."""

from __future__ import annotations

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
