"""The deadline sweep: for every active revision, enqueue the reminders and notices
due on `as_of`, close hearings whose deadline has passed, then send the outbox.

One transaction per revision: a revision that fails is reported and the others go
on. The outbox de-duplicates by key, so a sweep run twice (or killed and run
again) enqueues nothing twice; revisions whose hearings closed are resumed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from avtaleflyt.db import error_line, session_scope
from avtaleflyt.models import reminders
from avtaleflyt.models.enums import RevisionStatus
from avtaleflyt.models.tables import ForumDecision, OutboxMessage, Party, PartyObligation, Revision, Stage

from . import compose, outbox, runs
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

    @property
    def enqueued(self) -> int:
        return sum(r.enqueued for r in self.revisions)


def _plan(session: Session, revision: Revision, as_of: dt.date) -> reminders.SweepPlan:
    stages = session.exec(select(Stage).where(Stage.revision_id == revision.id)).all()
    stage_ids = [s.id for s in stages]
    return reminders.sweep_plan(
        revision.slug,
        stages,
        session.exec(select(Party).where(Party.revision_id == revision.id)).all(),
        session.exec(select(PartyObligation).where(col(PartyObligation.stage_id).in_(stage_ids))).all(),
        session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_(stage_ids))).all(),
        before_days=revision.reminders.get("before_deadline_days", [14, 3]),
        overdue_every_days=revision.reminders.get("overdue_every_days", 7),
        as_of=as_of,
    )


def sweep_revision(session: Session, slug: str, as_of: dt.date, *, dry_run: bool = False) -> RevisionSweep:
    revision = lock_revision(session, slug)
    plan = _plan(session, revision, as_of)
    result = RevisionSweep(slug, due=[m.key for m in plan.messages], closed=[key for key, _ in plan.close_stages])
    if dry_run:
        existing = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(result.due))).all())
        result.enqueued = len(set(result.due) - existing)
        return result
    kinds = {s.key: s.kind for s in session.exec(select(Stage).where(Stage.revision_id == revision.id))}
    for stage_key, deadline in plan.close_stages:
        effects_for(kinds[stage_key]).close_past_deadline(session, slug, stage_key, deadline, actor=SWEEP_ACTOR)
    for due in plan.messages:
        result.enqueued += outbox.enqueue(session, compose.reminder(session, revision, due))
    if reminders.digest_due(as_of):
        for message in compose.digests(session, revision, as_of):
            result.enqueued += outbox.enqueue(session, message)
    result.seq, result.flow_run_id = revision.seq, revision.flow_run_id
    return result


def run_sweep(as_of: dt.date, *, dry_run: bool = False, send: bool = True, engine: Engine | None = None) -> SweepReport:
    from avtaleflyt.settings import get_settings

    report = SweepReport(as_of, dry_run)
    try:
        with session_scope(engine) as session:
            slugs = session.exec(select(Revision.slug).where(Revision.status == RevisionStatus.active).order_by(Revision.slug)).all()
    except OperationalError as exc:  # the database is down: say so, and leave everything for the next sweep
        report.errors.append(f"domain database unreachable, no revision swept: {error_line(exc)}")
        return report
    for slug in slugs:
        try:
            with session_scope(engine) as session:
                report.revisions.append(sweep_revision(session, slug, as_of, dry_run=dry_run))
        except Exception as exc:  # noqa: BLE001 - one revision's failure must not stop the others
            report.errors.append(f"{slug}: not swept: {exc.__class__.__name__}: {error_line(exc)}")
    if dry_run:
        return report
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
