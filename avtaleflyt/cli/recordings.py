"""`avtaleflyt draft|forum|hearing|party …`: what happened, recorded in one transaction, then the run nudged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avtaleflyt.cli.common import (
    CaseOpt,
    one_of,
    PartyOpt,
    Slug,
    StageOpt,
    fail,
    refusals,
    report,
    say,
    talks_to_prefect,
)
from avtaleflyt.cli.party_meetings import party_meetings
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome

draft_app = typer.Typer(help="Draft stages.", no_args_is_help=True)
forum_app = typer.Typer(help="Forum decisions (ASU, PSU, FU, ...).", no_args_is_help=True)
hearing_app = typer.Typer(help="Hearing responses and closing a hearing.", no_args_is_help=True)
party_app = typer.Typer(help="The parties' political treatment.", no_args_is_help=True)
decision_app = typer.Typer(help="Decisions recorded by mistake: withdraw a forum's or a party's decision.", no_args_is_help=True)
information_app = typer.Typer(help="Information items (til orientering): told, nobody decides.", no_args_is_help=True)

CorrectOpt = Annotated[bool, typer.Option("--correct", help="replace the decision recorded before (needs --reason); without it a different decision is refused")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="why the recorded decision is corrected (with --correct); kept in the audit log")]


# The option that gives each command field, for the English error line.
OPTIONS = {"revision": "SLUG", "stage": "--stage", "note": "--note", "party": "--party", "date": "--date", "meeting": "--meeting",
           "forum": "--forum", "outcome": "--outcome", "case_no": "--case", "reason": "--reason", "deadline": "--deadline",
           "reservations": "--reservations", "minutes_text": "--text", "minutes_file": "--file", "file": "--file"}


def do_record(action: str, slug: str, **fields: object) -> None:
    """Parse into the command (models.commands), execute it, nudge the run, and say what happened."""
    from avtaleflyt import actions
    from avtaleflyt.models.commands import parse_command
    from avtaleflyt.models.errors import DomainError, ErrorCode
    from avtaleflyt.settings import get_settings

    with refusals():
        try:
            command = parse_command({"action": action, "revision": slug, **fields})
        except DomainError as exc:
            if exc.code in (ErrorCode.required, ErrorCode.invalid_value, ErrorCode.too_long) and exc.field in OPTIONS:
                fail(OPTIONS[exc.field] + exc.message.removeprefix(str(exc.field)))
            raise
        recorded, outcome = actions.execute(command, actor=get_settings().actor, clock=actions.WALL_CLOCK)
    report(recorded, outcome)


@draft_app.command("complete")
@talks_to_prefect
def draft_complete(slug: Slug, stage: StageOpt = None, note: Annotated[str | None, typer.Option(help="what was done")] = None) -> None:
    """Close a draft stage."""
    do_record("draft_complete", slug, stage=stage, note=note)


@information_app.command("done")
@talks_to_prefect
def information_done(slug: Slug, stage: StageOpt = None, note: Annotated[str | None, typer.Option(help="what was presented, and where")] = None) -> None:
    """Mark an information item done before its date (it closes on its date by itself)."""
    do_record("information_done", slug, stage=stage, note=note)


@forum_app.command("decide")
@talks_to_prefect
def forum_decide(
    slug: Slug,
    forum: Annotated[str, typer.Option("--forum", help="forum key, e.g. ASU")],
    outcome: Annotated[ForumOutcome, typer.Option("--outcome", case_sensitive=False, metavar="OUTCOME", help=f"the forum's decision: {one_of(ForumOutcome)}")],
    date: Annotated[str, typer.Option("--date", help="meeting date: YYYY-MM-DD or DD.MM.YYYY")],
    case: CaseOpt = None,
    stage: StageOpt = None,
    correct: CorrectOpt = False,
    reason: ReasonOpt = None,
) -> None:
    """Record a forum's decision. A different decision than the one recorded needs --correct --reason."""
    do_record("forum_decision", slug, forum=forum, outcome=outcome.value, date=date, case_no=case, stage=stage, correct=correct, reason=reason)


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
    do_record("hearing_response", slug, party=party, date=date, stage=stage, note=note)


