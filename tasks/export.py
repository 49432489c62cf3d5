"""The plan in force, exported: an iCalendar feed, the printable Fremdriftsplan (HTML), a CSV.

Reads the revision's stages and milestones from the domain database (kept current
by `plan shift`), never the plan file.

What a feed holds:
- the revision's feed: every exact date of the plan — each stage's dates (draft due,
  hearing opens and deadline, forum meeting, political deadline) and every milestone
  with a day. Month-only dates are left out: a calendar needs a day.
- a party's feed: only what the party itself must act on — each hearing's opening and
  deadline, the political deadline, and its own council's or board's meeting once
  scheduled. Forum meetings and milestones are left out: the forums' members are not
  the parties, and a municipality's calendar should not fill with other bodies' meetings.
  Dates before the party joined or after it left are left out too.

A UID is keyed on what the event is (revision, stage and field; a milestone's part,
Hva and which occurrence of that Hva it is), never on its date, so a subscribed
calendar moves the event when the plan moves instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from icalendar import Calendar, Event, vDuration
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session, col, select

import avtaleflyt.templates
from avtaleflyt import clock
from avtaleflyt.models import rules, wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import Language
from avtaleflyt.models.stages import KINDS
from avtaleflyt.models.fremdriftsplan import MilestoneRow, plan_parts, write_milestones_csv
from avtaleflyt.models.written_dates import shown_date
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.forum_meetings import forum_meetings, meeting_time
from avtaleflyt.models.tables import Forum, Milestone, Party, PartyObligation, Revision, Stage
from avtaleflyt.models.titles import title_in

from .calendar import PRODID, At, deadline_event

PAGES_DIR = Path(avtaleflyt.templates.__file__).parent / "pages"
FEED_REFRESH = dt.timedelta(hours=6)  # how often a subscribed calendar should fetch again

_DATE_FIELDS = ("opens", "due", "meeting", "deadline")
_DEADLINE_FIELDS = ("due", "deadline")
_PARTY_FIELDS = {(kind, f) for kind, r in KINDS.items() for f in r.party_dates}


# --- reading the plan in force ---------------------------------------------------------


def _revision(session: Session, slug: str) -> Revision:
    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        known = session.exec(select(Revision.slug).order_by(Revision.slug)).all()
        hint = f"; known: {', '.join(known)}" if known else "; no revision has been started"
        raise DomainError(f"SLUG: no revision {slug!r}{hint}", code=rules.ErrorCode.no_revision, field="revision", slug=slug)
    return revision


def _party(session: Session, revision: Revision, name: str | None, party_id: int | None) -> Party | None:
    if party_id is not None:
        party = session.get(Party, party_id)
        if party is None or party.revision_id != revision.id:
            raise DomainError(f"party {party_id} is not a party of {revision.slug!r}", code=rules.ErrorCode.no_party, field="party", party=str(party_id), near=[])
        return party
    if name is not None:
        return rules.find_party(session.exec(select(Party).where(Party.revision_id == revision.id)).all(), name)
    return None


def _stages(session: Session, revision: Revision) -> list[Stage]:
    return list(session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all())


def _milestones(session: Session, revision: Revision) -> list[Milestone]:
    """In the plan's own order (as stored), which the CSV keeps."""
    return list(session.exec(select(Milestone).where(Milestone.revision_id == revision.id).order_by(col(Milestone.id))).all())


def _row(m: Milestone, language: Language | None = None) -> MilestoneRow:
    """`language`: its title in that language (the Fremdriftsplan's); None: as stored (the CSV that `plan import` reads back)."""
    what = title_in(language, m.what, m.what_nn) if language else m.what
    return MilestoneRow(PlanDate.parse_any(m.date), what, m.about, m.responsible, m.part, m.written)


def _stage_dates(stage: Stage) -> list[tuple[str, PlanDate]]:
    return [(f, PlanDate.parse(v)) for f in _DATE_FIELDS if (v := getattr(stage, f))]


def _stage_label(stage: Stage, field: str, language: Language, forums: list[str] | tuple[str, ...] = ()) -> str:
    """`forums`: the names of the forums meeting on it (the plan's names, not its keys)."""
    return wording.stage_date_label(stage.kind, field, language, forums)


@dataclass(frozen=True)
class _Dated:
    """One date of a stage; a forum stage's meeting: one per day (and time and place) its forums meet on."""

    field: str
    when: PlanDate
    forums: tuple[str, ...]  # keys: the forums meeting on it (the stage's, for its other dates)
    uid: str  # what the event is: the field, and a forum's own meeting's forums
    time: str | None = None
    place: str | None = None


