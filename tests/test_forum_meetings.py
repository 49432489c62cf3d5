"""Per-forum meetings (issue 14): a forum stage may give each forum its own meeting date, time
and place (`meetings:`); each forum gets its own notice and calendar entry, a shift of one
forum's meeting tells only that forum, and the Fremdriftsplan and the dashboard show each
forum's own meeting, by name. Real SQLite and PostgreSQL, no Prefect."""

from __future__ import annotations

import datetime as dt

import pytest
from avtaleflyt.models.enums import EmailEvent
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import OutboxMessage, Stage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift
from avtaleflyt.tasks.store import store_revision
from icalendar import Calendar
from sqlmodel import select

from avtaleflyt.db import engine_for, session_scope

SLUG = "revidering-vest-2022"
TODAY = dt.date(2022, 2, 1)
MEETINGS = """    meeting: 2022-03-10
    meetings:
      SU-BERGEN: 2022-03-08
      SU-VEST: {date: 2022-03-15, time: "13:00-15:00", place: "Haukeland, møterom 3"}
      SU-NORD: {time: "09:30", place: Knarvik}
"""
PLAN = f"""
helsefellesskap: Helsefellesskap Vest
revision: Revidering vest 2022
slug: {SLUG}
coordinators: [{{name: Sekretariatet, email: sekretariat@example.no}}]
documents:
  - {{key: overordnet, title: Overordnet samarbeidsavtale}}
parties:
  - {{name: Helse Bergen HF, kind: health_trust, org_number: "983974724", email: post@helse-bergen.example.no, body: Styret}}
  - {{name: Bergen kommune, kind: municipality, org_number: "964338531", email: post@bergen.example.no, body: Bystyret}}
forums:
  - {{key: SU-BERGEN, name: Samarbeidsutvalet Bergen, email: su-bergen@example.no}}
  - {{key: SU-VEST, name: Samarbeidsutvalet Vest, email: su-vest@example.no}}
  - {{key: SU-NORD, name: Samarbeidsutvalet Nordhordland, email: su-nord@example.no}}
  - {{key: SU-SOR, name: Samarbeidsutvalet Sør, email: su-sor@example.no}}
stages:
  - {{key: utkast, kind: draft, due: 2022-02-01}}
  - key: samarbeidsutval
    kind: forum_approval
    forums: [SU-BERGEN, SU-VEST, SU-NORD, SU-SOR]
    required: 3
    case: {{number: 05-2022, proposed_resolution: Samarbeidsutvalet godkjenner avtalen.}}
{MEETINGS}  - {{key: politisk, kind: political_treatment, deadline: 2022-06-01}}
"""


def edited(old: str, new: str, text: str = PLAN) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(PLAN), PLAN, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    with session_scope(engine) as s:
        records.complete_draft(s, SLUG, stage_key="utkast", actor="t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    return engine


def letters(engine, event: EmailEvent) -> dict[str, OutboxMessage]:
    with session_scope(engine) as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.event == event, OutboxMessage.party_id == None).order_by(OutboxMessage.id)))
        for row in rows:
            s.expunge(row)
    return {m.to_address.split("@")[0]: m for m in rows}


def event_of(message: OutboxMessage):
    (event,) = Calendar.from_ical(message.ics).walk("VEVENT")
    return event


# --- the plan -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meetings, problem",
    [
        ("    meetings: {SU-ØST: 2022-03-08}\n", "stages[1].meetings.SU-ØST: 'SU-ØST' is not one of this stage's forums"),
        ("    meetings: {SU-VEST: {date: 2022-03-15, time: '25:00'}}\n", "stages[1].meetings.SU-VEST.time: '25:00' is not a time"),
        ("    meetings: {SU-VEST: {date: 2022-03-15, time: '15:00-13:00'}}\n", "the meeting ends before it starts"),
        ("    meetings: {SU-BERGEN: 2022-03-08, SU-VEST: 2022-03-15, SU-NORD: 2022-03-16}\n", "stages[1].meetings.SU-SOR: no meeting date for 'SU-SOR'"),
        ("    meetings: {SU-BERGEN: 2022-03-08, SU-VEST: 2022-03-15, SU-NORD: {place: Knarvik}, SU-SOR: 2022-03-17}\n",
         "stages[1].meetings.SU-NORD.date: no meeting date for 'SU-NORD'"),
    ],
)
def test_plan_check_names_a_bad_meetings_entry(meetings, problem):
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(edited(MEETINGS, meetings))
    assert problem in str(caught.value)


