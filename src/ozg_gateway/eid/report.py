"""Identification report for FIT-Connect ``authenticationInformation`` (compact JWS, RS256).

The gateway, as the eService that ran the identification, signs what it learned: pseudonym,
level of assurance, checks and the attributes the offer may use. Receivers verify it with the
gateway's eService certificate.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ozg_gateway.eid.wssec import SigningKey

REPORT_VERSION = "1.0.0"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def build_report(
    result: dict[str, Any], *, key: SigningKey, issued_at: datetime, subject_case: str | None = None
) -> str:
    """Compact JWS over the identification result (characters FIT-Connect allows)."""
    header = {
        "alg": "RS256",
        "typ": "JWT",
        "x5t#S256": _b64(key.certificate.fingerprint(hashes.SHA256())),
    }
    claims = {
        "iat": int(issued_at.timestamp()),
        "restricted_id": result.get("restricted_id"),
        "level_of_assurance": result.get("level"),
        "age_ok": result.get("age_ok"),
        "place_ok": result.get("place_ok"),
        "attributes": result.get("attributes", {}),
        # BundID: the path (and how the citizen proved it), so a back office can tell them apart.
        **(
            {"method": result["method"], "proved_by": result.get("proved_by")}
            if result.get("method")
            else {}
        ),
        **({"case": subject_case} if subject_case else {}),
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode())
        for part in (header, claims)
    )
    signature = key.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"
