"""Letter details: subjects as the reader sees them, calendar attachments named after what they
are, a forum's notice with its stage's documents, closing a hearing by hand, and the party
matrix after a hearing closes."""

from __future__ import annotations

import datetime as dt
import email
import html
import re
from email import policy

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, Language
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import OutboxMessage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.handlers import handle
from avtaleflyt.tasks.letters import preview
from avtaleflyt.tasks.outbox import build_email
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision
from avtaleflyt.tasks.sweep import sweep_revision

from .outbox_rows import msg
from .plans import SMALL_PLAN
from .web import log_in

SLUG = "testrevisjon-2024"
IN_HEARING = dt.date(2024, 6, 25)  # the hearing is open; its deadline is 2024-09-10
# Forums with an address (they get the meeting notice), two documents, a hearing keyed as in the issue.
PLAN = (
    SMALL_PLAN.replace("{key: ASU, name: Administrativt samarbeidsutvalg}", "{key: ASU, name: Administrativt samarbeidsutvalg, email: asu@example.no}")
    .replace("  - {key: overordnet, title: Overordnet samarbeidsavtale}", "  - {key: overordnet, title: Overordnet samarbeidsavtale}\n  - {key: retningslinje-9, title: Retningslinje om utskrivning}")
    .replace("{key: hoering, kind: hearing,", "{key: hoering-1, kind: hearing,")
)


@pytest.fixture
def engine(domain_db_url):
    return engine_for(domain_db_url)


def reconcile(engine, today: dt.date = IN_HEARING) -> None:
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=today)


def to_the_hearing(engine, *, plan: str = PLAN) -> None:
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "t")
    reconcile(engine)
    with session_scope(engine) as s:
        records.complete_draft(s, SLUG, stage_key=None, actor="t")
    reconcile(engine)
    with session_scope(engine) as s:
        records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=IN_HEARING, actor="t")
    reconcile(engine)


def letters(engine, event: EmailEvent) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.to_name)).all())
        s.expunge_all()
    return rows


def as_received(row) -> email.message.EmailMessage:  # noqa: ANN001
    """The message as a mail client reads it: serialized as sent, parsed back."""
    return email.message_from_bytes(build_email(row, "Sekretariatet <sekretariat@example.no>").as_bytes(policy=policy.SMTP), policy=policy.default)


# --------------------------------------------------------------------------- subjects


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("event", list(EmailEvent))
def test_a_subject_arrives_with_single_spaces(event: EmailEvent, language: Language) -> None:
    # The stdlib folded `… 2024 – Trondheim kommune` as `2024 \r\n =?utf-8?b?4oCT?= …`: two spaces in the reader's client.
    subject = preview(event, language).subject
    assert "  " not in subject
    received = str(as_received(msg(1, subject=subject, event=event, language=language))["Subject"])
    assert received == subject


def test_the_subjects_of_real_letters_arrive_as_written(engine) -> None:
    to_the_hearing(engine, plan=PLAN.replace("revision: Testrevisjon 2024", f"revision: Revidering av samarbeidsavtalen 2024\nslug: {SLUG}"))
    close_by_hand(engine)
    reconcile(engine)
    with session_scope(engine) as s:
        for forum in ("ASU", "FU", "PSU"):
            records.record_forum_decision(s, SLUG, forum=forum, outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=dt.date(2024, 12, 1), actor="t")
    reconcile(engine, dt.date(2024, 12, 1))
    for day in (dt.date(2025, 2, 15), dt.date(2025, 3, 2)):  # a reminder, then an overdue notice
        with session_scope(engine) as s:
            sweep_revision(s, SLUG, day)
    with session_scope(engine) as s:
        rows = list(s.exec(select(OutboxMessage)).all())
        s.expunge_all()
    assert {r.event for r in rows} >= {
        EmailEvent.hearing_invitation, EmailEvent.decision_request, EmailEvent.decision_reminder, EmailEvent.overdue_notice, EmailEvent.stage_completed,
    }
    for row in rows:
        assert "  " not in row.subject
        assert str(as_received(row)["Subject"]) == row.subject


# --------------------------------------------------------------------------- calendar attachments


def test_a_calendar_attachment_is_named_after_its_stage_and_date(engine) -> None:
    to_the_hearing(engine)
    names = {}
    for row in letters(engine, EmailEvent.hearing_invitation) + letters(engine, EmailEvent.forum_meeting_notice):
        (attachment,) = as_received(row).iter_attachments()
        names[row.to_name] = attachment.get_filename()
    assert names == {
        "St. Olavs hospital HF": "hoering-1-frist-2024-09-10.ics",
        "Trondheim kommune": "hoering-1-frist-2024-09-10.ics",
        "Malvik kommune": "hoering-1-frist-2024-09-10.ics",  # nynorsk: the same word
        "Administrativt samarbeidsutvalg": "hoeringsforslag-mote-2024-06-19.ics",
    }


