"""A party's minutes file (the decision or its særutskrift, sent back with its decision), served
to logged-in users only (coordinators and readers), as an attachment."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, HTTPException
from sqlmodel import Session
from starlette.responses import Response

from ..deps import IN_SCOPE, CurrentUserDep, EngineDep
from ..party_returns import minutes_file
from .documents import content_disposition

router = APIRouter(include_in_schema=False)


@router.get("/revisions/{slug}/parties/{party_id:int}/minutes", dependencies=IN_SCOPE)
def party_minutes(slug: str, party_id: int, user: CurrentUserDep, engine: EngineDep) -> Response:
    with Session(engine) as session:
        found = minutes_file(session, slug, party_id)
    if found is None:
        raise HTTPException(404, "Parten har ikke sendt noen fil med vedtaket.")
    name, content = found
    return Response(content, media_type=mimetypes.guess_type(name)[0] or "application/octet-stream", headers={
        "Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
    })
