"""An information item (til orientering): forums and/or parties are told, with the documents, and
nobody decides.

`{key: orientering, kind: information, forums: [PSU], parties: all | [names], documents: [...],
date: 2025-01-15}`. When it starts, each forum and each party named gets a notice with the
documents' current versions and a calendar entry for its date. It closes on its date (the sweep,
with the clock passed in) or when a coordinator marks it done (`information done`).

The plan's `date:` is the stage's `deadline` column: the date every export, shift and rebase
already moves and shows, so the kind needs no date of its own anywhere else.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field

from ..enums import DigestKind, StageKind
from ..plan_fields import DateField, Key, Name, PlanContext, PlanProblem, StageSpecBase, unknown_documents
from .base import Progress, ReminderSettings, StageFacts, StageRules, Swept, commands_attribute, exact_deadline, forum_problems

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed to check a plan
    from ..tables import Party, Stage

ALL = "all"


class InformationStage(StageSpecBase):
    # `date:` in the file; `deadline` inside (and in a plan stored as JSON, read back by name)
    model_config = ConfigDict(populate_by_name=True)

    kind: Literal[StageKind.information]
    deadline: DateField = Field(alias="date", description="the day it is presented; it closes on it")
    forums: list[Key] = Field(default=[], description="the forums told")
    parties: Literal["all"] | list[Name] | None = Field(default=None, description="the parties told: all, or their names")
    documents: list[Key] | None = Field(default=None, description="the documents sent with it; defaults to every document")

    def problems(self, place: str, plan: PlanContext) -> list[PlanProblem]:
        found = forum_problems(place, self.forums, plan)
        if isinstance(self.parties, list):
            parties = {p.casefold() for p in plan.parties}
            found += [
                PlanProblem(f"{place}.parties[{j}]", f"unknown party {name!r}; known: {', '.join(sorted(plan.parties))}")
                for j, name in enumerate(self.parties)
                if name.casefold() not in parties
            ]
            if len({p.casefold() for p in self.parties}) != len(self.parties):
                found.append(PlanProblem(f"{place}.parties", "a party is named twice"))
        found += unknown_documents(place, self.documents, plan)
        if not self.forums and not self.parties:
            found.append(PlanProblem(place, "an information item tells someone: give it forums: and/or parties: (all, or names)"))
        return found

    def columns(self, all_documents: list[str]) -> dict[str, Any]:
        parties = self.parties if self.parties is None or self.parties == ALL else list(self.parties)
        return {**super().columns(all_documents), "forums": list(self.forums), "documents": list(self.documents or all_documents), "parties": parties}


def recipients(stage: Stage, parties: list[Party]) -> list[Party]:
    """The parties an information stage tells (`parties:` all, or by name), of `parties`."""
    if not stage.parties:
        return []
    if stage.parties == ALL:
        return list(parties)
    named = {name.casefold() for name in stage.parties}
    return [p for p in parties if p.name.casefold() in named]


class InformationRules(StageRules):
    kind = StageKind.information
    spec = InformationStage
    awaiting = "AwaitingInformation"
    rank = -1  # beside any other open stage, that one names the run's state
    dates = ("deadline",)
    digest = {"deadline": DigestKind.information}
    date_words = {"deadline": "information date"}

    def describe(self, p: Progress) -> str:
        return f"done: {p.note}" if p.note else "to be presented"

    def sweep(self, slug: str, stage: Stage, facts: StageFacts, active_party_ids: set[int], settings: ReminderSettings, as_of: dt.date) -> Swept:
        """No reminders (nobody owes anything); on its exact date it closes."""
        day = exact_deadline(stage)
        return Swept(close=day is not None and as_of >= day and not stage.closed_reason)


RULES = InformationRules()


def __getattr__(name: str) -> object:
    """Its commands (`information_commands`), imported from here on first use."""
    return commands_attribute(__name__, name)
