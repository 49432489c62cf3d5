"""`avtaleflyt user …`: dashboard accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from avtaleflyt.cli.common import escape, fail, one_of, out, refusals, say
from avtaleflyt.models.enums import Role

user_app = typer.Typer(help="Dashboard accounts: a role in each helsefellesskap; coordinators record, readers read.", no_args_is_help=True)

ROLE_HELP = f"{one_of(Role)}: a coordinator records, a reader reads"
HelsefellesskapOpt = Annotated[str, typer.Option("--helsefellesskap", metavar="HF", help="the helsefellesskap, as the plans name it")]
RoleOpt = Annotated[Role, typer.Option("--role", metavar="ROLE", help=ROLE_HELP)]


def _pairs(helsefellesskap: list[str], roles: list[Role], everywhere: bool) -> tuple[dict[str, Role], Role | None]:
    """The --helsefellesskap/--role pairs in the order given (or --everywhere's one role); refused before anything is asked or written."""
    if everywhere:
        if helsefellesskap or len(roles) != 1:
            fail("--everywhere takes one --role and no --helsefellesskap (a role in every helsefellesskap, also those added later)")
        return {}, roles[0]
    if not helsefellesskap and not roles:
        fail("give each account at least one pair: --helsefellesskap HF --role ROLE (or --everywhere --role ROLE)")
    if len(helsefellesskap) != len(roles):
        missing = "--role" if len(helsefellesskap) > len(roles) else "--helsefellesskap"
        fail(f"each --helsefellesskap needs its --role, in pairs: {len(helsefellesskap)} --helsefellesskap, {len(roles)} --role ({missing} missing)")
    pairs: dict[str, Role] = {}
    for hf, role in zip(helsefellesskap, roles, strict=True):
        name = " ".join(hf.split())
        if not name:
            fail("--helsefellesskap: must not be empty")
        if name in pairs:
            fail(f"--helsefellesskap: {name!r} given twice")
        pairs[name] = role
    return pairs, None


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="login name, one word")],
    helsefellesskap: Annotated[list[str], typer.Option("--helsefellesskap", metavar="HF", help="a helsefellesskap the account works in; repeat, each with its --role")] = [],  # noqa: B006 - Typer's way
    role: Annotated[list[Role], typer.Option("--role", metavar="ROLE", help=f"{ROLE_HELP}; one per --helsefellesskap, in the same order")] = [],  # noqa: B006
    everywhere: Annotated[bool, typer.Option("--everywhere", help="the one --role in every helsefellesskap, also those added later (an operator's own staff)")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="manages accounts (sees no revision by it)")] = False,
    name: Annotated[str, typer.Option("--name", help="full name, shown on the dashboard")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")] = False,
) -> None:
    """Add a dashboard account with its role in each helsefellesskap (the password is asked for, never given on the command line)."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import add_user

    if not username.strip() or any(c.isspace() for c in username.strip()):
        fail(f"USERNAME: one word, no spaces (got {username!r})")
    pairs, installation_wide = _pairs(helsefellesskap, role, everywhere)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with refusals(), session_scope() as session:
        user = add_user(session, username, name, installation_wide, password, pairs, admin=admin, actor=get_settings().actor)
    out.print(f"[green]added:[/] {escape(user.username)} ({escape(_roles(pairs, installation_wide, admin))})", highlight=False)


def _roles(pairs: dict[str, Role], everywhere: Role | None, admin: bool) -> str:
    shown = [f"{hf}: {r.value}" for hf, r in sorted(pairs.items())] + ([f"everywhere: {everywhere.value}"] if everywhere else [])
    return "; ".join(shown + (["admin"] if admin else [])) or "no helsefellesskap"


@user_app.command("grant")
def user_grant(username: Annotated[str, typer.Argument(help="login name")], helsefellesskap: HelsefellesskapOpt, role: RoleOpt) -> None:
    """Give an account a role in a helsefellesskap (or another role there); a session under way has it at once."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import grant, known_helsefellesskap

    with refusals(), session_scope() as session:
        user, before = grant(session, username, helsefellesskap, role, actor=get_settings().actor)
        known = known_helsefellesskap(session)
    hf = " ".join(helsefellesskap.split())
    change = f"{before.value if before else 'none'} → {role.value}" if before != role else f"already {role.value}"
    out.print(f"[green]granted:[/] {escape(user.username)} in {escape(hf)} ({change})", highlight=False)
    if hf not in known:
        say("note:", "yellow", f"no revision of {hf!r} yet (there are: {', '.join(known) or 'none'}); check the spelling")


@user_app.command("revoke")
def user_revoke(username: Annotated[str, typer.Argument(help="login name")], helsefellesskap: HelsefellesskapOpt) -> None:
    """Take an account's role in a helsefellesskap away; it sees nothing of it from its next request."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import revoke

    with refusals(), session_scope() as session:
        user, before = revoke(session, username, helsefellesskap, actor=get_settings().actor)
    out.print(f"[green]revoked:[/] {escape(user.username)} in {escape(' '.join(helsefellesskap.split()))} (was {before.value})", highlight=False)


@user_app.command("list")
def user_list() -> None:
    """Every account with its roles per helsefellesskap."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.accounts import accounts

    with refusals(), session_scope() as session:
        rows = [(u.username, u.name, u.active, u.admin, u.role, roles) for u, roles in accounts(session)]
    for username, name, active, admin, everywhere, roles in rows:
        state = "" if active else " [disabled]"
        say(f"{username}{state}", "cyan", f"{name} — {_roles(roles, everywhere, admin)}")


@user_app.command("admin")
def user_admin(username: Annotated[str, typer.Argument(help="login name")], off: Annotated[bool, typer.Option("--off", help="no longer an admin")] = False) -> None:
    """Make an account an admin (manages accounts), or with --off not."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import set_admin

    with refusals(), session_scope() as session:
        user = set_admin(session, username, not off, actor=get_settings().actor)
    out.print(f"[green]{'not admin' if off else 'admin'}:[/] {escape(user.username)}", highlight=False)


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
    """Change an account's installation-wide role (--everywhere); roles per helsefellesskap: `user grant`."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import set_role

    with refusals(), session_scope() as session:
        user, before = set_role(session, username, role, actor=get_settings().actor)
    change = f"{before.value} → {role.value}" if before != role else f"already {role.value}"
    out.print(f"[green]role:[/] {escape(user.username)} ({change})", highlight=False)
