"""`avtaleflyt`: what a coordinator types. Thin: parses, calls avtaleflyt.actions, prints.

Errors go to stderr, name the argument, and exit with status 2; nothing is written
when a command fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import OperationalError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from avtaleflyt import actions, clock
from avtaleflyt.db import error_line, session_scope
from avtaleflyt.models.dates import parse_day
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, Language, OutboxStatus, PartyOutcome, Role
from avtaleflyt.models.plan import PlanInvalid, PlanProblem, parse_plan
from avtaleflyt.models.rules import DomainError
from avtaleflyt.tasks import records
from avtaleflyt.tasks.runs import Nudge
from avtaleflyt.tasks.status import RevisionView, revision_views

app = typer.Typer(help="Revise and approve the cooperation agreements of a helsefellesskap.", no_args_is_help=True, pretty_exceptions_enable=False)
plan_app = typer.Typer(help="Plan files: check them; shift a running revision's plan; export it (calendar, Fremdriftsplan, CSV); import milestones from a spreadsheet.", no_args_is_help=True)
revision_app = typer.Typer(help="Start revisions and see where they stand.", no_args_is_help=True)
draft_app = typer.Typer(help="Draft stages.", no_args_is_help=True)
forum_app = typer.Typer(help="Forum decisions (ASU, PSU, FU, ...).", no_args_is_help=True)
hearing_app = typer.Typer(help="Hearing responses and closing a hearing.", no_args_is_help=True)
party_app = typer.Typer(help="The parties' political treatment.", no_args_is_help=True)
reminders_app = typer.Typer(help="The deadline sweep: reminders, overdue notices, closed hearings.", no_args_is_help=True)
mail_app = typer.Typer(help="Letters: preview a template, see the outbox.", no_args_is_help=True)
user_app = typer.Typer(help="Dashboard accounts: coordinators record, readers read.", no_args_is_help=True)
for sub, name in [
    (plan_app, "plan"), (revision_app, "revision"), (draft_app, "draft"), (forum_app, "forum"),
    (hearing_app, "hearing"), (party_app, "party"), (reminders_app, "reminders"), (mail_app, "mail"), (user_app, "user"),
]:
    app.add_typer(sub, name=name)

# Every user value (a name, a slug, an error naming one) goes through escape(): a party named
# `[/]` prints as it is. No emoji codes either: `:ok:` in a name stays text.
out = Console(soft_wrap=True, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)


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
    return [Text(str(v)) for v in values]

Slug = Annotated[str, typer.Argument(help="the revision's slug, e.g. revidering-av-samarbeidsavtalen-2024")]
StageOpt = Annotated[str | None, typer.Option("--stage", help="stage key, when more than one is open")]
PartyOpt = Annotated[str, typer.Option("--party", help="party name (any case) or organisation number")]
CaseOpt = Annotated[str | None, typer.Option("--case", help="case number (saksnummer), e.g. 09-2024")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


@app.callback()
def _reach_local_prefect() -> None:
    """Commands talk to `up`'s Prefect server unless PREFECT_API_URL (or a Prefect profile) says otherwise."""
    from avtaleflyt.settings import get_settings
    from avtaleflyt.stack import use_local_prefect_api

    use_local_prefect_api(get_settings())


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def refusals() -> Iterator[None]:
    """Every refusal the rules make becomes a one-line error and exit status 2."""
    try:
        yield
    except PlanInvalid as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except DomainError as exc:
        fail(str(exc))
    except OperationalError as exc:
        database_unreachable(exc)


def database_unreachable(exc: OperationalError) -> NoReturn:
    fail(f"the domain database cannot be reached (AVTALEFLYT_DATABASE_URL): {error_line(exc)}; nothing was written")


def day(value: str, option: str) -> dt.date:
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
        err.print(f"[yellow]warning:[/] {escape(str(w))}", highlight=False, soft_wrap=True)


