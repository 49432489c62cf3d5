"""The dashboard's write side: login, the coordinator's forms, and a party's own link.

Every form carries the session's CSRF token; every recording goes through
`avtaleflyt.actions`, the same functions as the CLI, and lands in the audit log
with the user's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session

from avtaleflyt import actions
from avtaleflyt.models.dates import parse_day
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import accounts, links, records

from . import security

_OUTCOME_NB = {"approved": "godkjent", "approved_with_reservations": "godkjent med merknader", "rejected": "ikke godkjent"}


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
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
        return pages.TemplateResponse(request, "login.html", page_context(request, next=next, error=None))

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request) -> HTMLResponse:
        form = await request.form()
        security.check_csrf(request, form.get("csrf_token"))
        with Session(engine) as session, session.begin():
            user = accounts.authenticate(session, str(form.get("username", "")), str(form.get("password", "")))
            found = user and security.CurrentUser(user.username, user.name, user.role)
        target = str(form.get("next") or "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only our own pages
        if not found:
            return pages.TemplateResponse(
                request, "login.html", page_context(request, next=target, error="Feil brukernavn eller passord."), status_code=401
            )
        security.log_in(request, found)
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> RedirectResponse:
        security.check_csrf(request, (await request.form()).get("csrf_token"))
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.post("/revisions/{slug}/record/{action}", include_in_schema=False)
    async def record(request: Request, slug: str, action: str, user: security.CurrentUser = Depends(security.require_coordinator)) -> RedirectResponse:
        form = await request.form()
        security.check_csrf(request, form.get("csrf_token"))
        try:
            fn, kwargs = _recording(action, form, today())
            recorded, _ = actions.record(fn, slug, actor=user.username, **kwargs)
        except (DomainError, ValueError) as exc:
            security.flash(request, f"Ikke registrert: {exc}", "error")
        else:
            security.flash(request, f"Registrert: {recorded.message}" if recorded.changed else f"Uendret: {recorded.message}")
        return RedirectResponse(f"/revisions/{slug}#registrer", status_code=303)

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
