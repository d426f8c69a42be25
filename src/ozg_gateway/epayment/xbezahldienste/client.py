"""I/O of an XBezahldienste provider; implements ``PaymentProvider``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
)
from ozg_gateway.connectors.oauth import OAuth2, TokenCache
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.connectors.translate import send
from ozg_gateway.epayment import money
from ozg_gateway.epayment.provider import PaymentOrder, Transaction
from ozg_gateway.epayment.xbezahldienste.mapping import (
    build_payment_request,
    error_from,
    parse_transaction,
    purpose_text,
)
from ozg_gateway.epayment.xbezahldienste.settings import BasicAuth, XBezahldiensteSettings
from ozg_gateway.errors import (
    ConnectorAuthError,
)
from ozg_gateway.http import sync_client


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
