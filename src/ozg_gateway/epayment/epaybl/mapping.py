"""Pure parts of the ePayBL REST connector "Fachverfahren v1_0": Buchungsliste, notification
hash, result codes and the state of a Kassenzeichen."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ozg_gateway.epayment.epaybl.settings import EpayblSettings
from ozg_gateway.epayment.money import to_cents, to_euros
from ozg_gateway.epayment.provider import Transaction
from ozg_gateway.errors import ConnectorConfigError, ConnectorError, PermanentError, TransientError

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
