"""Render a case document in a named standard format (used by the API and connectors)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ozg_gateway.catalog import Catalog
from ozg_gateway.forms.aem import AemSettings
from ozg_gateway.mappings import fitconnect, open311, personenstand, xfall


class NotApplicable(LookupError):
    """The format does not exist for this kind of case."""


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def aem_settings(catalog: Catalog, service_id: str) -> AemSettings:
    """The AEM offer's settings (categories), or the defaults."""
    settings = catalog.form_settings(service_id)
    return settings if isinstance(settings, AemSettings) else AemSettings()


def render(
    document: Mapping[str, Any],
    name: str,
    *,
    catalog: Catalog,
    now: datetime,
    new_id: Callable[[], str],
    attachment_sha512: Callable[[str], str],
) -> tuple[bytes, str]:
    """Bytes and media type of ``document`` in format ``name`` (offer settings from
    ``catalog``; ``now`` and ``new_id`` for formats that stamp their messages)."""
    service_id = document["service"]["id"]
    offer = catalog.get(service_id)
    model = offer.form_model if offer else None
    aem = aem_settings(catalog, service_id)
    if name == "xfall":
        code = None
        if model == "aem-meldung":
            category = aem_settings(catalog, service_id).category(
                str(document["form"]["kategorie"])
            )
            code = (category.service_code if category else None) or "0"
        return xfall.build_xfall(document, klarschiff_category=code), "application/xml"
    if name == "fitconnect-data":
        return fitconnect.build_data(document), "application/json"
    if name == "fitconnect-metadata":
        hashes = {a["id"]: attachment_sha512(a["id"]) for a in document.get("attachments", [])}
        data = fitconnect.build_data(document)
        return _json(fitconnect.build_metadata(document, data=data, attachment_sha512=hashes)), (
            "application/json"
        )
    if name == "open311":
        if model != "aem-meldung":
            raise NotApplicable("Das Open311-Format gibt es nur für Meldungen (AEM).")
        request = open311.build_service_request(
            document, settings=aem_settings(catalog, service_id)
        )
        return _json(request), "application/json"
    if name == "open311-post":  # the form fields of POST requests (what the connector sends)
        if model != "aem-meldung":
            raise NotApplicable("Das Open311-Format gibt es nur für Meldungen (AEM).")
        params = open311.build_post_params(document, settings=aem)
        return urlencode(params).encode(), "application/x-www-form-urlencoded"
    if name == "xpersonenstand":
        if model != "personenstandsurkunde" or offer is None:
            raise NotApplicable("Das XPersonenstand-Format gibt es nur für Urkundenbestellungen.")
        order = personenstand.build_order(
            document,
            fee_first_cents=offer.fee.amount_cents,
            fee_further_cents=offer.fee.additional_copy_cents,
            now=now,
            new_id=new_id,
        )
        return order, "application/xml"
    raise NotApplicable("Dieses Format gibt es nicht.")
