"""`avtaleflyt document add|list`: a revision's document versions (files or web addresses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import JsonOpt, Slug, day, escape, out, refusals, say

document_app = typer.Typer(help="Document versions: a file or a web address, with a label and a date.", no_args_is_help=True)

SignificantOpt = Annotated[
    bool | None,
    typer.Option(
        "--significant/--not-significant",
        help="required once the document's hearing has closed: does this version change it so the parties should be heard again?",
        show_default=False,
    ),
]


@document_app.command("add")
def add(
    slug: Slug,
    key: Annotated[str, typer.Argument(help="the document's key in the plan, e.g. overordnet")],
    source: Annotated[str, typer.Argument(metavar="FILE|URL", help="a file to store, or an http(s) address")],
    label: Annotated[str, typer.Option("--label", help="what this version is, e.g. 'Utkast etter høringen'")],
    date: Annotated[str | None, typer.Option("--date", help="the version's date: YYYY-MM-DD or DD.MM.YYYY (default: today)")] = None,
    significant: SignificantOpt = None,
    public: Annotated[bool, typer.Option("--public", help="show and serve this version on the revision's public page (/offentlig/SLUG; the plan must say public: true)")] = False,
) -> None:
    """Add the next version of a document. Files over AVTALEFLYT_MAX_UPLOAD_BYTES are refused before anything is stored."""
    from avtaleflyt import clock
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks import documents, files

    settings = get_settings()
    on = day(date, "--date") if date else None
    with refusals():
        upload, url = None, None
        if source.startswith(("http://", "https://")):
            url = source
        else:
            name, content = files.read_path(Path(source), settings.max_upload_bytes)
            upload = documents.Upload(name, content)
        with session_scope() as session:
            recorded = documents.add_version(
                session, slug, key, label=label, on=on, today=clock.today(), actor=settings.actor, max_bytes=settings.max_upload_bytes,
                upload=upload, url=url, significant=significant, public=public,
            )
    say("added:", "green", recorded.message)


@document_app.command("list")
def list_versions(slug: Slug, as_json: JsonOpt = False) -> None:
    """Every document's versions: label, date, SHA-256 (short), size, and the decisions that approved each."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks import documents

    with refusals(), session_scope() as session:
        rows = documents.listing(session, slug)
    if as_json:
        import json

        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for r in rows:
        out.print(f"[bold]{escape(r['key'])}[/] {escape(r['title'])}" + ("" if r["versions"] else " [dim](no version yet)[/]"), highlight=False)
        for v in r["versions"]:
            what = f"{v['file_name']} ({v['size']:,} bytes, sha256 {v['sha256'][:12]})" if v["sha256"] else v["url"]
            line = f"  v{v['number']} {v['date']} {v['label']}: {what}" + (" [significant change]" if v["significant"] else "") + (" [public]" if v["public"] else "")
            approved = "; ".join(f"{a['who']} ({a['stage']}, {a['on']})" for a in v["approved_by"])
            out.print(escape(line + (f"; approved by {approved}" if approved else "")), highlight=False)
        if r["changed_since_hearing"]:
            out.print(f"  [yellow]changed since its hearing {escape(', '.join(r['changed_since_hearing']))}: "
                      f"`avtaleflyt hearing reopen {escape(slug)} --stage KEY --deadline DATE` hears it again[/]", highlight=False)
