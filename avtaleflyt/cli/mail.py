"""`avtaleflyt mail …`: preview a letter, read the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import cells, one_of, out, refusals, say
from avtaleflyt.models.enums import EmailEvent, Language, OutboxStatus

mail_app = typer.Typer(help="Letters: preview a template, see the outbox.", no_args_is_help=True)


@mail_app.command("preview")
def mail_preview(
    event: Annotated[EmailEvent, typer.Argument(metavar="EVENT", show_choices=False, help=f"which letter: {one_of(EmailEvent)}")],
    lang: Annotated[Language, typer.Option("--lang", metavar="LANG", help="nb (bokmål) or nn (nynorsk)")] = Language.nb,
    html: Annotated[bool, typer.Option("--html", help="print the HTML version")] = False,
) -> None:
    """Render a letter with example data; with AVTALEFLYT_TEMPLATE_DIR, every template there first (exit 2 on an error)."""
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.letters import preview

    if (folder := get_settings().template_dir) is not None and not check_template_overrides(folder):
        raise typer.Exit(2)
    rendered = preview(event, lang)
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if html else rendered.text)


def check_template_overrides(folder: Path) -> bool:
    """The installation's own templates rendered as the sender would (tasks/letter_overrides.py): each
    problem on stderr with its file and line; False when any is an error."""
    from avtaleflyt.tasks.letter_overrides import check_overrides

    problems = check_overrides(folder)
    for problem in problems:
        say("warning:" if problem.warning else "error:", "yellow" if problem.warning else "red", str(problem), to_err=True)
    errors = sum(not p.warning for p in problems)
    if errors:
        say("error:", "red", f"{errors} problem{'s' if errors != 1 else ''} in the templates of {folder} (AVTALEFLYT_TEMPLATE_DIR)", to_err=True, bold=True)
    return not errors


@mail_app.command("outbox")
def mail_outbox(
    slug: Annotated[str | None, typer.Argument(help="only this revision")] = None,
    status: Annotated[OutboxStatus | None, typer.Option("--status", metavar="STATUS", help=f"only the letters with this status: {one_of(OutboxStatus)}")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
) -> None:
    """The email log: what was sent to whom, what waits, what failed and why, what was cancelled and why."""
    from sqlmodel import select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.errors import DomainError, ErrorCode
    from avtaleflyt.models.tables import OutboxMessage, Revision

    with refusals(), session_scope() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if slug:
            revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
            if revision is None:
                raise DomainError(f"SLUG: no revision {slug!r}", code=ErrorCode.no_revision, field="revision", slug=slug)
            query = query.where(OutboxMessage.revision_id == revision.id)
        if status:
            query = query.where(OutboxMessage.status == status)
        rows = session.exec(query).all()
    from zoneinfo import ZoneInfo

    from rich.table import Table

    from avtaleflyt.clock import TZ
    from avtaleflyt.models.wording import local_time

    oslo = ZoneInfo(TZ)  # the secretariat's time, whatever the server's zone: 2025-02-10 00:30 CET
    table = Table("created (Norway)", "status", "event", "to", "subject", "answer / error / why cancelled")
    for m in rows:
        colour = {"failed": "red", "pending": "yellow", "cancelled": "magenta"}.get(m.status.value, "green")
        why = m.cancelled_reason or m.last_error or m.smtp_response or ""
        table.add_row(f"{local_time(m.created_at, oslo):%Y-%m-%d %H:%M %Z}", f"[{colour}]{m.status.value}[/]", *cells(m.event.value, m.to_address, m.subject, why))
    out.print(table)


@mail_app.command("optout")
def mail_optout(
    address: Annotated[str, typer.Argument(metavar="ADDRESS", help="the e-mail address")],
    undo: Annotated[bool, typer.Option("--undo", help="send it the weekly digest again")] = False,
) -> None:
    """No weekly digest to ADDRESS from now on (--undo: again). Its other letters (invitations, reminders, decision requests) still go."""
    import re

    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address.strip()):
        say("error:", "red", f"ADDRESS: {address!r} is not an e-mail address", to_err=True)
        raise typer.Exit(2)
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks import digests

    with refusals(), session_scope() as session:
        changed = digests.opt_in(session, address) if undo else digests.opt_out(session, address)
    shown = address.strip().casefold()
    if undo:
        say("ok" if changed else "note:", "green" if changed else "yellow", f"{shown} gets the weekly digest again" if changed else f"{shown} had not opted out")
    else:
        say("ok" if changed else "note:", "green" if changed else "yellow", f"{shown} gets no weekly digest (other letters still go)" if changed else f"{shown} had opted out already")
