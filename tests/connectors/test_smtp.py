"""Status e-mails: through the outbox to a real SMTP server (STARTTLS, AUTH), German, and
nothing in them beyond offer, case number, status and the office's note."""

from __future__ import annotations

from email.message import Message
from pathlib import Path

from ozg_gateway.connectors.smtp.simulator import start_smtp
from tests.conftest import BACKOFFICE_KEY, PORTAL_KEY
from tests.factories import aem_submission
from tests.gateway import start_gateway
from tests.live import free_port
from tests.tls import make_pki


def _text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_the_applicant_gets_a_german_status_mail(tmp_path: Path, database_url: str) -> None:
    pki = make_pki(tmp_path / "pki")
    port = free_port()
    controller, box = start_smtp(
        port=port,
        username="gateway",
        password="mail-secret",
        certfile=str(pki.server_cert),
        keyfile=str(pki.server_key),
    )
    mail = {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "username": "gateway",
        "password": "mail-secret",
        "sender": "noreply@maintal.de",
        "sender_name": "Stadt Maintal",
        "tls": {"ca_bundle": str(pki.ca)},
    }
    gw = start_gateway(
        tmp_path, database_url, {"mail": mail, "aem-system": {"type": "pull"}}, mail_notifier="mail"
    )
    try:
        body = aem_submission(gw.ctx.today())
        body["submit"] = True
        body["applicant"] = {"family_name": "Muster", "email": "melder@example.org"}
        body["form_data"]["beschreibung"] = "Zwetschgenbaum blockiert den Gehweg"
        created = gw.http.post(
            "/v1/submissions", json=body, headers={"Authorization": f"Bearer {PORTAL_KEY}"}
        )
        assert created.status_code == 201, created.text
        case = created.json()["case"]
        done = gw.http.post(
            f"/v1/cases/{case['id']}/status",
            json={"status": "completed", "note": "Der Baum wurde zurückgeschnitten."},
            headers={"Authorization": f"Bearer {BACKOFFICE_KEY}"},
        )
        assert done.status_code == 200, done.text
        assert box.messages == []  # nothing is sent in the request: the outbox does it
        gw.work()
        [message] = box.messages
        assert message["To"] == "melder@example.org"
        assert message["Subject"] == f"Ihr Antrag {case['case_number']}: erledigt"
        assert message["Date"] is not None
        assert message["Message-ID"].endswith("@maintal.de>")  # the delivery's key: resends match
        text = _text(message)
        assert "Mängel melden und Anregungen geben" in text
        assert "Der Baum wurde zurückgeschnitten." in text
        assert "Zwetschgenbaum" not in text  # nothing of the form beyond offer and number
        # the back office can read the update in the case document too
        document = gw.http.get(
            f"/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {BACKOFFICE_KEY}"}
        ).json()["document"]
        assert document["status_updates"][0]["monitor_status"] == "COMPLETED"
    finally:
        gw.close()
        controller.stop()
