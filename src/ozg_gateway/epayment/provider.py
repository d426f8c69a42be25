"""What the payment flow needs from a provider, whichever it is: the ``PaymentProvider`` protocol.

XBezahldienste (epay21, pmPayment, the ePayBL facade) and the ePayBL REST connector both
implement it, so the flow (start, status, notification, reconciliation) never asks which one
it talks to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Transaction:
    """What the provider says about a transaction.

    ``status`` in XBezahldienste terms (INITIAL, PAYED, FAILED, CANCELED); ``amount_cents`` what
    the provider has on record for it (the gross amount, or for ePayBL the amount paid), None
    where the provider does not say.
    """

    transaction_id: str
    status: str
    amount_cents: int | None
    paypage_url: str | None
    reference: str | None
    method: str | None
    timestamp: str | None


@dataclass(frozen=True)
class PaymentOrder:
    """One attempt to collect a case's fee, as the flow hands it to a provider."""

    request_id: str  # persisted before the call: the provider's idempotency key
    amount_cents: int
    items: list[tuple[str, str, int, int]]  # (id, text, quantity, unit cents)
    case_number: str
    description: str
    redirect_url: str  # the citizen's way back (through the gateway)
    notify_url: str  # for providers that notify (ePayBL)
    now: datetime


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment provider as the flow uses it (contract).

    ``create`` starts the provider-side payment and returns it with its paypage; it must not be
    repeated blindly when its outcome is unknown (the flow abandons the attempt instead).
    ``status`` is the provider's current word on a transaction; ``charged_cents`` is what the
    attempt asked for (ePayBL reports a balance, which only means something against it).
    ``verify_notification`` checks a pushed notification and returns the transaction id it
    is about, None if it does not verify; providers that never notify raise LookupError.
    Calls block (I/O) and raise ConnectorError subclasses.
    """

    name: str

    def create(self, order: PaymentOrder) -> Transaction:
        """Create the payment; return it with its paypage URL."""
        ...

    def status(self, transaction_id: str, *, charged_cents: int) -> Transaction:
        """The provider's current state and amount of a transaction."""
        ...

    def health(self) -> None:
        """Raise ConnectorError when the provider is not usable."""
        ...

    def verify_notification(self, fields: Mapping[str, str]) -> str | None:
        """Transaction id of a verified notification, None if it does not verify."""
        ...

    def close(self) -> None:
        """Close connections."""
        ...
