"""A case's processing status as its back office reports it, and the rules it moves by.

States follow the federal status monitor (see ../shared/specs/bundid/NOTES.md):

=================  ====================  ============================================
ours               status monitor        meaning for the citizen
=================  ====================  ============================================
received           RECEIVED              the office has the application
in_progress        PROCESSING            it is being worked on
action_required    ACTION_REQUIRED       the citizen must do something (the note says)
completed          COMPLETED             done
rejected           COMPLETED             done, refused (the note says why)
withdrawn          COMPLETED             withdrawn
=================  ====================  ============================================

(Before any report a submitted case is SUBMITTED.) An update can never move a case backwards:
a final state stays, ``received`` cannot follow work, and an update that happened before the
last one applied (late or out of order) changes nothing. Repeating an update (same
``update_id``, or the same state and note again) is answered with the current state.

An update may carry one document (a notice PDF): stored encrypted like attachments, named in
the case document, and offered to the portal with the timeline step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.store import submissions as store
from ozg_gateway.store.models import ApiClient, Case, CaseStatusUpdate, Submission

Status = Literal["received", "in_progress", "action_required", "completed", "rejected", "withdrawn"]
MONITOR: dict[str, str] = {
    "received": "RECEIVED",
    "in_progress": "PROCESSING",
    "action_required": "ACTION_REQUIRED",
    "completed": "COMPLETED",
    "rejected": "COMPLETED",
    "withdrawn": "COMPLETED",
}
_RANK = {
    "received": 1,
    "in_progress": 2,
    "action_required": 2,
    "completed": 3,
    "rejected": 3,
    "withdrawn": 3,
}
NOTE_CHARS = 1000
DOCUMENT_TYPES = {"application/pdf": b"%PDF-"}
DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class StatusDocument:
    """A document sent with an update (checked by :func:`document_problem` first)."""

    filename: str
    content_type: str
    data: bytes


def document_problem(document: StatusDocument) -> str | None:
    """Why a document cannot go with an update (German), or None."""
    magic = DOCUMENT_TYPES.get(document.content_type)
    if magic is None:
        return "Als Dokument zum Status ist nur ein PDF (application/pdf) möglich."
    if len(document.data) > DOCUMENT_BYTES:
        return "Das Dokument ist größer als 10 MB."
    if not document.data.startswith(magic):
        return "Das Dokument ist kein PDF."
    return None


@dataclass(frozen=True)
class Current:
    """Where a case stands: the last applied update (None: nothing reported yet)."""

    status: str | None
    note: str | None
    occurred_at: datetime | None

    @property
    def monitor(self) -> str:
        """The status monitor's word for it."""
        return MONITOR[self.status] if self.status else "SUBMITTED"


