"""Every word avtaleflyt shows people, in bokmål and nynorsk: labels, stage-kind words,
calendar titles and date formats. Letters, the dashboard, the exports and `.ics` titles
all read them from here, so a nynorsk party gets nynorsk everywhere.

Pure (no I/O, no locale database). Keys are plain strings: a group and a value, such as
``word("stage_kind.hearing", "nn")``, the value being what the enums spell
(`StageKind`, `TreatmentStatus`, …: a StrEnum member works as its value). A stage
kind's words (its name, its dates' names, its calendar entry, its progress count) are one
`KINDS` entry, keyed by the kind (``"hearing"``); its dates by the date field (``"deadline"``).
The papers' and the party page's groups live in `wording_papers` and are read through here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .dates import PlanDate
from .wording_papers import PAPER_GROUPS

LANGUAGES = ("nb", "nn")

Pair = tuple[str, str]  # (bokmål, nynorsk)


@dataclass(frozen=True)
class KindWords:
    """A stage kind's words: a new kind adds one entry to `KINDS`."""

    name: Pair
    dates: dict[str, Pair]  # date field → the date's name in a plan, a feed and a calendar title
    calendar_field: str  # the date its letters' calendar entry is for
    counts: Pair | None = None  # what its progress counts ("2/3 svar"); None: it counts nothing
    the_deadline: Pair | None = None  # its parties' deadline in a sentence ("høringsfristen er flyttet")
    not_yet: Pair | None = None  # a party that still owes its answer, after its name ("har ikke signert ennå")


KINDS: dict[str, KindWords] = {
    "draft": KindWords(("utkast", "utkast"), {"due": ("Frist for utkast", "Frist for utkast")}, "due"),
    "hearing": KindWords(
        ("høring", "høyring"),
        {"opens": ("Høringen åpner", "Høyringa opnar"), "deadline": ("Høringsfrist", "Høyringsfrist")},
        "deadline",
        counts=("svar", "svar"),
        the_deadline=("høringsfristen", "høyringsfristen"),
    ),
    "forum_approval": KindWords(
        ("behandling i utvalg", "handsaming i utval"), {"meeting": ("Møte i {forums}", "Møte i {forums}")}, "meeting",
        counts=("godkjent", "godkjend"),
    ),
    "political_treatment": KindWords(
        ("politisk behandling", "politisk handsaming"),
        {"deadline": ("Frist for politisk behandling", "Frist for politisk handsaming")},
        "deadline",
        counts=("vedtatt", "vedteke"),
        the_deadline=("fristen for politisk behandling", "fristen for politisk handsaming"),
        not_yet=("har ikke vedtatt avtalen ennå", "har ikkje vedteke avtalen enno"),
    ),
    "signing": KindWords(
        ("signering", "signering"), {"deadline": ("Frist for signering", "Frist for signering")}, "deadline",
        counts=("signert", "signert"),
        the_deadline=("fristen for signering", "fristen for signering"),
        not_yet=("har ikke signert ennå", "har ikkje signert enno"),
    ),
    "information": KindWords(("orientering", "orientering"), {"deadline": ("Til orientering", "Til orientering")}, "deadline"),
}

