"""The revision page's timeline by body and month (also in /api/): the plan's milestones and
the stages' dates, each in the row of the body that acts on it.
"""

from __future__ import annotations

import datetime as dt

from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import Milestone
from avtaleflyt.models.written_dates import shown_date

from . import labels
from .model import StageOut, Timeline, TimelineCell, TimelineItem, TimelineMonth, TimelineRow

# The rows of the timeline, as in the status document: the track first, then the plan's own forums
# and the other bodies its milestones name, the parties' political treatment last.
TRACK_ROW = "Utkast og høring"
POLITICAL_ROW = "Politisk behandling"


def _kind_row(kind: str) -> str:
    """A stage without forums goes in its kind's row: the parties' decisions in their own, the rest in the track."""
    return POLITICAL_ROW if rules_for(kind).party_decision else TRACK_ROW


def _fold(text: str) -> str:
    return text.strip().lower().replace("å", "a")


def forum_rows(forum_names: dict[str, str]) -> dict[str, str]:
    """Each forum's row: its key when the key is a short word, as the status documents write a
    body (AU, ASU, Fagråd), else its name (SU-BERGEN is 'Samarbeidsutvalet Bergen')."""
    return {
        key: (key[:1].upper() + key[1:]) if key.isalpha() and len(key) <= 6 else (name or key)
        for key, name in forum_names.items()
    }


def _body(name: str | None, rows: dict[str, str], forum_names: dict[str, str]) -> str | None:
    """The row of the plan's forum that ``name`` (a milestone's responsible) names, by key, name or row."""
    if not name:
        return None
    wanted = _fold(name)
    for key, row in rows.items():
        if wanted in (_fold(key), _fold(row), _fold(forum_names.get(key) or key)):
            return row
    return None


def _milestone_row(m: Milestone, rows: dict[str, str], forum_names: dict[str, str]) -> str:
    body = _body(m.responsible, rows, forum_names)
    if body:
        return body
    text = f"{m.what} {m.about or ''}".lower()
    if "politisk" in text:
        return POLITICAL_ROW
    if "høring" in text or "utkast" in text:
        return TRACK_ROW
    return (m.responsible or "Annet").strip()


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, (y, mo) = [], first
    while (y, mo) <= last:
        out.append((y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def timeline(stages: list[StageOut], milestones: list[Milestone], forum_names: dict[str, str], today: dt.date) -> Timeline:
    """``forum_names``: the plan's forums, key to name, in the plan's order; each has a row."""
    own = forum_rows(forum_names)
    placed: list[tuple[str, PlanDate, TimelineItem]] = []
    spans: list[tuple[str, PlanDate, PlanDate, str]] = []
    for m in milestones:
        try:
            when = PlanDate.parse_any(m.date)
        except ValueError:
            continue
        if not when.is_set:
            continue  # XX.XX.XX: in no month
        label = m.what if when.simple and not m.written else f"{m.what} ({shown_date(when, m.written)})"
        placed.append((
            _milestone_row(m, own, forum_names),
            when,
            TimelineItem(date=when, day=when.day if when.simple else None, label=label, detail=m.about, source="milestone", past=when.last_day < today),
        ))
    for s in stages:
        for name, when in s.dates.items():
            exact = when.as_date()
            late = s.status == "active" and name != "opens" and exact is not None and exact < today
            item = TimelineItem(
                date=when, day=when.day, label=f"{s.key}: {labels.date_field(name)}", detail=(s.title or None),
                source="stage", stage=s.key, status=s.status, late=late, past=when.last_day < today,
            )
            rows = [own.get(f, f) for f in s.forums] or [_kind_row(s.kind)]
            placed += [(row, when, item) for row in rows]
        for m in s.meetings:  # forums meeting on their own days: each in its own row, on its own day
            late = s.status == "active" and m.date.as_date() is not None and m.date.as_date() < today
            item = TimelineItem(
                date=m.date, day=m.date.day, label=f"{s.key}: {labels.date_field('meeting')} {m.name}", detail=(s.title or None),
                source="stage", stage=s.key, status=s.status, late=late, past=m.date.last_day < today,
            )
            placed.append((own.get(m.forum, m.name), m.date, item))
        if not s.forums and "opens" in s.dates and "deadline" in s.dates:  # a hearing: open from its opening to its deadline
            spans.append((_kind_row(s.kind), s.dates["opens"], s.dates["deadline"], s.key))

    if not placed:
        return Timeline(today=today, months=[], rows=[], today_in_span=False)
    first = min((d.year, d.month) for _, d, _ in placed)
    last = max((d.year, d.month) for _, d, _ in placed)
    months = _months(first, last)
    current = (today.year, today.month)
    bodies = [TRACK_ROW, *dict.fromkeys(own.values())]
    extra = sorted({row for row, _, _ in placed} - set(bodies) - {POLITICAL_ROW})
    row_names = [*bodies, *extra, POLITICAL_ROW]
    cells: dict[str, dict[tuple[int, int], TimelineCell]] = {
        r: {ym: TimelineCell(month=f"{ym[0]:04d}-{ym[1]:02d}") for ym in months} for r in row_names
    }
    for row, when, item in sorted(placed, key=lambda x: (x[1].year, x[1].month, x[1].day or 0, x[2].source != "stage")):
        cells[row][(when.year, when.month)].items.append(item)
    for row, start, end, key in spans:
        for ym in _months((start.year, start.month), (end.year, end.month)):
            if ym in cells[row]:
                cells[row][ym].spans.append(key)
    return Timeline(
        today=today,
        months=[TimelineMonth(key=f"{y:04d}-{mo:02d}", label=labels.month_label(y, mo), current=(y, mo) == current) for y, mo in months],
        rows=[TimelineRow(body=r, cells=list(cells[r].values())) for r in row_names],
        today_in_span=first <= current <= last,
    )
