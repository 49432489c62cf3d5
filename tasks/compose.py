"""Composing the outbox: which letter, to whom, under which key, from what the database holds.

Each function returns unsaved `OutboxMessage` rows, rendered in the recipient's
language; `tasks.outbox.enqueue` stores each once (the key is unique). A message
about an exact date carries it as a calendar attachment whose UID stays the same
for that recipient and deadline, so a moved deadline updates the entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session, col, select

from avtaleflyt import clock
from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import (
    DECIDED_TREATMENTS,
    EmailEvent,
    HearingStatus,
    Language,
    OutboxStatus,
    PartyKind,
    PartyOutcome,
    StageKind,
    StageStatus,
    TreatmentStatus,
)
from avtaleflyt.models.reminders import Due, digest_key
from avtaleflyt.models.tables import (
    Document,
    Forum,
    ForumDecision,
    HearingResponse,
    OutboxMessage,
    Party,
    PartyTreatment,
    Revision,
    Stage,
)

from . import links
from .calendar import deadline_ics
from .letters import render

DIGEST_HORIZON_DAYS = 14


def _revision_ref(revision: Revision) -> lt.RevisionRef:
    coordinator = revision.coordinators[0]
    return lt.RevisionRef(revision.title, revision.helsefellesskap, revision.slug, coordinator["name"], coordinator["email"])


def _party_ref(party: Party) -> lt.PartyRef:
    return lt.PartyRef(party.name, party.body, party.email, party.kind)


def _report_url(session: Session, revision: Revision, party: Party, source_key: str) -> str:
    """The party's own link to report its decision (see tasks/links.py)."""
    from avtaleflyt.settings import get_settings

    settings = get_settings()
    token = links.for_letter(
        session, settings.signing_key(), revision, party, source_key=source_key, now=clock.utcnow(), valid_days=settings.link_valid_days
    )
    return f"{settings.public_url.rstrip('/')}/p/{token}"


def _title(stage: Stage) -> str:
    return stage.title or stage.key


def _documents(session: Session, revision: Revision, keys: Iterable[str] | None = None) -> tuple[lt.DocumentRef, ...]:
    docs = session.exec(select(Document).where(Document.revision_id == revision.id).order_by(Document.id)).all()
    wanted = set(keys) if keys else None
    return tuple(lt.DocumentRef(d.key, d.title) for d in docs if wanted is None or d.key in wanted)


def _plan_date(value: str | None) -> PlanDate | None:
    return PlanDate.parse(value) if value else None


def _message(
    revision: Revision,
    event: EmailEvent,
    language: Language,
    context: object,
    *,
    key: str,
    to_name: str,
    to_address: str,
    stage_key: str | None = None,
    party_id: int | None = None,
    due: dt.date | None = None,
    calendar_title: str | None = None,
    calendar_event: EmailEvent | None = None,
) -> OutboxMessage:
    """`calendar_event`: the letter whose calendar entry this one updates (its UID is reused)."""
    rendered = render(event, language, context)
    ics = None
    if due is not None and calendar_title:
        uid = f"{revision.slug}/{stage_key}/{party_id or to_address}/{(calendar_event or event).value.split('_')[0]}"
        ics = deadline_ics(uid, calendar_title, due, f"{revision.title} ({revision.helsefellesskap})")
    return OutboxMessage(
        key=key,
        revision_id=revision.id,
        stage_key=stage_key,
        party_id=party_id,
        event=event,
        language=language,
        due=due,
        to_name=to_name,
        to_address=to_address,
        reply_to=None if event in lt.COORDINATOR_EVENTS else revision.coordinators[0]["email"],
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        ics=ics,
    )


def _party_message(revision: Revision, party: Party, event: EmailEvent, context: object, *, stage: Stage, key: str, due: dt.date | None, calendar_title: str | None = None) -> OutboxMessage:
    return _message(
        revision, event, party.language, context, key=key, to_name=party.name, to_address=party.email,
        stage_key=stage.key, party_id=party.id, due=due, calendar_title=calendar_title,
    )


