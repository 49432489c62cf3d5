"""A party's link to report its own decision: signed, expiring, used once, no account needed.

The token is a signed nonce (itsdangerous); the nonce's row says for which revision
and party, until when, and whether it was used or withdrawn. The nonce comes from the
letter's outbox key, so composing the same letter again gives the same link.

A party has at most one link that works: a reminder reuses the party's link while it
has `REUSE_MIN_DAYS` left, else gets a new one and the old one is withdrawn
(`for_letter`). Links are withdrawn when the party leaves and once its decision is
recorded (`revoke`), and a link of a party that has left is refused anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert
from sqlmodel import Session, col, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import Party, PartyLink, Revision

SALT = "avtaleflyt.party-decision"
#: A reminder reuses the party's link if it works this much longer; else it gets a new one.
REUSE_MIN_DAYS = 14


class LinkRefused(DomainError):
    """The link is unknown, tampered with, expired or used: the message says which."""


@lru_cache(maxsize=8)  # stateless once made: one per key, not one per letter
def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def _nonce(secret: str, source_key: str) -> str:
    return hmac.new(secret.encode(), source_key.encode(), hashlib.sha256).hexdigest()[:32]


def issue(session: Session, secret: str, revision: Revision, party: Party, *, source_key: str, expires_at: dt.datetime) -> str:
    """The token for `party`'s link (stored once per `source_key`)."""
    nonce = _nonce(secret, source_key)
    if session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first() is None:
        session.add(PartyLink(nonce=nonce, revision_id=revision.id, party_id=party.id, expires_at=expires_at))
        session.flush()
    return _serializer(secret).dumps(nonce)


@dataclass
class _Book:
    """A revision's links read once for many letters (`batch`): the letters' own, by nonce, and
    each of the parties' open links, locked as `_open_links` locks them."""

    secret: str
    by_nonce: dict[str, PartyLink | _NewLink]
    open_of: dict[int, list[PartyLink | _NewLink]]
    new: list[_NewLink] = field(default_factory=list)  # issued in the batch: inserted together when it ends


@dataclass(slots=True)
class _NewLink:
    """A `PartyLink` row issued in a batch, as the values it is inserted with: a plain object, not a
    SQLModel one (whose validating attribute setter cost more than the rest of issuing the link)."""

    nonce: str
    revision_id: int
    party_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revoked_because: str | None = None
    created_at: dt.datetime = field(default_factory=utcnow)  # as PartyLink's default


_BOOK = "avtaleflyt.links.batch"
_LINKS = PartyLink.__table__


@contextmanager
def batch(session: Session, secret: str, letters: Sequence[tuple[int, str]]) -> Iterator[None]:
    """While composing many letters in one transaction (the sweep, a revision at a time): the links
    of `letters` ((party id, source key) each) read in two queries, so that `for_letter` answers
    each letter from them instead of querying; what it adds or withdraws goes to the session as
    one letter at a time would."""
    nonces = [_nonce(secret, key) for _, key in letters]
    parties = sorted({party_id for party_id, _ in letters})
    by_nonce: dict[str, PartyLink] = {}
    open_of: dict[int, list[PartyLink]] = {party_id: [] for party_id in parties}
    for i in range(0, len(nonces), 900):
        by_nonce.update((link.nonce, link) for link in session.exec(select(PartyLink).where(col(PartyLink.nonce).in_(nonces[i:i + 900]))))
    for i in range(0, len(parties), 900):
        for link in session.exec(_open_query(col(PartyLink.party_id).in_(parties[i:i + 900]))):
            open_of[link.party_id].append(link)
    session.info[_BOOK] = book = _Book(secret, by_nonce, open_of)
    try:
        yield
        if book.new:
            columns = [c.key for c in _LINKS.columns if c.key != "id"]
            session.connection().execute(insert(_LINKS), [{c: getattr(link, c) for c in columns} for link in book.new])
    finally:
        session.info.pop(_BOOK, None)


def batch_secret(session: Session) -> str | None:
    """The signing key of the `batch` open on `session` (None outside one): its letters sign with it."""
    book = session.info.get(_BOOK)
    return book.secret if book is not None else None


def for_letter(session: Session, secret: str, revision: Revision, party: Party, *, source_key: str, now: dt.datetime, valid_days: int) -> str:
    """The link for a letter to `party`: the letter's own if composed before, else the party's
    working link if it has `REUSE_MIN_DAYS` left, else a new one (and the older ones withdrawn)."""
    nonce = _nonce(secret, source_key)
    book = session.info.get(_BOOK)
    if book is not None and book.secret == secret and party.id in book.open_of:
        return _from_book(session, book, revision, party, nonce, now=now, valid_days=valid_days)
    if session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first() is not None:
        return _serializer(secret).dumps(nonce)
    working = [
        link for link in _open_links(session, party.id, revision.id)
        if _aware(link.expires_at) >= now + dt.timedelta(days=REUSE_MIN_DAYS)
    ]
    if working:
        return _serializer(secret).dumps(max(working, key=lambda link: _aware(link.expires_at)).nonce)
    revoke(session, party, because="replaced by a newer link", now=now)
    return issue(session, secret, revision, party, source_key=source_key, expires_at=now + dt.timedelta(days=valid_days))


