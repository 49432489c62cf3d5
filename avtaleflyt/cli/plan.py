"""`avtaleflyt plan …`: check a plan file, export a revision's plan, import milestones, shift a running plan."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import (
    Slug,
    cells,
    collector_paused,
    err,
    escape,
    fail,
    nothing_left_to_collect,
    out,
    print_warnings,
    read_bounded,
    read_plan_file,
    refusals,
    report,
    say,
    talks_to_prefect,
    template_dir,
    today,
    without_pydantic_plugins,
    write_output,
)
from avtaleflyt.models.dates import MAX_YEAR, MIN_YEAR

plan_app = typer.Typer(help="Plan files: check them; shift a running revision's plan or choose one of its alternatives; export it (calendar, Fremdriftsplan, CSV); import milestones from a spreadsheet.", no_args_is_help=True)


@plan_app.command("check")
def plan_check(
    file: Annotated[Path, typer.Argument(help="the plan file (YAML)")],
    against: Annotated[str | None, typer.Option("--against", metavar="SLUG", help="check the file as a shift of this running revision, as `plan shift` would (reads the database)")] = None,
) -> None:
    """Validate a plan file; every error with its place in the file."""
    source = read_plan_file(file)
    if against is not None:
        _check_against(source, against)
        _check_templates()
        return
    try:
        with refusals(), without_pydantic_plugins(), collector_paused():
            from avtaleflyt.models.plan import parse_plan

            checked = parse_plan(source)
        print_warnings(checked.warnings)
        plan = checked.plan
        say("ok:", "green", f"{plan.revision_slug}: {len(plan.stages)} stages, {len(plan.parties)} parties, {len(plan.forums)} forums, {len(plan.milestones)} milestones")
    finally:
        nothing_left_to_collect()
    _check_templates()


def _check_templates() -> None:
    """The installation's own letter templates (AVTALEFLYT_TEMPLATE_DIR), when it has any: exit 2 on an error."""
    if (folder := template_dir()) is None:
        return
    from avtaleflyt.cli.mail import check_template_overrides

    if not check_template_overrides(folder):
        raise typer.Exit(2)
    say("ok:", "green", f"the templates of {folder} render every letter they take part in")


def _check_against(source: str, slug: str) -> None:
    """The file as `plan shift SLUG FILE` would take it: the same moves, problems and warnings; nothing written."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.shift import preview_shift

    with refusals(), session_scope() as session:
        preview = preview_shift(session, slug, source)
    print_warnings(preview.shift.warnings)
    plan, moves = preview.shift.effective, len(preview.shift.date_moves)
    if preview.shift.empty:
        say("ok:", "green", f"{slug}: the file gives the plan in force (v{preview.from_version}); nothing to shift")
        return
    say("ok:", "green", f"{slug}: a shift to plan v{preview.to_version} ({moves} dates moved); {len(plan.stages)} stages, {len(plan.parties)} parties, {len(plan.milestones)} milestones")


class ExportFormat(str, Enum):
    ics = "ics"
    html = "html"
    csv = "csv"


@plan_app.command("export")
def plan_export(
    slug: Slug,
    format: Annotated[ExportFormat, typer.Option("--format", case_sensitive=False, metavar="FORMAT", help="ics: calendar of every exact date; html: the printable Fremdriftsplan; csv: the milestones for a spreadsheet")],
    party: Annotated[str | None, typer.Option("--party", help="ics only: the calendar of this party (name or organisation number)")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write to this file instead of standard output")] = None,
) -> None:
    """Export the revision's plan in force: calendar (.ics), Fremdriftsplan (HTML, one page per part) or CSV."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks import export

    if party is not None and format != ExportFormat.ics:
        fail("--party: only with --format ics (a party's calendar)")
    with refusals(), session_scope() as session:
        if format == ExportFormat.ics:
            text = export.plan_ics(session, slug, party)
        elif format == ExportFormat.html:
            text = export.plan_html(session, slug, today=today())
        else:
            text = export.plan_csv(session, slug)
    write_output(text, output)


