"""Errors the API reports as RFC 9457 ``application/problem+json``.

Exception tree (catch what you can act on)::

    GatewayError
    ├── ConfigurationError          start-up refused: fix the config file or environment
    ├── Problem                     one HTTP answer with a stable ``type`` (see PROBLEM_TYPES):
    │                               422 field errors, 404, 409 conflict, 413, 415 ...
    └── ConnectorError              an external system call failed; grouped by what to do:
        ├── ConnectorConfigError    our configuration is wrong (URL, certificate, redirect):
        │                           never retried, dead-lettered; fix the config, then replay
        ├── ConnectorAuthError      credentials rejected (401/403, SOAP permission faults):
        │                           retried with backoff (credentials get rotated), counts
        │                           towards the circuit breaker
        ├── PermanentError          the receiver rejects this message (other 4xx, schema or
        │                           validation faults): never retried, dead-lettered
        ├── TransientError          timeouts, connection errors, 408/429/5xx, technical
        │                           faults: retried with backoff (honouring Retry-After)
        └── ConnectorBug            an exception the table does not know: a bug in our
                                    connector, not a statement about the receiver. Logged once
                                    per connector and type with its traceback, retried a few
                                    times (``delivery.max_bug_attempts``), then dead-lettered;
                                    never moves the circuit breaker

Foreign exceptions become ConnectorErrors in exactly one place,
``ozg_gateway.connectors.translate``; only ``delivery.policy`` decides retry versus dead letter.
Messages never contain submitted values: field errors carry a pointer, a code and a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "/problems/"

# slug -> (status, title, what the caller should do)
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "malformed-request": (
        400,
        "Die Anfrage ist fehlerhaft",
        "Gültiges JSON oder multipart/form-data senden.",
    ),
    "unauthorized": (401, "Anmeldung nötig", "`Authorization: Bearer <Schlüssel>` mitsenden."),
    "forbidden": (403, "Nicht erlaubt", "Einen Client verwenden, dessen Rolle das darf."),
    "not-found": (
        404,
        "Nicht gefunden",
        "Die Kennung prüfen; Einträge anderer Clients sind nicht sichtbar.",
    ),
    "method-not-allowed": (405, "Methode nicht erlaubt", "Siehe OpenAPI-Beschreibung."),
    "conflict": (
        409,
        "Im jetzigen Zustand nicht möglich",
        "Den Eintrag neu laden; der Schritt ist gerade nicht möglich.",
    ),
    "idempotency-key-reused": (
        409,
        "Idempotency-Key schon verwendet",
        "Für eine andere Anfrage einen neuen Idempotency-Key verwenden.",
    ),
    "payload-too-large": (413, "Zu groß", "Eine kleinere Datei oder Anfrage senden."),
    "unsupported-media-type": (
        415,
        "Dateiart nicht unterstützt",
        "PDF-, JPEG- oder PNG-Dateien senden.",
    ),
    "too-many-requests": (
        429,
        "Zu viele Anfragen",
        "Die in `Retry-After` genannten Sekunden warten, dann erneut versuchen.",
    ),
    "validation-error": (
        422,
        "Angaben unvollständig oder fehlerhaft",
        "Die in `errors` genannten Felder korrigieren.",
    ),
    "internal-error": (
        500,
        "Interner Fehler",
        "Später erneut versuchen; der Betrieb kennt die Request-ID.",
    ),
    "unavailable": (503, "Dienst nicht verfügbar", "Später erneut versuchen."),
}


class GatewayError(Exception):
    """Base of every error raised on purpose by ozg-gateway."""


class ConfigurationError(GatewayError):
    """The configuration is invalid; the message lists every problem with its location."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: JSON pointer into the request, stable code, human message."""

    pointer: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        """Serialise for a problem body."""
        return {"pointer": self.pointer, "code": self.code, "detail": self.detail}


@dataclass
class Problem(GatewayError):
    """An error answered as RFC 9457 problem details."""

    slug: str
    detail: str | None = None
    errors: Sequence[FieldError] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.slug not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {self.slug!r}")
        super().__init__(self.slug)

    @property
    def status(self) -> int:
        """HTTP status of this problem type."""
        return PROBLEM_TYPES[self.slug][0]

    def body(self, *, instance: str | None = None) -> dict[str, Any]:
        """Problem details object."""
        status, title, _ = PROBLEM_TYPES[self.slug]
        body: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": title, "status": status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


def validation_problem(errors: Iterable[FieldError], detail: str | None = None) -> Problem:
    """422 with field-level errors."""
    items = list(errors)
    return Problem(
        "validation-error",
        detail=detail or f"{len(items)} Feld(er) ungültig.",
        errors=items,
    )


def not_found(what: str) -> Problem:
    """404 for a resource that does not exist or belongs to another client; ``what`` is the
    German noun with its article ("Der Antrag")."""
    return Problem("not-found", detail=f"{what} wurde nicht gefunden.")


def escape_pointer_token(token: str | int) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(parts: Iterable[str | int]) -> str:
    """Build a JSON pointer from path parts."""
    return "".join("/" + escape_pointer_token(p) for p in parts)


