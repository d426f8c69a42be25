"""I/O of an SMTP instance: one connection per mail with the standard library's client."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from ozg_gateway.connectors.smtp.settings import SmtpSettings
from ozg_gateway.http import ssl_context


class SmtpClient:
    """Send a message: connect, STARTTLS, log in, send, quit (blocking; run in a thread)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._tls = ssl_context(settings.tls)

    def send(self, message: EmailMessage) -> str:
        """Send; returns the message id. SMTP errors leave as smtplib exceptions."""
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeouts.connect + s.timeouts.write) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
            smtp.send_message(message)
        return str(message["Message-ID"])

    def check(self) -> None:
        """Connect, STARTTLS and log in without sending."""
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeouts.connect) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
