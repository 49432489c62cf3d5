"""`avtaleflyt party meetings import SLUG CSV`: a party's meeting plan (møteplan) as its secretariat types it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import Slug, read_bounded, refusals, say


class Verb(StrEnum):
    import_ = "import"


def party_meetings(
    verb: Annotated[Verb, typer.Argument(metavar="import", help="import: replace the party's meeting plan with the CSV's")],
    slug: Slug,
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", help="Dato;Organ;Frist (Date;Body;Days): one meeting a row, `;` or `,`")],
    party: Annotated[str | None, typer.Option("--party", help="the party (name or organisation number); else a Part/Party column")] = None,
    year: Annotated[int | None, typer.Option("--year", help="the year of dates written without one (13. mars)")] = None,
) -> None:
    """Import a party's council or board meetings: date, body, and the days before each meeting the case
    must be sent (default: the plan's case_deadline_days). Every row is checked; one refused row imports nothing."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.models.party_meetings import MeetingsInvalid, read_meetings_csv
    from avtaleflyt.models.written_dates import Years
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.party_meetings import import_meetings

    data = read_bounded(csv_file, "CSV")
    with refusals():
        try:
            rows = read_meetings_csv(data, Years(year=year))
            with session_scope() as session:
                message = import_meetings(session, slug, rows, party=party, actor=get_settings().actor)
        except MeetingsInvalid as exc:
            for problem in exc.problems:
                say("error:", "red", f"{csv_file.name}: {problem}", to_err=True)
            say("error:", "red", "nothing imported", to_err=True, bold=True)
            raise typer.Exit(2) from None
    say("imported:", "green", message)
