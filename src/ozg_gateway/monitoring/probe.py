"""Test a connector's configuration before it is used, and say what is wrong in plain words.

Each connector's own ``check()`` speaks its protocol (XTA checkAccountActive, the
eID-Server's getServerInfo, the payment provider's status, FIT-Connect's info, destination and
key, the webhook's health URL). This module runs it and turns a failure into a sentence an
operator can act on: which of TLS, trust, credentials, reachability or the remote side failed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.connectors.translate import translate
from ozg_gateway.errors import ConnectorAuthError, ConnectorConfigError, ConnectorError
from ozg_gateway.monitoring import certificates
from ozg_gateway.redaction import scrub

EXPIRY_WARNING = timedelta(days=30)


@dataclass
class ProbeResult:
    """The verdict on one connector's configuration."""

    name: str
    type: str | None
    ok: bool
    summary: str  # one German sentence
    detail: str | None = None  # the technical reason, redacted
    latency_ms: float | None = None
    warnings: list[str] = field(default_factory=list)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def explain(exc: BaseException, *, timeout: float) -> str:
    """The operator's sentence for a failed check."""
    for cause in _chain(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = (cause.verify_message or "").lower()
            if "unable to get local issuer" in reason or "self-signed" in reason:
                return (
                    "Das Zertifikat des Servers stammt von einer unbekannten "
                    "Zertifizierungsstelle: die ausstellende CA in tls.ca_bundle eintragen."
                )
            if "expired" in reason:
                return "Das Zertifikat des Servers ist abgelaufen."
            if "hostname" in reason or "ip address mismatch" in reason:
                return "Das Zertifikat des Servers gilt nicht für diesen Hostnamen (URL prüfen)."
            return f"Das Zertifikat des Servers wird nicht anerkannt ({cause.verify_message})."
        if isinstance(cause, ssl.SSLError):
            if "certificate required" in str(cause).lower() or "alert" in str(cause).lower():
                return (
                    "Der Server hat die TLS-Verbindung abgelehnt: meist fehlt das "
                    "Client-Zertifikat oder er erkennt es nicht an (tls.client_cert / tls.pkcs12)."
                )
            return "Die TLS-Verbindung kam nicht zustande (Protokoll oder Zertifikat)."
        if isinstance(cause, socket.gaierror):
            return "Der Hostname ist unbekannt (DNS): die URL in der Konfiguration prüfen."
        if isinstance(cause, ConnectionRefusedError):
            return (
                "Der Server ist nicht erreichbar: die Verbindung wurde abgewiesen "
                "(falscher Port, Dienst aus oder Firewall)."
            )
        if isinstance(cause, (httpx.TimeoutException, TimeoutError)):
            return f"Der Server hat nicht innerhalb von {timeout:g} Sekunden geantwortet."
        if isinstance(cause, ConnectorAuthError):
            return (
                "Die Anmeldung wurde abgelehnt (HTTP 401/403): Benutzername, Passwort, "
                "Schlüssel oder Client-Zertifikat prüfen."
            )
    error = exc if isinstance(exc, ConnectorError) else translate(exc)
    if isinstance(error, ConnectorAuthError):
        return explain(error, timeout=timeout)
    if isinstance(error, ConnectorConfigError):
        return f"Die Konfiguration passt nicht zum Server: {scrub(str(error))[:200]}"
    if isinstance(cause := next(_chain(exc)), (httpx.ConnectError, OSError)):
        return f"Der Server ist nicht erreichbar: {scrub(str(cause))[:200]}"
    if error.status is not None:
        return f"Der Server antwortet mit HTTP {error.status}."
    return f"Die Prüfung ist fehlgeschlagen: {scrub(str(error))[:200]}"


def _certificate_warnings(connectors: Connectors, name: str, now: datetime) -> list[str]:
    settings = connectors.settings.get(name)
    if settings is None:
        return []
    warnings = []
    for item in certificates.expiries({name: settings}):
        left = item.not_after - now
        if left <= timedelta(0):
            warnings.append(f"Zertifikat {item.setting} ({item.subject}) ist abgelaufen.")
        elif left < EXPIRY_WARNING:
            warnings.append(
                f"Zertifikat {item.setting} ({item.subject}) läuft in {left.days} Tagen ab."
            )
    return warnings


async def probe(connectors: Connectors, name: str, *, timeout: float, now: datetime) -> ProbeResult:
    """Check one configured connector instance."""
    ctype = connectors.types.get(name)
    kind = ctype.name if ctype else None
    if name in connectors.errors:
        return ProbeResult(
            name,
            kind,
            False,
            "Die Konfiguration ist ungültig: " + "; ".join(connectors.errors[name]),
        )
    instance = connectors.instances.get(name)
    if instance is None:
        return ProbeResult(name, kind, False, "Kein Connector dieses Namens ist konfiguriert.")
    warnings = _certificate_warnings(connectors, name, now)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(instance.check(timeout=timeout), timeout)
    except Exception as exc:  # noqa: BLE001 - every failure is explained, none escapes
        latency = round((time.perf_counter() - started) * 1000, 1)
        detail = scrub(str(translate(exc) if not isinstance(exc, ConnectorError) else exc))
        return ProbeResult(
            name, kind, False, explain(exc, timeout=timeout), detail[:300], latency, warnings
        )
    latency = round((time.perf_counter() - started) * 1000, 1)
    if ctype is not None and ctype.kind == "pull":
        summary = "Nichts zu erreichen: die Gegenstelle holt ihre Vorgänge selbst ab."
    else:
        summary = "Erreichbar, Anmeldung und Gegenstelle in Ordnung."
    return ProbeResult(name, kind, True, summary, None, latency, warnings)
