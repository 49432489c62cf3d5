"""Which reminders, overdue notices and closings are due on a given day. Pure: the
caller passes the revision's rows and the day (`as_of`).

- Before an exact deadline: a reminder at each of `before_deadline_days` (e.g. 14
  and 3 days before) to each party that has not yet answered. If the sweep missed
  a day, only the latest reminder that has come due is sent, never two at once.
- After a party's political deadline: an overdue notice the day after, then every
  `overdue_every_days`.
- A hearing whose exact deadline has passed is closed, and every invitee is told.
- A date with only a month gets none of this.

Every item carries the key the outbox de-duplicates on: revision, stage, party,
event and the deadline (and the reminder's offset or the notice's number), so a
sweep run twice sends nothing twice, and a moved deadline is a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .dates import PlanDate
from .enums import DECIDED_TREATMENTS, EmailEvent, HearingStatus, StageKind, StageStatus
from .tables import HearingResponse, Party, PartyTreatment, Stage


@dataclass(frozen=True)
class Due:
    event: EmailEvent
    stage_key: str
    party_id: int
    deadline: dt.date
    key: str
    days_left: int  # negative when overdue


@dataclass(frozen=True)
class SweepPlan:
    messages: list[Due]
    close_hearings: list[tuple[str, dt.date]]  # (stage key, deadline) of hearings whose deadline has passed


def exact_deadline(stage: Stage) -> dt.date | None:
    return PlanDate.parse(stage.deadline).as_date() if stage.deadline else None


def reminder_offset(deadline: dt.date, as_of: dt.date, before_days: Sequence[int]) -> int | None:
    """The latest offset (days before the deadline) that has come due by `as_of`, or None."""
    if as_of >= deadline:
        return None
    reached = [n for n in before_days if deadline - dt.timedelta(days=n) <= as_of]
    return min(reached) if reached else None


def overdue_number(deadline: dt.date, as_of: dt.date, every_days: int) -> int | None:
    """1 for the first notice (the day after the deadline), 2 after `every_days` more, ...; None before."""
    if as_of <= deadline:
        return None
    return (as_of - deadline - dt.timedelta(days=1)).days // every_days + 1


def message_key(slug: str, stage_key: str, party_id: int, event: EmailEvent, deadline: dt.date, detail: str = "") -> str:
    return "/".join(p for p in (slug, stage_key, str(party_id), event.value, deadline.isoformat(), detail) if p)


def sweep_plan(
    slug: str,
    stages: Sequence[Stage],
    parties: Sequence[Party],
    responses: Sequence[HearingResponse],
    treatments: Sequence[PartyTreatment],
    *,
    before_days: Sequence[int],
    overdue_every_days: int,
    as_of: dt.date,
) -> SweepPlan:
    active_parties = {p.id for p in parties if p.active}
    messages: list[Due] = []
    close: list[tuple[str, dt.date]] = []
    for stage in stages:
        deadline = exact_deadline(stage)
        if stage.status != StageStatus.active or deadline is None:
            continue
        days_left = (deadline - as_of).days
        if stage.kind == StageKind.hearing:
            invited = [r for r in responses if r.stage_id == stage.id and r.party_id in active_parties]
            if as_of > deadline:
                close.append((stage.key, deadline))
                messages += [
                    Due(EmailEvent.hearing_deadline_passed, stage.key, r.party_id, deadline,
                        message_key(slug, stage.key, r.party_id, EmailEvent.hearing_deadline_passed, deadline), days_left)
                    for r in invited
                ]
            elif (n := reminder_offset(deadline, as_of, before_days)) is not None:
                messages += [
                    Due(EmailEvent.hearing_reminder, stage.key, r.party_id, deadline,
                        message_key(slug, stage.key, r.party_id, EmailEvent.hearing_reminder, deadline, f"{n}d"), days_left)
                    for r in invited
                    if r.status == HearingStatus.invited
                ]
        elif stage.kind == StageKind.political_treatment:
            undecided = [t for t in treatments if t.stage_id == stage.id and t.party_id in active_parties and t.status not in DECIDED_TREATMENTS]
            if (k := overdue_number(deadline, as_of, overdue_every_days)) is not None:
                event, detail = EmailEvent.overdue_notice, f"#{k}"
            elif (n := reminder_offset(deadline, as_of, before_days)) is not None:
                event, detail = EmailEvent.decision_reminder, f"{n}d"
            else:
                continue
            messages += [
                Due(event, stage.key, t.party_id, deadline, message_key(slug, stage.key, t.party_id, event, deadline, detail), days_left)
                for t in undecided
            ]
    return SweepPlan(messages, close)


def digest_due(as_of: dt.date) -> bool:
    """The weekly digest goes out on Mondays."""
    return as_of.weekday() == 0


def digest_key(coordinator_email: str, as_of: dt.date) -> str:
    year, week, _ = as_of.isocalendar()
    return f"digest/{coordinator_email.casefold()}/{year}-W{week:02d}"
