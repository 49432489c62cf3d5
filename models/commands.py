"""What a coordinator (or a party, or Prefect's resume form) records: one typed command each.

Every front end (the CLI, the dashboard's forms, a party's link, the resume form) builds a
plain dict and calls `parse_command`: the same fields, the same bounds, the same errors.
`avtaleflyt.actions.execute` then runs the command through its handler (tasks/handlers.py).
Pure: no I/O, no clock (whether a date lies in the future is the handler's rule, given today).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError

from .command_fields import CommandBase
from .errors import DomainError, ErrorCode
from .followups import COMMANDS as FOLLOWUP_COMMANDS
from .stages import KINDS
from .stages.draft_commands import DraftComplete
from .stages.forum_approval_commands import ForumDecision
from .stages.hearing_commands import HearingClose, HearingResponse
from .stages.political_treatment_commands import PartyDecision, PartySchedule

__all__ = ["COMMANDS", "Command", "DraftComplete", "ForumDecision", "HearingClose", "HearingResponse", "PartyDecision", "PartySchedule", "Refresh", "parse_command"]


class Refresh(CommandBase):
    """Records nothing: nudges the revision's run (after an outage, say)."""

    action: Literal["refresh"] = "refresh"


# Each stage kind brings its own commands (models/stages/<kind>_commands.py, `StageRules.commands`).
_ALL: tuple[type[CommandBase], ...] = (*(c for rules in KINDS.values() for c in rules.commands), *FOLLOWUP_COMMANDS, Refresh)
Command = Annotated[Union[_ALL], Field(discriminator="action")]  # noqa: UP007
COMMANDS: dict[str, type[CommandBase]] = {c.model_fields["action"].default: c for c in _ALL}
ACTIONS = tuple(COMMANDS)
#: Fields no front end may set from what a user typed.
TRUSTED_ONLY = frozenset({"self_reported"})

_ADAPTER: TypeAdapter = TypeAdapter(Command)


def input_fields(action: str) -> list[str]:
    """The fields a user gives for `action` (not `action`, `revision` or the trusted ones)."""
    return [name for name in COMMANDS[action].model_fields if name not in {"action", "revision"} | TRUSTED_ONLY]


def _clean(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def parse_command(data: dict) -> Command:
    """The command `data` describes, or a DomainError (code required, invalid_value or too_long)
    naming the first field that is wrong. Text is stripped; an empty text counts as not given."""
    values = {k: v for k, v in ((k, _clean(v)) for k, v in data.items()) if v is not None}
    for name in TRUSTED_ONLY & values.keys():
        raise DomainError(f"{name}: not accepted from input", code=ErrorCode.invalid_value, field=name, problem="not_allowed", value="")
    if "action" not in values:
        raise DomainError("action: required", code=ErrorCode.required, field="action")
    try:
        return _ADAPTER.validate_python(values)
    except ValidationError as exc:
        raise _domain_error(exc, values) from None


def _domain_error(exc: ValidationError, values: dict) -> DomainError:
    error = exc.errors(include_url=False)[0]
    # loc is (action, field, ...) inside a discriminated union, or (field,) when the action is unknown
    loc = [str(part) for part in error["loc"]]
    field = loc[1] if len(loc) > 1 and loc[0] in COMMANDS else loc[0] if loc else None
    kind, ctx = error["type"], error.get("ctx") or {}
    given = values.get(field) if field else None
    shown = "" if given is None else str(given)[:60]
    if kind == "missing":
        return DomainError(f"{field}: required for {values.get('action')}", code=ErrorCode.required, field=field)
    if kind == "too_long":
        return DomainError(f"{field}: {error['msg']}", code=ErrorCode.too_long, field=field, length=ctx.get("length"), maximum=ctx.get("maximum"))
    if kind == "union_tag_invalid":
        field, shown = "action", str(values.get("action"))[:60]
        return DomainError(f"action: unknown {shown!r}; one of {', '.join(ACTIONS)}", code=ErrorCode.invalid_value, field=field,
                           problem="choice", value=shown, allowed=list(ACTIONS))
    problem = {"not_a_date": "not_a_date", "year_out_of_range": "year_out_of_range", "multi_line": "multi_line",
               "extra_forbidden": "not_allowed", "enum": "choice", "literal_error": "choice"}.get(kind, "other")
    params: dict[str, Any] = {"problem": problem, "value": shown}
    if kind == "enum":
        params["allowed"] = [v.strip("'") for v in str(ctx.get("expected", "")).replace(" or ", ", ").split(", ") if v]
    message = {"extra_forbidden": f"not a field of {values.get('action')}"}.get(kind, error["msg"])
    return DomainError(f"{field}: {message}", code=ErrorCode.invalid_value, field=field, **params)
