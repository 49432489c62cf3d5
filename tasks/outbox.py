"""The outbox: every email is stored as a row first, then sent and marked.

`enqueue` writes a rendered message under its idempotency key (revision, stage,
party, event, due date); writing the same key again is a no-op, also when two
writers race. `send_batch` sends what is pending over one SMTP connection and
marks each row in its own short transaction right after the server's answer:

- 250                      → `sent`, with the answer (`smtp_response`) and `sent_at`;
- 4xx, a dropped connection or a timeout → stays `pending`: `attempts` + 1 and
  `next_attempt_at` = now + backoff (1 min × 2^(attempts-1), at most 1 h); after
  `max_attempts` it is `failed`. The batch reconnects and goes on with the next row;
- 5xx (refused recipient, refused message) → `failed` with the answer, never retried;
- a message that cannot be written safely (an address that is not one plain
  address) → `failed` before anything is sent.

A connection that cannot be opened at all (server down, login refused, 421 at
the greeting) or a server that refuses our sender address (MAIL FROM) stops the
batch and leaves the remaining rows pending and untouched (no attempt counted):
they go on the next run. `SendReport.stopped` says why.

The guarantee, exactly: no database transaction is open while we talk to the
server, so a crash (the process killed, the machine down) after the server
accepted a message but before its row was marked sends that one message once
more on the next run. That is at-least-once, with at most one extra copy per
crash (only one message is in flight at a time); never zero times, and never
again once a row is marked sent. Every copy is the same, byte for byte: the
`Message-ID` is derived from the key, `Date` is the row's creation time and the
MIME boundaries come from the key, so receivers and their clients can drop the
duplicate. A connection that drops after DATA but before the answer is the same
case: the server may have the message, and it is sent once more.

Several senders may run at once (revision runs, the sweep, `reminders run`): a
batch claims each page of rows before sending it (`claimed_until`, a lease taken
in the same transaction as the select), so another batch skips them; rows a batch
claimed but did not get to are released when it stops. A crashed sender's lease
runs out after `CLAIM_LEASE`, and its rows are sent by the next batch.

Plain functions: the flows wrap them in Prefect tasks. `send_pending` is the
synchronous entry point; `send_batch` the async one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from email import policy as email_policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.models.tables import OutboxMessage

if TYPE_CHECKING:
    from avtaleflyt.settings import Settings

#: Attempts (4xx answers, dropped connections) before a message is marked failed.
DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
#: Rows read (and claimed) per short transaction while a batch runs.
PAGE_SIZE = 500
#: How long a batch's claim on a page keeps other senders off it, unless
#: AVTALEFLYT_OUTBOX_LEASE_SECONDS says otherwise: a sender killed mid-batch holds
#: its unsent rows this long.
CLAIM_LEASE = dt.timedelta(minutes=10)
MESSAGE_ID_DOMAIN = "avtaleflyt"
ICS_FILENAME = "frist.ics"


class _Headers(HeaderRegistry):
    """The standard header registry, but each header class is built once, not on every use
    (the stdlib builds a new class per header per message: a third of the rendering time)."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


# The SMTP policy (CRLF; refuses CR/LF in header values). Every body part is
# quoted-printable, so the message is 7-bit clean and needs no 8BITMIME.
POLICY = email_policy.SMTP.clone(header_factory=_Headers())
_EXPECTED_HEADERS = {
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
    "auto-submitted", "content-language", "reply-to",
}
_WHITESPACE = re.compile(r"\s+")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------- enqueue


def enqueue(session: Session, message: OutboxMessage) -> bool:
    """Insert `message` unless a row with its key exists; True if it was inserted.

    Runs inside the caller's transaction. The insert is tried in a SAVEPOINT, so a
    concurrent writer that inserted the same key first (the unique constraint
    refuses ours) costs only the savepoint: the caller's other writes stand.
    """
    exists = session.exec(select(OutboxMessage.id).where(OutboxMessage.key == message.key)).first()
    if exists is not None:
        return False
    return _insert(session, message)


def _insert(session: Session, message: OutboxMessage) -> bool:
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        if message in session:
            session.expunge(message)
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == message.key)).first() is None:
            raise  # not our key: a foreign key or another constraint
        return False  # lost the race on `key`
    return True


# --------------------------------------------------------------------------- the message


