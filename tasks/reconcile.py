"""One reconcile pass over a revision: close every stage whose gate is met, start every
stage that is ready (with its entry actions), repeat until nothing moves, and mark the
revision completed when every stage is done.

One transaction: a pass killed half-way leaves nothing behind, and running a pass
again over an unchanged database changes nothing. That is what lets the revision's
flow run start again from the top after every resume or crash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models import rules
from avtaleflyt.models.enums import RevisionStatus, StageStatus
from avtaleflyt.models.stages import Gate, rules_for
from avtaleflyt.models.tables import Party, Stage

from . import compose, outbox
from .recorder import Recorder, lock_revision
from .stages import effects_for
from .stages.base import facts_of


@dataclass(frozen=True)
class PassResult:
    slug: str
    seq: int
    completed: bool
    awaiting: str
    changes: list[str]


def reconcile_revision(session: Session, slug: str, *, today: dt.date, actor: str = "reconciler") -> PassResult:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stages = list(session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all())
    parties = list(session.exec(select(Party).where(Party.revision_id == revision.id, Party.active == True)).all())  # noqa: E712

    closed: list[Stage] = []
    started: list[Stage] = []
    moved = True
    while moved:
        moved = False
        for stage in [s for s in stages if s.status == StageStatus.active]:
            gate = _gate(session, stage, {p.id for p in parties})
            if gate == Gate.met:
                _close(rec, stage)
                closed.append(stage)
                moved = True
            elif gate == Gate.returned:
                _send_back(rec, stage, stages)
                moved = True
        for stage in rules.ready_stages(stages):
            _start(session, rec, stage, parties)
            started.append(stage)
            moved = True

    letters = [m for stage in started for m in compose.stage_started(session, revision, stage, parties)]
    letters += [m for stage in closed for m in compose.stage_done(session, revision, stage, [s for s in started if stage.key in s.after], today)]
    if revision.status == RevisionStatus.active and rules.is_revision_done(stages):
        revision.status, revision.completed_at = RevisionStatus.completed, utcnow()
        rec.log("revision.completed", f"revision:{slug}", RevisionStatus.active.value, RevisionStatus.completed.value)
        letters += compose.revision_done(session, revision, today)
    session.flush()  # the rows the letters refer to, before the Core insert (which does not autoflush)
    outbox.enqueue_all(session, letters)  # one INSERT … ON CONFLICT (key) DO NOTHING, as the sweep enqueues
    return PassResult(
        slug=slug,
        seq=revision.seq,
        completed=revision.status == RevisionStatus.completed,
        awaiting=rules.awaiting(stages),
        changes=[f"{e.subject}: {e.from_value} → {e.to_value}" + (f" ({e.note})" if e.note else "") for e in rec.entries],
    )


def _gate(session: Session, stage: Stage, active_party_ids: set[int]) -> Gate:
    return rules_for(stage.kind).gate(stage, facts_of(session, stage), active_party_ids)


def _close(rec: Recorder, stage: Stage) -> None:
    stage.status, stage.completed_at = StageStatus.done, utcnow()
    rec.session.add(stage)
    rec.log("stage.done", f"stage:{stage.key}", StageStatus.active.value, StageStatus.done.value, f"round {stage.round}")


def _send_back(rec: Recorder, stage: Stage, stages: list[Stage]) -> None:
    """A returned forum decision: reopen the nearest drafts; the stage waits for them in a new round."""
    drafts = rules.nearest_drafts(stage, stages)
    stage.round += 1
    if not drafts:
        rec.log("stage.returned", f"stage:{stage.key}", f"round {stage.round - 1}", f"round {stage.round}", "no draft stage before it: decided again")
        rec.session.add(stage)
        return
    keys = [d.key for d in drafts]
    stage.status, stage.returned_to, stage.started_at = StageStatus.pending, ",".join(keys), None
    rec.session.add(stage)
    rec.log("stage.returned", f"stage:{stage.key}", StageStatus.active.value, f"{StageStatus.pending.value} (round {stage.round})", f"returned to draft {', '.join(keys)}")
    for draft in drafts:
        was = draft.status
        draft.status, draft.closed_reason, draft.completed_at = StageStatus.active, None, None
        draft.round += 1
        rec.session.add(draft)
        rec.log("stage.reopened", f"stage:{draft.key}", was.value, StageStatus.active.value, f"round {draft.round}, returned by {stage.key!r}")


def _start(session: Session, rec: Recorder, stage: Stage, parties: list[Party]) -> None:
    stage.status, stage.started_at, stage.returned_to = StageStatus.active, utcnow(), None
    session.add(stage)
    created = len(effects_for(stage.kind).enter(session, stage, parties))
    session.flush()
    note = f"round {stage.round}" + (f", {created} parties" if created else "")
    rec.log("stage.started", f"stage:{stage.key}", StageStatus.pending.value, StageStatus.active.value, note)
