"""Talking to the SMTP server: connect (STARTTLS, login), send one message, read the answer."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from avtaleflyt.settings import Settings


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


async def send_one(smtp: Any, sender: str, to: str, data: bytes) -> tuple[int | None, str]:
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
