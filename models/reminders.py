"""Which reminders, overdue notices and closings are due on a given day. Pure: the
caller passes the revision's rows and the day (`as_of`).

- Before an exact deadline: a reminder at each of `before_deadline_days` (e.g. 14
  and 3 days before) to each party that has not yet answered. If the sweep missed
  a day, only the latest reminder that has come due is sent, never two at once.
- After a party's political deadline: an overdue notice the day after, then every
  `overdue_every_days`.
- A hearing whose exact deadline has passed is closed, and every invitee is told.

Each kind's own part is its `sweep` in models/stages/<kind>.py.
- A date with only a month gets none of this.

Every item carries the key the outbox de-duplicates on: revision, stage, party,
event and the deadline (and the reminder's offset or the notice's number), so a
sweep run twice sends nothing twice, and a moved deadline is a new one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .stages import StageFacts, rules_for
from .stages.base import Due, ReminderSettings, exact_deadline, message_key, overdue_number, reminder_offset  # noqa: F401 - re-exported
from .enums import StageStatus
from .tables import ForumDecision, Party, PartyObligation, Stage


@dataclass(frozen=True)
class SweepPlan:
    messages: list[Due]
    close_stages: list[tuple[str, dt.date]]  # (stage key, deadline) of stages whose deadline closes them


def sweep_plan(
    slug: str,
    stages: Sequence[Stage],
    parties: Sequence[Party],
    obligations: Sequence[PartyObligation],
    decisions: Sequence[ForumDecision] = (),
    *,
    before_days: Sequence[int],
    overdue_every_days: int,
    as_of: dt.date,
) -> SweepPlan:
    """Each open stage's kind says what it owes on `as_of` (models/stages/<kind>.py)."""
    active_parties = {p.id for p in parties if p.active}
    settings = ReminderSettings(before_days, overdue_every_days)
    messages: list[Due] = []
    close: list[tuple[str, dt.date]] = []
    obligations_of: dict[int, list[PartyObligation]] = defaultdict(list)
    decisions_of: dict[int, list[ForumDecision]] = defaultdict(list)
    for o in obligations:
        obligations_of[o.stage_id].append(o)
    for d in decisions:
        decisions_of[d.stage_id].append(d)
    for stage in stages:
        if stage.status != StageStatus.active:
            continue
        facts = StageFacts(obligations_of[stage.id], decisions_of[stage.id])
        swept = rules_for(stage.kind).sweep(slug, stage, facts, active_parties, settings, as_of)
        messages += swept.messages
        if swept.close:
            close.append((stage.key, exact_deadline(stage)))
    return SweepPlan(messages, close)


def digest_due(as_of: dt.date) -> bool:
    """The weekly digest goes out on Mondays."""
    return as_of.weekday() == 0


def digest_key(coordinator_email: str, as_of: dt.date) -> str:
    year, week, _ = as_of.isocalendar()
    return f"digest/{coordinator_email.casefold()}/{year}-W{week:02d}"