_NUDGE_TEXT = {
    Nudge.resumed: "the revision's run was resumed and will reconcile",
    Nudge.current: "the revision's run is up to date",
    Nudge.queued: "the revision's run is queued and will read this",
    Nudge.busy: "the revision's run is busy; it reconciles again when it next waits (`revision resume` nudges it)",
    Nudge.restarted: "the revision's run had crashed and was restarted",
    Nudge.finished: "the revision's run has finished",
    Nudge.cancelled: "the revision's run was cancelled in Prefect; nothing will act on this until it is restarted",
    Nudge.missing: "the revision's run is not in Prefect (was its server reset?)",
}


def report(recorded: records.Recorded, outcome: actions.RunOutcome) -> None:
    mark = "[green]recorded:[/]" if recorded.changed else "[dim]unchanged:[/]"
    out.print(f"{mark} {escape(recorded.message)}", highlight=False)
    if outcome.error:
        err.print(f"[yellow]note:[/] recorded, but the run was not reached: {escape(str(outcome.error))}", highlight=False, soft_wrap=True)
    elif outcome.nudge:
        out.print(f"[dim]{_NUDGE_TEXT[outcome.nudge]}[/]")


def do_record(fn, slug: str, **kwargs) -> None:  # noqa: ANN001
    with refusals():
        recorded, outcome = actions.record(fn, slug, **kwargs)
    report(recorded, outcome)


# --- up -------------------------------------------------------------------------


@app.command()
def up(
    example: Annotated[Path | None, typer.Option("--example", help="start this plan's revision once the stack is up (skipped if it exists)")] = None,
) -> None:
    """Run everything on this machine: Prefect server (SQLite), worker, dashboard; prints the URLs. Ctrl-C stops it all."""
    from avtaleflyt.settings import get_settings
    from avtaleflyt.stack import run_up

    source = read_plan_file(example) if example is not None else None

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

    run_up(get_settings(), load_example=example, on_ready=on_ready)


@app.command()
def dashboard(
    port: Annotated[int | None, typer.Option("--port", help="default: AVTALEFLYT_DASHBOARD_PORT (8000)")] = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
) -> None:
    """Serve the dashboard alone (read side, JSON under /api/)."""
    from avtaleflyt.dashboard.__main__ import serve
    from avtaleflyt.settings import get_settings

    serve(host, port or get_settings().dashboard_port)


# --- plan -----------------------------------------------------------------------


@plan_app.command("check")
def plan_check(file: Annotated[Path, typer.Argument(help="the plan file (YAML)")]) -> None:
    """Validate a plan file; every error with its place in the file."""
    source = read_plan_file(file)
    with refusals():
        checked = parse_plan(source)
    print_warnings(checked.warnings)
    plan = checked.plan
    out.print(
        f"[green]ok:[/] {escape(plan.revision_slug)}: {len(plan.stages)} stages, {len(plan.parties)} parties, "
        f"{len(plan.forums)} forums, {len(plan.milestones)} milestones",
        highlight=False,
    )


class ExportFormat(str, Enum):
    ics = "ics"
    html = "html"
    csv = "csv"


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