def _coordinator_messages(revision: Revision, event: EmailEvent, context: object, *, key: str, stage_key: str | None = None) -> list[OutboxMessage]:
    return [
        _message(revision, event, revision.language, context, key=f"{key}/{c['email'].casefold()}", to_name=c["name"], to_address=c["email"], stage_key=stage_key)
        for c in revision.coordinators
    ]


# --- entry actions: a stage starts ------------------------------------------------------


def stage_started(session: Session, revision: Revision, stage: Stage, parties: list[Party]) -> list[OutboxMessage]:
    """Hearing invitations, forum meeting notices, decision requests."""
    ref = _revision_ref(revision)
    deadline = _plan_date(stage.deadline)
    if stage.kind == StageKind.hearing:
        docs = _documents(session, revision, stage.documents)
        return [
            _party_message(
                revision, p, EmailEvent.hearing_invitation,
                lt.HearingInvitation(ref, _party_ref(p), _title(stage), docs, deadline, _plan_date(stage.opens)),
                stage=stage, key=f"{revision.slug}/{stage.key}/{p.id}/hearing_invitation/{stage.deadline}/r{stage.round}",
                due=deadline.as_date() if deadline else None, calendar_title=f"Høringsfrist: {revision.title}",
            )
            for p in parties
        ]
    if stage.kind == StageKind.forum_approval:
        meeting = _plan_date(stage.meeting)
        forums = session.exec(select(Forum).where(Forum.revision_id == revision.id, col(Forum.key).in_(stage.forums))).all()
        docs = _documents(session, revision)
        return [
            _message(
                revision, EmailEvent.forum_meeting_notice, revision.language,
                lt.ForumMeetingNotice(ref, lt.ForumRef(f.key, f.name, f.email), _title(stage), meeting,
                                      docs, None, len(stage.forums), stage.required),
                key=f"{revision.slug}/{stage.key}/forum:{f.key}/forum_meeting_notice/{stage.meeting}/r{stage.round}",
                to_name=f.name, to_address=f.email, stage_key=stage.key,
                due=meeting.as_date() if meeting else None, calendar_title=f"{f.key}: {_title(stage)}",
            )
            for f in forums
            if f.email and meeting is not None
        ]
    if stage.kind == StageKind.political_treatment:
        docs = _documents(session, revision)
        adopted = _adopted(session, stage)
        trust = next((p.name for p in parties if p.kind == PartyKind.health_trust), "helseforetaket")
        messages = []
        for p in parties:
            key = f"{revision.slug}/{stage.key}/{p.id}/decision_request/{stage.deadline}"
            context = lt.DecisionRequest(
                ref, _party_ref(p), docs, deadline, lt.proposed_resolution(p.language, _party_ref(p), trust, revision.helsefellesskap),
                adopted, _report_url(session, revision, p, key),
            )
            messages.append(_party_message(
                revision, p, EmailEvent.decision_request, context, stage=stage, key=key,
                due=deadline.as_date() if deadline else None, calendar_title=f"Frist for politisk behandling: {revision.title}",
            ))
        return messages
    return []


def _adopted(session: Session, stage: Stage) -> tuple[lt.ForumDecisionRef, ...]:
    """The approving decisions of the forum stages right before this one."""
    before = session.exec(
        select(Stage).where(Stage.revision_id == stage.revision_id, col(Stage.key).in_(stage.after), Stage.kind == StageKind.forum_approval)
    ).all()
    names = {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == stage.revision_id))}
    decisions = []
    for forum_stage in before:
        rows = session.exec(select(ForumDecision).where(ForumDecision.stage_id == forum_stage.id, ForumDecision.round == forum_stage.round)).all()
        tally = rules.forum_tally(forum_stage, rows)
        decisions += [
            lt.ForumDecisionRef(names.get(k, k), tally.latest[k].outcome, tally.latest[k].decided_on, tally.latest[k].case_no)
            for k in tally.approved
        ]
    return tuple(decisions)


# --- a stage or the revision is done ---------------------------------------------------


def _tally(treatments: list[PartyTreatment], active: int) -> lt.Tally:
    count = lambda status: sum(t.status == status for t in treatments)  # noqa: E731
    return lt.Tally(
        parties=active,
        decided=sum(t.status in DECIDED_TREATMENTS for t in treatments),
        approved=count(TreatmentStatus.approved),
        approved_with_reservations=count(TreatmentStatus.approved_with_reservations),
        rejected=count(TreatmentStatus.rejected),
    )


