"""What every command module shares: the consoles, escaping, refusals as exit status 2.

Imported by every command at start-up, so it imports only Typer: rich is loaded when a command
first prints through `out`/`err` (errors, warnings and `plan check` print without it); the
database, the clock and Prefect are imported inside the functions that use them.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text
    from sqlalchemy.exc import OperationalError

    from avtaleflyt.actions import RunOutcome
    from avtaleflyt.models.plan import PlanProblem
    from avtaleflyt.tasks.records import Recorded

class _LazyConsole:
    """rich's Console, made on first use."""

    def __init__(self, **options: object) -> None:
        self._options, self._console = options, None

    def __getattr__(self, name: str) -> object:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


# Every user value (a name, a slug, an error naming one) goes through escape(): a party named
# `[/]` prints as it is. No emoji codes either: `:ok:` in a name stays text.
out: Console = _LazyConsole(soft_wrap=True, emoji=False)  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True, soft_wrap=True, emoji=False)  # type: ignore[assignment]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def say(label: str, colour: str, text: str, *, to_err: bool = False, bold: bool = False) -> None:
    """One line without rich: `label` in colour on a terminal, then `text` as it is (control
    characters shown as `\\x1b`, so a hostile value cannot drive the terminal)."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)
    typer.echo(f"{typer.style(label, fg=colour, bold=bold)} {shown}", err=to_err)


_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")  # rich's markup tag, with the backslashes before it


def escape(value: object) -> str:
    """Markup that prints as exactly `value`, whatever follows it.

    rich.markup.escape doubles a single final backslash, which then prints twice unless a tag
    follows: here trailing backslashes are doubled and an empty tag always follows them.
    """
    text = _TAG.sub(lambda m: m[1] * 2 + "\\" + m[2], str(value))
    tail = len(text) - len(text.rstrip("\\"))
    return text + "\\" * tail + "[none][/none]" if tail else text


def cells(*values: object) -> list[Text]:
    """Table cells as plain text, never markup."""
    from rich.text import Text

    return [Text(str(v)) for v in values]

def one_of(choices: object) -> str:
    """An option's choices for its help text, `a, b or c`: rich wraps them between words there,
    where Typer's `<a|b|c>` metavar is cut mid-word in a narrow column. Give the option a metavar."""
    values = [getattr(c, "value", c) for c in choices]  # type: ignore[attr-defined]
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else "".join(values)


Slug = Annotated[str, typer.Argument(help="the revision's slug, e.g. revidering-av-samarbeidsavtalen-2024")]
StageOpt = Annotated[str | None, typer.Option("--stage", help="stage key, when more than one is open")]
PartyOpt = Annotated[str, typer.Option("--party", help="party name (any case) or organisation number")]
CaseOpt = Annotated[str | None, typer.Option("--case", help="case number (saksnummer), e.g. 09-2024")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]

F = TypeVar("F", bound=Callable[..., object])


def talks_to_prefect(command: F) -> F:
    """For a command that reaches Prefect: it talks to `up`'s server unless PREFECT_API_URL
    (or a Prefect profile) says otherwise. Only these commands import prefect (~1 s)."""

    @functools.wraps(command)
    def reach_local_prefect_first(*args, **kwargs):
        from avtaleflyt.settings import get_settings
        from avtaleflyt.stack import use_local_prefect_api

        use_local_prefect_api(get_settings())
        return command(*args, **kwargs)

    return reach_local_prefect_first  # type: ignore[return-value]


def today() -> dt.date:
    # Imports pendulum: not for the commands that never need the date.
    from avtaleflyt import clock

    return clock.today()


@contextmanager
def without_pydantic_plugins() -> Iterator[None]:
    """While the plan's models are built: pydantic looks for plugins the first time it builds one,
    reading every installed distribution's entry points (~7 ms); avtaleflyt uses none. Typer does
    the same while it builds its parameters' validators (typer._adapters)."""
    before = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = before


