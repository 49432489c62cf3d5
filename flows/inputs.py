"""What a suspended revision run accepts on resume (Prefect shows it as a form).

Prefect renders these fields as they are; tasks/run_input.py parses them into the same
command as the CLI's and the dashboard's (models/commands.py), so the bounds and errors are
the same. `Action` lists the commands' actions, so a new stage kind's commands appear here too."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from prefect.input import RunInput
from pydantic import Field

from avtaleflyt.models.commands import ACTIONS

Action = Literal[ACTIONS]  # every stage kind's commands, and refresh


class RevisionInput(RunInput):
    """Record what happened. `refresh` records nothing: avtaleflyt sends it after writing the database itself."""

    action: Action = Field(default="refresh", description="what happened")
    stage: str | None = Field(default=None, description="stage key, when more than one is open")
    forum: str | None = Field(default=None, description="forum key, for forum_decision")
    party: str | None = Field(default=None, description="party name or organisation number")
    outcome: str | None = Field(default=None, description="forum: approved | approved_with_changes | returned | postponed; party: approved | approved_with_reservations | rejected")
    date: dt.date | None = Field(default=None, description="decision, response or meeting date (party_schedule: the meeting)")
    case_no: str | None = Field(default=None, description="case number (saksnummer), e.g. 09-2024")
    note: str | None = Field(default=None, description="a note (draft_complete, hearing_response), or the reason for hearing_close")
    correct: bool | None = Field(default=None, description="forum_decision, party_decision: replace the decision recorded before (give a reason)")
    reason: str | None = Field(default=None, description="why a decision is corrected (with correct) or withdrawn (forum_withdraw, party_withdraw)")
    signer: str | None = Field(default=None, description="party_signing: who signed for the party (name); date is the signing date")
    signer_title: str | None = Field(default=None, description="party_signing: the signer's title, e.g. ordfører")
    id: int | None = Field(default=None, description="followup_close: the follow-up item's number (note: what was done)")
