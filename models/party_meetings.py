"""Each party's meeting plan (møteplan): when its council or board meets, and how many days
before a meeting the case must be sent for it to be on that meeting's agenda.

Pure: the plan's schema for a meeting, a secretariat's CSV of meetings read row by row,
and the rule that picks, for a stage's deadline, each party's latest meeting in time and
the date the case must be sent by. No files, no database; the clock is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt, model_validator

from .dates import PlanDate
from .limits import MAX_NAME, MAX_PLAN_BYTES
from .plan_fields import Name, Strict
from .written_dates import Years, parse_norwegian_date

if TYPE_CHECKING:  # a meeting table's reader (csv, the Fremdriftsplan's row problems): not needed to check a plan
    from .fremdriftsplan import RowProblem

DEFAULT_CASE_DEADLINE_DAYS = 21
CaseDeadlineDays = Annotated[StrictInt, Field(ge=0, le=365)]


def parse_day(value: object, years: Years | None = None) -> dt.date:
    """A meeting's day: a `date`, ISO `2025-03-13`, or as a secretariat writes it (`13.03.2025`, `13.03.25`,
    `13. mars 2025`). A month, a range or an uncertain date is refused: a meeting is on one day."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a day, not a time")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a day (13.03.2025 or 2025-03-13)")
    date = parse_norwegian_date(value, years)
    if not date.exact:
        raise ValueError(f"{value.strip()!r} is not one day; a meeting needs its day (13.03.2025 or 2025-03-13)")
    return date.first_day


class PartyMeetingSpec(Strict):
    """One meeting of the party's council or board: `2025-03-13`, or `{date, body?, case_deadline_days?}`."""

    date: Annotated[dt.date, BeforeValidator(parse_day)]
    body: Name | None = Field(default=None, description="the meeting body, if not the party's own (formannskap, kommunestyre)")
    case_deadline_days: CaseDeadlineDays | None = Field(default=None, description="days before the meeting the case must be sent; default: the plan's")

    @model_validator(mode="before")
    @classmethod
    def _bare_date(cls, data: Any) -> Any:
        return {"date": data} if isinstance(data, str | dt.date) else data


@dataclass(frozen=True)
class Meeting:
    date: dt.date
    body: str | None
    case_deadline_days: int

    @property
    def send_by(self) -> dt.date:
        """The last day the case can be sent and still reach this meeting."""
        return self.date - dt.timedelta(days=self.case_deadline_days)


@dataclass(frozen=True)
class MeetingInTime:
    """A party's meeting for a stage: `meeting` is the one it will treat the case in (None: none in time).
    `scheduled`: a date set with `party schedule`, which overrides the plan's. `late`: the send-by date has
    passed (today) though the meeting is before the deadline. `flagged`: the coordinators should look."""

    meeting: Meeting | None
    scheduled: bool = False
    late: bool = False
    planned: bool = True  # False: the party has no meeting plan at all (nothing to flag)

    @property
    def flagged(self) -> bool:
        return self.planned and (self.meeting is None or self.late)

    @property
    def send_by(self) -> dt.date | None:
        return self.meeting.send_by if self.meeting and not self.scheduled else None

    def reason(self, deadline: PlanDate) -> str | None:
        if not self.flagged:
            return None
        if self.meeting is None:
            return f"no meeting on or before the deadline {deadline}"
        return f"the case had to be sent by {self.meeting.send_by} for the meeting on {self.meeting.date}"


def meeting_in_time(
    meetings: Iterable[Meeting], deadline: PlanDate, *, scheduled: dt.date | None = None, today: dt.date | None = None
) -> MeetingInTime:
    """The party's latest meeting on or before the deadline (a month deadline: its last day) whose case can still
    be sent (send-by on or after `today`, when given); if every such meeting's send-by has passed, the latest
    of them, `late`. A meeting set with `party schedule` (`scheduled`) overrides the plan's."""
    if scheduled is not None:
        in_time = scheduled <= deadline.last_day
        return MeetingInTime(Meeting(scheduled, None, 0) if in_time else None, scheduled=True)
    meetings = list(meetings)
    if not meetings:
        return MeetingInTime(None, planned=False)
    before = sorted((m for m in meetings if m.date <= deadline.last_day), key=lambda m: (m.date, m.send_by))
    if not before:
        return MeetingInTime(None)
    reachable = [m for m in before if today is None or m.send_by >= today]
    if reachable:
        return MeetingInTime(reachable[-1])
    return MeetingInTime(before[-1], late=True)


def plan_meetings(party: Any, default_days: int) -> list[Meeting]:
    """A plan party's meetings (`PartySpec.meetings`), each with its days before (or the plan's default)."""
    return [Meeting(m.date, m.body, m.case_deadline_days if m.case_deadline_days is not None else default_days) for m in party.meetings or ()]