@plan_app.command("import")
def plan_import(
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", help="milestones: Når;Hva;Om;Ansvar[;Del], dates like 27.11.24, nov 24, 20.06–10.09, Aug./sept., 27. juni, 10.09?, xx.12.24, XX.XX.XX")],
    into: Annotated[Path | None, typer.Option("--into", help="a plan file: print (or --output) a copy with these milestones instead of its own; a date without a year takes the year nearest the plan's dates")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write to this file instead of standard output")] = None,
    year: Annotated[int | None, typer.Option("--year", min=MIN_YEAR, max=MAX_YEAR, help="the year of every date written without one (27. juni, Nov./des.); before --into's")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="all or nothing: any row that does not read and nothing is written")] = False,
) -> None:
    """Read milestones from a spreadsheet's CSV into a plan file's `milestones:` block.

    Every row that reads is imported; the others are reported with their row number and reason (exit 0 if any row was imported, else 2).
    """
    from avtaleflyt.models.fremdriftsplan import (
        MilestonesInvalid,
        milestones_yaml,
        read_milestones,
        replace_milestones,
    )
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.models.written_dates import Years, plan_days

    data = read_bounded(csv_file, "CSV")
    plan_text = read_plan_file(into) if into is not None else None
    years = Years(year=year)
    if year is None and plan_text is not None:
        with refusals():
            years = Years(near=plan_days(parse_plan(plan_text).plan))
    warnings: list = []
    try:
        read = read_milestones(data, warnings, years)
    except MilestonesInvalid as exc:  # the file as a whole: not UTF-8, too large, its header
        _print_problems(csv_file, exc.problems, "error")
        raise typer.Exit(2) from None
    rows, problems = read.rows, read.problems
    if problems and (strict or not rows):
        _print_problems(csv_file, problems, "error")
        err.print(f"nothing imported: {len(problems)} of {len(problems) + len(rows)} rows do not read", highlight=False)
        raise typer.Exit(2)
    if plan_text is None:
        text = milestones_yaml(rows)
    else:
        try:
            text = replace_milestones(plan_text, rows)
        except ValueError as exc:
            fail(f"--into: {exc}")
        with refusals():
            checked = parse_plan(text)
        if [(m.date, m.written, m.what, m.about, m.responsible, m.part) for m in checked.plan.milestones] != [
            (r.date, r.written, r.what, r.about, r.responsible, r.part) for r in rows
        ]:
            fail(f"--into: the milestones of {str(into)!r} could not be replaced safely; paste the block from `plan import CSV` by hand")
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(csv_file.name)}: {escape(str(warning))}", highlight=False, soft_wrap=True)
    _print_problems(csv_file, problems, "left out")
    write_output(text, output)
    left_out = f"; {len(problems)} rows left out (above; --strict imports nothing then)" if problems else ""
    err.print(f"[green]imported[/] {len(rows)} milestones from {escape(csv_file.name)}{left_out}", highlight=False)


def _print_problems(csv_file: Path, problems: list, label: str) -> None:
    colour = "red" if label == "error" else "yellow"
    for problem in problems:
        err.print(f"[{colour}]{label}:[/] {escape(csv_file.name)}: {escape(str(problem))}", highlight=False, soft_wrap=True)


@plan_app.command("shift")
@talks_to_prefect
def plan_shift(
    slug: Slug,
    file: Annotated[Path, typer.Argument(help="the revised plan file (YAML)")],
    reason: Annotated[str, typer.Option("--reason", help="why the plan moves, kept with the new version and told to the parties")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="apply without asking")] = False,
) -> None:
    """Apply a revised plan to a running revision: shows what moves and who is told, then asks."""
    from avtaleflyt import actions

    source = read_plan_file(file)
    with refusals():
        preview = actions.preview_shift(slug, source)
    if preview.shift.empty:
        out.print(f"[dim]unchanged:[/] {escape(str(file))} gives the plan in force (v{preview.from_version}); nothing to shift")
        return
    _confirm_and_apply(
        slug, preview, f"Store this as plan v{preview.to_version} and send the notices?", lambda: actions.shift_plan(slug, source, reason=reason), yes=yes
    )