def _from_book(session: Session, book: _Book, revision: Revision, party: Party, nonce: str, *, now: dt.datetime, valid_days: int) -> str:
    """`for_letter` from a batch's book: the same answers, the same rows written."""
    if nonce not in book.by_nonce:
        links = book.open_of[party.id]
        working = [
            link for link in links
            if link.revision_id == revision.id and _aware(link.expires_at) >= now + dt.timedelta(days=REUSE_MIN_DAYS)
        ]
        if working:
            return _serializer(book.secret).dumps(max(working, key=lambda link: _aware(link.expires_at)).nonce)
        for link in links:  # revoke(), on the rows already read and locked (or issued in this batch)
            link.revoked_at, link.revoked_because = now, "replaced by a newer link"
        link = _NewLink(nonce=nonce, revision_id=revision.id, party_id=party.id, expires_at=now + dt.timedelta(days=valid_days))
        book.new.append(link)
        book.by_nonce[nonce], book.open_of[party.id] = link, [link]
    return _serializer(book.secret).dumps(nonce)


def _open_query(where):  # noqa: ANN001, ANN202
    return select(PartyLink).where(where, PartyLink.used_at.is_(None), PartyLink.revoked_at.is_(None)).with_for_update()  # type: ignore[union-attr]


def _open_links(session: Session, party_id: int, revision_id: int | None = None) -> list[PartyLink]:
    query = _open_query(PartyLink.party_id == party_id)
    if revision_id is not None:
        query = query.where(PartyLink.revision_id == revision_id)
    return list(session.exec(query).all())


def revoke(session: Session, party: Party, *, because: str, now: dt.datetime) -> int:
    """Withdraw every unused link of `party` (in the caller's transaction); returns how many."""
    withdrawn = _open_links(session, party.id)
    for link in withdrawn:
        link.revoked_at, link.revoked_because = now, because
        session.add(link)
    session.flush()
    return len(withdrawn)


def check(session: Session, secret: str, token: str, now: dt.datetime) -> PartyLink:
    """The link's row if it may be used now; raises LinkRefused saying why not."""
    try:
        nonce = _serializer(secret).loads(token)
    except BadSignature:
        raise LinkRefused("this link is not valid (it was changed or is incomplete)", code=ErrorCode.link_invalid, reason="forged") from None
    link = session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first()
    if link is None:
        raise LinkRefused("this link is not known here", code=ErrorCode.link_invalid, reason="unknown")
    _refuse_if_spent(link, now)
    party = session.get(Party, link.party_id)
    if party is None or not party.active:
        raise LinkRefused(
            f"{party.name if party else 'this party'} has left the revision; its link no longer works",
            code=ErrorCode.link_spent, reason="left", party=party.name if party else None, on=party.left_on if party else None,
        )
    return link


def _refuse_if_spent(link: PartyLink, now: dt.datetime) -> None:
    if link.used_at is not None:
        raise LinkRefused(f"this link was used on {link.used_at:%Y-%m-%d %H:%M}; ask the secretariat for a new one", code=ErrorCode.link_spent, reason="used", on=link.used_at)
    if link.revoked_at is not None:
        raise LinkRefused(
            f"this link was withdrawn on {link.revoked_at:%Y-%m-%d} ({link.revoked_because}); ask the secretariat if you need a new one",
            code=ErrorCode.link_spent, reason="withdrawn", on=link.revoked_at, because=link.revoked_because,
        )
    if _aware(link.expires_at) <= now:
        raise LinkRefused(f"this link expired on {link.expires_at:%Y-%m-%d}; ask the secretariat for a new one", code=ErrorCode.link_spent, reason="expired", on=link.expires_at)


def use(session: Session, secret: str, token: str, now: dt.datetime) -> PartyLink:
    """Check and mark used, in the caller's transaction (the one that records the decision)."""
    checked = check(session, secret, token, now)
    # Locked and read again (populate_existing): on PostgreSQL the row `check` loaded may be stale by now.
    link = session.exec(
        select(PartyLink).where(PartyLink.id == checked.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if link.used_at is not None:  # a second request that raced the first
        raise LinkRefused("this link was just used", code=ErrorCode.link_spent, reason="used", on=now)
    _refuse_if_spent(link, now)  # withdrawn meanwhile (the party left)
    link.used_at = now
    session.add(link)
    return link


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
