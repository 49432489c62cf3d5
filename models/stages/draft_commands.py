"""The recordings of a draft stage (models/stages/draft.py): one typed command each
(models/commands.py makes every kind's one union). A module of their own, imported on first use
(`RULES.commands`, or a name imported from the kind's module): checking a plan defines none of them."""

from __future__ import annotations

from typing import Literal

from ..command_fields import CommandBase, Key, Note


class DraftComplete(CommandBase):
    action: Literal["draft_complete"] = "draft_complete"
    stage: Key | None = None
    note: Note | None = None


COMMANDS = (DraftComplete,)
