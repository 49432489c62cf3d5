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
from typing import TYPE_CHECKING

from .enums import DigestKind, StageStatus

if TYPE_CHECKING:  # annotations only: models/letters.py imports this module
    from .letters import DigestRevision, PartyRef, RevisionRef, When


@dataclass(frozen=True)
class PartyDigestItem:
    """Something a party owes one of its revisions: its answer, decision or signature by `when`."""

    when: When
    kind: DigestKind  # how the deadline is named (hearing_deadline, decision_deadline, signing_deadline)
    what: str  # the stage's title
    revision: RevisionRef
    url: str  # the party's own link in that revision
    overdue: bool = False


@dataclass(frozen=True)
class PartyDigest:
    """A party's weekly digest: what it owes across every open revision, deadlines in `horizon_days` or passed."""

    revision: RevisionRef  # who signs it: the first revision's contact
    party: PartyRef
    as_of: dt.date
    items: tuple[PartyDigestItem, ...]
    horizon_days: int = 30
    optout_url: str | None = None



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


PARTY_HORIZON_DAYS = 30


def party_owes(stage, obligation, as_of: dt.date, horizon_days: int = PARTY_HORIZON_DAYS) -> tuple[dt.date, DigestKind, bool] | None:
    """(deadline, how it is named, passed?) when the party behind `obligation` still owes `stage`
    its answer, decision or signature by an exact deadline within `horizon_days` (or one passed
    while the stage is open); None otherwise (answered, no exact deadline, further off)."""
    from .stages import rules_for
    from .stages.base import exact_deadline

    rules = rules_for(stage.kind)
    if stage.status != StageStatus.active or rules.first_status is None or obligation.status in rules.answered:
        return None
    deadline = exact_deadline(stage)
    if deadline is None or deadline > as_of + dt.timedelta(days=horizon_days):
        return None
    return deadline, rules.digest.get("deadline", DigestKind.milestone), deadline < as_of
