"""The smtp instance: e-mails applicants the status updates queued for them."""

from __future__ import annotations

import asyncio

from ozg_gateway.connectors.contract import ConnectorEnv, DeliveryRequest, DeliveryResult
from ozg_gateway.connectors.smtp.client import SmtpClient
from ozg_gateway.connectors.smtp.mapping import status_mail
from ozg_gateway.connectors.smtp.settings import SmtpSettings
from ozg_gateway.errors import ConnectorConfigError


class SmtpConnector:
    """Sends the mail for the update a delivery names (the text comes from the case document,
    which is sealed at rest; the delivery itself holds only the update's number)."""

    def __init__(self, name: str, settings: SmtpSettings) -> None:
        self.name = name
        self.settings = settings
        self.client = SmtpClient(settings)

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Send one status mail."""
        updates = request.document.get("status_updates") or []
        index = request.progress.get("update")
        if not isinstance(index, int) or not 0 <= index < len(updates):
            raise ConnectorConfigError("mail delivery without its status update")
        message = status_mail(
            request.document,
            updates[index],
            sender=str(self.settings.sender),
            sender_name=self.settings.sender_name,
            message_key=request.idempotency_key,
        )
        if message is None:
            return DeliveryResult(detail="no e-mail address")
        return DeliveryResult(remote_reference=await asyncio.to_thread(self.client.send, message))

    async def check(self, *, timeout: float) -> None:
        """Connect, STARTTLS, log in."""
        await asyncio.wait_for(asyncio.to_thread(self.client.check), timeout)

    async def aclose(self) -> None:
        """Nothing kept open."""


def build(name: str, settings: SmtpSettings, env: ConnectorEnv) -> SmtpConnector:
    """The registered factory."""
    return SmtpConnector(name, settings)
