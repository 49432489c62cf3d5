"""The recordings of a hearing stage (models/stages/hearing.py): one typed command each
(models/commands.py makes every kind's one union). A module of their own, imported on first use
(`RULES.commands`, or a name imported from the kind's module): checking a plan defines none of them."""

from __future__ import annotations

from typing import Literal

from ..command_fields import CommandBase, Day, Note, PartyName, Reason
from ..command_fields import Key as KeyText


class HearingResponse(CommandBase):
    action: Literal["hearing_response"] = "hearing_response"
    party: PartyName
    date: Day
    stage: KeyText | None = None
    note: Note | None = None


class HearingClose(CommandBase):
    action: Literal["hearing_close"] = "hearing_close"
    stage: KeyText | None = None
    reason: Reason | None = None  # None: the handler says who closed it and when


class HearingReopen(CommandBase):
    """A new round of a closed hearing, for a document changed significantly since (see `check_reopen`)."""

    action: Literal["hearing_reopen"] = "hearing_reopen"
    stage: KeyText
    deadline: Day
    reason: Reason | None = None


COMMANDS = (HearingResponse, HearingClose, HearingReopen)
