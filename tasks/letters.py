"""Render an email from templates/email/<event>.<lang>.txt|html: subject, text and HTML.

Each template sets its subject with ``{% set subject %}…{% endset %}``; the subject
is taken from the text template (the HTML one is escaped for its <title>).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

import avtaleflyt.templates
from avtaleflyt.models import letters as lt
from avtaleflyt.models import wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, Language, PartyOutcome
from avtaleflyt.models.stages import forum_approval, hearing, political_treatment

TEMPLATE_DIR = Path(avtaleflyt.templates.__file__).parent / "email"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# --- words per language (models/wording.py) --------------------------------------


def _lang(context: Context) -> Language:
    return Language(context["lang"])


@pass_context
def long_date(context: Context, value: dt.date | PlanDate) -> str:
    """`onsdag 27. november 2024`; a month-only plan date gives `november 2024`."""
    return wording.long_date(value, _lang(context))


@pass_context
def short_date(context: Context, value: dt.date | PlanDate) -> str:
    """`27.11.2024`; a month-only plan date gives `november 2024`."""
    return wording.short_date(value, _lang(context))


@pass_context
def month(context: Context, value: dt.date | PlanDate) -> str:
    return wording.month_year(value, _lang(context))


@pass_context
def days(context: Context, n: int) -> str:
    """`1 dag`, `14 dager` (nn `14 dagar`)."""
    return wording.days(n, _lang(context))


@pass_context
def in_days(context: Context, n: int) -> str:
    """When a deadline falls, counted from today: `i dag`, `i morgen`, `om 14 dager`."""
    return wording.in_days(n, _lang(context))


@pass_context
def party_outcome(context: Context, value: str) -> str:
    return wording.word(f"party_outcome.{PartyOutcome(value).value}", _lang(context))


@pass_context
def forum_outcome(context: Context, value: str) -> str:
    return wording.word(f"forum_outcome.{ForumOutcome(value).value}", _lang(context))


@pass_context
def digest_kind(context: Context, value: str) -> str:
    return wording.word(f"digest_kind.{lt.DigestKind(value).value}", _lang(context))


@pass_context
def the_deadline(context: Context, kind: str) -> str:
    """A stage kind's deadline in a sentence: `høringsfristen`, `fristen for politisk behandling`."""
    return wording.the_deadline(kind, _lang(context))


@pass_context
def stage_kind(context: Context, kind: str) -> str:
    """A stage kind's name: `høring`, `signering`."""
    return wording.word(f"stage_kind.{kind}", _lang(context))


@pass_context
def progress_done(context: Context, kind: str) -> str:
    """What a kind's progress counts: `svar`, `signert`."""
    return wording.label("progress_done", str(kind), _lang(context))


def week(value: dt.date) -> int:
    return value.isocalendar().week


def override_dir() -> Path | None:
    """The installation's own templates (AVTALEFLYT_TEMPLATE_DIR): each file there is used instead of the built-in one of its name."""
    from avtaleflyt.settings import get_settings

    return get_settings().template_dir


def environment(override: Path | None = None) -> Environment:
    """The email templates, `override`'s (the installation's own folder) before the built-in ones."""
    return _environment(str(override) if override else None)


@lru_cache(maxsize=4)
def _environment(override: str | None) -> Environment:
    loader: BaseLoader = FileSystemLoader(TEMPLATE_DIR)
    if override:
        loader = ChoiceLoader([FileSystemLoader(override), loader])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # each template is read and compiled once per process, not checked on disk for every letter
    )
    filters = (long_date, short_date, month, days, in_days, party_outcome, forum_outcome, digest_kind, the_deadline, stage_kind, progress_done, week)
    env.filters.update({f.__name__: f for f in filters})
    return env


# --- rendering -------------------------------------------------------------------

# Every character that ends a line somewhere (str.splitlines), not only CR and LF.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def one_line(subject: str) -> str:
    """The subject as a header value: refuses line breaks (header injection), collapses whitespace."""
    if not _LINE_BREAKS.isdisjoint(subject):
        raise ValueError(f"email subject must be one line; a value in it has a line break: {subject!r}")
    return " ".join(subject.split())


