"""What a letter costs to write and send (issue 15): one transaction per message in the sender,
the MIME bytes written without the stdlib's `email.message`, a calendar built once per deadline,
the templates read once per process. (Speed itself is measured in bench/, never asserted here.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
from email import policy
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import event

from avtaleflyt import clock
from avtaleflyt.db import engine_for
from avtaleflyt.models.enums import EmailEvent, Language, OutboxStatus
from avtaleflyt.tasks import calendar, letters
from avtaleflyt.tasks.outbox import message_id, send_batch

from .outbox_rows import ICS, T0, add, msg, rows, settings_for


@pytest.fixture
def engine(domain_db_url: str):
    return engine_for(domain_db_url)


def test_the_sender_commits_once_per_message(engine, smtp_server):
    """The answer to one message is written in the transaction that fences the next (before, the
    fence and the mark were a commit each: 2 per message)."""
    n = 12
    keys = add(engine, *(msg(i, ics=ICS if i % 2 else None) for i in range(n)))
    commits: list[int] = []

    def count(conn) -> None:  # noqa: ANN001
        commits.append(1)

    event.listen(engine, "commit", count)
    report = asyncio.run(send_batch(engine, settings_for(smtp_server), now=T0))
    event.remove(engine, "commit", count)
    assert report.sent == n
    assert {r.status for r in rows(engine).values()} == {OutboxStatus.sent}
    assert smtp_server.handler.message_ids() == [message_id(k) for k in keys]
    # the first fence, n - 1 marks each with the next fence, the last mark; claiming the page,
    # finding no next page, releasing: n + 4 (was 2n + 3)
    assert len(commits) == n + 4, len(commits)


def test_the_sender_writes_mime_without_email_message(engine, smtp_server, monkeypatch):
    """The bytes are written directly (the stdlib's generator took ~2.5 ms a message); what arrives
    parses as before: alternatives, the .ics attached, names and subjects in UTF-8."""

    def refuse(*args, **kwargs):
        raise AssertionError("the sender serialized an email.message.EmailMessage")

    monkeypatch.setattr(EmailMessage, "as_bytes", refuse)
    monkeypatch.setattr(EmailMessage, "as_string", refuse)
    add(engine, msg(1, ics=ICS, to_name="Ørland kommune, sentraladministrasjonen", subject="Påminnelse: frist – «politisk behandling» " * 3))
    report = asyncio.run(send_batch(engine, settings_for(smtp_server), now=T0))
    assert report.sent == 1, report
    (received,) = smtp_server.handler.received
    assert received.content.isascii()
    m = email.message_from_bytes(received.content, policy=policy.default)
    assert m["To"].addresses[0].display_name == "Ørland kommune, sentraladministrasjonen"
    assert m["Subject"] == ("Påminnelse: frist – «politisk behandling» " * 3).strip()
    assert m["Content-Language"] == "nb" and m["Auto-Submitted"] == "auto-generated"
    assert m.get_body(("plain",)).get_content().replace("\r\n", "\n") == msg(1).body_text
    assert m.get_body(("html",)).get_content().rstrip() == msg(1).body_html
    (attachment,) = m.iter_attachments()
    assert attachment.get_filename() == "politisk-frist-2025-03-01.ics" or attachment.get_filename().endswith("2025-03-01.ics")
    assert Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0].decoded("dtstart") == dt.date(2025, 3, 1)
    assert all(len(line) <= 998 for line in received.content.split(b"\r\n"))


def test_a_deadline_calendar_is_built_once_for_every_party(monkeypatch):
    """40 parties' letters about one deadline: icalendar builds one calendar, each letter gets its own
    UID and the stamp of its writing, the same text icalendar writes for it."""
    built: list[int] = []
    real = calendar.calendar
    monkeypatch.setattr(calendar, "calendar", lambda *e, **kw: built.append(1) or real(*e, **kw))
    if hasattr(calendar, "_calendar_for"):  # (the cache of the built calendars)
        calendar._calendar_for.cache_clear()
    now = dt.datetime(2025, 2, 3, 8, 9, 10, 500, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    day, summary, description = dt.date(2025, 3, 1), "Frist for politisk behandling", "Revidering 2024 (Helsefellesskapet)"
    texts = [calendar.deadline_ics(f"rev/politisk/{p}/decision", summary, day, description) for p in range(40)]
    assert len(built) == 1
    assert len(set(texts)) == 40
    for p in (0, 39):
        assert texts[p] == real(calendar.deadline_event(f"rev/politisk/{p}/decision", summary, day, description, stamp=now))


def test_the_templates_are_read_once_per_process(tmp_path):
    """An installation's own template is read and compiled once; a change on disk is seen after a restart."""
    folder = tmp_path / "own"
    folder.mkdir()
    own = folder / "overdue_notice.nb.txt"
    built_in = (letters.TEMPLATE_DIR / own.name).read_text(encoding="utf-8")
    own.write_text(built_in.replace("Til {{ party.name }}", "Første utgave til {{ party.name }}"), encoding="utf-8")
    context = letters.example_context(EmailEvent.overdue_notice, Language.nb)
    assert "Første utgave" in letters.render(EmailEvent.overdue_notice, Language.nb, context, templates=folder).text
    own.write_text(built_in.replace("Til {{ party.name }}", "Andre utgave til {{ party.name }}"), encoding="utf-8")
    assert "Første utgave" in letters.render(EmailEvent.overdue_notice, Language.nb, context, templates=folder).text