@contextmanager
def collector_paused() -> Iterator[None]:
    """While a command imports its models and reads its input at once: nearly every object made
    then lives until the process ends, so the cyclic garbage collector's passes over them find
    nothing (~3% of `plan check`'s instructions). Switched on again after, if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# Set by app.main(), the console script: the process ends with the command (not so under a test's CliRunner).
CONSOLE_SCRIPT = {"running": False, "collector_paused": False}


def nothing_left_to_collect() -> None:
    """At the end of a command that leaves nothing to finalize (no file, connection, thread or
    temporary folder; only what it read and printed), run by the console script: the interpreter's
    last pass of the garbage collector at exit would go through every object the command made and
    free nothing the exit does not (~3% of `plan check`). Frozen, they are left out of it."""
    if CONSOLE_SCRIPT["running"]:
        gc.freeze()


def template_dir() -> Path | None:
    """The installation's own letter templates (Settings.template_dir). Without loading the
    settings when nothing can set it: pydantic-settings and what it imports (asyncio, dotenv, ...)
    cost `plan check` ~40 ms. Settings reads AVTALEFLYT_TEMPLATE_DIR in any case, or from `.env`."""
    if not Path(".env").exists() and not any(name.upper() == "AVTALEFLYT_TEMPLATE_DIR" for name in os.environ):
        return None
    from avtaleflyt.settings import get_settings

    return get_settings().template_dir


def fail(message: str) -> NoReturn:
    say("error:", "red", message, to_err=True, bold=True)
    raise typer.Exit(2)


@contextmanager
def refusals() -> Iterator[None]:
    """Every refusal the rules make becomes a one-line error and exit status 2."""
    try:
        yield
    except typer.Exit:
        raise
    except Exception as exc:
        # Imported only now: an exception of these classes means their modules are loaded already.
        from sqlalchemy.exc import OperationalError

        from avtaleflyt.models.plan import PlanInvalid
        from avtaleflyt.models.rules import DomainError

        if isinstance(exc, PlanInvalid):
            for problem in exc.problems:
                say("error:", "red", str(problem), to_err=True)
            raise typer.Exit(2) from None
        if isinstance(exc, DomainError):
            fail(str(exc))
        if isinstance(exc, OperationalError):
            database_unreachable(exc)
        raise


def database_unreachable(exc: OperationalError) -> NoReturn:
    from avtaleflyt.db import error_line

    fail(f"the domain database cannot be reached (AVTALEFLYT_DATABASE_URL): {error_line(exc)}; nothing was written")


def day(value: str, option: str) -> dt.date:
    from avtaleflyt.models.dates import parse_day

    try:
        return parse_day(value)
    except ValueError as exc:
        fail(f"{option}: {exc}")


def read_bounded(path: Path, argument: str) -> bytes:
    """The file's bytes, refused past MAX_PLAN_BYTES (read no further: it may be a device)."""
    from avtaleflyt.models.limits import MAX_PLAN_BYTES

    try:
        with path.open("rb") as file:
            data = file.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        fail(f"{argument}: cannot read {str(path)!r}: {exc.strerror}")
    if len(data) > MAX_PLAN_BYTES:
        fail(f"{argument}: {str(path)!r} is larger than {MAX_PLAN_BYTES} bytes (1 MiB)")
    return data


def read_plan_file(path: Path) -> str:
    try:
        return read_bounded(path, "FILE").decode("utf-8")
    except UnicodeDecodeError:
        fail(f"FILE: {str(path)!r} is not UTF-8 text")


def print_warnings(warnings: list[PlanProblem]) -> None:
    for w in warnings:
        say("warning:", "yellow", str(w), to_err=True)


def write_output(text: str, output: Path | None, option: str = "--output") -> None:
    """To the file (exactly these bytes: CSV and iCalendar keep their CRLF), or to stdout."""
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_bytes(text.encode("utf-8"))
    except OSError as exc:
        fail(f"{option}: cannot write {str(output)!r}: {exc.strerror}")
    err.print(f"[green]wrote[/] {escape(str(output))}", highlight=False)


NUDGE_TEXT = {  # by tasks.runs.Nudge, a StrEnum
    "resumed": "the revision's run was resumed and will reconcile",
    "current": "the revision's run is up to date",
    "queued": "the revision's run is queued and will read this",
    "busy": "the revision's run is busy; it reconciles again when it next waits (`revision resume` nudges it)",
    "restarted": "the revision's run had crashed and was restarted",
    "finished": "the revision's run has finished",
    "cancelled": "the revision's run was cancelled in Prefect; nothing will act on this until it is restarted",
    "missing": "the revision's run is not in Prefect (was its server reset?)",
}


def report(recorded: Recorded, outcome: RunOutcome) -> None:
    mark = "[green]recorded:[/]" if recorded.changed else "[dim]unchanged:[/]"
    out.print(f"{mark} {escape(recorded.message)}", highlight=False)
    if outcome.error:
        err.print(f"[yellow]note:[/] recorded, but the run was not reached: {escape(str(outcome.error))}", highlight=False, soft_wrap=True)
    elif outcome.nudge:
        out.print(f"[dim]{NUDGE_TEXT[outcome.nudge]}[/]")
