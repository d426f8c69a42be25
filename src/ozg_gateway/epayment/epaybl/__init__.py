"""ePayBL REST connector "Fachverfahren v1_0" (mutual TLS, JSON).

Base ``{base}/epayment/fachverfahren/v1_0/mandanten/{mandant}/bewirtschafter/{bewirtschafter}``:
``GET status`` (``ergebnis.rc == "+0000"``), ``GET zahlverfahren``, ``POST buchungslisten``
(creates the Kassenzeichen and returns the paypage), ``GET kassenzeichen/{kz}`` (paid when the
paypage is finished and the balance is ≤ 0). Notifications carry
``hash = hex(SHA-256(mandant, bewirtschafter, zvgid, kassenzeichen, tan, zvp, zahlverfahren,
aktivierung, status — concatenated in this order — + secret))``; they are verified in constant
time and then confirmed with a status call, never trusted alone.

The connector parts: ``settings``, ``client`` (I/O only; implements ``PaymentProvider``),
``mapping`` (pure), ``simulator``; the registration object is below (a ``service`` kind).
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.epayment.epaybl.client import EpayblClient
from ozg_gateway.epayment.epaybl.settings import EpayblSettings

CONNECTOR = ConnectorType(
    name="epaybl",
    description="ePayBL REST connector Fachverfahren v1_0 (mutual TLS).",
    settings=EpayblSettings,
    build=lambda name, settings, env: ServiceConnector(EpayblClient(name, settings, env)),
    kind="service",
)
