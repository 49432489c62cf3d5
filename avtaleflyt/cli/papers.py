"""`avtaleflyt papers …`: the case papers a secretariat files, as Word (.docx) or HTML.

`papers forum SLUG --stage KEY`: a forum's case paper (saksframstilling) from a running
revision, its history in it; `papers preview PLAN --stage KEY`: the same from a plan file
alone, before any revision exists. Neither touches Prefect.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import Slug, err, escape, fail, read_plan_file, refusals
from avtaleflyt.models.enums import Language

papers_app = typer.Typer(help="Case papers: a forum's saksframstilling and a party's saksframlegg, as Word or HTML.", no_args_is_help=True)


class PaperFormat(str, Enum):
    docx = "docx"
    html = "html"


_SUFFIXES = {".docx": PaperFormat.docx, ".html": PaperFormat.html, ".htm": PaperFormat.html}

StageKeyOpt = Annotated[str, typer.Option("--stage", metavar="KEY", help="the forum stage whose case paper it is (its plan has a case: block)")]
FormatOpt = Annotated[
    PaperFormat | None,
    typer.Option("--format", case_sensitive=False, metavar="FORMAT", help="docx (Word, for the case system) or html; default: from --output's ending, else docx"),
]
LanguageOpt = Annotated[Language | None, typer.Option("--language", metavar="LANG", help="nb (bokmål) or nn (nynorsk); default: the plan's language")]
ForceOpt = Annotated[bool, typer.Option("--force", help="replace --output if it exists (a paper edited by hand is otherwise kept)")]


def paper_format(format: PaperFormat | None, output: Path | None) -> PaperFormat:
    """--format, or the one --output's ending names; a conflict between them is refused."""
    implied = _SUFFIXES.get(output.suffix.lower()) if output is not None else None
    if format is not None and implied is not None and implied != format:
        fail(f"--output: {str(output)!r} ends in {output.suffix}, but --format is {format.value}")
    return format or implied or PaperFormat.docx


def write_paper(data: bytes, output: Path, *, force: bool) -> None:
    """Writes the file whole or not at all; an existing file is kept unless `force`."""
    if output.is_dir():
        fail(f"--output: {str(output)!r} is a folder; name the file")
    try:
        if force:
            temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
            try:
                temporary.write_bytes(data)
                os.replace(temporary, output)
            finally:
                temporary.unlink(missing_ok=True)
        else:
            with output.open("xb") as file:  # refused if it exists, even if it appears meanwhile
                try:
                    file.write(data)
                except OSError:
                    output.unlink(missing_ok=True)
                    raise
    except FileExistsError:
        fail(f"--output: {str(output)!r} exists; give --force to replace it")
    except OSError as exc:
        fail(f"--output: cannot write {str(output)!r}: {exc.strerror}")
    err.print(f"[green]wrote[/] {escape(str(output))}", highlight=False)


def emit(data: bytes, fmt: PaperFormat, output: Path | None, *, force: bool, default_name: str) -> None:
    """To --output; without it, HTML to standard output and Word to `default_name` here."""
    if output is None and fmt == PaperFormat.html:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    write_paper(data, output or Path(default_name), force=force)


@papers_app.command("forum")
def papers_forum(
    slug: Slug,
    stage: StageKeyOpt,
    format: FormatOpt = None,
    output: Annotated[Path | None, typer.Option("--output", help="the file to write; default: HTML to standard output, Word to SLUG-KEY-saksframstilling.docx here")] = None,
    language: LanguageOpt = None,
    force: ForceOpt = False,
) -> None:
    """A forum's case paper (saksframstilling) from the revision: its case: block, the hearings
    (who answered and when, who did not), the forums' earlier decisions and the documents attached."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.papers import forum_case

    fmt = paper_format(format, output)
    with refusals(), session_scope() as session:
        paper = forum_case.for_revision(session, slug, stage, language.value if language else None)
    with refusals():
        data = forum_case.render(paper, fmt.value)
    emit(data, fmt, output, force=force, default_name=f"{slug}-{stage}-saksframstilling.{fmt.value}")


@papers_app.command("preview")
def papers_preview(
    plan: Annotated[Path, typer.Argument(metavar="PLAN", help="the plan file (YAML); no revision is needed")],
    stage: StageKeyOpt,
    format: FormatOpt = None,
    output: Annotated[Path | None, typer.Option("--output", help="the file to write; default: HTML to standard output, Word to KEY-saksframstilling.docx here")] = None,
    language: LanguageOpt = None,
    force: ForceOpt = False,
) -> None:
    """A forum's case paper from a plan file alone, before any revision exists (its history: none yet)."""
    from avtaleflyt.tasks.papers import forum_case

    source = read_plan_file(plan)
    fmt = paper_format(format, output)
    with refusals():
        data = forum_case.render(forum_case.preview(source, stage, language.value if language else None), fmt.value)
    emit(data, fmt, output, force=force, default_name=f"{stage}-saksframstilling.{fmt.value}")


@papers_app.command("party")
def papers_party(
    slug: Slug,
    party: Annotated[str, typer.Option("--party", metavar="NAME", help="the party: its name or organisation number")],
    format: FormatOpt = None,
    output: Annotated[Path | None, typer.Option("--output", help="the file to write; default: HTML to standard output, Word to saksframlegg-PARTY.docx here")] = None,
    force: ForceOpt = False,
) -> None:
    """A party's draft case (saksframlegg; a styresak for a health trust's board) in the party's
    language: its body, the forums' decisions with date and case number, the attachments and the
    proposed resolution (the plan's resolution template for its kind)."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.tasks.papers import party_case

    fmt = paper_format(format, output)
    with refusals(), session_scope() as session:
        case = party_case.for_party(session, slug, party)
        data, name = party_case.render(case, fmt.value), party_case.file_name(case, fmt.value)
    emit(data, fmt, output, force=force, default_name=name)
