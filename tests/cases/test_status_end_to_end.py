"""An issue report filed over Open311 and answered by the office: the app sees the status in
both formats, the portal in its timeline and by a signed webhook, the citizen by e-mail."""

from __future__ import annotations

from pathlib import Path

import httpx
from lxml import etree

from ozg_gateway.connectors.smtp.simulator import Mailbox, start_plain_smtp
from ozg_gateway.connectors.webhook.simulator import ReceiverStore, create_receiver
from ozg_gateway.store.models import ApiClient, Case
from tests.api.test_open311_server import REPORT
from tests.conftest import BACKOFFICE_KEY, PORTAL_KEY
from tests.delivery.conftest import SECRET
from tests.gateway import start_gateway
from tests.live import LiveServer, free_port

NOTE = "Die Laterne leuchtet wieder."


def test_an_open311_report_is_answered_on_every_path(tmp_path: Path, database_url: str) -> None:
    store = ReceiverStore()
    portal_hooks = LiveServer(create_receiver([SECRET], store)).start()
    box = Mailbox()
    smtp_port = free_port()
    mail_server = start_plain_smtp(port=smtp_port, box=box)
    connectors = {
        "portal-status": {"type": "status-webhook", "secrets": [SECRET]},
        "mail": {
            "type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "starttls": False,
            "sender": "noreply@maintal.de",
        },
        "aem-system": {"type": "pull"},
    }
    gw = start_gateway(
        tmp_path,
        database_url,
        connectors,
        status_notifier="portal-status",
        mail_notifier="mail",
    )
    try:
        with gw.ctx.db.writing() as session:  # the app's portal client has a status URL
            client = session.get(ApiClient, "p")
            assert client is not None
            client.status_url = f"{portal_hooks.url}/webhook"
        posted = gw.http.post("/open311/v2/requests.json", data=REPORT)
        assert posted.status_code == 200, posted.text
        number = posted.json()[0]["service_request_id"]
        with gw.ctx.db.reading() as session:
            case = session.query(Case).filter(Case.case_number == number).one()
            case_id, submission_id = case.id, case.submission_id
        answered = gw.http.post(
            f"/v1/cases/{case_id}/status",
            json={"status": "completed", "note": NOTE},
            headers={"Authorization": f"Bearer {BACKOFFICE_KEY}"},
        )
        assert answered.status_code == 200, answered.text
        gw.work()

        key = {"api_key": PORTAL_KEY}
        one = gw.http.get(f"/open311/v2/requests/{number}.json", params=key).json()[0]
        assert (one["status"], one["status_notes"]) == ("closed", NOTE)
        xml = etree.fromstring(
            gw.http.get(f"/open311/v2/requests/{number}.xml", params=key).content
        )
        assert (xml.findtext("request/status"), xml.findtext("request/status_notes")) == (
            "closed",
            NOTE,
        )
        view = gw.http.get(
            f"/v1/submissions/{submission_id}", headers={"Authorization": f"Bearer {PORTAL_KEY}"}
        ).json()
        assert view["processing"] == "COMPLETED"
        [step] = [s for s in view["timeline"] if s["status"] == "status_completed"]
        assert step["note"] == NOTE
        # the webhook and the mail are notices, not the case's delivery to the office (which
        # fetches it from the pull inbox and has not yet)
        assert "delivered" not in [s["status"] for s in view["timeline"]]
        assert view["case"]["status"] != "delivered"
        [event] = httpx.get(f"{portal_hooks.url}/events").json()  # verified by its signature
        assert event["case_number"] == number
        [mail] = box.messages
        assert mail["To"] == REPORT["email"]
        assert NOTE in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        # asked again, nothing changes and nothing is sent twice
        again = gw.http.post(
            f"/v1/cases/{case_id}/status",
            json={"status": "completed", "note": NOTE},
            headers={"Authorization": f"Bearer {BACKOFFICE_KEY}"},
        )
        assert again.json()["changed"] is False
        gw.work()
        assert len(box.messages) == 1
        assert len(httpx.get(f"{portal_hooks.url}/events").json()) == 1
    finally:
        gw.close()
        mail_server.stop()
        portal_hooks.stop()
