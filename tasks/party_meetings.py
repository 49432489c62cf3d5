"""Each party's meeting plan stored: the plan's `parties[].meetings` when a revision is stored,
a secretariat's CSV (`party meetings import`), and, for a political stage, each party's meeting
in time (models/party_meetings.py) for the decision request, the dashboard and the digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, delete, select

from avtaleflyt.models import rules
from avtaleflyt.models.errors import DomainError
from avtaleflyt.models.fremdriftsplan import RowProblem
from avtaleflyt.models.party_meetings import DEFAULT_CASE_DEADLINE_DAYS, Meeting, MeetingInTime, MeetingRow, MeetingsInvalid, meeting_in_time, plan_meetings
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import Party, PartyMeeting, PartyObligation, Revision, Stage

from .recorder import Recorder, lock_revision


def store_plan_meetings(session: Session, revision_id: int, plan) -> None:
    """The plan's meetings of each party (its parties are added, not yet flushed)."""
    if not any(p.meetings for p in plan.parties):
        return
    session.flush()
    ids = {p.name: p.id for p in session.exec(select(Party).where(Party.revision_id == revision_id))}
    session.add_all(
        PartyMeeting(revision_id=revision_id, party_id=ids[p.name], date=m.date, body=m.body, case_deadline_days=m.case_deadline_days)
        for p in plan.parties
        for m in plan_meetings(p, plan.case_deadline_days)
    )


def meetings_by_party(session: Session, revision_id: int) -> dict[int, list[Meeting]]:
    found: dict[int, list[Meeting]] = {}
    for m in session.exec(select(PartyMeeting).where(PartyMeeting.revision_id == revision_id).order_by(PartyMeeting.date)):
        found.setdefault(m.party_id, []).append(Meeting(m.date, m.body, m.case_deadline_days))
    return found


def political_stage(stages: Sequence[Stage]) -> Stage | None:
    """The stage whose deadline the parties' meetings are measured against: the first one where parties decide."""
    return next((s for s in sorted(stages, key=lambda s: s.position) if rules_for(s.kind).party_decision and s.deadline), None)


def in_time(session: Session, revision: Revision, stage: Stage | None, today: dt.date | None) -> dict[int, MeetingInTime]:
    """Each party's meeting for `stage` (party id -> MeetingInTime); {} without a political stage. A meeting
    set with `party schedule` (the party's obligation's meeting date) overrides its plan."""
    if stage is None or not stage.deadline:
        return {}
    deadline = PlanDate.parse(stage.deadline)
    meetings = meetings_by_party(session, revision.id)
    owed = {o.party_id: o for o in session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id))}
    decided = {pid for pid, o in owed.items() if o.status in rules_for(stage.kind).answered}
    parties = session.exec(select(Party).where(Party.revision_id == revision.id, col(Party.active)))
    return {
        p.id: meeting_in_time(meetings.get(p.id, ()), deadline, scheduled=owed[p.id].meeting_date if p.id in owed else None, today=today)
        for p in parties
        if p.id not in decided
    }


def flagged(session: Session, revision: Revision, stages: Sequence[Stage], today: dt.date) -> list[tuple[str, PlanDate, MeetingInTime]]:
    """The parties the coordinators should look at (the weekly digest): no meeting in time for the political stage
    not yet done, or its send-by day passed. By name."""
    from avtaleflyt.models.enums import StageStatus

    stage = political_stage([s for s in stages if s.status != StageStatus.done])
    found = in_time(session, revision, stage, today)
    if not any(f.flagged for f in found.values()):
        return []
    names = {p.id: p.name for p in session.exec(select(Party).where(Party.revision_id == revision.id))}
    deadline = PlanDate.parse(stage.deadline)
    return sorted(((names[pid], deadline, f) for pid, f in found.items() if f.flagged), key=lambda t: t[0])


def default_days(session: Session, revision: Revision) -> int:
    from .papers.party_case import plan_of

    plan = plan_of(session, revision)
    return plan.case_deadline_days if plan is not None else DEFAULT_CASE_DEADLINE_DAYS


