"""The dashboard's words: bokmål from the wording catalogue (models/wording.py).

The coordinators' dashboard is in bokmål; the catalogue holds the nynorsk beside it
for the letters and the parties' calendars.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from avtaleflyt import clock
from avtaleflyt.models import wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.written_dates import format_norwegian_date
from avtaleflyt.tasks.status import Deadline, Progress

LANGUAGE = "nb"

# For the templates: a stage date's name, a hearing answer.
DATE_NAME_NB = wording.words("date_field", LANGUAGE)
HEARING_NB = wording.words("hearing_status", LANGUAGE)


def stage_kind(kind: str) -> str:
    return wording.label("stage_kind", kind, LANGUAGE)


def stage_status(status: str, round_: int = 1) -> str:
    label = wording.label("stage_status", status, LANGUAGE)
    return f"{label} ({wording.word('plan.round', LANGUAGE)} {round_})" if round_ > 1 else label


def revision_status(status: str) -> str:
    return wording.label("revision_status", status, LANGUAGE)


def treatment(status: str | None) -> str | None:
    return wording.label("treatment", status, LANGUAGE) if status else None


def email_status(status: str) -> str:
    return wording.label("email_status", status, LANGUAGE)


def email_event(event: str) -> str:
    return wording.label("email_event", event, LANGUAGE)


def date_field(field: str) -> str:
    return wording.label("date_field", field, LANGUAGE)


def month_label(year: int, month: int) -> str:
    """``nov. 2024``: a timeline column."""
    return wording.short_month_year(year, month, LANGUAGE)


def day_label(day: dt.date) -> str:
    return wording.day_month_year(day, LANGUAGE)


def plan_date(value: PlanDate | str | None) -> str:
    """``27.11.2024`` for a day, ``nov. 2024`` for a month, ``20.06.2024–10.09.2024``, ``10.09.2024?``, ``XX.XX.XX``, ``–`` for none."""
    if not value:
        return "–"
    d = PlanDate.parse_any(value)
    if not d.simple:
        return format_norwegian_date(d)
    return wording.short_date(d, LANGUAGE) if d.exact else month_label(d.year, d.month)


OSLO = ZoneInfo(clock.TZ)


def timestamp(value: dt.datetime, language: str = LANGUAGE, *, zone: bool = False) -> str:
    """``27.11.2024 14:05`` in Oslo's time, whatever the server's zone (``… (norsk tid)`` with `zone`); a naive time is UTC."""
    return wording.moment(value, OSLO, language, zone=zone)


def deadline_what(d: Deadline) -> str:
    """``høring: frist``."""
    return f"{stage_kind(d.kind)}: {date_field(d.date_name)}"


def progress(kind: str, p: Progress) -> str:
    """The same facts as the CLI's progress, in bokmål, from what the facts hold (not from the kind):
    ``venter på utkast``, ``1/3 godkjent (ASU); sendt tilbake: FU``, ``2/3 svar; <why it closed>``."""

    def w(key: str) -> str:
        return wording.word(f"progress.{key}", LANGUAGE)

    if p.waits_for:
        return f"{w('waits_for')} {', '.join(p.waits_for)}"
    if p.done is None or p.of is None:  # nothing counted (a draft): finished when closed; who closed it is in the audit log
        return wording.label("stage_status", "done" if p.note else "active", LANGUAGE)
    count = f"{p.done}/{p.of} {wording.label('progress_done', kind, LANGUAGE)}"
    if p.settled:  # done on its quorum while other forums still decide: ``ferdig (3/4 godkjent: ASU, FU, PSU); gjenstår: SU-SØR``
        parts = [f"{wording.label('stage_status', 'done', LANGUAGE)} ({count}: {', '.join(p.approved)})"]
    else:
        parts = [count + (f" ({', '.join(p.approved)})" if p.approved else "")]
    parts += [f"{w('returned')}: {', '.join(p.returned)}"] if p.returned else []
    parts += [f"{w('postponed')}: {', '.join(p.postponed)}"] if p.postponed else []
    parts += [f"{w('still_to_decide')}: {', '.join(p.still_to_decide)}"] if p.still_to_decide else []
    parts += [p.note] if p.note else []
    return "; ".join(parts)
