"""iCalendar for deadlines: the attachment on every message that has one (and, later, plan exports)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from icalendar import Alarm, Calendar, Event

from avtaleflyt import clock

PRODID = "-//avtaleflyt//samarbeidsavtaler//NO"


def deadline_event(uid_source: str, summary: str, day: dt.date, description: str = "", *, stamp: dt.datetime | None = None) -> Event:
    """An all-day event on `day` with a reminder the morning before; the UID is stable for `uid_source`."""
    event = Event()
    event.add("uid", f"{hashlib.sha256(uid_source.encode()).hexdigest()[:32]}@avtaleflyt")
    event.add("dtstamp", stamp or clock.utcnow())
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    if description:
        event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", dt.timedelta(hours=-15))
    event.add_component(alarm)
    return event


def calendar(*events: Event, name: str | None = None) -> str:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    return cal.to_ical().decode()


def deadline_ics(uid_source: str, summary: str, day: dt.date, description: str = "") -> str:
    return calendar(deadline_event(uid_source, summary, day, description))


def deadlines_ics(entries: Iterable[tuple[str, str, dt.date]], description: str = "") -> str:
    """One calendar with an event per (uid_source, summary, day): a letter that moves several entries."""
    stamp = clock.utcnow()
    return calendar(*(deadline_event(uid, summary, day, description, stamp=stamp) for uid, summary, day in entries))
