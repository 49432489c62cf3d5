"""Several senders on one outbox: claims, leases, fencing, a sender paused past its lease,
senders killed at random points, and two senders that certainly overlap.

Senders run as real processes against a real aiosmtpd server and the real database
(SQLite and PostgreSQL); what arrived is counted by Message-ID at the server.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from avtaleflyt.clock import aware, utcnow
from avtaleflyt.db import engine_for
from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.models.tables import OutboxMessage
from avtaleflyt.tasks.outbox import Claims, message_id

from .outbox_rows import ICS, add, live_claims, msg, rows
from .waiting import wait_for

LEASE = dt.timedelta(seconds=60)


@pytest.fixture
def engine(domain_db_url: str):
    return engine_for(domain_db_url)


# --------------------------------------------------------------------------- claims, on a clock we set


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def test_a_claim_is_fenced_once_another_sender_takes_the_row(engine):
    add(engine, *(msg(n) for n in range(3)))
    ids = [r.id for r in rows(engine).values()]
    t0 = utcnow()
    a_clock, b_clock = Clock(t0), Clock(t0)
    a, b = Claims(engine, "a", LEASE, a_clock), Claims(engine, "b", LEASE, b_clock)
    due = t0 + dt.timedelta(days=1)

    assert [r.id for r in a.claim_page(due, 0, 10)] == ids
    assert b.claim_page(due, 0, 10) == []  # held by a
    b_clock.at = t0 + LEASE + dt.timedelta(seconds=1)
    assert [r.id for r in b.claim_page(due, 0, 10)] == ids  # a's lease ran out: b takes over

    assert a.fence(ids[0]) is False  # a may not send it any more
    assert a.mark(ids[0], status=OutboxStatus.sent) is False  # nor mark it
    assert b.fence(ids[0]) is True
    assert b.mark(ids[0], status=OutboxStatus.sent) is True
    got = list(rows(engine).values())
    assert [r.status for r in got] == [OutboxStatus.sent, OutboxStatus.pending, OutboxStatus.pending]
    assert {r.claimed_by for r in got} == {"b"}
    a.release()  # releases nothing of b's
    assert {r.claimed_by for r in rows(engine).values()} == {"b"}


def test_the_lease_is_renewed_while_a_batch_sends_and_each_claim_starts_its_own(engine):
    add(engine, *(msg(n) for n in range(4)))
    t0 = utcnow()
    a_clock, b_clock = Clock(t0), Clock(t0)
    a, b = Claims(engine, "a", LEASE, a_clock), Claims(engine, "b", LEASE, b_clock)
    due = t0 + dt.timedelta(days=1)
    first = a.claim_page(due, 0, 2)

    a_clock.at = t0 + LEASE / 4
    a.renew_if_due()  # less than a third of the lease has passed: nothing to do
    assert {aware(r.claimed_until) for r in rows(engine).values() if r.claimed_by} == {t0 + LEASE}
    a_clock.at = t0 + LEASE / 2
    a.renew_if_due()
    assert {aware(r.claimed_until) for r in rows(engine).values() if r.claimed_by} == {t0 + LEASE / 2 + LEASE}

    # A batch that has run for an hour claims its next page for a lease from now, not from its start.
    a_clock.at = t0 + dt.timedelta(hours=1)
    second = a.claim_page(due, first[-1].id, 2)
    assert {aware(r.claimed_until) for r in rows(engine).values() if r.id in {x.id for x in second}} == {a_clock.at + LEASE}
    b_clock.at = a_clock.at + LEASE / 2
    assert b.claim_page(due, first[-1].id, 10) == []  # still a's


# --------------------------------------------------------------------------- senders as processes


SENDER = textwrap.dedent("""\
    import datetime as dt, sys
    from avtaleflyt.db import engine_for
    from avtaleflyt.settings import Settings
    from avtaleflyt.tasks.outbox import sender, send_pending
    url, port, lease, page = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sender.PAGE_SIZE = page
    engine = engine_for(url)
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, outbox_lease_seconds=lease)
    print("ready", flush=True)
    sys.stdin.readline()  # "go"
    report = send_pending(engine, settings)
    print("done", report.sent, report.deferred, report.failed, int(report.lost_claim), flush=True)
    print(report.stopped or "", flush=True)
    """)


@dataclass
class Outcome:
    sent: int
    lost_claim: bool
    stopped: str


class Sender:
    """`python -c SENDER` against the test's database and SMTP server; it sends on `go()`
    (at once unless `go=False`), so that starting Python is not part of what a test times."""

    def __init__(self, url: str, port: int, *, lease: int = 600, page: int = 500, go: bool = True) -> None:
        argv = [sys.executable, "-c", SENDER, url, str(port), str(lease), str(page)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line == "ready", self.proc.stderr.read()
        if go:
            self.go()

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 180) -> Outcome:
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, err
        done, _, stopped = out.partition("done ")[2].partition("\n")
        sent, _deferred, _failed, lost = (int(x) for x in done.split())
        return Outcome(sent, bool(lost), stopped.strip())

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
        self.proc.wait(timeout=30)


def copies(smtp_server) -> dict[str, int]:
    counts: dict[str, int] = {}
    for mid in smtp_server.handler.message_ids():
        counts[mid] = counts.get(mid, 0) + 1
    return counts


def test_a_sender_paused_past_its_lease_sends_at_most_its_message_in_flight_twice(domain_db_url, smtp_server):
    """SIGSTOP with a message in flight (the server has it and holds its 250), past the lease,
    while a second sender runs; then SIGCONT. Only that one message arrives twice."""
    engine = engine_for(domain_db_url)
    keys = add(engine, *(msg(n) for n in range(150)))
    smtp_server.handler.hold_at = 40  # in the middle of the stalled sender's one page of 150
    stalled = Sender(domain_db_url, smtp_server.port, lease=2)
    try:
        wait_for(smtp_server.handler.holding.is_set, 60, "the first sender to have message 40 in flight")
        stalled.signal(signal.SIGSTOP)
        smtp_server.handler.release.set()  # the 250 waits in the paused process's socket
        wait_for(lambda: live_claims(engine) == 0, 30, "the paused sender's lease to run out")

        second = Sender(domain_db_url, smtp_server.port, lease=2).finish()
        assert second.sent == len(keys) - 39 and not second.lost_claim

        stalled.signal(signal.SIGCONT)
        first = stalled.finish()
    finally:
        stalled.signal(signal.SIGCONT)
        stalled.kill()
    assert first.lost_claim and first.sent == 39, first
    assert "took over message" in first.stopped and "after the server had accepted it" in first.stopped
    counts = copies(smtp_server)
    assert set(counts) == {message_id(k) for k in keys}
    assert {mid: n for mid, n in counts.items() if n > 1} == {message_id(keys[39]): 2}
    assert {r.status for r in rows(engine).values()} == {OutboxStatus.sent}


def test_two_senders_that_overlap_send_each_message_once(domain_db_url, smtp_server):
    """Small pages and a short lease: the first sender has run for longer than its lease when
    the second starts (as revision runs start while the sweep sends), and is certainly still
    sending; each claims, renews and fences, so no message goes twice."""
    engine = engine_for(domain_db_url)
    keys = add(engine, *(msg(n) for n in range(400)))
    handler = smtp_server.handler
    handler.delay = 0.03  # 12 s of answers in all
    a, b = (Sender(domain_db_url, smtp_server.port, lease=2, page=20, go=False) for _ in range(2))
    try:
        a.go()
        wait_for(lambda: len(handler.received) >= 100, 60, "the first sender to run past its lease")  # ≥ 3 s
        assert a.running()
        b.go()
        outcomes = [a.finish(), b.finish()]
    finally:
        a.kill()
        b.kill()
    assert all(o.sent > 0 for o in outcomes), outcomes  # both sent: they overlapped
    counts = copies(smtp_server)
    assert set(counts) == {message_id(k) for k in keys}
    duplicates = sum(n - 1 for n in counts.values())
    # A copy only from a sender that stalled past its lease, and then says so (one each at most).
    assert duplicates <= sum(o.lost_claim for o in outcomes), (duplicates, outcomes)
    assert sum(o.sent for o in outcomes) == len(keys) + duplicates
    assert {r.status for r in rows(engine).values()} == {OutboxStatus.sent}


def test_killed_at_random_points_every_message_arrives_once_after_dedup(domain_db_url, smtp_server):
    engine = engine_for(domain_db_url)
    keys = add(engine, *(msg(n, ics=ICS if n % 3 == 0 else None) for n in range(150)))
    # Keep each message a moment after accepting it and before answering: that is the
    # window in which a kill leaves a sent message unmarked (and sent once more).
    smtp_server.handler.delay = 0.004
    rng = random.Random(20250301)
    kills = 0
    for _ in range(4):
        wait_for(lambda: live_claims(engine) == 0, 30, "the killed senders' leases to run out")
        before = len(smtp_server.handler.received)
        proc = Sender(domain_db_url, smtp_server.port, lease=1)
        try:
            # Kill only once this sender has had a message accepted: then a kill can leave work undone.
            wait_for(lambda: len(smtp_server.handler.received) > before or not proc.running(), 60, "a first message")
            more = before + rng.randint(0, 20)
            wait_for(lambda: len(smtp_server.handler.received) > more or not proc.running(), 60, "a few more")
            if proc.running():
                proc.signal(signal.SIGKILL)
                kills += 1
        finally:
            proc.kill()
    assert kills == 4, "a sender finished before it was killed: make the batch slower"
    assert 0 < len(smtp_server.handler.received) < len(keys) + kills

    wait_for(lambda: live_claims(engine) == 0, 30, "the killed senders' leases to run out")
    assert Sender(domain_db_url, smtp_server.port, lease=1).finish().lost_claim is False
    got = rows(engine)
    assert all(r.status == OutboxStatus.sent for r in got.values()), [r.key for r in got.values() if r.status != "sent"]

    counts = copies(smtp_server)
    assert set(counts) == {message_id(k) for k in keys}  # every key received at least once, nothing else
    assert sum(n - 1 for n in counts.values()) <= kills
    # After dropping copies by Message-ID each key is there exactly once; the copies are identical.
    by_id: dict[str, set[bytes]] = {}
    for r in smtp_server.handler.received:
        by_id.setdefault(r.message_id, set()).add(r.content)
    assert all(len(contents) == 1 for contents in by_id.values())


def test_a_row_left_claimed_by_a_dead_sender_goes_once_its_lease_runs_out(domain_db_url, smtp_server):
    engine = engine_for(domain_db_url)
    keys = add(engine, msg(1), msg(2))
    # A sender that claimed both and died. Its lease is long while a sender starts (a new process can
    # take seconds to start on a loaded machine), then set to run out in a second.
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage.__table__).values(claimed_by="dead", claimed_until=utcnow() + dt.timedelta(seconds=120)))
    assert Sender(domain_db_url, smtp_server.port).finish().sent == 0
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage.__table__).values(claimed_until=utcnow() + dt.timedelta(seconds=1)))
    wait_for(lambda: live_claims(engine) == 0, 30, "the dead sender's lease to run out")
    assert Sender(domain_db_url, smtp_server.port).finish().sent == 2
    assert sorted(smtp_server.handler.message_ids()) == sorted(message_id(k) for k in keys)
