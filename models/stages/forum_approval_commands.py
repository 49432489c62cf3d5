"""The recordings of a forum approval stage (models/stages/forum_approval.py): one typed command each
(models/commands.py makes every kind's one union). A module of their own, imported on first use
(`RULES.commands`, or a name imported from the kind's module): checking a plan defines none of them."""

from __future__ import annotations

from typing import Literal

from ..command_fields import CaseNo, CommandBase, Day, Reason
from ..command_fields import Key as KeyText
from ..enums import ForumOutcome


class ForumDecision(CommandBase):
    action: Literal["forum_decision"] = "forum_decision"
    forum: KeyText
    outcome: ForumOutcome
    date: Day
    case_no: CaseNo | None = None
    stage: KeyText | None = None
    correct: bool = False  # replace the forum's current decision (with `reason`)
    reason: Reason | None = None


class ForumDecisionWithdraw(CommandBase):
    """A forum decision recorded by mistake: removed (the audit log keeps it)."""

    action: Literal["forum_withdraw"] = "forum_withdraw"
    forum: KeyText
    reason: Reason
    stage: KeyText | None = None


COMMANDS = (ForumDecision, ForumDecisionWithdraw)
