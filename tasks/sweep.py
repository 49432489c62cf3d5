"""The deadline sweep: for every active revision, enqueue the reminders and notices
due on `as_of`, close hearings whose deadline has passed, then send the outbox.

What is due is read set-wise, in one transaction and a few statements whatever the
number of revisions (`_select`); the outbox is asked once which of those letters it
holds. Only a revision with something new to write is then locked, planned again
under its lock and written in a transaction of its own: a revision that fails is
reported and the others go on. Its letters are enqueued in one statement that skips
keys already there, so a sweep run twice (or killed and run again) enqueues nothing
twice; revisions whose hearings closed are resumed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, String, any_, bindparam, column, func  # the generic ARRAY: no PostgreSQL dialect on SQLite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from avtaleflyt.db import error_line, session_scope
from avtaleflyt.models import reminders
from avtaleflyt.models.enums import RevisionStatus, StageStatus
from avtaleflyt.models.tables import ForumDecision, OutboxMessage, Party, PartyObligation, Revision, Stage

from . import compose, digests, letter_parts, links, outbox, runs
from .recorder import lock_revision
from .stages import effects_for

SWEEP_ACTOR = "deadline-sweep"


@dataclass
class RevisionSweep:
    slug: str
    due: list[str] = field(default_factory=list)  # keys found due
    enqueued: int = 0
    closed: list[str] = field(default_factory=list)
    seq: int = 0
    flow_run_id: str | None = None


@dataclass
class SweepReport:
    as_of: dt.date
    dry_run: bool
    revisions: list[RevisionSweep] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what could not be done, and why
    nudged: dict[str, str] = field(default_factory=dict)
    sent: outbox.SendReport | None = None
    digests: int = 0  # weekly digests enqueued

    @property
    def enqueued(self) -> int:
        return sum(r.enqueued for r in self.revisions) + self.digests


_CHUNK = 900  # ids or keys per `IN (…)`: under every driver's limit on parameters


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass
class _Found:
    revision_id: int
    slug: str
    plan: reminders.SweepPlan


def _select(conn: Connection, as_of: dt.date, revision_id: int | None = None) -> list[_Found]:
    """What is due on `as_of` in every active revision (or in the one given), set-wise: one
    query for the revisions, one for their active stages, then only for the stages that can
    be due (`reminders.may_be_due`) their parties' obligations (with whether the party is
    still active) and their forums' decisions. Core rows, only the columns the rules read;
    the same pure rules (`reminders.plan_stages`) as the per-revision path always used."""
    revisions = select(Revision.id, Revision.slug, Revision.reminders)
    revisions = revisions.where(Revision.id == revision_id) if revision_id is not None else revisions.where(Revision.status == RevisionStatus.active)
    found = {r.id: (r.slug, reminders.settings_of(r.reminders)) for r in conn.execute(revisions.order_by(Revision.slug))}
    stages: dict[int, list] = defaultdict(list)
    revision_of: dict[int, int] = {}
    query = select(Stage.id, Stage.revision_id, Stage.key, Stage.kind, Stage.status, Stage.deadline, Stage.closed_reason).where(
        Stage.status == StageStatus.active, col(Stage.deadline).is_not(None)
    )
    query = query.where(Stage.revision_id == revision_id) if revision_id is not None else query.where(col(Stage.revision_id).in_(select(Revision.id).where(Revision.status == RevisionStatus.active)))
    for stage in conn.execute(query):
        if stage.revision_id in found and reminders.may_be_due(stage, found[stage.revision_id][1], as_of):
            stages[stage.revision_id].append(stage)
            revision_of[stage.id] = stage.revision_id
    obligations_of: dict[int, list] = defaultdict(list)
    decisions_of: dict[int, list] = defaultdict(list)
    active: dict[int, set[int]] = defaultdict(set)
    for ids in _chunks(list(revision_of)):
        for o in conn.execute(
            select(PartyObligation.stage_id, PartyObligation.party_id, PartyObligation.status, Party.active)
            .join(Party, col(Party.id) == PartyObligation.party_id)
            .where(col(PartyObligation.stage_id).in_(ids))
        ):
            obligations_of[o[0]].append(o)  # by position: ~80,000 rows at 2,000 revisions, attributes cost more
            if o[3]:
                active[revision_of[o[0]]].add(o[1])
        for d in conn.execute(select(ForumDecision).where(col(ForumDecision.stage_id).in_(ids))):
            decisions_of[d.stage_id].append(d)
    return [
        _Found(rid, slug, reminders.plan_stages(slug, stages[rid], active[rid], obligations_of, decisions_of, settings, as_of))
        for rid, (slug, settings) in found.items()
    ]


def _in_outbox(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of `keys` the outbox already holds: one statement, the keys bound as one value
    (PostgreSQL: an array, `= ANY`; SQLite: a JSON array, `json_each`), looked up in the key's index."""
    if not keys:
        return set()
    key = col(OutboxMessage.key)
    if conn.dialect.name == "postgresql":
        held = key == any_(bindparam("keys", list(keys), type_=ARRAY(String)))
    else:
        held = key.in_(select(column("value")).select_from(func.json_each(bindparam("keys", json.dumps(list(keys))))))
    return set(conn.execute(select(OutboxMessage.key).where(held)).scalars())


