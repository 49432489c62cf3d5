"""Calendar feed tokens: a calendar app subscribes to a revision's (or one party's) plan without logging in.

A token is the feed's address signed with the installation's key (itsdangerous),
with a salt per kind of feed. It does not expire — a subscribed calendar keeps
polling the same URL for the life of the revision — and it is the same every time
it is made, so the subscribe link on the dashboard does not change. Rotating the
signing key revokes every feed.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

REVISION_FEED_SALT = "avtaleflyt.feed.revision"
PARTY_FEED_SALT = "avtaleflyt.feed.party"


def _serializer(secret: str, party_id: int | None) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=REVISION_FEED_SALT if party_id is None else PARTY_FEED_SALT)


def _subject(slug: str, party_id: int | None) -> list[str | int]:
    return [slug] if party_id is None else [slug, party_id]


def feed_token(secret: str, slug: str, party_id: int | None = None) -> str:
    """The token for the revision's feed, or for one party's feed in it."""
    return _serializer(secret, party_id).dumps(_subject(slug, party_id))


def feed_token_valid(secret: str, token: str | None, slug: str, party_id: int | None = None) -> bool:
    """True only for a token made by `feed_token` for this very feed."""
    if not token:
        return False
    try:
        subject = _serializer(secret, party_id).loads(token)
    except BadSignature:
        return False
    return subject == _subject(slug, party_id)


def feed_path(slug: str, party_id: int | None = None) -> str:
    """The feed's path on the dashboard (without the token)."""
    base = f"/revisions/{quote(slug, safe='')}"
    return f"{base}/plan.ics" if party_id is None else f"{base}/parties/{party_id}/plan.ics"
