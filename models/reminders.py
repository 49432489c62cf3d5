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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .stages import StageFacts, StageRules, rules_for
from .stages.base import Due, ReminderSettings, exact_deadline, message_key, overdue_number, reminder_offset  # noqa: F401 - re-exported
from .enums import StageStatus
from .tables import ForumDecision, Party, PartyObligation, Stage

DEFAULT_BEFORE_DAYS = (14, 3)
DEFAULT_OVERDUE_EVERY_DAYS = 7


@dataclass(frozen=True)
class SweepPlan:
    messages: list[Due]
    close_stages: list[tuple[str, dt.date]]  # (stage key, deadline) of stages whose deadline closes them


def settings_of(revision_reminders: dict | None) -> ReminderSettings:
    """The revision's `reminders:` as stored (its plan's), the defaults for what it leaves out."""
    given = revision_reminders or {}
    return ReminderSettings(
        given.get("before_deadline_days", list(DEFAULT_BEFORE_DAYS)), given.get("overdue_every_days", DEFAULT_OVERDUE_EVERY_DAYS)
    )


def may_be_due(stage: Stage, settings: ReminderSettings, as_of: dt.date) -> bool:
    """Whether the sweep can owe anything for `stage` on `as_of`, from the stage alone: it is
    active, its kind sweeps, its deadline is exact and no further off than the earliest
    reminder. Every kind's `sweep` is silent otherwise (tests/test_sweep_setwise.py checks each
    kind against it), so the sweep reads the parties' rows of these stages only."""
    if stage.status != StageStatus.active or type(rules_for(stage.kind)).sweep is StageRules.sweep:
        return False
    deadline = exact_deadline(stage)
    return deadline is not None and as_of >= deadline - dt.timedelta(days=max(settings.before_days, default=0))


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
    obligations_of: dict[int, list[PartyObligation]] = defaultdict(list)
    decisions_of: dict[int, list[ForumDecision]] = defaultdict(list)
    for o in obligations:
        obligations_of[o.stage_id].append(o)
    for d in decisions:
        decisions_of[d.stage_id].append(d)
    return plan_stages(
        slug, stages, {p.id for p in parties if p.active}, obligations_of, decisions_of, ReminderSettings(before_days, overdue_every_days), as_of
    )


def plan_stages(
    slug: str,
    stages: Sequence[Stage],
    active_party_ids: set[int],
    obligations_of: Mapping[int, Sequence[PartyObligation]],
    decisions_of: Mapping[int, Sequence[ForumDecision]],
    settings: ReminderSettings,
    as_of: dt.date,
) -> SweepPlan:
    """`sweep_plan` over rows already grouped by stage id (any rows with the attributes the kinds
    read, e.g. the sweep's set-wise selection); a party counts when its id is in `active_party_ids`."""
    messages: list[Due] = []
    close: list[tuple[str, dt.date]] = []
    for stage in stages:
        if stage.status != StageStatus.active:
            continue
        facts = StageFacts(obligations_of.get(stage.id, ()), decisions_of.get(stage.id, ()))
        swept = rules_for(stage.kind).sweep(slug, stage, facts, active_party_ids, settings, as_of)
        messages += swept.messages
        if swept.close:
            close.append((stage.key, exact_deadline(stage)))
    return SweepPlan(messages, close)


def digest_due(as_of: dt.date) -> bool:
    """The weekly digest goes out on Mondays."""
    return as_of.weekday() == 0