def _dated(stage: Stage) -> list[_Dated]:
    out = [_Dated(f, when, tuple(stage.forums), f) for f, when in _stage_dates(stage) if f != "meeting" or not stage.meetings]
    if stage.meetings:  # per-forum meetings (models/forum_meetings.py)
        groups: dict[tuple, list[str]] = {}
        for forum, m in forum_meetings(stage).items():
            if m.date is not None:
                groups.setdefault((m.date, m.time, m.place, m.own), []).append(forum)
        for (when, time, place, own), forums in groups.items():
            out.append(_Dated("meeting", when, tuple(forums), "meeting/" + "+".join(forums) if own or time or place else "meeting", time, place))
    return out


def _forum_names(session: Session, revision: Revision) -> dict[str, str]:
    return {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == revision.id))}


def _names(d: _Dated, names: dict[str, str]) -> list[str]:
    return [names.get(f, f) for f in d.forums]


def _at(d: _Dated) -> At | None:
    start, end = meeting_time(d.time) if d.time else (None, None)
    return At(start, end, d.place) if d.time or d.place else None


# --- iCalendar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _PlanEvent:
    day: dt.date
    uid_source: str
    summary: str
    description: str
    alarm: bool  # only deadlines remind; a subscribed plan full of alarms gets unsubscribed
    category: str | None = None
    at: At | None = None  # a forum meeting's time and place


def _stage_events(
    stages: list[Stage], scope: str, language: Language, about: str, wanted: Callable[[Stage, str], bool], names: dict[str, str] | None = None,
) -> list[_PlanEvent]:
    """An event for each exact date of the stages that `wanted` keeps; `names`: the forums' names by key."""
    return [
        _PlanEvent(
            d.when.first_day, f"{scope}/{stage.key}/{d.uid}",
            f"{_stage_label(stage, d.field, language, _names(d, names or {}))}: {title_in(language, stage.title, stage.title_nn) or stage.key}", about, d.field in _DEADLINE_FIELDS,
            at=_at(d),
        )
        for stage in stages
        for d in _dated(stage)
        if d.when.exact and wanted(stage, d.field)
    ]


def _revision_events(revision: Revision, stages: list[Stage], milestones: list[Milestone], names: dict[str, str]) -> list[_PlanEvent]:
    about = f"{revision.title} ({revision.helsefellesskap})"
    events = _stage_events(stages, f"{revision.slug}/stage", revision.language, about, lambda stage, field: True, names)
    occurrence: Counter[tuple[str | None, str]] = Counter()
    for m in milestones:
        occurrence[(m.part, m.what)] += 1
        when = PlanDate.parse_any(m.date)
        if not when.exact:  # a range, a month, '?' or not set: no calendar entry
            continue
        details = [f"Om: {m.about}" if m.about else "", f"Ansvar: {m.responsible}" if m.responsible else "", f"Del: {m.part}" if m.part else "", about]
        events.append(
            _PlanEvent(
                when.first_day, f"{revision.slug}/milestone/{m.part or ''}/{m.what}/{occurrence[(m.part, m.what)]}",
                title_in(revision.language, m.what, m.what_nn), "\n".join(d for d in details if d), False, m.part,
            )
        )
    return events


def _party_events(session: Session, revision: Revision, party: Party, stages: list[Stage]) -> list[_PlanEvent]:
    title = title_in(party.language, revision.title, revision.title_nn)  # the party's feed is in its language
    about = f"{title} ({revision.helsefellesskap})"
    scope = f"{revision.slug}/party/{party.id}"
    events = _stage_events(stages, f"{scope}/stage", party.language, about, lambda stage, field: (stage.kind, field) in _PARTY_FIELDS)
    meetings = session.exec(
        select(PartyObligation.meeting_date)
        .join(Stage, col(PartyObligation.stage_id) == col(Stage.id))
        .where(Stage.revision_id == revision.id, PartyObligation.party_id == party.id, col(PartyObligation.meeting_date).is_not(None))
    ).all()
    for meeting in meetings:
        summary = wording.council_meeting_title(party.language, party.body, title)
        events.append(_PlanEvent(meeting, f"{scope}/council-meeting", summary, about, True))
    return [e for e in events if (party.joined_on is None or e.day >= party.joined_on) and (party.left_on is None or e.day <= party.left_on)]


def _ical_event(e: _PlanEvent, stamp: dt.datetime) -> Event:
    event = deadline_event(e.uid_source, e.summary, e.day, e.description, stamp=stamp, at=e.at)
    if not e.alarm:
        event.subcomponents.clear()  # deadline_event's only subcomponent is its alarm
    if e.category:
        event.add("categories", [e.category])
    return event


