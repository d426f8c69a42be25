"""eID-Interface client: signed SOAP 1.1 over mutual TLS; responses verified before parsing.

``EidService`` is the protocol the identification flow uses; ``EidClient`` implements it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import httpx
from cryptography import x509
from lxml import etree

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
)
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.eid.mapping import (
    NS,
    EidPolicy,
    Identity,
    UseIdAnswer,
    build_get_result,
    build_get_server_info,
    build_use_id,
    parse_get_result,
    parse_use_id,
)
from ozg_gateway.eid.settings import EidSettings, load_signing_key
from ozg_gateway.eid.wssec import SigningKey, sign_envelope, verify_envelope
from ozg_gateway.errors import ConnectorConfigError
from ozg_gateway.http import sync_client
from ozg_gateway.runtime import Clock, system_clock


@runtime_checkable
class EidService(Protocol):
    """What the identification flow needs from an eID-Server (contract).

    ``use_id`` opens a session for exactly the attributes of a policy; ``get_result`` asks
    for its result with a rising counter and raises ``NoResultYet`` while the citizen is busy;
    ``signing_key`` signs the identification reports the gateway issues. Calls block (I/O) and
    raise ConnectorError subclasses.
    """

    name: str

    @property
    def signing_key(self) -> SigningKey:
        """The gateway's signing key towards this server."""
        ...

    def use_id(self, policy: EidPolicy) -> UseIdAnswer:
        """Start a session."""
        ...

    def get_result(self, session_id: str, counter: int) -> Identity:
        """The session's result."""
        ...

    def health(self) -> None:
        """Raise ConnectorError when the server is not usable."""
        ...

    def close(self) -> None:
        """Close connections."""
        ...


class EidClient:
    """I/O only: useID, getResult, getServerInfo. Never logs bodies, PSK or session ids."""

    def __init__(
        self,
        name: str,
        settings: EidSettings,
        env: ConnectorEnv,
        *,
        clock: Clock = system_clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = env.expand(settings.url)
        self._key = load_signing_key(settings)
        try:
            self._server = x509.load_pem_x509_certificate(settings.server_certificate.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConnectorConfigError("eID server certificate unusable") from exc
        self._clock = clock
        self._http = sync_client(timeouts=settings.timeouts, tls=settings.tls, transport=transport)

    @property
    def signing_key(self) -> SigningKey:
        """Our eService key (also signs identification reports)."""
        return self._key

    def _call(self, action: str, body: etree._Element) -> etree._Element:
        envelope = sign_envelope(body, self._key, now=self._clock())
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}{action}"'}
        response = send(self._http, "POST", self.url, content=envelope, headers=headers)
        if response.status_code >= 400 and b"Fault" not in response.content:
            error = error_for_response(response, what="eID-Server")
            if error is not None:
                raise error
        # Faults and answers alike must carry the server's signature.
        return verify_envelope(response.content, self._server, now=self._clock())

    def use_id(self, policy: EidPolicy) -> UseIdAnswer:
        """Start a session for the attributes of a policy."""
        return parse_use_id(self._call("useID", build_use_id(policy)))

    def get_result(self, session_id: str, counter: int) -> Identity:
        """The result; raises NoResultYet while the citizen is still busy."""
        return parse_get_result(self._call("getResult", build_get_result(session_id, counter)))

    def server_info(self) -> dict[str, Any]:
        """Server version (health)."""
        body = self._call("getServerInfo", build_get_server_info())
        version = {etree.QName(e).localname: e.text for e in body.iter() if isinstance(e.tag, str)}
        return {"version": version.get("VersionString"), "major": version.get("Major")}

    def health(self) -> None:
        """getServerInfo, signed both ways."""
        self.server_info()

    def close(self) -> None:
        """Close connections."""
        self._http.close()
