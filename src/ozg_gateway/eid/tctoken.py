"""TC Token (TR-03124, TcToken.xsd) the gateway serves to the eID-Client at the tcTokenURL."""

from __future__ import annotations

from lxml import etree

PAOS_BINDING = "urn:liberty:paos:2006-08"
PSK_PROTOCOL = "urn:ietf:rfc:4279"


def build_tc_token(
    *,
    server_address: str,
    session_identifier: str,
    refresh_address: str,
    psk_hex: str,
    communication_error_address: str | None = None,
) -> bytes:
    """TCTokenType document; ServerAddress is the eCardServerAddress exactly, PSK in hex."""
    root = etree.Element("TCTokenType")
    for name, value in (
        ("ServerAddress", server_address),
        ("SessionIdentifier", session_identifier),
        ("RefreshAddress", refresh_address),
        ("CommunicationErrorAddress", communication_error_address),
        ("Binding", PAOS_BINDING),
        ("PathSecurity-Protocol", PSK_PROTOCOL),
    ):
        if value is not None:
            etree.SubElement(root, name).text = value
    params = etree.SubElement(root, "PathSecurity-Parameters")
    etree.SubElement(params, "PSK").text = psk_hex
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def activation_links(tc_token_url: str) -> dict[str, str]:
    """Links that start the eID-Client: local AusweisApp and the mobile eid:// form."""
    from urllib.parse import quote

    query = "tcTokenURL=" + quote(tc_token_url, safe="")
    return {
        "desktop": f"http://127.0.0.1:24727/eID-Client?{query}",
        "mobile": f"eid://127.0.0.1:24727/eID-Client?{query}",
    }
