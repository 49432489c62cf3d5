"""What a coordinator does, as the CLI and the dashboard both call it:
write the database in one transaction, then nudge the revision's run.

The transaction also runs the reconcile pass (tasks/reconcile.py: close met gates,
start ready stages, enqueue their letters), so the database is current when the
command returns and the next command, issued at once, finds the stage it needs open.
The run then only sends the letters and suspends; its own pass finds nothing to do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from avtaleflyt import clock
from avtaleflyt.db import session_scope
from avtaleflyt.models.commands import Command, parse_command
from avtaleflyt.models.enums import PartyOutcome
from avtaleflyt.models.errors import ErrorCode
from avtaleflyt.models.plan import CheckedPlan, parse_plan
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, PlanVersion, Revision
from avtaleflyt.settings import Settings, get_settings
from avtaleflyt.tasks import links, runs, shift
from avtaleflyt.tasks.handlers import handle
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.records import Recorded
from avtaleflyt.tasks.runs import RunOutcome
from avtaleflyt.tasks.store import store_revision


@dataclass(frozen=True)
class Started:
    slug: str
    flow_run_id: str
    checked: CheckedPlan
    resumed_start: bool


def start_revision(source: str, *, settings: Settings | None = None) -> Started:
    """Store the plan, start its first stages, and start the revision's run. Refused if the revision already has a run.

    The first stages start in the storing transaction (the reconcile pass), so a recording
    issued at once finds them open. If an earlier start stored the plan but could not create
    the run (no worker, server down), starting the same plan again finishes that start.
    """
    settings = settings or get_settings()
    checked = parse_plan(source)
    slug = checked.plan.revision_slug
    with ExitStack() as open_client:  # one Prefect client for the check and the run: the deployment read once
        try:
            client = open_client.enter_context(runs.prefect_client())
            deployment_id = runs.check_deployment(settings.deployment, client)
        except Exception as exc:  # noqa: BLE001 - unreachable server, unknown deployment: say which, store nothing
            raise DomainError(
                f"Prefect does not serve {settings.deployment} ({exc.__class__.__name__}: {exc}); "
                "is `avtaleflyt up` (or a worker) running, and PREFECT_API_URL right? Nothing was stored.",
                code=ErrorCode.prefect_unreachable, deployment=settings.deployment, error=f"{exc.__class__.__name__}: {exc}",
            ) from None
        with session_scope() as session:
            existing = session.exec(select(Revision).where(Revision.slug == slug)).first()
            resumed_start = existing is not None and existing.flow_run_id is None and _baseline(session, existing) == source
            if not resumed_start:
                store_revision(session, checked, source, settings.actor)
                session.flush()
            reconcile_revision(session, slug, today=clock.today())
            stored_at = session.exec(select(Revision.created_at).where(Revision.slug == slug)).one()
        try:
            flow_run_id = runs.start_run(slug, deployment_id, stored_at, client)
        except Exception as exc:  # noqa: BLE001 - any failure to reach Prefect leaves the stored plan for a retry
            raise DomainError(
                f"the plan is stored, but the revision's run could not be created ({exc.__class__.__name__}: {exc}). "
                f"Is `avtaleflyt up` or a worker for {settings.deployment} running? Run `revision start` again with the same file to finish.",
                code=ErrorCode.run_not_created, deployment=settings.deployment, error=f"{exc.__class__.__name__}: {exc}",
            ) from None
    with session_scope() as session:
        revision = session.exec(select(Revision).where(Revision.slug == slug).with_for_update()).one()
        # Not an event: the run reads the revision by slug, and raising the counter here would make it stale.
        revision.flow_run_id = flow_run_id
        session.add(revision)
    return Started(slug, flow_run_id, checked, resumed_start)


def _baseline(session: Session, revision: Revision) -> str | None:
    version = session.exec(select(PlanVersion).where(PlanVersion.revision_id == revision.id, PlanVersion.version == 1)).first()
    return version.source if version else None


def nudge_run(recorded: Recorded, settings: Settings | None = None) -> RunOutcome:
    settings = settings or get_settings()
    return runs.try_nudge(recorded.flow_run_id, recorded.seq, wait_seconds=settings.resume_wait_seconds)


class Clock(Protocol):
    """What `execute` reads the time from: the dashboard's Clock, or `WALL_CLOCK`."""

    def now(self) -> dt.datetime: ...
    def today(self) -> dt.date: ...


