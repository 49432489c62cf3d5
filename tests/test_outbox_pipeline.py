"""The sender commits a row's mark and the next row's fence in a thread while that next row's
envelope (MAIL FROM, RCPT TO, DATA) is on the wire. The invariant: a message's final dot is
written only after the previous message's mark and its own fence are committed. So when that
commit finds the batch lost a row, the server has seen the next envelope but must not receive
the message. Against the real aiosmtpd server of tests/smtp.py, on both databases.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from avtaleflyt.db import engine_for
from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.models.tables import OutboxMessage
from avtaleflyt.tasks.outbox import message_id, send_batch

from .outbox_rows import T0, add, msg, rows, settings_for
from .smtp import RecordingHandler, SmtpServer


class Thief(RecordingHandler):
    """Records every RCPT TO it is given; while it holds the answer to the `at`-th message it
    accepts, another sender (`thief`) takes over the rows `steal`: the batch has that message
    in flight and the next one's commit will find its claim gone."""

    def __init__(self, engine: Any, at: int, steal: list[int]) -> None:
        super().__init__()
        self.engine, self.at, self.steal = engine, at, steal
        self.rcpts: list[str] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        self.rcpts.append(address)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.at:
            table = OutboxMessage.__table__
            with self.engine.begin() as conn:
                conn.execute(update(table).where(table.c.id.in_(self.steal)).values(claimed_by="thief"))
        return answer


@pytest.fixture
def engine(domain_db_url: str):
    return engine_for(domain_db_url)


def send_with(engine, handler: Thief):
    with SmtpServer(handler) as server:
        return asyncio.run(send_batch(engine, settings_for(server), now=T0))


def test_a_fence_lost_while_the_envelope_is_on_the_wire_keeps_the_message_from_the_server(engine):
    keys = add(engine, *(msg(n) for n in range(3)))
    ids = [r.id for r in rows(engine).values()]
    handler = Thief(engine, at=1, steal=ids[1:])  # taken while message 1's 250 is on its way
    report = send_with(engine, handler)

    assert report.lost_claim and report.sent == 1, report
    assert "took over message " + keys[1] in report.stopped and "after the server" not in report.stopped
    # Message 2's envelope was on the wire while its fence was committed; its data never ended with the dot.
    assert handler.rcpts == [msg(0).to_address, msg(1).to_address]
    assert handler.message_ids() == [message_id(keys[0])]
    got = rows(engine)
    assert got[keys[0]].status == OutboxStatus.sent
    assert [(got[k].status, got[k].claimed_by, got[k].attempts) for k in keys[1:]] == [(OutboxStatus.pending, "thief", 0)] * 2


def test_a_mark_lost_while_the_envelope_is_on_the_wire_keeps_the_next_message_from_the_server(engine):
    """The row in flight is taken over before its answer comes (the sender stalled past its
    lease): its mark fails in the commit beside the next envelope, and the next message is not sent."""
    keys = add(engine, *(msg(n) for n in range(3)))
    ids = [r.id for r in rows(engine).values()]
    handler = Thief(engine, at=1, steal=ids)
    report = send_with(engine, handler)

    assert report.lost_claim and report.sent == 0, report
    assert "took over message " + keys[0] in report.stopped and "after the server had accepted it" in report.stopped
    assert handler.rcpts == [msg(0).to_address, msg(1).to_address]
    assert handler.message_ids() == [message_id(keys[0])]  # sent once more by the sender that took it
    assert {(r.status, r.claimed_by) for r in rows(engine).values()} == {(OutboxStatus.pending, "thief")}
