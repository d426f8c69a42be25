"""Standard outputs against golden files (compared canonically) and the official schemas."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ozg_gateway.config import default_specs_dir
from ozg_gateway.forms.aem import AemSettings
from ozg_gateway.mappings import fitconnect, open311, personenstand, xfall
from ozg_gateway.runtime import SequenceIds
from ozg_gateway.specs import (
    FIT_CONNECT_METADATA,
    KLARSCHIFF_CUSTOM_DATA_XSD,
    OPEN311_REQUEST,
    XFALL_XSD,
    json_errors,
    xml_errors,
)
from tests.mappings.cases import CATALOG, OFFERS, SHA512, case_document

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory (../shared/specs)")
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"
AEM = CATALOG.form_settings("aem-meldung")
assert isinstance(AEM, AemSettings)


def _c14n(xml: bytes) -> bytes:
    return etree.tostring(
        etree.fromstring(xml, etree.XMLParser(remove_blank_text=True)), method="c14n2"
    )


def _golden_xml(name: str, xml: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(xml)
    assert _c14n(xml) == _c14n(path.read_bytes()), f"{name} differs from its golden file"


def _golden_json(name: str, value: Any) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    assert value == json.loads(path.read_text()), f"{name} differs from its golden file"


@pytest.mark.parametrize("service_id", OFFERS)
def test_xfall_golden_and_valid(service_id: str) -> None:
    doc = case_document(service_id)
    code = "002" if service_id == "aem-meldung" else None
    xml = xfall.build_xfall(doc, klarschiff_category=code)
    assert xml_errors(SPECS, XFALL_XSD, xml) == []
    _golden_xml(f"xfall-{service_id}.xml", xml)


def test_klarschiff_custom_data_is_valid() -> None:
    xml = xfall.build_xfall(case_document("aem-meldung"), klarschiff_category="002")
    ns = {"f": xfall.NS}
    custom = etree.fromstring(xml).findtext(
        ".//f:PartialApplication/f:Data/f:CustomData", namespaces=ns
    )
    assert custom is not None
    inner = base64.b64decode(custom)
    assert xml_errors(SPECS, KLARSCHIFF_CUSTOM_DATA_XSD, inner) == []
    assert b"<Type>problem</Type>" in inner
    assert b"<Category>2</Category>" in inner


@pytest.mark.parametrize("service_id", OFFERS)
def test_fitconnect_metadata_golden_and_valid(service_id: str) -> None:
    doc = case_document(service_id)
    data = fitconnect.build_data(doc)
    metadata = fitconnect.build_metadata(doc, data=data, attachment_sha512=SHA512)
    assert json_errors(SPECS, FIT_CONNECT_METADATA, metadata) == []
    assert (
        metadata["contentStructure"]["data"]["hash"]["content"] == hashlib.sha512(data).hexdigest()
    )
    _golden_json(f"fitconnect-metadata-{service_id}.json", metadata)
    _golden_json(f"fitconnect-data-{service_id}.json", json.loads(data))


def test_fitconnect_with_identity_and_payment_is_valid() -> None:
    doc = case_document("personenstandsurkunde")
    doc["identity"] = {"report": "eyJhbGciOiJFUzI1NiJ9.e30.sig", "level": "substantial"}
    doc["payment"] = {
        "transaction_id": "9xxd-432x-6543",
        "reference": "KZ-2026-000123",
        "method": "creditcard",
        "status": "PAID",
        "paid_at": "2026-11-25T10:35:00+00:00",
        "amount_cents": 2400,
    }
    metadata = fitconnect.build_metadata(
        doc, data=fitconnect.build_data(doc), attachment_sha512=SHA512
    )
    assert json_errors(SPECS, FIT_CONNECT_METADATA, metadata) == []
    assert metadata["paymentInformation"]["grossAmount"] == 24.0
    assert metadata["paymentInformation"]["status"] == "BOOKED"


def test_open311_golden_and_valid() -> None:
    doc = case_document("aem-meldung")
    request = open311.build_service_request(doc, settings=AEM)
    assert json_errors(SPECS, OPEN311_REQUEST, request) == []
    _golden_json("open311-request-aem-meldung.json", request)
    params = dict(open311.build_post_params(doc, settings=AEM))
    assert params["service_code"] == "002"
    assert params["attribute[typ]"] == "problem"
    assert "address_string" not in params


def test_xpersonenstand_order_golden() -> None:
    doc = case_document("personenstandsurkunde")
    xml = personenstand.build_order(
        doc,
        fee_first_cents=1200,
        fee_further_cents=600,
        now=datetime(2026, 11, 25, 10, 31, tzinfo=UTC),
        new_id=SequenceIds("msg"),
    )
    root = etree.fromstring(xml)
    ns = {"o": personenstand.NS}
    assert (
        root.findtext("o:nachrichtenkopf/o:nachrichtentyp", namespaces=ns)
        == "portal2StA.Geburt.081030"
    )
    costs = [int(c) for c in root.xpath("o:exemplar/o:kostenInCent/text()", namespaces=ns)]
    assert sum(costs) == doc["fee"]["amount_cents"] == 1200 + 2 * 600
    _golden_xml("xpersonenstand-order.xml", xml)


_names = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    service_id=st.sampled_from(OFFERS),
    given_name=st.none() | _names,
    family_name=_names,
    organisation=st.none() | _names,
    filename=_names,
    anonymous=st.booleans(),
    attachments=st.integers(min_value=0, max_value=3),
)
def test_generated_cases_produce_valid_xfall(
    service_id: str,
    given_name: str | None,
    family_name: str,
    organisation: str | None,
    filename: str,
    anonymous: bool,
    attachments: int,
) -> None:
    applicant = None
    if not anonymous:
        applicant = {"family_name": family_name, "email": "x@example.org"}
        if given_name:
            applicant["given_name"] = given_name
        if organisation:
            applicant["organisation"] = organisation
    files = [
        {
            "id": f"6f1c2d3e-0000-4bbb-8ccc-0123456789a{i}",
            "filename": filename,
            "content_type": "image/jpeg",
            "size": i,
            "sha256": "0" * 64,
            "purpose": None,
        }
        for i in range(attachments)
    ]
    doc = case_document(service_id, applicant=applicant, attachments=files)
    code = "002" if service_id == "aem-meldung" else None
    assert xml_errors(SPECS, XFALL_XSD, xfall.build_xfall(doc, klarschiff_category=code)) == []