# --------------------------------------------------------------------------- a forum's notice


def _notice_documents(engine) -> str:
    (notice,) = letters(engine, EmailEvent.forum_meeting_notice)
    return notice.body_text


def test_a_forum_notice_lists_only_its_stage_documents(engine) -> None:
    forum_stage = "{key: hoeringsforslag, kind: forum_approval, forums: [ASU], meeting: 2024-06-19"
    assert forum_stage in PLAN
    to_the_hearing(engine, plan=PLAN.replace(forum_stage, forum_stage + ", documents: [retningslinje-9]"))
    text = _notice_documents(engine)
    assert "Retningslinje om utskrivning" in text
    assert "Overordnet samarbeidsavtale" not in text


def test_a_forum_stage_names_only_documents_of_the_plan() -> None:
    forum_stage = "{key: hoeringsforslag, kind: forum_approval, forums: [ASU], meeting: 2024-06-19"
    with pytest.raises(PlanInvalid) as refused:
        parse_plan(PLAN.replace(forum_stage, forum_stage + ", documents: [retningslinje-99]"))
    assert [(p.place, p.message) for p in refused.value.problems] == [
        ("stages[1].documents[0]", "unknown document 'retningslinje-99'; known: overordnet, retningslinje-9"),
    ]


def test_a_forum_notice_of_a_stage_without_documents_lists_every_document(engine) -> None:
    to_the_hearing(engine)
    text = _notice_documents(engine)
    assert "Retningslinje om utskrivning" in text and "Overordnet samarbeidsavtale" in text


# --------------------------------------------------------------------------- closing a hearing by hand


def close_by_hand(engine, today: dt.date = IN_HEARING) -> None:
    with session_scope(engine) as s:
        handle(s, parse_command({"action": "hearing_close", "revision": SLUG}), actor="kari", today=today)


def test_closing_a_hearing_by_hand_tells_the_parties_that_had_not_answered(engine) -> None:
    to_the_hearing(engine)
    with session_scope(engine) as s:
        records.record_hearing_response(s, SLUG, party="Malvik kommune", on=dt.date(2024, 6, 24), today=IN_HEARING, actor="t")
    close_by_hand(engine)
    told = letters(engine, EmailEvent.hearing_deadline_passed)
    assert [r.to_name for r in told] == ["St. Olavs hospital HF", "Trondheim kommune"]
    assert all("avsluttet før fristen tirsdag 10. september 2024" in r.body_text for r in told)
    assert all("Vi har ikke registrert noe innspill" in r.body_text for r in told)

    # The sweep after the deadline, before the run reconciled: the invitees already told get nothing twice.
    with session_scope(engine) as s:
        sweep_revision(s, SLUG, dt.date(2024, 9, 11))
    told = letters(engine, EmailEvent.hearing_deadline_passed)
    assert sorted(r.to_name for r in told) == ["Malvik kommune", "St. Olavs hospital HF", "Trondheim kommune"]


# --------------------------------------------------------------------------- the party matrix


def test_the_matrix_shows_who_never_answered_a_closed_hearing(engine) -> None:
    to_the_hearing(engine)
    with session_scope(engine) as s:
        records.record_hearing_response(s, SLUG, party="Malvik kommune", on=dt.date(2024, 6, 24), today=IN_HEARING, actor="t")
    client = log_in(TestClient(create_app(engine, today=lambda: IN_HEARING, prefect_ui=None)), engine)

    def cells() -> dict[str, str]:
        page = client.get(f"/revisions/{SLUG}")
        assert page.status_code == 200
        rows = re.findall(r'<tr data-party="([^"]+)">(.*?)</tr>', page.text, re.S)
        return {html.unescape(name): html.unescape(re.findall(r'<td class="cell[^"]*">([^<]*)', row)[0]).strip() for name, row in rows}

    assert cells() == {"Malvik kommune": "svart 24.06.2024", "St. Olavs hospital HF": "invitert", "Trondheim kommune": "invitert"}
    close_by_hand(engine)
    reconcile(engine)
    assert cells() == {"Malvik kommune": "svart 24.06.2024", "St. Olavs hospital HF": "ikke svart", "Trondheim kommune": "ikke svart"}
