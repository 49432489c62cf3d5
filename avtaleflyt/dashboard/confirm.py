"""What a dashboard form recorded, said in bokmål from the command itself (not from the
English `Recorded.message`): ``Registrert: Malvik kommune har vedtatt 13.02.2025: godkjent (saksnr. PS 4/25)``.
"""

from __future__ import annotations

import datetime as dt

from avtaleflyt.models import wording
from avtaleflyt.models.commands import Command

from .errors import FIELDS

LANGUAGE = "nb"


def _value(name: str, value: object) -> str:
    if isinstance(value, dt.date):
        return wording.short_date(value, LANGUAGE)
    text = str(value)
    if name == "outcome":
        for group in ("party_outcome", "forum_outcome"):
            if text in wording.words(group, LANGUAGE):
                return wording.label(group, text, LANGUAGE)
    return text


def _case(c: Command) -> str:
    case_no = getattr(c, "case_no", None)
    return f" (saksnr. {case_no})" if case_no else ""


def _corrected(c: Command) -> str:
    return f"; korrigert ({c.reason})" if getattr(c, "correct", False) else ""


def _stage(c: Command) -> str:
    stage = getattr(c, "stage", None)
    return f" «{stage}»" if stage else ""


# By the command's action (its name, as in the form's URL); a command without a sentence here is said field by field.
SAID = {
    "party_decision": lambda c: f"{c.party} har vedtatt {_value('date', c.date)}: {_value('outcome', c.outcome)}{_case(c)}{_corrected(c)}",
    "party_schedule": lambda c: f"{c.party} behandler saken i møte {_value('meeting', c.meeting)}",
    "party_withdraw": lambda c: f"vedtaket fra {c.party} er trukket tilbake ({c.reason})",
    "forum_decision": lambda c: f"{c.forum} {_value('date', c.date)}: {_value('outcome', c.outcome)}{_case(c)}{_corrected(c)}",
    "forum_withdraw": lambda c: f"vedtaket i {c.forum}{_stage(c)} er trukket tilbake ({c.reason})",
    "hearing_response": lambda c: f"høringssvar fra {c.party} {_value('date', c.date)}",
    "hearing_close": lambda c: f"høringen{_stage(c)} er avsluttet" + (f" ({c.reason})" if c.reason else ""),
    "draft_complete": lambda c: f"utkastet{_stage(c)} er ferdig",
    "information_done": lambda c: f"orienteringen{_stage(c)} er gitt",
}
SKIPPED = {"action", "revision", "self_reported", "correct"}


def said(command: Command) -> str:
    """What `command` records, in bokmål."""
    if (say := SAID.get(command.action)) is not None:
        try:
            return say(command)
        except AttributeError:  # a command whose fields have changed: said field by field
            pass
    fields = command.model_dump(exclude=SKIPPED, exclude_none=True)
    return ", ".join(f"{FIELDS.get(name, name)} {_value(name, value)}" for name, value in fields.items() if value not in ("", False))


def confirmation(command: Command, changed: bool) -> str:
    """``Registrert: …`` for a change; ``Uendret (var allerede registrert): …`` for a repeat."""
    return f"{'Registrert' if changed else 'Uendret (var allerede registrert)'}: {said(command)}"
