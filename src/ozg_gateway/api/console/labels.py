"""German words and formats of the console: states, times, durations, amounts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

CONNECTOR_STATES = {
    "up": "in Betrieb",
    "degraded": "beeinträchtigt",
    "down": "gestört",
    "unknown": "unbekannt",
}
BREAKER = {"closed": "geschlossen", "half_open": "halb offen", "open": "offen"}
DELIVERY_STATUS = {
    "pending": "wartet",
    "held": "wartet auf Zahlung",
    "leased": "abgeholt, unbestätigt",
    "in_flight": "wird zugestellt",
    "delivered": "zugestellt",
    "dead": "gescheitert",
    "cancelled": "abgebrochen",
}
ATTEMPT_OUTCOME = {
    "delivered": "zugestellt",
    "transient": "vorübergehender Fehler",
    "permanent": "abgewiesen",
    "config": "Konfigurationsfehler",
    "auth": "Anmeldung abgelehnt",
    "bug": "Fehler im Connector",
    "error": "Fehler",
}
# error classes of attempts (exception names) in words an operator acts on
ERROR_CLASSES = {
    "PermanentError": "Empfänger weist ab",
    "TransientError": "Empfänger vorübergehend nicht erreichbar",
    "ConnectorAuthError": "Anmeldung beim Empfänger abgelehnt",
    "ConnectorConfigError": "Konfiguration fehlerhaft",
    "ConnectorBug": "Fehler im Connector",
}
REPORTS = {"open": "offen", "green": "grün", "yellow": "gelb", "red": "rot"}
PAYMENT_STATUS = {
    "open": "offen",
    "paid": "bezahlt",
    "failed": "fehlgeschlagen",
    "canceled": "abgebrochen",
    "expired": "abgelaufen",
    "refunded": "erstattet",
}
IDENTIFICATION_STATUS = {
    "started": "begonnen",
    "ready": "erfolgreich, nicht eingelöst",
    "failed": "fehlgeschlagen",
    "redeemed": "eingelöst",
}
INBOUND_STATUS = {"accepted": "angenommen", "status": "Statusmeldung", "rejected": "abgelehnt"}
CHANNELS = {"online": "Online-Verfahren", "pdf": "PDF-Formular", "hybrid": "online und PDF"}
EID_MODES = {"none": "keine", "optional": "freiwillig", "required": "erforderlich"}
LEVELS = {"substantial": "substanziell", "high": "hoch"}


def word(table: dict[str, str], value: str | None) -> str:
    """The German word for a state; unknown states are shown as they are."""
    if value is None:
        return "–"
    return table.get(value, value)


def local_time(value: datetime | None) -> str:
    """``01.12.2026, 14:05:09`` in Europe/Berlin."""
    if value is None:
        return "–"
    return value.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M:%S")


def duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3 h 10 min``, ``2 Tage``."""
    if seconds is None:
        return "–"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 48 * 3600:
        hours, rest = divmod(s, 3600)
        return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"
    return f"{s // 86400} Tage"


def euro(cents: int | None) -> str:
    """``12,50 €``."""
    if cents is None:
        return "–"
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d} €"
