"""Status answers that arrive as messages (XTA): read, checked against the case they name,
applied like a back office's ``POST /v1/cases/{id}/status``.

Only the channel a case was sent through may answer for it: the case must have a delivery
to the receiving connector. The answer's PDF attachment, if any, becomes the update's
document. A message that cannot be applied is recorded as rejected with the reason (shown in
the console) and closed, so it is neither fetched again nor silently lost.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ozg_gateway.cases import status as case_status
from ozg_gateway.connectors.contract import InboundFile, InboundMessage
from ozg_gateway.context import GatewayContext
from ozg_gateway.logging import get_logger
from ozg_gateway.mappings.status_answer import (
    StatusAnswer,
    StatusAnswerError,
    parse_status_answer,
)
from ozg_gateway.store.blobs import PendingBlob
from ozg_gateway.store.models import Case, Delivery
from ozg_gateway.store.models import InboundMessage as InboundRow

log = get_logger("ozg_gateway.answers")


def _read(ctx: GatewayContext, file: InboundFile, limit: int) -> bytes | None:
    blob: PendingBlob = file.blob
    blob.finish()
    if blob.size > limit:
        return None
    return b"".join(ctx.blobs.read_pending(blob))


def _document(
    ctx: GatewayContext, files: tuple[InboundFile, ...]
) -> case_status.StatusDocument | None:
    for file in files:
        if file.primary or file.content_type != "application/pdf":
            continue
        data = _read(ctx, file, case_status.DOCUMENT_BYTES)
        if data is None:
            continue
        document = case_status.StatusDocument(file.name[:200], file.content_type, data)
        if case_status.document_problem(document) is None:
            return document
    return None


def apply_answer(ctx: GatewayContext, *, connector: str, message: InboundMessage) -> bool:
    """Apply one status answer and record the message; False when refused (with reason)."""
    try:
        primary = next((f for f in message.files if f.primary), None)
        data = _read(ctx, primary, 64 * 1024) if primary else None
        if data is None:
            return _record(ctx, connector, message, None, "Statusmeldung fehlt oder ist zu groß")
        try:
            answer = parse_status_answer(data)
        except StatusAnswerError as exc:
            return _record(ctx, connector, message, None, str(exc))
        document = _document(ctx, message.files)
    finally:
        for file in message.files:
            file.blob.discard()  # the answer's content lives on in the status update
    try:
        return _apply(ctx, connector, message, answer, document)
    except IntegrityError:
        return False  # the same message, committed by another instance at the same moment


def _apply(
    ctx: GatewayContext,
    connector: str,
    message: InboundMessage,
    answer: StatusAnswer,
    document: case_status.StatusDocument | None,
) -> bool:
    with ctx.db.writing() as session:
        case = session.scalar(select(Case).where(Case.case_number == answer.case_number))
        sent_here = case is not None and session.scalar(
            select(Delivery.id).where(Delivery.case_id == case.id, Delivery.connector == connector)
        )
        if case is None or not sent_here:
            reason = "Vorgang unbekannt oder nicht über diese Verbindung zugestellt"
            return _add(session, ctx, connector, message, None, reason)
        case_status.report(
            ctx,
            session,
            case=case,
            status=answer.status,
            note=answer.note,
            occurred_at=answer.occurred_at,
            reported_by=f"connector:{connector}"[:64],
            update_id=(answer.answer_id or f"{connector}:{message.external_id}")[:100],
            document=document,
        )
        return _add(session, ctx, connector, message, case.id, None)


def _record(
    ctx: GatewayContext, connector: str, message: InboundMessage, case_id: str | None, reason: str
) -> bool:
    try:
        with ctx.db.writing() as session:
            return _add(session, ctx, connector, message, case_id, reason)
    except IntegrityError:
        return False  # recorded by another instance


def _add(
    session: Session,
    ctx: GatewayContext,
    connector: str,
    message: InboundMessage,
    case_id: str | None,
    reason: str | None,
) -> bool:
    session.add(
        InboundRow(
            id=ctx.ids(),
            connector=connector,
            external_id=message.external_id,
            status="status" if reason is None else "rejected",
            message_type=(message.message_type or "")[:200] or None,
            case_id=case_id,
            detail=reason[:300] if reason else None,
            received_at=ctx.clock(),
        )
    )
    if reason is not None:
        log.warning("status answer refused", connector=connector, reason=reason)
    return reason is None
