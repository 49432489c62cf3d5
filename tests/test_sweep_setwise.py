"""The sweep's set-wise selection and its enqueue in one statement per revision (issue 15):
the same letters as the per-revision rule found, in a number of statements that does not
grow with the revisions (the selection) or the letters (the enqueue)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, update
from sqlmodel import col, select

from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models import reminders
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome, RevisionStatus, StageKind, StageStatus
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.stages.base import ReminderSettings
from avtaleflyt.models.tables import ForumDecision, OutboxMessage, Party, PartyObligation, Revision, Stage
from avtaleflyt.tasks import records, sweep
from avtaleflyt.tasks.outbox import enqueue_all
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .outbox_rows import msg
from .plans import treatment_plan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
D = dt.date


@pytest.fixture
def engine(domain_db_url: str):
    return engine_for(domain_db_url)


class Statements:
    """The SQL statements run on `engine` inside the block."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine, self.seen = engine, []

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.seen.append(" ".join(statement.split()).upper())

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def count(self, start: str = "") -> int:
        return sum(s.startswith(start) for s in self.seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")))


def store(engine, source: str, today: dt.date) -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        slug = store_revision(s, parse_plan(source), source, "t").slug
    with session_scope(engine) as s:
        reconcile_revision(s, slug, today=today)
    return slug


# --------------------------------------------------------------------------- enqueue_all


def test_enqueue_all_inserts_each_new_key_once_in_one_statement(engine):
    with session_scope(engine) as s:
        assert enqueue_all(s, [msg(1), msg(2)]) == 2
    with Statements(engine) as sql, session_scope(engine) as s:
        assert enqueue_all(s, [msg(2, subject="again"), msg(3), msg(3, subject="twice in one batch"), msg(4)]) == 2
        assert enqueue_all(s, []) == 0
    assert sql.count() == 1 and sql.count("INSERT INTO OUTBOXMESSAGE") == 1, sql.seen
    with session_scope(engine) as s:
        subjects = {r.key: r.subject for r in s.exec(select(OutboxMessage))}
    assert subjects == {msg(n).key: msg(n).subject for n in (1, 2, 3, 4)}  # the first of each key stays


def test_enqueue_all_racing_writers_keep_one_row_per_key(engine):
    barrier, counts, errors = threading.Barrier(4), [], []

    def writer() -> None:
        try:
            with session_scope(engine) as s:
                barrier.wait(timeout=30)
                counts.append(enqueue_all(s, [msg(n) for n in range(1, 21)]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and sum(counts) == 20 and len(counts) == 4
    with session_scope(engine) as s:
        assert len(s.exec(select(OutboxMessage)).all()) == 20


# --------------------------------------------------------------------------- the pure part


def test_may_be_due_never_leaves_out_a_stage_its_kind_would_sweep():
    """The rule is silent for a stage on a day `may_be_due` rules out (the selection reads no rows of it)."""
    from avtaleflyt.models.enums import HearingStatus, TreatmentStatus
    from avtaleflyt.models.stages.signing import SigningStatus

    statuses = {StageKind.hearing: [HearingStatus.invited, HearingStatus.responded], StageKind.signing: [SigningStatus.signed, SigningStatus.sent],
                StageKind.political_treatment: [TreatmentStatus.sent, TreatmentStatus.approved]}
    deadline = D(2025, 3, 1)
    checked = 0
    for kind in StageKind:
        for status, closed, before in itertools.product(StageStatus, (None, "closed"), ([14, 3], [30, 7, 1], [], [3])):
            stage = Stage(id=1, revision_id=1, position=0, key="s", kind=kind, deadline=deadline.isoformat(), status=status, closed_reason=closed)
            settings = ReminderSettings(before, 7)
            obligations = [PartyObligation(stage_id=1, party_id=p, kind=kind.value, status=s) for p, s in enumerate(statuses.get(kind, ["x"]), 1)]
            for offset in range(-40, 40):
                as_of = deadline + dt.timedelta(days=offset)
                swept = reminders.plan_stages("rev", [stage], {1, 2}, {1: obligations}, {}, settings, as_of)
                if swept.messages or swept.close_stages:
                    checked += 1
                    assert reminders.may_be_due(stage, settings, as_of), (kind, status, before, as_of)
        month = Stage(id=1, revision_id=1, position=0, key="s", kind=kind, deadline="2025-03", status=StageStatus.active)
        assert not reminders.may_be_due(month, ReminderSettings([14, 3], 7), D(2025, 4, 15))
    assert checked > 500


# --------------------------------------------------------------------------- the selection


def per_revision(session, as_of: dt.date) -> dict[str, tuple[list[str], list]]:  # noqa: ANN001
    """What the sweep selected before issue 15: per revision, its ORM rows and the rule."""
    found = {}
    for r in session.exec(select(Revision).where(Revision.status == RevisionStatus.active)):
        stages = session.exec(select(Stage).where(Stage.revision_id == r.id)).all()
        ids = [s.id for s in stages]
        plan = reminders.sweep_plan(
            r.slug, stages, session.exec(select(Party).where(Party.revision_id == r.id)).all(),
            session.exec(select(PartyObligation).where(col(PartyObligation.stage_id).in_(ids))).all(),
            session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_(ids))).all(),
            before_days=r.reminders.get("before_deadline_days", [14, 3]), overdue_every_days=r.reminders.get("overdue_every_days", 7), as_of=as_of,
        )
        found[r.slug] = (sorted(m.key for m in plan.messages), sorted(plan.close_stages))
    return found


def test_the_set_wise_selection_finds_what_the_rule_finds_per_revision(engine):
    source = EXAMPLE.read_text(encoding="utf-8")
    example = store(engine, source, D(2024, 6, 17))
    with session_scope(engine) as s:
        records.complete_draft(s, example, actor="t", stage_key="utkast")
    with session_scope(engine) as s:
        reconcile_revision(s, example, today=D(2024, 6, 18))
    with session_scope(engine) as s:
        records.record_forum_decision(s, example, actor="t", forum="ASU", outcome=ForumOutcome.approved, on=D(2024, 6, 19), today=D(2024, 6, 19))
    with session_scope(engine) as s:
        reconcile_revision(s, example, today=D(2024, 6, 19))  # the hearing runs, the revision's deadlines ahead
    slugs = [store(engine, treatment_plan(i, 6), D(2025, 1, 10)) for i in (1, 2, 3)]
    with session_scope(engine) as s:
        records.record_party_decision(s, slugs[0], actor="t", party="Kommune 02", outcome=PartyOutcome.approved, on=D(2025, 2, 3), today=D(2025, 2, 3))
        s.exec(update(Party).where(Party.name == "Kommune 03", Party.revision_id == select(Revision.id).where(Revision.slug == slugs[1]).scalar_subquery()).values(active=False))
        s.exec(update(Revision).where(Revision.slug == slugs[2]).values(reminders={"before_deadline_days": [30], "overdue_every_days": 2}))
    seen = set()
    for day in [D(2024, 6, 20) + dt.timedelta(days=n) for n in range(0, 300, 3)]:
        with session_scope(engine) as s:
            expected = per_revision(s, day)
            found = {f.slug: (sorted(m.key for m in f.plan.messages), sorted(f.plan.close_stages)) for f in sweep._select(s.connection(), day)}
        assert found == expected, day
        seen |= {key.split("/")[3] for keys, _ in found.values() for key in keys}
    assert {"hearing_reminder", "hearing_deadline_passed", "decision_reminder", "overdue_notice"} <= seen


def test_the_dry_run_reads_in_the_same_statements_at_two_and_at_six_revisions(engine):
    counts = []
    for i in range(6):
        store(engine, treatment_plan(i, 4), D(2025, 1, 10))
        if i in (1, 5):
            with Statements(engine) as sql:
                report = sweep.run_sweep(D(2025, 2, 20), dry_run=True, engine=engine)
            assert len(report.revisions) == i + 1 and report.enqueued == 4 * (i + 1), report
            counts.append(sql.count())
    assert counts[0] == counts[1] <= 6, counts


def test_the_sweep_enqueues_in_one_insert_per_revision_and_nothing_when_run_again(engine):
    slugs = [store(engine, treatment_plan(i, 5), D(2025, 1, 10)) for i in range(3)]
    with Statements(engine) as sql:
        report = sweep.run_sweep(D(2025, 2, 15), send=False, engine=engine)  # 14 days before 2025-03-01
    assert not report.errors and report.enqueued == 15 and [r.slug for r in report.revisions] == sorted(slugs)
    assert sql.count("INSERT INTO OUTBOXMESSAGE") == 3, sql.seen
    with Statements(engine) as sql:
        again = sweep.run_sweep(D(2025, 2, 15), send=False, engine=engine)
    assert not again.errors and again.enqueued == 0 and [len(r.due) for r in again.revisions] == [5, 5, 5]
    assert sql.count("INSERT") == 0 and sql.count("UPDATE") == 0 and sql.count() <= 6, sql.seen  # the selection alone: no revision locked


@pytest.mark.parametrize("valid_days", [7, 60])  # 7: a link issued in the batch is replaced by the party's next letter
def test_a_batch_of_letters_gets_the_links_one_letter_at_a_time_would(engine, valid_days):
    from sqlmodel import Session

    from avtaleflyt.models.tables import PartyLink
    from avtaleflyt.tasks import links

    store(engine, treatment_plan(1, 6), D(2025, 1, 10))
    now = dt.datetime(2025, 2, 15, 7, tzinfo=dt.timezone.utc)
    with session_scope(engine) as s:  # two parties' links run out within the reuse window: new ones, the old withdrawn
        short = select(Party.id).where(col(Party.name).in_(["Kommune 02", "Kommune 03"]))
        s.exec(update(PartyLink).where(col(PartyLink.party_id).in_(short)).values(expires_at=now + dt.timedelta(days=3)))

    def compose(batched: bool) -> tuple[list[str], list[tuple]]:
        with Session(engine) as s, s.begin():
            revision = s.exec(select(Revision)).one()
            parties = s.exec(select(Party).order_by(Party.id)).all()
            letters = [(p, f"letter-{n}/{p.id}") for n in (1, 2) for p in parties]  # two letters to each party
            secret = "s3cret"
            book = links.batch(s, secret, [(p.id, key) for p, key in letters]) if batched else contextlib.nullcontext()
            with book:
                tokens = [links.for_letter(s, secret, revision, p, source_key=key, now=now, valid_days=valid_days) for p, key in letters]
            s.flush()
            rows = sorted((r.nonce, r.party_id, r.expires_at, r.revoked_at, r.revoked_because, r.used_at) for r in s.exec(select(PartyLink)))
            s.rollback()
        return tokens, rows

    one_at_a_time, batched = compose(False), compose(True)
    assert batched == one_at_a_time
    assert any(r[3] is not None for r in batched[1]) and len(set(batched[0])) > 2


def test_a_revision_whose_rows_the_rules_cannot_read_fails_alone(engine):
    slugs = [store(engine, treatment_plan(i, 3), D(2025, 1, 10)) for i in range(3)]
    with session_scope(engine) as s:
        broken = select(Revision.id).where(Revision.slug == slugs[1]).scalar_subquery()
        s.exec(update(Stage).where(Stage.revision_id == broken).values(deadline="not a date"))
    report = sweep.run_sweep(D(2025, 2, 15), send=False, engine=engine)
    assert [r.slug for r in report.revisions] == [slugs[0], slugs[2]] and report.enqueued == 6
    assert len(report.errors) == 1 and report.errors[0].startswith(f"{slugs[1]}: not swept: "), report.errors


def test_a_revisions_letters_take_the_signing_key_once(engine, monkeypatch):
    """The party links of a revision's letters are signed with the key its batch (links.batch) holds:
    the key is asked for once per revision, not once more per letter (a path resolved each time)."""
    from avtaleflyt.settings import Settings

    slugs = [store(engine, treatment_plan(i, 5), D(2025, 1, 10)) for i in range(2)]
    asked: list[int] = []
    real = Settings.signing_key
    monkeypatch.setattr(Settings, "signing_key", lambda self: asked.append(1) or real(self))
    report = sweep.run_sweep(D(2025, 2, 15), send=False, engine=engine)
    assert report.enqueued == 10 and not report.errors and [r.slug for r in report.revisions] == sorted(slugs)
    assert len(asked) == 2
