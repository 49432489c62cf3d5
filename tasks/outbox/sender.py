"""The sending batch: claim a page, and for each row render, check its reason, fence, send;
its answer is written with the next row's fence, in a thread while the next row's envelope
is on the wire.

The invariant: a message's final dot (the moment the server accepts it) is written only
after the previous message's mark and its own fence are committed. So at most one message
is accepted by the server and not marked, per crash. The commit (mark of row N, reason and
fence of row N+1: `_settle`) runs in a thread while the event loop sends row N+1's MAIL
FROM, RCPT TO and DATA (`smtp.begin`), which the server accepts nothing at; only when the
commit says "fenced" are the message and its dot sent (`smtp.finish`). Otherwise the
envelope is taken back (`smtp.abort`: RSET, or after DATA the connection dropped before the
dot, RFC 5321 4.1.1.4) and the batch goes on (cancelled) or stops (lost), as it did when the
fence came before any of it. Overlapped, a message costs one commit and one round trip (the
content and its answer) instead of a commit and four round trips.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from avtaleflyt.clock import aware, utcnow
from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.models.tables import OutboxMessage

from . import smtp as smtp_client
from .mime import message_bytes, parse_sender
from .queue import Claims
from .reasons import may_be_gone, reason_gone_on

if TYPE_CHECKING:
    from avtaleflyt.settings import Settings

#: Attempts (4xx answers, dropped connections) before a message is marked failed.
DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
#: Rows claimed per page. The lease is renewed while a page is sent, so a slow page
#: keeps its rows however long it takes.
PAGE_SIZE = 500
#: How long a batch's claim keeps other senders off a row unless renewed, unless
#: AVTALEFLYT_OUTBOX_LEASE_SECONDS says otherwise: a sender killed mid-batch holds
#: its unsent rows this long.
CLAIM_LEASE = dt.timedelta(minutes=10)


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    cancelled: int = 0  # not sent: the letter's reason had gone (stage closed, party answered or left, deadline moved)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, error) of rows marked failed
    deferrals: list[tuple[str, str]] = field(default_factory=list)  # (key, error) of rows put off
    cancellations: list[tuple[str, str]] = field(default_factory=list)  # (key, reason) of rows cancelled
    connections: int = 0
    stopped: str | None = None  # why the batch stopped early; its remaining rows are left pending
    lost_claim: bool = False  # stopped because another sender took over a row this batch held

    @property
    def attempted(self) -> int:
        return self.sent + self.deferred + self.failed


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8 … minutes, at most BACKOFF_CAP."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _render_or_error(row: OutboxMessage, sender: Address) -> bytes | ValueError:
    try:
        return message_bytes(row, sender)
    except ValueError as exc:
        return exc


@dataclass
class _Answer:
    """A row sent (or tried) whose outcome is not written yet: it is written in the same
    transaction as the next row's fence, so one commit per message, and never later than that."""

    row: OutboxMessage
    outcome: str
    values: dict[str, Any]
    answer: str


def _count(report: SendReport, held: _Answer) -> None:
    if held.outcome == "sent":
        report.sent += 1
    elif held.outcome == "failed":
        report.failed += 1
        report.failures.append((held.row.key, held.values["last_error"]))
    else:
        report.deferred += 1
        report.deferrals.append((held.row.key, held.answer))


