"""Input from Prefect's resume form (flows/inputs.py RevisionInput): parsed into the same
command as the CLI's and the dashboard's, and recorded through the same handler, inside
the flow's own transaction (the flow nudges nothing: it is the run)."""

from __future__ import annotations

from avtaleflyt.models.commands import Command, Refresh, parse_command
from sqlmodel import Session

from avtaleflyt.clock import today

from .handlers import handle
from .records import Recorded

# The form has one date and one text field for every action: what each means for an action.
_DATE_AS = {"party_schedule": "meeting"}
_NOTE_AS = {"hearing_close": "reason"}


def command_from_input(slug: str, event) -> Command:
    """The command the form's fields describe: a field the action has no use for is refused."""
    data = event.model_dump(exclude_none=True)
    data = {"action": data.pop("action", None), "revision": slug} | data
    if "date" in data:
        data[_DATE_AS.get(data["action"], "date")] = data.pop("date")
    if "note" in data:
        data[_NOTE_AS.get(data["action"], "note")] = data.pop("note")
    return parse_command(data)


def record_input(session: Session, slug: str, event, actor: str) -> Recorded | None:
    """Records `event` in `session`; None for `refresh`. Bad input is refused before `session` is used."""
    command = command_from_input(slug, event)
    if isinstance(command, Refresh):
        return None
    return handle(session, command, actor=actor, today=today())
