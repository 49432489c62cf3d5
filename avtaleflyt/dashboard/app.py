"""The dashboard: FastAPI + Jinja2 pages (read side), and the same data as JSON under /api/."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from avtaleflyt import clock
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.settings import Settings, get_settings
from avtaleflyt.tasks import export, feeds

from . import security, views
from .forms import install_forms

def _pages_dir() -> Path:
    import avtaleflyt.templates as t

    return Path(t.__file__).parent / "pages"


def prefect_ui_url(settings: Settings) -> str:
    """Prefect's UI: PREFECT_UI_URL, else PREFECT_API_URL without `/api`, else `up`'s server."""
    if ui := os.environ.get("PREFECT_UI_URL"):
        return ui.rstrip("/")
    if api := os.environ.get("PREFECT_API_URL"):
        api = api.rstrip("/")
        return api[: -len("/api")] if api.endswith("/api") else api
    return f"http://127.0.0.1:{settings.prefect_port}"


def _date_nb(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        local = value if value.tzinfo is None else value.astimezone()
        return local.strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


def _plan_date_nb(value: str | None) -> str:
    if not value:
        return "–"
    from avtaleflyt.models.dates import PlanDate

    d = PlanDate.parse(value)
    return d.first_day.strftime("%d.%m.%Y") if d.exact else views.month_label(d.year, d.month)


def templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(_pages_dir())),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dato"] = _date_nb
    env.filters["plandato"] = _plan_date_nb
    env.globals["DATE_NAME_NB"] = views.DATE_NAME_NB
    env.globals["HEARING_NB"] = views.HEARING_NB
    return Jinja2Templates(env=env)


def create_app(
    engine: Engine | None = None,
    settings: Settings | None = None,
    *,
    today: Callable[[], dt.date] | None = None,
    prefect_ui: str | None = None,
) -> FastAPI:
    """The dashboard app over `engine` (default: the configured domain database)."""
    settings = settings or get_settings()
    if engine is None:
        from avtaleflyt.db import engine_for

        engine = engine_for(settings.domain_database_url)
    today_fn = today or clock.today
    ui_url = prefect_ui or prefect_ui_url(settings)
    pages = templates()

    app = FastAPI(
        title="avtaleflyt",
        summary="Hvor hver revisjon av samarbeidsavtalen står",
        description="Oversikt over revisjoner: trinn, parter, tidslinje, frister og e-postlogg. JSON under /api/.",
        version="0.1.0",
        # FastAPI's own /docs loads Swagger UI from a CDN, with inline script: our /docs and
        # /openapi.json below are served by the app, to logged-in users only.
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.engine = engine
    app.add_middleware(security.SecurityHeaders)
    app.mount("/static", StaticFiles(directory=_pages_dir() / "static"), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.signing_key(),
        session_cookie="avtaleflyt_session",
        max_age=security.SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )

    def page_context(request: Request, **values: object) -> dict:
        """What every page gets: the user, the form token, a message from the last action."""
        return {
            "user": security.current_user(request),
            "csrf_token": security.csrf_token(request),
            "flash": security.take_flash(request),
            "today": today_fn(),
            **values,
        }

    def session() -> Session:
        return Session(engine, expire_on_commit=False)

    def load_page(page: int) -> views.RevisionPage:
        with session() as s:
            return views.revision_page(s, page=page, today=today_fn())

    def load_detail(slug: str) -> views.RevisionDetail:
        with session() as s:
            try:
                return views.revision_detail(s, slug, today=today_fn(), prefect_ui_url=ui_url)
            except DomainError:
                raise HTTPException(404, f"Fant ingen revisjon {slug!r}") from None

    # ------------------------------------------------------------------ JSON

    reader = [Depends(security.require_user)]

    @app.get("/api/revisions", response_model=views.RevisionPage, tags=["api"], summary="Alle revisjoner, 20 per side", dependencies=reader)
    def api_revisions(page: int = Query(1, ge=1, description="sidenummer, fra 1")) -> views.RevisionPage:
        return load_page(page)

    @app.get(
        "/api/revisions/{slug}", response_model=views.RevisionDetail, tags=["api"], summary="Én revisjon: trinn, parter, tidslinje, frister, e-post",
        responses={404: {"description": "ukjent revisjon"}, 401: {"description": "ikke innlogget"}}, dependencies=reader,
    )
    def api_revision(slug: str) -> views.RevisionDetail:
        return load_detail(slug)

    # ------------------------------------------------------------------ plan exports
    # The printable Fremdriftsplan and the CSV need a login; the calendar feeds take a
    # signed token instead (tasks/feeds.py), because a calendar app cannot log in.

    def exported(make: Callable[[Session], str], *, public: bool = False) -> str:
        with session() as s:
            try:
                return make(s)
            except DomainError as exc:  # a feed answers without a login: it does not list the known revisions
                raise HTTPException(404, "Kalenderen finnes ikke lenger." if public else str(exc)) from None

    def feed_link(slug: str, party_id: int | None = None) -> dict[str, str]:
        """A feed's subscribe address (with its token) and the same as a webcal:// link."""
        token = feeds.feed_token(settings.signing_key(), slug, party_id)
        url = f"{settings.public_url.rstrip('/')}{feeds.feed_path(slug, party_id)}?token={token}"
        return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}

    def calendar_response(text: str) -> Response:
        return Response(text, media_type="text/calendar; charset=utf-8", headers={"Content-Disposition": 'inline; filename="plan.ics"'})

    def refuse_feed() -> HTTPException:
        return HTTPException(403, "Kalenderlenken mangler en gyldig nøkkel. Kopier abonnementslenken fra revisjonssiden på nytt.")

    @app.get("/revisions/{slug}/fremdriftsplan", response_class=HTMLResponse, include_in_schema=False, dependencies=reader)
    def fremdriftsplan(slug: str) -> HTMLResponse:
        text = exported(lambda s: export.plan_html(s, slug, today=today_fn()))
        # The printable plan is also a file of its own (`plan export --format html`), so its
        # style stays inline: the policy names that one style block by its hash.
        hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'" for m in re.findall(r"<style>(.*?)</style>", text, re.S))
        return HTMLResponse(text, headers={"Content-Security-Policy": security.CSP.replace("style-src 'self'", f"style-src 'self' {hashes}")})

    @app.get("/revisions/{slug}/plan.csv", include_in_schema=False, dependencies=reader)
    def plan_csv(slug: str) -> Response:
        filename = quote(f"{slug}-fremdriftsplan.csv")
        return Response(
            exported(lambda s: export.plan_csv(s, slug)), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
        )

    @app.get("/revisions/{slug}/kalendere", response_class=HTMLResponse, include_in_schema=False, dependencies=reader)
    def calendars(request: Request, slug: str) -> HTMLResponse:
        """Every feed of the revision with its subscribe link: its own page, so the revision page makes no extra query."""
        with session() as s:
            revision = s.exec(select(Revision).where(Revision.slug == slug)).first()
            if revision is None:
                raise HTTPException(404, f"Fant ingen revisjon {slug!r}")
            parties = s.exec(select(Party).where(Party.revision_id == revision.id, col(Party.active).is_(True)).order_by(Party.name)).all()
        return pages.TemplateResponse(
            request, "calendars.html",
            page_context(request, revision=revision, calendar_feed=feed_link(slug), parties=[{"name": p.name, "body": p.body, **feed_link(slug, p.id)} for p in parties]),
        )

    @app.get("/revisions/{slug}/plan.ics", include_in_schema=False)
    def revision_feed(slug: str, token: str | None = None) -> Response:
        if not feeds.feed_token_valid(settings.signing_key(), token, slug):
            raise refuse_feed()
        return calendar_response(exported(lambda s: export.plan_ics(s, slug), public=True))

    @app.get("/revisions/{slug}/parties/{party_id}/plan.ics", include_in_schema=False)
    def party_feed(slug: str, party_id: int, token: str | None = None) -> Response:
        if not feeds.feed_token_valid(settings.signing_key(), token, slug, party_id):
            raise refuse_feed()
        return calendar_response(exported(lambda s: export.plan_ics(s, slug, party_id=party_id), public=True))

    # ------------------------------------------------------------------ pages

    @app.get("/", response_class=HTMLResponse, include_in_schema=False, dependencies=reader)
    def index(request: Request, page: int = Query(1, ge=1)) -> HTMLResponse:
        data = load_page(page)
        return pages.TemplateResponse(request, "index.html", page_context(request, data=data))

    @app.get("/revisions/{slug}", response_class=HTMLResponse, include_in_schema=False, dependencies=reader)
    def revision(request: Request, slug: str) -> HTMLResponse:
        data = load_detail(slug)
        return pages.TemplateResponse(
            request, "revision.html", page_context(request, r=data, dag=views.dag_layout(data.stages), calendar_feed=feed_link(slug))
        )

    install_forms(app, engine=engine, settings=settings, pages=pages, page_context=page_context, today=today_fn)

    @app.exception_handler(security.LoginRequired)
    async def login_required(request: Request, exc: security.LoginRequired):  # noqa: ANN202
        if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
            return JSONResponse({"detail": "logg inn først"}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.get("/openapi.json", include_in_schema=False, dependencies=reader)
    def openapi() -> dict:
        return app.openapi()

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False, dependencies=reader)
    def docs(request: Request) -> HTMLResponse:
        """The API's endpoints, from the OpenAPI schema: no Swagger UI (it loads from a CDN)."""
        schema = app.openapi()
        endpoints = [
            {"method": method.upper(), "path": path, "summary": op.get("summary", ""), "params": [p["name"] for p in op.get("parameters", [])]}
            for path, item in schema["paths"].items() for method, op in item.items()
        ]
        return pages.TemplateResponse(request, "api.html", page_context(request, schema=schema, endpoints=endpoints))

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        """On the event loop, touching nothing: it answers while every thread is busy."""
        return {"status": "ok"}

    def error_page(request: Request, exc: StarletteHTTPException) -> Response:
        template = "not_found.html" if exc.status_code == 404 else "error.html"
        return pages.TemplateResponse(request, template, page_context(request, message=exc.detail, status=exc.status_code), status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # noqa: ANN202
        if request.url.path.startswith("/api/") or request.url.path in ("/openapi.json",):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))
        return await run_in_threadpool(error_page, request, exc)  # the page reads the session's user: not on the event loop

    return app
