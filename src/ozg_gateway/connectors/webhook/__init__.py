"""``webhook`` connector: POST the case event, signed per Standard Webhooks.

``settings`` (where, secrets, limits), ``client`` (I/O only), ``mapping`` (the signed request,
the receiver's reference; pure), ``connector`` (the instance), ``simulator`` (a reference
receiver for the demo and the tests); the registration object is below.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.webhook.connector import _build
from ozg_gateway.connectors.webhook.settings import WebhookSettings

CONNECTOR = ConnectorType(
    name="webhook",
    description="POST of the normalized case, signed per Standard Webhooks.",
    settings=WebhookSettings,
    build=_build,
)
