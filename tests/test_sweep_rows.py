"""The sweep composes its letters as the outbox rows' values (`letter_parts.as_rows`, issue 15):
the same values, column for column, as the `OutboxMessage` each letter is everywhere else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from avtaleflyt import clock
from avtaleflyt.db import engine_for
from avtaleflyt.models import letters as lt
from avtaleflyt.models.enums import EmailEvent, Language
from avtaleflyt.models.tables import OutboxMessage, Party, Revision
from avtaleflyt.tasks import compose, letter_parts, sweep
from avtaleflyt.tasks.outbox.queue import _values

from .plans import treatment_plan
from .test_sweep_setwise import store

D = dt.date
COLUMNS = {c.key for c in OutboxMessage.__table__.columns} - {"id"}


@pytest.fixture
def engine(domain_db_url: str, monkeypatch: pytest.MonkeyPatch):
    # one clock for both ways of composing: the .ics's DTSTAMP is to the second, and a letter may cross one
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2025, 2, 15, 7, tzinfo=dt.timezone.utc))
    return engine_for(domain_db_url)


def same_but_created(row: dict, message: OutboxMessage) -> None:
    expected = _values(message)
    assert set(row) == COLUMNS == set(expected)
    assert isinstance(row["created_at"], dt.datetime) and abs(row["created_at"] - expected["created_at"]) < dt.timedelta(minutes=5)
    assert {k: v for k, v in row.items() if k != "created_at"} == {k: v for k, v in expected.items() if k != "created_at"}


@pytest.mark.parametrize("as_of", [D(2025, 2, 15), D(2025, 3, 5)])  # a reminder with its .ics; an overdue notice without
def test_a_reminder_as_row_values_is_the_outbox_message(engine, as_of):
    store(engine, treatment_plan(1, 4), D(2025, 1, 10))
    with Session(engine) as s, s.begin():
        revision = s.exec(select(Revision)).one()
        due = sweep._plan(s, revision, as_of).messages
        assert len(due) == 4
        messages = [compose.reminder(s, revision, d) for d in due]
        with letter_parts.as_rows():
            rows = [compose.reminder(s, revision, d) for d in due]
        again = [compose.reminder(s, revision, d) for d in due]  # the mode ends with its block
        s.rollback()
    assert all(isinstance(m, OutboxMessage) for m in messages + again) and all(isinstance(r, dict) for r in rows)
    assert all(m.ics for m in messages) == (as_of < D(2025, 3, 1))
    for row, message in zip(rows, messages, strict=True):
        same_but_created(row, message)


def test_several_entries_and_a_coordinators_entry_as_row_values(engine):
    store(engine, treatment_plan(1, 2), D(2025, 1, 10))
    saturday = D(2025, 3, 1)
    with Session(engine) as s, s.begin():
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party)).first()
        context = lt.DeadlineMoved(letter_parts.revision_ref(revision), letter_parts.party_ref(party), (), None)
        entries = [
            letter_parts.CalendarEntry("b", D(2025, 4, 5), "Later", EmailEvent.decision_request),
            letter_parts.CalendarEntry("a", saturday, "Sooner", EmailEvent.hearing_invitation),
        ]
        common = dict(key="k", to_name=party.name, to_address=party.email, stage_key="a")
        letters = {
            "moved": lambda: letter_parts.message(revision, EmailEvent.deadline_moved, Language.nn, context, party_id=party.id, entries=entries, **common),
            "party": lambda: letter_parts.message(revision, EmailEvent.deadline_moved, Language.nb, context, party_id=party.id, due=saturday, calendar_title="T", **common),
            "coordinators": lambda: letter_parts.message(revision, EmailEvent.deadline_moved, Language.nb, context, due=saturday, calendar_title="T", **common),
        }
        for name, letter in letters.items():
            message = letter()
            with letter_parts.as_rows():
                same_but_created(letter(), message)
        # a party's deadline on a Saturday is written as the Friday before; a coordinator's entry keeps the day
        assert "DTSTART;VALUE=DATE:20250228" in letters["party"]().ics and "DTSTART;VALUE=DATE:20250301" in letters["coordinators"]().ics
        s.rollback()