@plan_app.command("export")
def plan_export(
    slug: Slug,
    format: Annotated[ExportFormat, typer.Option("--format", case_sensitive=False, help="ics: calendar of every exact date; html: the printable Fremdriftsplan; csv: the milestones for a spreadsheet")],  # noqa: A002
    party: Annotated[str | None, typer.Option("--party", help="ics only: the calendar of this party (name or organisation number)")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write to this file instead of standard output")] = None,
) -> None:
    """Export the revision's plan in force: calendar (.ics), Fremdriftsplan (HTML, one page per part) or CSV."""
    from avtaleflyt.tasks import export

    if party is not None and format != ExportFormat.ics:
        fail("--party: only with --format ics (a party's calendar)")
    with refusals(), session_scope() as session:
        if format == ExportFormat.ics:
            text = export.plan_ics(session, slug, party)
        elif format == ExportFormat.html:
            text = export.plan_html(session, slug, today=clock.today())
        else:
            text = export.plan_csv(session, slug)
    write_output(text, output)


@plan_app.command("import")
def plan_import(
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", help="milestones: Når;Hva;Om;Ansvar[;Del], dates like 27.11.24 or nov 24")],
    into: Annotated[Path | None, typer.Option("--into", help="a plan file: print (or --output) a copy with these milestones instead of its own")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write to this file instead of standard output")] = None,
) -> None:
    """Read milestones from a spreadsheet's CSV into a plan file's `milestones:` block."""
    from avtaleflyt.models.fremdriftsplan import MilestonesInvalid, milestones_yaml, read_milestones_csv, replace_milestones

    data = read_bounded(csv_file, "CSV")
    warnings: list = []
    try:
        rows = read_milestones_csv(data, warnings)
    except MilestonesInvalid as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/] {escape(csv_file.name)}: {escape(str(problem))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if into is None:
        text = milestones_yaml(rows)
    else:
        plan_text = read_plan_file(into)
        try:
            text = replace_milestones(plan_text, rows)
        except ValueError as exc:
            fail(f"--into: {exc}")
        with refusals():
            checked = parse_plan(text)
        if [(m.date, m.what, m.about, m.responsible, m.part) for m in checked.plan.milestones] != [
            (r.date, r.what, r.about, r.responsible, r.part) for r in rows
        ]:
            fail(f"--into: the milestones of {str(into)!r} could not be replaced safely; paste the block from `plan import CSV` by hand")
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(csv_file.name)}: {escape(str(warning))}", highlight=False, soft_wrap=True)
    write_output(text, output)
    err.print(f"[green]imported[/] {len(rows)} milestones from {escape(csv_file.name)}", highlight=False)


# --- revision -------------------------------------------------------------------


@revision_app.command("start")
def revision_start(file: Annotated[Path, typer.Argument(help="the plan file (YAML)")]) -> None:
    """Store the plan and start the revision's run. A second start of the same revision is refused."""
    source = read_plan_file(file)
    with refusals():
        started = actions.start_revision(source)
    print_warnings(started.checked.warnings)
    finished = " (finished the earlier start that stored the plan but made no run)" if started.resumed_start else ""
    out.print(f"[green]started:[/] {escape(started.slug)} (run {started.flow_run_id}){finished}", highlight=False)


@revision_app.command("resume")
def revision_resume(slug: Slug) -> None:
    """Nudge the revision's run to look at the database again (after an outage)."""
    with refusals():
        outcome = actions.resume(slug)
    if outcome.error:
        fail(f"the run could not be reached: {outcome.error}")
    out.print(_NUDGE_TEXT[outcome.nudge])


@revision_app.command("list")
def revision_list(as_json: JsonOpt = False) -> None:
    """Every revision: status, open stages, progress, next deadline."""
    with session_scope() as session:
        today = clock.today()
        views = revision_views(session, today=today)
    if as_json:
        rows = [{**dataclasses.asdict(v), "next_deadline": (nxt := v.next_deadline(today)) and dataclasses.asdict(nxt)} for v in views]
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if not views:
        out.print("no revisions yet: `avtaleflyt revision start PLAN.yaml`")
        return
    table = Table("revision", "status", "open stages", "decided", "hearing", "next deadline", "overdue")
    for v in views:
        nxt = v.next_deadline(today)
        table.add_row(*cells(
            v.slug, v.status, ", ".join(v.active_stages) or "-", f"{v.decided}/{v.treating}" if v.treating else "-",
            f"{v.responded}/{v.invited}" if v.invited else "-", f"{nxt.day} {nxt.stage}" if nxt else "-", str(v.overdue or ""),
        ))
    out.print(table)


@revision_app.command("show")
def revision_show(slug: Slug, as_json: JsonOpt = False) -> None:
    """Stages, per-party states, next deadlines."""
    with refusals(), session_scope() as session:
        (view,) = revision_views(session, slug=slug, today=clock.today())
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(view), default=str, ensure_ascii=False, indent=2))
    else:
        print_view(view)


