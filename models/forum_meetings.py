"""Per-forum meetings (issue 14): a forum stage may give each forum its own meeting date, time
and place under `meetings:`; a forum without an entry meets on the stage's `meeting:`.

Pure: the plan schema of one entry, its check, and each forum's meeting of a stage (a Stage
row or its plan spec). Its notice, calendar entry and moves: tasks/stages/forum_approval.py,
tasks/letter_parts.py, models/shift.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictStr, model_validator

from .dates import PlanDate
from .plan_fields import DateField, PlanProblem, Strict, Title

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)(?:\s*[-–]\s*([01]?\d|2[0-3])[:.]([0-5]\d))?$")


def meeting_time(text: str) -> tuple[dt.time, dt.time | None]:
    """`13:00-15:00` (or `13.00–15.00`, `13:00`) as (start, end); ValueError naming what is wrong."""
    found = _TIME.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a time: write HH:MM or HH:MM-HH:MM, e.g. 13:00-15:00")
    h1, m1, h2, m2 = found.groups()
    start = dt.time(int(h1), int(m1))
    end = dt.time(int(h2), int(m2)) if h2 is not None else None
    if end is not None and end <= start:
        raise ValueError(f"{text!r}: the meeting ends before it starts")
    return start, end


def _time_text(value: Any) -> Any:
    if type(value) is int and 0 <= value < 24 * 60:  # YAML 1.1 reads an unquoted 13:00 as 780 (base 60)
        return f"{value // 60:02d}:{value % 60:02d}"
    return value


def _check_time(value: str) -> str:
    start, end = meeting_time(value)
    return f"{start:%H:%M}" + (f"-{end:%H:%M}" if end else "")


MeetingTime = Annotated[StrictStr, BeforeValidator(_time_text), AfterValidator(_check_time)]


class ForumMeeting(Strict):
    """One forum's own meeting in a forum stage: its date (default: the stage's `meeting:`), time and place."""

    date: DateField | None = None
    time: MeetingTime | None = Field(default=None, description="HH:MM or HH:MM-HH:MM, Norwegian time")
    place: Title | None = None

    @model_validator(mode="before")
    @classmethod
    def _date_alone(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {"date": value}  # `SU-BERGEN: 2022-03-08`


@dataclass(frozen=True)
class Meeting:
    """Where and when one forum meets on a forum stage (`forum_meetings`)."""

    forum: str
    date: PlanDate | None
    time: str | None = None
    place: str | None = None
    own: bool = False  # its date is its own (`meetings:`), not the stage's `meeting:`

    def times(self) -> tuple[dt.time, dt.time | None] | None:
        return meeting_time(self.time) if self.time else None


def forum_meetings(stage: Any) -> dict[str, Meeting]:
    """Each forum's meeting on a forum stage (a Stage row, or its plan spec): its own entry under
    `meetings:`, else the stage's `meeting:`. Pure; a forum with neither has date None."""
    shared = stage.meeting
    shared = PlanDate.parse(shared) if isinstance(shared, str) else shared
    entries = getattr(stage, "meetings", None) or {}
    out = {}
    for forum in stage.forums:
        entry = entries.get(forum)
        if entry is None:
            out[forum] = Meeting(forum, shared)
            continue
        if not isinstance(entry, dict):
            entry = entry.model_dump(mode="json")
        own = entry.get("date")
        out[forum] = Meeting(forum, PlanDate.parse(own) if own else shared, entry.get("time"), entry.get("place"), own=bool(own))
    return out


def meeting_problems(place: str, forums: list[str], meeting: PlanDate | None, meetings: dict[str, ForumMeeting] | None) -> list[PlanProblem]:
    """`meetings:` names only the stage's forums, and every forum has a date (its own or `meeting:`)."""
    if meetings is None:
        return []
    found = [
        PlanProblem(f"{place}.meetings.{forum}", f"{forum!r} is not one of this stage's forums ({', '.join(forums)})")
        for forum in meetings
        if forum not in forums
    ]
    if meeting is None:
        found += [
            PlanProblem(
                f"{place}.meetings.{forum}" + (".date" if forum in meetings else ""),
                f"no meeting date for {forum!r}: give it one under `meetings:` or give the stage a `meeting:`",
            )
            for forum in forums
            if (entry := meetings.get(forum)) is None or entry.date is None
        ]
    return found
