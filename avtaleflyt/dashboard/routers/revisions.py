"""The pages: every revision (`/`), and one revision with its stages, parties and forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from avtaleflyt.models.rules import DomainError

from .. import list_query, views
from ..deps import (
    IN_SCOPE,
    Clock,
    ClockDep,
    PrefectUiDep,
    SessionDep,
    SettingsDep,
    require_user,
)
from ..pages import render
from ..security import CurrentUser
from .exports import feed_link

router = APIRouter(include_in_schema=False, dependencies=IN_SCOPE)  # a login, and a {slug} only in the user's helsefellesskap


def load_page(session: Session, clock: Clock, user: CurrentUser, params: Mapping[str, str], path: str) -> views.RevisionPage:
    """The list's page for these query parameters; ListQueryError for a value it cannot read."""
    return views.revision_page(session, today=clock.today(), query=list_query.parse(params), may_act=user.may_record, path=path, scope=user.scope)


def load_detail(session: Session, clock: Clock, prefect_ui: str, slug: str) -> views.RevisionDetail:
    try:
        return views.revision_detail(session, slug, today=clock.today(), prefect_ui_url=prefect_ui)
    except DomainError:
        raise HTTPException(404, f"Fant ingen revidering {slug!r}") from None


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, clock: ClockDep, user: Annotated[CurrentUser, Depends(require_user)]) -> HTMLResponse:
    try:
        return render(request, "index.html", data=load_page(session, clock, user, request.query_params, "/"), problem=None)
    except list_query.ListQueryError as exc:  # the page with the message, and every revision under it
        data = views.revision_page(session, today=clock.today(), scope=user.scope)
        return render(request, "index.html", status_code=400, data=data, problem=exc)


@router.get("/revisions/{slug}", response_class=HTMLResponse)
def revision(request: Request, slug: str, session: SessionDep, clock: ClockDep, settings: SettingsDep, prefect_ui: PrefectUiDep) -> HTMLResponse:
    data = load_detail(session, clock, prefect_ui, slug)
    return render(request, "revision.html", r=data, dag=views.dag_layout(data.stages), calendar_feed=feed_link(settings, slug))
