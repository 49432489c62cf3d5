"""The recordings of signing stage (models/stages/signing.py): one typed command each
(models/commands.py makes every kind's one union). A module of their own, imported on first use
(`RULES.commands`, or a name imported from the kind's module): checking a plan defines none of them."""

from __future__ import annotations

from typing import Literal

from ..command_fields import CommandBase, Day, Note, PartyName, Reason
from ..command_fields import Key as KeyText


class PartySigning(CommandBase):
    action: Literal["party_signing"] = "party_signing"
    party: PartyName
    date: Day
    signer: PartyName  # who signed for the party (a name: the same bounds as a party's)
    signer_title: PartyName | None = None
    stage: KeyText | None = None
    note: Note | None = None
    correct: bool = False  # replace a recorded signature (with `reason`)
    reason: Reason | None = None


class PartySigningWithdraw(CommandBase):
    """A signature recorded by mistake: the party owes it again (the audit log keeps it)."""

    action: Literal["signing_withdraw"] = "signing_withdraw"
    party: PartyName
    reason: Reason
    stage: KeyText | None = None


COMMANDS = (PartySigning, PartySigningWithdraw)
