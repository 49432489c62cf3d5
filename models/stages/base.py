"""What every stage kind's pure rules provide (`StageRules`), and the facts they read.

Pure: the callers load the rows; the day is passed in.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from ..dates import PlanDate
from ..enums import DigestKind, EmailEvent, StageKind, StageStatus
from ..plan_fields import PlanContext, PlanProblem, StageSpecBase

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed to check a plan
    from ..tables import ForumDecision, Party, PartyObligation, Stage


class Gate(StrEnum):
    waiting = "waiting"
    met = "met"
    returned = "returned"


@dataclass(frozen=True)
class StageFacts:
    """What was recorded in one stage: its parties' obligations and its forums' decisions."""

    obligations: Sequence[PartyObligation] = ()
    decisions: Sequence[ForumDecision] = ()


@dataclass
class Progress:
    """What a stage's progress is made of; each front end puts it in its own words."""

    waits_for: list[str] = field(default_factory=list)  # a pending stage: the stages before it
    done: int | None = None  # approvals, responses or decisions so far
    of: int | None = None  # ... of this many
    approved: list[str] = field(default_factory=list)  # forums
    returned: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)
    note: str | None = None  # why a draft or hearing was closed
    # A forum stage done on its quorum while some forums have not approved: `of` counts all its
    # forums, and those that have not decided (or postponed) are still to decide.
    settled: bool = False
    still_to_decide: list[str] = field(default_factory=list)


# --- reminders ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # the sweep makes one per letter due: 80,000 at 2,000 revisions
class Due:
    event: EmailEvent
    stage_key: str
    party_id: int
    deadline: dt.date
    key: str
    days_left: int  # negative when overdue


@dataclass(frozen=True)
class ReminderSettings:
    before_days: Sequence[int]
    overdue_every_days: int


@dataclass(frozen=True)
class Swept:
    """What the sweep owes one stage on a day: letters, and whether its deadline closes it."""

    messages: list[Due] = field(default_factory=list)
    close: bool = False


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
    if slug and stage_key:  # always, from a stored plan: the same key, written at once (the sweep's hot path)
        key = f"{slug}/{stage_key}/{party_id}/{event}/{deadline.isoformat()}"  # a StrEnum formats as its value
        return f"{key}/{detail}" if detail else key
    return "/".join(p for p in (slug, stage_key, str(party_id), event.value, deadline.isoformat(), detail) if p)


def due(event: EmailEvent, slug: str, stage: Stage, party_id: int, deadline: dt.date, as_of: dt.date, detail: str = "") -> Due:
    return Due(event, stage.key, party_id, deadline, message_key(slug, stage.key, party_id, event, deadline, detail), (deadline - as_of).days)


def forum_problems(place: str, forums: list[str], plan: PlanContext) -> list[PlanProblem]:
    """A stage's `forums:` checked against the plan's: each unknown one, and a forum named twice."""
    known = ", ".join(sorted(plan.forums)) or "none declared under forums"
    found = [
        PlanProblem(f"{place}.forums[{j}]", f"unknown forum {forum!r}; known: {known}")
        for j, forum in enumerate(forums)
        if forum not in plan.forums
    ]
    if len(set(forums)) != len(forums):
        found.append(PlanProblem(f"{place}.forums", "a forum is named twice"))
    return found


# --- the rules of one kind -----------------------------------------------------------


def commands_attribute(kind_module: str, name: str) -> object:
    """A kind module's `__getattr__`: its command models live in `<kind>_commands` (defining the ~12
    models took ~2% of `plan check`); `from .hearing import HearingResponse` still finds them."""
    if not name.startswith("__"):
        commands = importlib.import_module(kind_module + "_commands")
        if hasattr(commands, name):
            return getattr(commands, name)
    raise AttributeError(f"module {kind_module!r} has no attribute {name!r}")



