"""No test depends on the calendar: dates are relative to the clock a test runs against.

Tests run on the frozen clock of conftest (``TEST_TODAY``) or, where a real server or a
simulator signs with the real time, on today. A date literal after ``TEST_TODAY`` is a test
that starts failing on that day once something runs it on the real clock.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from ozg_gateway.catalog import load_catalog
from ozg_gateway.forms.registry import FORM_MODELS, FormContext
from tests.conftest import EXAMPLE_CONFIG, FrozenClock
from tests.factories import OFFERS, TEST_TODAY, form

TESTS = Path(__file__).resolve().parent
_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_CALL = re.compile(r"\bdate(?:time)?\((20\d\d), (\d{1,2}), (\d{1,2})")


def test_frozen_clock_is_the_factories_today(clock: FrozenClock) -> None:
    assert clock().date() == TEST_TODAY


def test_no_date_literal_after_the_frozen_clock() -> None:
    late: list[str] = []
    for path in sorted(TESTS.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in (*_ISO.finditer(line), *_CALL.finditer(line)):
                try:
                    found = date(*(int(g) for g in match.groups()))
                except ValueError:
                    continue
                if found > TEST_TODAY:
                    late.append(f"{path.relative_to(TESTS)}:{number}: {match.group(0)}")
    assert late == [], "dates after the frozen clock; make them relative to it"


@pytest.mark.parametrize(
    "today",
    [TEST_TODAY, date.today(), *(date.today() + timedelta(days=365 * n + 37) for n in (1, 3, 9))],
)
@pytest.mark.parametrize("service_id", OFFERS)
def test_factory_forms_are_valid_on_any_day(service_id: str, today: date) -> None:
    catalog = load_catalog(EXAMPLE_CONFIG.parent / "catalog.toml")
    context = FormContext(today=today, settings=catalog.form_settings(service_id))
    assert FORM_MODELS[service_id].validate(form(service_id, today), context=context)
