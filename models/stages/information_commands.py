"""The recordings of an information item stage (models/stages/information.py): one typed command each
(models/commands.py makes every kind's one union). A module of their own, imported on first use
(`RULES.commands`, or a name imported from the kind's module): checking a plan defines none of them."""

from __future__ import annotations

from typing import Literal

from ..command_fields import CommandBase, Note
from ..command_fields import Key as KeyText


class InformationDone(CommandBase):
    """A coordinator marks an information item done before its date (it was presented)."""

    action: Literal["information_done"] = "information_done"
    stage: KeyText | None = None
    note: Note | None = None


COMMANDS = (InformationDone,)
