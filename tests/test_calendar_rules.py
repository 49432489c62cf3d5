"""Norway's public holidays: the same days and names as the `holidays` library gives, without
importing it (it loads every country it knows to give one: most of `plan check`'s start)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import holidays
import pytest
from avtaleflyt.models.calendar_rules import _norway, non_working_day


def test_the_same_days_and_names_as_the_holidays_library():
    """Over the years it covers (1901-2100; outside them it names no day at all)."""
    for year in range(holidays.Norway.start_year, holidays.Norway.end_year + 1):
        assert _norway(year) == dict(holidays.Norway(years=year, language="no")), year


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ("2024-12-25", "Første juledag"), ("2025-04-17", "Skjærtorsdag"), ("2025-05-01", "Arbeidernes dag"),
        ("2012-05-17", "Grunnlovsdag; Kristi himmelfartsdag"), ("2008-05-01", "Arbeidernes dag; Kristi himmelfartsdag"),
        ("2027-05-17", "Andre pinsedag; Grunnlovsdag"), ("1946-05-17", None), ("2025-05-17", "lørdag"),
        ("2024-09-08", "søndag"), ("2024-12-27", None), ("2150-12-25", "Første juledag"),
    ],
)
def test_non_working_days(day, why):
    assert non_working_day(dt.date.fromisoformat(day)) == why


def test_naming_a_holiday_does_not_import_the_holidays_library():
    code = (
        "import datetime, sys\n"
        "from avtaleflyt.models.calendar_rules import non_working_day\n"
        "assert non_working_day(datetime.date(2024, 12, 25)) == 'Første juledag'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'holidays'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.strip() == "[]"