# group → value → (bokmål, nynorsk)
_GROUPS: dict[str, dict[str, Pair]] = {
    "stage_kind": {kind: w.name for kind, w in KINDS.items()},
    "progress_done": {kind: w.counts for kind, w in KINDS.items() if w.counts},  # "2/3 svar"
    "the_deadline": {kind: w.the_deadline for kind, w in KINDS.items() if w.the_deadline},
    "stage_status": {"pending": ("venter", "ventar"), "active": ("pågår", "pågår"), "done": ("ferdig", "ferdig")},
    "revision_status": {"active": ("pågår", "pågår"), "completed": ("fullført", "fullført")},
    # unanswered: invited to a hearing that has closed, and never answered
    "hearing_status": {"invited": ("invitert", "invitert"), "responded": ("svart", "svart"), "unanswered": ("ikke svart", "ikkje svart")},
    "treatment": {  # a party's political treatment; the outcomes are the forms' and the letters' words
        "sent": ("sendt", "sendt"),
        "scheduled": ("møte berammet", "møte berama"),
        "approved": ("godkjent", "godkjend"),
        "approved_with_reservations": ("godkjent med merknader", "godkjend med merknader"),
        "rejected": ("ikke godkjent", "ikkje godkjend"),
    },
    "party_outcome": {
        "approved": ("godkjent", "godkjend"),
        "approved_with_reservations": ("godkjent med merknader", "godkjend med merknader"),
        "rejected": ("ikke godkjent", "ikkje godkjend"),
    },
    "forum_outcome": {
        "approved": ("vedtatt", "vedteke"),
        "approved_with_changes": ("vedtatt med endringer", "vedteke med endringar"),
        "returned": ("sendt tilbake", "sendt tilbake"),
        "postponed": ("utsatt", "utsett"),
    },
    "digest_kind": {
        "hearing_deadline": ("Høringsfrist", "Høyringsfrist"),
        "forum_meeting": ("Møte i utvalg", "Møte i utval"),
        "decision_deadline": ("Frist for vedtak", "Frist for vedtak"),
        "party_meeting": ("Behandlingsmøte", "Handsamingsmøte"),
        "milestone": ("Milepæl", "Milepæl"),
        "signing_deadline": ("Frist for signering", "Frist for signering"),
        "information": ("Til orientering", "Til orientering"),
    },
    "date_field": {  # a stage's date, named on its own
        "opens": ("åpner", "opnar"),
        "due": ("frist", "frist"),
        "meeting": ("møte", "møte"),
        "deadline": ("frist", "frist"),
        "milestone": ("milepæl", "milepæl"),
    },
    "email_status": {
        "pending": ("i kø", "i kø"), "sent": ("sendt", "sendt"), "failed": ("feilet", "feila"), "cancelled": ("stoppet", "stoppa"),
    },
    "email_event": {
        "hearing_invitation": ("høringsinvitasjon", "høyringsinvitasjon"),
        "hearing_reminder": ("høringspåminnelse", "høyringspåminning"),
        "hearing_deadline_passed": ("høringsfrist passert", "høyringsfrist passert"),
        "forum_meeting_notice": ("møteinnkalling", "møteinnkalling"),
        "decision_request": ("anmodning om vedtak", "oppmoding om vedtak"),
        "decision_reminder": ("påminnelse om vedtak", "påminning om vedtak"),
        "overdue_notice": ("varsel om forsinkelse", "varsel om forseinking"),
        "decision_receipt": ("kvittering for vedtak", "kvittering for vedtak"),
        "stage_completed": ("trinn fullført", "trinn fullført"),
        "revision_completed": ("revidering fullført", "revidering fullført"),
        "weekly_digest": ("ukesammendrag", "vekesamandrag"),
        "party_digest": ("ukeoversikt for parten", "vekeoversikt for parten"),
        "deadline_moved": ("ny frist", "ny frist"),
        "signing_request": ("anmodning om signering", "oppmoding om signering"),
        "signing_reminder": ("påminnelse om signering", "påminning om signering"),
        "signing_receipt": ("kvittering for signering", "kvittering for signering"),
        "information_notice": ("til orientering", "til orientering"),
    },
    "calendar_file": {  # a letter's calendar attachment is named `<stage>-<this word>-<date>.ics`
        "hearing_invitation": ("frist", "frist"),
        "hearing_reminder": ("frist", "frist"),
        "decision_request": ("frist", "frist"),
        "decision_reminder": ("frist", "frist"),
        "forum_meeting_notice": ("møte", "møte"),
        "deadline_moved": ("ny dato", "ny dato"),
        "signing_request": ("frist", "frist"),
        "signing_reminder": ("frist", "frist"),
        "information_notice": ("orientering", "orientering"),
    },
    "progress": {  # a stage's progress, as the dashboard words it
        "waits_for": ("venter på", "ventar på"),
        "approved": ("godkjent", "godkjend"),
        "returned": ("sendt tilbake", "sendt tilbake"),
        "postponed": ("utsatt", "utsett"),
        "still_to_decide": ("gjenstår", "står att"),  # a stage done on its quorum: the forums that have not decided
    },
    "followup_reason": {  # why a follow-up item was opened
        "rejected": ("vedtok ikke avtalen", "vedtok ikkje avtalen"),
        "forum_returned": ("sendte saken tilbake", "sende saka tilbake"),
        "forum_undecided": ("har ikke vedtatt saken ennå", "har ikkje vedteke saka enno"),
    },
    "in_force": {
        "in_force_for": ("i kraft for {count} av {of} {parties}", "i kraft for {count} av {of} {parties}"),
        "party": ("part", "part"),
        "parties": ("parter", "partar"),
        "and": ("og", "og"),
        "signed": ("signert", "signert"),
        "since": ("i kraft fra", "i kraft frå"),
        "not": ("ikke i kraft", "ikkje i kraft"),
    },
    "time": {"zone": ("norsk tid", "norsk tid")},  # a time of day, said where it matters
    "plan": {
        "the_parties": ("Partene", "Partane"),
        "the_deadline": ("fristen", "fristen"),  # a kind without its own words for it
        "the_forum": ("utvalget", "utvalet"),  # a forum meeting whose forums the plan does not name
        "round": ("runde", "runde"),
    },
    "public_page": {  # the public status page and its Atom feed (/offentlig/{slug})
        "heading": ("Status for revideringen", "Status for revideringa"),
        "status": ("Status", "Status"),
        "stages": ("Trinn", "Trinn"),
        "stage": ("Trinn", "Trinn"),
        "dates": ("Datoer", "Datoar"),
        "party_decisions": ("Vedtak hos partene", "Vedtak hos partane"),
        "forum_decisions": ("Vedtak i utvalgene", "Vedtak i utvala"),
        "documents": ("Dokumenter", "Dokument"),
        "party": ("Part", "Part"),
        "forum": ("Utvalg", "Utval"),
        "decision": ("Vedtak", "Vedtak"),
        "date": ("Dato", "Dato"),
        "case_no": ("Saksnummer", "Saksnummer"),
        "reservations": ("Forbehold", "Atterhald"),
        "records": ("Offentlig journal", "Offentleg journal"),
        "not_yet": ("ikke vedtatt ennå", "ikkje vedteke enno"),
        "no_decisions": ("Ingen vedtak ennå.", "Ingen vedtak enno."),
        "no_documents": ("Ingen offentlige dokumenter ennå.", "Ingen offentlege dokument enno."),
        "version": ("versjon", "versjon"),
        "feed": ("Følg vedtakene (Atom)", "Følg vedtaka (Atom)"),
        "feed_title": ("Vedtak: {title}", "Vedtak: {title}"),
        "updated": ("Sist oppdatert", "Sist oppdatert"),
        "not_found": ("Siden finnes ikke.", "Sida finst ikkje."),
    },
    **PAPER_GROUPS,  # the papers' and the party page's words (models/wording_papers.py)
}

