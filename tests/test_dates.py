"""Property tests of the date parser (issue 14, dates as people write them): every date it accepts
prints back to the same text (its canonical text, and the written form it keeps), and every text
it refuses is an error naming its row."""

from __future__ import annotations

import datetime as dt

from avtaleflyt.models.dates import MAX_YEAR, MIN_YEAR, PlanDate
from avtaleflyt.models.fremdriftsplan import (
    MilestoneRow,
    milestones_yaml,
    read_milestones,
)
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.written_dates import (
    MONTH_ABBREVIATIONS,
    MONTHS,
    Years,
    format_norwegian_date,
    has_own_year,
    parse_norwegian_date,
    shown_date,
    written_form,
)
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from .plans import SMALL_PLAN

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

days = st.dates(dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)).map(PlanDate.parse)
months = st.builds(PlanDate, st.integers(MIN_YEAR, MAX_YEAR), st.integers(1, 12))
simple = days | months


@st.composite
def ranges(draw: st.DrawFn) -> PlanDate:
    start, end = draw(simple), draw(simple)
    assume(start.last_day < end.first_day)
    return start.until(end)


plan_dates = st.builds(lambda d, q: d.with_uncertain(q), simple | ranges(), st.booleans()) | st.just(PlanDate.NOT_SET)


@SETTINGS
@given(plan_dates)
def test_every_date_prints_back_to_its_canonical_text(date):
    text = str(date)
    assert PlanDate.parse_any(text) == date
    assert str(PlanDate.parse_any(text)) == text
    assert parse_norwegian_date(text) == date
    assert parse_norwegian_date(format_norwegian_date(date)) == date  # the Norwegian form the CSV export writes
    assert date.exact == (date.simple and date.day is not None)
    if not date.simple:
        assert "a stage's date must be a day" in _refusal(lambda: PlanDate.parse(text))


@SETTINGS
@given(plan_dates, plan_dates)
def test_sorted_by_start_and_not_set_last(a, b):
    if a.is_set and not b.is_set:
        assert a < b and str(a) < str(b)  # SQL's text order puts "not set" last too
    elif a.is_set and b.is_set and a.first_day < b.first_day:
        assert a < b
        # text order (SQL) is start order, but for a month-level range or '?' and the days of its month
        if not (a.day is None and not a.simple and (a.year, a.month) == (b.year, b.month)):
            assert str(a) < str(b)


# --- written forms ---------------------------------------------------------------------------------

YEAR = st.integers(MIN_YEAR, MAX_YEAR - 1)


