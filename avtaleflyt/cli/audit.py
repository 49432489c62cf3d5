"""`avtaleflyt audit export`: the account event log (logins, refused logins, logouts, account changes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import escape, fail, out, refusals

audit_app = typer.Typer(help="The account event log: who logged in, who changed which account.", no_args_is_help=True)


@audit_app.command("export")
def audit_export(
    since: Annotated[str, typer.Option("--since", metavar="DATE", help="from this day (YYYY-MM-DD, UTC) or ISO 8601 time on")],
    until: Annotated[str | None, typer.Option("--until", metavar="DATE", help="up to and including this day (or before this ISO 8601 time)")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="csv (a header, RFC 4180, UTF-8) or jsonl (one JSON object a line)")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", metavar="FILE", help="write here (default: standard output)")] = None,
) -> None:
    """Write the account event log of a period, oldest first, as CSV or JSON lines."""
    from avtaleflyt.models.errors import DomainError
    from avtaleflyt.tasks import audit

    if fmt not in audit.FORMATS:
        fail(f"--format: {fmt!r} is not one of {', '.join(audit.FORMATS)}")
    try:
        start = audit.parse_day(since, "--since")
        end = audit.parse_day(until, "--until", end=True) if until is not None else None
    except DomainError as exc:
        fail(str(exc))
    if end is not None and end <= start:
        fail(f"--until: {until!r} is not after --since {since!r}")
    if output is not None and not output.parent.is_dir():
        fail(f"--output: no folder {str(output.parent)!r}")

    from avtaleflyt.db import session_scope

    where = audit.Filter(since=start, until=end)
    with refusals(), session_scope() as session:
        if output is None:
            count = audit.write(audit.in_order(session, where), sys.stdout, fmt)
            sys.stdout.flush()
            return
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as file:
                count = audit.write(audit.in_order(session, where), file, fmt)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    out.print(f"[green]exported:[/] {count} event(s) to {escape(output)}", highlight=False)