def test_meetings_instead_of_meeting_and_an_unquoted_time():
    plan = parse_plan(edited(MEETINGS, "    meetings: {SU-BERGEN: 2022-03-08, SU-VEST: 2022-03-15, SU-NORD: {date: 2022-03-16, time: 13:00}, SU-SOR: 2022-03-17}\n")).plan
    stage = plan.stages[1]
    assert stage.meeting is None and stage.meetings["SU-NORD"].time == "13:00"  # YAML reads 13:00 as 780 (base 60)


# --- each forum's own notice and calendar entry -----------------------------------------------


def test_each_forum_gets_its_own_notice_with_its_date_time_and_place(engine):
    notices = letters(engine, EmailEvent.forum_meeting_notice)
    assert sorted(notices) == ["su-bergen", "su-nord", "su-sor", "su-vest"]
    vest = notices["su-vest"]
    assert "Møtedato: tysdag 15. mars 2022" in vest.body_text or "Møtedato: tirsdag 15. mars 2022" in vest.body_text, vest.body_text
    assert "Tid: kl. 13:00–15:00" in vest.body_text and "Møtested: Haukeland, møterom 3" in vest.body_text
    assert "13:00–15:00" in vest.body_html and "Haukeland, møterom 3" in vest.body_html
    assert "8. mars 2022" in notices["su-bergen"].body_text and "Tid:" not in notices["su-bergen"].body_text
    assert "10. mars 2022" in notices["su-sor"].body_text  # no entry: the stage's meeting
    nord = notices["su-nord"]
    assert "10. mars 2022" in nord.body_text and "Tid: kl. 09:30" in nord.body_text and "Møtested: Knarvik" in nord.body_text
    assert {m.due for m in notices.values()} == {dt.date(2022, 3, 8), dt.date(2022, 3, 15), dt.date(2022, 3, 10)}
    # the case paper is in every notice (issue 13), without a meeting date of its own: the notice gives each forum's
    paper = vest.body_text.split("Saksframstillingen til møtet følger her", 1)[1]
    assert "Samarbeidsutvalet godkjenner avtalen." in paper and "05-2022" in vest.body_text
    assert "10.03.2022" not in paper and "10. mars" not in paper