def stage_done(session: Session, revision: Revision, stage: Stage, starting: list[Stage], today: dt.date) -> list[OutboxMessage]:
    ref = _revision_ref(revision)
    context = lt.StageCompleted(ref, _title(stage), stage.kind, today, next_stages=tuple(_title(s) for s in starting))
    if stage.kind == StageKind.hearing:
        rows = session.exec(select(HearingResponse).where(HearingResponse.stage_id == stage.id)).all()
        context = lt.StageCompleted(ref, _title(stage), stage.kind, today, sum(r.status == HearingStatus.responded for r in rows), len(rows),
                                    next_stages=context.next_stages)
    elif stage.kind == StageKind.forum_approval:
        names = {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == revision.id))}
        rows = session.exec(select(ForumDecision).where(ForumDecision.stage_id == stage.id, ForumDecision.round == stage.round)).all()
        refs = tuple(lt.ForumDecisionRef(names.get(d.forum_key, d.forum_key), d.outcome, d.decided_on, d.case_no) for d in sorted(rows, key=lambda d: d.decided_on))
        context = lt.StageCompleted(ref, _title(stage), stage.kind, today, forum_decisions=refs, next_stages=context.next_stages)
    elif stage.kind == StageKind.political_treatment:
        rows = session.exec(select(PartyTreatment).where(PartyTreatment.stage_id == stage.id)).all()
        context = lt.StageCompleted(ref, _title(stage), stage.kind, today, tally=_tally(list(rows), len(rows)), next_stages=context.next_stages)
    return _coordinator_messages(revision, EmailEvent.stage_completed, context, key=f"{revision.slug}/{stage.key}/stage_completed/r{stage.round}", stage_key=stage.key)


def revision_done(session: Session, revision: Revision, today: dt.date) -> list[OutboxMessage]:
    stage_ids = select(Stage.id).where(Stage.revision_id == revision.id, Stage.kind == StageKind.political_treatment)
    rows = list(session.exec(select(PartyTreatment).where(col(PartyTreatment.stage_id).in_(stage_ids))).all())
    names = {p.id: p.name for p in session.exec(select(Party).where(Party.revision_id == revision.id))}
    context = lt.RevisionCompleted(
        _revision_ref(revision), today, _tally(rows, len(rows)),
        tuple(sorted(names[t.party_id] for t in rows if t.status == TreatmentStatus.approved_with_reservations)),
        tuple(sorted(names[t.party_id] for t in rows if t.status == TreatmentStatus.rejected)),
    )
    return _coordinator_messages(revision, EmailEvent.revision_completed, context, key=f"{revision.slug}/revision_completed")


def decision_receipt(revision: Revision, stage: Stage, party: Party, treatment: PartyTreatment) -> OutboxMessage:
    context = lt.DecisionReceipt(_revision_ref(revision), _party_ref(party), PartyOutcome(treatment.status.value), treatment.decided_on, treatment.case_no)
    return _party_message(
        revision, party, EmailEvent.decision_receipt, context, stage=stage,
        key=f"{revision.slug}/{stage.key}/{party.id}/decision_receipt/{treatment.decided_on}", due=None,
    )


# --- a shifted plan -------------------------------------------------------------------------


def deadline_moved(revision: Revision, party: Party, moves: list[tuple[Stage, PlanDate, PlanDate]], reason: str | None, version: int) -> OutboxMessage:
    """One letter per party and plan version, listing every deadline of theirs that moved.

    Its calendar attachment moves the entry of the earliest exact deadline, under the
    UID of the letter that first put it in the party's calendar.
    """
    context = lt.DeadlineMoved(
        _revision_ref(revision), _party_ref(party),
        tuple(lt.MovedDeadline(_title(stage), stage.kind, before, after) for stage, before, after in moves), reason,
    )
    exact = sorted(((after.as_date(), stage) for stage, _, after in moves if after.exact), key=lambda pair: pair[0])
    day, stage = exact[0] if exact else (None, moves[0][0])
    hearing = stage.kind == StageKind.hearing
    return _message(
        revision, EmailEvent.deadline_moved, party.language, context,
        key=f"{revision.slug}/plan-v{version}/{party.id}/deadline_moved", to_name=party.name, to_address=party.email,
        stage_key=stage.key, party_id=party.id, due=day,
        calendar_title=f"{'Høringsfrist' if hearing else 'Frist for politisk behandling'}: {revision.title}",
        calendar_event=EmailEvent.hearing_invitation if hearing else EmailEvent.decision_request,
    )