class _WallClock:
    def now(self) -> dt.datetime:
        return clock.utcnow()

    def today(self) -> dt.date:
        return clock.today()


WALL_CLOCK: Clock = _WallClock()


def execute(
    command: Command, *, actor: str, clock: Clock, engine: Engine | None = None, before: Callable[[Session], object] | None = None
) -> tuple[Recorded, RunOutcome]:
    """Record `command` and reconcile, in one transaction on `engine` (default: the configured one), then nudge the run.

    `before` runs first in the same transaction (the party link marks itself used there), so
    either both are written or neither. Every front end parses into `command` (models.commands).
    """
    today = clock.today()
    with session_scope(engine) as session:
        if before is not None:
            before(session)
        recorded = handle(session, command, actor=actor, today=today)
        recorded = dataclasses.replace(recorded, seq=reconcile_revision(session, recorded.slug, today=today).seq)
    return recorded, nudge_run(recorded)


def report_by_link(
    token: str, *, outcome: PartyOutcome | str | None, on: dt.date | str | None, case_no: str | None, now: dt.datetime,
    today: dt.date | None = None, engine: Engine | None = None, returns: dict | None = None,
) -> tuple[Recorded, RunOutcome]:
    """A party reports its own decision through the link in its letter: used once, marked self-reported.

    The link names the revision and the party, so the command is the same PartyDecision the
    coordinator's form makes, with `self_reported` set here (never from input); the link is
    marked used in the transaction that records the decision (`before`). `returns`: what the party
    sends back with it (note, reservations, minutes_text, minutes_file: PartyDecision's fields).
    """
    secret = get_settings().signing_key()
    with session_scope(engine) as session:  # read only: which revision and party; `use` checks again under a lock
        link = links.check(session, secret, token, now)
        revision, party = session.get(Revision, link.revision_id), session.get(Party, link.party_id)
        slug, org_number, name = revision.slug, party.org_number, party.name
    command = parse_command({"action": "party_decision", "revision": slug, "party": org_number, "outcome": outcome, "date": on, "case_no": case_no} | (returns or {}))
    command = command.model_copy(update={"self_reported": True})
    fixed = _FixedClock(now, today or clock.today())
    return execute(command, actor=f"{name} (self-reported)", clock=fixed, engine=engine, before=lambda s: links.use(s, secret, token, now))


@dataclass(frozen=True)
class _FixedClock:
    at: dt.datetime
    day: dt.date

    def now(self) -> dt.datetime:
        return self.at

    def today(self) -> dt.date:
        return self.day


def preview_shift(slug: str, source: str) -> shift.ShiftPreview:
    with session_scope() as session:
        return shift.preview_shift(session, slug, source)


def shift_plan(slug: str, source: str, *, reason: str | None, actor: str | None = None) -> tuple[shift.ShiftApplied, RunOutcome]:
    """Apply a revised plan and reconcile (one transaction), then nudge the run so the notices go out.

    The pass starts what the shift made ready and closes what it made met (a party that left
    was the last one owing a decision, say), as `execute` does after a recording.
    """
    settings = get_settings()
    today = clock.today()
    with session_scope() as session:
        applied = shift.apply_shift(session, slug, source, actor=actor or settings.actor, reason=reason, today=today)
        applied = dataclasses.replace(applied, seq=reconcile_revision(session, slug, today=today).seq)
    recorded = Recorded(slug, True, f"plan v{applied.preview.to_version}", applied.seq, applied.flow_run_id)
    return applied, nudge_run(recorded, settings)


def resume(slug: str) -> RunOutcome:
    """Nudge a revision's run without recording anything (after an outage, say)."""
    return execute(parse_command({"action": "refresh", "revision": slug}), actor=get_settings().actor, clock=WALL_CLOCK)[1]
