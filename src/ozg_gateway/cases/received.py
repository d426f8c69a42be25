"""Received messages become cases: files, case document, deliveries and the de-dup record in
one transaction.

A message id seen before (committed, or committed by another instance at the same moment)
is never a second case. XFall containers give a normalized case (applicant, form data,
persons read from the container); anything else is a raw case with its files. The original
files always belong to the case.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal, cast

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ozg_gateway.cases import answers
from ozg_gateway.cases.numbers import case_number as new_case_number
from ozg_gateway.catalog.models import Offer
from ozg_gateway.connectors.contract import InboundFile, InboundMessage
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.errors import ConnectorConfigError
from ozg_gateway.logging import get_logger
from ozg_gateway.mappings.case_document import AttachmentInfo, build_case_document
from ozg_gateway.mappings.received import CaseFields, parse_fitconnect_data
from ozg_gateway.mappings.xfall_in import is_xfall, parse_xfall
from ozg_gateway.store.blobs import PendingBlob
from ozg_gateway.store.models import Attachment, Case, TimelineEvent
from ozg_gateway.store.models import InboundMessage as InboundRow
from ozg_gateway.store.submissions import case_aad, filename_aad

log = get_logger("ozg_gateway.inbound")
XFALL_READ_LIMIT = 32 * 1024 * 1024  # bigger "containers" are kept as files only


class StoreInboundSink:
    """The gateway's InboundSink for one connector instance."""

    def __init__(self, ctx: GatewayContext, connector: str) -> None:
        self.ctx = ctx
        self.connector = connector

    async def known(self, external_id: str) -> bool:
        """Committed or rejected before."""
        return await asyncio.to_thread(self._find, external_id) is not None

    def _find(self, external_id: str) -> str | None:
        with self.ctx.db.reading() as session:
            return session.scalar(
                select(InboundRow.id).where(
                    InboundRow.connector == self.connector, InboundRow.external_id == external_id
                )
            )

    def new_blob(self) -> PendingBlob:
        """A pending, encrypted blob for one received file."""
        return self.ctx.blobs.begin(self.ctx.ids().replace("-", ""))

    async def accept(self, message: InboundMessage) -> str:
        """Commit the case; return its id (the existing one for a duplicate)."""
        return await asyncio.to_thread(self._accept, message)

    async def reject(self, *, external_id: str, message_type: str | None, reason: str) -> None:
        """Record an unsupported message so it is counted and not fetched again."""
        await asyncio.to_thread(self._reject, external_id, message_type, reason)

    async def answer(self, message: InboundMessage) -> bool:
        """Apply a back office's status answer (see :mod:`ozg_gateway.cases.answers`)."""
        return await asyncio.to_thread(
            answers.apply_answer, self.ctx, connector=self.connector, message=message
        )

    def _reject(self, external_id: str, message_type: str | None, reason: str) -> None:
        now = self.ctx.clock()
        try:
            with self.ctx.db.writing() as session:
                session.add(
                    InboundRow(
                        id=self.ctx.ids(),
                        connector=self.connector,
                        external_id=external_id,
                        status="rejected",
                        message_type=(message_type or "")[:200] or None,
                        detail=reason[:300],
                        received_at=now,
                    )
                )
        except IntegrityError:
            return  # recorded by another instance
        log.warning("inbound message rejected", connector=self.connector, message_type=message_type)

    def _content(self, primary: InboundFile | None) -> CaseFields | None:
        blob: PendingBlob | None = primary.blob if primary else None
        if blob is None or blob.size > XFALL_READ_LIMIT:
            return None
        data = b"".join(self.ctx.blobs.read(blob.ref))
        try:
            if primary is not None and "json" in primary.content_type:
                return parse_fitconnect_data(data)
            return parse_xfall(data) if is_xfall(data) else None
        except Exception:  # noqa: BLE001 - an odd payload must not block the message: raw case
            log.warning("inbound payload not readable, kept as files", connector=self.connector)
            return None

    def _accept(self, message: InboundMessage) -> str:
        offer = self.ctx.catalog.get(message.offer_id)
        if offer is None:
            raise ConnectorConfigError(f"inbound offer {message.offer_id} is not in the catalogue")
        blobs: list[PendingBlob] = [f.blob for f in message.files]
        try:
            for blob in blobs:
                blob.finish()
                blob.place()
            primary = next((f for f in message.files if f.primary), None)
            content = self._content(primary)
            case_id = self._commit(message, offer, content)
        except IntegrityError:
            for blob in blobs:
                blob.discard()
            existing = self._find_case(message.external_id)
            if existing is None:
                raise
            return existing
        except BaseException:
            for blob in blobs:
                blob.discard()
            raise
        log.info("inbound case created", connector=self.connector, case_id=case_id)
        return case_id

    def _find_case(self, external_id: str) -> str | None:
        with self.ctx.db.reading() as session:
            return session.scalar(
                select(InboundRow.case_id).where(
                    InboundRow.connector == self.connector, InboundRow.external_id == external_id
                )
            )

    def _commit(self, message: InboundMessage, offer: Offer, content: CaseFields | None) -> str:
        ctx = self.ctx
        channel = cast(Literal["xta", "fitconnect"], message.channel)
        now = ctx.clock()
        case_id = ctx.ids()
        case_number = new_case_number(prefix=ctx.settings.case_number_prefix, now=now, ids=ctx.ids)
        rows: list[Attachment] = []
        infos: list[AttachmentInfo] = []
        for file in message.files:
            attachment_id = ctx.ids()
            blob: PendingBlob = file.blob
            purpose = "nachricht" if file.primary else None
            rows.append(
                Attachment(
                    id=attachment_id,
                    case_id=case_id,
                    blob_ref=blob.ref,
                    filename_sealed=ctx.keyring.seal(
                        file.name.encode(), aad=filename_aad(attachment_id)
                    ),
                    purpose=purpose,
                    content_type=file.content_type[:64],
                    size=blob.size,
                    sha256=blob.sha256,
                    created_at=now,
                )
            )
            infos.append(
                AttachmentInfo(
                    id=attachment_id,
                    filename=file.name,
                    content_type=file.content_type[:64],
                    size=blob.size,
                    sha256=blob.sha256,
                    purpose=purpose,
                )
            )

        def document(content: CaseFields | None) -> dict[str, Any]:
            origin: dict[str, Any] = {
                "channel": message.channel,
                "message_id": message.external_id,
                "sender": message.sender,
                "message_type": message.message_type,
                "format": content.format if content else "raw",
                "reference": content.reference if content else None,
            }
            return build_case_document(
                case_id=case_id,
                case_number=case_number,
                offer=offer,
                source=channel,
                client_id=None,
                submission_id=None,
                submitted_at=now,
                applicant=content.applicant if content else None,
                form=content.form if content else {},
                attachments=infos,
                persons=content.persons if content else (),
                origin=origin,
            )

        try:
            payload = document(content)
        except ValidationError:
            payload = document(None)  # fields that do not fit the case schema: keep the files
        with ctx.db.writing() as session:
            case = Case(
                id=case_id,
                case_number=case_number,
                submission_id=None,
                service_id=offer.id,
                source=channel,
                status="received",
                payload_sealed=ctx.keyring.seal_json(payload, aad=case_aad(case_id)),
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            session.add_all(rows)
            session.add(
                InboundRow(
                    id=ctx.ids(),
                    connector=self.connector,
                    external_id=message.external_id,
                    status="accepted",
                    message_type=(message.message_type or "")[:200] or None,
                    case_id=case_id,
                    received_at=now,
                )
            )
            session.add(
                TimelineEvent(
                    case_id=case_id,
                    at=now,
                    status="received",
                    detail=f"Fall {case_number} über {message.channel} empfangen",
                )
            )
            outbox.enqueue(case=case, routes=offer.routes, new_id=ctx.ids, now=now)
        return case_id
