"""The outbox against a real aiosmtpd server: one connection per batch, retries, refusals,
dropped connections, header injection, the .ics, and the sink (several senders at once, crashes
and stalls: test_outbox_senders.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import threading
from email import policy

import pytest
from icalendar import Calendar

from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.smtp_sink import SmtpSink
from avtaleflyt.stack import free_port, start_smtp_sink
from avtaleflyt.tasks import outbox
from avtaleflyt.tasks.outbox import build_email, enqueue, message_id, send_batch, send_pending

from .outbox_rows import ICS, T0, add, msg, rows, settings_for


@pytest.fixture
def engine(domain_db_url: str):
    return engine_for(domain_db_url)


def send(engine, server, **kw) -> outbox.SendReport:
    return asyncio.run(send_batch(engine, settings_for(server), **kw))


# --------------------------------------------------------------------------- enqueue


def test_enqueue_same_key_twice_keeps_one_row(engine):
    with session_scope(engine) as session:
        assert enqueue(session, msg(1)) is True
        assert enqueue(session, msg(1, subject="another rendering")) is False
    with session_scope(engine) as session:
        assert enqueue(session, msg(1)) is False
    assert [r.subject for r in rows(engine).values()] == [msg(1).subject]


def test_enqueue_racing_sessions_keep_one_row(engine):
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def writer():
        barrier.wait()
        with session_scope(engine) as session:
            results.append(enqueue(session, msg(7)))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert list(rows(engine)) == [msg(7).key]


def test_losing_the_race_rolls_back_only_the_savepoint(engine):
    """The insert that hits the unique key (another writer won between check and insert) costs
    only its SAVEPOINT: the caller's other writes in the same transaction are committed."""
    add(engine, msg(1))
    with session_scope(engine) as session:
        assert enqueue(session, msg(2)) is True
        assert outbox._insert(session, msg(1, subject="late duplicate")) is False  # the race's losing side
        assert enqueue(session, msg(3)) is True
    got = rows(engine)
    assert list(got) == [msg(1).key, msg(2).key, msg(3).key]
    assert got[msg(1).key].subject == msg(1).subject


# --------------------------------------------------------------------------- sending


def test_batch_goes_over_one_connection_and_is_marked_sent(engine, smtp_server):
    keys = add(engine, *(msg(n) for n in range(25)))
    report = send(engine, smtp_server, now=T0)
    assert (report.sent, report.deferred, report.failed, report.connections) == (25, 0, 0, 1)
    assert smtp_server.handler.connections == 1
    assert len(smtp_server.handler.received) == 25
    assert smtp_server.handler.message_ids() == [message_id(k) for k in keys]
    for n, (key, row) in enumerate(rows(engine).items()):
        assert row.status == OutboxStatus.sent
        assert row.sent_at == T0
        assert row.smtp_response == f"250 2.0.0 Ok: queued as {n + 1}"
        received = smtp_server.handler.received[n]
        assert received.rcpt_tos == (row.to_address,)
        assert received.mail_from == "sekretariat@helsefellesskap.example.no"
        m = received.message
        assert m["Subject"] == row.subject and m["To"].addresses[0].display_name == row.to_name
        assert m.get_body(("plain",)).get_content().replace("\r\n", "\n") == row.body_text
        assert "<b>lørdag 1. mars 2025</b>" in m.get_body(("html",)).get_content()

    again = send(engine, smtp_server, now=T0 + dt.timedelta(days=1))
    assert (again.attempted, again.connections) == (0, 0)
    assert smtp_server.handler.connections == 1 and len(smtp_server.handler.received) == 25


def test_limit_sends_only_that_many(engine, smtp_server):
    add(engine, *(msg(n) for n in range(5)))
    assert send(engine, smtp_server, limit=2, now=T0).sent == 2
    assert send(engine, smtp_server, limit=10, now=T0).sent == 3
    assert len(smtp_server.handler.received) == 5


def test_421_then_451_then_recovery_loses_nothing(engine, smtp_server):
    flaky = "flaky@kommune.example.no"
    smtp_server.handler.data_answers[flaky] = ["421 4.3.2 Service not available, closing", "451 4.3.0 Try again later"]
    keys = add(engine, msg(1), msg(2, to=flaky), msg(3))

    first = send(engine, smtp_server, now=T0)
    assert (first.sent, first.deferred, first.failed) == (2, 1, 0)
    assert first.connections == 2  # the client hangs up on 421: reconnected for the third
    row = rows(engine)[keys[1]]
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert row.last_error.startswith("421 4.3.2")

    assert send(engine, smtp_server, now=T0 + dt.timedelta(seconds=30)).attempted == 0  # not due yet

    second = send(engine, smtp_server, now=T0 + dt.timedelta(minutes=1))
    assert (second.sent, second.deferred) == (0, 1)
    row = rows(engine)[keys[1]]
    assert row.attempts == 2 and row.next_attempt_at == T0 + dt.timedelta(minutes=3)
    assert row.last_error.startswith("451 4.3.0")

    third = send(engine, smtp_server, now=T0 + dt.timedelta(hours=1))
    assert third.sent == 1
    row = rows(engine)[keys[1]]
    assert row.status == OutboxStatus.sent and row.smtp_response.startswith("250 ")
    assert len(smtp_server.handler.to(flaky)) == 1
    assert sorted(smtp_server.handler.message_ids()) == sorted(message_id(k) for k in keys)


