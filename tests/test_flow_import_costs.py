"""A flow-run process loads only what every pass needs (issue 15, bench/README.md, `bench_start.py`).

Prefect starts a new Python process for every pass of every revision and of the sweep; what the flow's
module imports is paid by each. icalendar (~80 modules, ~19 % of what the revision flow added on top of
Prefect) is needed only by a pass that writes a letter with a calendar entry: tasks/calendar.py imports
it when it builds one. alembic is loaded only by `migrate()` (tests/test_schema_check.py).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

NOT_AT_IMPORT = ("icalendar", "alembic", "avtaleflyt.tasks.export")

RUN = """
import json, sys
import {module}
print("\\n@@" + json.dumps(sorted(sys.modules)))
"""


def _modules_after_import(module: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", RUN.format(module=module)], capture_output=True, text=True, timeout=300, check=True)
    return set(json.loads(done.stdout.rsplit("\n@@", 1)[1]))


@pytest.mark.parametrize("module", ["avtaleflyt.flows.revision", "avtaleflyt.flows.sweep", "avtaleflyt.flows.serve"])
def test_a_flow_module_does_not_load_icalendar_or_alembic(module):
    loaded = _modules_after_import(module)
    assert "avtaleflyt.tasks.calendar" in loaded or module != "avtaleflyt.flows.revision"  # the letters' module chain is there
    assert sorted(m for m in loaded if m.split(".")[0] in NOT_AT_IMPORT or m in NOT_AT_IMPORT) == []


# PostgreSQL's dialect (its `insert`, `ARRAY`) and drivers: ~0.1 s of every flow-run process on SQLite
# (the embedded stack), loaded where a statement is built for PostgreSQL (tasks/outbox/queue.py, tasks/sweep.py)
POSTGRESQL = ("sqlalchemy.dialects.postgresql", "psycopg", "psycopg2", "asyncpg", "pg8000")


@pytest.mark.parametrize("module", ["avtaleflyt.flows.revision", "avtaleflyt.flows.sweep", "avtaleflyt.flows.serve"])
def test_a_flow_module_does_not_load_the_postgresql_dialect(module):
    loaded = _modules_after_import(module)
    assert "sqlalchemy.orm" in loaded
    assert sorted(m for m in loaded if any(m == p or m.startswith(p + ".") for p in POSTGRESQL)) == []


def test_the_calendar_is_still_built_when_a_letter_needs_it():
    """icalendar is loaded on first use and gives the same text (tests/test_letters*.py compare whole letters)."""
    code = """
import datetime as dt, sys
from avtaleflyt.tasks import calendar
assert "icalendar" not in sys.modules
text = calendar.deadlines_ics([("uid-1", "Frist: høyringsfråsegn", dt.date(2026, 12, 1))], "Sjå brevet")
assert "icalendar" in sys.modules
print(text)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert "BEGIN:VCALENDAR" in done.stdout and "DTSTART;VALUE=DATE:20261201" in done.stdout
    assert "BEGIN:VALARM" in done.stdout and "PRODID:-//avtaleflyt//samarbeidsavtaler//NO" in done.stdout
    from avtaleflyt.tasks import calendar

    assert done.stdout.replace("\r\n", "\n").split("DTSTAMP:")[0] == calendar.deadlines_ics(
        [("uid-1", "Frist: høyringsfråsegn", dt.date(2026, 12, 1))], "Sjå brevet"
    ).replace("\r\n", "\n").split("DTSTAMP:")[0]
