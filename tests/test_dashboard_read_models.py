"""The dashboard's read models are typed (no text built for another module to parse back)
and its words come from the wording catalogue. Pure: no database, no app."""

from __future__ import annotations

import datetime as dt

from avtaleflyt.dashboard import labels
from avtaleflyt.dashboard.model import PlanDateOut, StageOut
from avtaleflyt.dashboard.timeline import timeline
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.tasks.status import Progress


def stage(key: str, kind: str, status: str = "active", **dates: str) -> StageOut:
    return StageOut(
        key=key, title=None, kind=kind, kind_label=labels.stage_kind(kind), status=status, status_label=labels.stage_status(status),
        round=1, after=[], forums=[], dates=dates, progress="", level=0, late=False,
    )


def test_stage_and_plan_dates_are_plan_dates_and_iso_text_in_json():
    hearing = stage("hoering", "hearing", opens="2024-06-20", deadline="2024-09")
    assert hearing.dates == {"opens": PlanDate(2024, 6, 20), "deadline": PlanDate(2024, 9)}
    assert hearing.model_dump(mode="json")["dates"] == {"opens": "2024-06-20", "deadline": "2024-09"}
    row = PlanDateOut(what="x", stage="hoering", field="deadline", field_label="frist", baseline="2024-09-10", current=PlanDate(2024, 9, 24), slipped_days=14)
    assert (row.baseline, row.current) == (PlanDate(2024, 9, 10), PlanDate(2024, 9, 24))
    assert row.model_dump(mode="json")["baseline"] == "2024-09-10"


def test_timeline_places_typed_dates_and_spans_a_hearing():
    stages = [stage("hoering", "hearing", opens="2024-06-20", deadline="2024-09-10"), stage("politisk", "political_treatment", "pending", deadline="2025-03")]
    tl = timeline(stages, [], {}, dt.date(2024, 9, 15))
    items = [it for row in tl.rows for cell in row.cells for it in cell.items]
    assert [(it.date, it.label, it.late) for it in items] == [
        (PlanDate(2024, 6, 20), "hoering: åpner", False),
        (PlanDate(2024, 9, 10), "hoering: frist", True),
        (PlanDate(2025, 3), "politisk: frist", False),
    ]
    assert [m.label for m in tl.months][:2] == ["juni 2024", "juli 2024"]
    spans = {cell.month for row in tl.rows for cell in row.cells if cell.spans}
    assert spans == {"2024-06", "2024-07", "2024-08", "2024-09"}


def test_labels_are_the_catalogues_bokmal():
    assert labels.stage_kind("forum_approval") == "behandling i utvalg"
    assert labels.stage_status("active", 2) == "pågår (runde 2)"
    assert labels.treatment("approved_with_reservations") == "godkjent med merknader"
    assert labels.treatment(None) is None
    assert labels.plan_date("2024-11") == "nov. 2024" and labels.plan_date(dt.date(2024, 11, 7)) == "07.11.2024"
    assert labels.progress("forum_approval", Progress(done=1, of=3, approved=["ASU"], returned=["FU"])) == "1/3 godkjent (ASU); sendt tilbake: FU"
    assert labels.progress("hearing", Progress(waits_for=["utkast"])) == "venter på utkast"


def test_progress_is_worded_from_its_facts_so_a_new_kind_needs_only_its_count_word():
    assert labels.progress("hearing", Progress(done=2, of=3, note="fristen gikk ut")) == "2/3 svar; fristen gikk ut"
    assert labels.progress("political_treatment", Progress(done=0, of=21)) == "0/21 vedtatt"
    assert labels.progress("draft", Progress()) == "pågår"
    assert labels.progress("draft", Progress(note="ferdig skrevet")) == "ferdig"
    assert labels.progress("signing", Progress(done=1, of=2)) == "1/2 signert"
    assert labels.progress("voting", Progress(done=1, of=2)) == "1/2 voting"  # a kind the catalogue lacks shows raw


def test_times_show_in_oslos_zone_whatever_the_servers(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert labels.timestamp(dt.datetime(2024, 11, 27, 13, 5)) == "27.11.2024 14:05"  # naive is UTC (SQLite)
        assert labels.timestamp(dt.datetime(2024, 6, 30, 22, 30, tzinfo=dt.timezone.utc)) == "01.07.2024 00:30"
    finally:
        monkeypatch.undo()
        time.tzset()
