"""Outbox rows for the tests: one message per party, and reading them back."""

from __future__ import annotations

import datetime as dt
import textwrap

from sqlmodel import func, select

from avtaleflyt.clock import utcnow
from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import EmailEvent, Language, OutboxStatus
from avtaleflyt.models.tables import OutboxMessage
from avtaleflyt.settings import Settings
from avtaleflyt.tasks.outbox import enqueue


T0 = dt.datetime(2025, 2, 1, 7, 0, tzinfo=dt.timezone.utc)

ICS = textwrap.dedent("""\
    BEGIN:VCALENDAR
    VERSION:2.0
    PRODID:-//avtaleflyt//test//NO
    METHOD:PUBLISH
    BEGIN:VEVENT
    UID:frist-politisk@avtaleflyt
    DTSTAMP:20250201T070000Z
    DTSTART;VALUE=DATE:20250301
    DTEND;VALUE=DATE:20250302
    SUMMARY:Frist for politisk behandling
    END:VEVENT
    END:VCALENDAR
    """).replace("\n", "\r\n")


def msg(n: int, *, to: str | None = None, **fields) -> OutboxMessage:
    values = dict(
        key=f"rev-2024/politisk/party-{n}/decision_reminder/2025-03-01",
        event=EmailEvent.decision_reminder,
        language=Language.nb,
        due=dt.date(2025, 3, 1),
        to_name=f"Kommune {n}",
        to_address=to or f"postmottak{n}@kommune{n}.example.no",
        subject=f"Påminnelse: frist for politisk behandling 1. mars 2025 (nr. {n})",
        body_text=f"Hei Kommune {n},\n\nfristen er lørdag 1. mars 2025.\n",
        body_html=f"<p>Hei Kommune {n},</p><p>fristen er <b>lørdag 1. mars 2025</b>.</p>",
    )
    values.update(fields)
    return OutboxMessage(**values)


def settings_for(server_or_port) -> Settings:
    port = server_or_port if isinstance(server_or_port, int) else server_or_port.port
    return Settings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_timeout=10,
        mail_from="Sekretariatet <sekretariat@helsefellesskap.example.no>",
    )


def add(engine, *messages: OutboxMessage) -> list[str]:
    with session_scope(engine) as session:
        for m in messages:
            assert enqueue(session, m)
    return [m.key for m in messages]


def rows(engine) -> dict[str, OutboxMessage]:
    with session_scope(engine) as session:
        return {r.key: r for r in session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()}




def live_claims(engine=None) -> int:  # noqa: ANN001
    """Pending rows a sender holds under a lease that has not run out (on this machine's clock)."""
    with session_scope(engine) as session:
        return session.exec(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.pending, OutboxMessage.claimed_until > utcnow()
            )
        ).one()
