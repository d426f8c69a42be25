"""Pull inbox: list, lease exclusively, ack / nack, expired leases, attachment download."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.store import clients
from ozg_gateway.store.clients import Role
from tests.conftest import BACKOFFICE_KEY, Api, FrozenClock
from tests.factories import PDF_BYTES, aem_submission

STA_KEY = "test-standesamt-key"
STA_2_KEY = "test-standesamt-second-consumer"


@pytest.fixture
def sta(api: Api, ctx: GatewayContext) -> dict[str, str]:
    with ctx.db.writing() as s:
        for cid, key in (("sta-1", STA_KEY), ("sta-2", STA_2_KEY)):
            clients.add_client(
                s,
                client_id=cid,
                name=cid,
                role=Role.backoffice,
                now=ctx.clock(),
                key=key,
                offers=["personenstandsurkunde"],
            )
    return api.as_(STA_KEY)


def _order(api: Api, *, with_file: bool = False) -> str:
    body = aem_submission(service_id="personenstandsurkunde")
    sid = api.http.post("/v1/submissions", json=body, headers=api.portal).json()["id"]
    if with_file:
        api.http.post(
            f"/v1/submissions/{sid}/attachments",
            files={"file": ("vollmacht.pdf", PDF_BYTES)},
            headers=api.portal,
        )
    submitted = api.http.post(f"/v1/submissions/{sid}/submit", headers=api.portal).json()
    case_id = str(submitted["case"]["id"])
    # Certificate orders wait for their fee (see the payment tests); here it counts as paid.
    ctx: GatewayContext = api.http.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.writing() as session:
        assert outbox.release_held(session, case_id=case_id, now=ctx.clock()) == 1
    return case_id


def test_list_lease_ack(api: Api, sta: dict[str, str]) -> None:
    case_id = _order(api)
    listing = api.http.get("/v1/cases", params={"status": "available"}, headers=sta).json()
    assert [i["id"] for i in listing["items"]] == [case_id]
    assert listing["items"][0]["connector"] == "standesamt"
    # Another back office (limited to aem-meldung) does not see it.
    assert api.http.get("/v1/cases", headers=api.as_(BACKOFFICE_KEY)).json()["items"] == []

    lease = api.http.post(f"/v1/cases/{case_id}/lease", json={"lease_seconds": 60}, headers=sta)
    assert lease.status_code == 200
    token = lease.json()["lease_token"]
    assert lease.json()["case"]["document"]["service"]["id"] == "personenstandsurkunde"
    second = api.http.post(f"/v1/cases/{case_id}/lease", headers=api.as_(STA_2_KEY))
    assert second.status_code == 409
    assert (
        api.http.get("/v1/cases", params={"status": "available"}, headers=sta).json()["items"] == []
    )

    bad = api.http.post(
        f"/v1/cases/{case_id}/ack", json={"lease_token": "lease_wrong-token"}, headers=sta
    )
    assert bad.status_code == 409
    ack = api.http.post(
        f"/v1/cases/{case_id}/ack", json={"lease_token": token, "reference": "STA-17"}, headers=sta
    )
    assert ack.json() == {"case_id": case_id, "delivery_status": "delivered"}
    assert api.http.post(f"/v1/cases/{case_id}/lease", headers=sta).status_code == 409
    done = api.http.get("/v1/cases", params={"status": "delivered"}, headers=sta).json()["items"]
    assert [i["id"] for i in done] == [case_id]


def test_expired_lease_returns_the_case(api: Api, sta: dict[str, str], clock: FrozenClock) -> None:
    case_id = _order(api)
    token = api.http.post(
        f"/v1/cases/{case_id}/lease", json={"lease_seconds": 30}, headers=sta
    ).json()["lease_token"]
    clock.advance(seconds=31)
    other = api.http.post(f"/v1/cases/{case_id}/lease", headers=api.as_(STA_2_KEY))
    assert other.status_code == 200
    late = api.http.post(f"/v1/cases/{case_id}/ack", json={"lease_token": token}, headers=sta)
    assert late.status_code == 409  # the first consumer lost its lease


def test_nack_retry_and_reject(api: Api, sta: dict[str, str], ctx: GatewayContext) -> None:
    case_id = _order(api)
    token = api.http.post(f"/v1/cases/{case_id}/lease", headers=sta).json()["lease_token"]
    back = api.http.post(
        f"/v1/cases/{case_id}/nack", json={"lease_token": token, "reason": "Wartung"}, headers=sta
    )
    assert back.json()["delivery_status"] == "pending"
    token = api.http.post(f"/v1/cases/{case_id}/lease", headers=sta).json()["lease_token"]
    reject = api.http.post(
        f"/v1/cases/{case_id}/nack",
        json={"lease_token": token, "reason": "nicht zuständig", "retry": False},
        headers=sta,
    )
    assert reject.json()["delivery_status"] == "dead"


def test_pagination(api: Api, sta: dict[str, str]) -> None:
    ids = [_order(api) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.http.get("/v1/cases", params=params, headers=sta).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert api.http.get("/v1/cases", params={"cursor": "%%%"}, headers=sta).status_code == 422


def test_attachment_download_with_digest(api: Api, sta: dict[str, str]) -> None:
    case_id = _order(api, with_file=True)
    doc = api.http.get(f"/v1/cases/{case_id}", headers=sta).json()["document"]
    att = doc["attachments"][0]
    r = api.http.get(f"/v1/cases/{case_id}/attachments/{att['id']}", headers=sta)
    assert r.status_code == 200
    assert r.content == PDF_BYTES
    assert r.headers["x-content-sha256"] == hashlib.sha256(PDF_BYTES).hexdigest() == att["sha256"]
    digest = base64.b64encode(hashlib.sha256(PDF_BYTES).digest()).decode()
    assert r.headers["repr-digest"] == f"sha-256=:{digest}:"
    other = api.http.get(
        f"/v1/cases/{case_id}/attachments/{att['id']}", headers=api.as_(BACKOFFICE_KEY)
    )
    assert other.status_code == 404
    assert api.http.get(f"/v1/cases/{case_id}/attachments/nope", headers=sta).status_code == 404


def test_portal_cannot_use_the_inbox(api: Api) -> None:
    assert api.http.get("/v1/cases", headers=api.portal).status_code == 403


def test_schemas_are_served(api: Api) -> None:
    schema = api.http.get("/v1/schemas/case-event").json()
    assert schema["$id"].endswith("case-event:1.0")
    assert "data" in schema["properties"]
    assert api.http.get("/v1/schemas/nope").status_code == 404


def test_case_in_standard_formats(api: Api, sta: dict[str, str]) -> None:
    from lxml import etree

    case_id = _order(api, with_file=True)
    xfall = api.http.get(f"/v1/cases/{case_id}/formats/xfall", headers=sta)
    assert xfall.status_code == 200
    assert xfall.headers["content-type"].startswith("application/xml")
    assert etree.fromstring(xfall.content).tag.endswith("MainApplication")
    metadata = api.http.get(f"/v1/cases/{case_id}/formats/fitconnect-metadata", headers=sta).json()
    [att] = metadata["contentStructure"]["attachments"]
    assert att["hash"]["content"] == hashlib.sha512(PDF_BYTES).hexdigest()
    order = api.http.get(f"/v1/cases/{case_id}/formats/xpersonenstand", headers=sta)
    assert b"portal2StA.Geburt.081030" in order.content
    assert api.http.get(f"/v1/cases/{case_id}/formats/open311", headers=sta).status_code == 404
    assert api.http.get(f"/v1/cases/{case_id}/formats/nope", headers=sta).status_code == 422


def test_ack_delivers_the_case_and_a_repeated_ack_answers_the_same(
    api: Api, sta: dict[str, str], ctx: GatewayContext
) -> None:
    case_id = _order(api)
    token = api.http.post(f"/v1/cases/{case_id}/lease", headers=sta).json()["lease_token"]
    body = {"lease_token": token, "reference": "STA-18"}
    first = api.http.post(f"/v1/cases/{case_id}/ack", json=body, headers=sta)
    assert first.status_code == 200
    # its only delivery is delivered, so the case is too (it stayed "delivering" before)
    case = api.http.get(f"/v1/cases/{case_id}", headers=sta).json()
    assert case["status"] == "delivered"
    # the answer was lost; the back office acks again with the same token, without a key
    again = api.http.post(f"/v1/cases/{case_id}/ack", json=body, headers=sta)
    assert (again.status_code, again.json()) == (200, first.json())
    # another token still gets the conflict, and a nack of a delivered case too
    wrong = api.http.post(
        f"/v1/cases/{case_id}/ack", json={"lease_token": "lease_other"}, headers=sta
    )
    assert wrong.status_code == 409
    nack = api.http.post(
        f"/v1/cases/{case_id}/nack", json={"lease_token": token, "reason": "x"}, headers=sta
    )
    assert nack.status_code == 409


def test_an_ack_may_carry_the_first_status(api: Api, sta: dict[str, str]) -> None:
    case_id = _order(api)
    token = api.http.post(f"/v1/cases/{case_id}/lease", headers=sta).json()["lease_token"]
    ack = api.http.post(
        f"/v1/cases/{case_id}/ack",
        json={"lease_token": token, "reference": "STA-18", "status": {"status": "received"}},
        headers=sta,
    )
    assert ack.status_code == 200, ack.text
    again = api.http.post(
        f"/v1/cases/{case_id}/status", json={"status": "received"}, headers=sta
    ).json()
    assert (again["monitor_status"], again["changed"]) == ("RECEIVED", False)
