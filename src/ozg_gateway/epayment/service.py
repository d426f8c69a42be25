"""Payment flow: start an attempt, pull the provider's status, apply guarded transitions.

States: ``open`` (provider INITIAL) → ``paid`` | ``failed`` | ``canceled``; ``expired`` when open
too long (a late PAYED still wins and is flagged for reconciliation); ``abandoned`` when the
create call's outcome is unknown (timeout, PAYMENT_EXISTS) — never retried blindly, the portal
starts a new attempt with a new requestId. Every transition is a conditional UPDATE on the
expected current state, so concurrent polls and returns cannot move a payment backwards or
book it twice.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox, schedule
from ozg_gateway.epayment.provider import PaymentOrder, PaymentProvider, Transaction
from ozg_gateway.errors import (
    ConnectorError,
    FieldError,
    Problem,
    TransientError,
    not_found,
    validation_problem,
)
from ozg_gateway.logging import get_logger
from ozg_gateway.redaction import scrub
from ozg_gateway.store import clients
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.models import Case, Payment, Submission, TimelineEvent

log = get_logger("ozg_gateway.payments")

OPEN, PAID, FAILED, CANCELED, EXPIRED, ABANDONED = (
    "open",
    "paid",
    "failed",
    "canceled",
    "expired",
    "abandoned",
)
_FROM_PROVIDER = {"INITIAL": OPEN, "PAYED": PAID, "FAILED": FAILED, "CANCELED": CANCELED}
# Which current states each new state may replace (a late PAYED beats EXPIRED).
_ALLOWED_FROM = {PAID: (OPEN, EXPIRED), FAILED: (OPEN,), CANCELED: (OPEN,), EXPIRED: (OPEN,)}


def token_hash(token: str) -> str:
    """Stored form of a return token."""
    return hashlib.sha256(token.encode()).hexdigest()


def provider_client(ctx: GatewayContext) -> PaymentProvider:
    """The configured payment provider; 503 if none is usable."""
    provider = ctx.connectors.service(ctx.settings.payment_provider)
    if not isinstance(provider, PaymentProvider):
        raise Problem("unavailable", detail="Die Online-Zahlung ist nicht eingerichtet.")
    return provider


def _get(provider: PaymentProvider, payment: Payment) -> Transaction:
    assert payment.transaction_id is not None
    return provider.status(payment.transaction_id, charged_cents=payment.amount_cents)


def latest(session: Session, submission_id: str) -> Payment | None:
    """Newest payment attempt of a submission."""
    return session.scalars(
        select(Payment)
        .where(Payment.submission_id == submission_id)
        .order_by(Payment.created_at.desc())
    ).first()


def start_payment(
    ctx: GatewayContext, *, client_id: str, submission_id: str, return_url: str
) -> tuple[Payment, str | None]:
    """Create (or return the open) attempt; return it and, for a new one, its return token."""
    client = provider_client(ctx)
    now = ctx.clock()
    with ctx.db.writing() as session:
        sub = subs.get_submission(
            session, client_id=client_id, submission_id=submission_id, lock=True
        )
        if sub.case is None:
            raise Problem(
                "conflict", detail="Bitte den Antrag einreichen, bevor die Gebühr bezahlt wird."
            )
        document = subs.open_case(ctx.keyring, sub.case)
        amount = int(document["fee"]["amount_cents"])
        if amount <= 0:
            raise Problem("conflict", detail="Für diesen Antrag fällt keine Gebühr an.")
        current = latest(session, sub.id)
        if current is not None and current.status == PAID:
            raise Problem("conflict", detail="Die Gebühr ist schon bezahlt.")
        if current is not None and current.status == OPEN and current.paypage_url:
            return current, None
        if not clients.return_url_allowed(session, client_id=client_id, url=return_url):
            raise validation_problem(
                [
                    FieldError(
                        "/return_url", "not_allowed", "Rücksprungadresse ist nicht freigegeben."
                    )
                ]
            )
        token = "pay_" + secrets.token_urlsafe(24)
        payment = Payment(
            id=ctx.ids(),
            submission_id=sub.id,
            provider=ctx.settings.payment_provider or "",
            request_id=secrets.token_hex(16),  # persisted before the provider call
            status=OPEN,
            amount_cents=amount,
            return_token_hash=token_hash(token),
            portal_return_url=return_url,
            needs_reconciliation=False,
            next_check_at=schedule.first_payment_check(now, ctx.settings.delivery),
            checks=0,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(minutes=ctx.settings.payment_expiry_minutes),
        )
        session.add(payment)
        case_number = sub.case.case_number
        offer = ctx.catalog.get(sub.service_id)
    assert offer is not None
    base = ctx.settings.public_base_url.rstrip("/")
    order = PaymentOrder(
        request_id=payment.request_id,
        amount_cents=amount,
        items=fee_items(
            offer.title, amount, offer.fee.amount_cents, offer.fee.additional_copy_cents
        ),
        case_number=case_number,
        description=f"{offer.title}, Fall {case_number}",
        redirect_url=f"{base}/v1/payments/return/{token}",
        notify_url=f"{base}/v1/payments/epaybl/notify",
        now=now,
    )
    try:
        tx = client.create(order)
    except (ConnectorError, ValueError) as exc:
        # Outcome unknown or refused: do not re-post this request; the portal may start anew.
        _finish_create(ctx, payment.id, None, error=exc)
        raise Problem("unavailable", detail="Der Bezahldienst ist nicht erreichbar.") from None
    return _finish_create(ctx, payment.id, tx, error=None), token


def fee_items(title: str, amount: int, first: int, further: int) -> list[tuple[str, str, int, int]]:
    """Items (id, text, quantity, unit cents): first copy plus further copies where they add up."""
    extra = amount - first
    if further and extra > 0 and extra % further == 0:
        return [
            ("gebuehr", f"{title} (1. Exemplar)", 1, first),
            ("gebuehr-weitere", "weitere Exemplare", extra // further, further),
        ]
    return [("gebuehr", title, 1, amount)]


def _finish_create(
    ctx: GatewayContext,
    payment_id: str,
    tx: Transaction | None,
    *,
    error: ConnectorError | ValueError | None,
) -> Payment:
    with ctx.db.writing() as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        payment.updated_at = ctx.clock()
        if tx is None:
            payment.status = ABANDONED
            payment.last_error = scrub(str(error))[:300]
            log.warning("payment create failed", error_type=type(error).__name__)
        else:
            payment.transaction_id = tx.transaction_id
            payment.paypage_url = tx.paypage_url
        return payment


def refresh(ctx: GatewayContext, payment_id: str) -> Payment:
    """Pull the provider's status and apply it (never trusts the browser)."""
    with ctx.db.reading() as session:
        payment = session.get(Payment, payment_id)
        if payment is None:
            raise Problem("not-found", detail="Die Zahlung wurde nicht gefunden.")
    if payment.transaction_id is None or payment.status in (PAID, FAILED, CANCELED, ABANDONED):
        return payment
    try:
        tx = _get(provider_client(ctx), payment)
    except ConnectorError as exc:
        _schedule(ctx, payment, error=exc)
        return payment
    return apply(ctx, payment_id=payment_id, tx=tx)