class StageRules:
    """The pure rules of one stage kind. Subclasses set the class attributes and override what differs."""

    kind: ClassVar[StageKind]
    spec: ClassVar[type[StageSpecBase]]  # the kind's plan schema
    awaiting: ClassVar[str]  # the name of the run's suspended state while a stage of this kind is open
    rank: ClassVar[int]  # how far along the process the kind comes: the highest open one names the run's state
    dates: ClassVar[tuple[str, ...]]  # its date fields, as the plan names them
    party_dates: ClassVar[frozenset[str]] = frozenset()  # dates each party has to keep (its calendar entries)
    party_deadline: ClassVar[str | None] = None  # the party date whose move is a "deadline moved" letter
    forum_dates: ClassVar[tuple[str, ...]] = ()  # dates its forums meet on (their calendar entries); a move is told to them
    first_status: ClassVar[str | None] = None  # the status of each party's obligation when the stage starts; None: no obligations
    answered: ClassVar[frozenset[str]] = frozenset()  # obligation statuses that count as the party's answer
    takes_returns: ClassVar[bool] = False  # a returned forum decision reopens the nearest stage of this kind
    digest: ClassVar[dict[str, DigestKind]] = {}  # date field -> how the weekly digest lists it
    date_words: ClassVar[dict[str, str]] = {}  # date field -> English words for the CLI, the kind named ("hearing deadline")
    # How the read side shows each party's obligation: as a column of the party table (status and
    # date, one per stage: a hearing), or as the party's decision on the agreement (its status,
    # meeting, date and case number, and the revision's tally: the political treatment).
    party_column: ClassVar[bool] = False
    party_decision: ClassVar[bool] = False
    # What a party's answer says of the agreement (models/in_force.py): `approves` (the agreement is in force
    # for the party from its answer, when the kind is the revision's last to ask it), `rejects` (it is not).
    approves: ClassVar[frozenset[str]] = frozenset()
    rejects: ClassVar[frozenset[str]] = frozenset()
    # Its letters to a party that the sender drops (cancels) when their reason has gone before they go
    # out (letter_reason_gone): `asks` (a request for the answer) once the stage is closed or the party
    # answered or left; `chases` (reminders, overdue notices) also when the deadline they name is no
    # longer the stage's; `tells` only once the party left.
    asks: ClassVar[frozenset[EmailEvent]] = frozenset()
    chases: ClassVar[frozenset[EmailEvent]] = frozenset()
    tells: ClassVar[frozenset[EmailEvent]] = frozenset()

    @property
    def commands(self) -> tuple[type, ...]:
        """Its recordings (models/command_fields.CommandBase), one model each: `COMMANDS` of the kind's
        `<kind>_commands` module beside its own, imported on first use: checking a plan needs none."""
        return importlib.import_module(type(self).__module__ + "_commands").COMMANDS

    def gate(self, stage: Stage, facts: StageFacts, active_party_ids: set[int]) -> Gate:
        return Gate.met if stage.closed_reason else Gate.waiting

    def progress(self, stage: Stage, facts: StageFacts) -> Progress:
        return Progress(note=stage.closed_reason)

    def describe(self, p: Progress) -> str:
        """The progress in English, for the CLI."""
        return p.note or "in progress"

    def sweep(self, slug: str, stage: Stage, facts: StageFacts, active_party_ids: set[int], settings: ReminderSettings, as_of: dt.date) -> Swept:
        return Swept()

    def letter_reason_gone(
        self, event: EmailEvent, stage: Stage, obligation: PartyObligation | None, party: Party, due: dt.date | None,
    ) -> str | None:
        """Why a pending letter of this stage to `party` should no longer go out, or None to send it.

        `obligation` is the party's row in the stage (None: it owes the stage nothing), `due` the
        deadline the letter names (None: unknown, not compared). The sender passes the three rows
        as plain namespaces of their columns (tasks/outbox/reasons.py): read columns only, no
        relationships or properties of the tables.
        """
        if event not in self.asks | self.chases | self.tells:
            return None
        if not party.active:
            return f"{party.name} has left the revision" + (f" ({party.left_on})" if party.left_on else "")
        if event in self.tells:
            return None
        if stage.closed_reason or stage.status != StageStatus.active:
            return f"stage {stage.key!r} is closed" + (f": {stage.closed_reason}" if stage.closed_reason else f" ({stage.status})")
        if obligation is None:
            return f"{party.name} owes stage {stage.key!r} nothing"
        if obligation.status in self.answered:
            return f"{party.name} has answered ({obligation.status}" + (f" on {obligation.answered_on})" if obligation.answered_on else ")")
        if event in self.chases and due is not None and due != (now := exact_deadline(stage)):
            return f"the deadline moved: {due} is now {now or stage.deadline}"
        return None

    def forums_to_meet(self, stage: Stage, facts: StageFacts) -> set[str]:
        """The forums (keys) still to meet on the stage's `forum_dates`: told when those dates move."""
        return set()

    # shared by the kinds with one obligation per party
    def owing(self, facts: StageFacts) -> set[int]:
        """The parties that still owe the stage their answer."""
        return {o.party_id for o in facts.obligations if o.status not in self.answered}

    def answered_count(self, facts: StageFacts, active_party_ids: set[int] | None = None) -> int:
        return sum(o.status in self.answered for o in facts.obligations if active_party_ids is None or o.party_id in active_party_ids)
