"""`avtaleflyt user …`: dashboard accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from avtaleflyt.cli.common import escape, one_of, out, refusals
from avtaleflyt.models.enums import Role

user_app = typer.Typer(help="Dashboard accounts: coordinators record, readers read.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="login name, one word")],
    name: Annotated[str, typer.Option("--name", help="full name, shown on the dashboard")] = "",
    role: Annotated[Role, typer.Option("--role", metavar="ROLE", help=f"{one_of(Role)}: a coordinator records, a reader reads")] = Role.reader,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")] = False,
) -> None:
    """Add a dashboard account (the password is asked for, never given on the command line)."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.accounts import add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with refusals(), session_scope() as session:
        user = add_user(session, username, name, role, password)
    out.print(f"[green]added:[/] {escape(user.username)} ({user.role.value})", highlight=False)


def _set_active(username: str, active: bool) -> None:
    from avtaleflyt import clock
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import set_active

    with refusals(), session_scope() as session:
        user, ended = set_active(session, username, active, actor=get_settings().actor, now=clock.utcnow())
    what = "enabled" if active else f"disabled ({ended} session(s) ended)"
    out.print(f"[green]{what}:[/] {escape(user.username)}", highlight=False)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Disable an account: it cannot log in, and its sessions end now."""
    _set_active(username, False)


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Let a disabled account log in again."""
    _set_active(username, True)


@user_app.command("role")
def user_role(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[Role, typer.Option("--role", metavar="ROLE", help=f"{one_of(Role)}: a coordinator records, a reader reads")],
) -> None:
    """Give an account another role; a session under way has it from its next request."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import set_role

    with refusals(), session_scope() as session:
        user, before = set_role(session, username, role, actor=get_settings().actor)
    change = f"{before.value} → {role.value}" if before != role else f"already {role.value}"
    out.print(f"[green]role:[/] {escape(user.username)} ({change})", highlight=False)