_COUNCIL_MEETING = ("{body} behandler {title}", "{body} handsamar {title}")

_MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember",
)
_MONTHS_SHORT = ("jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des.")
_WEEKDAYS = {
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    "nn": ("måndag", "tysdag", "onsdag", "torsdag", "fredag", "laurdag", "søndag"),
}
# (one day, several days, today, tomorrow, in …)
_DAY_WORDS = {"nb": ("dag", "dager", "i dag", "i morgen", "om"), "nn": ("dag", "dagar", "i dag", "i morgon", "om")}


def _index(language: str) -> int:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {str(language)!r}; expected one of {', '.join(LANGUAGES)}")
    return LANGUAGES.index(language)


# --- words ---------------------------------------------------------------------------


def word(key: str, language: str = "nb") -> str:
    """``word("stage_kind.hearing", "nn")`` → ``høyring``; KeyError naming the key when there is none."""
    group, _, value = key.partition(".")
    try:
        pair = _GROUPS[group][value]
    except KeyError:
        raise KeyError(f"no wording for {key!r}") from None
    return pair[_index(language)]


def label(group: str, value: str, language: str = "nb") -> str:
    """The value's word, or the value itself when the catalogue has none (a new status shows, raw)."""
    pairs = _GROUPS[group]
    return pairs[value][_index(language)] if value in pairs else str(value)


def words(group: str, language: str = "nb") -> dict[str, str]:
    """A whole group as value → word, e.g. for a template."""
    i = _index(language)
    return {value: pair[i] for value, pair in _GROUPS[group].items()}


def stage_date_label(kind: str, field: str, language: str = "nb", forums: list[str] | tuple[str, ...] = ()) -> str:
    """``Høringsfrist``; a forum meeting names its forums. A date the catalogue does not know gives its field's word."""
    pair = KINDS[kind].dates.get(field) if kind in KINDS else None
    if pair is None:
        return label("date_field", field, language)
    return pair[_index(language)].format(forums=", ".join(forums) or word("plan.the_forum", language))


def the_deadline(kind: str, language: str = "nb") -> str:
    """A kind's deadline for its parties, in a sentence: ``høringsfristen`` (nn ``høyringsfristen``)."""
    words = KINDS.get(kind)
    return words.the_deadline[_index(language)] if words and words.the_deadline else word("plan.the_deadline", language)


def calendar_title(kind: str, language: str, title: str, forums: list[str] | tuple[str, ...] = ()) -> str:
    """A calendar entry's title for a stage of `kind`: ``Høringsfrist: {title}`` (nn ``Høyringsfrist: {title}``)."""
    date = KINDS[kind].calendar_field if kind in KINDS else "deadline"
    return f"{stage_date_label(kind, date, language, forums)}: {title}"