def test_out_of_attempts_is_failed_not_retried(engine, smtp_server):
    busy = "busy@kommune.example.no"
    smtp_server.handler.data_answers[busy] = ["451 4.3.0 later"] * 10
    (key,) = add(engine, msg(1, to=busy))
    assert send(engine, smtp_server, now=T0, max_attempts=2).deferred == 1
    report = send(engine, smtp_server, now=T0 + dt.timedelta(hours=2), max_attempts=2)
    assert report.failed == 1 and "gave up after 2 attempts" in report.failures[0][1]
    assert rows(engine)[key].status == OutboxStatus.failed
    assert send(engine, smtp_server, now=T0 + dt.timedelta(days=2)).attempted == 0


def test_550_is_failed_with_the_answer_and_the_others_still_go(engine, smtp_server):
    gone = "nedlagt@kommune.example.no"
    smtp_server.handler.rcpt_answers[gone] = "550 5.1.1 <nedlagt@kommune.example.no>: Recipient address rejected"
    keys = add(engine, msg(1), msg(2, to=gone), msg(3), msg(4))

    report = send(engine, smtp_server, now=T0)
    assert (report.sent, report.failed, report.deferred, report.connections) == (3, 1, 0, 1)
    assert report.failures == [(keys[1], "550 5.1.1 <nedlagt@kommune.example.no>: Recipient address rejected")]
    got = rows(engine)
    assert got[keys[1]].status == OutboxStatus.failed
    assert got[keys[1]].smtp_response.startswith("550 5.1.1")
    assert [got[k].status for k in (keys[0], keys[2], keys[3])] == [OutboxStatus.sent] * 3
    assert gone not in set(smtp_server.handler.recipients())

    assert send(engine, smtp_server, now=T0 + dt.timedelta(days=30)).attempted == 0
    assert smtp_server.handler.answers.count((gone, smtp_server.handler.rcpt_answers[gone])) == 1


def test_data_refused_with_5xx_is_failed(engine, smtp_server):
    spam = "strict@kommune.example.no"
    smtp_server.handler.data_answers[spam] = ["554 5.7.1 Message rejected"]
    keys = add(engine, msg(1, to=spam), msg(2))
    report = send(engine, smtp_server, now=T0)
    assert (report.sent, report.failed) == (1, 1)
    assert rows(engine)[keys[0]].smtp_response == "554 5.7.1 Message rejected"


def test_dropped_connection_mid_batch_reconnects_and_loses_nothing(engine, smtp_server):
    smtp_server.handler.drop_on_data = {4}
    keys = add(engine, *(msg(n) for n in range(10)))

    first = send(engine, smtp_server, now=T0)
    assert (first.sent, first.deferred, first.connections) == (9, 1, 2)
    dropped = rows(engine)[keys[3]]
    assert dropped.status == OutboxStatus.pending and dropped.attempts == 1
    assert dropped.last_error.startswith("connection lost")

    second = send(engine, smtp_server, now=T0 + dt.timedelta(minutes=5))
    assert second.sent == 1
    assert all(r.status == OutboxStatus.sent for r in rows(engine).values())
    assert sorted(smtp_server.handler.message_ids()) == sorted(message_id(k) for k in keys)


def test_server_down_leaves_rows_pending_untouched(engine):
    keys = add(engine, msg(1), msg(2))
    report = send(engine, free_port(), now=T0)  # nobody listens there
    assert report.attempted == 0 and report.stopped and "no connection" in report.stopped
    assert all(r.status == OutboxStatus.pending and r.attempts == 0 for r in rows(engine).values())
    assert list(rows(engine)) == keys


def test_refused_sender_stops_the_batch_without_failing_messages(engine, smtp_server):
    smtp_server.handler.mail_answer = "553 5.7.1 Sender address rejected: not owned by user"
    add(engine, msg(1), msg(2))
    report = send(engine, smtp_server, now=T0)
    assert report.attempted == 0 and "refused the sender" in report.stopped and "553 5.7.1" in report.stopped
    assert all(r.status == OutboxStatus.pending and r.attempts == 0 for r in rows(engine).values())

    smtp_server.handler.mail_answer = None  # the operator fixed AVTALEFLYT_MAIL_FROM
    assert send(engine, smtp_server, now=T0).sent == 2