def plan_warnings(plan: Any) -> list:
    """`plan check`'s warnings: a party with a meeting plan and no meeting on or before a political stage's deadline."""
    from .plan_fields import PlanProblem
    from .stages import rules_for

    warnings = []
    for i, stage in enumerate(plan.stages):
        deadline = getattr(stage, "deadline", None)
        if not rules_for(stage.kind).party_decision or deadline is None:
            continue
        for j, party in enumerate(plan.parties):
            found = meeting_in_time(plan_meetings(party, plan.case_deadline_days), deadline)
            if found.flagged:
                warnings.append(PlanProblem(
                    f"parties[{j}].meetings",
                    f"{party.name}: no meeting on or before stage {stage.key!r}'s deadline {deadline}; its last planned meeting is "
                    f"{max(m.date for m in party.meetings)}",
                ))
            elif found.meeting and found.meeting.send_by < _first_day(plan, i):
                warnings.append(PlanProblem(
                    f"parties[{j}].meetings",
                    f"{party.name}: the case must be sent by {found.meeting.send_by} for its meeting on {found.meeting.date}, "
                    f"before stage {stage.key!r} can start",
                ))
    return warnings


def _first_day(plan: Any, index: int) -> dt.date:
    """The earliest date given to the stage before this one (or the first day of time when none is)."""
    if index == 0:
        return dt.date.min
    before = plan.stages[index - 1]
    dates = [v.last_day for f in ("deadline", "due", "meeting") if isinstance(v := getattr(before, f, None), PlanDate) and v.is_set]
    return max(dates, default=dt.date.min)


# --- a secretariat's CSV ---------------------------------------------------------------------

_COLUMNS = {
    "date": ("dato", "møtedato", "motedato", "møte", "date", "meeting", "meeting date"),
    "body": ("organ", "utvalg", "utval", "body", "møteorgan"),
    "days": ("frist", "dager", "dagar", "dager før", "dagar før", "saksfrist", "frist (dager før)", "days", "days before", "case_deadline_days", "case deadline days"),
    "party": ("part", "parti", "kommune", "party"),
}
_NAMES = {name: field for field, names in _COLUMNS.items() for name in names}


@dataclass(frozen=True)
class MeetingRow:
    row: int
    date: dt.date
    body: str | None
    case_deadline_days: int | None
    party: str | None = None


class MeetingsInvalid(ValueError):
    """Every problem of a meetings CSV, each with its row: nothing is imported."""

    def __init__(self, problems: Sequence[RowProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in problems))


def read_meetings_csv(data: str | bytes, years: Years | None = None) -> list[MeetingRow]:
    """The meetings of a CSV as a secretariat types it: `;` or `,` (or tab) between cells, a header row naming
    the columns in Norwegian or English (Dato/Date; Organ/Body; Frist/Days: days before the meeting the case
    must be sent; Part/Party). Dates as `13.03.2025`, `13.03.25` or `2025-03-13`. Every row is read; any row
    refused raises `MeetingsInvalid` with every problem (row number as a spreadsheet counts, header = 1)."""
    import csv
    import io

    from .fremdriftsplan import RowProblem

    if len(data) > MAX_PLAN_BYTES:
        raise MeetingsInvalid([RowProblem(1, "(file)", f"{len(data)} bytes; at most {MAX_PLAN_BYTES} (1 MiB)")])
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MeetingsInvalid([RowProblem(1, "(file)", f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8")]) from None
    text = data.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", "\t", ","), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: list[str | None] | None = None
    rows, problems = [], []
    while True:
        number = reader.line_num + 1
        try:
            cells = [c.strip() for c in next(reader)]
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(number, "(row)", f"not readable as CSV: {exc}"))
            break
        if not any(cells):
            continue
        if columns is None:
            columns = [_NAMES.get(" ".join(c.casefold().split())) for c in cells]
            if "date" not in columns:
                raise MeetingsInvalid([RowProblem(number, "(header)", "no date column: name it Dato or Date (and Organ/Body, Frist/Days, Part/Party)")])
            if unknown := [c for c, f in zip(cells, columns) if f is None and c]:
                raise MeetingsInvalid([RowProblem(number, "(header)", f"unknown column {unknown[0]!r}; known: Dato/Date, Organ/Body, Frist/Days, Part/Party")])
            continue
        values = {f: cells[i] for i, f in enumerate(columns) if f and i < len(cells)}
        if len(cells) > len(columns) and any(cells[len(columns):]):
            problems.append(RowProblem(number, "(row)", f"{len(cells)} cells; the header names {len(columns)}"))
            continue
        problems += _row(number, values, years, rows)
    if columns is None:
        raise MeetingsInvalid([RowProblem(1, "(file)", "empty: no header row and no meetings")])
    if problems:
        raise MeetingsInvalid(problems)
    if not rows:
        raise MeetingsInvalid([RowProblem(2, "(file)", "no meetings below the header")])
    return rows


def _row(number: int, values: dict[str, str], years: Years | None, rows: list[MeetingRow]) -> list[RowProblem]:
    from .fremdriftsplan import RowProblem

    problems = []
    try:
        date = parse_day(values.get("date", ""), years)
    except ValueError as exc:
        problems.append(RowProblem(number, "date", str(exc)))
    days = None
    if text := values.get("days", ""):
        digits = text.casefold().removesuffix("dager").removesuffix("dagar").removesuffix("days").strip()
        if not digits.isdigit() or not 0 <= int(digits) <= 365:
            problems.append(RowProblem(number, "days", f"{text!r} is not a number of days (0-365) before the meeting"))
        else:
            days = int(digits)
    for field in ("body", "party"):
        if len(values.get(field, "")) > MAX_NAME:
            problems.append(RowProblem(number, field, f"{len(values[field])} characters; at most {MAX_NAME}"))
    if not problems:
        rows.append(MeetingRow(number, date, values.get("body") or None, days, values.get("party") or None))
    return problems
