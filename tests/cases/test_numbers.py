"""Case numbers come from the injected id factory: readable, repeatable in tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ozg_gateway.cases.numbers import case_number
from ozg_gateway.runtime import SequenceIds, uuid_ids

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
FORMAT = re.compile(r"^MTL-2026-[0-9A-HJKMNP-TV-Z]{8}$")


def test_case_numbers_follow_the_id_factory() -> None:
    first = [case_number(prefix="MTL", now=NOW, ids=SequenceIds("id")) for _ in range(2)]
    assert first[0] == first[1]  # same factory state, same number: tests can rely on it
    numbers = {case_number(prefix="MTL", now=NOW, ids=SequenceIds("x")) for _ in range(1)}
    ids = SequenceIds("id")
    numbers |= {case_number(prefix="MTL", now=NOW, ids=ids) for _ in range(500)}
    assert len(numbers) == 501
    assert all(FORMAT.match(n) for n in numbers)


def test_production_numbers_are_random_and_unambiguous() -> None:
    numbers = {case_number(prefix="MTL", now=NOW, ids=uuid_ids) for _ in range(2000)}
    assert len(numbers) == 2000
    assert not any(set(n[9:]) & set("ILOU") for n in numbers)
