"""Login and logout: throttled per address and account, argon2 in threads of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from avtaleflyt.tasks import accounts

from .. import security
from ..deps import Clock, ClockDep, EngineDep
from ..pages import render
from ..throttle import LoginThrottle

LOGIN_THREADS = 2  # argon2 checks at once (each takes ~50 ms of a core, more when busy, and 64 MiB)
LOGIN_NICE = 10  # the login threads' niceness: serving pages comes first
MAX_USERNAME = 200
MAX_PASSWORD = 1024

router = APIRouter(include_in_schema=False)


def _yield_the_cpu() -> None:
    """Lower this thread's CPU priority (Linux: niceness is per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOGIN_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: still off the event loop
        pass


class LoginGate:
    """One app's login throttle and argon2 threads (`app.state.login`).

    argon2 runs in threads of its own, two at a time and at a lower CPU priority (its
    lane threads inherit it), so a flood of logins neither blocks the event loop, nor
    takes the threads that serve the pages, nor outbids them for the CPU.
    """

    def __init__(self) -> None:
        self.throttle = LoginThrottle()
        self.pool = ThreadPoolExecutor(max_workers=LOGIN_THREADS, thread_name_prefix="login", initializer=_yield_the_cpu)


def own_page(target: str) -> str:
    """Only our own pages as a place to go after login."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target and len(target) <= 500 else "/"


def _wait_nb(seconds: int) -> str:
    return f"{seconds} sekund{'er' if seconds != 1 else ''}" if seconds < 120 else f"{math.ceil(seconds / 60)} minutter"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    return render(request, "login.html", next=own_page(next), error=None)


def _check_password(
    engine: Engine, clock: Clock, username: str, password: str, address: str, events: tuple, old_key: object
) -> tuple[str, security.CurrentUser] | None:
    """In a thread: argon2, the new session's row (the old one ends) and the account event log, in one transaction."""
    with Session(engine) as session, session.begin():
        for action, key in events:
            accounts.log_event(session, action, username=username, ip=address, note=key)
        user = accounts.authenticate(session, username, password)
        if user is None:
            accounts.log_event(session, "login.failed", username=username, ip=address)
            return None
        now = clock.now()
        if isinstance(old_key, str):
            accounts.end_session(session, old_key, now=now)
        key = accounts.start_session(session, user, now=now, max_age=dt.timedelta(seconds=security.SESSION_MAX_AGE))
        accounts.log_event(session, "login", username=user.username, ip=address)
        return key, security.CurrentUser(user.username, user.name, accounts.scope_of(session, user), user.admin)


def _login_refused(request: Request, target: str, error: str, status: int, headers: dict | None = None) -> HTMLResponse:
    return render(request, "login.html", status_code=status, headers=headers, next=target, error=error)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, engine: EngineDep, clock: ClockDep) -> HTMLResponse:
    form = await request.form()
    security.check_csrf(request, form.get("csrf_token"))
    gate: LoginGate = request.app.state.login
    username, password = str(form.get("username", ""))[:MAX_USERNAME], str(form.get("password", ""))[:MAX_PASSWORD]
    address, account = _address(request), username.strip().casefold()
    target = own_page(str(form.get("next") or "/"))
    decision = gate.throttle.begin(address, account)
    if decision.wait > 0:
        seconds = math.ceil(decision.wait)
        error = f"For mange mislykte innlogginger. Prøv igjen om {_wait_nb(seconds)}."
        return await run_in_threadpool(_login_refused, request, target, error, 429, {"Retry-After": str(seconds)})
    found = await asyncio.get_running_loop().run_in_executor(
        gate.pool, partial(_check_password, engine, clock, username, password, address, decision.events, request.session.get(security.SESSION_KEY))
    )
    if not found:
        gate.throttle.failed(address, account)
        return await run_in_threadpool(_login_refused, request, target, "Feil brukernavn eller passord.", 401)
    gate.throttle.succeeded(address, account)
    security.log_in(request, *found)
    return RedirectResponse(target, status_code=303)


def _end_session(engine: Engine, clock: Clock, key: object, address: str) -> None:
    if not isinstance(key, str):
        return
    with Session(engine) as session, session.begin():
        if username := accounts.end_session(session, key, now=clock.now()):
            accounts.log_event(session, "logout", username=username, ip=address)


@router.post("/logout")
async def logout(request: Request, engine: EngineDep, clock: ClockDep) -> RedirectResponse:
    security.check_csrf(request, (await request.form()).get("csrf_token"))
    await run_in_threadpool(_end_session, engine, clock, request.session.get(security.SESSION_KEY), _address(request))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
