"""The dashboard: FastAPI + Jinja2 pages (read side), the coordinator's forms, a party's
link, the plan's exports, and the same data as JSON under /api/.

`create_app` builds the app over one engine and one clock; the routes live by area in
`routers/`, and reach the engine, the clock, the settings and the user through `deps`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from avtaleflyt import clock as wall_clock
from avtaleflyt.settings import Settings, get_settings

from . import security
from .deps import Clock
from .pages import pages_dir, prefect_ui_url, render, templates
from .routers import admin, api, auth, digest_optout, documents, exports, forms, health, minutes, papers, party_links, public, revisions
from .routers.auth import LoginGate

__all__ = ["create_app", "prefect_ui_url", "templates"]


def _is_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def create_app(
    engine: Engine | None = None,
    settings: Settings | None = None,
    *,
    today: Callable[[], dt.date] | None = None,
    now: Callable[[], dt.datetime] | None = None,
    prefect_ui: str | None = None,
) -> FastAPI:
    """The dashboard app over `engine` (default: the configured domain database).

    `today` and `now` replace the clock (tests); `today` alone keeps the real `now`
    (sessions and link expiry). Tests may also override `deps.get_clock` et al. through
    `app.dependency_overrides`.
    """
    settings = settings or get_settings()
    if engine is None:
        from avtaleflyt.db import engine_for

        engine = engine_for(settings.domain_database_url)

    app = FastAPI(
        title="avtaleflyt",
        summary="Hvor hver revidering av samarbeidsavtalen står",
        description="Oversikt over revideringer: trinn, parter, tidslinje, frister og e-postlogg. JSON under /api/.",
        version="0.1.0",
        # routers/api.py serves /docs and /openapi.json itself, to logged-in users only.
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.clock = Clock(now=now or wall_clock.utcnow, today_fn=today)
    app.state.prefect_ui = prefect_ui or prefect_ui_url(settings)
    app.state.templates = templates()
    app.state.login = LoginGate()

    app.add_middleware(security.SecurityHeaders)
    app.mount("/static", StaticFiles(directory=pages_dir() / "static"), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.signing_key(),
        session_cookie="avtaleflyt_session",
        max_age=security.SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )
    app.add_middleware(public.NoSession)  # outside the session: /offentlig/ neither reads nor sets its cookie
    for area in (admin, api, exports, papers, documents, minutes, revisions, auth, forms, party_links, digest_optout, health, public):
        app.include_router(area.router)

    @app.exception_handler(security.LoginRequired)
    async def login_required(request: Request, exc: security.LoginRequired):  # noqa: ANN202
        if _is_json(request):
            return JSONResponse({"detail": "logg inn først"}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # noqa: ANN202
        if _is_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))
        return await run_in_threadpool(_error_page, request, exc)  # the page reads the session's user: not on the event loop

    return app


def _error_page(request: Request, exc: StarletteHTTPException) -> Response:
    template = "not_found.html" if exc.status_code == 404 else "error.html"
    return render(request, template, status_code=exc.status_code, message=exc.detail, status=exc.status_code)
