"""The parts every letter is made of: who it is to, the revision and party it is about,
its documents, its party link, and the outbox row it becomes (with its calendar
attachment). Used by tasks/compose.py and by each stage kind's letters (tasks/stages/).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import Session

from avtaleflyt import clock
from avtaleflyt.models import letters as lt
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import EmailEvent, Language
from avtaleflyt.models.forum_meetings import Meeting
from avtaleflyt.models.tables import Document, DocumentVersion, OutboxMessage, Party, Revision, Stage
from avtaleflyt.models.titles import Bilingual, in_language, title_in

from . import links
from .calendar import At, deadlines_ics


@dataclass(frozen=True)
class CalendarEntry:
    """One event of a letter's calendar attachment, under the UID of the letter that first put it there."""

    stage_key: str | None
    day: dt.date
    title: str
    first_event: EmailEvent
    at: At | None = None  # a forum meeting's time and place


def contact(revision: Revision) -> lt.Contact:
    """Who signs the letters and answers the parties: the plan's `contact`, else its first coordinator."""
    person = revision.contact or revision.coordinators[0]
    return lt.Contact(person["name"], person["email"], person.get("title"), person.get("phone"))


def revision_ref(revision: Revision) -> lt.RevisionRef:
    person = contact(revision)
    return lt.RevisionRef(Bilingual(revision.title, revision.title_nn), revision.helsefellesskap, revision.slug, person.name, person.email, person, revision.reference)


def party_ref(party: Party) -> lt.PartyRef:
    return lt.PartyRef(party.name, party.body, party.email, party.kind)


def report_url(session: Session, revision: Revision, party: Party, source_key: str) -> str:
    """The party's own link to report its decision (see tasks/links.py)."""
    from avtaleflyt.settings import get_settings

    settings = get_settings()
    # In a batch of letters (links.batch: the sweep, a start) its key, not the key file's path resolved per letter.
    secret = links.batch_secret(session) or settings.signing_key()
    token = links.for_letter(session, secret, revision, party, source_key=source_key, now=clock.utcnow(), valid_days=settings.link_valid_days)
    return f"{settings.public_url.rstrip('/')}/p/{token}"


def title(stage: Stage) -> str:
    """The stage's title (or key); a letter writes it in its reader's language (`message`)."""
    return Bilingual(stage.title or stage.key, stage.title_nn)


def forum_meeting_title(forum_key: str, stage: Stage) -> str:
    """The title of a forum's calendar entry for a stage's meeting: the notice and a moved meeting share it."""
    return Bilingual(f"{forum_key}: {title(stage)}", f"{forum_key}: {stage.title_nn}" if stage.title_nn else None)


def meeting_at(meeting: Meeting | None) -> At | None:
    """A forum meeting's time and place for its calendar entry (None: an all-day entry)."""
    if meeting is None or not (meeting.time or meeting.place):
        return None
    start, end = meeting.times() or (None, None)
    return At(start, end, meeting.place)


def documents(
    session: Session, revision: Revision, keys: Iterable[str] | None = None, *, link: str | None = None,
    current: Sequence[tuple[Document, DocumentVersion | None]] | None = None,
) -> tuple[lt.DocumentRef, ...]:
    """The documents (`keys`; None: every one) with their current version. A web address version
    links to itself; a file links to `link` + `/documents/KEY/vN`: `link` is a party's own link
    (`party_url`) or `coordinator_link(revision)` (the dashboard, after login); None: no link.
    `current`: `documents.with_current` read once for many letters (None: read here)."""
    from .documents import with_current

    wanted = set(keys) if keys else None
    refs = []
    for d, v in current if current is not None else with_current(session, revision):
        if wanted is not None and d.key not in wanted:
            continue
        if v is None:
            refs.append(lt.DocumentRef(d.key, Bilingual(d.title, d.title_nn)))
            continue
        url = v.url or (f"{link.rstrip('/')}/documents/{d.key}/v{v.number}" if link else None)
        refs.append(lt.DocumentRef(d.key, Bilingual(d.title, d.title_nn), url, v.number, v.label, v.date))
    return tuple(refs)


def coordinator_link(revision: Revision) -> str:
    """The revision's page on the dashboard: a document's file under it is served after login."""
    from avtaleflyt.settings import get_settings

    return f"{get_settings().public_url.rstrip('/')}/revisions/{revision.slug}"


