"""The pages: every revision (`/`), and one revision with its stages, parties and forms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from avtaleflyt.models.rules import DomainError

from .. import views
from ..deps import Clock, ClockDep, PrefectUiDep, SessionDep, SettingsDep, require_user
from ..pages import render
from .exports import feed_link

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_user)])


def load_page(session: Session, clock: Clock, page: int) -> views.RevisionPage:
    return views.revision_page(session, page=page, today=clock.today())


def load_detail(session: Session, clock: Clock, prefect_ui: str, slug: str) -> views.RevisionDetail:
    try:
        return views.revision_detail(session, slug, today=clock.today(), prefect_ui_url=prefect_ui)
    except DomainError:
        raise HTTPException(404, f"Fant ingen revidering {slug!r}") from None


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, clock: ClockDep, page: int = Query(1, ge=1)) -> HTMLResponse:
    return render(request, "index.html", data=load_page(session, clock, page))


@router.get("/revisions/{slug}", response_class=HTMLResponse)
def revision(request: Request, slug: str, session: SessionDep, clock: ClockDep, settings: SettingsDep, prefect_ui: PrefectUiDep) -> HTMLResponse:
    data = load_detail(session, clock, prefect_ui, slug)
    return render(request, "revision.html", r=data, dag=views.dag_layout(data.stages), calendar_feed=feed_link(settings, slug))