def plan_ics(session: Session, slug: str, party_name: str | None = None, *, party_id: int | None = None, stamp: dt.datetime | None = None) -> str:
    """The revision's calendar, or one party's (by name or organisation number, or by id): see the module's docstring."""
    revision = _revision(session, slug)
    party = _party(session, revision, party_name, party_id)
    stages = _stages(session, revision)
    if party is None:
        events = _revision_events(revision, stages, _milestones(session, revision), _forum_names(session, revision))
        name = f"Fremdriftsplan — {revision.title}"
    else:
        events = _party_events(session, revision, party, stages)
        name = f"{title_in(party.language, revision.title, revision.title_nn)} — {party.name}"
    stamp = stamp or clock.utcnow()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", revision.helsefellesskap)
    cal.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(FEED_REFRESH))
    for e in sorted(events, key=lambda e: e.day):  # stable: on one day, stages before milestones
        cal.add_component(_ical_event(e, stamp))
    if any(e.at is not None and e.at.start is not None for e in events):
        cal.add_missing_timezones()  # Europe/Oslo for a timed forum meeting
    return cal.to_ical().decode()


# --- the printable Fremdriftsplan ------------------------------------------------------------


def _milestone_date(row: MilestoneRow, language: Language) -> str:
    """As written ("Nov./des.", "27. juni"), else a day or month in words, else the Norwegian form ("20.06.2024–10.09.2024")."""
    return norwegian_date(row.date, language) if row.written is None and row.date.simple else shown_date(row.date, row.written)


def norwegian_date(value: PlanDate, language: Language = Language.nb) -> str:
    """`27.11.2024` for a day, `november 2024` for a month."""
    return wording.short_date(value, language)


@dataclass(frozen=True)
class TableRow:
    when: str
    what: str
    about: str
    responsible: str


@dataclass(frozen=True)
class Page:
    heading: str
    rows: list[TableRow]


def _stage_rows(revision: Revision, stages: list[Stage], names: dict[str, str]) -> list[TableRow]:
    """The stages' dates; a forum's by its name (`names`), each forum's own meeting on its own row."""
    secretariat = revision.coordinators[0]["name"] if revision.coordinators else ""
    parties = wording.word("plan.the_parties", revision.language)
    dated = []
    for stage in stages:
        for d in _dated(stage):
            field, when, forums = d.field, d.when, _names(d, names)
            if forums:
                responsible = ", ".join(forums)
            elif field == "deadline":
                responsible = parties
            elif field == "opens":
                responsible = secretariat  # it sends the invitations
            else:
                responsible = ""  # who drafts is not in the plan
            shown = norwegian_date(when, revision.language) + (f" kl. {d.time.replace('-', '–')}" if d.time else "")
            about = (stage.title or stage.key) + (f" ({d.place})" if d.place else "")
            dated.append((when, TableRow(shown, _stage_label(stage, field, revision.language, forums), about, responsible)))
    return [row for _, row in sorted(dated, key=lambda d: d[0])]


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(PAGES_DIR)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def plan_pages(session: Session, slug: str) -> tuple[Revision, list[Page]]:
    """One page per plan part (the main part first), then a page with the stages' dates."""
    revision = _revision(session, slug)
    title = f"Fremdriftsplan — {revision.title}"
    pages = [
        Page(
            title if part.part is None else f"{title} — {part.title}",
            [TableRow(_milestone_date(m, revision.language), m.what, m.about or "", m.responsible or "") for m in part.milestones],
        )
        for part in plan_parts([_row(m, revision.language) for m in _milestones(session, revision)], revision.title)
    ]
    pages.append(Page(f"{title} — Trinn og frister", _stage_rows(revision, _stages(session, revision), _forum_names(session, revision))))
    return revision, pages


def plan_html(session: Session, slug: str, *, today: dt.date | None = None) -> str:
    """The Fremdriftsplan as a printable HTML document (`templates/pages/fremdriftsplan.html`)."""
    revision, pages = plan_pages(session, slug)
    today = today or clock.today()
    return _environment().get_template("fremdriftsplan.html").render(
        revision=revision, pages=pages, printed=norwegian_date(PlanDate(today.year, today.month, today.day))
    )


# --- CSV ---------------------------------------------------------------------------------------


def plan_csv(session: Session, slug: str) -> str:
    """The milestones as `Når;Hva;Om;Ansvar;Del` (what `plan import` reads back)."""
    revision = _revision(session, slug)
    return write_milestones_csv([_row(m) for m in _milestones(session, revision)])
