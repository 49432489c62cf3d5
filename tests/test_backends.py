"""Where SQLite and PostgreSQL differ: concurrent writers, and the whole stack once on PostgreSQL.

On SQLite a transaction takes the whole database at BEGIN (`BEGIN IMMEDIATE`), so
two writers simply queue. On PostgreSQL they overlap, and a row lock
(`SELECT ... FOR UPDATE`) is what serialises them; a row read *before* the lock in
the same session must be read again once the lock is held, or the second writer
works from what it saw before the first one committed. Each test below makes two
writers overlap at exactly that point and runs on both backends.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import event
from sqlmodel import select

from avtaleflyt.db import get_engine, session_scope
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import AuditEntry, OutboxMessage, PartyLink, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.recorder import Recorder, lock_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN, drive_to_political_treatment
from .test_e2e import test_example_revision_end_to_end as example_revision_end_to_end

SLUG = "testrevisjon-2024"
NOW = dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)
WAIT = 60.0  # at most, for the other thread; the tests wait on events, never on a fixed time
# On SQLite, how long the first writer gives the second, which is waiting in BEGIN
# IMMEDIATE, to (wrongly) get in: it must still be waiting after this.
QUEUED_SECONDS = 1.0


def overlap(first_reads, first_writes, second) -> list[BaseException | None]:  # noqa: ANN001
    """Run `first_reads`, then `second` in another thread, then `first_writes`, all in one transaction of the first.

    The overlap is made certain, not hoped for: on PostgreSQL the first writes only
    once the second has committed in the middle of its transaction; on SQLite it
    writes once the second is inside its BEGIN IMMEDIATE, and checks that the second
    is queued there (it cannot get in while the first holds the database).
    Returns what each writer raised (None for success): [first, second].
    """
    engine = get_engine()
    sqlite = engine.dialect.name == "sqlite"
    read, second_begins, second_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException | None] = [None, None]
    second_thread: list[threading.Thread] = []

    def on_execute(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        if statement == "BEGIN IMMEDIATE" and threading.current_thread() in second_thread:
            second_begins.set()

    def run_second() -> None:
        read.wait(WAIT)
        try:
            with session_scope() as session:
                second(session)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors[1] = exc
        finally:
            second_done.set()

    thread = threading.Thread(target=run_second)
    second_thread.append(thread)
    event.listen(engine, "before_cursor_execute", on_execute)
    thread.start()
    try:
        with session_scope() as session:
            state = first_reads(session)
            read.set()
            if sqlite:
                assert second_begins.wait(WAIT), "the second writer never began its transaction"
                assert not second_done.wait(QUEUED_SECONDS), "the second writer got in while the first held the database"
            else:
                assert second_done.wait(WAIT), "the second writer did not commit while the first was between read and write"
            first_writes(session, state)
    except AssertionError:
        raise
    except BaseException as exc:  # noqa: BLE001
        errors[0] = exc
    finally:
        read.set()
        thread.join(WAIT)
        event.remove(engine, "before_cursor_execute", on_execute)
    return errors


def test_the_event_counter_counts_both_of_two_overlapping_writers(domain_db_url):
    """A revision loaded before `lock_revision` (as `report_by_link` does) is read again under the lock."""
    with session_scope() as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope() as s:
        reconcile_revision(s, SLUG, today=dt.date(2024, 6, 1))
    with session_scope() as s:
        before = s.exec(select(Revision)).one().seq

    def first_reads(session):  # noqa: ANN001, ANN202
        return session.exec(select(Revision).where(Revision.slug == SLUG)).one()

    def first_writes(session, _revision):  # noqa: ANN001, ANN202
        Recorder(session, lock_revision(session, SLUG), "first").log("test.first", "x")

    def second(session):  # noqa: ANN001, ANN202
        Recorder(session, lock_revision(session, SLUG), "second").log("test.second", "y")

    assert overlap(first_reads, first_writes, second) == [None, None]
    with session_scope() as s:
        assert s.exec(select(Revision)).one().seq == before + 2
        seqs = {e.action: e.seq for e in s.exec(select(AuditEntry).where(AuditEntry.action.in_(["test.first", "test.second"])))}
    assert sorted(seqs.values()) == [before + 1, before + 2], seqs


def test_a_link_used_by_two_requests_at_once_works_once(domain_db_url):
    drive_to_political_treatment(today=dt.date(2025, 2, 10))
    with session_scope() as s:
        link = s.exec(select(PartyLink)).first()
        secret = get_settings().signing_key()
        token = links._serializer(secret).dumps(link.nonce)

    def first_reads(session):  # noqa: ANN001, ANN202
        return links.check(session, secret, token, NOW)  # the check `use` makes before it locks

    def first_writes(session, _link):  # noqa: ANN001, ANN202
        links.use(session, secret, token, NOW)

    def second(session):  # noqa: ANN001, ANN202
        links.use(session, secret, token, NOW)

    errors = overlap(first_reads, first_writes, second)
    assert sum(e is None for e in errors) == 1, errors
    refused = next(e for e in errors if e is not None)
    assert isinstance(refused, links.LinkRefused), refused


def test_the_same_letter_enqueued_by_two_writers_at_once_is_stored_once(domain_db_url):
    """The outbox's unique key, raced on a real server: the loser's savepoint rolls back, its transaction stands."""
    from avtaleflyt.models.enums import EmailEvent, Language
    from avtaleflyt.tasks import outbox

    def message() -> OutboxMessage:
        return OutboxMessage(
            key="race/1", event=EmailEvent.weekly_digest, language=Language.nb, to_name="Sekretariatet",
            to_address="sekretariat@example.no", subject="Ukeoversikt", body_text="t", body_html="<p>t</p>",
        )

    inserted: list[bool] = []

    def first_reads(session):  # noqa: ANN001, ANN202
        return session.exec(select(OutboxMessage.id).where(OutboxMessage.key == "race/1")).first()  # nothing yet

    def first_writes(session, _):  # noqa: ANN001, ANN202
        inserted.append(outbox._insert(session, message()))  # past enqueue's own look: the insert races

    def second(session):  # noqa: ANN001, ANN202
        inserted.append(outbox.enqueue(session, message()))

    assert overlap(first_reads, first_writes, second) == [None, None]
    assert sorted(inserted) == [False, True]
    with session_scope() as s:
        assert len(s.exec(select(OutboxMessage)).all()) == 1


@pytest.mark.e2e
@pytest.mark.backends("postgresql")
def test_example_revision_end_to_end_on_postgresql(prefect_server, worker, domain_db_url, tmp_path, smtp_server):
    """tests/test_e2e.py's whole example revision (CLI, worker, resume form, a killed worker, mail), on PostgreSQL."""
    assert domain_db_url.startswith("postgresql")
    example_revision_end_to_end(prefect_server, worker, domain_db_url, tmp_path, smtp_server)
