"""An SMTP server for the demo and the tests (aiosmtpd): STARTTLS and AUTH as a real relay
asks for them; it keeps what it receives. The demo runs it on loopback without TLS and shows
the mailbox as a page (``create_mail_viewer``)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from html import escape
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi import FastAPI
from fastapi.responses import HTMLResponse


@dataclass
class Mailbox:
    """What arrived."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


def start_plain_smtp(*, port: int, box: Mailbox) -> Controller:
    """The demo's server: loopback only, no TLS, no login; ``controller.stop()`` ends it."""
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def create_mail_viewer(box: Mailbox) -> FastAPI:
    """``GET /``: the mails the demo's citizens would have received, newest first."""
    app = FastAPI(title="Demo-Postfach", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def inbox() -> str:
        items = "".join(
            "<article><h2>{}</h2><p>An: {} · {}</p><pre>{}</pre></article>".format(
                escape(str(m["Subject"] or "")),
                escape(str(m["To"] or "")),
                escape(str(m["Date"] or "")),
                escape(_text(m)),
            )
            for m in reversed(box.messages)
        )
        return (
            '<!doctype html><html lang="de"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Demo-Postfach</title></head><body><main><h1>Demo-Postfach</h1>"
            "<p>E-Mails, die das Gateway an Antragstellende verschickt hat.</p>"
            + (items or "<p>Noch keine E-Mails.</p>")
            + "</main></body></html>"
        )

    return app


def _text(message: Message) -> str:
    part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), None)
    payload = part.get_payload(decode=True) if part is not None else None
    return (
        payload.decode(part.get_content_charset() or "utf-8")
        if isinstance(payload, bytes) and part
        else ""
    )


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
