"""A party's link to report its own decision: signed, expiring, used once, no account needed.

The token is a signed nonce (itsdangerous); the nonce's row says for which revision
and party, until when, and whether it was used. The nonce comes from the letter's
outbox key, so composing the same letter again gives the same link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, select

from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, PartyLink, Revision

SALT = "avtaleflyt.party-decision"


class LinkRefused(DomainError):
    """The link is unknown, tampered with, expired or used: the message says which."""


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def issue(session: Session, secret: str, revision: Revision, party: Party, *, source_key: str, expires_at: dt.datetime) -> str:
    """The token for `party`'s link (stored once per `source_key`)."""
    nonce = hmac.new(secret.encode(), source_key.encode(), hashlib.sha256).hexdigest()[:32]
    if session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first() is None:
        session.add(PartyLink(nonce=nonce, revision_id=revision.id, party_id=party.id, expires_at=expires_at))
        session.flush()
    return _serializer(secret).dumps(nonce)


def check(session: Session, secret: str, token: str, now: dt.datetime) -> PartyLink:
    """The link's row if it may be used now; raises LinkRefused saying why not."""
    try:
        nonce = _serializer(secret).loads(token)
    except BadSignature:
        raise LinkRefused("this link is not valid (it was changed or is incomplete)") from None
    link = session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first()
    if link is None:
        raise LinkRefused("this link is not known here")
    if link.used_at is not None:
        raise LinkRefused(f"this link was used on {link.used_at:%Y-%m-%d %H:%M}; ask the secretariat for a new one")
    if _aware(link.expires_at) <= now:
        raise LinkRefused(f"this link expired on {link.expires_at:%Y-%m-%d}; ask the secretariat for a new one")
    return link


def use(session: Session, secret: str, token: str, now: dt.datetime) -> PartyLink:
    """Check and mark used, in the caller's transaction (the one that records the decision)."""
    checked = check(session, secret, token, now)
    # Locked and read again (populate_existing): on PostgreSQL the row `check` loaded may be stale by now.
    link = session.exec(
        select(PartyLink).where(PartyLink.id == checked.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if link.used_at is not None:  # a second request that raced the first
        raise LinkRefused("this link was just used")
    link.used_at = now
    session.add(link)
    return link


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
