"""Content container (inline valid against the XSD) and a streamed MTOM body that parses back."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator

import pytest
from lxml import etree

from ozg_gateway.config import default_specs_dir
from ozg_gateway.specs import xml_errors
from ozg_gateway.xta.container import XOP, Part, generic_container, mtom_content_type, mtom_stream
from ozg_gateway.xta.messages import ACTIONS

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")


def _parts() -> tuple[Part, list[Part]]:
    message = Part(
        "msg@gw", "application/xml", [b"<MainApplication/>"], filename="xfall.xml", size=18
    )
    photo = Part(
        "att1@gw", "image/jpeg", [b"\xff\xd8\xff", b"\x00" * 10], filename="foto.jpg", size=13
    )
    return message, [photo]


def test_inline_container_is_schema_valid() -> None:
    message, attachments = _parts()
    xml = etree.tostring(generic_container(message, attachments, mtom=False))
    assert xml_errors(SPECS, "xta/XTA-Webservice-Globale-Elemente.xsd", xml) == []


def test_mtom_body_streams_and_parses_back() -> None:
    consumed: list[int] = []

    def big() -> Iterator[bytes]:
        for i in range(50):  # 50 x 64 KiB, produced on demand
            consumed.append(i)
            yield bytes([i % 256]) * 65536

    message, _ = _parts()
    attachment = Part("big@gw", "application/pdf", big(), filename="scan.pdf", size=50 * 65536)
    container = generic_container(message, [attachment], mtom=True)
    assert container.find(f".//{{{XOP}}}Include") is not None
    envelope = etree.tostring(container)
    stream = mtom_stream(
        envelope, [message, attachment], boundary="b0undary", action=ACTIONS["sendMessage"]
    )
    first = [next(stream) for _ in range(3)]
    assert consumed == []  # nothing read before it is needed
    body = b"".join(first) + b"".join(stream)
    assert len(consumed) == 50
    header = (
        f"Content-Type: {mtom_content_type('b0undary', ACTIONS['sendMessage'])}\r\n\r\n".encode()
    )
    parsed = email.message_from_bytes(header + body, policy=email.policy.HTTP)
    parts = list(parsed.iter_parts())
    assert [p["Content-ID"] for p in parts] == ["<root@ozg-gateway>", "<msg@gw>", "<big@gw>"]
    assert parts[2].get_payload(decode=True) == b"".join(
        bytes([i % 256]) * 65536 for i in range(50)
    )