@st.composite
def written_day(draw: st.DrawFn, year: int) -> tuple[str, tuple[int | None, int, int | None]]:
    """A day as a secretariat writes it, with or without its year: (text, (year given, month, day))."""
    day = draw(st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    with_year = draw(st.booleans())
    yy = draw(st.sampled_from([f"{year % 100:02d}", f"{year}"])) if 2000 <= year <= 2099 else f"{year}"  # 24 is 2024
    forms = [f"{day.day}.{day.month}", f"{day.day:02d}.{day.month:02d}", f"{day.day}. {MONTHS[day.month - 1]}", f"{day.day}.{MONTHS[day.month - 1]}"]
    text = draw(st.sampled_from(forms))
    if with_year:
        text += f".{yy}" if text[-1].isdigit() else f" {yy}"
    return text, (year if with_year else None, day.month, day.day)


@st.composite
def written_month(draw: st.DrawFn, year: int) -> tuple[str, tuple[int | None, int, int | None]]:
    month = draw(st.integers(1, 12))
    with_year = draw(st.booleans())
    forms = [MONTHS[month - 1], MONTHS[month - 1].capitalize(), f"{MONTH_ABBREVIATIONS[month - 1].capitalize()}.", f"xx.{month:02d}", f"XX.{month}"]
    text = draw(st.sampled_from(forms))
    if with_year:
        text += f".{year}" if text.upper().startswith("XX") else f" {year}"
    return text, (year if with_year else None, month, None)


@st.composite
def written(draw: st.DrawFn) -> tuple[str, int, PlanDate]:
    """(text, the year given with --year, the date it says)."""
    year = draw(YEAR)
    part = written_day(year) | written_month(year)
    text, (_, month, day) = draw(part)
    date = PlanDate(year, month, day)
    if draw(st.booleans()):  # a range or a season, both ends in the year
        end_text, (_, end_month, end_day) = draw(part)
        end = PlanDate(year, end_month, end_day)
        assume(date.last_day < end.first_day)
        text, date = text + draw(st.sampled_from(["–", "-", "/", " – ", "—"])) + end_text, date.until(end)
    if draw(st.booleans()):
        text, date = text + "?", date.with_uncertain()
    return text, year, date


@SETTINGS
@given(written())
@example(("Aug./sept.", 2024, PlanDate(2024, 8, end=PlanDate(2024, 9))))
@example(("Nov./des.?", 2024, PlanDate(2024, 11, end=PlanDate(2024, 12), uncertain=True)))
@example(("mai–juni 22", 2024, PlanDate(2022, 5, end=PlanDate(2022, 6))))
@example(("20.06–10.09", 2024, PlanDate(2024, 6, 20, end=PlanDate(2024, 9, 10))))
@example(("xx.12.24", 2030, PlanDate(2024, 12)))
@example(("27. juni", 2024, PlanDate(2024, 6, 27)))
@example(("des./jan.", 2024, PlanDate(2024, 12, end=PlanDate(2025, 1))))
@example(("XX.XX.XX", 2024, PlanDate.NOT_SET))
def test_a_written_date_reads_keeps_its_text_and_prints_back(case):
    text, year, expected = case
    date = parse_norwegian_date(text, Years(year=year))
    assert date == expected
    assert PlanDate.parse_any(str(date)) == date  # the canonical text
    kept = written_form(text, date)
    if kept is None:  # a day or month with its year is shown in the one Norwegian form
        assert date.simple and has_own_year(text)
    else:
        assert kept == text.strip()
    shown = shown_date(date, kept)
    assert parse_norwegian_date(shown, Years(year=date.year if date.is_set else None)) == date
    if kept is not None:
        assert shown == text.strip()


@settings(SETTINGS, max_examples=60)  # each example parses a plan
@given(written())
def test_a_written_date_goes_through_the_plan_file_unchanged(case):
    text, _, date = case
    row = MilestoneRow(date, "Milepæl", written=written_form(text, date))
    milestone = parse_plan(SMALL_PLAN + milestones_yaml([row])).plan.milestones[0]
    assert (milestone.date, milestone.written) == (row.date, row.written)


# --- refusals --------------------------------------------------------------------------------------

cell_text = st.text(st.characters(blacklist_characters=';"\r\n\x00', blacklist_categories=("Cs",)), max_size=30)


@SETTINGS
@given(st.integers(0, 5), cell_text)
@example(2, "31.02.24")
@example(0, "Nov./des.")
@example(1, "PSU jan 2025")
@example(0, "20.09-10.06")
def test_every_refused_date_is_an_error_naming_its_row(rows_before, text):
    csv = "Når;Hva\n" + "27.11.24;Møte\n" * rows_before + f"{text};Milepæl\n"
    read = read_milestones(csv)
    assert len(read.rows) == rows_before + (not read.problems)
    if read.problems:
        [problem] = read.problems
        assert (problem.row, problem.column) == (rows_before + 2, "Når")
        assert str(problem).startswith(f"row {rows_before + 2}, Når: ")
        _refusal(lambda: parse_norwegian_date(text))  # the parser refuses it too
    else:
        assert read.rows[-1].date == parse_norwegian_date(text.strip())


def _refusal(call) -> str:
    try:
        call()
    except ValueError as exc:
        return str(exc)
    raise AssertionError("accepted")
