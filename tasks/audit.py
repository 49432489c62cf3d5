"""The account event log (`AccountEvent`: logins, refused and throttled logins, logouts, account
changes) read back: a page of it for /admin/audit, and all of it in a period as CSV or JSON lines
for `avtaleflyt audit export`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.fremdriftsplan import neutralised
from avtaleflyt.models.tables import AccountEvent
from sqlalchemy import func
from sqlmodel import Session, col, select

COLUMNS = ("at", "action", "username", "actor", "ip", "note")
FORMATS = ("csv", "jsonl")
PAGE_SIZE = 50
_CHUNK = 1000


@dataclass(frozen=True)
class Filter:
    """Which events: by account (the one changed or logging in, or the one who changed it), by action, in [since, until)."""

    username: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def apply(self, query):
        if self.username:
            name = self.username.strip().casefold()
            query = query.where((col(AccountEvent.username) == name) | (col(AccountEvent.actor) == name))
        if self.action:
            query = query.where(col(AccountEvent.action).startswith(self.action.strip()))
        if self.since is not None:
            query = query.where(col(AccountEvent.at) >= _naive(self.since))
        if self.until is not None:
            query = query.where(col(AccountEvent.at) < _naive(self.until))
        return query


def _naive(moment: dt.datetime) -> dt.datetime:
    """In UTC (the column takes only times with a zone; tables.utcnow)."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_day(value: str, name: str, *, end: bool = False) -> dt.datetime:
    """YYYY-MM-DD (the start of that day in UTC; `end`: the start of the next, so --until includes its day)
    or an ISO 8601 time with its zone. A bad value: a DomainError naming the option."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{name}: {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time", code=ErrorCode.invalid_value, field=name.lstrip("-"), value=value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def page(session: Session, where: Filter, number: int = 1, size: int = PAGE_SIZE) -> tuple[list[AccountEvent], int]:
    """One page of the events `where` selects, newest first, and how many there are in all."""
    total = session.exec(where.apply(select(func.count()).select_from(AccountEvent))).one()
    rows = session.exec(
        where.apply(select(AccountEvent)).order_by(col(AccountEvent.at).desc(), col(AccountEvent.id).desc()).offset((max(number, 1) - 1) * size).limit(size)
    ).all()
    return list(rows), int(total)


def actions(session: Session) -> list[str]:
    """The actions the log holds (for the filter's choices)."""
    return list(session.exec(select(AccountEvent.action).distinct().order_by(AccountEvent.action)).all())


def in_order(session: Session, where: Filter) -> Iterator[AccountEvent]:
    """Every event `where` selects, oldest first, read in chunks (keyset on id within time order)."""
    last: tuple[dt.datetime, int] | None = None
    while True:
        query = where.apply(select(AccountEvent)).order_by(col(AccountEvent.at), col(AccountEvent.id)).limit(_CHUNK)
        if last is not None:
            at, id_ = last
            query = query.where((col(AccountEvent.at) > at) | ((col(AccountEvent.at) == at) & (col(AccountEvent.id) > id_)))
        rows = session.exec(query).all()
        yield from rows
        if len(rows) < _CHUNK:
            return
        last = (rows[-1].at, rows[-1].id)


def _values(e: AccountEvent) -> dict[str, str | None]:
    at = e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
    return {"at": at.isoformat(timespec="seconds"), "action": e.action, "username": e.username, "actor": e.actor, "ip": e.ip, "note": e.note}


def write(events: Iterable[AccountEvent], out: io.TextIOBase, fmt: str) -> int:
    """Write `events` to `out` as CSV (a header, RFC 4180: commas, CRLF, quoted where needed; a cell a
    spreadsheet would run as a formula gets a `'` first) or JSON lines; returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for e in events:
            writer.writerow([neutralised(v or "") for v in _values(e).values()])
            count += 1
    else:
        for e in events:
            out.write(json.dumps(_values(e), ensure_ascii=False) + "\n")
            count += 1
    return count
