"""ePayBL REST connector "Fachverfahren v1_0" (mutual TLS, JSON).

Base ``{base}/epayment/fachverfahren/v1_0/mandanten/{mandant}/bewirtschafter/{bewirtschafter}``:
``GET status`` (``ergebnis.rc == "+0000"``), ``GET zahlverfahren``, ``POST buchungslisten``
(creates the Kassenzeichen and returns the paypage), ``GET kassenzeichen/{kz}`` (paid when the
paypage is finished and the balance is ≤ 0). Notifications carry
``hash = hex(SHA-256(mandant, bewirtschafter, zvgid, kassenzeichen, tan, zvp, zahlverfahren,
aktivierung, status — concatenated in this order — + secret))``; they are verified in constant
time and then confirmed with a status call, never trusted alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    ConnectorType,
)
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.epayment import money
from ozg_gateway.epayment.money import to_cents, to_euros
from ozg_gateway.epayment.provider import PaymentOrder, Transaction
from ozg_gateway.errors import ConnectorConfigError, ConnectorError, PermanentError, TransientError
from ozg_gateway.http import Timeouts, TlsSettings, sync_client

NOTIFICATION_FIELDS = (
    "mandant",
    "bewirtschafter",
    "zvgid",
    "kassenzeichen",
    "tan",
    "zvp",
    "zahlverfahren",
    "aktivierung",
    "status",
)
_BUCHUNGSTEXT = re.compile(r"[^A-Z0-9 ,.:/+&\-*$%ÄÖÜß]")


class EpayblSettings(BaseModel):
    """One ePayBL tenant (Mandant) and account holder (Bewirtschafter)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="May contain {public_base_url}.")
    mandant: str = Field(pattern=r"^[\w\d-]{1,36}$")
    bewirtschafter: str = Field(pattern=r"^[\w\d-]{1,36}$")
    notify_secret: SecretStr
    haushaltsstelle: str
    objektnummer: str
    zahlverfahren: tuple[str, ...] = ("KREDITKARTE", "GIROPAY", "PAYPAL")
    faellig_in_tagen: int = Field(default=14, ge=0)
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=20, write=20)


def buchungstext(text: str) -> str:
    """≤ 21 characters from ePayBL's booking text charset."""
    return _BUCHUNGSTEXT.sub(" ", text.upper())[:21].strip()


def notification_hash(fields: Mapping[str, str], secret: str) -> str:
    """Hex SHA-256 over the notification fields in their fixed order plus the secret."""
    data = "".join(str(fields.get(name, "")) for name in NOTIFICATION_FIELDS) + secret
    return hashlib.sha256(data.encode()).hexdigest()


def verify_notification(fields: Mapping[str, str], secret: str) -> bool:
    """Constant-time check of a notification's hash."""
    given = str(fields.get("hash", ""))
    return hmac.compare_digest(given.lower(), notification_hash(fields, secret))


def build_buchungsliste(
    *,
    transaction_number: str,
    amount_cents: int,
    text: str,
    description: str,
    settings: EpayblSettings,
    urls: Mapping[str, str],
    today: datetime,
) -> dict[str, Any]:
    """Request body of ``POST buchungslisten`` (one booking, paypage)."""
    amount = to_euros(amount_cents)
    return {
        "kassenzeichennummer": None,
        "faelligkeitsdatum": (today + timedelta(days=settings.faellig_in_tagen)).date().isoformat(),
        "waehrungskennzeichen": "EUR",
        "kennzeichenMahnverfahren": "0",
        "transaktionsnummer": transaction_number,
        "zahlverfahrencodes": list(settings.zahlverfahren),
        "buchungen": [
            {
                "id": "1",
                "bruttobetrag": amount,
                "nettobetrag": amount,
                "steuerbetrag": to_euros(0),
                "buchungstext": buchungstext(text),
                "kontierung": {
                    "haushaltstelle": settings.haushaltsstelle,
                    "objektnummer": settings.objektnummer,
                },
            }
        ],
        "beschreibung": description[:250],
        "kunde": {"typ": "TEMPORAER"},
        "fachverfahrendaten": dict(urls),
        "zahltyp": "PAYPAGE",
        "betrag": amount,
    }


def _result_error(body: Mapping[str, Any]) -> ConnectorError | None:
    rc = str((body.get("ergebnis") or {}).get("rc", ""))
    if rc.startswith("+"):
        return None
    if rc == "-9999":
        return TransientError(f"ePayBL technical error {rc}", code=rc)
    if rc in ("-0611",):
        return ConnectorConfigError(f"ePayBL configuration problem {rc}", code=rc)
    return PermanentError(f"ePayBL refused ({rc or 'no result code'})", code=rc or None)


def parse_kassenzeichen(
    kassenzeichen: str, body: Mapping[str, Any], total_cents: int | None
) -> Transaction:
    """Status of a Kassenzeichen as a Transaction (paid: paypage finished and balance ≤ 0)."""
    extra = body.get("zusatzdaten") or {}
    finished = str(extra.get("paypagestatus", "")).upper() == "INAKTIV"
    balance = to_cents(extra.get("saldo", "0"))
    if finished and balance <= 0:
        status = "PAYED"
    elif finished and total_cents is not None and balance >= total_cents:
        status = "CANCELED"
    else:
        status = "INITIAL"
    paid = None if total_cents is None else total_cents - max(balance, 0)
    return Transaction(
        transaction_id=kassenzeichen,
        status=status,
        amount_cents=paid if finished else None,
        paypage_url=None,
        reference=kassenzeichen,
        method=extra.get("bezahlverfahren"),
        timestamp=None,
    )


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


CONNECTOR = ConnectorType(
    name="epaybl",
    description="ePayBL REST connector Fachverfahren v1_0 (mutual TLS).",
    settings=EpayblSettings,
    build=lambda name, settings, env: ServiceConnector(EpayblClient(name, settings, env)),
    kind="service",
)
