"""Back offices answer over XTA with a status message: the case moves, nothing new is made."""

from __future__ import annotations

from sqlalchemy import func, select

from ozg_gateway.cases.receiving import ReceivePoller
from ozg_gateway.mappings.status_answer import build_status_answer, parse_status_answer
from ozg_gateway.store.models import Case, CaseStatusUpdate, InboundMessage
from tests.conftest import PORTAL_KEY
from tests.factories import PDF_BYTES
from tests.xta import test_connector as xta
from tests.xta.test_connector import GATEWAY, XtaEnv, _platform_sends

xenv = xta.xenv  # the XTA server and gateway of the connector tests
NOTE = "Bitte reichen Sie den Impfnachweis nach."


def _delivered_case(xenv: XtaEnv) -> tuple[str, str]:
    case_id = xenv.submit_kita()
    assert xenv.work() == 1
    with xenv.ctx.db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case_id, case.case_number


def _receive(xenv: XtaEnv) -> int:
    return int(xenv.run(ReceivePoller(xenv.ctx, xenv.ctx.connectors).receive_once("civento")))


def test_a_status_answer_moves_the_case_and_its_pdf_becomes_the_document(xenv: XtaEnv) -> None:
    case_id, number = _delivered_case(xenv)
    answer = build_status_answer(
        case_number=number, status="action_required", occurred_at=xenv.ctx.clock(), note=NOTE
    )
    _platform_sends(xenv, message_type="Statusmeldung", xml=answer)
    assert _receive(xenv) == 0  # no new case
    assert xenv.sim.mailbox(GATEWAY) == []  # closed after the commit
    with xenv.ctx.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        case = session.get(Case, case_id)
        assert case is not None
        assert case.processing == "action_required"
        update = session.scalars(select(CaseStatusUpdate)).one()
        assert update.reported_by == "connector:civento"
        assert update.document_size == len(PDF_BYTES)
        row = session.scalars(select(InboundMessage)).one()
        assert (row.status, row.case_id) == ("status", case_id)
        sid = case.submission_id
    portal = {"Authorization": f"Bearer {PORTAL_KEY}"}
    view = xenv.http.get(f"/v1/submissions/{sid}", headers=portal).json()
    assert view["processing"] == "ACTION_REQUIRED"
    step = view["timeline"][-1]
    assert step["note"] == NOTE
    assert xenv.http.get(step["document"]["href"], headers=portal).content == PDF_BYTES


def test_answers_that_cannot_apply_are_recorded_with_the_reason_and_closed(
    xenv: XtaEnv,
) -> None:
    _, number = _delivered_case(xenv)
    now = xenv.ctx.clock()
    unknown = build_status_answer(case_number="MTL-0000-X", status="completed", occurred_at=now)
    _platform_sends(xenv, message_type="Statusmeldung", xml=unknown)
    broken = build_status_answer(case_number=number, status="completed", occurred_at=now)
    _platform_sends(xenv, message_type="Statusmeldung", xml=broken.replace(b"COMPLETED", b"FERTIG"))
    assert _receive(xenv) == 0
    assert xenv.sim.mailbox(GATEWAY) == []
    with xenv.ctx.db.reading() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.detail)).all()
        assert [r.status for r in rows] == ["rejected", "rejected"]
        assert [r.detail for r in rows] == [
            "Statusmeldung entspricht nicht dem Schema (Zeile 2)",
            "Vorgang unbekannt oder nicht über diese Verbindung zugestellt",
        ]
        assert session.scalars(select(CaseStatusUpdate)).all() == []


def test_the_answer_format_round_trips_and_demands_a_note_where_the_citizen_must_act() -> None:
    from datetime import UTC, datetime

    import pytest

    from ozg_gateway.mappings.status_answer import StatusAnswerError

    when = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    parsed = parse_status_answer(
        build_status_answer(case_number="MTL-1", status="rejected", occurred_at=when, note="Nein.")
    )
    assert (parsed.case_number, parsed.status, parsed.note) == ("MTL-1", "rejected", "Nein.")
    assert parsed.occurred_at == when
    with pytest.raises(StatusAnswerError, match="Hinweis"):
        parse_status_answer(
            build_status_answer(case_number="MTL-1", status="rejected", occurred_at=when)
        )
    with pytest.raises(StatusAnswerError, match="kein gültiges XML"):
        parse_status_answer(b"<Statusmeldung")
