"""A party's own link (`/p/{token}`, from its letter): no account, the signed token is the key.

The page speaks the party's language (bokmål or nynorsk: `Party.language`), says so at once
when the party's decision is already recorded, and links nowhere into the coordinators' dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from avtaleflyt import actions
from avtaleflyt.models import wording
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import Party, PartyLink, PartyObligation, Revision, Stage
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import links

from .. import security, uploads
from ..deps import Clock, ClockDep, EngineDep, SettingsDep
from ..errors import in_norwegian
from ..pages import render

router = APIRouter(include_in_schema=False)
RETURNS = ("note", "reservations", "minutes_text", "minutes_file")  # what a party may send back with its decision


@dataclass(frozen=True)
class Decided:
    """The party's recorded decision on the agreement, in its language."""

    outcome: str
    on: str
    case_no: str | None


@dataclass(frozen=True)
class Opened:
    revision: Revision | None
    party: Party | None
    refused: links.LinkRefused | None
    decided: Decided | None

    @property
    def language(self) -> str:
        return _language(self.party)


def _language(party: Party | None) -> str:
    """The party's language: bokmål or nynorsk (bokmål when the link names no party)."""
    language = "nb" if party is None else party.language.value
    return language if language in wording.LANGUAGES else "nb"


def _decided(session: Session, party: Party, language: str) -> Decided | None:
    """The party's decision, from its obligation for the stage kind that asks a party's decision (the registry says which)."""
    rows = session.exec(
        select(PartyObligation).join(Stage, col(Stage.id) == col(PartyObligation.stage_id))
        .where(PartyObligation.party_id == party.id, Stage.revision_id == party.revision_id)
        .order_by(col(Stage.position).desc(), col(PartyObligation.id).desc())
    ).all()
    for row in rows:
        rules = rules_for(row.kind)
        if rules.party_decision and row.status in rules.answered:
            on = wording.short_date(row.answered_on, language) if row.answered_on else ""
            return Decided(wording.label("party_outcome", row.status, language), on, row.case_no)
    return None


def _open(engine: Engine, settings: Settings, clock: Clock, token: str) -> Opened:
    """The link's revision and party (also for a refused link, when the token is genuine) and the party's decision."""
    secret = settings.signing_key()
    with Session(engine) as session:
        refused = None
        try:
            link = links.check(session, secret, token, clock.now())
        except links.LinkRefused as exc:
            refused, link = exc, _known(session, secret, token)
        if link is None:
            return Opened(None, None, refused, None)
        revision, party = session.get(Revision, link.revision_id), session.get(Party, link.party_id)
        decided = _decided(session, party, _language(party)) if party is not None else None
        return Opened(revision, party, refused, decided)


def _known(session: Session, secret: str, token: str) -> PartyLink | None:
    """The link's row for a genuine token (itsdangerous, as tasks.links signs it), None for a forged or unknown one."""
    try:
        nonce = URLSafeSerializer(secret, salt=links.SALT).loads(token)
    except BadSignature:
        return None
    return session.exec(select(PartyLink).where(PartyLink.nonce == nonce)).first()


def _words(language: str) -> dict[str, str]:
    return wording.words("party_page", language)


def _refusal(request: Request, opened: Opened, exc: DomainError) -> Response:
    """Forged or unknown: 403; used, withdrawn, expired or its party left: 410 (Gone). In the party's language."""
    language = opened.language
    status = 403 if exc.code == ErrorCode.link_invalid else 410
    return render(
        request, "party_refused.html", status_code=status, lang=language, w=_words(language),
        revision=opened.revision, party=opened.party, decided=opened.decided, message=in_norwegian(exc, language),
    )


