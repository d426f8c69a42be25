"""XTA 2 Version 3 (webservice 2.1.1): SOAP 1.2 with WS-Addressing and MTOM to an XTA server.

The connector parts: ``settings``, ``client`` (all three ports, I/O only), ``mapping`` (the
outgoing message of a delivery, status-list entries, transport reports; pure), ``connector``
(outbound delivery and inbound mailbox), ``simulator`` and ``simstore`` (a strict XTA server
for tests and the demo). The wire format beside them: ``messages`` (identifiers, headers,
envelopes), ``faults`` (fault table), ``container`` and ``mtom`` (streamed MTOM/XOP).
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorEnv, ConnectorType
from ozg_gateway.xta.connector import XtaConnector, XtaProgress
from ozg_gateway.xta.settings import XtaConnectorSettings


def _build(name: str, settings: XtaConnectorSettings, env: ConnectorEnv) -> XtaConnector:
    return XtaConnector(name, settings, env)


CONNECTOR = ConnectorType(
    name="xta",
    description="XTA 2 V3: XFall container and files via sendMessage; reads mailboxes.",
    settings=XtaConnectorSettings,
    build=_build,
    progress=XtaProgress,
)
