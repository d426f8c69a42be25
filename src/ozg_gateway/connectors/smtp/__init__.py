"""``smtp`` connector: e-mail applicants when their case's status changes.

``settings`` (server, STARTTLS, login, sender), ``client`` (stdlib smtplib, I/O only),
``mapping`` (the German mail; pure), ``connector``, ``simulator`` (aiosmtpd with STARTTLS and
AUTH). Mails go through the outbox like every delivery: retried, dead-lettered, replayed.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.smtp.connector import build
from ozg_gateway.connectors.smtp.settings import SmtpSettings

CONNECTOR = ConnectorType(
    name="smtp",
    description="Status e-mails to applicants over SMTP (STARTTLS, AUTH).",
    settings=SmtpSettings,
    build=build,
)
