"""The root `avtaleflyt` app: one sub-app per module, and `main()` for the console script."""

from __future__ import annotations

import copy
import functools
import gc
import importlib
import sys
from collections.abc import Callable, Iterator, MutableMapping

import typer
from typer.core import TyperGroup

from avtaleflyt.cli import up as up_commands
from avtaleflyt.cli.common import CONSOLE_SCRIPT, database_unreachable

# name -> (module, Typer app): each sub-app's module is imported only when its command runs
# (or the help lists it), so `plan check` does not load what `revision show` needs.
SUB_APPS = {
    "plan": ("avtaleflyt.cli.plan", "plan_app"),
    "revision": ("avtaleflyt.cli.revision", "revision_app"),
    "draft": ("avtaleflyt.cli.recordings", "draft_app"),
    "forum": ("avtaleflyt.cli.recordings", "forum_app"),
    "hearing": ("avtaleflyt.cli.recordings", "hearing_app"),
    "party": ("avtaleflyt.cli.recordings", "party_app"),
    "decision": ("avtaleflyt.cli.recordings", "decision_app"),
    "signing": ("avtaleflyt.cli.signing", "signing_app"),
    "information": ("avtaleflyt.cli.recordings", "information_app"),
    "followup": ("avtaleflyt.cli.followup", "followup_app"),
    "document": ("avtaleflyt.cli.document", "document_app"),
    "reminders": ("avtaleflyt.cli.reminders", "reminders_app"),
    "mail": ("avtaleflyt.cli.mail", "mail_app"),
    "papers": ("avtaleflyt.cli.papers", "papers_app"),
    "user": ("avtaleflyt.cli.user", "user_app"),
    "db": ("avtaleflyt.cli.db", "db_app"),
    "audit": ("avtaleflyt.cli.audit", "audit_app"),
}


class LazyCommands(MutableMapping):
    """A sub-app's click commands by name, each built by Typer when first looked up: `plan check`
    builds `check` (its parameters, types, help), not every command of `plan`. The names are
    known without building, for click's usage errors and Typer's suggestions."""

    def __init__(self, sub_app: typer.Typer) -> None:
        self._info = {info.name or typer.main.get_command_name(info.callback.__name__): info for info in sub_app.registered_commands}
        self._options = {"pretty_exceptions_short": sub_app.pretty_exceptions_short, "rich_markup_mode": sub_app.rich_markup_mode}
        self._built: dict[str, object] = {}

    def __getitem__(self, name: str) -> object:
        if name not in self._built:
            command = typer.main.get_command_from_info(self._info[name], **self._options)
            command.callback = collecting(command.callback)
            self._built[name] = command
        return self._built[name]

    def __setitem__(self, name: str, command: object) -> None:
        self._built[name] = command
        self._info.setdefault(name, None)

    def __delitem__(self, name: str) -> None:
        del self._info[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._info)

    def __len__(self) -> int:
        return len(self._info)


def collecting(callback: Callable[..., object]) -> Callable[..., object]:
    """A command's callback, run with the garbage collector on again: `main()` pauses it while the
    CLI starts (Typer parsing the arguments, a sub-app imported and its command built: ~2% of
    `plan check`), and `up` or `dashboard` run for days."""

    @functools.wraps(callback)
    def run(*args: object, **kwargs: object) -> object:
        if CONSOLE_SCRIPT["collector_paused"]:
            CONSOLE_SCRIPT["collector_paused"] = False
            gc.enable()
        return callback(*args, **kwargs)

    return run


def sub_app_group(name: str) -> TyperGroup:
    module, attribute = SUB_APPS[name]
    sub_app = getattr(importlib.import_module(module), attribute)
    bare = copy.copy(sub_app)  # the group itself (help, options) without building its commands
    bare.registered_commands = []
    group = typer.main.get_group(bare)
    group.name, group.commands = name, LazyCommands(sub_app)
    return group


class LazyGroup(TyperGroup):
    def list_commands(self, ctx):  # noqa: ANN001, ANN201
        return [*SUB_APPS, *(name for name in super().list_commands(ctx) if name not in SUB_APPS)]

    def get_command(self, ctx, name: str):  # noqa: ANN001, ANN201
        if name in SUB_APPS and name not in self.commands:
            self.commands[name] = sub_app_group(name)
        return super().get_command(ctx, name)


app = typer.Typer(
    cls=LazyGroup, help="Revise and approve the cooperation agreements of a helsefellesskap.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.command()(collecting(up_commands.up))
app.command()(collecting(up_commands.dashboard))


def main() -> None:  # pragma: no cover - the console script
    # What was imported to get here (Typer, click, the CLI) lives as long as the process: the
    # garbage collector leaves it out of its passes from now on (~2% of `plan check`), and makes
    # none until the command runs (`collecting`).
    CONSOLE_SCRIPT["running"] = True
    gc.freeze()
    if gc.isenabled():
        gc.disable()
        CONSOLE_SCRIPT["collector_paused"] = True
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