def _settle(engine: Engine, claims: Claims, report: SendReport, held: _Answer | None, row: OutboxMessage | None = None,
            failed: str | None = None) -> str:
    """One transaction: write the held answer, then for `row` (if given) mark it failed (`failed`),
    or read its reason and cancel it, or fence it. "lost" (the held row or `row` was taken over;
    report.stopped says so), "failed", "cancelled", "fenced", or "written" without a row."""
    with engine.begin() as conn:
        if held is not None:
            if not claims.mark_in(conn, held.row.id, held.values):
                _lost(report, held.row, claims, sent=held.outcome == "sent")
                return "lost"
            _count(report, held)
        if row is None:
            return "written"
        if failed is not None:
            if not claims.mark_in(conn, row.id, dict(status=OutboxStatus.failed, last_error=failed)):
                _lost(report, row, claims, sent=False)
                return "lost"
            report.failed += 1
            report.failures.append((row.key, failed))
            return "failed"
        # Its reason is read right before the fence, in its transaction: a letter cancelled is marked like
        # one sent (the same conditional update), so a row is cancelled or sent, never both.
        if (reason := reason_gone_on(conn, row)) is not None:
            if not claims.mark_in(conn, row.id, dict(status=OutboxStatus.cancelled, cancelled_reason=reason)):
                _lost(report, row, claims, sent=False)
                return "lost"
            report.cancelled += 1
            report.cancellations.append((row.key, reason))
            return "cancelled"
        if not claims.fence_in(conn, row.id):
            _lost(report, row, claims, sent=False)
            return "lost"
        return "fenced"


def _outcome(code: int | None, answer: str, attempts: int, max_attempts: int, at: dt.datetime) -> tuple[str, dict[str, Any]]:
    """What the server's answer means for the row: ("sent" | "failed" | "deferred", the values to write)."""
    if code is not None and 200 <= code < 300:
        return "sent", dict(status=OutboxStatus.sent, sent_at=at, smtp_response=answer, last_error=None)
    if code is not None and code >= 500:
        return "failed", dict(status=OutboxStatus.failed, smtp_response=answer, last_error=answer)
    attempts += 1  # 4xx, an unexpected answer, or the connection dropped
    if attempts >= max_attempts:
        return "failed", dict(status=OutboxStatus.failed, attempts=attempts, next_attempt_at=None,
                              last_error=f"{answer} (gave up after {attempts} attempts)")
    return "deferred", dict(attempts=attempts, next_attempt_at=at + backoff(attempts), last_error=answer)


def _lost(report: SendReport, row: OutboxMessage, claims: Claims, sent: bool) -> SendReport:
    in_flight = " after the server had accepted it (sent once more by the other sender)" if sent else ""
    report.lost_claim = True
    report.stopped = (
        f"another sender took over message {row.key}{in_flight}: this batch stalled past its "
        f"{int(claims.lease.total_seconds())} s lease, so it stops and leaves its rows to that sender"
    )
    return report


