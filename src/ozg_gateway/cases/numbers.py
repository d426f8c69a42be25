"""Case numbers: ``<prefix>-<year>-<8 characters>``, e.g. ``MTL-2026-7K3M9Q2X``.

The characters are Crockford's base 32 (no I, L, O, U), so a number read out on the phone is
not misheard. They come from a fresh id of the injected id factory, hashed: random in
production (UUID 4), repeatable in tests (a sequence).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from ozg_gateway.runtime import IdFactory

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SUFFIX_LENGTH = 8


def case_number(*, prefix: str, now: datetime, ids: IdFactory) -> str:
    """A new case number for a case created at ``now``."""
    digest = hashlib.sha256(ids().encode()).digest()
    # 32 characters, so each byte's low five bits pick one without bias.
    suffix = "".join(ALPHABET[b & 31] for b in digest[:SUFFIX_LENGTH])
    return f"{prefix}-{now.year}-{suffix}"
