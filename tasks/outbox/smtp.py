"""Talking to the SMTP server: connect (STARTTLS, login), and one message in two steps — its envelope
(`begin`: MAIL FROM, RCPT TO, DATA), then its content and final dot (`finish`), or `abort` in between —
so that the sender can commit in a thread while the envelope is on the wire (sender.py)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from avtaleflyt.settings import Settings

#: An answer: (code, text); code None for a lost connection.
Answer = tuple["int | None", str]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def connect(settings: Settings) -> Any:
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
        if smtp.is_ehlo_or_helo_needed:  # now, so that `begin` knows the server's extensions (SIZE)
            try:
                await smtp.ehlo()
            except aiosmtplib.SMTPHeloError:
                await smtp.helo()
    except BaseException:
        smtp.close()
        raise
    return smtp


async def close(smtp: Any) -> None:
    if smtp is None or not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except Exception:
        smtp.close()


def answer(code: int | None, text: str) -> str:
    text = " ".join(str(text).split())
    return f"{code} {text}" if code is not None else text


def _failure(exc: BaseException) -> Answer | None:
    """The answer an exception of aiosmtplib's stands for (as `sendmail`'s would), or None to raise it."""
    from aiosmtplib import (
        SMTPException,
        SMTPRecipientRefused,
        SMTPRecipientsRefused,
        SMTPResponseException,
        SMTPSenderRefused,
        SMTPServerDisconnected,
        SMTPTimeoutError,
    )

    if isinstance(exc, SMTPSenderRefused):
        return None  # our MAIL FROM, not this message: the caller stops the batch
    if isinstance(exc, SMTPRecipientsRefused):
        return exc.recipients[0].code, exc.recipients[0].message
    if isinstance(exc, (SMTPRecipientRefused, SMTPResponseException)):
        return exc.code, exc.message
    if isinstance(exc, (SMTPServerDisconnected, SMTPTimeoutError, ConnectionError, OSError, asyncio.TimeoutError)):
        return None, f"connection lost: {exc or type(exc).__name__}"
    if isinstance(exc, SMTPException):  # anything else from the client: try again later
        return None, f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ValueError):  # aiosmtplib refused an address before sending
        return 550, f"not sent: {exc}"
    return None


async def _reset(smtp: Any) -> None:
    """RSET after a refusal, as aiosmtplib's `sendmail` does; a failure of it is not the message's."""
    from aiosmtplib import SMTPException

    if not smtp.is_connected:
        return
    try:
        await smtp.rset()
    except (SMTPException, OSError, asyncio.TimeoutError):
        pass


@lru_cache(maxsize=4096)  # the same sender every time, the same parties again and again: parseaddr is in Python
def _parse_address(address: str) -> str:
    """aiosmtplib's check of an address (ValueError if it cannot go on a command line); a refusal is not cached."""
    from aiosmtplib.email import parse_address

    return parse_address(address)


def _content(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, the final dot.
    What mime.py writes needs neither (CRLF only, no line starts with a dot): then it is
    the bytes and the dot, found by a few scans in C instead of two regex substitutions
    (~0.06 ms a message, twice: for SIZE in `begin` and for the content in `finish`)."""
    crlf = data.count(b"\r\n")
    if crlf == data.count(b"\n") == data.count(b"\r") and data.endswith(b"\r\n") and not data.startswith(b".") and b"\n." not in data:
        return data + b".\r\n"
    from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"


async def begin(smtp: Any, sender: str, to: str, data: bytes, *, with_data: bool = True) -> Answer | None:
    """Open one message's envelope: MAIL FROM, RCPT TO and, `with_data`, DATA (to the server's 354);
    nothing of the message itself, so the server has accepted nothing yet. None: it waits for
    the content (`finish`, or `abort` to take it back). Else the refusal (code, text) — the
    envelope is reset and the message not sent — code None for a lost connection. Raises
    aiosmtplib's SMTPSenderRefused when the server refuses our MAIL FROM (the caller stops the batch)."""
    from aiosmtplib import SMTPDataError

    try:
        _parse_address(sender)  # before anything is sent, as `sendmail` does
        _parse_address(to)
        options = [f"size={len(_content(data)) - 3}"] if smtp.supports_extension("size") else []
        await smtp.mail(sender, options=options)
        await smtp.rcpt(to)
        if with_data:
            response = await smtp.execute_command(b"DATA")
            if response.code != 354:
                raise SMTPDataError(response.code, response.message)
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        if failure[0] is not None:
            await _reset(smtp)
        return failure
    return None


async def finish(smtp: Any, data: bytes, *, with_data: bool = True, meanwhile: Callable[[], object] | None = None) -> Answer:
    """After `begin` (with the same `with_data`): DATA if not sent yet, the message's content and
    its final dot, at which the server accepts it; (code, text) of its answer, code None for a
    lost connection. `meanwhile` is called once the message is written, before its answer is
    awaited (the sender renders the next message while the server takes this one)."""
    from aiosmtplib import SMTPServerDisconnected, SMTPTimeoutError

    try:
        if not with_data:
            if meanwhile is not None:
                meanwhile()
            response = await smtp.data(data)
        else:
            if smtp.protocol is None:
                raise SMTPServerDisconnected("Connection lost")
            smtp.protocol.write(_content(data))
            if meanwhile is not None:
                meanwhile()
            response = await smtp.protocol.read_response(timeout=smtp.timeout)
    except (SMTPServerDisconnected, SMTPTimeoutError) as exc:
        smtp.close()  # as aiosmtplib's `data` does
        return _failure(exc)  # type: ignore[return-value]
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        return failure
    if response.code != 250:
        await _reset(smtp)
    return response.code, response.message


async def abort(smtp: Any, *, with_data: bool = True) -> None:
    """Take back an envelope `begin` opened. Before DATA: RSET. After DATA's 354 nothing but the
    final dot ends the message, and a server must not deliver a message whose data did not end
    with it (RFC 5321 4.1.1.4): the connection is dropped (the next message reconnects)."""
    from aiosmtplib import SMTPException

    if with_data or not smtp.is_connected:
        smtp.close()
        return
    try:
        await smtp.rset()
    except (SMTPException, OSError, asyncio.TimeoutError):
        smtp.close()


async def send_one(smtp: Any, sender: str, to: str, data: bytes) -> Answer:
    """Send one message (`begin` + `finish`); (code, text) of the server's answer, code None for a lost connection."""
    refused = await begin(smtp, sender, to, data, with_data=False)
    return refused if refused is not None else await finish(smtp, data, with_data=False)
