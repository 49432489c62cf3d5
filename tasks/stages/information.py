"""An information item's side effects: when it starts, a notice with the documents to each forum
and each party it tells (with a calendar entry for its date); nobody owes it anything. It is
closed by the sweep on its date, or by a coordinator (`information done`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules, wording
from avtaleflyt.models.enums import EmailEvent, StageKind
from avtaleflyt.models.stages import information
from avtaleflyt.models.stages.information import InformationDone
from avtaleflyt.models.tables import Forum, OutboxMessage, Party, Revision, Stage

from .. import letter_parts as parts
from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, stages_of

RULES = information.RULES


class InformationEffects(StageEffects):
    rules = RULES
    calendar_event = EmailEvent.information_notice

    def enter(self, session: Session, stage: Stage, parties: Sequence[Party]) -> list[Party]:
        """No rows (nobody answers): the parties it tells, so that one joining while it is open is told too."""
        return information.recipients(stage, list(parties))

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        date = parts.plan_date(stage.deadline)
        day = date.as_date() if date else None
        ref, event = parts.revision_ref(revision), EmailEvent.information_notice
        forums = session.exec(select(Forum).where(Forum.revision_id == revision.id, col(Forum.key).in_(stage.forums))).all()
        forums = sorted(forums, key=lambda f: stage.forums.index(f.key))
        names = tuple(f.name for f in forums)
        messages = []
        if forums:  # a forum has no login and no party link: its files through the dashboard
            docs = parts.documents(session, revision, stage.documents, link=parts.coordinator_link(revision))
            title = wording.calendar_title(self.rules.kind.value, revision.language.value, revision.title)
            messages += [
                parts.message(
                    revision, event, revision.language, lt.InformationNotice(ref, f.name, parts.title(stage), date, docs, names),
                    key=f"{revision.slug}/{stage.key}/forum:{f.key}/{event.value}/{stage.deadline}",
                    to_name=f.name, to_address=f.email, stage_key=stage.key, due=day, calendar_title=title,
                )
                for f in forums
                if f.email
            ]
        for p in information.recipients(stage, [p for p in parties if p.active]):
            key = f"{revision.slug}/{stage.key}/{p.id}/{event.value}/{stage.deadline}"
            # the party's own link opens the documents' files (the dashboard's documents router)
            docs = parts.documents(session, revision, stage.documents, link=parts.report_url(session, revision, p, key))
            messages.append(parts.party_message(
                revision, p, event, lt.InformationNotice(ref, p.name, parts.title(stage), date, docs, names),
                stage=stage, key=key, due=day, calendar_title=self.calendar_title(revision, p),
            ))
        return messages

    def close_past_deadline(self, session: Session, slug: str, stage_key: str, deadline: dt.date, *, actor: str) -> None:
        mark_done(session, slug, stage_key=stage_key, reason=f"presented on {deadline}", actor=actor)


EFFECTS = InformationEffects()


def mark_done(session: Session, slug: str, *, stage_key: str | None, reason: str, actor: str, note: str | None = None) -> Recorded:
    """The item is closed (its gate is then met; the run's next pass marks it done). Again: no change."""
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage = rules.pick_stage(stages_of(session, revision), StageKind.information, stage_key)
    rules.require_active(stage)
    if stage.closed_reason:
        return done(rec, f"information {stage.key!r} done: {stage.closed_reason}")
    stage.closed_reason = reason
    session.add(stage)
    rec.log("information.done", f"stage:{stage.key}", "open", "done", note)
    return done(rec, f"information {stage.key!r} done: {reason}")


def _done(session: Session, c: InformationDone, actor: str, today: dt.date) -> Recorded:
    return mark_done(session, c.revision, stage_key=c.stage, reason=f"marked done by {actor} on {today}", actor=actor, note=c.note)


HANDLERS = {InformationDone: _done}
