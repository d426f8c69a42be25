"""The gateway as an Open311 GeoReport v2 server: answers valid against the spec's JSON
Schemas and its XML structure; a report becomes an AEM case whose status flows back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from lxml import etree
from referencing import Registry, Resource

from ozg_gateway.config import default_specs_dir
from ozg_gateway.context import GatewayContext
from tests.conftest import BACKOFFICE_KEY, PORTAL_KEY, Api
from tests.factories import PNG_BYTES

BASE = "/open311/v2"


def _validator(name: str) -> Draft7Validator:
    specs = default_specs_dir()
    if specs is None:
        pytest.skip("specs directory missing")
    folder = Path(specs) / "open311" / "schema-validation" / "georeport-v2"
    schemas = {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (
            n,
            Resource.from_contents(
                s, default_specification=__import__("referencing").jsonschema.DRAFT7
            ),
        )
        for n, s in schemas.items()
        if n != "swagger.json"
    )
    return Draft7Validator(schemas[name], registry=registry)


REPORT = {
    "api_key": PORTAL_KEY,
    "service_code": "002",
    "lat": "50.1466",
    "long": "8.8363",
    "description": "Laterne vor Hausnummer 12 ist dunkel.",
    "email": "melder@example.org",
    "first_name": "Max",
    "last_name": "Melder",
}


def test_services_and_definitions_in_both_formats(api: Api) -> None:
    services = api.http.get(f"{BASE}/services.json").json()
    assert not list(_validator("services.json").iter_errors(services))
    assert {s["service_code"] for s in services} >= {"001", "002", "099"}
    assert services[1]["service_name"] == "Straßenbeleuchtung"
    xml = etree.fromstring(api.http.get(f"{BASE}/services.xml").content)
    assert xml.tag == "services"
    assert xml.find("service/service_code").text == "001"
    definition = api.http.get(f"{BASE}/services/002.json").json()
    assert definition["attributes"][0]["code"] == "art"
    assert api.http.get(f"{BASE}/services/777.json").status_code == 404
    assert (
        api.http.get(f"{BASE}/discovery.json")
        .json()["endpoints"][0]["url"]
        .endswith("/open311/v2/")
    )


def test_a_report_becomes_an_aem_case_and_its_status_flows_back(
    api: Api, ctx: GatewayContext
) -> None:
    posted = api.http.post(
        f"{BASE}/requests.json",
        data=REPORT,
        files={"media": ("laterne.png", PNG_BYTES, "image/png")},
    )
    assert posted.status_code == 200, posted.text
    [answer] = posted.json()
    number = answer["service_request_id"]
    assert number.startswith("MTL-")
    listed = api.http.get(f"{BASE}/requests.json", params={"api_key": PORTAL_KEY}).json()
    assert not list(_validator("requests.json").iter_errors(listed))
    assert listed[0]["status"] == "open"
    assert listed[0]["service_code"] == "002"
    # the back office closes it with a note; the app sees it in both formats
    case_id = next(c["id"] for c in ctx_cases(ctx) if c["case_number"] == number)
    closed = api.http.post(
        f"/v1/cases/{case_id}/status",
        json={"status": "completed", "note": "Leuchtmittel getauscht."},
        headers={"Authorization": f"Bearer {BACKOFFICE_KEY}"},
    )
    assert closed.status_code == 200, closed.text
    one = api.http.get(f"{BASE}/requests/{number}.json", params={"api_key": PORTAL_KEY}).json()
    assert not list(_validator("requests.json").iter_errors(one))
    assert (one[0]["status"], one[0]["status_notes"]) == ("closed", "Leuchtmittel getauscht.")
    assert one[0]["agency_responsible"] == "Stadt Maintal, Ordnungsamt"
    xml = etree.fromstring(
        api.http.get(f"{BASE}/requests/{number}.xml", params={"api_key": PORTAL_KEY}).content
    )
    assert xml.tag == "service_requests"
    assert xml.findtext("request/status") == "closed"
    assert xml.findtext("request/service_request_id") == number
    only_open = api.http.get(
        f"{BASE}/requests.json", params={"api_key": PORTAL_KEY, "status": "open"}
    ).json()
    assert only_open == []


def ctx_cases(ctx: GatewayContext) -> list[dict[str, str]]:
    from ozg_gateway.store.models import Case

    with ctx.db.reading() as session:
        return [{"id": c.id, "case_number": c.case_number} for c in session.query(Case)]


def test_bad_reports_get_the_specs_error_list(api: Api) -> None:
    outside = {**REPORT, "lat": "52.52", "long": "13.40", "service_code": "777"}
    r = api.http.post(f"{BASE}/requests.json", data=outside)
    assert r.status_code == 400
    descriptions = [e["description"] for e in r.json()]
    assert all(e["code"] == 400 for e in r.json())
    assert any(d.startswith("service_code") for d in descriptions)
    assert any("außerhalb des Stadtgebiets" in d for d in descriptions)
    xml = etree.fromstring(api.http.post(f"{BASE}/requests.xml", data=outside).content)
    assert xml.tag == "errors"
    assert xml.findtext("error/code") == "400"
    no_key = api.http.post(f"{BASE}/requests.json", data={**REPORT, "api_key": "falsch"})
    assert no_key.status_code == 401
    assert api.http.get(f"{BASE}/requests.json").status_code == 401
    assert (
        api.http.get(f"{BASE}/requests/MTL-0.json", params={"api_key": PORTAL_KEY}).status_code
        == 404
    )