def plan_date(value: str | None) -> PlanDate | None:
    return PlanDate.parse(value) if value else None


def message(
    revision: Revision,
    event: EmailEvent,
    language: Language,
    context: object,
    *,
    key: str,
    to_name: str,
    to_address: str,
    stage_key: str | None = None,
    party_id: int | None = None,
    due: dt.date | None = None,
    calendar_title: str | None = None,
    calendar_event: EmailEvent | None = None,
    entries: Sequence[CalendarEntry] = (),
    meeting: Meeting | None = None,
) -> OutboxMessage:
    """The letter's calendar attachment: an entry on `due` for `stage_key` titled `calendar_title`,
    or one event per `entries` (a letter moving several dates). `calendar_event`: the letter whose
    calendar entry this one updates (its UID is reused)."""
    from .letters import render  # Jinja2: loaded by a pass that composes a letter, not by every flow-run process

    rendered = render(event, language, in_language(context, language))  # each title in the reader's language
    if not entries and due is not None and calendar_title:  # one entry, made as the lines below would make it
        day = lt.written_deadline(due) if party_id is not None else due
        entries = [CalendarEntry(stage_key, day, in_language(calendar_title, language), calendar_event or event, meeting_at(meeting))]
    elif entries:
        if party_id is not None:  # a party's deadlines, as its letter writes them (a forum's are meetings)
            entries = [dataclasses.replace(e, day=lt.written_deadline(e.day)) for e in entries]
        entries = [dataclasses.replace(e, title=in_language(e.title, language)) for e in entries]
    ics = None
    if entries:
        uids = (f"{revision.slug}/{e.stage_key}/{party_id or to_address}/{e.first_event.value.split('_')[0]}" for e in entries)
        ics = deadlines_ics(((uid, e.title, e.day, e.at) for uid, e in zip(uids, entries)), f"{title_in(language, revision.title, revision.title_nn)} ({revision.helsefellesskap})")
    values = dict(
        key=key,
        revision_id=revision.id,
        stage_key=stage_key,
        party_id=party_id,
        event=event,
        language=language,
        due=due,
        to_name=to_name,
        to_address=to_address,
        reply_to=None if event in lt.COORDINATOR_EVENTS else contact(revision).email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        ics=ics,
    )
    return outbox_row(values) if _AS_ROWS.get() else OutboxMessage(**values)


_AS_ROWS: ContextVar[bool] = ContextVar("letter_parts.as_rows", default=False)


@contextmanager
def as_rows() -> Iterator[None]:
    """Inside: `message` gives each letter as its outbox row's values (`outbox_row`), not as an
    `OutboxMessage`, for a caller that only hands them to `outbox.enqueue_all` (the sweep): the
    same values, without SQLModel's attribute setter for each of the row's 23 columns."""
    token = _AS_ROWS.set(True)
    try:
        yield
    finally:
        _AS_ROWS.reset(token)


@lru_cache(maxsize=1)
def _row_defaults() -> tuple[dict[str, object], dict[str, object]]:
    """OutboxMessage's defaults, read once: the plain ones, and those made per row (`created_at`)."""
    plain, made = {}, {}
    for name, f in OutboxMessage.model_fields.items():
        if name != "id" and not f.is_required():
            if f.default_factory is not None:
                made[name] = f.default_factory
            else:
                plain[name] = f.default
    return plain, made


def outbox_row(values: dict[str, object]) -> dict[str, object]:
    """An outbox row's insert values: `values` with OutboxMessage's defaults for every column not
    given (as `OutboxMessage(**values)` would fill them in); every column but `id`."""
    plain, made = _row_defaults()
    return {**plain, **{name: factory() for name, factory in made.items()}, **values}


def party_message(
    revision: Revision, party: Party, event: EmailEvent, context: object, *, stage: Stage, key: str, due: dt.date | None, calendar_title: str | None = None
) -> OutboxMessage:
    return message(
        revision, event, party.language, context, key=key, to_name=party.name, to_address=party.email,
        stage_key=stage.key, party_id=party.id, due=due, calendar_title=calendar_title,
    )


def coordinator_messages(revision: Revision, event: EmailEvent, context: object, *, key: str, stage_key: str | None = None) -> list[OutboxMessage]:
    return [
        message(revision, event, revision.language, context, key=f"{key}/{c['email'].casefold()}", to_name=c["name"], to_address=c["email"], stage_key=stage_key)
        for c in revision.coordinators
    ]