# --------------------------------------------------------------------------- the message


INJECTION = "\r\nBcc: evil@example.no"


def test_header_injection_in_name_and_subject_adds_no_header_or_recipient(engine, smtp_server):
    victim = "postmottak@trondheim.example.no"
    (key,) = add(engine, msg(1, to=victim, to_name="Trondheim kommune" + INJECTION,
                             subject="Høring" + INJECTION + "\nX-Evil: 1"))
    report = send(engine, smtp_server, now=T0)
    assert report.sent == 1
    (received,) = smtp_server.handler.received
    assert received.rcpt_tos == (victim,)
    header_block = received.content.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\r\nX-Evil" not in header_block
    m = received.message
    assert "Bcc" not in m and "X-Evil" not in m
    assert [a.addr_spec for a in m["To"].addresses] == [victim]
    assert m["To"].addresses[0].display_name == "Trondheim kommune Bcc: evil@example.no"
    assert m["Subject"] == "Høring Bcc: evil@example.no X-Evil: 1"
    assert sorted(k.lower() for k in m.keys()) == sorted(
        ["from", "to", "subject", "date", "message-id", "auto-submitted", "mime-version",
         "content-type", "content-language"])
    assert rows(engine)[key].status == OutboxStatus.sent


def test_unsafe_address_is_failed_and_never_sent(engine, smtp_server):
    keys = add(engine, msg(1, to="postmottak@trondheim.example.no" + INJECTION),
               msg(2, to="a@example.no, evil@example.no"), msg(3))
    report = send(engine, smtp_server, now=T0)
    assert (report.sent, report.failed) == (1, 2)
    got = rows(engine)
    assert got[keys[0]].status == got[keys[1]].status == OutboxStatus.failed
    assert got[keys[0]].last_error.startswith("not sent:")
    assert list(smtp_server.handler.recipients()) == [msg(3).to_address]


def test_message_id_and_date_are_the_same_for_every_copy():
    row = msg(1, ics=ICS, created_at=T0)
    a, b = build_email(row, "x@example.no"), build_email(row, "x@example.no")
    assert a.as_bytes() == b.as_bytes()
    assert a["Message-ID"] == b["Message-ID"] == message_id(row.key)
    assert a["Date"] == b["Date"] == "Sat, 01 Feb 2025 07:00:00 +0000"
    assert message_id(row.key) != message_id(msg(2).key)


def test_ics_attachment_arrives_and_parses(engine, smtp_server):
    add(engine, msg(1, ics=ICS), msg(2))
    send(engine, smtp_server, now=T0)
    with_ics, without = (r.message for r in smtp_server.handler.received)
    assert with_ics.get_content_type() == "multipart/mixed"
    (attachment,) = with_ics.iter_attachments()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "frist-2025-03-01.ics"  # no stage on this row: the word and the date
    assert attachment.get_param("method") == "PUBLISH"
    cal = Calendar.from_ical(attachment.get_content())
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == dt.date(2025, 3, 1)
    assert str(event["summary"]) == "Frist for politisk behandling"
    assert with_ics.get_body(("plain",)).get_content().startswith("Hei Kommune 1")
    assert without.get_content_type() == "multipart/alternative"
    assert list(without.iter_attachments()) == []


# --------------------------------------------------------------------------- the sink


def test_sink_stores_each_message_as_eml(engine, tmp_path):
    mail = tmp_path / "mail"
    keys = add(engine, msg(1, ics=ICS), msg(2))
    with SmtpSink(mail, port=0) as sink:
        report = send(engine, sink.port, now=T0)
    assert report.sent == 2
    files = sorted(mail.glob("*.eml"))
    assert len(files) == 2 and not list(mail.glob(".*.tmp"))
    parsed = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert [p["Subject"] for p in parsed] == [msg(1).subject, msg(2).subject]
    assert [p["Message-ID"] for p in parsed] == [message_id(k) for k in keys]
    assert parsed[0]["Delivered-To"] == msg(1).to_address
    assert rows(engine)[keys[0]].smtp_response.startswith("250 2.0.0 Ok: stored as ")


def test_sink_as_up_runs_it(engine, tmp_path):
    """`up` runs `python -m avtaleflyt.smtp_sink` as a managed process: files land in data_dir/mail."""
    port = free_port()
    proc = start_smtp_sink(tmp_path / "data", port)
    try:
        add(engine, msg(1))
        assert send_pending(engine, settings_for(port)).sent == 1
    finally:
        assert proc.stop() == 0
    (eml,) = (tmp_path / "data" / "mail").glob("*.eml")
    assert email.message_from_bytes(eml.read_bytes(), policy=policy.default)["Subject"] == msg(1).subject