def _plan(session: Session, revision: Revision, as_of: dt.date) -> reminders.SweepPlan:
    """What is due in `revision` on `as_of` (`avtaleflyt reminders run --dry-run` lists its letters)."""
    return _select(session.connection(), as_of, revision.id)[0].plan


def sweep_revision(session: Session, slug: str, as_of: dt.date, *, dry_run: bool = False) -> RevisionSweep:
    """One revision, locked, planned again under the lock: its stages closed, its new letters
    composed from the rows read once (not per letter) and enqueued in one statement."""
    from avtaleflyt.settings import get_settings

    revision = lock_revision(session, slug)
    plan = _plan(session, revision, as_of)
    result = RevisionSweep(slug, due=[m.key for m in plan.messages], closed=[key for key, _ in plan.close_stages])
    held = _in_outbox(session.connection(), result.due)
    new = [m for m in plan.messages if m.key not in held]
    result.enqueued = len(new)
    if dry_run:
        return result
    stages = {s.key: s for s in session.exec(select(Stage).where(Stage.revision_id == revision.id))} if plan.messages or plan.close_stages else {}
    for stage_key, deadline in plan.close_stages:
        effects_for(stages[stage_key].kind).close_past_deadline(session, slug, stage_key, deadline, actor=SWEEP_ACTOR)
    parties = {p.id: p for p in session.exec(select(Party).where(Party.revision_id == revision.id))} if new else {}
    stage_ids = {stages[due.stage_key].id for due in new}
    rows = {(o.stage_id, o.party_id): o for o in session.exec(select(PartyObligation).where(col(PartyObligation.stage_id).in_(stage_ids)))} if new else {}
    # the links the letters add are written together at the end, not flushed before each query;
    # the letters are made as their rows' values, for the one INSERT below
    with session.no_autoflush, links.batch(session, get_settings().signing_key(), [(due.party_id, due.key) for due in new]), letter_parts.as_rows():
        letters = [
            compose.reminder(session, revision, due, stage=(s := stages[due.stage_key]), party=parties[due.party_id], row=rows.get((s.id, due.party_id)))
            for due in new
        ]
    result.enqueued = outbox.enqueue_all(session, letters)
    result.seq, result.flow_run_id = revision.seq, revision.flow_run_id
    return result


def _one_by_one(report: SweepReport, engine: Engine | None) -> None:
    with session_scope(engine) as session:
        slugs = session.exec(select(Revision.slug).where(Revision.status == RevisionStatus.active).order_by(Revision.slug)).all()
    for slug in slugs:
        try:
            with session_scope(engine) as session:
                report.revisions.append(sweep_revision(session, slug, report.as_of, dry_run=report.dry_run))
        except Exception as exc:  # noqa: BLE001 - one revision's failure must not stop the others
            report.errors.append(f"{slug}: not swept: {exc.__class__.__name__}: {error_line(exc)}")


def run_sweep(as_of: dt.date, *, dry_run: bool = False, send: bool = True, engine: Engine | None = None) -> SweepReport:
    from avtaleflyt.settings import get_settings

    report = SweepReport(as_of, dry_run)
    try:
        with session_scope(engine) as session:  # one read of every revision's due letters
            found = _select(session.connection(), as_of)
            held = _in_outbox(session.connection(), [m.key for f in found for m in f.plan.messages])
    except OperationalError as exc:  # the database is down: say so, and leave everything for the next sweep
        report.errors.append(f"domain database unreachable, no revision swept: {error_line(exc)}")
        return report
    except Exception:  # noqa: BLE001 - a row the rules cannot read: each revision on its own, so only its own fails
        _one_by_one(report, engine)
        found = []
    for f in found:
        due = [m.key for m in f.plan.messages]
        new = [key for key in due if key not in held]
        closed = [key for key, _ in f.plan.close_stages]
        if dry_run or not (new or closed):  # nothing to write: no lock, no transaction
            report.revisions.append(RevisionSweep(f.slug, due=due, enqueued=len(new) if dry_run else 0, closed=closed))
            continue
        try:
            with session_scope(engine) as session:
                report.revisions.append(sweep_revision(session, f.slug, as_of))
        except Exception as exc:  # noqa: BLE001 - one revision's failure must not stop the others
            report.errors.append(f"{f.slug}: not swept: {exc.__class__.__name__}: {error_line(exc)}")
    if dry_run:
        return report
    if reminders.digest_due(as_of):  # one digest per address across every revision (tasks/digests.py)
        try:
            report.digests = digests.enqueue_digests(as_of, engine)
        except Exception as exc:  # noqa: BLE001 - the reminders stand; a sweep run again that day enqueues the digests
            report.errors.append(f"weekly digests: not enqueued: {exc.__class__.__name__}: {error_line(exc)}")
    for swept in report.revisions:
        if swept.closed:
            outcome = runs.try_nudge(swept.flow_run_id, swept.seq, wait_seconds=get_settings().resume_wait_seconds)
            report.nudged[swept.slug] = outcome.nudge.value if outcome.nudge else f"not reached: {outcome.error}"
    # No SMTP server here: next to `avtaleflyt up`, its sink (for_sending); the run sends only when it next passes.
    if send and (sending := get_settings().for_sending()).smtp_host:
        try:
            report.sent = outbox.send_pending(engine, sending)
        except Exception as exc:  # noqa: BLE001 - the mail server is down: the outbox keeps everything for the next run
            report.errors.append(f"sending: {exc.__class__.__name__}: {exc}")
    return report