def current(ctx: GatewayContext, session: Session, case_id: str) -> Current:
    """The last applied update of a case."""
    row = session.scalars(
        select(CaseStatusUpdate)
        .where(CaseStatusUpdate.case_id == case_id)
        .order_by(CaseStatusUpdate.occurred_at.desc(), CaseStatusUpdate.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return Current(None, None, None)
    note = (
        ctx.keyring.open_json(row.note_sealed, aad=store.status_note_aad(case_id))
        if row.note_sealed
        else None
    )
    return Current(row.status, str(note) if note else None, row.occurred_at)


def allowed(now: Current, status: str, occurred_at: datetime) -> bool:
    """Whether an update moves the case forward (never back, never out of order)."""
    if now.status is None:
        return True
    if now.occurred_at is not None and occurred_at < now.occurred_at:
        return False  # late: a newer word is already applied
    if _RANK[now.status] == 3:
        return False  # final
    if _RANK[status] > _RANK[now.status]:
        return True
    return _RANK[status] == _RANK[now.status] == 2 and status != now.status


def report(
    ctx: GatewayContext,
    session: Session,
    *,
    case: Case,
    status: str,
    note: str | None,
    occurred_at: datetime,
    reported_by: str,
    update_id: str | None,
    document: StatusDocument | None = None,
) -> tuple[Current, bool]:
    """Apply a back office's update in the caller's transaction; returns the state and whether
    it changed. The submission's timeline gets a step the portal shows."""
    if update_id is not None:
        seen = session.scalar(
            select(CaseStatusUpdate.id).where(
                CaseStatusUpdate.case_id == case.id, CaseStatusUpdate.update_id == update_id
            )
        )
        if seen is not None:
            return current(ctx, session, case.id), False
    now = current(ctx, session, case.id)
    if (now.status, now.note) == (status, note) or not allowed(now, status, occurred_at):
        return now, False
    row = CaseStatusUpdate(
        case_id=case.id,
        status=status,
        note_sealed=ctx.keyring.seal_json(note, aad=store.status_note_aad(case.id))
        if note
        else None,
        occurred_at=occurred_at,
        reported_by=reported_by,
        update_id=update_id,
        recorded_at=ctx.clock(),
    )
    if document is not None:
        _store_document(ctx, case.id, row, document)
    session.add(row)
    case.updated_at = ctx.clock()
    case.processing = status
    index = _into_document(ctx, case, row, note=note)
    _mail_applicant(ctx, case, index)
    sub = session.get(Submission, case.submission_id) if case.submission_id else None
    if sub is not None:
        store.add_event(sub, at=occurred_at, status=f"status_{status}", case_id=case.id)
        _tell_portal(ctx, session, case=case, sub=sub, status=status, occurred_at=occurred_at)
    session.flush()
    return Current(status, note, occurred_at), True


def _store_document(
    ctx: GatewayContext, case_id: str, row: CaseStatusUpdate, document: StatusDocument
) -> None:
    # Written before the commit: a failed transaction leaves an unreferenced encrypted blob,
    # never a status row without its document.
    blob = ctx.blobs.begin(ctx.ids().replace("-", ""))
    try:
        blob.write(document.data)
        blob.finish()
        blob.place()
    except BaseException:
        blob.discard()
        raise
    row.document_ref = blob.ref
    row.document_name_sealed = ctx.keyring.seal(
        document.filename.encode(), aad=store.status_document_aad(case_id)
    )
    row.document_type = document.content_type
    row.document_size = blob.size
    row.document_sha256 = blob.sha256


def _into_document(
    ctx: GatewayContext, case: Case, row: CaseStatusUpdate, *, note: str | None
) -> int:
    """The update joins the (sealed) case document, which back offices fetched later and the
    applicant's e-mail read; returns its position."""
    document = store.open_case(ctx.keyring, case)
    updates = document.setdefault("status_updates", [])
    entry: dict[str, object] = {
        "status": row.status,
        "monitor_status": MONITOR[row.status],
        "note": note,
        "occurred_at": row.occurred_at.isoformat(),
    }
    if row.document_ref is not None:
        entry["document"] = {
            "content_type": row.document_type,
            "size": row.document_size,
            "sha256": row.document_sha256,
        }
    updates.append(entry)
    case.payload_sealed = ctx.keyring.seal_json(document, aad=store.case_aad(case.id))
    return len(updates) - 1


def _mail_applicant(ctx: GatewayContext, case: Case, index: int) -> None:
    """A status e-mail through the outbox, for offers that want one and a configured server."""
    offer = ctx.catalog.get(case.service_id)
    notifier = ctx.settings.mail_notifier
    if offer is None or not offer.notify_applicant or notifier is None:
        return
    outbox.enqueue_notice(
        case=case,
        connector=notifier,
        delivery_id=ctx.ids(),
        progress={"update": index},
        now=ctx.clock(),
    )


def _tell_portal(
    ctx: GatewayContext,
    session: Session,
    *,
    case: Case,
    sub: Submission,
    status: str,
    occurred_at: datetime,
) -> None:
    """A status webhook to the portal that filed the case, through the outbox, in the same
    transaction as the update: a crash after the commit loses nothing."""
    notifier = ctx.settings.status_notifier
    client = session.get(ApiClient, sub.client_id)
    if notifier is None or client is None or not client.status_url:
        return
    outbox.enqueue_notice(
        case=case,
        connector=notifier,
        delivery_id=ctx.ids(),
        progress={
            "url": client.status_url,
            "event": {
                "type": "submission.status",
                "timestamp": ctx.clock().isoformat(),
                "data": {
                    "submission_id": sub.id,
                    "case_number": case.case_number,
                    "status": status,
                    "monitor_status": MONITOR[status],
                    "occurred_at": occurred_at.isoformat(),
                },
            },
        },
        now=ctx.clock(),
    )


@dataclass(frozen=True)
class Shown:
    """What the portal shows with a status step: the note and the document, if any."""

    note: str | None
    document_id: int | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None


def for_portal(
    ctx: GatewayContext, session: Session, case: Case
) -> tuple[str, dict[tuple[str, datetime], Shown]]:
    """The status monitor's word for a case and its notes and documents by (status, time);
    no query for a case nothing was reported about yet."""
    if case.processing is None:
        return "SUBMITTED", {}
    rows = session.scalars(
        select(CaseStatusUpdate)
        .where(CaseStatusUpdate.case_id == case.id)
        .order_by(CaseStatusUpdate.occurred_at, CaseStatusUpdate.id)
    ).all()
    case_id = case.id
    shown = {
        (row.status, row.occurred_at): Shown(
            note=str(ctx.keyring.open_json(row.note_sealed, aad=store.status_note_aad(case_id)))
            if row.note_sealed is not None
            else None,
            document_id=row.id if row.document_ref else None,
            filename=document_filename(ctx, row) if row.document_ref else None,
            content_type=row.document_type,
            size=row.document_size,
        )
        for row in rows
        if row.note_sealed is not None or row.document_ref is not None
    }
    return MONITOR[case.processing], shown


def document_filename(ctx: GatewayContext, row: CaseStatusUpdate) -> str:
    """The file name of an update's document (sealed: it may name the citizen)."""
    if row.document_name_sealed is None:
        return "Dokument.pdf"
    aad = store.status_document_aad(row.case_id)
    return ctx.keyring.open(row.document_name_sealed, aad=aad).decode()


def document_of(session: Session, *, case_id: str, document_id: int) -> CaseStatusUpdate | None:
    """The update of a case that carries document ``document_id``."""
    row = session.get(CaseStatusUpdate, document_id)
    if row is None or row.case_id != case_id or row.document_ref is None:
        return None
    return row
