"""`avtaleflyt reminders run`: the deadline sweep by hand (the scheduled flow runs the same)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from avtaleflyt.cli.common import cells, day, err, escape, out, talks_to_prefect, today

reminders_app = typer.Typer(help="The deadline sweep: reminders, overdue notices, closed hearings.", no_args_is_help=True)


@reminders_app.command("run")
@talks_to_prefect
def reminders_run(
    as_of: Annotated[str | None, typer.Option("--as-of", help="the day to sweep as (default: today in Europe/Oslo)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what is due; write and send nothing")] = False,
) -> None:
    """Enqueue the reminders and notices due, close hearings past their deadline, send the outbox."""
    from avtaleflyt.tasks.sweep import run_sweep

    day_ = day(as_of, "--as-of") if as_of else today()
    report = run_sweep(day_, dry_run=dry_run)
    verb = "would enqueue" if dry_run else "enqueued"
    for swept in report.revisions:
        closed = f"; stages {'to close' if dry_run else 'closed'} at their date: {', '.join(swept.closed)}" if swept.closed else ""
        out.print(escape(f"{swept.slug}: {len(swept.due)} due, {verb} {swept.enqueued}{closed}"), highlight=False)
        if dry_run and swept.due:
            _print_letters(swept.slug, day_)
    if report.sent:
        out.print(f"sent {report.sent.sent}, deferred {report.sent.deferred}, failed {report.sent.failed}")
        if report.sent.stopped:
            err.print(f"[yellow]sending stopped:[/] {escape(str(report.sent.stopped))} (the rest waits in the outbox)", highlight=False)
    if report.sent is None and not dry_run and report.enqueued:
        out.print("[dim]not sent: no SMTP server configured here (AVTALEFLYT_SMTP_HOST) and no `avtaleflyt up` running "
                  "on this data folder; they wait in the outbox for the next sender (a revision's run, the daily sweep)[/]")
    for slug, nudge in report.nudged.items():
        out.print(f"[dim]{escape(f'{slug}: run {nudge}')}[/]", highlight=False)
    for error in report.errors:
        err.print(f"[yellow]not done:[/] {escape(str(error))}", highlight=False)
    if not report.revisions:
        out.print(f"no active revisions on {day_}")
    if report.errors:
        raise typer.Exit(1)  # partly done: a cron job should notice; 2 stays for bad input


def _print_letters(slug: str, day_: dt.date) -> None:
    """Who would get which letter: each one composed as the sweep would, in a transaction never committed."""
    from rich.table import Table
    from sqlmodel import col, select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.tables import OutboxMessage, Revision
    from avtaleflyt.tasks import compose
    from avtaleflyt.tasks.sweep import _plan as sweep_plan  # what the sweep finds due, as it finds it

    table = Table(title=f"letters due {day_}", title_justify="left")
    for header in ("to", "address", "letter", "stage", "date", ""):
        table.add_column(header, overflow="fold")
    with session_scope() as session:
        revision = session.exec(select(Revision).where(Revision.slug == slug)).one()
        due = sweep_plan(session, revision, day_).messages
        sent = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_([d.key for d in due]))).all())
        for d in due:
            letter = compose.reminder(session, revision, d)
            table.add_row(*cells(letter.to_name, letter.to_address, d.event.value, d.stage_key, d.deadline, "already in the outbox" if d.key in sent else ""))
        session.rollback()  # composing wrote nothing; make sure of it
    out.print(table)