# --- the sweep's reminders and the digest ----------------------------------------------


def reminder(session: Session, revision: Revision, due: Due) -> OutboxMessage:
    stage = session.exec(select(Stage).where(Stage.revision_id == revision.id, Stage.key == due.stage_key)).one()
    party = session.get(Party, due.party_id)
    ref, pref = _revision_ref(revision), _party_ref(party)
    calendar_title = None
    match due.event:
        case EmailEvent.hearing_reminder:
            context = lt.HearingReminder(ref, pref, _title(stage), _documents(session, revision, stage.documents), due.deadline, due.days_left)
            calendar_title = f"Høringsfrist: {revision.title}"
        case EmailEvent.hearing_deadline_passed:
            row = session.exec(select(HearingResponse).where(HearingResponse.stage_id == stage.id, HearingResponse.party_id == party.id)).one()
            context = lt.HearingDeadlinePassed(ref, pref, _title(stage), due.deadline, row.status == HearingStatus.responded, row.responded_on)
        case EmailEvent.decision_reminder | EmailEvent.overdue_notice:
            row = session.exec(select(PartyTreatment).where(PartyTreatment.stage_id == stage.id, PartyTreatment.party_id == party.id)).one()
            url = _report_url(session, revision, party, due.key)
            if due.event == EmailEvent.decision_reminder:
                context = lt.DecisionReminder(ref, pref, due.deadline, due.days_left, row.meeting_date, url)
                calendar_title = f"Frist for politisk behandling: {revision.title}"
            else:
                context = lt.OverdueNotice(ref, pref, due.deadline, -due.days_left, row.meeting_date, url)
        case _:
            raise ValueError(f"not a sweep event: {due.event}")
    return _party_message(revision, party, due.event, context, stage=stage, key=due.key, due=due.deadline if calendar_title else None, calendar_title=calendar_title)


def digests(session: Session, revision: Revision, as_of: dt.date) -> list[OutboxMessage]:
    """One weekly digest per coordinator of the revision: open stages, what comes in two weeks, overdue, failed mail."""
    stages = session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all()
    horizon = as_of + dt.timedelta(days=DIGEST_HORIZON_DAYS)
    upcoming, overdue = [], []
    kinds = {"deadline": {StageKind.hearing: lt.DigestKind.hearing_deadline, StageKind.political_treatment: lt.DigestKind.decision_deadline},
             "meeting": {StageKind.forum_approval: lt.DigestKind.forum_meeting}}
    for s in stages:
        if s.status == StageStatus.done:
            continue
        for field, by_kind in kinds.items():
            value = _plan_date(getattr(s, field))
            day = value.as_date() if value else None
            if day is None or s.kind not in by_kind:
                continue
            item = lt.DigestItem(day, by_kind[s.kind], _title(s))
            if as_of <= day <= horizon:
                upcoming.append(item)
            elif day < as_of and s.status == StageStatus.active:
                overdue.append(item)
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.revision_id == revision.id, OutboxMessage.status == OutboxStatus.failed)).all()
    digest_revision = lt.DigestRevision(
        _revision_ref(revision),
        tuple(_title(s) for s in stages if s.status == StageStatus.active),
        tuple(sorted(upcoming, key=lambda i: i.when)),
        tuple(sorted(overdue, key=lambda i: i.when)),
        tuple(lt.FailedMessage(m.to_address, m.subject, m.last_error) for m in failed),
    )
    return [
        _message(
            revision, EmailEvent.weekly_digest, revision.language, lt.WeeklyDigest(c["name"], as_of, (digest_revision,), DIGEST_HORIZON_DAYS),
            key=f"{digest_key(c['email'], as_of)}/{revision.slug}", to_name=c["name"], to_address=c["email"],
        )
        for c in revision.coordinators
    ]
