"""`avtaleflyt followup …`: what the coordinators must follow up (a party that rejected the agreement), until closed."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from avtaleflyt.cli.common import JsonOpt, Slug, cells, out, refusals, talks_to_prefect

followup_app = typer.Typer(help="Follow-up items: a party that rejected the agreement, shown until closed.", no_args_is_help=True)


@followup_app.command("list")
def followup_list(
    slug: Slug, every: Annotated[bool, typer.Option("--all", help="closed items too")] = False, as_json: JsonOpt = False,
) -> None:
    """The revision's open follow-up items (with --all: closed ones too)."""
    from rich.table import Table

    from avtaleflyt.db import session_scope
    from avtaleflyt.models import wording
    from avtaleflyt.tasks.followups import followups_of
    from avtaleflyt.tasks.in_force import in_force_by_slug

    with refusals(), session_scope() as session:
        revision, _ = in_force_by_slug(session, slug)
        items = followups_of(session, revision, open_only=not every)
        language = revision.language.value
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(i) for i in items], default=str, ensure_ascii=False, indent=2))
        return
    if not items:
        out.print("no open follow-up items" if not every else "no follow-up items")
        return
    table = Table(title="Follow-up items")
    for header in ("id", "party/forum", "reason", "opened", "status", "note"):
        table.add_column(header, overflow="fold")
    for i in items:
        status = "open" if i.open else f"closed {i.closed_at:%Y-%m-%d} by {i.closed_by}"
        reason = wording.label("followup_reason", i.reason, language) + (f" ({i.stage})" if i.stage else "")
        table.add_row(*cells(str(i.id), i.party or i.forum or "-", reason, str(i.opened_on), status, i.note or ""))
    out.print(table)


@followup_app.command("close")
@talks_to_prefect
def followup_close(
    slug: Slug,
    item: Annotated[int, typer.Argument(metavar="ID", help="the item's id (followup list)")],
    note: Annotated[str | None, typer.Option("--note", help="what was done, e.g. 'dialogmøte 12.03.2025'")] = None,
) -> None:
    """Close a follow-up item, with a note of what was done."""
    from avtaleflyt.cli.recordings import do_record

    do_record("followup_close", slug, id=item, note=note)
