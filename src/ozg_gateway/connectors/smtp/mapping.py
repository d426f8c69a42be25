"""The status e-mail to the applicant (pure): German, and nothing beyond the offer, the case
number, the status and the office's note."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

WORDS = {
    "received": "ist bei der zuständigen Stelle eingegangen",
    "in_progress": "wird bearbeitet",
    "action_required": "braucht noch etwas von Ihnen",
    "completed": "ist erledigt",
    "rejected": "wurde abgelehnt",
    "withdrawn": "wurde zurückgezogen",
}


SUBJECTS = {
    "received": "eingegangen",
    "in_progress": "in Bearbeitung",
    "action_required": "bitte um Ihre Mitwirkung",
    "completed": "erledigt",
    "rejected": "abgelehnt",
    "withdrawn": "zurückgezogen",
}


def status_mail(
    document: Mapping[str, Any],
    update: Mapping[str, Any],
    *,
    sender: str,
    sender_name: str,
    message_key: str,
) -> EmailMessage | None:
    """The mail for one status update, or None when the applicant gave no e-mail address.
    ``message_key`` (the delivery's idempotency key) makes the Message-ID, so a resent mail
    is recognisably the same one."""
    to = (document.get("applicant") or {}).get("email")
    if not to:
        return None
    service = document["service"]
    number = document["case_number"]
    status = str(update["status"])
    lines = [
        "Guten Tag,",
        "",
        f"Ihr Antrag „{service['title']}“ (Vorgangsnummer {number}) {WORDS.get(status, status)}.",
    ]
    if update.get("note"):
        lines += ["", f"Nachricht von {service['office']['name']}:", "", str(update["note"])]
    if update.get("document"):
        # The document itself stays out of the mail: it may hold personal data.
        lines += [
            "",
            "Ein Dokument liegt für Sie bereit. Sie finden es bei Ihrem Antrag im Portal.",
        ]
    lines += [
        "",
        f"Bitte geben Sie bei Rückfragen die Vorgangsnummer {number} an.",
        "",
        "Mit freundlichen Grüßen",
        service["office"]["name"],
        "",
        "Diese Nachricht wurde automatisch erstellt.",
    ]
    message = EmailMessage()
    message["Subject"] = f"Ihr Antrag {number}: {SUBJECTS.get(status, status)}"
    message["From"] = formataddr((sender_name, sender))
    message["To"] = to
    message["Date"] = format_datetime(datetime.fromisoformat(str(update["occurred_at"])))
    message["Message-ID"] = f"<{message_key}@{sender.split('@')[-1]}>"
    message.set_content("\n".join(lines), charset="utf-8")
    return message
