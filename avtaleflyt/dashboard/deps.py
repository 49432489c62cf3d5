"""The dashboard's FastAPI dependencies: the engine and a session on it, the clock,
the settings (and Prefect's UI address), the current user (any logged-in user, or a coordinator),
and the revision a route's {slug} names, only within the user's helsefellesskap (`RevisionInScope`:
404 outside it, as for a slug that does not exist).

Everything comes from the app `create_app` made (`app.state`), so a test's app reads and
writes its own database and its own time. A test may also swap any of these through
`app.dependency_overrides`; the few places outside a handler (the page context, the
error pages) ask `engine_of` / `clock_of`, which honour those overrides too.

Modelled on full-stack-fastapi-template's `api/deps.py`: `XDep = Annotated[X, Depends(get_x)]`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from avtaleflyt import clock as wall_clock
from avtaleflyt.models.tables import Revision
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import accounts

from .security import SESSION_KEY, CurrentUser, LoginRequired


@dataclass(frozen=True)
class Clock:
    """Now (aware, UTC) and today (the coordinators' calendar day): the only time the dashboard reads."""

    now: Callable[[], dt.datetime] = wall_clock.utcnow
    today_fn: Callable[[], dt.date] | None = field(default=None)

    def today(self) -> dt.date:
        if self.today_fn is not None:
            return self.today_fn()
        if self.now is wall_clock.utcnow:
            return wall_clock.today()
        import pendulum

        return pendulum.instance(self.now()).in_timezone(wall_clock.TZ).date()


def _overridden(request: Request, dependency: Callable) -> Callable | None:
    return request.app.dependency_overrides.get(dependency)


# `async def`: they only read app.state, so they run on the event loop, not in a thread.
async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_prefect_ui(request: Request) -> str:
    """Prefect's UI, for the link from a revision to its run."""
    return request.app.state.prefect_ui


def engine_of(request: Request) -> Engine:
    """The engine outside dependency injection (page context, error pages); an override is a plain function."""
    override = _overridden(request, get_engine)
    return override() if override else request.app.state.engine


def clock_of(request: Request) -> Clock:
    override = _overridden(request, get_clock)
    return override() if override else request.app.state.clock


EngineDep = Annotated[Engine, Depends(get_engine)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrefectUiDep = Annotated[str, Depends(get_prefect_ui)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """A read session for one request (writes open their own transaction through `actions`)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_user(request: Request) -> CurrentUser | None:
    """The session's user as the database has it now (read once per request). Blocking: call from a thread."""
    if hasattr(request.state, "user"):
        return request.state.user
    key = request.session.get(SESSION_KEY)
    user = None
    if isinstance(key, str):
        slug = request.path_params.get("slug")
        slug = slug if isinstance(slug, str) else None
        with Session(engine_of(request)) as session:
            found = accounts.session_user_scope(session, key, now=clock_of(request).now(), slug=slug)
        if found:
            user = CurrentUser(found[0].username, found[0].name, found[1], found[0].admin)
            request.state.path_revision = (slug, found[2])  # read by revision_in_scope: no statement more
        if user is None:
            request.session.pop(SESSION_KEY, None)  # ended, expired or disabled: forget it
    request.state.user = user
    return user


def require_user(request: Request) -> CurrentUser:
    """Any logged-in user; else LoginRequired (the app answers with /login or a 401)."""
    user = current_user(request)
    if user is None:
        raise LoginRequired
    return user


@dataclass(frozen=True)
class ScopedRevision:
    """The revision a route's {slug} names, as much as the scope check read of it."""

    id: int
    slug: str
    helsefellesskap: str


def revision_in_scope(request: Request, user: Annotated[CurrentUser, Depends(require_user)]) -> ScopedRevision | None:
    """The revision the path's {slug} names, if the user has a role in its helsefellesskap; else
    404 with the words an unknown slug gets, so the answer does not tell that it exists (issue 16).
    None on a route without a slug. Blocking: FastAPI runs it in a thread."""
    slug = request.path_params.get("slug")
    if slug is None:
        return None
    read = getattr(request.state, "path_revision", None)
    if read is not None and read[0] == slug:  # current_user read it with the session's row
        found = read[1]
    else:  # a short session of its own: the request's read session would hold SQLite's lock (BEGIN IMMEDIATE) while a form writes
        with Session(engine_of(request)) as session:
            found = session.exec(select(Revision.id, Revision.helsefellesskap).where(Revision.slug == slug)).first()
    if found is None or not user.sees(found[1]):
        raise HTTPException(404, f"Fant ingen revidering {slug!r}")
    return ScopedRevision(found[0], slug, found[1])


def require_coordinator(
    user: Annotated[CurrentUser, Depends(require_user)], revision: Annotated[ScopedRevision | None, Depends(revision_in_scope)],
) -> CurrentUser:
    """A coordinator in the helsefellesskap of the path's revision (404 outside it), or anywhere on a route without one."""
    if not (user.may_record_in(revision.helsefellesskap) if revision else user.may_record):
        raise HTTPException(403, "Bare koordinatorer kan registrere; du har lesetilgang.")
    return user


CurrentUserDep = Annotated[CurrentUser, Depends(require_user)]
CoordinatorDep = Annotated[CurrentUser, Depends(require_coordinator)]
RevisionInScope = Annotated[ScopedRevision | None, Depends(revision_in_scope)]
# For a router whose every route is behind a login: `APIRouter(dependencies=IN_SCOPE)`.
IN_SCOPE = [Depends(revision_in_scope)]
