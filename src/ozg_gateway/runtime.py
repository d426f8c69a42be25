"""Injected clock and id factory, so tests and golden files need no scrubbing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]

# Crockford base32 without I, L, O, U: readable on the phone and on paper.


def system_clock() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def uuid_ids() -> str:
    """Return a random UUID4 string."""
    return str(uuid.uuid4())


class SequenceIds:
    """Deterministic id factory for tests: ``prefix-000001``, ``prefix-000002`` ..."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._n = 0

    def __call__(self) -> str:
        self._n += 1
        return f"{self._prefix}-{self._n:06d}"


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep for ``seconds`` or until ``stop`` is set, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query string."""
    separator = "&" if "?" in url else "?"
    return url + separator + urlencode(params)
