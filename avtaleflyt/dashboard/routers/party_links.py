"""A party's own link (`/p/{token}`, from its letter): no account, the signed token is the key."""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from avtaleflyt import actions
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import links

from .. import security
from ..deps import Clock, ClockDep, EngineDep, SettingsDep
from ..errors import in_norwegian
from ..forms import OUTCOME_NB
from ..pages import render

router = APIRouter(include_in_schema=False)


def _link(engine: Engine, settings: Settings, clock: Clock, token: str) -> tuple[Revision, Party]:
    with Session(engine) as session:
        try:
            link = links.check(session, settings.signing_key(), token, clock.now())
        except links.LinkRefused as exc:
            _refuse(exc)
        return session.get(Revision, link.revision_id), session.get(Party, link.party_id)


@router.get("/p/{token}", response_class=HTMLResponse)
def party_link(request: Request, token: str, engine: EngineDep, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    revision, party = _link(engine, settings, clock, token)
    return render(request, "party_link.html", revision=revision, party=party, token=token, error=None)


@router.post("/p/{token}", response_class=HTMLResponse)
async def party_report(request: Request, token: str, engine: EngineDep, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    form = await request.form()
    security.check_csrf(request, form.get("csrf_token"))
    return await run_in_threadpool(_party_report, request, engine, settings, clock, token, form)


def _party_report(request: Request, engine: Engine, settings: Settings, clock: Clock, token: str, form) -> HTMLResponse:
    revision, party = _link(engine, settings, clock, token)
    try:
        recorded, _ = actions.report_by_link(
            token, outcome=form.get("outcome"), on=form.get("date"), case_no=form.get("case_no"),
            now=clock.now(), today=clock.today(), engine=engine,
        )
    except links.LinkRefused as exc:
        _refuse(exc)
    except DomainError as exc:
        return render(request, "party_link.html", status_code=422, revision=revision, party=party, token=token, error=in_norwegian(exc))
    return render(request, "party_done.html", revision=revision, party=party, outcome=OUTCOME_NB[str(form.get("outcome")).strip()], recorded=recorded)


def _refuse(exc: links.LinkRefused) -> NoReturn:
    """Forged or unknown: 403; used, withdrawn, expired or its party left: 410 (Gone)."""
    status = 403 if exc.code == ErrorCode.link_invalid else 410
    raise HTTPException(status, f"Lenken kan ikke brukes: {in_norwegian(exc)}") from None