def test_a_timed_meeting_is_a_timed_calendar_entry_in_oslo_time(engine):
    notices = letters(engine, EmailEvent.forum_meeting_notice)
    vest = event_of(notices["su-vest"])
    start, end = vest.decoded("DTSTART"), vest.decoded("DTEND")
    assert (start.date(), start.time(), end.time()) == (dt.date(2022, 3, 15), dt.time(13), dt.time(15))
    assert str(start.tzinfo) == "Europe/Oslo" and vest["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert start.utcoffset() == dt.timedelta(hours=1)  # CET in March before the change
    assert str(vest["LOCATION"]) == "Haukeland, møterom 3"
    assert "BEGIN:VTIMEZONE" in notices["su-vest"].ics and "TZID:Europe/Oslo" in notices["su-vest"].ics
    nord = event_of(notices["su-nord"])
    assert nord.decoded("DTSTART") == dt.datetime(2022, 3, 10, 9, 30, tzinfo=nord.decoded("DTSTART").tzinfo)
    assert nord.decoded("DTEND") - nord.decoded("DTSTART") == dt.timedelta(hours=1)  # no end given
    bergen = event_of(notices["su-bergen"])
    assert bergen.decoded("DTSTART") == dt.date(2022, 3, 8) and "LOCATION" not in bergen  # all day, as before


def test_the_stage_row_keeps_the_meetings(engine):
    with session_scope(engine) as s:
        stage = s.exec(select(Stage).where(Stage.key == "samarbeidsutval")).one()
        assert stage.meeting == "2022-03-10"
        assert stage.meetings == {
            "SU-BERGEN": {"date": "2022-03-08"},
            "SU-VEST": {"date": "2022-03-15", "time": "13:00-15:00", "place": "Haukeland, møterom 3"},
            "SU-NORD": {"time": "09:30", "place": "Knarvik"},
        }


# --- a shift of one forum's meeting -------------------------------------------------------------


def shift(engine, text: str):
    with session_scope(engine) as s:
        return apply_shift(s, SLUG, text, actor="Kari Nordmann", reason="SU Vest møtes en uke senere", today=TODAY)


def test_a_shift_of_one_forums_meeting_tells_only_that_forum(engine):
    applied = shift(engine, edited("SU-VEST: {date: 2022-03-15,", "SU-VEST: {date: 2022-03-22,"))
    (move,) = applied.preview.shift.date_moves
    assert (move.stage, move.field, move.forum, str(move.before), str(move.after)) == ("samarbeidsutval", "meeting", "SU-VEST", "2022-03-15", "2022-03-22")
    assert applied.preview.shift.stages_changed == []  # a date move, not a change of the stage
    assert [n.forum for n in applied.preview.forum_notices] == ["SU-VEST"]
    moved = letters(engine, EmailEvent.deadline_moved)
    assert sorted(moved) == ["su-vest"]
    entry = event_of(moved["su-vest"])
    notice = event_of(letters(engine, EmailEvent.forum_meeting_notice)["su-vest"])
    assert str(entry["UID"]) == str(notice["UID"])  # the notice's calendar entry, moved
    assert entry.decoded("DTSTART").replace(tzinfo=None) == dt.datetime(2022, 3, 22, 13) and str(entry["LOCATION"]) == "Haukeland, møterom 3"
    with session_scope(engine) as s:
        stage = s.exec(select(Stage).where(Stage.key == "samarbeidsutval")).one()
        assert stage.meetings["SU-VEST"]["date"] == "2022-03-22" and stage.meeting == "2022-03-10"


def test_a_shift_of_the_stages_meeting_tells_the_forums_without_their_own(engine):
    applied = shift(engine, edited("    meeting: 2022-03-10\n", "    meeting: 2022-03-11\n"))
    assert [n.forum for n in applied.preview.forum_notices] == ["SU-NORD", "SU-SOR"]
    assert sorted(letters(engine, EmailEvent.deadline_moved)) == ["su-nord", "su-sor"]


def test_a_forum_given_its_own_day_is_told(engine):
    applied = shift(engine, edited("      SU-NORD: {time:", "      SU-SOR: 2022-03-17\n      SU-NORD: {time:"))
    (move,) = applied.preview.shift.date_moves
    assert (move.forum, str(move.before), str(move.after)) == ("SU-SOR", "2022-03-10", "2022-03-17")
    assert sorted(letters(engine, EmailEvent.deadline_moved)) == ["su-sor"]


def test_a_new_time_or_place_of_a_running_stage_is_allowed(engine):
    applied = shift(engine, edited('time: "13:00-15:00"', 'time: "14:00-16:00"'))
    assert applied.preview.shift.stages_changed == ["samarbeidsutval: meetings"] and not applied.preview.shift.date_moves


# --- the Fremdriftsplan and its calendar: each forum's own meeting, by name ------------------------


def test_the_fremdriftsplan_shows_each_forums_meeting_by_name(engine):
    from avtaleflyt.tasks import export

    with session_scope(engine) as s:
        _, pages = export.plan_pages(s, SLUG)
    rows = [(r.when, r.what, r.about, r.responsible) for r in pages[-1].rows]
    title = "samarbeidsutval"
    assert ("08.03.2022", "Møte i Samarbeidsutvalet Bergen", title, "Samarbeidsutvalet Bergen") in rows
    assert ("10.03.2022", "Møte i Samarbeidsutvalet Sør", title, "Samarbeidsutvalet Sør") in rows
    assert ("10.03.2022 kl. 09:30", "Møte i Samarbeidsutvalet Nordhordland", f"{title} (Knarvik)", "Samarbeidsutvalet Nordhordland") in rows
    assert ("15.03.2022 kl. 13:00–15:00", "Møte i Samarbeidsutvalet Vest", f"{title} (Haukeland, møterom 3)", "Samarbeidsutvalet Vest") in rows
    assert not any("SU-" in cell for row in rows for cell in row)  # names, not keys
    with session_scope(engine) as s:
        feed = Calendar.from_ical(export.plan_ics(s, SLUG))
    meetings = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT") if str(e["SUMMARY"]).startswith("Møte i")}
    assert sorted(meetings) == [f"Møte i Samarbeidsutvalet {n}: {title}" for n in ("Bergen", "Nordhordland", "Sør", "Vest")]
    vest = meetings[f"Møte i Samarbeidsutvalet Vest: {title}"]
    assert vest.decoded("DTSTART").replace(tzinfo=None) == dt.datetime(2022, 3, 15, 13) and str(vest["DTSTART"].params["TZID"]) == "Europe/Oslo"
    assert len({str(e["UID"]) for e in meetings.values()}) == 4


# --- the dashboard: names, not keys; each forum's own meeting on the page, in the API and the timeline --


def test_the_dashboard_shows_forum_names_and_each_forums_meeting(engine):
    from avtaleflyt.models.enums import ForumOutcome, Role
    from fastapi.testclient import TestClient

    from avtaleflyt.dashboard import create_app

    from .web import log_in

    with session_scope(engine) as s:
        records.record_forum_decision(s, SLUG, forum="SU-BERGEN", outcome=ForumOutcome.approved, on=dt.date(2022, 3, 8), today=dt.date(2022, 3, 9), actor="t")
    client = log_in(TestClient(create_app(engine, today=lambda: dt.date(2022, 3, 9), prefect_ui="http://127.0.0.1:9")), engine, Role.reader)
    api = client.get(f"/api/revisions/{SLUG}").json()
    (stage,) = [s for s in api["stages"] if s["key"] == "samarbeidsutval"]
    assert stage["forum_names"] == ["Samarbeidsutvalet Bergen", "Samarbeidsutvalet Vest", "Samarbeidsutvalet Nordhordland", "Samarbeidsutvalet Sør"]
    assert "meeting" not in stage["dates"]
    assert [(m["forum"], m["date"], m["time"], m["place"]) for m in stage["meetings"]] == [
        ("SU-BERGEN", "2022-03-08", None, None),
        ("SU-VEST", "2022-03-15", "13:00-15:00", "Haukeland, møterom 3"),
        ("SU-NORD", "2022-03-10", "09:30", "Knarvik"),
        ("SU-SOR", "2022-03-10", None, None),
    ]
    assert "(Samarbeidsutvalet Bergen)" in stage["progress"] and "SU-" not in stage["progress"]
    page = client.get(f"/revisions/{SLUG}").text
    assert "Samarbeidsutvalet Bergen, Samarbeidsutvalet Vest, Samarbeidsutvalet Nordhordland, Samarbeidsutvalet Sør" in page
    assert "Samarbeidsutvalet Vest 15.03.2022 kl. 13:00–15:00, Haukeland, møterom 3" in page
    coordinator = log_in(TestClient(create_app(engine, today=lambda: dt.date(2022, 3, 9), prefect_ui="http://127.0.0.1:9")), engine, Role.coordinator)
    form = coordinator.get(f"/revisions/{SLUG}").text.split('id="form-forum-decision"', 1)[1].split("</form>", 1)[0]
    assert '<option value="SU-VEST">Samarbeidsutvalet Vest</option>' in form  # the name shown, the key sent
    rows = {row["body"]: row for row in api["timeline"]["rows"]}
    march = {body: [(i["day"], i["label"]) for c in row["cells"] if c["month"] == "2022-03" for i in c["items"]] for body, row in rows.items()}
    assert [day for day, _ in march["Samarbeidsutvalet Vest"]] == [15] and [day for day, _ in march["Samarbeidsutvalet Bergen"]] == [8]
    assert [day for day, _ in march["Samarbeidsutvalet Sør"]] == [10]
    assert not any(body.startswith("SU-") for body in rows)


def test_the_weekly_digest_lists_each_meeting_day_with_its_forums(engine):
    from avtaleflyt.tasks.digests import coordinator_digests

    with session_scope(engine) as s:
        (digest, *_) = coordinator_digests(s, dt.date(2022, 3, 7))
        text = digest.body_text
    assert "08.03.2022 Møte i utvalg: samarbeidsutval (Samarbeidsutvalet Bergen)" in text, text
    assert "10.03.2022 Møte i utvalg: samarbeidsutval (Samarbeidsutvalet Nordhordland, Samarbeidsutvalet Sør)" in text
    assert "15.03.2022 Møte i utvalg: samarbeidsutval (Samarbeidsutvalet Vest)" in text


def test_a_forums_own_meeting_before_the_stage_it_comes_after_is_refused():
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(edited("      SU-BERGEN: 2022-03-08\n", "      SU-BERGEN: 2022-01-20\n"))
    assert "starts 2022-01-20, before stage 'utkast' it comes after ends (2022-02-01)" in str(caught.value)


def test_a_plan_made_for_another_year_moves_each_forums_meeting():
    from avtaleflyt.models.rebase import rebase

    text = rebase(PLAN, dt.date(2023, 1, 2)).text  # 336 days later
    stage = parse_plan(text).plan.stages[1]
    assert str(stage.meeting) == "2023-02-08" and str(stage.meetings["SU-BERGEN"].date) == "2023-02-06"
    assert str(stage.meetings["SU-VEST"].date) == "2023-02-13" and stage.meetings["SU-VEST"].time == "13:00-15:00"
    assert "      SU-BERGEN: 2023-02-06\n" in text  # written as it was, a date alone


def test_each_forums_meeting_moves_with_the_stage_it_comes_after():
    from avtaleflyt.models.shift import shift_plan

    before = parse_plan("moves_with_after: true\n" + PLAN).plan
    now = parse_plan("moves_with_after: true\n" + edited("due: 2022-02-01", "due: 2022-02-08")).plan
    moved = shift_plan(before, before, now, {})
    stage = moved.effective.stages[1]
    assert (str(stage.meeting), str(stage.meetings["SU-BERGEN"].date), str(stage.meetings["SU-VEST"].date)) == ("2022-03-17", "2022-03-15", "2022-03-22")
    assert stage.meetings["SU-VEST"].place == "Haukeland, møterom 3"
    forums = sorted((m.field, m.forum or "", m.moved_with) for m in moved.date_moves if m.stage == "samarbeidsutval")
    assert forums == [("meeting", "", "utkast"), ("meeting", "SU-BERGEN", "utkast"), ("meeting", "SU-VEST", "utkast")]


def test_the_next_date_and_what_is_overdue_count_each_forums_meeting(engine):
    from avtaleflyt.tasks.status import revision_views

    with session_scope(engine) as s:
        (view,) = revision_views(s, slug=SLUG, today=TODAY)
        meetings = [(d.day, d.what) for d in view.deadlines if d.stage == "samarbeidsutval"]
        assert view.next_deadline(TODAY).day == dt.date(2022, 3, 8)  # SU-BERGEN's own, before the stage's meeting
        assert meetings == [
            (dt.date(2022, 3, 8), "forum meeting (SU-BERGEN)"),
            (dt.date(2022, 3, 10), "forum meeting (SU-NORD, SU-SOR)"),
            (dt.date(2022, 3, 15), "forum meeting (SU-VEST)"),
        ]
        (later,) = revision_views(s, slug=SLUG, today=dt.date(2022, 3, 12))
        assert [d.day for d in later.deadlines if d.overdue] == [dt.date(2022, 3, 8), dt.date(2022, 3, 10)]


def test_three_of_four_forums_on_their_own_days_and_the_fourth_decides_later(engine):
    """The issue's case: each samarbeidsutval meets on its own day; the process goes on after the
    third approval; the fourth still decides, later, and is recorded and shown (by name)."""
    from avtaleflyt.models.enums import ForumOutcome, Role
    from avtaleflyt.models.tables import ForumDecision
    from fastapi.testclient import TestClient

    from avtaleflyt.dashboard import create_app

    from .web import log_in

    def decide(forum: str, on: dt.date, outcome: ForumOutcome = ForumOutcome.approved) -> None:
        with session_scope(engine) as s:
            records.record_forum_decision(s, SLUG, forum=forum, outcome=outcome, on=on, today=on, actor="t")
        with session_scope(engine) as s:
            reconcile_revision(s, SLUG, today=on)

    def statuses() -> dict[str, str]:
        with session_scope(engine) as s:
            return {st.key: st.status.value for st in s.exec(select(Stage))}

    decide("SU-BERGEN", dt.date(2022, 3, 8))
    decide("SU-NORD", dt.date(2022, 3, 10))
    decide("SU-SOR", dt.date(2022, 3, 10), ForumOutcome.postponed)
    assert statuses()["politisk"] == "pending"
    decide("SU-VEST", dt.date(2022, 3, 15))  # the third approval, on its own day
    assert statuses()["samarbeidsutval"] == "done" and statuses()["politisk"] == "active"
    client = log_in(TestClient(create_app(engine, today=lambda: dt.date(2022, 3, 16), prefect_ui="http://127.0.0.1:9")), engine, Role.reader)
    (stage,) = [s for s in client.get(f"/api/revisions/{SLUG}").json()["stages"] if s["key"] == "samarbeidsutval"]
    assert stage["progress"] == (
        "ferdig (3/4 godkjent: Samarbeidsutvalet Bergen, Samarbeidsutvalet Nordhordland, Samarbeidsutvalet Vest); gjenstår: Samarbeidsutvalet Sør"
    )

    items = client.get(f"/revisions/{SLUG}").text.split('id="oppfolgingspunkter"', 1)[1].split("</table>", 1)[0]
    assert "<td>Samarbeidsutvalet Sør</td>" in items and "SU-SOR" not in items  # its follow-up item, by name

    decide("SU-SOR", dt.date(2022, 4, 5))  # its later meeting
    with session_scope(engine) as s:
        latest = s.exec(select(ForumDecision).where(ForumDecision.forum_key == "SU-SOR").order_by(ForumDecision.decided_on.desc())).first()
        assert (latest.outcome, latest.decided_on) == (ForumOutcome.approved, dt.date(2022, 4, 5))
    assert statuses()["politisk"] == "active"
    (stage,) = [s for s in client.get(f"/api/revisions/{SLUG}").json()["stages"] if s["key"] == "samarbeidsutval"]
    assert stage["progress"].startswith("4/4 godkjent (") and "Samarbeidsutvalet Sør" in stage["progress"]
