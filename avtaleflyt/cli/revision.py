"""`avtaleflyt revision …`: start revisions, nudge their runs, see where they stand."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from avtaleflyt.cli.common import (
    NUDGE_TEXT,
    JsonOpt,
    Slug,
    cells,
    escape,
    fail,
    out,
    print_warnings,
    read_plan_file,
    refusals,
    talks_to_prefect,
    today,
)

if TYPE_CHECKING:
    from avtaleflyt.tasks.status import HearingAnswer, RevisionView

revision_app = typer.Typer(help="Start revisions and see where they stand.", no_args_is_help=True)


@revision_app.command("start")
@talks_to_prefect
def revision_start(file: Annotated[Path, typer.Argument(help="the plan file (YAML)")]) -> None:
    """Store the plan and start the revision's run. A second start of the same revision is refused."""
    from avtaleflyt import actions

    source = read_plan_file(file)
    with refusals():
        started = actions.start_revision(source)
    print_warnings(started.checked.warnings)
    finished = " (finished the earlier start that stored the plan but made no run)" if started.resumed_start else ""
    out.print(f"[green]started:[/] {escape(started.slug)} (run {started.flow_run_id}){finished}", highlight=False)


@revision_app.command("resume")
@talks_to_prefect
def revision_resume(slug: Slug) -> None:
    """Nudge the revision's run to look at the database again (after an outage)."""
    from avtaleflyt import actions

    with refusals():
        outcome = actions.resume(slug)
    if outcome.error:
        fail(f"the run could not be reached: {outcome.error}")
    out.print(NUDGE_TEXT[outcome.nudge])


def _plain(value: object) -> object:
    """A read model as JSON values; a plan date as the plan writes it (`2024-11-27`, `2024-11`)."""
    from avtaleflyt.models.dates import PlanDate

    if isinstance(value, PlanDate):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _table(*headers: str, title: str | None = None):  # noqa: ANN202 - a rich Table, imported late
    """A table whose cells fold onto the next line when narrow: a slug or a key is never cut short."""
    from rich.table import Table

    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


@revision_app.command("list")
def revision_list(as_json: JsonOpt = False) -> None:
    """Every revision: status, open stages, progress, next deadline."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.status import revision_views

    with session_scope() as session:
        day = today()
        views = revision_views(session, today=day)
    if as_json:
        rows = [{**_plain(v), "next_deadline": _plain(v.next_deadline(day))} for v in views]
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if not views:
        out.print("no revisions yet: `avtaleflyt revision start PLAN.yaml`")
        return
    table = _table("revision", "status", "open stages", "decided", "responses", "next deadline", "overdue")
    for v in views:
        nxt = v.next_deadline(day)
        table.add_row(*cells(
            v.slug, v.status, ", ".join(v.active_stages) or "-", f"{v.decided}/{v.treating}" if v.treating else "-",
            f"{v.responded}/{v.invited}" if v.invited else "-", f"{nxt.day} {nxt.stage}" if nxt else "-", str(v.overdue or ""),
        ))
    out.print(table)


@revision_app.command("show")
def revision_show(slug: Slug, as_json: JsonOpt = False) -> None:
    """Stages, per-party states, next deadlines."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.status import revision_views

    from avtaleflyt.tasks.followups import followups_of
    from avtaleflyt.tasks.in_force import in_force_by_slug

    with refusals(), session_scope() as session:
        (view,) = revision_views(session, slug=slug, today=today())
        revision, standing = in_force_by_slug(session, slug)
        summary, followups = standing.summary(revision.language.value), followups_of(session, revision, open_only=True)
    if as_json:
        in_force = {"summary": summary, "count": standing.count, "of": standing.of, "parties": _plain(list(standing.parties))}
        typer.echo(json.dumps({**_plain(view), "in_force": in_force, "followups": _plain(followups)}, default=str, ensure_ascii=False, indent=2))
    else:
        print_view(view)
        out.print(f"[bold]In force:[/] {escape(summary)}", highlight=False)
        for f in followups:
            on = f" on {f.stage}" if f.stage else ""
            out.print(f"[yellow]follow-up {f.id}:[/] {escape(f.party or f.forum or '-')} ({escape(f.reason)}{escape(on)}, opened {f.opened_on})", highlight=False)


def _hearing_cell(answer: HearingAnswer | None) -> str:
    if answer is None:
        return "-"
    return f"{answer.status} {answer.responded_on}" if answer.responded_on else answer.status


def print_view(v: RevisionView) -> None:
    out.print(f"[bold]{escape(v.title)}[/] ({escape(v.slug)}) — {escape(v.helsefellesskap)}: [bold]{escape(v.status)}[/], event {v.seq}", highlight=False)
    stages = _table("stage", "kind", "status", "after", "dates", "progress", title="Stages")
    for s in v.stages:
        status = s.status + (f" (round {s.round})" if s.round > 1 else "")
        stages.add_row(*cells(s.key, s.kind, status, ", ".join(s.after), " ".join(f"{k} {d}" for k, d in s.dates.items()), s.progress))
    out.print(stages)
    hearing_keys = v.column_stages
    parties = _table("party", "body", *hearing_keys, "treatment", "meeting", "decided", "case", title="Parties")
    for p in v.parties:
        treatment = (p.treatment or "-") + (" (self-reported)" if p.self_reported else "")
        parties.add_row(*cells(
            p.name + ("" if p.active else " (left)"), p.body, *[_hearing_cell(p.hearings.get(k)) for k in hearing_keys],
            treatment, str(p.meeting or "-"), str(p.decided_on or "-"), p.case_no or "-",
        ))
    out.print(parties)
    if v.deadlines:
        deadlines = _table("date", "stage", "what", title="Deadlines")
        for d in v.deadlines[:10]:
            deadlines.add_row(*cells(d.day, d.stage), Text(d.what) + (Text(" (overdue)", style="red") if d.overdue else Text("")))
        out.print(deadlines)
