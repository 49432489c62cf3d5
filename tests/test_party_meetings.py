"""Each party's meeting plan (issue 14): `parties[].meetings:` in the plan and `party meetings import`
(a secretariat's CSV); for the political stage each party's latest meeting before the deadline and the
day the case must be sent by; a party with no meeting in time flagged in `plan check` and on the
dashboard; the decision request names the party's own meeting. Real SQLite and PostgreSQL, no Prefect."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app as cli_app
from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import EmailEvent
from avtaleflyt.models.party_meetings import Meeting, MeetingsInvalid, meeting_in_time, read_meetings_csv
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import OutboxMessage, Party, PartyMeeting
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import org_number
from .web import log_in

SLUG = "revidering-vest-2022"
TODAY = dt.date(2022, 2, 1)
PLAN = f"""
helsefellesskap: Helsefellesskap Vest
revision: Revidering vest 2022
slug: {SLUG}
coordinators: [{{name: Sekretariatet, email: sekretariat@example.no}}]
documents:
  - {{key: overordnet, title: Overordnet samarbeidsavtale}}
case_deadline_days: 21
parties:
  - {{name: Helse Bergen HF, kind: health_trust, org_number: "983974724", email: post@helse-bergen.example.no, body: Styret,
      meetings: [2022-05-25]}}
  - name: Bergen kommune
    kind: municipality
    org_number: "964338531"
    email: post@bergen.example.no
    body: Bystyret
    meetings:
      - {{date: 2022-04-27, body: Formannskapet}}
      - {{date: "19.05.2022", body: Bystyret, case_deadline_days: 28}}
      - 2022-06-15
  - {{name: Askøy kommune, kind: municipality, org_number: "{org_number(1)}", email: post@askoy.example.no, body: Kommunestyret,
      language: nn, meetings: [2022-06-16]}}
  - {{name: Øygarden kommune, kind: municipality, org_number: "{org_number(2)}", email: post@oygarden.example.no, body: Kommunestyret}}
stages:
  - {{key: utkast, kind: draft, due: 2022-02-01}}
  - {{key: politisk, kind: political_treatment, deadline: 2022-06-01}}
