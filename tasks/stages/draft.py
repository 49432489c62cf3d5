"""A draft's side effects: none when it starts; its one recording, completing it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from avtaleflyt.models import rules
from avtaleflyt.models.enums import StageKind
from avtaleflyt.models.stages import draft
from avtaleflyt.models.stages.draft import DraftComplete

from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, stages_of


class DraftEffects(StageEffects):
    rules = draft.RULES


EFFECTS = DraftEffects()


def complete_draft(session: Session, slug: str, *, stage_key: str | None, actor: str, note: str | None = None) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage = rules.pick_stage(stages_of(session, revision), StageKind.draft, stage_key)
    rules.require_active(stage)
    stage.closed_reason = f"completed by {actor}"
    session.add(stage)
    rec.log("draft.completed", f"stage:{stage.key}", "open", "completed", note)
    return done(rec, f"draft {stage.key!r} completed")


def _draft_complete(session: Session, c: DraftComplete, actor: str, today: dt.date) -> Recorded:
    return complete_draft(session, c.revision, stage_key=c.stage, actor=actor, note=c.note)


HANDLERS = {DraftComplete: _draft_complete}