def apply(ctx: GatewayContext, *, payment_id: str, tx: Transaction) -> Payment:
    """Guarded transition to the provider's state; on PAID release the held deliveries."""
    new = _FROM_PROVIDER[tx.status]
    now = ctx.clock()
    with ctx.db.writing() as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        if new == OPEN:
            _reschedule(ctx, payment, now)
            return payment
        amount_ok = tx.amount_cents in (None, payment.amount_cents)
        result = session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status.in_(_ALLOWED_FROM[new]))
            .values(
                status=new,
                reference=tx.reference,
                method=tx.method,
                paid_at=now if new == PAID else None,
                updated_at=now,
                needs_reconciliation=(payment.status == EXPIRED) or not amount_ok,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(payment)
            return payment  # another poller or return got there first
        session.refresh(payment)
        _record(ctx, session, payment, tx, now, release=new == PAID and amount_ok)
        return payment


def _record(
    ctx: GatewayContext,
    session: Session,
    payment: Payment,
    tx: Transaction,
    now: datetime,
    *,
    release: bool,
) -> None:
    sub = session.get(Submission, payment.submission_id)
    case = session.scalar(select(Case).where(Case.submission_id == payment.submission_id))
    if sub is None or case is None:
        return
    document = subs.open_case(ctx.keyring, case)
    document["payment"] = payment_info(payment, tx)
    case.payload_sealed = ctx.keyring.seal_json(document, aad=subs.case_aad(case.id))
    session.add(
        TimelineEvent(
            submission_id=sub.id,
            case_id=case.id,
            at=now,
            status=f"payment_{payment.status}",
            detail=f"Gebühr {payment.amount_cents / 100:.2f} €".replace(".", ","),
        )
    )
    if release:
        outbox.release_held(session, case_id=case.id, now=now)


def record_refund(session: Session, *, payment_id: str, now: datetime) -> Payment:
    """Mark a paid fee as refunded (providers offer no refund API: the money goes back out of
    band); raises Problem for an unknown or unpaid payment."""
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise not_found("Die Zahlung")
    if payment.status != PAID:
        raise Problem("conflict", detail="Nur bezahlte Gebühren können erstattet werden.")
    payment.status = "refunded"
    payment.needs_reconciliation = False
    payment.last_error = None
    payment.updated_at = now
    return payment


def payment_info(payment: Payment, tx: Transaction | None = None) -> dict[str, Any]:
    """Payment section of the case document."""
    return {
        "status": payment.status.upper(),
        "provider": payment.provider,
        "transaction_id": payment.transaction_id,
        "reference": payment.reference or (tx.reference if tx else None),
        "method": payment.method or (tx.method if tx else None),
        "amount_cents": payment.amount_cents,
        "paid_at": payment.paid_at.isoformat() if payment.paid_at else None,
    }


def _reschedule(ctx: GatewayContext, payment: Payment, now: datetime) -> None:
    payment.checks += 1
    payment.next_check_at = schedule.next_payment_check(payment.checks, now, ctx.settings.delivery)
    payment.updated_at = now


def _schedule(ctx: GatewayContext, payment: Payment, *, error: ConnectorError) -> None:
    with ctx.db.writing() as session:
        row = session.get(Payment, payment.id)
        if row is not None:
            _reschedule(ctx, row, ctx.clock())
            row.last_error = scrub(str(error))[:300]


def poll_open(ctx: GatewayContext, *, limit: int = 50) -> int:
    """Check due open attempts with backoff; expire those open too long. Returns checks made."""
    now = ctx.clock()
    with ctx.db.writing() as session:
        session.execute(
            update(Payment)
            .where(
                Payment.status == OPEN,
                Payment.expires_at <= now,
                Payment.transaction_id.is_not(None),
            )
            .values(status=EXPIRED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        due = list(
            session.scalars(
                select(Payment.id)
                .where(Payment.status.in_((OPEN, EXPIRED)), Payment.next_check_at <= now)
                .where(Payment.transaction_id.is_not(None))
                .where(Payment.created_at >= now - timedelta(days=7))
                .limit(limit)
            )
        )
    for payment_id in due:
        try:
            refreshed = refresh(ctx, payment_id)
        except TransientError:
            continue
        if refreshed.status == EXPIRED:
            with ctx.db.writing() as session:
                row = session.get(Payment, payment_id)
                if row is not None:
                    _reschedule(ctx, row, now)
    return len(due)


def notification(ctx: GatewayContext, fields: dict[str, str]) -> Payment | None:
    """An ePayBL notification: verify its hash, then confirm by a status call (never trusted).

    Returns None for an unknown Kassenzeichen; raises Problem 401 for a bad hash. A repeated
    notification changes nothing: the transition is guarded.
    """
    try:
        transaction_id = provider_client(ctx).verify_notification(fields)
    except LookupError:
        raise Problem(
            "not-found", detail="Dieser Bezahldienst sendet keine Benachrichtigungen."
        ) from None
    if transaction_id is None:
        log.warning("payment notification rejected", error_code="bad_hash")
        raise Problem("unauthorized", detail="Die Signatur der Benachrichtigung ist ungültig.")
    with ctx.db.reading() as session:
        payment = session.scalar(select(Payment).where(Payment.transaction_id == transaction_id))
    if payment is None:
        return None
    return refresh(ctx, payment.id)
