"""Reconciliation: local payment records against what the provider says now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ozg_gateway.context import GatewayContext
from ozg_gateway.epayment import service
from ozg_gateway.errors import ConnectorError, PermanentError
from ozg_gateway.store.models import Payment

_PROVIDER_STATE = {
    "INITIAL": service.OPEN,
    "PAYED": service.PAID,
    "FAILED": service.FAILED,
    "CANCELED": service.CANCELED,
}


@dataclass
class Report:
    """Checked attempts and the mismatches found."""

    checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable report."""
        head = f"checked {self.checked} payment(s), {len(self.mismatches)} mismatch(es)"
        return [head, *(f"  - {m}" for m in self.mismatches)]


def reconcile(ctx: GatewayContext, *, since: datetime) -> Report:
    """Ask the provider about every attempt with a transaction since ``since``."""
    client = service.provider_client(ctx)
    report = Report()
    with ctx.db.reading() as session:
        payments = list(
            session.scalars(
                select(Payment)
                .where(Payment.created_at >= since, Payment.transaction_id.is_not(None))
                .order_by(Payment.created_at)
            )
        )
    for p in payments:
        report.checked += 1
        assert p.transaction_id is not None
        try:
            tx = client.status(p.transaction_id, charged_cents=p.amount_cents)
        except PermanentError:
            report.mismatches.append(
                f"{p.id}: transaction {p.transaction_id} unknown to the provider"
            )
            continue
        except ConnectorError as exc:
            report.mismatches.append(f"{p.id}: provider not reachable ({type(exc).__name__})")
            continue
        theirs = _PROVIDER_STATE[tx.status]
        ours = p.status if p.status != service.EXPIRED else service.OPEN
        if theirs != ours and p.status != "refunded":
            report.mismatches.append(f"{p.id}: status here {p.status}, at the provider {tx.status}")
        if tx.amount_cents is not None and tx.amount_cents != p.amount_cents:
            report.mismatches.append(
                f"{p.id}: amount here {p.amount_cents} ct, at the provider {tx.amount_cents} ct"
            )
        if p.needs_reconciliation:
            report.mismatches.append(f"{p.id}: flagged for reconciliation (late or odd payment)")
    return report
