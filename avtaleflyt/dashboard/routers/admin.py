"""/admin: an admin manages accounts (add, disable/enable, grant/revoke a role in a helsefellesskap,
admin or not) and reads the account event log. Every change goes through tasks/accounts, the
functions the CLI's `user` commands call, with the admin as the actor and the admin's address
in the event. Anyone else gets 404 for every /admin page, as for a page that does not exist."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from avtaleflyt.models.enums import Role
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import User
from avtaleflyt.tasks import accounts, audit

from .. import security
from ..deps import ClockDep, EngineDep, engine_of, require_user
from ..errors import in_norwegian
from ..pages import render

router = APIRouter(include_in_schema=False)
ROLE_NB = {Role.coordinator: "koordinator", Role.reader: "lesetilgang"}
CONFIRMED = "ja"


def require_admin(request: Request, user: Annotated[security.CurrentUser, Depends(require_user)]) -> security.CurrentUser:
    """A logged-in admin (read afresh: `user admin --off` takes effect on the next request); else 404."""
    with Session(engine_of(request)) as session:
        admin = session.exec(select(User.admin).where(User.username == user.username, User.active == True)).first()
    if not admin:
        raise HTTPException(404, "Fant ikke siden")
    return user


AdminDep = Annotated[security.CurrentUser, Depends(require_admin)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _change(engine: Engine, request: Request, address: str, done: str, change: Callable[[Session], object]) -> bool:
    """One account change in one transaction; its events get the admin's address. The outcome as a flash; False if refused."""
    origin = accounts.ORIGIN.set(address)
    try:
        with Session(engine) as session, session.begin():
            change(session)
    except DomainError as exc:
        security.flash(request, f"Ikke endret: {in_norwegian(exc)}", "error")
        return False
    finally:
        accounts.ORIGIN.reset(origin)
    security.flash(request, done)
    return True


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    security.check_csrf(request, form.get("csrf_token"))
    return {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise DomainError(f"role: {value!r}", code=ErrorCode.invalid_value, field="role", value=value, problem="choice", allowed=list(ROLE_NB.values())) from None


def _back() -> RedirectResponse:
    return RedirectResponse("/admin/accounts#melding", status_code=303)


def _refuse_unconfirmed(request: Request, form: dict[str, str], what: str) -> RedirectResponse | None:
    if form.get("confirm") != CONFIRMED:
        security.flash(request, f"Ikke endret: kryss av for å bekrefte at {what}", "error")
        return _back()
    return None


def _refuse_taking_away(request: Request, form: dict[str, str], *, own: str | None, what: str) -> RedirectResponse | None:
    """Taking something away: never from oneself (`own` says what the admin would lose), else only confirmed."""
    if own is not None:
        security.flash(request, f"Ikke endret: du kan ikke {own}", "error")
        return _back()
    return _refuse_unconfirmed(request, form, what)


def _accounts_page(request: Request, engine: Engine, handed_over: tuple[str, str] | None = None) -> Response:
    with Session(engine) as session:
        rows = accounts.accounts(session)
        known = accounts.known_helsefellesskap(session)
    return render(request, "admin_accounts.html", rows=rows, known=known, roles=ROLE_NB, handed_over=handed_over, confirmed=CONFIRMED)


@router.get("/admin", response_class=HTMLResponse)
def admin_home(user: AdminDep) -> RedirectResponse:
    return RedirectResponse("/admin/accounts", status_code=303)


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, user: AdminDep, engine: EngineDep) -> Response:
    return _accounts_page(request, engine)


@router.post("/admin/accounts/add", response_class=HTMLResponse)
async def add_account(request: Request, user: AdminDep, engine: EngineDep) -> Response:
    form = await _form(request)
    password = form.get("password") or ""
    one_time = not password
    if one_time:
        password = secrets.token_urlsafe(12)  # 16 characters, handed over by the admin
    username = form.get("username", "")

    def add(session: Session) -> None:
        hf, role = form.get("helsefellesskap", ""), form.get("role", "")
        everywhere = form.get("everywhere") == "1"
        memberships = {hf: _role(role)} if hf and not everywhere else {}
        installation_wide = _role(role) if everywhere else None
        if not memberships and installation_wide is None and form.get("admin") != "1":
            raise DomainError("helsefellesskap: required", code=ErrorCode.required, field="helsefellesskap")
        accounts.add_user(session, username, form.get("name", ""), installation_wide, password, memberships, admin=form.get("admin") == "1", actor=user.username)

    added = await run_in_threadpool(_change, engine, request, _address(request), f"Lagt til: {username.strip().casefold()}", add)
    if added and one_time:
        # Shown once on this page, never put in the session cookie or a log.
        return await run_in_threadpool(_accounts_page, request, engine, (username.strip().casefold(), password))
    return _back()


