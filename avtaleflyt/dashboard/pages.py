"""The HTML side: the Jinja2 environment, its Norwegian date filters (labels.py), and `render`,
which gives every page the user, the form token, the last action's message and today.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import Response

from avtaleflyt.models.titles import title_in
from avtaleflyt.settings import Settings

from . import labels, security
from .deps import clock_of, current_user


def pages_dir() -> Path:
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
        return labels.timestamp(value)
    return labels.plan_date(value)


def templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(pages_dir())),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dato"] = _date_nb
    env.filters["plandato"] = labels.plan_date
    env.globals["DATE_NAME_NB"] = labels.DATE_NAME_NB
    env.globals["title_in"] = title_in  # a party's page: the revision's title in its language
    env.globals["HEARING_NB"] = labels.HEARING_NB
    return Jinja2Templates(env=env)


def page_context(request: Request, **values: object) -> dict:
    """What every page gets: the user, the form token, a message from the last action. Blocking (reads the user)."""
    return {
        "user": current_user(request),
        "csrf_token": security.csrf_token(request),
        "flash": security.take_flash(request),
        "today": clock_of(request).today(),
        **values,
    }


def render(request: Request, name: str, *, status_code: int = 200, headers: dict | None = None, **values: object) -> Response:
    """The page `name` with the common context and `values`. Blocking: call from a `def` handler or a thread."""
    pages: Jinja2Templates = request.app.state.templates
    return pages.TemplateResponse(request, name, page_context(request, **values), status_code=status_code, headers=headers)
