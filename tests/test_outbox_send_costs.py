"""What the sender costs per letter on the sweep's letters (issue 15): a letter's reason is read
with one prebuilt statement on the commit's connection, not through a Session loading three ORM
objects; the bytes on the wire are what they were (quoted words, DATA's content), made cheaper.
(Speed itself is measured in bench/, never asserted here.)"""

from __future__ import annotations

import base64
import datetime as dt
import random
import re

import pytest
from sqlalchemy import event
from sqlmodel import select

from avtaleflyt.db import get_engine, session_scope
from avtaleflyt.models.enums import EmailEvent, OutboxStatus, PartyOutcome
from avtaleflyt.models.tables import OutboxMessage, Party, PartyObligation, Stage
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import outbox, records
from avtaleflyt.tasks.outbox import mime, smtp
from avtaleflyt.tasks.outbox.reasons import reason_gone
from avtaleflyt.tasks.sweep import run_sweep

from .plans import drive_to_political_treatment

SLUG = "testrevisjon-2024"
D = dt.date
MALVIK = "Malvik kommune"


def test_a_letters_reason_is_read_without_loading_orm_objects(mail):
    """The reminders of a sweep: Malvik decided after they were written, so its reminder is cancelled
    and the others are sent, as before; but the sender loaded no Stage, Party or PartyObligation through
    the ORM (it loaded the three per letter, ~0.5 ms of CPU each time), and read each reason in one statement."""
    drive_to_political_treatment(today=D(2025, 2, 1))
    assert outbox.send_pending(get_engine(), get_settings()).failed == 0
    assert not run_sweep(D(2025, 2, 26), send=False).errors
    with session_scope() as s:
        records.record_party_decision(s, SLUG, party=MALVIK, outcome=PartyOutcome.approved, on=D(2025, 2, 26), today=D(2025, 2, 26), actor="t")

    loaded: list[str] = []
    reads: list[str] = []

    def on_load(target, _context) -> None:  # noqa: ANN001
        loaded.append(type(target).__name__)

    def on_execute(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if re.search(r"\bFROM stage\b", statement, re.IGNORECASE):
            reads.append(statement)

    engine = get_engine()
    for table in (Stage, Party, PartyObligation):
        event.listen(table, "load", on_load)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        report = outbox.send_pending(engine, get_settings())
    finally:
        for table in (Stage, Party, PartyObligation):
            event.remove(table, "load", on_load)
        event.remove(engine, "before_cursor_execute", on_execute)

    assert (report.sent, report.cancelled, report.failed) == (3, 1, 0), report  # two reminders and Malvik's receipt
    assert loaded == []
    assert len(reads) == 3  # one per reminder; the receipt is never cancelled, so it reads nothing
    with session_scope() as s:
        names = {p.id: p.name for p in s.exec(select(Party))}
        after = {names[m.party_id]: m for m in s.exec(select(OutboxMessage).where(OutboxMessage.event == EmailEvent.decision_reminder))}
        assert after[MALVIK].status == OutboxStatus.cancelled
        assert after[MALVIK].cancelled_reason == "Malvik kommune has answered (approved on 2025-02-26)"
        assert {after[p].status for p in after if p != MALVIK} == {OutboxStatus.sent}
    # reason_gone (in a session of its own) reads the same
    assert reason_gone(get_engine(), after[MALVIK]) == "Malvik kommune has answered (approved on 2025-02-26)"


def _encoded_words_before(text: str) -> str:
    """mime._encoded_words as it was (a character at a time): the reference for the bytes."""
    words, chunk, size = [], [], 0
    for char in text:
        n = len(char.encode("utf-8"))
        if size + n > 36:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += n
    words.append("".join(chunk))
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)


def _content_before(data: bytes) -> bytes:
    """smtp._content as it was (aiosmtplib's two substitutions): the reference for DATA's content."""
    from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"


def test_encoded_words_are_the_same_as_before():
    rnd = random.Random(15)
    alphabet = "aZ 09-æøåÆØÅé–«»€😀𝄞\u0301漢"
    samples = ["", "ø", "a" * 36, "a" * 37, "æ" * 18, "a" + "æ" * 18, "😀" * 9, "a" * 35 + "😀", "Påminnelse: frist – «politisk behandling» " * 3]
    samples += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 130))) for _ in range(3000)]
    for text in samples:
        assert mime._encoded_words(text) == _encoded_words_before(text), text


def test_datas_content_is_the_same_as_before():
    rnd = random.Random(15)
    samples = [b"", b".", b".\r\n", b"a\r\n.b\r\n", b"a\n.b", b"a\r.b\r\n", b"a\r\r\n", b"a\r\n\r\n", b"x" * 5 + b"\r\n"]
    samples += [bytes(rnd.choice(b"ab.\r\n ") for _ in range(rnd.randint(0, 60))) for _ in range(5000)]
    for data in samples:
        assert smtp._content(data) == _content_before(data), data


def test_an_address_aiosmtplib_refuses_is_refused_every_time():
    """The check of an address is cached; its refusal is not (it raises each time, as before)."""
    assert smtp._parse_address("a@example.no") == "a@example.no"
    for _ in range(2):
        with pytest.raises(ValueError):
            smtp._parse_address("a b@example.no")


def test_a_claimed_page_is_rows_of_columns_and_their_bytes_are_the_same(mail):
    """`Claims.claim_page` reads its page as Core rows (no `OutboxMessage` built by the ORM, ~0.07 ms of
    CPU a row in the event loop's thread); every column of each is what the ORM object holds, and the
    bytes the sender makes of it (Message-ID, Date, boundaries, the .ics) are the same, byte for byte."""
    import uuid

    from avtaleflyt.clock import utcnow
    from avtaleflyt.tasks.outbox.queue import Claims

    drive_to_political_treatment(today=D(2025, 2, 1))  # the decision requests, each with its .ics, are pending
    engine = get_engine()
    loaded: list[object] = []

    def on_load(target, _context) -> None:  # noqa: ANN001
        loaded.append(target)

    event.listen(OutboxMessage, "load", on_load)
    try:
        page = Claims(engine, uuid.uuid4().hex, dt.timedelta(minutes=10)).claim_page(utcnow() + dt.timedelta(days=1), 0, 500)
    finally:
        event.remove(OutboxMessage, "load", on_load)
    assert len(page) >= 4 and loaded == []
    assert any(row.ics for row in page) and any(row.language.value == "nn" for row in page)
    sender = mime.parse_sender(get_settings().mail_from)
    with session_scope() as s:
        orm = {m.id: m for m in s.exec(select(OutboxMessage).where(OutboxMessage.id.in_([row.id for row in page])))}
        columns = [c for c in OutboxMessage.model_fields if c not in ("claimed_by", "claimed_until")]  # the page is read before its claim, as before
        for row in page:
            assert {c: getattr(row, c) for c in columns} == {c: getattr(orm[row.id], c) for c in columns}
            assert mime.message_bytes(row, sender) == mime.message_bytes(orm[row.id], sender)
            assert mime.ics_filename(row) == mime.ics_filename(orm[row.id])
