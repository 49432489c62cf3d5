"""What a coordinator (or a party, or Prefect's resume form) records: one typed command each.

Every front end (the CLI, the dashboard's forms, a party's link, the resume form) builds a
plain dict and calls `parse_command`: the same fields, the same bounds, the same errors.
`avtaleflyt.actions.execute` then runs the command through its handler (tasks/handlers.py).
Pure: no I/O, no clock (whether a date lies in the future is the handler's rule, given today).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from .dates import check_year, parse_day
from .enums import ForumOutcome, PartyOutcome
from .errors import DomainError, ErrorCode
from .limits import LINE_BREAKS, MAX_CASE_NO, MAX_KEY, MAX_NAME, MAX_NOTE


def _day(value: object) -> object:
    """A date as typed (`2024-11-27`, `27.11.2024`) or given (a `date`), within the years we accept."""
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("not_a_date", "expected a date, not a time")
    try:
        if isinstance(value, dt.date):
            check_year(value.year, value.isoformat())
            return value
        if isinstance(value, str):
            return parse_day(value)
    except ValueError as exc:
        kind = "year_out_of_range" if "year must be" in str(exc) else "not_a_date"
        raise PydanticCustomError(kind, str(exc)) from None
    raise PydanticCustomError("not_a_date", "expected a date (YYYY-MM-DD or DD.MM.YYYY)")


def _text(what: str, maximum: int, *, one_line: bool) -> Any:
    def check(value: object) -> object:
        if not isinstance(value, str):
            return value
        if len(value) > maximum:
            raise PydanticCustomError("too_long", f"{what}: {len(value)} characters; at most {maximum}", {"length": len(value), "maximum": maximum})
        if one_line and any(c in LINE_BREAKS for c in value):
            raise PydanticCustomError("multi_line", f"{what}: must be on one line")
        return value

    return BeforeValidator(check)


Day = Annotated[dt.date, BeforeValidator(_day)]
Slug = Annotated[str, _text("slug", MAX_KEY, one_line=True)]
Key = Annotated[str, _text("key", MAX_KEY, one_line=True)]
PartyName = Annotated[str, _text("party", MAX_NAME, one_line=True)]
CaseNo = Annotated[str, _text("case number", MAX_CASE_NO, one_line=True)]
Note = Annotated[str, _text("note", MAX_NOTE, one_line=False)]
Reason = Annotated[str, _text("reason", MAX_NOTE, one_line=False)]


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    revision: Slug


class DraftComplete(_Command):
    action: Literal["draft_complete"] = "draft_complete"
    stage: Key | None = None
    note: Note | None = None


class HearingResponse(_Command):
    action: Literal["hearing_response"] = "hearing_response"
    party: PartyName
    date: Day
    stage: Key | None = None
    note: Note | None = None


class HearingClose(_Command):
    action: Literal["hearing_close"] = "hearing_close"
    stage: Key | None = None
    reason: Reason | None = None  # None: the handler says who closed it and when


class ForumDecision(_Command):
    action: Literal["forum_decision"] = "forum_decision"
    forum: Key
    outcome: ForumOutcome
    date: Day
    case_no: CaseNo | None = None
    stage: Key | None = None


class PartySchedule(_Command):
    action: Literal["party_schedule"] = "party_schedule"
    party: PartyName
    meeting: Day


class PartyDecision(_Command):
    action: Literal["party_decision"] = "party_decision"
    party: PartyName
    outcome: PartyOutcome
    date: Day
    case_no: CaseNo | None = None
    # Set only by the party-link route (actions.report_by_link), never parsed from input: see parse_command.
    self_reported: bool = False


class Refresh(_Command):
    """Records nothing: nudges the revision's run (after an outage, say)."""

    action: Literal["refresh"] = "refresh"


Command = Annotated[
    DraftComplete | HearingResponse | HearingClose | ForumDecision | PartySchedule | PartyDecision | Refresh,
    Field(discriminator="action"),
]
COMMANDS: dict[str, type[_Command]] = {
    c.model_fields["action"].default: c for c in (DraftComplete, HearingResponse, HearingClose, ForumDecision, PartySchedule, PartyDecision, Refresh)
}
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
