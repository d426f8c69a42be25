"""XBezahldienste 1.0.0 (REST/JSON): settings, pure request/response mapping, client.

``POST /paymenttransaction/{originatorId}/{endPointId}`` creates a transaction and returns the
paypage (``transactionRedirectUrl``); ``GET …/{transactionId}`` tells the status (INITIAL,
PAYED, FAILED, CANCELED); ``GET /status/{originatorId}/{endPointId}`` is the health check.
Providers disagree on the order of the two path ids, so it is configurable. There is no push
notification: the status is always pulled.

The connector parts: ``settings``, ``client`` (I/O only; implements ``PaymentProvider``),
``mapping`` (pure), ``simulator``; the registration object is below (a ``service`` kind).
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.epayment.xbezahldienste.client import _build
from ozg_gateway.epayment.xbezahldienste.settings import XBezahldiensteSettings

CONNECTOR = ConnectorType(
    name="xbezahldienste",
    description="XBezahldienste 1.0.0 payment provider (epay21, pmPayment, ePayBL facade).",
    settings=XBezahldiensteSettings,
    build=_build,
    kind="service",
)
