"""The dashboard's write side: login, the coordinator's forms, and a party's own link.

Every form carries the session's CSRF token; every recording goes through
`avtaleflyt.actions`, the same functions as the CLI, and lands in the audit log
with the user's name.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import partial
from urllib.parse import quote

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from avtaleflyt import actions
from avtaleflyt.models.dates import parse_day
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import accounts, links, records

from . import security
from .throttle import LoginThrottle

LOGIN_THREADS = 2  # argon2 checks at once (each takes ~50 ms of a core, more when busy, and 64 MiB)
LOGIN_NICE = 10  # the login threads' niceness: serving pages comes first


def _yield_the_cpu() -> None:
    """Lower this thread's CPU priority (Linux: niceness is per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOGIN_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: still off the event loop
        pass
MAX_USERNAME = 200
MAX_PASSWORD = 1024

_OUTCOME_NB = {"approved": "godkjent", "approved_with_reservations": "godkjent med merknader", "rejected": "ikke godkjent"}


def _own_page(target: str) -> str:
    """Only our own pages as a place to go after login."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target and len(target) <= 500 else "/"


def _wait_nb(seconds: int) -> str:
    return f"{seconds} sekund{'er' if seconds != 1 else ''}" if seconds < 120 else f"{math.ceil(seconds / 60)} minutter"


def _field(form, name: str, label: str, *, required: bool = True) -> str | None:  # noqa: ANN001
    value = (form.get(name) or "").strip()
    if required and not value:
        raise DomainError(f"{label}: må fylles ut")
    return value or None


def _day(form, name: str, label: str) -> dt.date:  # noqa: ANN001
    try:
        return parse_day(_field(form, name, label))
    except ValueError as exc:
        raise DomainError(f"{label}: {exc}") from None


def _recording(action: str, form, today: dt.date) -> tuple[Callable, dict]:  # noqa: ANN001
    """The records function and its arguments for one of the revision page's forms."""
    stage = _field(form, "stage", "trinn", required=False)
    match action:
        case "draft-complete":
            return records.complete_draft, {"stage_key": stage}
        case "forum-decision":
            return records.record_forum_decision, {
                "forum": _field(form, "forum", "utvalg"), "outcome": ForumOutcome(_field(form, "outcome", "utfall")),
                "on": _day(form, "date", "dato"), "today": today, "case_no": _field(form, "case_no", "saksnr.", required=False), "stage_key": stage,
            }
        case "hearing-response":
            return records.record_hearing_response, {
                "party": _field(form, "party", "part"), "on": _day(form, "date", "dato"), "today": today,
                "stage_key": stage, "note": _field(form, "note", "merknad", required=False),
            }
        case "party-schedule":
            return records.schedule_party, {"party": _field(form, "party", "part"), "meeting": _day(form, "meeting", "møtedato")}
        case "party-decision":
            return records.record_party_decision, {
                "party": _field(form, "party", "part"), "outcome": PartyOutcome(_field(form, "outcome", "utfall")),
                "on": _day(form, "date", "dato"), "today": today, "case_no": _field(form, "case_no", "saksnr.", required=False),
            }
    raise HTTPException(404, f"Ukjent registrering {action!r}")


