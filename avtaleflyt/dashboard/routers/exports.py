"""The plan as files: the printable Fremdriftsplan, the CSV, and the calendar feeds.

The Fremdriftsplan and the CSV need a login; the calendar feeds take a signed token
instead (tasks/feeds.py), because a calendar app cannot log in.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import export, feeds

from .. import security
from ..deps import IN_SCOPE, ClockDep, SessionDep, SettingsDep
from ..errors import in_norwegian
from ..pages import render

router = APIRouter(include_in_schema=False)
reader = IN_SCOPE  # a login, and the revision in the user's helsefellesskap (else 404)


def feed_link(settings: Settings, slug: str, party_id: int | None = None) -> dict[str, str]:
    """A feed's subscribe address (with its token) and the same as a webcal:// link."""
    token = feeds.feed_token(settings.signing_key(), slug, party_id)
    url = f"{settings.public_url.rstrip('/')}{feeds.feed_path(slug, party_id)}?token={token}"
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


def _exported(session: Session, make: Callable[[Session], str], *, public: bool = False) -> str:
    try:
        return make(session)
    except DomainError as exc:  # a feed answers without a login: it does not list the known revisions
        raise HTTPException(404, "Kalenderen finnes ikke lenger." if public else in_norwegian(exc)) from None


def _calendar(text: str) -> Response:
    return Response(text, media_type="text/calendar; charset=utf-8", headers={"Content-Disposition": 'inline; filename="plan.ics"'})


def _refuse_feed() -> HTTPException:
    return HTTPException(403, "Kalenderlenken mangler en gyldig nøkkel. Kopier abonnementslenken fra revideringssiden på nytt.")


@router.get("/revisions/{slug}/fremdriftsplan", response_class=HTMLResponse, dependencies=reader)
def fremdriftsplan(slug: str, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    text = _exported(session, lambda s: export.plan_html(s, slug, today=clock.today()))
    # The printable plan is also a file of its own (`plan export --format html`), so its
    # style stays inline: the policy names that one style block by its hash.
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'" for m in re.findall(r"<style>(.*?)</style>", text, re.S))
    return HTMLResponse(text, headers={"Content-Security-Policy": security.CSP.replace("style-src 'self'", f"style-src 'self' {hashes}")})


@router.get("/revisions/{slug}/plan.csv", dependencies=reader)
def plan_csv(slug: str, session: SessionDep) -> Response:
    filename = quote(f"{slug}-fremdriftsplan.csv")
    return Response(
        _exported(session, lambda s: export.plan_csv(s, slug)), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@router.get("/revisions/{slug}/kalendere", response_class=HTMLResponse, dependencies=reader)
def calendars(request: Request, slug: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Every feed of the revision with its subscribe link: its own page, so the revision page makes no extra query."""
    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        raise HTTPException(404, f"Fant ingen revidering {slug!r}")
    parties = session.exec(select(Party).where(Party.revision_id == revision.id, col(Party.active).is_(True)).order_by(Party.name)).all()
    return render(
        request, "calendars.html", revision=revision, calendar_feed=feed_link(settings, slug),
        parties=[{"name": p.name, "body": p.body, **feed_link(settings, slug, p.id)} for p in parties],
    )


@router.get("/revisions/{slug}/plan.ics")
def revision_feed(slug: str, session: SessionDep, settings: SettingsDep, token: str | None = None) -> Response:
    if not feeds.feed_token_valid(settings.signing_key(), token, slug):
        raise _refuse_feed()
    return _calendar(_exported(session, lambda s: export.plan_ics(s, slug), public=True))


@router.get("/revisions/{slug}/parties/{party_id}/plan.ics")
def party_feed(slug: str, party_id: int, session: SessionDep, settings: SettingsDep, token: str | None = None) -> Response:
    if not feeds.feed_token_valid(settings.signing_key(), token, slug, party_id):
        raise _refuse_feed()
    return _calendar(_exported(session, lambda s: export.plan_ics(s, slug, party_id=party_id), public=True))
