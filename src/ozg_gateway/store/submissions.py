"""Submissions, attachments and cases: keyword-only service functions on a session.

Sealed columns are bound to their row by associated data, e.g. ``submission:<id>:form``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ozg_gateway.errors import Problem, not_found
from ozg_gateway.store.crypto import Keyring
from ozg_gateway.store.models import Attachment, Case, Submission, TimelineEvent

DRAFT = "draft"
SUBMITTED = "submitted"


def form_aad(submission_id: str) -> str:
    """Associated data of a submission's form data."""
    return f"submission:{submission_id}:form"


def applicant_aad(submission_id: str) -> str:
    """Associated data of a submission's applicant."""
    return f"submission:{submission_id}:applicant"


def identity_aad(submission_id: str) -> str:
    """Associated data of a submission's eID result."""
    return f"submission:{submission_id}:identity"


def open_identity(keyring: Keyring, sub: Submission) -> dict[str, Any] | None:
    """Decrypt the eID result attached to a submission, if any."""
    if sub.identity_sealed is None:
        return None
    data: dict[str, Any] = keyring.open_json(sub.identity_sealed, aad=identity_aad(sub.id))
    return data


def filename_aad(attachment_id: str) -> str:
    """Associated data of an attachment's file name."""
    return f"attachment:{attachment_id}:filename"


def case_aad(case_id: str) -> str:
    """Associated data of a case document."""
    return f"case:{case_id}:payload"


def status_note_aad(case_id: str) -> str:
    """Associated data of a back office's status note to the citizen."""
    return f"case:{case_id}:status-note"


def status_document_aad(case_id: str) -> str:
    """Associated data of the file name of a document sent with a status update."""
    return f"case:{case_id}:status-document"


def add_event(
    sub: Submission,
    *,
    at: datetime,
    status: str,
    detail: str | None = None,
    case_id: str | None = None,
) -> None:
    """Append a timeline event to a submission."""
    sub.events.append(TimelineEvent(case_id=case_id, at=at, status=status, detail=detail))


def create_submission(
    session: Session,
    *,
    keyring: Keyring,
    submission_id: str,
    client_id: str,
    service_id: str,
    form_data: dict[str, Any],
    applicant: dict[str, Any] | None,
    now: datetime,
) -> Submission:
    """Insert a draft submission."""
    sub = Submission(
        id=submission_id,
        client_id=client_id,
        service_id=service_id,
        status=DRAFT,
        form_sealed=keyring.seal_json(form_data, aad=form_aad(submission_id)),
        applicant_sealed=_seal_applicant(keyring, submission_id, applicant),
        created_at=now,
        updated_at=now,
        submitted_at=None,
    )
    add_event(sub, at=now, status="created")
    session.add(sub)
    return sub


def _seal_applicant(
    keyring: Keyring, submission_id: str, applicant: dict[str, Any] | None
) -> bytes | None:
    if applicant is None:
        return None
    return keyring.seal_json(applicant, aad=applicant_aad(submission_id))


def get_submission(
    session: Session, *, client_id: str, submission_id: str, lock: bool = False
) -> Submission:
    """A client's own submission (others are reported as not found)."""
    query = select(Submission).where(
        Submission.id == submission_id, Submission.client_id == client_id
    )
    if lock:
        query = query.with_for_update()
    sub = session.scalar(query)
    if sub is None:
        raise not_found("Der Antrag")
    return sub


def require_draft(sub: Submission) -> None:
    """Raise 409 unless the submission can still change."""
    if sub.status != DRAFT:
        raise Problem(
            "conflict", detail="Der Antrag ist eingereicht und kann nicht mehr geändert werden."
        )


def update_submission(
    *,
    keyring: Keyring,
    sub: Submission,
    form_data: dict[str, Any] | None,
    applicant: dict[str, Any] | None,
    now: datetime,
) -> Submission:
    """Replace form data and/or applicant of a draft."""
    require_draft(sub)
    if form_data is not None:
        sub.form_sealed = keyring.seal_json(form_data, aad=form_aad(sub.id))
    if applicant is not None:
        sub.applicant_sealed = _seal_applicant(keyring, sub.id, applicant)
    sub.updated_at = now
    add_event(sub, at=now, status="updated")
    return sub


def add_attachment(
    *,
    keyring: Keyring,
    sub: Submission,
    attachment_id: str,
    blob_ref: str,
    filename: str,
    purpose: str | None,
    content_type: str,
    size: int,
    sha256: str,
    now: datetime,
    max_count: int,
) -> Attachment:
    """Record an uploaded, already placed blob as an attachment of a draft."""
    require_draft(sub)
    if len(sub.attachments) >= max_count:
        raise Problem("conflict", detail=f"Höchstens {max_count} Anlagen je Antrag.")
    att = Attachment(
        id=attachment_id,
        submission_id=sub.id,
        blob_ref=blob_ref,
        filename_sealed=keyring.seal(filename.encode(), aad=filename_aad(attachment_id)),
        purpose=purpose,
        content_type=content_type,
        size=size,
        sha256=sha256,
        created_at=now,
    )
    sub.attachments.append(att)
    sub.updated_at = now
    add_event(sub, at=now, status="attachment_added")
    return att


def remove_attachment(*, sub: Submission, attachment_id: str, now: datetime) -> str:
    """Delete an attachment of a draft; return its blob ref for deletion after commit."""
    require_draft(sub)
    att = next((a for a in sub.attachments if a.id == attachment_id), None)
    if att is None:
        raise not_found("Die Anlage")
    sub.attachments.remove(att)
    sub.updated_at = now
    add_event(sub, at=now, status="attachment_removed")
    return att.blob_ref


def freeze_into_case(
    *,
    keyring: Keyring,
    sub: Submission,
    case_id: str,
    case_number: str,
    build_document: Callable[[str, str], dict[str, Any]],
    now: datetime,
) -> Case:
    """Turn a validated draft into a case in the caller's transaction."""
    require_draft(sub)
    document = build_document(case_id, case_number)
    case = Case(
        id=case_id,
        case_number=case_number,
        submission_id=sub.id,
        service_id=sub.service_id,
        source="portal",
        status="received",
        payload_sealed=keyring.seal_json(document, aad=case_aad(case_id)),
        created_at=now,
        updated_at=now,
    )
    sub.case = case
    sub.status = SUBMITTED
    sub.submitted_at = now
    sub.updated_at = now
    add_event(
        sub, at=now, status="submitted", detail=f"Fall {case_number} angelegt", case_id=case_id
    )
    return case


def open_form(keyring: Keyring, sub: Submission) -> dict[str, Any]:
    """Decrypt a submission's form data."""
    data: dict[str, Any] = keyring.open_json(sub.form_sealed, aad=form_aad(sub.id))
    return data


def open_applicant(keyring: Keyring, sub: Submission) -> dict[str, Any] | None:
    """Decrypt a submission's applicant, if any."""
    if sub.applicant_sealed is None:
        return None
    data: dict[str, Any] = keyring.open_json(sub.applicant_sealed, aad=applicant_aad(sub.id))
    return data


def open_filename(keyring: Keyring, att: Attachment) -> str:
    """Decrypt an attachment's file name."""
    return keyring.open(att.filename_sealed, aad=filename_aad(att.id)).decode()


def open_case(keyring: Keyring, case: Case) -> dict[str, Any]:
    """Decrypt a case document."""
    data: dict[str, Any] = keyring.open_json(case.payload_sealed, aad=case_aad(case.id))
    return data