@plan_app.command("choose")
@talks_to_prefect
def plan_choose(
    slug: Slug,
    alternative: Annotated[str, typer.Argument(metavar="ALT", help="the key of one of the plan's alternatives (alternatives: in the plan file)")],
    reason: Annotated[str, typer.Option("--reason", help="why this alternative, kept with the new version and told to the parties")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="apply without asking")] = False,
) -> None:
    """Choose one of the plan's alternatives: its dates applied as `plan shift` applies a file (what moves, who is told, then asks)."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks import alternatives

    with refusals(), session_scope() as session:
        preview = alternatives.preview_choice(session, slug, alternative)
    _confirm_and_apply(
        slug, preview, f"Choose {alternative}: store this as plan v{preview.to_version} and send the notices?",
        lambda: alternatives.choose(slug, alternative, reason=reason), yes=yes, what=f" ({alternative} chosen)",
    )


def _confirm_and_apply(slug: str, preview, question: str, apply: Callable[[], tuple], *, yes: bool, what: str = "") -> None:
    """`plan shift` and `plan choose` alike: show what moves, ask (unless --yes), apply, report."""
    from avtaleflyt.tasks import records

    print_shift(preview)
    print_warnings(preview.shift.warnings)
    if not yes and not typer.confirm(question, default=False):
        err.print("nothing changed")
        raise typer.Exit(1)
    with refusals():
        applied, outcome = apply()
    message = f"plan v{applied.preview.to_version} of {slug}{what}; {applied.enqueued} letters queued"
    report(records.Recorded(slug, True, message, applied.seq, applied.flow_run_id), outcome)


def _days(n: int | None) -> str:
    return "" if n is None else f"{n:+d} d"


def print_shift(preview) -> None:
    from rich.table import Table

    s = preview.shift
    out.print(f"[bold]Plan v{preview.from_version} → v{preview.to_version}[/] of {escape(preview.slug)}", highlight=False)
    if s.date_moves:
        table = Table("stage", "date", "from", "to", "moved", "why", title="Dates moved")
        for m in s.date_moves:
            table.add_row(*cells(m.stage, m.field + (f" ({m.forum})" if m.forum else ""), m.before or "-", m.after or "-", _days(m.days), f"with {m.moved_with}" if m.moved_with else "in the file"))
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
    if preview.forum_notices:
        told = ", ".join(n.forum for n in preview.forum_notices)
        out.print(f"[bold]forums told of a moved meeting ({len(preview.forum_notices)}):[/] " + escape(told), highlight=False)


@plan_app.command("rebase")
def plan_rebase(
    file: Annotated[Path, typer.Argument(help="the plan file (YAML), e.g. last cycle's")],
    start: Annotated[str, typer.Option("--start", metavar="DATE", help="the day the earliest stage date moves to: YYYY-MM-DD or DD.MM.YYYY")],
    output: Annotated[Path, typer.Option("--output", metavar="NEW", help="the new plan file; refused if it exists, unless --force")],
    force: Annotated[bool, typer.Option("--force", help="overwrite NEW if it exists")] = False,
) -> None:
    """Move every date of a plan by the same number of days, so that the earliest stage date is DATE; the text stays as it was."""
    from avtaleflyt.models.dates import parse_day
    from avtaleflyt.models.rebase import rebase

    source = read_plan_file(file)
    try:
        day = parse_day(start)
    except ValueError as exc:
        fail(f"--start: {exc}")
    if output.exists() and not force:
        fail(f"--output: {str(output)!r} exists; choose another name or add --force")
    with refusals():
        rebased = rebase(source, day)
    write_output(rebased.text, output)
    print_warnings(rebased.checked.warnings)
    plan = rebased.checked.plan
    say("ok:", "green", f"{plan.revision_slug}: {rebased.moved} dates moved {_days(rebased.days)} ({rebased.earliest} → {day}); {len(plan.stages)} stages, {len(plan.milestones)} milestones")
