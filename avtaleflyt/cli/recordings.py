"""`avtaleflyt draft|forum|hearing|party …`: what happened, recorded in one transaction, then the run nudged."""

from __future__ import annotations

from typing import Annotated

import typer

from avtaleflyt.cli.common import (
    CaseOpt,
    PartyOpt,
    Slug,
    StageOpt,
    day,
    refusals,
    report,
    talks_to_prefect,
    today,
)
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome

draft_app = typer.Typer(help="Draft stages.", no_args_is_help=True)
forum_app = typer.Typer(help="Forum decisions (ASU, PSU, FU, ...).", no_args_is_help=True)
hearing_app = typer.Typer(help="Hearing responses and closing a hearing.", no_args_is_help=True)
party_app = typer.Typer(help="The parties' political treatment.", no_args_is_help=True)


def do_record(recorder: str, slug: str, **kwargs) -> None:
    """Record through `tasks.records.<recorder>`, then nudge the run, and say what happened."""
    from avtaleflyt import actions
    from avtaleflyt.tasks import records

    with refusals():
        recorded, outcome = actions.record(getattr(records, recorder), slug, **kwargs)
    report(recorded, outcome)


@draft_app.command("complete")
@talks_to_prefect
def draft_complete(slug: Slug, stage: StageOpt = None, note: Annotated[str | None, typer.Option(help="what was done")] = None) -> None:
    """Close a draft stage."""
    do_record("complete_draft", slug, stage_key=stage, note=note)


@forum_app.command("decide")
@talks_to_prefect
def forum_decide(
    slug: Slug,
    forum: Annotated[str, typer.Option("--forum", help="forum key, e.g. ASU")],
    outcome: Annotated[ForumOutcome, typer.Option("--outcome", case_sensitive=False)],
    date: Annotated[str, typer.Option("--date", help="meeting date: YYYY-MM-DD or DD.MM.YYYY")],
    case: CaseOpt = None,
    stage: StageOpt = None,
) -> None:
    """Record a forum's decision."""
    do_record("record_forum_decision", slug, forum=forum, outcome=outcome, on=day(date, "--date"), today=today(), case_no=case, stage_key=stage)


@hearing_app.command("respond")
@talks_to_prefect
def hearing_respond(
    slug: Slug,
    party: PartyOpt,
    date: Annotated[str, typer.Option("--date", help="date of the response")],
    stage: StageOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="a summary of the response")] = None,
) -> None:
    """Record a party's hearing response (innspill)."""
    do_record("record_hearing_response", slug, party=party, on=day(date, "--date"), today=today(), stage_key=stage, note=note)


@hearing_app.command("close")
@talks_to_prefect
def hearing_close(slug: Slug, stage: StageOpt = None, reason: Annotated[str | None, typer.Option(help="why it closes now")] = None) -> None:
    """Close a hearing now (the deadline sweep closes it when its deadline passes)."""
    do_record("close_hearing", slug, stage_key=stage, reason=reason or f"stengt av sekretariatet {today()}")


@party_app.command("schedule")
@talks_to_prefect
def party_schedule(slug: Slug, party: PartyOpt, meeting: Annotated[str, typer.Option("--meeting", help="the council's or board's meeting date")]) -> None:
    """Record the date of a party's council or board meeting."""
    do_record("schedule_party", slug, party=party, meeting=day(meeting, "--meeting"))


@party_app.command("decide")
@talks_to_prefect
def party_decide(
    slug: Slug,
    party: PartyOpt,
    outcome: Annotated[PartyOutcome, typer.Option("--outcome", case_sensitive=False)],
    date: Annotated[str, typer.Option("--date", help="date of the decision")],
    case: CaseOpt = None,
) -> None:
    """Record a party's decision. A rejection does not stop the others."""
    do_record("record_party_decision", slug, party=party, outcome=outcome, on=day(date, "--date"), today=today(), case_no=case)
