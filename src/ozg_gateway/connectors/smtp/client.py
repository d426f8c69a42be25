"""I/O of an SMTP instance: one connection per mail with the standard library's client."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from ozg_gateway.connectors.smtp.settings import SmtpSettings
from ozg_gateway.http import ssl_context


class SmtpClient:
    """Send a message: connect, STARTTLS, log in, send, quit (blocking; run in a thread)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._tls = ssl_context(settings.tls)

    @contextmanager
    def _session(self, timeout: float) -> Iterator[smtplib.SMTP]:
        """Connected, STARTTLS negotiated and logged in, as the settings ask."""
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
            yield smtp

    def send(self, message: EmailMessage) -> str:
        """Send; returns the message id. SMTP errors leave as smtplib exceptions."""
        timeouts = self.settings.timeouts
        with self._session(timeouts.connect + timeouts.write) as smtp:
            smtp.send_message(message)
        return str(message["Message-ID"])

    def check(self) -> None:
        """Connect, STARTTLS and log in without sending."""
        with self._session(self.settings.timeouts.connect):
            pass
