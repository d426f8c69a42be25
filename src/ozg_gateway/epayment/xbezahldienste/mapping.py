"""Pure parts of XBezahldienste 1.0.0: PaymentRequest, PaymentTransaction, remittance text and
the problem+json functional codes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from ozg_gateway.connectors.translate import error_for_response
from ozg_gateway.epayment.money import to_cents, to_euros
from ozg_gateway.epayment.provider import Transaction
from ozg_gateway.epayment.xbezahldienste.settings import _ID
from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    PermanentError,
    TransientError,
)

_PURPOSE_OK = re.compile(r"[^\w\d\s-]")


STATUSES = ("INITIAL", "PAYED", "FAILED", "CANCELED")


def purpose_text(prefix: str, case_number: str) -> str:
    """Remittance text: ≤ 27 characters from the allowed set, upper case."""
    return _PURPOSE_OK.sub(" ", f"{prefix}{case_number}").upper()[:27].strip()


def build_payment_request(
    *,
    request_id: str,
    now: datetime,
    amount_cents: int,
    items: list[tuple[str, str, int, int]],
    purpose: str,
    description: str,
    redirect_url: str,
    booking_data: dict[str, str],
) -> dict[str, Any]:
    """PaymentRequest; ``items`` are (id, description, quantity, unit cents), tax-free fees.

    Raises ValueError before any provider call when the items do not add up to the total.
    """
    if not 1 <= len(items) <= 99:
        raise ValueError("1 to 99 items")
    if sum(q * unit for _, _, q, unit in items) != amount_cents:
        raise ValueError("items do not add up to the amount")
    if not re.fullmatch(_ID, request_id):
        raise ValueError("requestId must be 1-36 word characters")
    return {
        "requestId": request_id,
        "requestTimestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "currency": "EUR",
        "grosAmount": to_euros(amount_cents),
        "purpose": purpose[:27],
        "description": description[:250],
        "redirectUrl": redirect_url,
        "items": [
            {
                "id": item_id[:36],
                "reference": item_id[:36],
                "description": text[:250],
                "taxRate": 0,
                "quantity": quantity,
                "singleNetAmount": to_euros(unit),
                "singleTaxAmount": to_euros(0),
                "totalNetAmount": to_euros(unit * quantity),
                "totalTaxAmount": to_euros(0),
                "bookingData": booking_data,
            }
            for item_id, text, quantity, unit in items
        ],
    }


def parse_transaction(data: dict[str, Any]) -> Transaction:
    """PaymentTransaction → Transaction (amounts to cents; unknown status is an error)."""
    info = data.get("paymentInformation") or {}
    request = data.get("paymentRequest") or {}
    status = str(info.get("status", ""))
    if status not in STATUSES or not info.get("transactionId"):
        raise PermanentError("provider answered without transactionId or with unknown status")
    amount = request.get("grosAmount")
    return Transaction(
        transaction_id=str(info["transactionId"]),
        status=status,
        amount_cents=to_cents(amount) if amount is not None else None,
        paypage_url=info.get("transactionRedirectUrl") or info.get("transactionUrl"),
        reference=info.get("transactionReference"),
        method=info.get("paymentMethod"),
        timestamp=info.get("transactionTimestamp"),
    )


class PaymentExists(PermanentError):
    """The provider already has a transaction for this requestId (it does not return it)."""


# functionalCode → what the caller should do
FUNCTIONAL_CODES: dict[str, type[ConnectorError]] = {
    "PAYMENT_EXISTS": PaymentExists,
    "CALCULATION_ERROR": PermanentError,
    "BOOKING_DATA_MISSING": ConnectorConfigError,
    "VALIDATION_ERROR": PermanentError,
    "NO_VALID_ORIGINATOR_OR_ENDPOINT": ConnectorConfigError,
    "NO_VALID_ORIGINATOR_OR_DESTINATION": ConnectorConfigError,
    "FORBIDDEN": ConnectorAuthError,
    "UNSPECIFIED": TransientError,
}


def error_from(response: httpx.Response) -> ConnectorError | None:
    """Problem+json with functionalCode → taxonomy; else by HTTP status."""
    if response.status_code < 400:
        return None
    try:
        code = str(response.json().get("functionalCode", ""))
    except (ValueError, AttributeError):
        code = ""
    cls = FUNCTIONAL_CODES.get(code)
    if cls is not None:
        return cls(f"provider: {code}", status=response.status_code, code=code)
    return error_for_response(response, what="payment provider")
