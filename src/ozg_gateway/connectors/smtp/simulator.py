"""An SMTP server for the demo and the tests (aiosmtpd): STARTTLS and AUTH as a real relay
asks for them; it keeps what it receives."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Mailbox:
    """What arrived."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


def start_smtp(
    *,
    port: int,
    username: str,
    password: str,
    certfile: str,
    keyfile: str,
) -> tuple[Controller, Mailbox]:
    """Start a STARTTLS + AUTH server on loopback; ``controller.stop()`` ends it."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certfile, keyfile)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    box = Mailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    return controller, box