def message_id(key: str) -> str:
    """The Message-ID of every copy of the message with this key: `<sha256(key)[:32]@avtaleflyt>`."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{MESSAGE_ID_DOMAIN}>"


def _one_line(text: str) -> str:
    """A display name or subject on one line: CR, LF, tabs and runs of spaces become one space.

    In a header, a line break followed by a space is folding and means a space, so
    this is what the text says anyway; a line break not followed by a space would
    start a new header, which is exactly what must never happen.
    """
    return _WHITESPACE.sub(" ", text).strip()


def _address(addr_spec: str, display_name: str = "") -> Address:
    """One plain address (ASCII, no CR/LF, no list, no angle brackets); ValueError otherwise."""
    if not addr_spec or addr_spec != addr_spec.strip() or any(c in addr_spec for c in "\r\n\0"):
        raise ValueError(f"unsafe email address {addr_spec!r}")
    try:
        address = Address(display_name=_one_line(display_name), addr_spec=addr_spec)
    except Exception as exc:  # ValueError, HeaderParseError and the parser's defects
        raise ValueError(f"not a single email address: {addr_spec!r} ({exc})") from None
    if address.addr_spec != addr_spec or not addr_spec.isascii() or "@" not in addr_spec:
        raise ValueError(f"not a single plain email address: {addr_spec!r}")
    return address


def parse_sender(mail_from: str) -> Address:
    """`settings.mail_from` ("Name <addr>" or "addr") as one Address; ValueError if it is not one."""
    probe = EmailMessage(policy=POLICY)
    try:
        probe["From"] = mail_from
        addresses = probe["From"].addresses
    except Exception as exc:
        raise ValueError(f"mail_from is not an address: {mail_from!r} ({exc})") from None
    if len(addresses) != 1:
        raise ValueError(f"mail_from must be exactly one address: {mail_from!r}")
    return _address(addresses[0].addr_spec, addresses[0].display_name)


def _ics_method(ics: str) -> str:
    match = re.search(r"^METHOD:([A-Za-z-]+)\s*$", ics, re.MULTILINE)
    return match.group(1).upper() if match else "PUBLISH"


def build_email(row: Any, mail_from: str | Address) -> EmailMessage:
    """The message for an outbox row: text + HTML alternatives, and the `.ics` when the row has one.

    Headers: From, To (name and address), Subject, Date (the row's creation time, so
    every copy is identical), Message-ID (from the key), Auto-Submitted, Content-Language.
    A name or subject with line breaks is put on one line; the serialized message is
    parsed back and checked to carry exactly these headers and one recipient.
    Raises ValueError when the row cannot be written safely (e.g. a bad address).
    """
    msg, _data = _render(row, mail_from)
    return msg


def _render(row: Any, mail_from: str | Address) -> tuple[EmailMessage, bytes]:
    """The message and its bytes as sent (CRLF), checked."""
    sender = mail_from if isinstance(mail_from, Address) else parse_sender(mail_from)
    recipient = _address(row.to_address, row.to_name or "")

    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = _one_line(row.subject)
    msg["Date"] = format_datetime(_aware(row.created_at or utcnow()))
    msg["Message-ID"] = message_id(row.key)
    if getattr(row, "reply_to", None):
        msg["Reply-To"] = _address(row.reply_to)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot

    # Boundaries from the key: every copy of a message is the same, byte for byte, and
    # "=_" never occurs in quoted-printable text, so no part can contain a boundary.
    boundary = f"=_avtaleflyt_{hashlib.sha256(row.key.encode()).hexdigest()[:24]}"
    msg.set_content(row.body_text, cte="quoted-printable")
    msg.add_alternative(row.body_html, subtype="html", cte="quoted-printable")
    msg.set_boundary(f"{boundary}_alt")
    if row.ics:
        msg.make_mixed()
        msg.add_attachment(
            row.ics,
            subtype="calendar",
            filename=ICS_FILENAME,
            params={"method": _ics_method(row.ics)},
            cte="quoted-printable",
        )
        msg.set_boundary(f"{boundary}_mix")
    if getattr(row, "language", None):  # after make_mixed, which moves Content-* headers into a part
        msg["Content-Language"] = str(row.language)
    data = msg.as_bytes(policy=POLICY)
    _verify_headers(data, recipient.addr_spec)
    return msg, data


def _verify_headers(data: bytes, to_addr: str) -> None:
    """Parse the serialized message back: exactly the headers we set, once each, one recipient."""
    parsed = BytesHeaderParser(policy=email_policy.compat32).parsebytes(data)
    names = [name.lower() for name in parsed.keys()]
    if len(names) != len(set(names)) or not set(names) <= _EXPECTED_HEADERS:
        raise ValueError(f"unsafe headers in the message: {sorted(names)}")
    recipients = [addr for _name, addr in getaddresses([str(parsed["To"])])]
    if recipients != [to_addr]:
        raise ValueError(f"the To header names {recipients}, not [{to_addr!r}]")


# --------------------------------------------------------------------------- sending


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, error) of rows marked failed
    deferrals: list[tuple[str, str]] = field(default_factory=list)  # (key, error) of rows put off
    connections: int = 0
    stopped: str | None = None  # why the batch stopped early (no connection, sender refused); rows left pending

    @property
    def attempted(self) -> int:
        return self.sent + self.deferred + self.failed


def _claim_page(engine: Engine, token: str, now: dt.datetime, after_id: int, size: int, lease: dt.timedelta = CLAIM_LEASE) -> list[OutboxMessage]:
    """The next due rows that no other sender holds, claimed for this batch in one transaction."""
    with session_scope(engine) as session:
        candidates = session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.pending,
                OutboxMessage.id > after_id,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(size)
        ).all()
        if not candidates:
            return []
        table = OutboxMessage.__table__
        claimed = set(
            session.connection().execute(
                update(table)
                .where(
                    table.c.id.in_([row.id for row in candidates]),
                    table.c.status == OutboxStatus.pending,
                    or_(table.c.claimed_until.is_(None), table.c.claimed_until <= now),
                )
                .values(claimed_by=token, claimed_until=now + lease)
                .returning(table.c.id)
            ).scalars()
        )
        return [row for row in candidates if row.id in claimed]


def _release(engine: Engine, token: str) -> None:
    """Give back the rows this batch claimed and left pending (not reached, or deferred)."""
    with engine.begin() as conn:
        conn.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.claimed_by == token, _OUTBOX.c.status == OutboxStatus.pending)
            .values(claimed_by=None, claimed_until=None)
        )


_OUTBOX = OutboxMessage.__table__


def _mark(engine: Engine, row_id: int, **values: Any) -> None:
    """One short transaction: update a row that is still pending."""
    with engine.begin() as conn:
        conn.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == row_id, _OUTBOX.c.status == OutboxStatus.pending)
            .values(**values)
        )


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8 … minutes, at most BACKOFF_CAP."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _connect(settings: Settings) -> Any:
    import aiosmtplib

    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=settings.smtp_timeout,
        # None: STARTTLS when the server offers it; False: never.
        start_tls=None if settings.smtp_starttls else False,
    )
    await smtp.connect()
    try:
        if settings.smtp_username:
            encrypted = smtp.get_transport_info("sslcontext") is not None
            if not encrypted and not _loopback(settings.smtp_host or ""):
                raise ConnectionRefusedError(
                    f"{settings.smtp_host} offers no STARTTLS (or AVTALEFLYT_SMTP_STARTTLS=false): "
                    "refusing to send the SMTP password unencrypted"
                )
            await smtp.login(settings.smtp_username, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


async def _close(smtp: Any) -> None:
    if smtp is None or not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except Exception:
        smtp.close()


def _answer(code: int | None, text: str) -> str:
    text = " ".join(str(text).split())
    return f"{code} {text}" if code is not None else text


def _render_or_error(row: OutboxMessage, sender: Address) -> bytes | ValueError:
    try:
        return _render(row, sender)[1]
    except ValueError as exc:
        return exc


async def _send_one(smtp: Any, sender: str, to: str, data: bytes) -> tuple[int | None, str]:
    """Send one message; (code, text) of the server's answer, code None for a lost connection."""
    from aiosmtplib import (
        SMTPException,
        SMTPRecipientsRefused,
        SMTPResponseException,
        SMTPSenderRefused,
        SMTPServerDisconnected,
        SMTPTimeoutError,
    )

    try:
        _errors, text = await smtp.sendmail(sender, [to], data)
        return 250, text  # aiosmtplib raises unless DATA is answered 250
    except SMTPSenderRefused:
        raise  # our MAIL FROM, not this message: the caller stops the batch
    except SMTPRecipientsRefused as exc:
        return exc.recipients[0].code, exc.recipients[0].message
    except SMTPResponseException as exc:
        return exc.code, exc.message
    except (SMTPServerDisconnected, SMTPTimeoutError, ConnectionError, OSError, asyncio.TimeoutError) as exc:
        return None, f"connection lost: {exc or type(exc).__name__}"
    except SMTPException as exc:  # anything else from the client: try again later
        return None, f"{type(exc).__name__}: {exc}"
    except ValueError as exc:  # aiosmtplib refused an address before sending
        return 550, f"not sent: {exc}"


