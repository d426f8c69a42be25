"""Case document → FIT-Connect submission: data JSON and metadata 1.0.0 (pure).

The data ("Fachdaten") is the case's form data with applicant and persons, as canonical JSON;
the metadata describes it by SHA-512 hash and schema URI, lists the attachments with their
SHA-512 hashes (computed by the caller from the bytes), names the service by LeiKa URN (or an
ozg-gateway URN while no LeiKa key is configured), and carries eID and payment results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

LEIKA_URN = "urn:de:fim:leika:leistung:"
FALLBACK_URN = "urn:ozg-gateway:leistung:"
SCHEMA_URN = "urn:ozg-gateway:schema:fachdaten:"

# Gateway payment methods → FIT-Connect paymentMethod; everything else is OTHER.
_PAYMENT_METHODS = {"GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "INVOICE"}
_PAYMENT_STATUS = {"PAID": "BOOKED", "PAYED": "BOOKED", "FAILED": "FAILED", "CANCELED": "CANCELED"}


def build_data(document: Mapping[str, Any]) -> bytes:
    """Fachdaten as canonical UTF-8 JSON (sorted keys, no insignificant whitespace)."""
    data = {
        "schemaVersion": document["schema_version"],
        "service": document["service"]["id"],
        "caseNumber": document["case_number"],
        "applicant": document.get("applicant"),
        "persons": document.get("persons", []),
        "form": document["form"],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def service_identifier(service: Mapping[str, Any]) -> str:
    """LeiKa URN if known, else a stable gateway URN."""
    if service.get("leika_key"):
        return LEIKA_URN + str(service["leika_key"])
    return FALLBACK_URN + str(service["id"])


def reply_channel(
    document: Mapping[str, Any], *, offered: Collection[str] | None = None
) -> dict[str, Any] | None:
    """The first reply channel the offer prefers that the destination offers (None: the
    destination did not say) and the applicant gave an address for; None means paper."""
    applicant = document.get("applicant") or {}
    addresses: dict[str, dict[str, Any] | None] = {
        "eMail": {"address": applicant["email"]} if applicant.get("email") else None,
        "deMail": {"address": applicant["de_mail"]} if applicant.get("de_mail") else None,
        "fink": (
            {"finkPostfachRef": applicant["fink_postfach"]}
            | ({"host": applicant["fink_host"]} if applicant.get("fink_host") else {})
            if applicant.get("fink_postfach")
            else None
        ),
        "elster": (
            {"accountId": applicant["elster_account_id"]}
            if applicant.get("elster_account_id")
            else None
        ),
    }
    for name in (document.get("service") or {}).get("reply_channels") or ["eMail"]:
        address = addresses.get(name)
        if address is not None and (offered is None or name in offered):
            return {name: address}
    return None


def build_metadata(
    document: Mapping[str, Any],
    *,
    data: bytes,
    attachment_sha512: Mapping[str, str],
    offered: Collection[str] | None = None,
) -> dict[str, Any]:
    """Metadata 1.0.0 for the submission; attachment ids must be UUIDs. ``offered``: the
    reply channels the destination lists (None: not known, the offer's preference decides)."""
    attachments = [
        {
            "hash": {"type": "sha512", "content": attachment_sha512[a["id"]]},
            "purpose": "form" if a.get("purpose") == "antragsformular" else "attachment",
            "filename": a["filename"],
            "mimeType": a["content_type"],
            "attachmentId": a["id"],
        }
        for a in document.get("attachments", [])
    ]
    schema_uri = f"{SCHEMA_URN}{document['service']['id']}:{document['schema_version']}"
    metadata: dict[str, Any] = {
        "contentStructure": {
            "data": {
                "hash": {"type": "sha512", "content": hashlib.sha512(data).hexdigest()},
                "submissionSchema": {
                    "schemaUri": schema_uri,
                    "mimeType": "application/json",
                },
            },
            "attachments": attachments,
        },
        "publicServiceType": {
            "name": document["service"]["title"],
            "identifier": service_identifier(document["service"]),
        },
        "additionalReferenceInfo": {
            "senderReference": document["case_number"],
            "applicationDate": str(document["submitted_at"])[:10],
        },
    }
    channel = reply_channel(document, offered=offered)
    if channel is not None:
        metadata["replyChannel"] = channel
    identity = document.get("identity")
    if identity and identity.get("report"):
        metadata["authenticationInformation"] = [
            {
                "type": "identificationReport",
                "version": str(identity.get("report_version", "1.0.0")),
                "content": identity["report"],
            }
        ]
    payment = document.get("payment")
    if payment and payment.get("transaction_id"):
        metadata["paymentInformation"] = _payment(payment)
    return metadata


def _payment(payment: Mapping[str, Any]) -> dict[str, Any]:
    method = str(payment.get("method") or "OTHER").upper()
    info: dict[str, Any] = {
        "transactionId": payment["transaction_id"],
        "transactionReference": payment.get("reference") or payment["transaction_id"],
        "paymentMethod": method if method in _PAYMENT_METHODS else "OTHER",
        "status": _PAYMENT_STATUS.get(str(payment.get("status")), "INITIAL"),
    }
    if payment.get("paid_at"):
        info["transactionTimestamp"] = payment["paid_at"]
    if payment.get("amount_cents"):
        info["grossAmount"] = int(payment["amount_cents"]) / 100
    return info
