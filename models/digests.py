"""The weekly digest per recipient (issue 16): one letter per address and ISO week, whatever
the number of revisions it follows. Pure: the caller passes the rows and the day.

A coordinator address in a plan follows that plan's revisions (the plan's `coordinators`); the
same address in several plans gets one digest listing each of them, soonest first. An address
that opted out (table `digestoptout`) gets none; every other letter still goes to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .letters import DigestRevision


def address_of(email: str) -> str:
    """An address as the digest keys and the opt-outs hold it: trimmed, casefolded."""
    return email.strip().casefold()


def digest_key(address: str, as_of: dt.date) -> str:
    """The outbox key of `address`'s digest for `as_of`'s ISO week: the outbox stores it once."""
    year, week, _ = as_of.isocalendar()
    return f"digest:{address_of(address)}:{year}-W{week:02d}"


@dataclass
class Recipient:
    address: str  # casefolded
    name: str  # as the first plan (by slug) names it
    email: str  # as the first plan spells it
    revision_ids: list[int] = field(default_factory=list)


def recipients(coordinators_of: Iterable[tuple[int, str, Sequence[Mapping[str, str]]]], opted_out: set[str]) -> list[Recipient]:
    """Each coordinator address of (revision id, slug, coordinators) rows, with the revisions it
    follows, in the order of the addresses; the opted-out ones left out."""
    found: dict[str, Recipient] = {}
    for revision_id, _slug, coordinators in sorted(coordinators_of, key=lambda r: r[1]):
        for c in coordinators:
            address = address_of(c["email"])
            if address in opted_out:
                continue
            r = found.setdefault(address, Recipient(address, c.get("name") or c["email"], c["email"].strip()))
            if revision_id not in r.revision_ids:
                r.revision_ids.append(revision_id)
    return sorted(found.values(), key=lambda r: r.address)


def in_time_order(revisions: Iterable[DigestRevision]) -> tuple[DigestRevision, ...]:
    """The revisions whose dates come first first: the earliest overdue or upcoming date; those
    with none last; ties by slug."""
    far = dt.date.max

    def soonest(r: DigestRevision) -> tuple[dt.date, str]:
        days = [_day(i.when) for i in (*r.overdue, *r.upcoming)]
        return (min((d for d in days if d is not None), default=far), r.revision.slug)

    return tuple(sorted(revisions, key=soonest))


def _day(when: object) -> dt.date | None:
    if isinstance(when, dt.date):
        return when
    as_date = getattr(when, "as_date", None)
    return as_date() if as_date else None
