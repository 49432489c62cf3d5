"""The opt-out link of a weekly digest (`/avmelding/{token}`, signed: tasks/digests.optout_token).

GET only shows the page with a button: mail scanners follow links, and a GET must not opt
anyone out. The POST (with the page's CSRF token) records the opt-out. No account needed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from avtaleflyt.db import session_scope
from avtaleflyt.settings import Settings
from avtaleflyt.tasks import digests

from .. import security
from ..deps import EngineDep, SettingsDep
from ..pages import render

router = APIRouter(include_in_schema=False)

WORDS = {
    "nb": {
        "title": "Meld av ukeoversikten",
        "ask": "Vil du ikke lenger få den ukentlige oversikten over revideringene til",
        "button": "Meld av ukeoversikten",
        "others": "Andre e-poster om revideringene (invitasjoner, påminnelser, anmodninger om vedtak, oppsummeringer) kommer fortsatt.",
        "done": "Avmeldt: ukeoversikten blir ikke lenger sendt til",
        "refused": "Lenken er ikke gyldig. Be sekretariatet om å melde deg av.",
        "no_csrf": "Skjemaet mangler en gyldig sikkerhetsnøkkel. Last siden på nytt og prøv igjen.",
    },
    "nn": {
        "title": "Meld av vekeoversikta",
        "ask": "Vil du ikkje lenger få den vekentlege oversikta over revideringane til",
        "button": "Meld av vekeoversikta",
        "others": "Andre e-postar om revideringane (invitasjonar, påminningar, oppmodingar om vedtak, oppsummeringar) kjem framleis.",
        "done": "Avmeldt: vekeoversikta blir ikkje lenger send til",
        "refused": "Lenkja er ikkje gyldig. Be sekretariatet om å melde deg av.",
        "no_csrf": "Skjemaet manglar ein gyldig tryggleiksnøkkel. Last sida på nytt og prøv igjen.",
    },
}


def _page(request: Request, settings: Settings, token: str, *, done: bool = False, status_code: int = 200, message: str | None = None) -> Response:
    found = digests.read_optout_token(settings.signing_key(), token)
    lang = found[1] if found else "nb"
    w = WORDS[lang]
    if found is None:
        return render(request, "digest_optout.html", status_code=404, lang=lang, w=w, address=None, done=False, message=w["refused"], revision=None)
    return render(request, "digest_optout.html", status_code=status_code, lang=lang, w=w, address=found[0], done=done, message=message, revision=None)


@router.get("/avmelding/{token}", response_class=HTMLResponse)
def optout_page(request: Request, token: str, settings: SettingsDep) -> Response:
    return _page(request, settings, token)


@router.post("/avmelding/{token}", response_class=HTMLResponse)
async def optout(request: Request, token: str, engine: EngineDep, settings: SettingsDep) -> Response:
    form = await request.form()
    return await run_in_threadpool(_optout, request, token, engine, settings, form.get("csrf_token"))


def _optout(request: Request, token: str, engine: Engine, settings: Settings, submitted: object) -> Response:
    found = digests.read_optout_token(settings.signing_key(), token)
    if found is None:
        return _page(request, settings, token)
    try:
        security.check_csrf(request, submitted)
    except Exception:  # noqa: BLE001 - HTTPException: the page again, saying why
        return _page(request, settings, token, status_code=403, message=WORDS[found[1]]["no_csrf"])
    with session_scope(engine) as session:
        digests.opt_out(session, found[0], source="link")
    return _page(request, settings, token, done=True)
