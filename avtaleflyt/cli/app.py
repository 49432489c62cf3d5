"""The root `avtaleflyt` app: one sub-app per module, and `main()` for the console script."""

from __future__ import annotations

import sys

import typer

from avtaleflyt.cli import up as up_commands
from avtaleflyt.cli.common import database_unreachable
from avtaleflyt.cli.db import db_app
from avtaleflyt.cli.mail import mail_app
from avtaleflyt.cli.plan import plan_app
from avtaleflyt.cli.recordings import draft_app, forum_app, hearing_app, party_app
from avtaleflyt.cli.reminders import reminders_app
from avtaleflyt.cli.revision import revision_app
from avtaleflyt.cli.user import user_app

app = typer.Typer(help="Revise and approve the cooperation agreements of a helsefellesskap.", no_args_is_help=True, pretty_exceptions_enable=False)
for sub, name in [
    (plan_app, "plan"), (revision_app, "revision"), (draft_app, "draft"), (forum_app, "forum"),
    (hearing_app, "hearing"), (party_app, "party"), (reminders_app, "reminders"), (mail_app, "mail"), (user_app, "user"),
]:
    app.add_typer(sub, name=name)
app.command()(up_commands.up)
app.command()(up_commands.dashboard)
app.add_typer(db_app, name="db")


def main() -> None:  # pragma: no cover - the console script
    try:
        app()
    except Exception as exc:  # commands that only read, outside `refusals()`
        # Loaded already if that is what this is.
        from sqlalchemy.exc import OperationalError

        if not isinstance(exc, OperationalError):
            raise
        try:
            database_unreachable(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)