def import_meetings(session: Session, slug: str, rows: Sequence[MeetingRow], *, party: str | None, actor: str) -> str:
    """Replace the meeting plan of each party the rows name (or `party`) with the rows: all or nothing.
    Raises MeetingsInvalid naming each row whose party is not found, or DomainError for `party`."""
    revision = lock_revision(session, slug)
    parties = list(session.exec(select(Party).where(Party.revision_id == revision.id)))
    given = rules.find_party(parties, party) if party else None
    by_row: dict[int, Party] = {}
    problems = []
    for r in rows:
        if r.party is None and given is None:
            problems.append(RowProblem(r.row, "party", "no party: give --party, or a Part/Party column"))
            continue
        try:
            who = rules.find_party(parties, r.party) if r.party else given
        except DomainError as exc:
            problems.append(RowProblem(r.row, "party", exc.message.removeprefix("--party: ")))
            continue
        if given is not None and who.id != given.id:
            problems.append(RowProblem(r.row, "party", f"{who.name}, not {given.name} (--party)"))
            continue
        if not who.active:
            problems.append(RowProblem(r.row, "party", f"{who.name} left the revision on {who.left_on}"))
            continue
        by_row[r.row] = who
    if problems:
        raise MeetingsInvalid(problems)
    days = default_days(session, revision)
    rec = Recorder(session, revision, actor)
    touched = {p.id: p for p in by_row.values()}
    session.exec(delete(PartyMeeting).where(col(PartyMeeting.party_id).in_(list(touched))))
    for r in rows:
        session.add(PartyMeeting(
            revision_id=revision.id, party_id=by_row[r.row].id, date=r.date, body=r.body,
            case_deadline_days=r.case_deadline_days if r.case_deadline_days is not None else days, source="import",
        ))
    counts = {p.name: sum(by_row[r.row].id == pid for r in rows) for pid, p in touched.items()}
    for name, n in sorted(counts.items()):
        rec.log("party.meetings_imported", f"party:{name}", None, f"{n} meetings")
    return "; ".join(f"{name}: {n} meeting{'s' if n != 1 else ''}" for name, n in sorted(counts.items()))



def planned_by_name(session: Session, slug: str, stages: Sequence, parties: Sequence, today: dt.date) -> tuple[PlanDate | None, dict[str, MeetingInTime]]:
    """For the status views (tasks/status.py: StageView, PartyView): the political stage's deadline and each active,
    undecided party's meeting in time, by name. One query, and only when the revision has a political stage."""
    stage = next((s for s in stages if rules_for(s.kind).party_decision and "deadline" in s.dates), None)
    if stage is None:
        return None, {}
    rows = session.exec(
        select(PartyMeeting, Party.name).join(Party, col(PartyMeeting.party_id) == col(Party.id))
        .join(Revision, col(Party.revision_id) == col(Revision.id)).where(Revision.slug == slug)
    )
    meetings: dict[str, list[Meeting]] = {}
    for m, name in rows:
        meetings.setdefault(name, []).append(Meeting(m.date, m.body, m.case_deadline_days))
    deadline = stage.dates["deadline"]
    return deadline, {
        p.name: meeting_in_time(meetings.get(p.name, ()), deadline, scheduled=p.meeting, today=today)
        for p in parties
        if p.active and not p.decided_on
    }


def sync_plan_meetings(session: Session, revision_id: int, plan, specs: Sequence) -> None:
    """A revised plan (`plan shift`): the parties in `specs` (their meetings changed, or they joined) get the
    plan's meetings in place of those the plan gave before; meetings imported from a CSV stay."""
    if not specs:
        return
    ids = {p.org_number: p.id for p in session.exec(select(Party).where(Party.revision_id == revision_id))}
    changed = [ids[s.org_number] for s in specs]
    session.exec(delete(PartyMeeting).where(col(PartyMeeting.party_id).in_(changed), PartyMeeting.source == "plan"))
    session.add_all(
        PartyMeeting(revision_id=revision_id, party_id=ids[s.org_number], date=m.date, body=m.body, case_deadline_days=m.case_deadline_days)
        for s in specs
        for m in plan_meetings(s, plan.case_deadline_days)
    )