def council_meeting_title(language: str, body: str, title: str) -> str:
    """A party's own council or board meeting: ``Bystyret behandler {title}`` (nn ``… handsamar …``)."""
    return _COUNCIL_MEETING[_index(language)].format(body=body, title=title)


def names(items: list[str] | tuple[str, ...], language: str = "nb") -> str:
    """``A``, ``A og B``, ``A, B og C``."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word('in_force.and', language)} {items[-1]}"


def in_force_summary(count: int, of: int, rejected: list[str], pending: list[tuple[str, str]], language: str = "nb") -> str:
    """``i kraft for 20 av 21 parter; Kvam herad vedtok ikke avtalen`` (nn ``… partar; … vedtok ikkje avtalen``).
    `pending`: (party, the kind of the stage it still owes), said with the kind's `not_yet`."""
    parties = word("in_force.party" if of == 1 else "in_force.parties", language)
    parts = [word("in_force.in_force_for", language).format(count=count, of=of, parties=parties)]
    if rejected:
        parts.append(f"{names(rejected, language)} {word('followup_reason.rejected', language)}")
    by_kind: dict[str, list[str]] = {}
    for name, kind in pending:
        by_kind.setdefault(kind, []).append(name)
    for kind, waiting in by_kind.items():
        not_yet = KINDS[kind].not_yet if kind in KINDS and KINDS[kind].not_yet else None
        if not_yet:
            parts.append(f"{names(waiting, language)} {not_yet[_index(language)]}")
    return "; ".join(parts)


# --- dates -----------------------------------------------------------------------------


def _parts(value: dt.date | PlanDate) -> tuple[int, int, int | None]:
    if isinstance(value, PlanDate):
        return value.year, value.month, value.day
    return value.year, value.month, value.day


def month_name(month: int, language: str = "nb") -> str:
    _index(language)
    return _MONTHS[month - 1]  # the same in bokmål and nynorsk


def month_year(value: dt.date | PlanDate, language: str = "nb") -> str:
    """``november 2024``."""
    year, month, _ = _parts(value)
    return f"{month_name(month, language)} {year}"


def short_month_year(year: int, month: int, language: str = "nb") -> str:
    """``nov. 2024``: a column heading."""
    _index(language)
    return f"{_MONTHS_SHORT[month - 1]} {year}"


def day_month_year(day: dt.date, language: str = "nb") -> str:
    """``27. nov. 2024``."""
    return f"{day.day}. {short_month_year(day.year, day.month, language)}"


def long_date(value: dt.date | PlanDate, language: str = "nb") -> str:
    """``onsdag 27. november 2024``; a month-only plan date gives ``november 2024``."""
    year, month, day = _parts(value)
    if day is None:
        return month_year(value, language)
    weekday = _WEEKDAYS[LANGUAGES[_index(language)]][dt.date(year, month, day).weekday()]
    return f"{weekday} {day}. {month_name(month, language)} {year}"


def short_date(value: dt.date | PlanDate, language: str = "nb") -> str:
    """``27.11.2024``; a month-only plan date gives ``november 2024``."""
    year, month, day = _parts(value)
    if day is None:
        return month_year(value, language)
    return f"{day:02d}.{month:02d}.{year:04d}"


def local_time(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`value` in `tz` (Europe/Oslo: avtaleflyt.clock.TZ); a naive time is UTC (as SQLite gives it back)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(tz)


def moment(value: dt.datetime, tz: dt.tzinfo, language: str = "nb", *, zone: bool = False) -> str:
    """``27.11.2024 14:05`` in `tz` (Norway's time); with `zone`: ``27.11.2024 14:05 (norsk tid)``."""
    local = local_time(value, tz)
    text = f"{short_date(local.date(), language)} {local:%H:%M}"
    return f"{text} ({word('time.zone', language)})" if zone else text


def days(n: int, language: str = "nb") -> str:
    """``1 dag``, ``14 dager`` (nn ``14 dagar``)."""
    one, many, *_ = _DAY_WORDS[LANGUAGES[_index(language)]]
    return f"{n} {one if n == 1 else many}"


def in_days(n: int, language: str = "nb") -> str:
    """When a date falls, counted from today: ``i dag``, ``i morgen``, ``om 14 dager``."""
    _, _, today, tomorrow, within = _DAY_WORDS[LANGUAGES[_index(language)]]
    if n == 0:
        return today
    if n == 1:
        return tomorrow
    return f"{within} {days(n, language)}"
