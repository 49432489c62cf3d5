"""The wording catalogue (models/wording.py): bokmål and nynorsk words, calendar titles and dates."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pendulum
import pytest
from avtaleflyt.models import wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import (
    EmailEvent,
    ForumOutcome,
    HearingStatus,
    Language,
    PartyOutcome,
    StageKind,
    StageStatus,
    TreatmentStatus,
)
from avtaleflyt.models.letters import DigestKind

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("nb", "nn")


def test_words_by_key_in_both_languages():
    assert wording.word("stage_kind.hearing", "nb") == "høring"
    assert wording.word("stage_kind.hearing", "nn") == "høyring"
    assert wording.word("treatment.rejected", Language.nn) == "ikkje godkjend"
    assert wording.label("stage_status", StageStatus.pending, "nn") == "ventar"
    assert wording.label("stage_status", "paused", "nb") == "paused"  # unknown values show raw
    with pytest.raises(KeyError, match="no wording for 'stage_kind.audit'"):
        wording.word("stage_kind.audit", "nb")
    with pytest.raises(ValueError, match="unknown language 'se'"):
        wording.word("stage_kind.hearing", "se")


@pytest.mark.parametrize(
    ("group", "values"),
    [
        ("stage_kind", StageKind),
        ("stage_status", StageStatus),
        ("hearing_status", HearingStatus),
        ("treatment", TreatmentStatus),
        ("party_outcome", PartyOutcome),
        ("forum_outcome", ForumOutcome),
        ("email_event", EmailEvent),
        ("digest_kind", DigestKind),
    ],
)
def test_every_value_of_an_enum_has_a_word_in_both_languages(group, values):
    for value in values:
        for language in Language:
            assert wording.word(f"{group}.{value.value}", language)


def test_calendar_titles_per_kind_and_language():
    assert wording.calendar_title("hearing", "nb", "Høring 1") == "Høringsfrist: Høring 1"
    assert wording.calendar_title(StageKind.hearing, Language.nn, "Høring 1") == "Høyringsfrist: Høring 1"
    assert wording.calendar_title("political_treatment", "nb", "R") == "Frist for politisk behandling: R"
    assert wording.calendar_title("political_treatment", "nn", "R") == "Frist for politisk handsaming: R"
    assert wording.calendar_title("forum_approval", "nn", "R", ["ASU"]) == "Møte i ASU: R"
    assert wording.calendar_title("forum_approval", "nn", "R") == "Møte i utvalet: R"
    assert wording.council_meeting_title("nb", "Bystyret", "R") == "Bystyret behandler R"
    assert wording.council_meeting_title("nn", "Kommunestyret", "R") == "Kommunestyret handsamar R"
    assert wording.stage_date_label("hearing", "opens", "nn") == "Høyringa opnar"
    assert wording.stage_date_label("draft", "opens", "nb") == "åpner"  # a date the catalogue has no phrase for
    assert [wording.the_deadline("hearing", lang) for lang in LANGUAGES] == ["høringsfristen", "høyringsfristen"]
    assert wording.the_deadline("political_treatment", "nn") == "fristen for politisk handsaming"
    assert wording.the_deadline("draft", "nb") == "fristen"  # a kind with no deadline words of its own


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_dates_read_as_the_locale_database_writes_them(language):
    """The catalogue's own month and weekday names give what pendulum's nb/nn locales gave (letters stay byte-identical)."""
    day = dt.date(2024, 1, 1)
    while day < dt.date(2025, 1, 8):
        p = pendulum.date(day.year, day.month, day.day)
        assert wording.long_date(day, language) == p.format("dddd D. MMMM YYYY", locale=language)
        assert wording.month_year(day, language) == p.format("MMMM YYYY", locale=language)
        assert wording.short_date(day, language) == p.format("DD.MM.YYYY")
        day += dt.timedelta(days=1)


def test_month_only_plan_dates_and_day_counts():
    assert wording.long_date(PlanDate(2024, 11), "nb") == "november 2024"
    assert wording.short_date(PlanDate(2024, 11), "nn") == "november 2024"
    assert wording.short_date(PlanDate(2024, 11, 7), "nb") == "07.11.2024"
    assert wording.short_month_year(2024, 11) == "nov. 2024"
    assert wording.day_month_year(dt.date(2024, 3, 5)) == "5. mars 2024"
    assert [wording.in_days(n, "nn") for n in (0, 1, 14)] == ["i dag", "i morgon", "om 14 dagar"]
    assert wording.days(1, "nb") == "1 dag"


def test_the_catalogue_is_pure_and_names_no_stage_kind_member():
    for name in ("wording.py", "wording_papers.py"):  # the papers' words are a part of the catalogue
        tree = ast.parse((ROOT / "models" / name).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert imported <= {"__future__", "dataclasses", "datetime", "dates", "wording_papers"}, (name, imported)
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "StageKind"], name


def test_every_registered_stage_kind_has_its_words_in_both_languages():
    """A new kind in the registry (models/stages) fails here until its words are in `wording.KINDS`."""
    from avtaleflyt.models.stages import KINDS

    for kind, rules in KINDS.items():
        words = wording.KINDS.get(kind.value)
        assert words is not None, f"models/wording.py: KINDS has no words for the stage kind {kind.value!r}"
        assert set(words.dates) == set(rules.dates), kind
        assert words.calendar_field in rules.dates, kind
        for language in Language:
            assert wording.word(f"stage_kind.{kind.value}", language)
            assert all(wording.stage_date_label(kind.value, d, language) for d in rules.dates)


# --------------------------------------------------------------------------- a nynorsk party's calendar entries

SMALL_SLUG = "testrevisjon-2024"
NYNORSK_PARTY = "Malvik kommune"  # tests/plans.py: language nn


@pytest.fixture
def driven(tmp_path):
    from avtaleflyt.db import engine_for

    from .plans import drive_to_political_treatment

    engine = engine_for(f"sqlite:///{tmp_path / 'domain.db'}")
    drive_to_political_treatment(engine, today=dt.date(2025, 1, 10))
    return engine


def _summaries(ics_text: str) -> list[str]:
    from icalendar import Calendar

    return [str(e["SUMMARY"]) for e in Calendar.from_ical(ics_text).walk("VEVENT")]


def test_a_nynorsk_partys_feed_is_in_nynorsk_its_council_meeting_too(driven):
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks import export, records

    with session_scope(driven) as s:
        records.schedule_party(s, SMALL_SLUG, party=NYNORSK_PARTY, meeting=dt.date(2025, 2, 20), actor="tester")
    with session_scope(driven) as s:
        summaries = _summaries(export.plan_ics(s, SMALL_SLUG, NYNORSK_PARTY))
    assert summaries == [
        "Høyringa opnar: hoering",
        "Høyringsfrist: hoering",
        "Kommunestyret handsamar Testrevisjon 2024",
        "Frist for politisk handsaming: politisk",
    ]


def test_a_nynorsk_partys_letters_carry_nynorsk_calendar_entries(driven):
    from sqlmodel import select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.tables import OutboxMessage, Party

    with session_scope(driven) as s:
        party = s.exec(select(Party).where(Party.name == NYNORSK_PARTY)).one()
        attached = {m.event.value: _summaries(m.ics) for m in s.exec(select(OutboxMessage).where(OutboxMessage.party_id == party.id)).all() if m.ics}
    assert attached == {
        "hearing_invitation": [wording.calendar_title("hearing", "nn", "Testrevisjon 2024")],
        "decision_request": [wording.calendar_title("political_treatment", "nn", "Testrevisjon 2024")],
    }
    assert attached["hearing_invitation"] == ["Høyringsfrist: Testrevisjon 2024"]
