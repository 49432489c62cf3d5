"""iCalendar for deadlines: the attachment on every message that has one (and, later, plan exports)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from avtaleflyt import clock

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//avtaleflyt//samarbeidsavtaler//NO"


OSLO = ZoneInfo("Europe/Oslo")
MEETING_WITHOUT_END = dt.timedelta(hours=1)  # a meeting given only its start


@dataclass(frozen=True)
class At:
    """A meeting's time of day (Norwegian time) and place: a timed event instead of an all-day one."""

    start: dt.time | None = None
    end: dt.time | None = None
    place: str | None = None


def _uid(uid_source: str) -> str:
    return hashlib.sha256(uid_source.encode()).hexdigest()[:32]


def deadline_event(
    uid_source: str, summary: str, day: dt.date, description: str = "", *, stamp: dt.datetime | None = None, at: At | None = None,
) -> Event:
    """An all-day event on `day` with a reminder the morning before; the UID is stable for `uid_source`.
    `at` with a start: from start to end (one hour without an end) in Europe/Oslo; its place as LOCATION."""
    return _event(_uid(uid_source), summary, day, description, stamp=stamp, at=at)


def _event(uid: str, summary: str, day: dt.date, description: str = "", *, stamp: dt.datetime | None = None, at: At | None = None) -> Event:
    from icalendar import Alarm, Event  # here, not at import: ~80 modules a flow-run process needs only for a letter with a date

    event = Event()
    event.add("uid", f"{uid}@avtaleflyt")
    event.add("dtstamp", stamp or clock.utcnow())
    if at is not None and at.start is not None:
        start = dt.datetime.combine(day, at.start, tzinfo=OSLO)
        event.add("dtstart", start)
        event.add("dtend", dt.datetime.combine(day, at.end, tzinfo=OSLO) if at.end else start + MEETING_WITHOUT_END)
        event.add("transp", "OPAQUE")
    else:
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    event.add("summary", summary)
    if at is not None and at.place:
        event.add("location", at.place)
    if description:
        event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", dt.timedelta(hours=-15))
    event.add_component(alarm)
    return event


def calendar(*events: Event, name: str | None = None) -> str:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    if any("TZID" in event["dtstart"].params for event in events):
        cal.add_missing_timezones()  # a VTIMEZONE for Europe/Oslo, so every client reads the times alike
    return cal.to_ical().decode()


def deadline_ics(uid_source: str, summary: str, day: dt.date, description: str = "") -> str:
    return deadlines_ics([(uid_source, summary, day)], description)


def deadlines_ics(entries: Iterable[tuple[str, str, dt.date] | tuple[str, str, dt.date, At | None]], description: str = "") -> str:
    """One calendar with an event per (uid_source, summary, day[, at]): a letter that moves several entries.

    Built with icalendar once per process for each set of (summary, day, at) and description (every
    party of a revision gets the same deadlines), with stand-ins for the UIDs and the stamp, which are
    then written in: the same text icalendar gives for the letter itself."""
    entries = list(entries)
    text = _calendar_for(tuple((e[1], e[2], e[3] if len(e) > 3 else None) for e in entries), description)
    for i, e in enumerate(entries):
        text = text.replace(f"\r\nUID:{_uid_hole(i)}@avtaleflyt\r\n", f"\r\nUID:{_uid(e[0])}@avtaleflyt\r\n", 1)
    return text.replace(f"\r\nDTSTAMP:{_STAMP_HOLE}\r\n", f"\r\nDTSTAMP:{clock.utcnow().astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}\r\n")


_STAMP_HOLE = "19000101T000000Z"


def _uid_hole(i: int) -> str:
    return f"stand-in-uid-{i:019d}"  # 32 characters, as a UID: the same folding


@lru_cache(maxsize=1024)
def _calendar_for(events: tuple[tuple[str, dt.date, At | None], ...], description: str) -> str:
    stamp = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)
    return calendar(*(_event(_uid_hole(i), summary, day, description, stamp=stamp, at=at) for i, (summary, day, at) in enumerate(events)))