def _form(request: Request, opened: Opened, token: str, *, error: str | None = None, status_code: int = 200, given: dict | None = None) -> Response:
    """The party's form; after a refusal with the texts it had given (`given`), so nothing typed is lost."""
    language = opened.language
    return render(
        request, "party_link.html", status_code=status_code, lang=language, w=_words(language), outcomes=wording.words("party_outcome", language),
        revision=opened.revision, party=opened.party, token=token, error=error, decided=opened.decided, given=given or {},
        file_limit=_size(request.app.state.settings.max_upload_bytes),
    )


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB".replace(".0 ", " ").replace(".", ",") if n >= 1_048_576 else f"{n} byte"


@router.get("/p/{token}", response_class=HTMLResponse)
def party_link(request: Request, token: str, engine: EngineDep, settings: SettingsDep, clock: ClockDep) -> Response:
    opened = _open(engine, settings, clock, token)
    if opened.refused is not None:
        return _refusal(request, opened, opened.refused)
    return _form(request, opened, token)


@router.post("/p/{token}", response_class=HTMLResponse)
async def party_report(request: Request, token: str, engine: EngineDep, settings: SettingsDep, clock: ClockDep) -> Response:
    try:  # a multipart form with the minutes' file: its size limited as it is read
        form = await uploads.limited_form(request, settings.max_upload_bytes)
    except DomainError as exc:
        opened = await run_in_threadpool(_open, engine, settings, clock, token)
        if opened.refused is not None:
            return _refusal(request, opened, opened.refused)
        return _form(request, opened, token, error=in_norwegian(exc, opened.language), status_code=413)
    try:
        return await run_in_threadpool(_party_report, request, engine, settings, clock, token, form)
    finally:
        await form.close()


def _party_report(request: Request, engine: Engine, settings: Settings, clock: Clock, token: str, form) -> Response:  # noqa: ANN001
    opened = _open(engine, settings, clock, token)
    try:
        security.check_csrf(request, form.get("csrf_token"))
    except HTTPException:
        words = _words(opened.language)
        return render(request, "party_refused.html", status_code=403, lang=opened.language, w=words, revision=opened.revision,
                      party=opened.party, decided=None, message=words["no_csrf"])
    if opened.refused is not None:
        return _refusal(request, opened, opened.refused)
    try:
        values = uploads.form_values(form, settings.max_upload_bytes)
        actions.report_by_link(
            token, outcome=form.get("outcome"), on=form.get("date"), case_no=form.get("case_no"),
            now=clock.now(), today=clock.today(), engine=engine, returns={f: values.get(f) for f in RETURNS},
        )
    except links.LinkRefused as exc:
        return _refusal(request, _open(engine, settings, clock, token), exc)
    except DomainError as exc:
        given = {f: form.get(f) for f in RETURNS if isinstance(form.get(f), str)}
        return _form(request, _open(engine, settings, clock, token), token, error=in_norwegian(exc, opened.language), status_code=422, given=given)
    outcome = wording.label("party_outcome", str(form.get("outcome")).strip(), opened.language)
    words = _words(opened.language)
    received = [values[f].name if f == "minutes_file" else words[f"got_{f}"] for f in RETURNS if values.get(f)]
    return render(request, "party_done.html", lang=opened.language, w=words, revision=opened.revision, party=opened.party, outcome=outcome,
                  received=received)


@router.get("/p/{token}/saksframlegg.{fmt}")
def party_case_paper(request: Request, token: str, fmt: str, engine: EngineDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """The party's draft case (saksframlegg; a health trust's styresak) as Word or HTML, for a link that may be used now."""
    from avtaleflyt.tasks.papers import party_case as papers

    from .papers import party_case_response

    if fmt not in papers.FORMATS:
        raise HTTPException(status_code=404)
    opened = _open(engine, settings, clock, token)
    if opened.refused is not None:
        return _refusal(request, opened, opened.refused)
    with Session(engine) as session:
        revision, party = session.get(Revision, opened.revision.id), session.get(Party, opened.party.id)
        case = papers.build(session, revision, party, link=f"{settings.public_url.rstrip('/')}/p/{token}")  # its files through the same link
    return party_case_response(case, fmt)