async def send_batch(
    engine: Engine,
    settings: Settings,
    *,
    limit: int | None = None,
    now: dt.datetime | None = None,
    max_attempts: int | None = None,
) -> SendReport:
    """Send the pending rows that are due (next_attempt_at empty or ≤ now), in id order.

    One connection for the batch (reconnected when it drops); each row is marked
    in its own transaction right after the server's answer. `now` is the batch's
    clock (sent_at, backoff), default the current time. At most `limit` rows.
    """
    from aiosmtplib import SMTPException, SMTPSenderRefused

    if not settings.smtp_host:
        raise ValueError("no SMTP server configured (AVTALEFLYT_SMTP_HOST)")
    max_attempts = max_attempts or getattr(settings, "smtp_max_attempts", None) or DEFAULT_MAX_ATTEMPTS
    fixed_now = _aware(now) if now is not None else None
    batch_now = fixed_now or utcnow()
    sender = parse_sender(settings.mail_from)
    report = SendReport()
    smtp: Any = None
    last_id = 0
    token = uuid.uuid4().hex  # this batch's claims
    lease = dt.timedelta(seconds=getattr(settings, "outbox_lease_seconds", None) or CLAIM_LEASE.total_seconds())
    try:
        while limit is None or report.attempted < limit:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - report.attempted)
            page = _claim_page(engine, token, batch_now, last_id, size, lease)
            if not page:
                break
            for row in page:
                last_id = row.id
                data = _render_or_error(row, sender)
                if isinstance(data, ValueError):
                    error = f"not sent: {data}"
                    _mark(engine, row.id, status=OutboxStatus.failed, last_error=error)
                    report.failed += 1
                    report.failures.append((row.key, error))
                    continue

                if smtp is None or not smtp.is_connected:
                    try:
                        smtp = await _connect(settings)
                        report.connections += 1
                    except (SMTPException, OSError, asyncio.TimeoutError) as exc:
                        report.stopped = f"no connection to {settings.smtp_host}:{settings.smtp_port}: {exc}"
                        return report

                try:
                    code, text = await _send_one(smtp, sender.addr_spec, row.to_address, data)
                except SMTPSenderRefused as exc:
                    report.stopped = f"the server refused the sender {exc.sender}: {_answer(exc.code, exc.message)}"
                    return report
                at = fixed_now or utcnow()
                answer = _answer(code, text)
                if code == 421:  # "closing the transmission channel" (RFC 5321 3.8): reconnect for the next row
                    smtp.close()
                if code is not None and 200 <= code < 300:
                    _mark(engine, row.id, status=OutboxStatus.sent, sent_at=at, smtp_response=answer, last_error=None)
                    report.sent += 1
                elif code is not None and code >= 500:
                    _mark(engine, row.id, status=OutboxStatus.failed, smtp_response=answer, last_error=answer)
                    report.failed += 1
                    report.failures.append((row.key, answer))
                else:  # 4xx, an unexpected answer, or the connection dropped
                    attempts = row.attempts + 1
                    if attempts >= max_attempts:
                        error = f"{answer} (gave up after {attempts} attempts)"
                        _mark(engine, row.id, status=OutboxStatus.failed, attempts=attempts,
                              next_attempt_at=None, last_error=error)
                        report.failed += 1
                        report.failures.append((row.key, error))
                    else:
                        _mark(engine, row.id, attempts=attempts, next_attempt_at=at + backoff(attempts),
                              last_error=answer)
                        report.deferred += 1
                        report.deferrals.append((row.key, answer))
                if limit is not None and report.attempted >= limit:
                    break
    finally:
        await _close(smtp)
        _release(engine, token)
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
