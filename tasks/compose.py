"""Composing the outbox: which letter, to whom, under which key, from what the database holds.

Each function returns unsaved `OutboxMessage` rows, rendered in the recipient's
language; `tasks.outbox.enqueue` stores each once (the key is unique). A message
about an exact date carries it as a calendar attachment whose UID stays the same
for that recipient and deadline, so a moved deadline updates the entry.

What differs by stage kind is asked of the kind (tasks/stages/<kind>.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import EmailEvent, OutboxStatus, StageStatus
from avtaleflyt.models.reminders import Due
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.forum_meetings import forum_meetings
from avtaleflyt.models.tables import Forum, OutboxMessage, Party, PartyObligation, Revision, Stage

from . import letter_parts as parts
from .stages import effects_for
from .stages.base import facts_of
from .stages.political_treatment import decision_receipt, revision_completed  # noqa: F401 - decision_receipt for callers

DIGEST_HORIZON_DAYS = 14


def stage_started(session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
    """The letters a stage sends when it starts: hearing invitations, forum meeting notices, decision requests."""
    return effects_for(stage.kind).started(session, revision, stage, parties)


def stage_done(session: Session, revision: Revision, stage: Stage, starting: list[Stage], today: dt.date) -> list[OutboxMessage]:
    kind_facts = effects_for(stage.kind).completed(session, revision, stage, facts_of(session, stage))
    context = lt.StageCompleted(
        parts.revision_ref(revision), parts.title(stage), stage.kind, today, next_stages=tuple(parts.title(s) for s in starting), **kind_facts
    )
    return parts.coordinator_messages(revision, EmailEvent.stage_completed, context, key=f"{revision.slug}/{stage.key}/stage_completed/r{stage.round}", stage_key=stage.key)


def revision_done(session: Session, revision: Revision, today: dt.date) -> list[OutboxMessage]:
    return parts.coordinator_messages(revision, EmailEvent.revision_completed, revision_completed(session, revision, today), key=f"{revision.slug}/revision_completed")


# --- a shifted plan -------------------------------------------------------------------------


def deadline_moved(revision: Revision, party: Party, moves: list[tuple[Stage, PlanDate, PlanDate]], reason: str | None, version: int) -> OutboxMessage:
    """One letter per party and plan version, listing every deadline of theirs that moved.

    Its calendar attachment moves the entry of each exact deadline, under the UID of
    the letter that first put it in the party's calendar.
    """
    context = lt.DeadlineMoved(
        parts.revision_ref(revision), parts.party_ref(party),
        tuple(lt.MovedDeadline(parts.title(stage), stage.kind, before, after) for stage, before, after in moves), reason,
    )
    entries = []
    for stage, _, after in moves:
        effects = effects_for(stage.kind)
        if after.exact:
            entries.append(parts.CalendarEntry(stage.key, after.as_date(), effects.calendar_title(revision, party), effects.calendar_event or EmailEvent.deadline_moved))
    return _moved_letter(revision, context, entries, moves[0][0], key=f"{revision.slug}/plan-v{version}/{party.id}/deadline_moved", to=(party.name, party.email), party=party)


def meeting_moved(revision: Revision, forum: Forum, moves: list[tuple[Stage, PlanDate, PlanDate]], reason: str | None, version: int) -> OutboxMessage:
    """The forum's letter of a shifted plan: each of its meetings still to come that moved, in the revision's
    language, with the calendar entries of the meeting notices moved (same UIDs)."""
    context = lt.DeadlineMoved(
        parts.revision_ref(revision), None,
        tuple(lt.MovedDeadline(parts.title(stage), stage.kind, before, after) for stage, before, after in moves), reason,
        forum=lt.ForumRef(forum.key, forum.name, forum.email),
    )
    entries = [
        # the title and the UID of the forum meeting notice's entry (tasks/stages/forum_approval.py)
        parts.CalendarEntry(
            stage.key, after.as_date(), parts.forum_meeting_title(forum.key, stage), EmailEvent.forum_meeting_notice,
            parts.meeting_at(forum_meetings(stage).get(forum.key)),  # its time and place, as the notice gave them
        )
        for stage, _, after in moves
        if after.exact
    ]
    return _moved_letter(revision, context, entries, moves[0][0], key=f"{revision.slug}/plan-v{version}/forum:{forum.key}/deadline_moved", to=(forum.name, forum.email))


def _moved_letter(
    revision: Revision, context: lt.DeadlineMoved, entries: list[parts.CalendarEntry], first: Stage, *, key: str, to: tuple[str, str], party: Party | None = None,
) -> OutboxMessage:
    entries.sort(key=lambda e: e.day)
    return parts.message(
        revision, EmailEvent.deadline_moved, party.language if party else revision.language, context,
        key=key, to_name=to[0], to_address=to[1], stage_key=entries[0].stage_key if entries else first.key,
        party_id=party.id if party else None, due=entries[0].day if entries else None, entries=entries,
    )


# --- the sweep's reminders and the digest ----------------------------------------------


def reminder(
    session: Session, revision: Revision, due: Due, *, stage: Stage | None = None, party: Party | None = None, row: PartyObligation | None = None,
) -> OutboxMessage:
    """The letter `due` names; `stage`, `party` and the party's obligation `row` when the caller
    has read them already (the sweep, once per revision)."""
    if stage is None:
        stage = session.exec(select(Stage).where(Stage.revision_id == revision.id, Stage.key == due.stage_key)).one()
    return effects_for(stage.kind).reminder(session, revision, stage, party or session.get(Party, due.party_id), due, row)


def _digest_dates(stage: Stage, names: dict[str, str]) -> list[tuple[str, object, PlanDate | None, str]]:
    """(field, how the digest lists it, date, title) of each date of the stage the digest shows;
    a forum stage whose forums meet on their own days: one per day, naming the forums meeting on it."""
    rules = rules_for(stage.kind)
    out = []
    for field, digest_kind in rules.digest.items():
        if field in rules.forum_dates and stage.meetings:
            days: dict[PlanDate | None, list[str]] = {}
            for forum, m in forum_meetings(stage).items():
                days.setdefault(m.date, []).append(names.get(forum, forum))
            out += [(field, digest_kind, day, f"{parts.title(stage)} ({', '.join(forums)})") for day, forums in days.items()]
        else:
            out.append((field, digest_kind, parts.plan_date(getattr(stage, field)), parts.title(stage)))
    return out


def meetings_missing(session: Session, revision: Revision, stages, as_of: dt.date) -> tuple[lt.MeetingMissing, ...]:
    """The parties with no meeting in time for the political stage, or whose send-by day has passed."""
    from .party_meetings import flagged

    return tuple(lt.MeetingMissing(name, deadline, f.meeting and f.meeting.date, f.meeting and f.meeting.send_by) for name, deadline, f in flagged(session, revision, stages, as_of))


def revision_digest(session: Session, revision: Revision, as_of: dt.date) -> lt.DigestRevision:
    """One revision in a coordinator's weekly digest: open stages, what comes in two weeks, overdue, failed mail."""
    stages = session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all()
    horizon = as_of + dt.timedelta(days=DIGEST_HORIZON_DAYS)
    upcoming, overdue = [], []
    names = {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == revision.id))}
    for s in stages:
        if s.status == StageStatus.done:
            continue
        for field, digest_kind, value, title in _digest_dates(s, names):
            day = value.as_date() if value else None
            if day is None:
                continue
            item = lt.DigestItem(day, digest_kind, title)
            if as_of <= day <= horizon:
                upcoming.append(item)
            elif day < as_of and s.status == StageStatus.active:
                overdue.append(item)
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.revision_id == revision.id, OutboxMessage.status == OutboxStatus.failed)).all()
    digest_revision = lt.DigestRevision(
        parts.revision_ref(revision),
        tuple(parts.title(s) for s in stages if s.status == StageStatus.active),
        tuple(sorted(upcoming, key=lambda i: i.when)),
        tuple(sorted(overdue, key=lambda i: i.when)),
        tuple(lt.FailedMessage(m.to_address, m.subject, m.last_error) for m in failed),
        meetings_missing(session, revision, stages, as_of),
    )
    return digest_revision
