"""The recordings of a political treatment stage (models/stages/political_treatment.py): one typed command each
(models/commands.py makes every kind's one union). A module of their own, imported on first use
(`RULES.commands`, or a name imported from the kind's module): checking a plan defines none of them."""

from __future__ import annotations

from typing import Literal

from pydantic import InstanceOf

from ..command_fields import CaseNo, CommandBase, Day, MinutesText, Note, PartyName, Reason, Reservations, Upload
from ..enums import PartyOutcome


class PartySchedule(CommandBase):
    action: Literal["party_schedule"] = "party_schedule"
    party: PartyName
    meeting: Day


class PartyDecision(CommandBase):
    action: Literal["party_decision"] = "party_decision"
    party: PartyName
    outcome: PartyOutcome
    date: Day
    case_no: CaseNo | None = None
    correct: bool = False  # replace the party's recorded decision (with `reason`)
    reason: Reason | None = None
    # What the party sends back with it (all optional; tasks/party_returns.py).
    note: Note | None = None  # its remarks (merknader)
    reservations: Reservations | None = None  # a conditional approval's reservations (forbehold)
    minutes_text: MinutesText | None = None  # the decision's text or its extract of minutes (særutskrift)...
    minutes_file: InstanceOf[Upload] | None = None  # ...or as a file, read by the front end (never from text)
    # Set only by the party-link route (actions.report_by_link), never parsed from input: see parse_command.
    self_reported: bool = False


class PartyDecisionWithdraw(CommandBase):
    """A party decision recorded by mistake: the party owes its decision again (the audit log keeps it)."""

    action: Literal["party_withdraw"] = "party_withdraw"
    party: PartyName
    reason: Reason


COMMANDS = (PartySchedule, PartyDecision, PartyDecisionWithdraw)