def print_view(v: RevisionView) -> None:
    out.print(f"[bold]{escape(v.title)}[/] ({escape(v.slug)}) — {escape(v.helsefellesskap)}: [bold]{escape(v.status)}[/], event {v.seq}", highlight=False)
    stages = Table("stage", "kind", "status", "after", "dates", "progress", title="Stages")
    for s in v.stages:
        status = s.status + (f" (round {s.round})" if s.round > 1 else "")
        stages.add_row(*cells(s.key, s.kind, status, ", ".join(s.after), " ".join(f"{k} {d}" for k, d in s.dates.items()), s.progress))
    out.print(stages)
    hearing_keys = [s.key for s in v.stages if s.kind == "hearing"]
    parties = Table("party", "body", *hearing_keys, "treatment", "meeting", "decided", "case", title="Parties")
    for p in v.parties:
        treatment = (p.treatment or "-") + (" (self-reported)" if p.self_reported else "")
        parties.add_row(*cells(
            p.name + ("" if p.active else " (left)"), p.body, *[p.hearings.get(k, "-") for k in hearing_keys],
            treatment, str(p.meeting or "-"), str(p.decided_on or "-"), p.case_no or "-",
        ))
    out.print(parties)
    if v.deadlines:
        deadlines = Table("date", "stage", "what", title="Deadlines")
        for d in v.deadlines[:10]:
            deadlines.add_row(*cells(d.day, d.stage), Text(d.what) + (Text(" (overdue)", style="red") if d.overdue else Text("")))
        out.print(deadlines)


# --- plan shift -----------------------------------------------------------------


@plan_app.command("shift")
def plan_shift(
    slug: Slug,
    file: Annotated[Path, typer.Argument(help="the revised plan file (YAML)")],
    reason: Annotated[str, typer.Option("--reason", help="why the plan moves, kept with the new version and told to the parties")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="apply without asking")] = False,
) -> None:
    """Apply a revised plan to a running revision: shows what moves and who is told, then asks."""
    source = read_plan_file(file)
    with refusals():
        preview = actions.preview_shift(slug, source)
    if preview.shift.empty:
        out.print(f"[dim]unchanged:[/] {escape(str(file))} gives the plan in force (v{preview.from_version}); nothing to shift")
        return
    print_shift(preview)
    print_warnings(preview.shift.warnings)
    if not yes and not typer.confirm(f"Store this as plan v{preview.to_version} and send the notices?", default=False):
        err.print("nothing changed")
        raise typer.Exit(1)
    with refusals():
        applied, outcome = actions.shift_plan(slug, source, reason=reason)
    recorded = records.Recorded(slug, True, f"plan v{applied.preview.to_version} of {slug}; {applied.enqueued} letters queued", applied.seq, applied.flow_run_id)
    report(recorded, outcome)


def _days(n: int | None) -> str:
    return "" if n is None else f"{n:+d} d"


def print_shift(preview) -> None:  # noqa: ANN001 - tasks.shift.ShiftPreview
    s = preview.shift
    out.print(f"[bold]Plan v{preview.from_version} → v{preview.to_version}[/] of {escape(preview.slug)}", highlight=False)
    if s.date_moves:
        table = Table("stage", "date", "from", "to", "moved", "why", title="Dates moved")
        for m in s.date_moves:
            table.add_row(*cells(m.stage, m.field, m.before or "-", m.after or "-", _days(m.days), f"with {m.moved_with}" if m.moved_with else "in the file"))
        out.print(table)
    for label, items in (
        ("stages added", s.stages_added), ("stages removed", s.stages_removed), ("stages changed", s.stages_changed),
        ("parties joining", [p.name for p in s.parties_joined]), ("parties leaving (their history stays)", [p.name for p in s.parties_left]),
        ("parties changed", [after.name for _, after in s.parties_changed]),
        ("milestones moved", [f"{m.what}: {m.before} → {m.after} ({_days(m.days)})" for m in s.milestones_moved]),
        ("milestones added", [f"{m.date} {m.what}" for m in s.milestones_added]),
        ("milestones removed", [f"{m.date} {m.what}" for m in s.milestones_removed]),
        ("also changed", s.other),
    ):
        if items:
            out.print(f"[bold]{label}:[/] " + escape("; ".join(items)), highlight=False)
    if preview.notices:
        out.print(f"[bold]told of a new deadline ({len(preview.notices)}):[/] " + escape(", ".join(n.party for n in preview.notices)), highlight=False)
    else:
        out.print("[dim]no party has a deadline that moved[/]")


