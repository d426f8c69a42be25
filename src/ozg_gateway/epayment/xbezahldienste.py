"""XBezahldienste 1.0.0 (REST/JSON): settings, pure request/response mapping, client.

``POST /paymenttransaction/{originatorId}/{endPointId}`` creates a transaction and returns the
paypage (``transactionRedirectUrl``); ``GET …/{transactionId}`` tells the status (INITIAL,
PAYED, FAILED, CANCELED); ``GET /status/{originatorId}/{endPointId}`` is the health check.
Providers disagree on the order of the two path ids, so it is configurable. There is no push
notification: the status is always pulled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    ConnectorType,
)
from ozg_gateway.connectors.oauth import OAuth2, TokenCache
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.epayment import money
from ozg_gateway.epayment.money import to_cents, to_euros
from ozg_gateway.epayment.provider import PaymentOrder, Transaction
from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    PermanentError,
    TransientError,
)
from ozg_gateway.http import Timeouts, TlsSettings, sync_client

_ID = r"^[\w\d-]{1,36}$"
_PURPOSE_OK = re.compile(r"[^\w\d\s-]")
STATUSES = ("INITIAL", "PAYED", "FAILED", "CANCELED")


class BasicAuth(BaseModel):
    """HTTP Basic (ekom21 epay21)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["basic"] = "basic"
    username: str
    password: SecretStr


class NoAuth(BaseModel):
    """Mutual TLS only (ePayBL facade: client certificate in ``tls``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["none"] = "none"


class XBezahldiensteSettings(BaseModel):
    """One provider: where, who we are (originator, endpoint), how we authenticate."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="May contain {public_base_url}.")
    originator_id: str = Field(pattern=_ID)
    endpoint_id: str = Field(pattern=_ID)
    path_order: Literal["originator-endpoint", "endpoint-originator"] = "originator-endpoint"
    auth: Annotated[BasicAuth | OAuth2 | NoAuth, Field(discriminator="type")] = NoAuth()
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=20, write=20)
    booking_data: dict[str, str] = Field(default_factory=dict, description="e.g. Haushaltsstelle")
    purpose_prefix: str = Field(default="", max_length=10)


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


class XBezahldiensteClient:
    """I/O only: create, get, status. Safe to use from several threads."""

    def __init__(
        self,
        name: str,
        settings: XBezahldiensteSettings,
        env: ConnectorEnv,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.base = env.expand(settings.base_url).rstrip("/")
        self._env = env
        self._http = sync_client(timeouts=settings.timeouts, tls=settings.tls, transport=transport)
        auth = settings.auth
        self._tokens = (
            TokenCache(auth, self._http, env.expand) if isinstance(auth, OAuth2) else None
        )

    def _ids(self) -> str:
        s = self.settings
        first, second = (
            (s.originator_id, s.endpoint_id)
            if s.path_order == "originator-endpoint"
            else (s.endpoint_id, s.originator_id)
        )
        return f"{first}/{second}"

    def _headers(self) -> dict[str, str]:
        auth = self.settings.auth
        if isinstance(auth, BasicAuth):
            import base64

            raw = f"{auth.username}:{auth.password.get_secret_value()}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if self._tokens is not None:
            return {"Authorization": f"Bearer {self._tokens.bearer()}"}
        return {}

    # -- PaymentProvider --------------------------------------------------------------------
    def create(self, order: PaymentOrder) -> Transaction:
        """POST the PaymentRequest of an order."""
        return self.post_payment(
            build_payment_request(
                request_id=order.request_id,
                now=order.now,
                amount_cents=order.amount_cents,
                items=order.items,
                purpose=purpose_text(self.settings.purpose_prefix, order.case_number),
                description=order.description,
                redirect_url=order.redirect_url,
                booking_data=self.settings.booking_data,
            )
        )

    def status(self, transaction_id: str, *, charged_cents: int) -> Transaction:
        """The provider's record (it carries the gross amount itself)."""
        return self.get_transaction(transaction_id)

    def health(self) -> None:
        """200 from ``/status``: configured and reachable."""
        url = f"{self.base}/status/{self._ids()}"
        response = send(self._http, "GET", url, headers=self._headers())
        error = error_from(response)
        if error is not None:
            raise error

    def verify_notification(self, fields: Mapping[str, str]) -> str | None:
        """XBezahldienste has no push notifications: the status is always pulled."""
        raise LookupError("XBezahldienste sends no notifications")

    # -- wire calls -------------------------------------------------------------------------
    def post_payment(self, request: dict[str, Any]) -> Transaction:
        """POST a PaymentRequest."""
        url = f"{self.base}/paymenttransaction/{self._ids()}"
        content = money.dumps(request)  # exact decimal amounts
        headers = {**self._headers(), "Content-Type": "application/json"}
        response = send(self._http, "POST", url, content=content, headers=headers)
        error = error_from(response)
        if error is not None:
            if isinstance(error, ConnectorAuthError) and self._tokens is not None:
                self._tokens.forget()
            raise error
        return parse_transaction(response.json(parse_float=Decimal))

    def get_transaction(self, transaction_id: str) -> Transaction:
        """Current state of a transaction."""
        url = f"{self.base}/paymenttransaction/{self._ids()}/{transaction_id}"
        response = send(self._http, "GET", url, headers=self._headers())
        error = error_from(response)
        if error is not None:
            raise error
        return parse_transaction(response.json(parse_float=Decimal))

    def close(self) -> None:
        """Close connections."""
        self._http.close()


def _build(
    name: str, settings: XBezahldiensteSettings, env: ConnectorEnv
) -> ServiceConnector[XBezahldiensteClient]:
    return ServiceConnector(XBezahldiensteClient(name, settings, env))


CONNECTOR = ConnectorType(
    name="xbezahldienste",
    description="XBezahldienste 1.0.0 payment provider (epay21, pmPayment, ePayBL facade).",
    settings=XBezahldiensteSettings,
    build=_build,
    kind="service",
)
