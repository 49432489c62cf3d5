"""`avtaleflyt up` and `avtaleflyt dashboard`: run the stack, or the dashboard alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import escape, out, read_plan_file, refusals, say, talks_to_prefect


@talks_to_prefect
def up(
    example: Annotated[Path | None, typer.Option("--example", help="start this plan's revision once the stack is up (skipped if it exists), its dates moved so that its first stage begins today")] = None,
    keep_dates: Annotated[bool, typer.Option("--keep-dates", help="start --example with its dates as written, not moved to today")] = False,
) -> None:
    """Run everything on this machine: Prefect server (SQLite), worker, dashboard; prints the URLs. Ctrl-C stops it all."""
    from avtaleflyt import actions
    from avtaleflyt.db import session_scope
    from avtaleflyt.models.rules import DomainError
    from avtaleflyt.settings import get_settings
    from avtaleflyt.stack import StackError, run_up

    source = read_plan_file(example) if example is not None else None
    if source is not None and not keep_dates:
        from avtaleflyt.stack.up import prepare_example

        with refusals():
            example = prepare_example(source, example.name, Path(get_settings().data_dir))
        source = read_plan_file(example)
        out.print(f"example: its first stage begins today; the plan with its dates moved is {escape(str(example))}", highlight=False)

    def on_ready() -> None:
        if source is not None:
            try:
                started = actions.start_revision(source)
                out.print(f"[green]started[/] {escape(started.slug)}")
            except DomainError as exc:
                out.print(f"[dim]example: {escape(str(exc))}[/]", highlight=False)
        from sqlmodel import func, select

        from avtaleflyt.models.tables import User

        with session_scope() as session:
            if not session.exec(select(func.count()).select_from(User)).one():
                out.print("No dashboard account yet: in another terminal, `avtaleflyt user add NAME --role coordinator`.")

    try:
        run_up(get_settings(), load_example=example, on_ready=on_ready)
    except StackError as exc:  # a port taken, a service that would not start: what and where, no traceback
        say("error:", "red", str(exc), to_err=True, bold=True)
        raise typer.Exit(1) from None


@talks_to_prefect
def dashboard(
    port: Annotated[int | None, typer.Option("--port", help="default: AVTALEFLYT_DASHBOARD_PORT (8000)")] = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
) -> None:
    """Serve the dashboard alone (read side, JSON under /api/)."""
    from avtaleflyt.dashboard.__main__ import serve
    from avtaleflyt.settings import get_settings

    serve(host, port or get_settings().dashboard_port)
