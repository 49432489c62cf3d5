"""The building blocks of the typed commands: their field types and bounds, and the base
every command shares. The commands themselves belong to their stage kind
(models/stages/<kind>.py); models/commands.py makes them one union."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from .dates import check_year, parse_day
from .limits import LINE_BREAKS, MAX_CASE_NO, MAX_KEY, MAX_MINUTES_TEXT, MAX_NAME, MAX_NOTE, MAX_RESERVATIONS


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
MinutesText = Annotated[str, _text("minutes text", MAX_MINUTES_TEXT, one_line=False)]
Reservations = Annotated[str, _text("reservations", MAX_RESERVATIONS, one_line=False)]


class Upload(BaseModel):
    """A file given with a command: its name (already checked with models/uploads.clean_file_name)
    and its bytes, read by a front end within the installation's size limit. A command takes it
    as an instance only (`InstanceOf[Upload]`): it is never parsed from text or JSON."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    name: str
    content: bytes

    def __repr__(self) -> str:
        return f"Upload({self.name!r}, {len(self.content)} bytes)"


class CommandBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    revision: Slug