# --- recording ------------------------------------------------------------------


@draft_app.command("complete")
def draft_complete(slug: Slug, stage: StageOpt = None, note: Annotated[str | None, typer.Option(help="what was done")] = None) -> None:
    """Close a draft stage."""
    do_record(records.complete_draft, slug, stage_key=stage, note=note)


@forum_app.command("decide")
def forum_decide(
    slug: Slug,
    forum: Annotated[str, typer.Option("--forum", help="forum key, e.g. ASU")],
    outcome: Annotated[ForumOutcome, typer.Option("--outcome", case_sensitive=False)],
    date: Annotated[str, typer.Option("--date", help="meeting date: YYYY-MM-DD or DD.MM.YYYY")],
    case: CaseOpt = None,
    stage: StageOpt = None,
) -> None:
    """Record a forum's decision."""
    do_record(records.record_forum_decision, slug, forum=forum, outcome=outcome, on=day(date, "--date"), today=clock.today(), case_no=case, stage_key=stage)


@hearing_app.command("respond")
def hearing_respond(
    slug: Slug,
    party: PartyOpt,
    date: Annotated[str, typer.Option("--date", help="date of the response")],
    stage: StageOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="a summary of the response")] = None,
) -> None:
    """Record a party's hearing response (innspill)."""
    do_record(records.record_hearing_response, slug, party=party, on=day(date, "--date"), today=clock.today(), stage_key=stage, note=note)


@hearing_app.command("close")
def hearing_close(slug: Slug, stage: StageOpt = None, reason: Annotated[str | None, typer.Option(help="why it closes now")] = None) -> None:
    """Close a hearing now (the deadline sweep closes it when its deadline passes)."""
    do_record(records.close_hearing, slug, stage_key=stage, reason=reason or f"stengt av sekretariatet {clock.today()}")


@party_app.command("schedule")
def party_schedule(slug: Slug, party: PartyOpt, meeting: Annotated[str, typer.Option("--meeting", help="the council's or board's meeting date")]) -> None:
    """Record the date of a party's council or board meeting."""
    do_record(records.schedule_party, slug, party=party, meeting=day(meeting, "--meeting"))


@party_app.command("decide")
def party_decide(
    slug: Slug,
    party: PartyOpt,
    outcome: Annotated[PartyOutcome, typer.Option("--outcome", case_sensitive=False)],
    date: Annotated[str, typer.Option("--date", help="date of the decision")],
    case: CaseOpt = None,
) -> None:
    """Record a party's decision. A rejection does not stop the others."""
    do_record(records.record_party_decision, slug, party=party, outcome=outcome, on=day(date, "--date"), today=clock.today(), case_no=case)


# --- the sweep -------------------------------------------------------------------


@reminders_app.command("run")
def reminders_run(
    as_of: Annotated[str | None, typer.Option("--as-of", help="the day to sweep as (default: today in Europe/Oslo)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what is due; write and send nothing")] = False,
) -> None:
    """Enqueue the reminders and notices due, close hearings past their deadline, send the outbox."""
    from avtaleflyt.tasks.sweep import run_sweep

    day_ = day(as_of, "--as-of") if as_of else clock.today()
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


# --- mail ----------------------------------------------------------------------------