def install_forms(
    app: FastAPI,
    *,
    engine: Engine,
    settings: Settings,
    pages: Jinja2Templates,
    page_context: Callable[..., dict],
    today: Callable[[], dt.date],
) -> None:
    throttle = LoginThrottle()
    # argon2 runs in threads of its own, two at a time and at a lower CPU priority (its
    # lane threads inherit it), so a flood of logins neither blocks the event loop, nor
    # takes the threads that serve the pages, nor outbids them for the CPU.
    login_pool = ThreadPoolExecutor(max_workers=LOGIN_THREADS, thread_name_prefix="login", initializer=_yield_the_cpu)
    max_age = dt.timedelta(seconds=security.SESSION_MAX_AGE)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
        return pages.TemplateResponse(request, "login.html", page_context(request, next=_own_page(next), error=None))

    def _check_password(username: str, password: str, address: str, events: tuple, old_key: object) -> tuple[str, security.CurrentUser] | None:
        """In a thread: argon2, the new session's row (the old one ends) and the account event log, in one transaction."""
        with Session(engine) as session, session.begin():
            for action, key in events:
                accounts.log_event(session, action, username=username, ip=address, note=key)
            user = accounts.authenticate(session, username, password)
            if user is None:
                accounts.log_event(session, "login.failed", username=username, ip=address)
                return None
            now = dt.datetime.now(dt.timezone.utc)
            if isinstance(old_key, str):
                accounts.end_session(session, old_key, now=now)
            key = accounts.start_session(session, user, now=now, max_age=max_age)
            accounts.log_event(session, "login", username=user.username, ip=address)
            return key, security.CurrentUser(user.username, user.name, user.role)

    def _login_refused(request: Request, target: str, error: str, status: int, headers: dict | None = None) -> HTMLResponse:
        return pages.TemplateResponse(request, "login.html", page_context(request, next=target, error=error), status_code=status, headers=headers)

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request) -> HTMLResponse:
        form = await request.form()
        security.check_csrf(request, form.get("csrf_token"))
        username, password = str(form.get("username", ""))[:MAX_USERNAME], str(form.get("password", ""))[:MAX_PASSWORD]
        address = request.client.host if request.client else "unknown"
        target = _own_page(str(form.get("next") or "/"))
        decision = throttle.begin(address, username.strip().casefold())
        if decision.wait > 0:
            seconds = math.ceil(decision.wait)
            error = f"For mange mislykte innlogginger. Prøv igjen om {_wait_nb(seconds)}."
            return await run_in_threadpool(_login_refused, request, target, error, 429, {"Retry-After": str(seconds)})
        found = await asyncio.get_running_loop().run_in_executor(
            login_pool, partial(_check_password, username, password, address, decision.events, request.session.get(security.SESSION_KEY))
        )
        if not found:
            throttle.failed(address, username.strip().casefold())
            return await run_in_threadpool(_login_refused, request, target, "Feil brukernavn eller passord.", 401)
        throttle.succeeded(address, username.strip().casefold())
        security.log_in(request, *found)
        return RedirectResponse(target, status_code=303)

    def _end_session(key: object, address: str) -> None:
        if not isinstance(key, str):
            return
        with Session(engine) as session, session.begin():
            if username := accounts.end_session(session, key, now=dt.datetime.now(dt.timezone.utc)):
                accounts.log_event(session, "logout", username=username, ip=address)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> RedirectResponse:
        security.check_csrf(request, (await request.form()).get("csrf_token"))
        await run_in_threadpool(_end_session, request.session.get(security.SESSION_KEY), request.client.host if request.client else "unknown")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    def _record(request: Request, slug: str, action: str, user: security.CurrentUser, form) -> None:  # noqa: ANN001
        try:
            fn, kwargs = _recording(action, form, today())
            recorded, _ = actions.record(fn, slug, actor=user.username, **kwargs)
        except (DomainError, ValueError) as exc:
            security.flash(request, f"Ikke registrert: {exc}", "error")
        else:
            security.flash(request, f"Registrert: {recorded.message}" if recorded.changed else f"Uendret: {recorded.message}")

    @app.post("/revisions/{slug}/record/{action}", include_in_schema=False)
    async def record(request: Request, slug: str, action: str, user: security.CurrentUser = Depends(security.require_coordinator)) -> RedirectResponse:
        form = await request.form()
        security.check_csrf(request, form.get("csrf_token"))
        await run_in_threadpool(_record, request, slug, action, user, form)
        return RedirectResponse(f"/revisions/{quote(slug)}#registrer", status_code=303)

    def _link(token: str) -> tuple[Revision, Party]:
        with Session(engine) as session:
            try:
                link = links.check(session, settings.signing_key(), token, dt.datetime.now(dt.timezone.utc))
            except links.LinkRefused as exc:
                status = 403 if "not valid" in str(exc) or "not known" in str(exc) else 410
                raise HTTPException(status, f"Lenken kan ikke brukes: {exc}") from None
            return session.get(Revision, link.revision_id), session.get(Party, link.party_id)

    @app.get("/p/{token}", response_class=HTMLResponse, include_in_schema=False)
    def party_link(request: Request, token: str) -> HTMLResponse:
        revision, party = _link(token)
        return pages.TemplateResponse(request, "party_link.html", page_context(request, revision=revision, party=party, token=token, error=None))

    @app.post("/p/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def party_report(request: Request, token: str) -> HTMLResponse:
        form = await request.form()
        security.check_csrf(request, form.get("csrf_token"))
        return await run_in_threadpool(_party_report, request, token, form)

    def _party_report(request: Request, token: str, form) -> HTMLResponse:  # noqa: ANN001
        revision, party = _link(token)
        try:
            outcome = PartyOutcome(_field(form, "outcome", "vedtak"))
            recorded, _ = actions.report_by_link(
                token, outcome=outcome, on=_day(form, "date", "vedtaksdato"), case_no=_field(form, "case_no", "saksnr.", required=False),
                now=dt.datetime.now(dt.timezone.utc),
            )
        except links.LinkRefused as exc:
            raise HTTPException(410, f"Lenken kan ikke brukes: {exc}") from None
        except (DomainError, ValueError) as exc:
            return pages.TemplateResponse(
                request, "party_link.html", page_context(request, revision=revision, party=party, token=token, error=str(exc)), status_code=422
            )
        return pages.TemplateResponse(
            request, "party_done.html", page_context(request, revision=revision, party=party, outcome=_OUTCOME_NB[outcome.value], recorded=recorded)
        )
