"""The same data as JSON under /api/, and its description at /docs and /openapi.json.

FastAPI's own /docs loads Swagger UI from a CDN, with inline script: these are served
by the app, to logged-in users only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from .. import views
from ..deps import IN_SCOPE, ClockDep, PrefectUiDep, SessionDep, require_user
from ..list_query import MAX_PER_PAGE, PER_PAGE, ListQueryError
from ..pages import render
from ..security import CurrentUser
from .revisions import load_detail, load_page

router = APIRouter(tags=["api"], dependencies=IN_SCOPE)  # a login, and a {slug} only in the user's helsefellesskap


@router.get(
    "/api/revisions", response_model=views.RevisionPage, summary="Revideringene, filtrert og 20 per side (per_page høyst 100)",
    responses={422: {"description": "en verdi som ikke kan leses: detail[0].loc names it, detail[0].msg says why (bokmål)"}},
)
def api_revisions(
    request: Request, session: SessionDep, clock: ClockDep, user: Annotated[CurrentUser, Depends(require_user)],
    # Declared for the API's description; read (and refused in bokmål) by list_query.parse, as on the page.
    page: str = Query("1", description="sidenummer, fra 1"),
    per_page: str = Query(str(PER_PAGE), description=f"antall per side, 1–{MAX_PER_PAGE}"),
    status: str | None = Query(None, description="bare revideringer med denne statusen: active | completed"),
    helsefellesskap: str | None = Query(None, description="bare dette helsefellesskapets revideringer"),
    mine: str | None = Query(None, description="1: bare det som venter på den innloggede koordinatoren (en høring å lukke, et vedtak å registrere, en part på overtid, en oppfølging)"),
    overdue: str | None = Query(None, description="1: bare revideringer med et aktivt trinn der en dato er passert"),
) -> views.RevisionPage:
    try:
        return load_page(session, clock, user, request.query_params, "/api/revisions")
    except ListQueryError as exc:
        raise HTTPException(422, [{"loc": ["query", exc.param], "msg": exc.message, "type": "value_error"}]) from None


@router.get(
    "/api/revisions/{slug}", response_model=views.RevisionDetail, summary="Én revidering: trinn, parter, tidslinje, frister, e-post",
    responses={404: {"description": "ukjent revidering"}, 401: {"description": "ikke innlogget"}},
)
def api_revision(slug: str, session: SessionDep, clock: ClockDep, prefect_ui: PrefectUiDep) -> views.RevisionDetail:
    return load_detail(session, clock, prefect_ui, slug)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict:
    return request.app.openapi()


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """The API's endpoints, from the OpenAPI schema: no Swagger UI (it loads from a CDN)."""
    schema = request.app.openapi()
    endpoints = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", ""), "params": [p["name"] for p in op.get("parameters", [])]}
        for path, item in schema["paths"].items() for method, op in item.items()
    ]
    return render(request, "api.html", schema=schema, endpoints=endpoints)