async def send_batch(
    engine: Engine,
    settings: Settings,
    *,
    limit: int | None = None,
    now: dt.datetime | None = None,
    max_attempts: int | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> SendReport:
    """Send the pending rows that are due (next_attempt_at empty or ≤ now), in id order.

    One connection for the batch (reconnected when it drops); each row is fenced right
    before it is sent, and its answer is written before the next row is sent: in one
    transaction with that row's reason and fence (one commit per message, in a thread while
    that row's envelope goes out; its content and final dot only after the commit), or on
    its own before a reconnect and when the batch ends.
    `now` is the business clock (which rows are due, sent_at, backoff), default the
    current time; leases always come from `clock`, the wall clock. At most `limit` rows.
    """
    from aiosmtplib import SMTPException, SMTPSenderRefused

    if not settings.smtp_host:
        raise ValueError("no SMTP server configured (AVTALEFLYT_SMTP_HOST)")
    max_attempts = max_attempts or getattr(settings, "smtp_max_attempts", None) or DEFAULT_MAX_ATTEMPTS
    fixed_now = aware(now) if now is not None else None
    lease = dt.timedelta(seconds=getattr(settings, "outbox_lease_seconds", None) or CLAIM_LEASE.total_seconds())
    claims = Claims(engine, uuid.uuid4().hex, lease, clock)
    sender = parse_sender(settings.mail_from)
    report = SendReport()
    smtp: Any = None
    held: _Answer | None = None  # the last row's answer, written with the next row's fence
    last_id = 0
    loop = asyncio.get_running_loop()
    # One thread for the commit beside the envelope: a connection is used by one thread at a time.
    committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-commit")
    envelope_open = False  # an envelope begun and not finished: `abort` takes it back
    try:
        while limit is None or report.attempted + (held is not None) < limit:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - report.attempted - (held is not None))
            if held is not None:  # before claiming more: its lease is not renewed meanwhile
                step, held = _settle(engine, claims, report, held), None
                if step == "lost":
                    return report
            page = claims.claim_page(fixed_now or clock(), last_id, size)
            if not page:
                break
            ahead: dict[int, bytes | ValueError] = {}  # the next row, rendered while the server took this one
            for i, row in enumerate(page):
                last_id = row.id
                data = ahead.pop(row.id) if row.id in ahead else _render_or_error(row, sender)
                if isinstance(data, ValueError):
                    step, held = _settle(engine, claims, report, held, row, failed=f"not sent: {data}"), None
                    if step == "lost":
                        return report
                    continue

                if smtp is None or not smtp.is_connected:
                    if held is not None:  # before waiting on a connection
                        step, held = _settle(engine, claims, report, held), None
                        if step == "lost":
                            return report
                    try:
                        smtp = await smtp_client.connect(settings)
                        report.connections += 1
                    except (SMTPException, OSError, asyncio.TimeoutError) as exc:
                        report.stopped = f"no connection to {settings.smtp_host}:{settings.smtp_port}: {exc}"
                        return report

                claims.renew_if_due()
                # The held answer, this row's reason and its fence commit in the thread while its envelope
                # goes out; its content and final dot only once that commit said "fenced" (the invariant).
                # DATA goes with the envelope (one round trip less after the commit), but then only dropping
                # the connection takes it back: once a batch has cancelled a letter, a letter that may be
                # cancelled stops at RCPT TO (RSET takes it back), so many cancelled letters cost no reconnects.
                early = not (report.cancelled and may_be_gone(row))
                settling, held = loop.run_in_executor(committer, _settle, engine, claims, report, held, row), None
                refused: smtp_client.Answer | SMTPSenderRefused | None
                try:
                    envelope_open = True
                    refused = await smtp_client.begin(smtp, sender.addr_spec, row.to_address, data, with_data=early)
                except SMTPSenderRefused as exc:
                    refused = exc
                finally:
                    step = await settling
                envelope_open = refused is None
                if step != "fenced":  # "lost" or "cancelled": the server must not get this message
                    if envelope_open:
                        await smtp_client.abort(smtp, with_data=early)
                        envelope_open = False
                    if step == "lost":
                        return report
                    continue
                if isinstance(refused, SMTPSenderRefused):
                    report.stopped = f"the server refused the sender {refused.sender}: {smtp_client.answer(refused.code, refused.message)}"
                    return report
                if refused is None:
                    after = page[i + 1] if i + 1 < len(page) else None
                    render_next = None if after is None else lambda r=after: ahead.__setitem__(r.id, _render_or_error(r, sender))
                    code, text = await smtp_client.finish(smtp, data, with_data=early, meanwhile=render_next)
                    envelope_open = False
                else:
                    code, text = refused
                if code == 421:  # "closing the transmission channel" (RFC 5321 3.8): reconnect for the next row
                    smtp.close()
                answer = smtp_client.answer(code, text)
                outcome, values = _outcome(code, answer, row.attempts, max_attempts, fixed_now or clock())
                held = _Answer(row, outcome, values, answer)
                if limit is not None and report.attempted + 1 >= limit:
                    break
    finally:
        try:
            committer.shutdown(wait=True)  # an exception or a cancel left a commit running: it ends first
            if envelope_open:
                await smtp_client.abort(smtp)  # dropped: whatever was sent of it
            if held is not None:
                _settle(engine, claims, report, held)
        finally:
            await smtp_client.close(smtp)
            claims.release()
    return report


def send_pending(
    engine: Engine | None = None,
    settings: Settings | None = None,
    *,
    limit: int | None = None,
    now: dt.datetime | None = None,
    max_attempts: int | None = None,
) -> SendReport:
    """`send_batch` for synchronous callers (it runs its own event loop; not from inside one)."""
    from avtaleflyt.db import get_engine
    from avtaleflyt.settings import get_settings

    return asyncio.run(
        send_batch(
            engine or get_engine(),
            settings or get_settings(),
            limit=limit,
            now=now,
            max_attempts=max_attempts,
        )
    )
