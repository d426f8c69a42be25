"""I/O of the ePayBL REST connector; implements ``PaymentProvider``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
)
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.epayment import money
from ozg_gateway.epayment.epaybl.mapping import (
    _result_error,
    build_buchungsliste,
    parse_kassenzeichen,
    verify_notification,
)
from ozg_gateway.epayment.epaybl.settings import EpayblSettings
from ozg_gateway.epayment.provider import PaymentOrder, Transaction
from ozg_gateway.errors import PermanentError
from ozg_gateway.http import sync_client


class EpayblClient:
    """I/O only."""

    def __init__(
        self,
        name: str,
        settings: EpayblSettings,
        env: ConnectorEnv,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        base = env.expand(settings.base_url).rstrip("/")
        self.root = (
            f"{base}/epayment/fachverfahren/v1_0/mandanten/{settings.mandant}"
            f"/bewirtschafter/{settings.bewirtschafter}"
        )
        self._http = sync_client(timeouts=settings.timeouts, tls=settings.tls, transport=transport)

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = send(
            self._http,
            method,
            f"{self.root}/{path}",
            content=money.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json"} if body is not None else None,
        )
        error = error_for_response(response, what="ePayBL")
        if error is not None:
            raise error
        data: dict[str, Any] = response.json(parse_float=Decimal)  # amounts stay exact
        result_error = _result_error(data)
        if result_error is not None:
            raise result_error
        return data

    # -- PaymentProvider --------------------------------------------------------------------
    def create(self, order: PaymentOrder) -> Transaction:
        """A Buchungsliste for the order; the Kassenzeichen is the transaction id."""
        body = build_buchungsliste(
            transaction_number=order.request_id,
            amount_cents=order.amount_cents,
            text=order.case_number,
            description=order.description,
            settings=self.settings,
            urls={
                "notifyUrl": order.notify_url,
                "successUrl": order.redirect_url,
                "errorUrl": order.redirect_url,
                "cancelUrl": order.redirect_url,
            },
            today=order.now,
        )
        kassenzeichen, paypage = self.post_buchungsliste(body)
        return Transaction(
            kassenzeichen, "INITIAL", order.amount_cents, paypage, kassenzeichen, None, None
        )

    def status(self, transaction_id: str, *, charged_cents: int) -> Transaction:
        """The Kassenzeichen's state; its balance against ``charged_cents`` gives the amount
        paid and tells a cancelled paypage from a paid one."""
        return self.get_kassenzeichen(transaction_id, charged_cents)

    def health(self) -> None:
        """``rc == +0000`` from ``/status``."""
        self._json("GET", "status")

    def verify_notification(self, fields: Mapping[str, str]) -> str | None:
        """The Kassenzeichen of a notification whose hash verifies (constant time)."""
        if not verify_notification(fields, self.settings.notify_secret.get_secret_value()):
            return None
        return str(fields.get("kassenzeichen", "")) or None

    # -- wire calls -------------------------------------------------------------------------

    def zahlverfahren(self) -> list[dict[str, Any]]:
        """Enabled payment methods with their limits."""
        return list(self._json("GET", "zahlverfahren").get("zahlverfahren", []))

    def post_buchungsliste(self, body: dict[str, Any]) -> tuple[str, str]:
        """Create the Kassenzeichen; return it and the paypage URL."""
        data = self._json("POST", "buchungslisten", body)
        info = data.get("zahlvorgangsInfo") or {}
        paypage = (info.get("rechnungUrls") or {}).get("PAYPAGE")
        kassenzeichen = data.get("kassenzeichen") or info.get("kassenzeichen")
        if not paypage or not kassenzeichen:
            raise PermanentError("ePayBL answered without Kassenzeichen or paypage")
        return str(kassenzeichen), str(paypage)

    def get_kassenzeichen(self, kassenzeichen: str, total_cents: int | None = None) -> Transaction:
        """Status of a Kassenzeichen."""
        return parse_kassenzeichen(
            kassenzeichen, self._json("GET", f"kassenzeichen/{kassenzeichen}"), total_cents
        )

    def close(self) -> None:
        """Close connections."""
        self._http.close()