def _values(event: EmailEvent, context: object) -> dict[str, Any]:
    if dataclasses.is_dataclass(context) and not isinstance(context, type):
        expected = lt.CONTEXTS[event]
        if not isinstance(context, expected):
            raise TypeError(f"{event} needs a {expected.__name__}, got {type(context).__name__}")
        # Shallow on purpose: asdict() would turn PlanDate and nested refs into dicts.
        return {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
    if isinstance(context, Mapping):
        return dict(context)
    raise TypeError(f"context must be a dataclass from models.letters or a mapping, got {type(context).__name__}")


def render(event: EmailEvent | str, language: Language | str, context: object, *, templates: Path | None | bool = True) -> Rendered:
    """Renders one email; `context` is the event's dataclass from models.letters (or a mapping).
    Deadlines are written as `lt.as_written` says (a Saturday's as the Friday before).
    `templates`: the override folder (True: AVTALEFLYT_TEMPLATE_DIR's, None/False: the built-in ones only).

    Raises jinja2.UndefinedError when the context lacks a value the template uses,
    and ValueError when the subject would not be one line.
    """
    event, language = EmailEvent(event), Language(language)
    values = {
        **_values(event, lt.as_written(context)),
        "lang": language.value,
        "event": event.value,
        "to_coordinators": event in lt.COORDINATOR_EVENTS,  # picks the signature
    }
    env = environment(override_dir() if templates is True else templates or None)
    text = env.get_template(f"{event}.{language}.txt").make_module(values)
    html = env.get_template(f"{event}.{language}.html").make_module(values)
    return Rendered(subject=one_line(str(text.subject)), text=str(text), html=str(html))


# --- example data ----------------------------------------------------------------

_REVISION = lt.RevisionRef(
    title="Revidering av samarbeidsavtalen 2024",
    helsefellesskap="Helsefellesskapet Søndre Trøndelag",
    slug="revidering-av-samarbeidsavtalen-2024",
    coordinator_name="Kari Nordmann",
    coordinator_email="sekretariat@example.no",
    contact=lt.Contact("Kari Nordmann", "sekretariat@example.no", "rådgiver", "+47 72 54 00 00"),
    reference="24/01234",
)
_HEALTH_TRUST = "St. Olavs hospital HF"
_PARTIES = {
    Language.nb: lt.PartyRef("Trondheim kommune", "Bystyret", "postmottak@trondheim.example.no"),
    Language.nn: lt.PartyRef("Heim kommune", "Kommunestyret", "postmottak@heim.example.no"),
}
_MEETINGS = {Language.nb: dt.date(2025, 2, 13), Language.nn: dt.date(2025, 2, 20)}
_OVERORDNET = lt.DocumentRef("overordnet", "Overordnet samarbeidsavtale")
_RETNINGSLINJE_1 = lt.DocumentRef("retningslinje-1", "Retningslinje 1")
_OVRIGE = lt.DocumentRef("ovrige-retningslinjer", "Øvrige retningslinjer")
_HEARING = "Høring av overordnet avtale og retningslinje 1"
_FINAL = "Sluttbehandling av avtale med retningslinjer"
_POLITICAL = "Politisk behandling i kommunene og i styret til St. Olavs hospital"
_ADOPTED = (
    lt.ForumDecisionRef("Forhandlingsutvalget", ForumOutcome.approved, dt.date(2024, 11, 19), "14-2024"),
    lt.ForumDecisionRef("Fagrådene", ForumOutcome.approved_with_changes, dt.date(2024, 11, 25)),
    lt.ForumDecisionRef("Administrativt samarbeidsutvalg", ForumOutcome.approved, dt.date(2024, 11, 27), "09-2024"),
)


def example_context(event: EmailEvent | str, language: Language | str) -> object:
    """Realistic data from the Søndre Trøndelag 2024 revision, for previews and tests."""
    event, language = EmailEvent(event), Language(language)
    party = _PARTIES[language]
    hearing_docs = (_OVERORDNET, _RETNINGSLINJE_1)
    all_docs = (_OVERORDNET, _RETNINGSLINJE_1, _OVRIGE)
    hearing_deadline, political_deadline = dt.date(2024, 9, 10), dt.date(2025, 3, 1)
    report_url = f"https://avtaleflyt.example.no/r/{_REVISION.slug}/{party.name.split()[0].lower()}?sig=3f9a1c"
    match event:
        case EmailEvent.hearing_invitation:
            return lt.HearingInvitation(_REVISION, party, _HEARING, hearing_docs, hearing_deadline, dt.date(2024, 6, 20))
        case EmailEvent.hearing_reminder:
            return lt.HearingReminder(_REVISION, party, _HEARING, hearing_docs, hearing_deadline, days_left=14)
        case EmailEvent.hearing_deadline_passed:
            return lt.HearingDeadlinePassed(_REVISION, party, _HEARING, hearing_deadline, True, dt.date(2024, 9, 6))
        case EmailEvent.forum_meeting_notice:
            forum = lt.ForumRef("ASU", "Administrativt samarbeidsutvalg", "asu@example.no")
            return lt.ForumMeetingNotice(
                _REVISION, forum, _FINAL, dt.date(2024, 11, 27), all_docs, case_no="09-2024", forum_count=4, required=3,
                time="09:00-11:30", place="St. Olavs hospital, Kunnskapssenteret",  # a forum's own meeting (per-forum meetings)
            )
        case EmailEvent.decision_request:
            resolution = lt.proposed_resolution(language, party, _HEALTH_TRUST, _REVISION.helsefellesskap, _ADOPTED)
            return lt.DecisionRequest(
                _REVISION, party, all_docs, political_deadline, resolution, _ADOPTED, report_url, case_url="https://avtaleflyt.example.no/p/3f9a1c/saksframlegg"
            )
        case EmailEvent.decision_reminder:
            return lt.DecisionReminder(
                _REVISION, party, political_deadline, 14, _MEETINGS[language], report_url
            )
        case EmailEvent.overdue_notice:
            return lt.OverdueNotice(_REVISION, party, political_deadline, days_overdue=7)
        case EmailEvent.decision_receipt:
            outcome = PartyOutcome.approved if language is Language.nb else PartyOutcome.approved_with_reservations
            return lt.DecisionReceipt(_REVISION, party, outcome, _MEETINGS[language], "PS 12/25")
        case EmailEvent.stage_completed:
            return lt.StageCompleted(
                _REVISION,
                _FINAL,
                forum_approval.RULES.kind,
                dt.date(2024, 11, 27),
                forum_decisions=_ADOPTED,
                next_stages=(_POLITICAL,),
            )
        case EmailEvent.revision_completed:
            return lt.RevisionCompleted(
                _REVISION,
                dt.date(2025, 3, 20),
                lt.Tally(parties=21, decided=21, approved=18, approved_with_reservations=2, rejected=1),
                with_reservations=("Hitra kommune", "Osen kommune"),
                rejected=("Tydal kommune",),
                in_force=wording.in_force_summary(20, 21, ["Tydal kommune"], [], language),
                followups=("Tydal kommune",),
            )
        case EmailEvent.weekly_digest:
            digest = lt.DigestRevision(
                _REVISION,
                open_stages=(_POLITICAL,),
                upcoming=(
                    lt.DigestItem(dt.date(2025, 3, 13), lt.DigestKind.party_meeting, _POLITICAL, "Holtålen kommune"),
                    lt.DigestItem(PlanDate(2025, 3), lt.DigestKind.milestone, "Orientering i PSU"),
                ),
                overdue=(
                    lt.DigestItem(political_deadline, lt.DigestKind.decision_deadline, _POLITICAL, "Tydal kommune"),
                    lt.DigestItem(political_deadline, lt.DigestKind.decision_deadline, _POLITICAL, "Osen kommune"),
                ),
                failed=(
                    lt.FailedMessage(
                        "postmottak@osen.example.no",
                        "Påminnelse: frist for vedtak 01.03.2025 – Osen kommune",
                        "550 5.1.1 Mailbox unavailable",
                    ),
                ),
            )
            return lt.WeeklyDigest(_REVISION.coordinator_name, dt.date(2025, 3, 10), (digest,), optout_url="https://avtaleflyt.example.no/avmelding/eksempel")
        case EmailEvent.party_digest:
            items = (lt.PartyDigestItem(lt.written_deadline(political_deadline), lt.DigestKind.decision_deadline, _POLITICAL, _REVISION, report_url),)
            return lt.PartyDigest(_REVISION, party, dt.date(2025, 2, 17), items, optout_url="https://avtaleflyt.example.no/avmelding/eksempel")
        case EmailEvent.deadline_moved:
            moves = (
                lt.MovedDeadline("Høring av øvrige retningslinjer", hearing.RULES.kind, dt.date(2024, 11, 8), dt.date(2024, 11, 22)),
                lt.MovedDeadline(_POLITICAL, political_treatment.RULES.kind, political_deadline, dt.date(2025, 3, 15)),
            )
            return lt.DeadlineMoved(_REVISION, party, moves, "ASU-møtet 25.09 er flyttet til 09.10")
        case EmailEvent.signing_request:
            return lt.SigningRequest(_REVISION, party, all_docs, dt.date(2025, 6, 30), _MEETINGS[language], "PS 12/25")
        case EmailEvent.signing_reminder:
            return lt.SigningReminder(_REVISION, party, all_docs, dt.date(2025, 6, 30), 14)
        case EmailEvent.signing_receipt:
            return lt.SigningReceipt(_REVISION, party, dt.date(2025, 5, 6), "Kari Nordmann", "ordfører")
        case EmailEvent.information_notice:
            return lt.InformationNotice(_REVISION, party.name, "Orientering om revidert avtale", dt.date(2025, 1, 15), all_docs, ("Partssammensatt samarbeidsutvalg",))
    raise AssertionError(event)  # every EmailEvent has a case above


def preview(event: EmailEvent | str, language: Language | str) -> Rendered:
    return render(event, language, example_context(event, language))