@router.post("/admin/accounts/{username:path}/active")
async def set_active(request: Request, username: str, user: AdminDep, engine: EngineDep, clock: ClockDep) -> RedirectResponse:
    form = await _form(request)
    active = form.get("active") == "1"
    own = "deaktivere din egen konto" if username == user.username else None
    if not active and (refused := _refuse_taking_away(request, form, own=own, what=f"kontoen {username} skal deaktiveres")):
        return refused
    done = f"{'Aktivert' if active else 'Deaktivert'}: {username}"
    await run_in_threadpool(_change, engine, request, _address(request), done,
                            lambda s: accounts.set_active(s, username, active, actor=user.username, now=clock.now()))
    return _back()


@router.post("/admin/accounts/{username:path}/grant")
async def grant(request: Request, username: str, user: AdminDep, engine: EngineDep) -> RedirectResponse:
    form = await _form(request)
    hf = form.get("helsefellesskap", "")
    done = f"{username} har nå {ROLE_NB.get(form.get('role'), form.get('role'))} i {hf}"
    await run_in_threadpool(_change, engine, request, _address(request), done,
                            lambda s: accounts.grant(s, username, hf, _role(form.get("role", "")), actor=user.username))
    return _back()


@router.post("/admin/accounts/{username:path}/revoke")
async def revoke(request: Request, username: str, user: AdminDep, engine: EngineDep) -> RedirectResponse:
    form = await _form(request)
    hf = form.get("helsefellesskap", "")
    if refused := _refuse_unconfirmed(request, form, f"{username} ikke lenger skal ha tilgang til {hf}"):
        return refused
    await run_in_threadpool(_change, engine, request, _address(request), f"{username} har ikke lenger tilgang til {hf}",
                            lambda s: accounts.revoke(s, username, hf, actor=user.username))
    return _back()


@router.post("/admin/accounts/{username:path}/admin")
async def set_admin(request: Request, username: str, user: AdminDep, engine: EngineDep) -> RedirectResponse:
    form = await _form(request)
    admin = form.get("admin") == "1"
    own = "ta bort din egen administratorrolle" if username == user.username else None
    if not admin and (refused := _refuse_taking_away(request, form, own=own, what=f"{username} ikke lenger skal være administrator")):
        return refused
    await run_in_threadpool(_change, engine, request, _address(request), f"{username} er {'nå' if admin else 'ikke lenger'} administrator",
                            lambda s: accounts.set_admin(s, username, admin, actor=user.username))
    return _back()


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: AdminDep, engine: EngineDep, bruker: str = "", handling: str = "", fra: str = "", til: str = "", side: str = "1") -> Response:
    problem = None
    try:
        since = audit.parse_day(fra, "fra") if fra else None
        until = audit.parse_day(til, "til", end=True) if til else None
    except DomainError:
        problem, since, until = "Datoen må skrives ÅÅÅÅ-MM-DD", None, None
    where = audit.Filter(username=bruker or None, action=handling or None, since=since, until=until)
    side = max(int(side), 1) if side.isdigit() and len(side) < 10 else 1
    with Session(engine) as session:
        events, total = audit.page(session, where, side)
        known_actions = audit.actions(session)
    pages = max(1, -(-total // audit.PAGE_SIZE))
    query = {"bruker": bruker, "handling": handling, "fra": fra, "til": til}

    def link(n: int) -> str:
        return "/admin/audit?" + urlencode({**{k: v for k, v in query.items() if v}, "side": n})

    return render(request, "admin_audit.html", events=events, total=total, page=side, pages=pages, link=link, query=query,
                  actions=known_actions, problem=problem, shown=_shown)


def _shown(moment: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    from avtaleflyt import clock

    at = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return at.astimezone(ZoneInfo(clock.TZ)).strftime("%d.%m.%Y %H:%M:%S")
