"""eID messages: requests valid against TR-03130 2.0.2, lenient parsing, result codes, TC Token."""

from __future__ import annotations

import pytest
from lxml import etree

from ozg_gateway.config import default_specs_dir
from ozg_gateway.eid.mapping import (
    EidPolicy,
    NoResultYet,
    Result,
    build_get_result,
    build_get_server_info,
    build_use_id,
    community_id,
    parse_get_result,
    parse_use_id,
    raise_for,
    user_message,
)
from ozg_gateway.eid.tctoken import activation_links, build_tc_token
from ozg_gateway.errors import ConnectorConfigError, PermanentError, TransientError
from ozg_gateway.specs import xml_errors

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
XSD = "eid/TR-03130eID-Server20.xsd"
OK = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok"
ERROR = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#error"
MINOR = "http://www.bsi.bund.de/eid/server/2.0/resultminor"


def test_community_id_of_maintal() -> None:
    assert community_id("06435019") == "02760604350019"
    with pytest.raises(ValueError, match="8 digits"):
        community_id("6435019")


def test_use_id_requests_are_schema_valid_and_minimal() -> None:
    policy = EidPolicy(
        required=frozenset({"GivenNames", "FamilyNames", "DateOfBirth", "RestrictedID"}),
        allowed=frozenset({"BirthName"}),
        min_age=16,
        community_id=community_id("06435019"),
    )
    request = build_use_id(policy)
    assert xml_errors(SPECS, XSD, etree.tostring(request)) == []
    ops = {etree.QName(e).localname: e.text for e in request[0]}
    assert ops["PlaceOfResidence"] == "PROHIBITED"  # not needed: not read
    assert ops["BirthName"] == "ALLOWED"
    assert ops["AgeVerification"] == ops["PlaceVerification"] == "REQUIRED"
    for other in (build_get_result("0" * 32, 1), build_get_server_info()):
        assert xml_errors(SPECS, XSD, etree.tostring(other)) == []


def test_unknown_attribute_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown eID attributes"):
        EidPolicy(required=frozenset({"ShoeSize"})).operations()


def _body(inner: str, major: str = OK, minor: str | None = None) -> etree._Element:
    minor_el = f"<dss:ResultMinor>{minor}</dss:ResultMinor>" if minor else ""
    return etree.fromstring(
        f'<eid:getResultResponse xmlns:eid="http://bsi.bund.de/eID/" '
        f'xmlns:dss="urn:oasis:names:tc:dss:1.0:core:schema">{inner}'
        f"<dss:Result><dss:ResultMajor>{major}</dss:ResultMajor>{minor_el}</dss:Result>"
        "</eid:getResultResponse>"
    )


def test_parse_result_202_and_24_leniently() -> None:
    v202 = _body(
        "<eid:PersonalData><eid:GivenNames>ERIKA</eid:GivenNames><eid:FamilyNames>MUSTERMANN</eid:FamilyNames>"
        "<eid:DateOfBirth><eid:DateString>19640812</eid:DateString><eid:DateValue>1964-08-12</eid:DateValue></eid:DateOfBirth>"
        "<eid:PlaceOfResidence><eid:StructuredPlace><eid:Street>HEIDESTRASSE 17</eid:Street><eid:City>KÖLN</eid:City>"
        "<eid:Country>D</eid:Country><eid:ZipCode>51147</eid:ZipCode></eid:StructuredPlace></eid:PlaceOfResidence>"
        "<eid:RestrictedID><eid:ID>0123456789abcdef</eid:ID></eid:RestrictedID></eid:PersonalData>"
        "<eid:FulfilsAgeVerification><eid:FulfilsRequest>true</eid:FulfilsRequest></eid:FulfilsAgeVerification>"
    )
    identity = parse_get_result(v202)
    assert identity.attributes["DateOfBirth"] == {"date": "1964-08-12", "partial": None}
    assert identity.attributes["PlaceOfResidence"]["street"] == "HEIDESTRASSE 17"  # type: ignore[index]
    assert identity.age_ok is True
    v24 = _body(
        "<eid:PersonalData><eid:FamilyNames>MUSTERMANN</eid:FamilyNames>"
        "<eid:DateOfBirth><eid:DateString>1964    </eid:DateString></eid:DateOfBirth>"
        "<eid:CommunityID>02760604350019</eid:CommunityID></eid:PersonalData>"
        "<eid:LevelOfAssuranceResult>http://bsi.bund.de/eID/LoA/hoch</eid:LevelOfAssuranceResult>"
    )
    identity = parse_get_result(v24)
    assert identity.attributes["DateOfBirth"] == {"date": None, "partial": "1964"}
    assert identity.attributes["CommunityID"] == "02760604350019"
    assert identity.level == "http://bsi.bund.de/eID/LoA/hoch"
    policy = EidPolicy(required=frozenset({"FamilyNames"}))
    assert identity.minimised(policy) == {"FamilyNames": "MUSTERMANN"}


def test_result_codes_map_to_the_taxonomy() -> None:
    with pytest.raises(NoResultYet):
        parse_get_result(_body("", ERROR, f"{MINOR}/getResult#noResultYet"))
    with pytest.raises(TransientError):
        raise_for(Result(ERROR, f"{MINOR}/useID#tooManyOpenSessions"))
    with pytest.raises(ConnectorConfigError):
        raise_for(Result(ERROR, f"{MINOR}/useID#missingTerminalRights"))
    with pytest.raises(PermanentError) as info:
        raise_for(Result(ERROR, f"{MINOR}/getResult#invalidDocument"))
    assert info.value.code.endswith("invalidDocument")  # type: ignore[union-attr]
    assert user_message(
        "http://www.bsi.bund.de/ecard/api/1.1/resultminor/sal#cancellationByUser"
    ) == ("Sie haben den Vorgang abgebrochen.")
    assert user_message("urn:something:else") == "Die Identifizierung ist fehlgeschlagen."


def test_use_id_answer_and_tc_token() -> None:
    body = etree.fromstring(
        '<eid:useIDResponse xmlns:eid="http://bsi.bund.de/eID/" xmlns:dss="urn:oasis:names:tc:dss:1.0:core:schema">'
        "<eid:Session><eid:ID>00112233445566778899aabbccddeeff</eid:ID></eid:Session>"
        "<eid:eCardServerAddress>https://eid.example.org/ecardpaos</eid:eCardServerAddress>"
        "<eid:PSK><eid:ID>00112233445566778899aabbccddeeff</eid:ID><eid:Key>a1b2c3d4e5f60718</eid:Key></eid:PSK>"
        f"<dss:Result><dss:ResultMajor>{OK}</dss:ResultMajor></dss:Result></eid:useIDResponse>"
    )
    answer = parse_use_id(body)
    token = build_tc_token(
        server_address=answer.server_address or "",
        session_identifier=answer.psk_id,
        refresh_address="https://gateway.example/v1/identifications/x/refresh",
        psk_hex=answer.psk_key,
        communication_error_address="https://gateway.example/v1/identifications/x/error",
    )
    assert xml_errors(SPECS, "eid/TcToken.xsd", token) == []
    links = activation_links("https://gateway.example/v1/identifications/x/tctoken")
    assert links["desktop"].startswith(
        "http://127.0.0.1:24727/eID-Client?tcTokenURL=https%3A%2F%2F"
    )
    assert links["mobile"].startswith("eid://127.0.0.1:24727/eID-Client?")
