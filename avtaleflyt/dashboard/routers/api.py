"""The same data as JSON under /api/, and its description at /docs and /openapi.json.

FastAPI's own /docs loads Swagger UI from a CDN, with inline script: these are served
by the app, to logged-in users only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from .. import views
from ..deps import ClockDep, PrefectUiDep, SessionDep, require_user
from ..pages import render
from .revisions import load_detail, load_page

router = APIRouter(tags=["api"], dependencies=[Depends(require_user)])


@router.get("/api/revisions", response_model=views.RevisionPage, summary="Alle revideringer, 20 per side")
def api_revisions(session: SessionDep, clock: ClockDep, page: int = Query(1, ge=1, description="sidenummer, fra 1")) -> views.RevisionPage:
    return load_page(session, clock, page)


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