@hearing_app.command("close")
@talks_to_prefect
def hearing_close(slug: Slug, stage: StageOpt = None, reason: Annotated[str | None, typer.Option(help="why it closes now (default: who closed it, and when)")] = None) -> None:
    """Close a hearing now (the deadline sweep closes it when its deadline passes)."""
    do_record("hearing_close", slug, stage=stage, reason=reason)


@hearing_app.command("reopen")
@talks_to_prefect
def hearing_reopen(
    slug: Slug,
    stage: Annotated[str, typer.Option("--stage", help="the closed hearing to hold again")],
    deadline: Annotated[str, typer.Option("--deadline", help="the new round's deadline: YYYY-MM-DD or DD.MM.YYYY")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (default: the documents changed significantly since it closed)")] = None,
) -> None:
    """A new round of a closed hearing whose documents changed significantly (document add --significant): the parties are invited again."""
    do_record("hearing_reopen", slug, stage=stage, deadline=deadline, reason=reason)


@party_app.command("schedule")
@talks_to_prefect
def party_schedule(slug: Slug, party: PartyOpt, meeting: Annotated[str, typer.Option("--meeting", help="the council's or board's meeting date")]) -> None:
    """Record the date of a party's council or board meeting."""
    do_record("party_schedule", slug, party=party, meeting=meeting)


party_app.command("meetings")(party_meetings)


@party_app.command("decide")
@talks_to_prefect
def party_decide(
    slug: Slug,
    party: PartyOpt,
    outcome: Annotated[PartyOutcome, typer.Option("--outcome", case_sensitive=False, metavar="OUTCOME", help=f"the council's or board's decision: {one_of(PartyOutcome)}")],
    date: Annotated[str, typer.Option("--date", help="date of the decision")],
    case: CaseOpt = None,
    correct: CorrectOpt = False,
    reason: ReasonOpt = None,
    file: Annotated[Path | None, typer.Option("--file", help="the decision or its extract of minutes (særutskrift) as a file", dir_okay=False)] = None,
    text: Annotated[str | None, typer.Option("--text", help="the decision or its extract of minutes as text")] = None,
    note: Annotated[str | None, typer.Option("--note", help="the party's remarks (merknader)")] = None,
    reservations: Annotated[str | None, typer.Option("--reservations", help="a conditional approval's reservations (forbehold)")] = None,
) -> None:
    """Record a party's decision, with what it sent back. A rejection does not stop the others. A different decision than the one
    recorded needs --correct --reason; the same one again with new --file/--text/--note/--reservations adds them."""
    upload = _upload(file) if file is not None else None
    do_record("party_decision", slug, party=party, outcome=outcome.value, date=date, case_no=case, correct=correct, reason=reason,
              minutes_file=upload, minutes_text=text, note=note, reservations=reservations)
    if outcome == PartyOutcome.approved_with_reservations and not (reservations or "").strip():
        say("warning:", "yellow", "--reservations: none given with a conditional approval; add them with the same decision and --reservations", to_err=True)


def _upload(path: Path) -> object:
    """The file as a command takes it: its name checked, at most AVTALEFLYT_MAX_UPLOAD_BYTES read."""
    from avtaleflyt.models.command_fields import Upload
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks import files

    with refusals():
        name, content = files.read_path(path, get_settings().max_upload_bytes)
    return Upload(name=name, content=content)


@decision_app.command("withdraw")
@talks_to_prefect
def decision_withdraw(
    slug: Slug,
    reason: Annotated[str, typer.Option("--reason", help="why the decision is withdrawn; kept in the audit log")],
    forum: Annotated[str | None, typer.Option("--forum", help="withdraw this forum's decision, e.g. ASU")] = None,
    party: Annotated[str | None, typer.Option("--party", help="withdraw this party's decision: name (any case) or organisation number")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="with --forum: the stage key, when more than one could be meant")] = None,
) -> None:
    """Withdraw a decision recorded by mistake (--forum or --party). A party then owes its decision again."""
    if (forum is None) == (party is None):
        fail("give either --forum or --party (one of them)")
    if forum is not None:
        do_record("forum_withdraw", slug, forum=forum, stage=stage, reason=reason)
    elif stage is not None:
        fail("--stage: only with --forum (a party's political treatment is one stage)")
    else:
        do_record("party_withdraw", slug, party=party, reason=reason)
