"""The example revision driven through nine months, day by day, with `reminders run
--as-of`: every letter the parties, forums and coordinators receive, through a real
SMTP server, in the right language, each exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import ForumOutcome, OutboxStatus, PartyOutcome
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import OutboxMessage, Party
from avtaleflyt.tasks import records
from avtaleflyt.tasks.outbox import message_id
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"
START, END = dt.date(2024, 6, 10), dt.date(2025, 3, 15)
runner = CliRunner()
D = dt.date


def record(fn, day, **kwargs):
    with session_scope() as s:
        fn(s, SLUG, actor="sekretariatet", **kwargs)


def reconcile(day):
    with session_scope() as s:
        reconcile_revision(s, SLUG, today=day)


def sweep(day):
    result = runner.invoke(app, ["reminders", "run", "--as-of", day.isoformat()])
    assert result.exit_code == 0, result.output


def test_nine_months_of_letters(mail):
    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope() as s:
        store_revision(s, parse_plan(source), source, "sekretariatet")
        parties = sorted(p.name for p in s.exec(select(Party)))
    trust = "St. Olavs hospital HF"
    early = [p for p in parties if p not in (trust, "Trondheim kommune")][:15]  # decide on time
    late = [p for p in parties if p not in early + [trust, "Trondheim kommune"]]  # decide after the deadline
    assert len(early) == 15 and len(late) == 4

    decided = lambda who, on, outcome=PartyOutcome.approved: lambda d: [  # noqa: E731
        record(records.record_party_decision, d, party=p, outcome=outcome, on=on, today=d) for p in who
    ]
    events = {
        D(2024, 6, 18): lambda d: record(records.complete_draft, d, stage_key="utkast"),
        D(2024, 6, 19): lambda d: record(records.record_forum_decision, d, forum="ASU", outcome=ForumOutcome.approved, on=d, today=d, case_no="09-2024"),
        D(2024, 8, 20): lambda d: record(records.record_hearing_response, d, party="Trondheim kommune", on=d, today=d, stage_key="hoering-1"),
        D(2024, 9, 5): lambda d: record(records.record_hearing_response, d, party=trust, on=d, today=d, stage_key="hoering-1"),
        D(2024, 9, 10): lambda d: record(records.complete_draft, d, stage_key="utkast-ovrige"),
        D(2024, 9, 25): lambda d: record(records.record_forum_decision, d, forum="ASU", outcome=ForumOutcome.approved, on=d, today=d),
        D(2024, 11, 19): lambda d: record(records.record_forum_decision, d, forum="FU", outcome=ForumOutcome.approved, on=d, today=d),
        D(2024, 11, 25): lambda d: record(records.record_forum_decision, d, forum="fagråd", outcome=ForumOutcome.approved_with_changes, on=d, today=d),
        D(2024, 11, 27): lambda d: record(records.record_forum_decision, d, forum="ASU", outcome=ForumOutcome.approved, on=d, today=d, case_no="27-2024"),
        D(2025, 2, 13): decided(early + [trust], D(2025, 2, 13)),
        D(2025, 2, 20): decided(["Trondheim kommune"], D(2025, 2, 20), PartyOutcome.rejected),
        D(2025, 3, 12): decided(late, D(2025, 3, 12)),
    }
    day = START
    while day <= END:
        if day in events:
            events[day](day)
        reconcile(day)
        sweep(day)
        reconcile(day)  # a hearing the sweep closed lets the next stages start the same day
        day += dt.timedelta(days=1)
    sweep(END)  # send what the last pass enqueued

    with session_scope() as s:
        rows = list(s.exec(select(OutboxMessage)))
    assert {r.status for r in rows} == {OutboxStatus.sent}
    received = mail.handler.message_ids()
    assert sorted(received) == sorted(message_id(r.key) for r in rows), "every message exactly once"

    count = Counter(r.event.value for r in rows)
    mondays = sum(1 for n in range((D(2025, 3, 12) - START).days) if (START + dt.timedelta(days=n)).weekday() == 0)
    assert count == {
        "hearing_invitation": 21 + 21,
        "hearing_reminder": 20 + 19 + 21 + 21,  # hoering-1 at 14 and 3 days (Trondheim, then St. Olavs had answered); hoering-ovrige
        "hearing_deadline_passed": 21 + 21,
        "forum_meeting_notice": 1 + 1 + 4,  # ASU twice, then ASU, FU, PSU and fagråd for the final treatment
        "decision_request": 21,
        "decision_reminder": 5 + 4,  # 14 days before: Trondheim and the four late; 3 days before: the four late
        "overdue_notice": 4 + 4,  # the day after the deadline and a week later, to the four late
        "decision_receipt": 21,
        "stage_completed": 8,
        "signing_request": 20,  # the twenty that approved (Trondheim rejected): the revision goes on to the signing
        "weekly_digest": mondays,
        # Mondays on which a party owes an answer, decision or signature due within 30 days (or late):
        # one digest per party address and week (issue 16), as measured on this run
        "party_digest": 244,
    }

    # In the recipient's language: Heim and Rindal write nynorsk.
    by_id = {r.message_id: r.message for r in mail.handler.received}
    languages = {}
    for row in rows:
        if row.party_id is not None:
            languages.setdefault(row.to_address, set()).add(str(by_id[message_id(row.key)]["Content-Language"]))
    assert languages.pop("postmottak@heim.example.no") == {"nn"}
    assert languages.pop("postmottak@rindal.example.no") == {"nn"}
    assert set().union(*languages.values()) == {"nb"}
    heim_request = next(by_id[message_id(r.key)] for r in rows if r.event == "decision_request" and r.to_address == "postmottak@heim.example.no")
    heim_text = heim_request.get_body(("plain",)).get_content()
    assert "Framlegg til vedtak" in heim_text
    # the forums' approvals that sent it to the parties, in nynorsk; PSU never decided
    assert "Forhandlingsutvalget: vedteke tysdag 19. november 2024" in heim_text
    assert "Fagrådene: vedteke med endringar måndag 25. november 2024" in heim_text
    assert "Administrativt samarbeidsutvalg: vedteke onsdag 27. november 2024 (sak 27-2024)" in heim_text
    assert "Politisk samarbeidsutval" not in heim_text
    assert str(heim_request["Reply-To"]) == "sekretariat@example.no"
    calendar = next(part for part in heim_request.walk() if part.get_content_type() == "text/calendar")
    assert "DTSTART;VALUE=DATE:20250228" in calendar.get_content()  # Saturday 1 March 2025 as the letter writes it


def test_dry_run_shows_what_is_due_and_writes_nothing(mail):
    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope() as s:
        store_revision(s, parse_plan(source), source, "sekretariatet")
    reconcile(D(2024, 6, 17))
    record(records.complete_draft, None, stage_key="utkast")
    reconcile(D(2024, 6, 18))
    record(records.record_forum_decision, None, forum="ASU", outcome=ForumOutcome.approved, on=D(2024, 6, 19), today=D(2024, 6, 19))
    reconcile(D(2024, 6, 19))
    with session_scope() as s:
        before = len(s.exec(select(OutboxMessage)).all())
    received = len(mail.handler.received)

    result = runner.invoke(app, ["reminders", "run", "--as-of", "2024-09-11", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{SLUG}: 21 due, would enqueue 21; stages to close at their date: hoering-1" in result.stdout
    with session_scope() as s:
        assert len(s.exec(select(OutboxMessage)).all()) == before
    assert len(mail.handler.received) == received
    assert "hoering-1" in [st["key"] for st in json_show() if st["status"] == "active"]


def json_show():
    import json

    result = runner.invoke(app, ["revision", "show", SLUG, "--json"])
    return json.loads(result.stdout)["stages"]


def test_the_sweep_says_so_when_the_domain_database_is_unreachable():
    import datetime as dt

    from sqlalchemy import create_engine

    from avtaleflyt.stack import free_port
    from avtaleflyt.tasks.sweep import run_sweep

    nobody = create_engine(f"postgresql+psycopg://avtaleflyt@127.0.0.1:{free_port()}/avtaleflyt", connect_args={"connect_timeout": 2})
    report = run_sweep(dt.date(2024, 9, 1), engine=nobody)
    assert report.revisions == [] and report.enqueued == 0
    assert len(report.errors) == 1 and report.errors[0].startswith("domain database unreachable, no revision swept: ")
