"""`avtaleflyt reminders run`: the deadline sweep by hand (the scheduled flow runs the same)."""

from __future__ import annotations

from typing import Annotated

import typer

from avtaleflyt.cli.common import day, err, escape, out, talks_to_prefect, today

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
        closed = f"; hearings {'to close' if dry_run else 'closed'}: {', '.join(swept.closed)}" if swept.closed else ""
        out.print(escape(f"{swept.slug}: {len(swept.due)} due, {verb} {swept.enqueued}{closed}"), highlight=False)
    if report.sent:
        out.print(f"sent {report.sent.sent}, deferred {report.sent.deferred}, failed {report.sent.failed}")
        if report.sent.stopped:
            err.print(f"[yellow]sending stopped:[/] {escape(str(report.sent.stopped))} (the rest waits in the outbox)", highlight=False)
    if report.sent is None and not dry_run and report.enqueued:
        out.print("[dim]no SMTP server configured here (AVTALEFLYT_SMTP_HOST): the worker sends them[/]")
    for slug, nudge in report.nudged.items():
        out.print(f"[dim]{escape(f'{slug}: run {nudge}')}[/]", highlight=False)
    for error in report.errors:
        err.print(f"[yellow]not done:[/] {escape(str(error))}", highlight=False)
    if not report.revisions:
        out.print(f"no active revisions on {day_}")
    if report.errors:
        raise typer.Exit(1)  # partly done: a cron job should notice; 2 stays for bad input
