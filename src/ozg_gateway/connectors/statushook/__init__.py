"""``status-webhook`` connector: tell portals that a case's status changed.

Each portal client registers its own status URL; a status update enqueues one delivery in the
same transaction, with the URL and the event in the delivery's progress, so it is retried,
dead-lettered and replayed like every delivery. The event is thin (submission, case number,
state, time): the portal fetches the office's note with ``GET /v1/submissions/{id}``.
Signed per Standard Webhooks; the webhook connector's receiver serves as the simulator.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.statushook.connector import build
from ozg_gateway.connectors.webhook.settings import SigningSettings

CONNECTOR = ConnectorType(
    name="status-webhook",
    description="Status changes to each portal's own URL, signed per Standard Webhooks.",
    settings=SigningSettings,
    build=build,
)