@mail_app.command("preview")
def mail_preview(
    event: Annotated[EmailEvent, typer.Argument(help="which letter")],
    lang: Annotated[Language, typer.Option("--lang", help="nb (bokmål) or nn (nynorsk)")] = Language.nb,
    html: Annotated[bool, typer.Option("--html", help="print the HTML version")] = False,
) -> None:
    """Render a letter with example data."""
    from avtaleflyt.tasks.letters import preview

    rendered = preview(event, lang)
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if html else rendered.text)


@mail_app.command("outbox")
def mail_outbox(
    slug: Annotated[str | None, typer.Argument(help="only this revision")] = None,
    status: Annotated[OutboxStatus | None, typer.Option("--status", help="only pending, sent or failed")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
) -> None:
    """The email log: what was sent to whom, what waits, what failed and why."""
    from sqlmodel import select

    from avtaleflyt.models.tables import OutboxMessage, Revision

    with refusals(), session_scope() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if slug:
            revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
            if revision is None:
                raise DomainError(f"SLUG: no revision {slug!r}")
            query = query.where(OutboxMessage.revision_id == revision.id)
        if status:
            query = query.where(OutboxMessage.status == status)
        rows = session.exec(query).all()
    table = Table("created", "status", "event", "to", "subject", "answer / error")
    for m in rows:
        colour = {"failed": "red", "pending": "yellow"}.get(m.status.value, "green")
        table.add_row(f"{m.created_at:%Y-%m-%d %H:%M}", f"[{colour}]{m.status.value}[/]", *cells(m.event.value, m.to_address, m.subject, m.last_error or m.smtp_response or ""))
    out.print(table)


# --- users ---------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="login name, one word")],
    name: Annotated[str, typer.Option("--name", help="full name, shown on the dashboard")] = "",
    role: Annotated[Role, typer.Option("--role", help="coordinator (records) or reader (reads)")] = Role.reader,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")] = False,
) -> None:
    """Add a dashboard account (the password is asked for, never given on the command line)."""
    from avtaleflyt.tasks.accounts import add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with refusals(), session_scope() as session:
        user = add_user(session, username, name, role, password)
    out.print(f"[green]added:[/] {escape(user.username)} ({user.role.value})", highlight=False)


def _set_active(username: str, active: bool) -> None:
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import set_active

    with refusals(), session_scope() as session:
        user, ended = set_active(session, username, active, actor=get_settings().actor, now=dt.datetime.now(dt.timezone.utc))
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
    role: Annotated[Role, typer.Option("--role", help="coordinator (records) or reader (reads)")],
) -> None:
    """Give an account another role; a session under way has it from its next request."""
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.accounts import set_role

    with refusals(), session_scope() as session:
        user, before = set_role(session, username, role, actor=get_settings().actor)
    change = f"{before.value} → {role.value}" if before != role else f"already {role.value}"
    out.print(f"[green]role:[/] {escape(user.username)} ({change})", highlight=False)


# --- database ------------------------------------------------------------------------

db_app = typer.Typer(help="The domain database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the domain database (AVTALEFLYT_DATABASE_URL) to the newest schema; does nothing when it is there."""
    from sqlalchemy.engine import make_url

    from avtaleflyt.db import migrate
    from avtaleflyt.settings import get_settings

    url = get_settings().domain_database_url
    try:
        migrate(url)
    except Exception as exc:  # noqa: BLE001 - unreachable server, wrong password: say so, exit 2
        fail(f"AVTALEFLYT_DATABASE_URL: could not migrate {make_url(url).render_as_string(hide_password=True)}: {exc.__class__.__name__}: {exc}")
    out.print(f"[green]migrated:[/] {escape(make_url(url).render_as_string(hide_password=True))}", highlight=False)


def main() -> None:  # pragma: no cover - the console script
    try:
        app()
    except OperationalError as exc:  # commands that only read, outside `refusals()`
        try:
            database_unreachable(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