"""
runner = CliRunner()


@pytest.fixture
def engine(domain_db_url):
    get_settings.cache_clear()
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


def requests(engine) -> dict[str, OutboxMessage]:
    with session_scope(engine) as s:
        names = {p.id: p.name for p in s.exec(select(Party))}
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.event == EmailEvent.decision_request)))
        for row in rows:
            s.expunge(row)
    return {names[r.party_id]: r for r in rows}


def stored(engine) -> dict[str, list[tuple[dt.date, str | None, int, str]]]:
    with session_scope(engine) as s:
        names = {p.id: p.name for p in s.exec(select(Party))}
        found: dict[str, list] = {}
        for m in s.exec(select(PartyMeeting).order_by(PartyMeeting.date)):
            found.setdefault(names[m.party_id], []).append((m.date, m.body, m.case_deadline_days, m.source))
    return found


def parties_on_dashboard(engine) -> dict[str, dict]:
    client = log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine)
    detail = client.get(f"/api/revisions/{SLUG}").json()
    page = client.get(f"/revisions/{SLUG}").text
    return {p["name"]: p["planned_meeting"] for p in detail["parties_detail"]} | {"(page)": page}


def cli(*args: str, expect: int = 0):
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == expect, result.output
    return result


# --- the rule and the plan ---------------------------------------------------------------------


def test_latest_meeting_on_or_before_the_deadline_and_its_send_by_day():
    meetings = [Meeting(dt.date(2022, 4, 27), None, 21), Meeting(dt.date(2022, 5, 19), "Bystyret", 28), Meeting(dt.date(2022, 6, 15), None, 21)]
    found = meeting_in_time(meetings, PlanDate.parse("2022-06-01"))
    assert (found.meeting.date, found.send_by, found.flagged) == (dt.date(2022, 5, 19), dt.date(2022, 4, 21), False)
    # A month deadline runs to its last day.
    assert meeting_in_time(meetings, PlanDate.parse("2022-06")).meeting.date == dt.date(2022, 6, 15)
    # Today past the latest one's send-by: the one before it, still reachable.
    nearer = [Meeting(dt.date(2022, 5, 5), None, 7), *meetings]  # its send-by (28.04) after the 19.05 one's (21.04)
    assert meeting_in_time(nearer, PlanDate.parse("2022-06-01"), today=dt.date(2022, 4, 22)).meeting.date == dt.date(2022, 5, 5)
    late = meeting_in_time(meetings, PlanDate.parse("2022-06-01"), today=dt.date(2022, 5, 1))
    assert (late.meeting.date, late.late, late.flagged) == (dt.date(2022, 5, 19), True, True)
    # None before the deadline: flagged; no plan at all: nothing to flag; a scheduled meeting overrides the plan.
    assert meeting_in_time(meetings[2:], PlanDate.parse("2022-06-01")).flagged
    assert not meeting_in_time([], PlanDate.parse("2022-06-01")).flagged
    scheduled = meeting_in_time(meetings[2:], PlanDate.parse("2022-06-01"), scheduled=dt.date(2022, 5, 30))
    assert (scheduled.meeting.date, scheduled.scheduled, scheduled.flagged) == (dt.date(2022, 5, 30), True, False)


def test_plan_check_warns_of_a_party_with_no_meeting_before_the_deadline(tmp_path):
    checked = parse_plan(PLAN)
    warnings = [str(w) for w in checked.warnings if ".meetings" in w.place]
    assert len(warnings) == 1, warnings
    assert "parties[2].meetings" in warnings[0] and "Askøy kommune: no meeting on or before stage 'politisk''s deadline 2022-06-01" in warnings[0]
    bergen = checked.plan.parties[1].meetings
    assert [(m.date, m.body, m.case_deadline_days) for m in bergen] == [
        (dt.date(2022, 4, 27), "Formannskapet", None), (dt.date(2022, 5, 19), "Bystyret", 28), (dt.date(2022, 6, 15), None, None),
    ]
    # A case that must be sent before the stage before it ends: warned too.
    later = parse_plan(PLAN.replace("due: 2022-02-01", "due: 2022-05-01"))
    sent_early = [(w.place, w.message) for w in later.warnings if w.message.endswith("can start")]
    assert sent_early == [
        ("parties[1].meetings", "Bergen kommune: the case must be sent by 2022-04-21 for its meeting on 2022-05-19, before stage 'politisk' can start")
    ]
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN, encoding="utf-8")
    result = cli("plan", "check", str(plan_file))
    assert "Askøy kommune: no meeting on or before" in result.output


def test_a_meeting_that_is_not_one_day_is_refused_naming_its_place():
    from avtaleflyt.models.plan import PlanInvalid

    with pytest.raises(PlanInvalid) as refused:
        parse_plan(PLAN.replace("meetings: [2022-06-16]", "meetings: [2022-06]"))
    assert any(p.place.startswith("parties[2].meetings[0]") and "not one day" in p.message for p in refused.value.problems), refused.value.problems


# --- stored, in the letters and on the dashboard -------------------------------------------------


def test_the_decision_request_names_the_partys_own_meeting_and_send_by_day(engine):
    assert stored(engine)["Bergen kommune"] == [
        (dt.date(2022, 4, 27), "Formannskapet", 21, "plan"), (dt.date(2022, 5, 19), "Bystyret", 28, "plan"), (dt.date(2022, 6, 15), None, 21, "plan"),
    ]
    sent = requests(engine)
    assert "Frist for vedtak: onsdag 1. juni 2022\nMøtet deres: Bystyret torsdag 19. mai 2022; saken må være sendt innen torsdag 21. april 2022 for å nå det møtet\n\n" in sent["Bergen kommune"].body_text
    assert "Blir saken behandlet i et annet møte" in sent["Bergen kommune"].body_text
    assert "Møtet deres" in sent["Bergen kommune"].body_html and "21. april 2022" in sent["Bergen kommune"].body_html
    assert "Møtet deres: Styret onsdag 25. mai 2022; saken må være sendt innen onsdag 4. mai 2022" in sent["Helse Bergen HF"].body_text
    # No meeting in time (nynorsk), no meeting plan: no meeting named; asked for the date as before.
    assert "Møtet dykkar" not in sent["Askøy kommune"].body_text and "Veit de alt når saka skal handsamast" in sent["Askøy kommune"].body_text
    assert "Møtet deres" not in sent["Øygarden kommune"].body_text


def test_the_dashboard_flags_a_party_with_no_meeting_in_time_and_party_schedule_overrides(engine):
    shown = parties_on_dashboard(engine)
    assert shown["Bergen kommune"] == {
        "date": "2022-05-19", "body": "Bystyret", "send_by": "2022-04-21", "flag": None, "flag_label": None,
    }
    assert shown["Askøy kommune"]["flag"] == "none_in_time" and shown["Askøy kommune"]["date"] is None
    assert shown["Øygarden kommune"] is None  # no meeting plan: nothing to flag
    assert "ingen møte før fristen" in shown["(page)"] and "send saken innen 21.04.2022" in shown["(page)"]

    cli("party", "schedule", SLUG, "--party", "Askøy kommune", "--meeting", "2022-05-31")
    shown = parties_on_dashboard(engine)
    assert shown["Askøy kommune"] is None
    assert "ingen møte før fristen" not in shown["(page)"]


# --- party meetings import -----------------------------------------------------------------------


def test_import_a_secretariats_csv_replaces_the_partys_meetings(engine, tmp_path):
    csv_file = tmp_path / "moteplan.csv"
    csv_file.write_text("Dato;Organ;Frist\n12.05.2022;Kommunestyret;14\n\n2022-06-23;Kommunestyret;\n", encoding="utf-8")
    result = cli("party", "meetings", "import", SLUG, str(csv_file), "--party", "askøy kommune")
    assert "Askøy kommune: 2 meetings" in result.output
    assert stored(engine)["Askøy kommune"] == [
        (dt.date(2022, 5, 12), "Kommunestyret", 14, "import"), (dt.date(2022, 6, 23), "Kommunestyret", 21, "import"),
    ]
    assert parties_on_dashboard(engine)["Askøy kommune"] == {
        "date": "2022-05-12", "body": "Kommunestyret", "send_by": "2022-04-28", "flag": None, "flag_label": None,
    }

    # English header, `,`, a party column for several parties.
    csv_file.write_text("Party,Date,Body,Days before\nØygarden kommune,2022-05-05,Kommunestyret,21\nAskøy kommune,13.05.2022,,\n", encoding="utf-8")
    cli("party", "meetings", "import", SLUG, str(csv_file))
    meetings = stored(engine)
    assert meetings["Øygarden kommune"] == [(dt.date(2022, 5, 5), "Kommunestyret", 21, "import")]
    assert meetings["Askøy kommune"] == [(dt.date(2022, 5, 13), None, 21, "import")]


def test_import_refuses_every_bad_row_by_number_and_imports_nothing(engine, tmp_path):
    before = stored(engine)
    csv_file = tmp_path / "moteplan.csv"
    csv_file.write_text("Dato;Organ;Frist\n12.05.2022;Kommunestyret;14\n31.02.2022;Kommunestyret;14\nmai 2022;Kommunestyret;tre uker\n", encoding="utf-8")
    result = cli("party", "meetings", "import", SLUG, str(csv_file), "--party", "Askøy kommune", expect=2)
    assert "row 3, date:" in result.output and "not a real date" in result.output
    assert "row 4, date: 'mai 2022' is not one day" in result.output and "row 4, days: 'tre uker' is not a number of days" in result.output
    assert "nothing imported" in result.output and "row 2" not in result.output
    assert stored(engine) == before

    csv_file.write_text("Kommune;Dato\nAskøy kommune;12.05.2022\nOsterøy kommune;13.05.2022\n", encoding="utf-8")
    result = cli("party", "meetings", "import", SLUG, str(csv_file), expect=2)
    assert "row 3, party: no party named 'Osterøy kommune'" in result.output
    assert stored(engine) == before


def test_read_meetings_csv_refuses_a_file_without_a_date_column():
    with pytest.raises(MeetingsInvalid) as refused:
        read_meetings_csv("Organ;Frist\nKommunestyret;14\n")
    assert str(refused.value) == "row 1, (header): no date column: name it Dato or Date (and Organ/Body, Frist/Days, Part/Party)"
    rows = read_meetings_csv(b"\xef\xbb\xbfM\xc3\xb8tedato,Utvalg\r\n5.5.2022,Formannskapet\r\n")
    assert [(r.row, r.date, r.body) for r in rows] == [(2, dt.date(2022, 5, 5), "Formannskapet")]


def test_the_weekly_digest_lists_parties_without_a_meeting_in_time(engine):
    from avtaleflyt.tasks.digests import coordinator_digests

    def digest(as_of: dt.date) -> OutboxMessage:
        with session_scope(engine) as s:
            (message,) = coordinator_digests(s, as_of)  # composed, not stored
        return message

    text = digest(TODAY).body_text
    assert "Parter uten møte i tide før fristen:\n- Askøy kommune: ingen møte før fristen 01.06.2022\n\nE-poster som ikke kunne sendes:" in text, text
    assert "Bergen kommune:" not in text
    # Past Bergen's send-by days for 19.05 (21.04) and 27.04 (06.04): flagged as late; Helse Bergen's 04.05 not yet.
    late = digest(dt.date(2022, 4, 22))
    assert "- Askøy kommune: ingen møte før fristen 01.06.2022\n- Bergen kommune: møtet 19.05.2022: saken måtte være sendt innen 21.04.2022\n\n" in late.body_text
    assert "Helse Bergen HF:" not in late.body_text and "Bergen kommune: møtet 19.05.2022" in late.body_html


def test_a_revised_plan_replaces_the_partys_plan_meetings_and_keeps_imported_ones(engine, tmp_path):
    from avtaleflyt.tasks.shift import apply_shift

    csv_file = tmp_path / "moteplan.csv"
    csv_file.write_text("Dato;Organ\n05.05.2022;Kommunestyret\n", encoding="utf-8")
    cli("party", "meetings", "import", SLUG, str(csv_file), "--party", "Øygarden kommune")
    revised = PLAN.replace("language: nn, meetings: [2022-06-16]}", "language: nn, meetings: [2022-05-24, 2022-06-16]}")
    revised = revised.replace("body: Kommunestyret}\nstages:", "body: Kommunestyret, meetings: [2022-05-20]}\nstages:")
    assert revised.count("2022-05-24") == revised.count("2022-05-20") == 1
    with session_scope(engine) as s:
        apply_shift(s, SLUG, revised, actor="t", reason="møteplanen for 2022", today=TODAY)
    meetings = stored(engine)
    assert meetings["Askøy kommune"] == [(dt.date(2022, 5, 24), None, 21, "plan"), (dt.date(2022, 6, 16), None, 21, "plan")]
    assert meetings["Øygarden kommune"] == [(dt.date(2022, 5, 5), "Kommunestyret", 21, "import"), (dt.date(2022, 5, 20), None, 21, "plan")]
    assert meetings["Bergen kommune"][1] == (dt.date(2022, 5, 19), "Bystyret", 28, "plan")  # unchanged
    assert parties_on_dashboard(engine)["Askøy kommune"]["date"] == "2022-05-24"
