"""The case papers as files, for the coordinators: a forum's saksframstilling as Word (to file in
the case system) or as a printable HTML page. A forum has no login and no party link: its members
get the paper in the meeting notice itself (tasks/stages/forum_approval.py)."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse, Response

from avtaleflyt.models.enums import Language
from avtaleflyt.models.errors import DomainError
from avtaleflyt.models.papers import Paper
from avtaleflyt.tasks.papers import forum_case

from .. import security
from ..deps import CurrentUserDep, RevisionInScope, SessionDep
from ..errors import in_norwegian

router = APIRouter(include_in_schema=False)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def coordinator_only(user: CurrentUserDep, revision: RevisionInScope) -> None:
    """A coordinator in the revision's helsefellesskap (outside it: 404, as RevisionInScope answers)."""
    if revision is None or not user.may_record_in(revision.helsefellesskap):
        raise HTTPException(403, "Bare koordinatorer kan hente saksframstillinger.")


def forum_paper(session: SessionDep, slug: str, stage: str, language: Language | None) -> Paper:
    try:
        return forum_case.for_revision(session, slug, stage, language.value if language else None)
    except DomainError as exc:
        if exc.params.get("why") == "no_case":
            raise HTTPException(404, f"Trinnet «{stage}» har ingen saksframstilling: planen gir det ingen case:-blokk.") from None
        raise HTTPException(404, in_norwegian(exc)) from None


def html_with_its_style(text: str) -> HTMLResponse:
    """The page keeps its inline style (it is also a file of its own): the policy names it by its hash."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'" for m in re.findall(r"<style>(.*?)</style>", text, re.S))
    return HTMLResponse(text, headers={"Content-Security-Policy": security.CSP.replace("style-src 'self'", f"style-src 'self' {hashes}")})


@router.get("/revisions/{slug}/papers/{stage}.docx", dependencies=[Depends(coordinator_only)])
def forum_paper_docx(slug: str, stage: str, session: SessionDep, user: CurrentUserDep, language: Language | None = None) -> Response:
    data = forum_case.render(forum_paper(session, slug, stage, language), "docx")
    filename = quote(f"{slug}-{stage}-saksframstilling.docx")
    return Response(data, media_type=DOCX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


@router.get("/revisions/{slug}/papers/{stage}.html", response_class=HTMLResponse, dependencies=[Depends(coordinator_only)])
def forum_paper_html(slug: str, stage: str, session: SessionDep, user: CurrentUserDep, language: Language | None = None) -> HTMLResponse:
    return html_with_its_style(forum_case.render(forum_paper(session, slug, stage, language), "html").decode("utf-8"))


# --- a party's draft case (saksframlegg; styresak for a health trust's board) -------------------
# The party itself gets it through its own link: /p/{token}/saksframlegg.docx|html (party_links.py).


def party_case_response(case, fmt: str) -> Response:  # noqa: ANN001 - a models.papers.party_case.PartyCase
    """The draft case as a Word download or an HTML page that keeps its own style."""
    from avtaleflyt.tasks.papers import party_case as papers

    data, name = papers.render(case, fmt), quote(papers.file_name(case, fmt))
    response = html_with_its_style(data.decode("utf-8")) if fmt == "html" else Response(data, media_type=papers.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f"{'inline' if fmt == 'html' else 'attachment'}; filename*=UTF-8''{name}"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/revisions/{slug}/parties/{party_id}/saksframlegg.{fmt}", dependencies=[Depends(coordinator_only)])
def party_case_paper(slug: str, party_id: int, fmt: str, session: SessionDep, user: CurrentUserDep) -> Response:
    from sqlmodel import select

    from avtaleflyt.models.tables import Party, Revision
    from avtaleflyt.tasks.papers import party_case as papers

    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    party = session.get(Party, party_id)
    if fmt not in papers.FORMATS or revision is None or party is None or party.revision_id != revision.id:
        raise HTTPException(404)
    try:
        case = papers.build(session, revision, party)
    except DomainError as exc:
        raise HTTPException(404, in_norwegian(exc)) from None
    return party_case_response(case, fmt)
