"""GenericContentContainer and MTOM/XOP packaging for sendMessage, streamed.

The container names each content part; with MTOM the bytes travel as separate MIME parts
(``xop:Include href="cid:…"``) produced chunk by chunk, so neither the message nor the
attachments are ever held whole in memory. Inline base64 is the configurable fallback.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from ozg_gateway.xta.messages import XTA

XOP = "http://www.w3.org/2004/08/xop/include"
C = ElementMaker(namespace=XTA, nsmap={"xta": XTA})


@dataclass(frozen=True)
class Part:
    """One content item; ``chunks`` yields its bytes (read once, lazily)."""

    content_id: str
    content_type: str
    chunks: Iterable[bytes]
    filename: str | None = None
    size: int | None = None
    description: str | None = None


def _content(tag: str, part: Part, *, mtom: bool) -> etree._Element:
    attrs = {"contentType": part.content_type}
    if part.filename:
        attrs["filename"] = part.filename
    if part.size is not None:
        attrs["size"] = str(part.size)
    if part.description:
        attrs["contentDescription"] = part.description
    element: etree._Element = getattr(C, tag)(**attrs)
    if mtom:
        include = etree.SubElement(element, f"{{{XOP}}}Include", nsmap={"xop": XOP})
        include.set("href", f"cid:{part.content_id}")
    else:
        element.text = base64.b64encode(b"".join(part.chunks)).decode()
    return element


def generic_container(message: Part, attachments: list[Part], *, mtom: bool) -> etree._Element:
    """GenericContentContainer/ContentContainer with Message and Attachments."""
    container = C.ContentContainer(_content("Message", message, mtom=mtom))
    for attachment in attachments:
        container.append(_content("Attachment", attachment, mtom=mtom))
    generic: etree._Element = C.GenericContentContainer(container)
    return generic


def mtom_content_type(boundary: str, action: str, root_id: str = "root@ozg-gateway") -> str:
    """Content-Type header of an MTOM request."""
    return (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml; action=\\"{action}\\""'
    )


def mtom_stream(
    envelope: bytes,
    parts: list[Part],
    *,
    boundary: str,
    action: str,
    root_id: str = "root@ozg-gateway",
) -> Iterator[bytes]:
    """The MIME body: the XOP root envelope, then each part's bytes as they are read."""
    dash = f"--{boundary}".encode()
    yield dash + b"\r\n"
    yield (
        f'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml; '
        f'action=\\"{action}\\""\r\nContent-Transfer-Encoding: binary\r\n'
        f"Content-ID: <{root_id}>\r\n\r\n"
    ).encode()
    yield envelope
    for part in parts:
        yield b"\r\n" + dash + b"\r\n"
        yield (
            f"Content-Type: {part.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{part.content_id}>\r\n\r\n"
        ).encode()
        yield from part.chunks
    yield b"\r\n" + dash + b"--\r\n"
