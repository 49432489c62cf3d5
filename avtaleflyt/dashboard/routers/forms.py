"""The coordinator's recording forms on the revision page: one POST per kind of recording.

Every form carries the session's CSRF token; every recording is parsed into a command and
goes through `avtaleflyt.actions.execute`, as the CLI's, on the app's engine, and lands in
the audit log with the user's name.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from avtaleflyt import actions
from avtaleflyt.models.commands import Refresh
from avtaleflyt.models.errors import DomainError
from avtaleflyt.tasks.records import Recorded
from avtaleflyt.tasks.runs import RunOutcome

from .. import security, uploads
from ..confirm import confirmation
from ..deps import Clock, ClockDep, CoordinatorDep, EngineDep, SettingsDep
from ..errors import in_norwegian
from ..forms import command_from_form

router = APIRouter(include_in_schema=False)


def _record(request: Request, engine: Engine, clock: Clock, slug: str, action: str, user: security.CurrentUser, form, max_upload: int) -> None:  # noqa: ANN001
    try:
        command = command_from_form(action, slug, uploads.form_values(form, max_upload))
        recorded, outcome = actions.execute(command, actor=user.username, clock=clock, engine=engine)
    except DomainError as exc:
        security.flash(request, f"Ikke registrert: {in_norwegian(exc)}", "error")
    else:
        if isinstance(command, Refresh):
            security.flash(request, _woken(recorded, outcome), "error" if outcome.error else "ok")
        else:
            security.flash(request, confirmation(command, recorded.changed))


NUDGE_NB = {  # by tasks.runs.Nudge, as the CLI's NUDGE_TEXT
    "resumed": "kjøringen er vekket og ser etter endringer", "current": "kjøringen er à jour", "queued": "kjøringen står i kø og leser dette",
    "busy": "kjøringen er opptatt; den ser etter endringer neste gang den venter", "restarted": "kjøringen hadde stoppet og er startet på nytt",
    "finished": "kjøringen er ferdig", "cancelled": "kjøringen ble avbrutt i Prefect", "missing": "kjøringen finnes ikke i Prefect",
}


def _woken(recorded: Recorded, outcome: RunOutcome) -> str:
    if recorded.flow_run_id is None:
        return "Revideringen har ingen kjøring ennå"
    if outcome.error:
        return f"Kjøringen ble ikke nådd: {outcome.error}"
    text = NUDGE_NB.get(str(outcome.nudge), "kjøringen er vekket")
    return text[:1].upper() + text[1:]


@router.post("/revisions/{slug}/record/{action}")
async def record(request: Request, slug: str, action: str, user: CoordinatorDep, engine: EngineDep, clock: ClockDep, settings: SettingsDep) -> RedirectResponse:
    try:  # a party's minutes may come as a file: the request's size is limited as it is read
        form = await uploads.limited_form(request, settings.max_upload_bytes)
    except DomainError as exc:
        security.flash(request, f"Ikke registrert: {in_norwegian(exc)}", "error")  # nothing read, nothing written
        return RedirectResponse(f"/revisions/{quote(slug)}#melding", status_code=303)
    try:
        security.check_csrf(request, form.get("csrf_token"))
        await run_in_threadpool(_record, request, engine, clock, slug, action, user, form, settings.max_upload_bytes)
    finally:
        await form.close()
    # To the message (the page's top: the recorded state, read afresh), not below it where it is out of sight.
    return RedirectResponse(f"/revisions/{quote(slug)}#melding", status_code=303)
