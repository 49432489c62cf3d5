"""Which function records which command: the one table every front end goes through
(avtaleflyt.actions.execute, and the resume form in tasks/run_input.py).

Each handler runs inside the caller's transaction and returns what it recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session

from avtaleflyt.models.commands import Command, Refresh

from .followups import HANDLERS as FOLLOWUP_HANDLERS
from .recorder import lock_revision
from .stages import HANDLERS as KIND_HANDLERS
from .stages.base import Recorded

Handler = Callable[[Session, Command, str, dt.date], Recorded]


def _refresh(session: Session, c: Refresh, actor: str, today: dt.date) -> Recorded:
    """Nothing to record: the revision as it is, so the caller can nudge its run."""
    revision = lock_revision(session, c.revision)
    return Recorded(revision.slug, False, "", revision.seq, revision.flow_run_id)


# Each stage kind's commands are recorded by its own module (tasks/stages/<kind>.py).
HANDLERS: dict[type, Handler] = {**KIND_HANDLERS, **FOLLOWUP_HANDLERS, Refresh: _refresh}


def handle(session: Session, command: Command, *, actor: str, today: dt.date) -> Recorded:
    """Record `command` in the caller's transaction (no commit, no nudge)."""
    return HANDLERS[type(command)](session, command, actor, today)