# German messages for the pydantic error types portals see most; others keep pydantic's text.
_GERMAN: dict[str, str] = {
    "missing": "Pflichtfeld fehlt.",
    "extra_forbidden": "Unbekanntes Feld.",
    "string_type": "Text erwartet.",
    "string_too_short": "Zu kurz (mindestens {min_length} Zeichen).",
    "string_too_long": "Zu lang (höchstens {max_length} Zeichen).",
    "string_pattern_mismatch": "Format ungültig.",
    "int_type": "Ganze Zahl erwartet.",
    "int_parsing": "Ganze Zahl erwartet.",
    "bool_type": "Ja/Nein-Wert erwartet.",
    "bool_parsing": "Ja/Nein-Wert erwartet.",
    "date_type": "Datum erwartet (JJJJ-MM-TT).",
    "date_parsing": "Datum erwartet (JJJJ-MM-TT).",
    "date_from_datetime_parsing": "Datum erwartet (JJJJ-MM-TT).",
    "dict_type": "Objekt erwartet.",
    "model_type": "Objekt erwartet.",
    "list_type": "Liste erwartet.",
    "too_short": "Zu wenige Einträge (mindestens {min_length}).",
    "too_long": "Zu viele Einträge (höchstens {max_length}).",
    "greater_than_equal": "Muss mindestens {ge} sein.",
    "less_than_equal": "Darf höchstens {le} sein.",
    "greater_than": "Muss größer als {gt} sein.",
    "less_than": "Muss kleiner als {lt} sein.",
    "literal_error": "Ungültiger Wert; erlaubt: {expected}.",
    "enum": "Ungültiger Wert; erlaubt: {expected}.",
    "value_error": "{error}",
    "assertion_error": "{error}",
    "float_type": "Zahl erwartet.",
    "float_parsing": "Zahl erwartet.",
    "int_from_float": "Ganze Zahl erwartet.",
    "time_type": "Uhrzeit erwartet (HH:MM).",
    "time_parsing": "Uhrzeit erwartet (HH:MM).",
    "datetime_type": "Zeitpunkt erwartet.",
    "datetime_parsing": "Zeitpunkt erwartet.",
    "json_invalid": "Kein gültiges JSON.",
    "url_parsing": "Keine gültige Adresse (URL).",
    "url_scheme": "Keine gültige Adresse (URL).",
    "uuid_parsing": "Keine gültige Kennung.",
    "string_unicode": "Text erwartet.",
    "dict_attributes_type": "Objekt erwartet.",
    "frozen_field": "Darf nicht geändert werden.",
}


def german_message(error_type: str, message: str, ctx: Mapping[str, Any] | None) -> str:
    """Translate one pydantic error into German without echoing the input."""
    if error_type == "value_error" and "email" in message.lower():
        return "Keine gültige E-Mail-Adresse."
    template = _GERMAN.get(error_type)
    if template is None:
        return "Ungültige Eingabe."  # pydantic's own texts are English
    try:
        text = template.format(**(ctx or {}))
    except (KeyError, IndexError):
        return "Ungültige Eingabe."
    return text.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def field_errors_from_pydantic(
    errors: Iterable[Mapping[str, Any]], *, prefix: Sequence[str | int] = ()
) -> list[FieldError]:
    """Convert pydantic ``errors()`` into field errors, dropping the offending input values."""
    result = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if p not in ("body",)]
        ctx = err.get("ctx")
        result.append(
            FieldError(
                pointer=pointer([*prefix, *loc]),
                code=str(err.get("type", "invalid")),
                detail=german_message(str(err.get("type")), str(err.get("msg", "")), ctx),
            )
        )
    return result


class ConnectorError(GatewayError):
    """An external system call failed; subclasses say what the caller should do."""

    retryable: bool = False
    # False: the outcome tells whether the receiver works (moves the circuit breaker).
    says_nothing_about_receiver: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        """Short outcome name for attempts and metrics (subclasses count as their parent)."""
        return next(_KINDS[c] for c in type(self).__mro__ if c in _KINDS)


class ConnectorConfigError(ConnectorError):
    """Our side is misconfigured; retrying cannot help until the config changes."""


class ConnectorAuthError(ConnectorError):
    """The external system rejected our credentials."""

    retryable = True


class PermanentError(ConnectorError):
    """The external system rejected this message for good."""


class TransientError(ConnectorError):
    """A temporary failure; the same call may succeed later."""

    retryable = True


class ConnectorBug(ConnectorError):
    """Our connector code failed in a way no table row explains (KeyError, TypeError, ...).

    Retried a small bounded number of times (a bug may depend on data a later attempt does
    not see), then dead-lettered saying so; it says nothing about the receiver's health.
    """

    retryable = True
    says_nothing_about_receiver = True


_KINDS: dict[type[ConnectorError], str] = {
    ConnectorError: "error",
    ConnectorConfigError: "config",
    ConnectorAuthError: "auth",
    PermanentError: "permanent",
    TransientError: "transient",
    ConnectorBug: "bug",
}
