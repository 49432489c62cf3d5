"""A document version's file, served only to those allowed: a logged-in user (coordinator or
reader) under the revision's page, or a party through the signed link in its letter.

A party's link still opens the documents once it has been used or withdrawn (the party reported
its decision, or got a newer link): the letter is the party's record of what it treated, and
reading the revision's documents grants nothing else. It is refused when forged or unknown
(403), once it has expired or its party has left the revision (410). A version that is a web
address redirects there.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, select
from starlette.responses import Response

from avtaleflyt.models.tables import Party, PartyLink, Revision
from avtaleflyt.tasks import documents, links

from ..deps import IN_SCOPE, ClockDep, CurrentUserDep, EngineDep, SettingsDep

router = APIRouter(include_in_schema=False)


def _serve(session: Session, revision: Revision, key: str, number: int) -> Response:
    found = documents.version_file(session, revision, key, number)
    if found is None:
        raise HTTPException(404, f"Dokumentet «{key}» har ingen versjon {number}.")
    version, stored = found
    if stored is None:
        return RedirectResponse(version.url, status_code=303)
    name = version.file_name or f"{key}-v{number}"
    return Response(stored.content, media_type=mimetypes.guess_type(name)[0] or "application/octet-stream", headers={
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })


def content_disposition(name: str) -> str:
    """An attachment named `name`: an ASCII fallback, and the name itself as RFC 5987 UTF-8 (æøå)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/revisions/{slug}/documents/{key}/v{number:int}", dependencies=IN_SCOPE)
def coordinator_document(slug: str, key: str, number: int, user: CurrentUserDep, engine: EngineDep) -> Response:
    with Session(engine) as session:
        revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
        if revision is None:
            raise HTTPException(404, f"Ingen revidering «{slug}».")
        return _serve(session, revision, key, number)


@router.get("/p/{token}/documents/{key}/v{number:int}")
def party_document(token: str, key: str, number: int, engine: EngineDep, settings: SettingsDep, clock: ClockDep) -> Response:
    with Session(engine) as session:
        link = _readable_link(session, settings.signing_key(), token, clock.now())
        return _serve(session, session.get(Revision, link.revision_id), key, number)


def _readable_link(session: Session, secret: str, token: str, now: dt.datetime) -> PartyLink:
    try:
        nonce = URLSafeSerializer(secret, salt=links.SALT).loads(token)
    except BadSignature:
        raise HTTPException(403, "Lenken er ikke gyldig (den er endret eller ufullstendig).") from None
    link = session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first()
    if link is None:
        raise HTTPException(403, "Lenken er ukjent her.")
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=dt.timezone.utc)
    if expires <= now:
        raise HTTPException(410, f"Lenken utløp {expires:%d.%m.%Y}; be sekretariatet om en ny.")
    party = session.get(Party, link.party_id)
    if party is None or not party.active:
        raise HTTPException(410, "Parten har gått ut av revideringen; lenken virker ikke lenger.")
    return link
