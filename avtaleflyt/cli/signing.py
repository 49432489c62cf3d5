"""`avtaleflyt signing …`: a party's signature on the agreement (it is in force for the party from that day)."""

from __future__ import annotations

from typing import Annotated

import typer

from avtaleflyt.cli.common import PartyOpt, Slug, StageOpt, talks_to_prefect
from avtaleflyt.cli.recordings import CorrectOpt, do_record

signing_app = typer.Typer(help="Signatures: each party that approved the agreement signs it.", no_args_is_help=True)


@signing_app.command("record")
@talks_to_prefect
def signing_record(
    slug: Slug,
    party: PartyOpt,
    date: Annotated[str, typer.Option("--date", help="the signing date: YYYY-MM-DD or DD.MM.YYYY")],
    signer: Annotated[str, typer.Option("--signer", help="who signed for the party (name)")],
    title: Annotated[str | None, typer.Option("--title", help="the signer's title, e.g. ordfører")] = None,
    stage: StageOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="a note")] = None,
    correct: CorrectOpt = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why the recorded signature is corrected (with --correct)")] = None,
) -> None:
    """Record a party's signature. A different one than the one recorded needs --correct --reason."""
    do_record("party_signing", slug, party=party, date=date, signer=signer, signer_title=title, stage=stage, note=note, correct=correct, reason=reason)


@signing_app.command("withdraw")
@talks_to_prefect
def signing_withdraw(
    slug: Slug, party: PartyOpt, reason: Annotated[str, typer.Option("--reason", help="why: kept in the audit log")], stage: StageOpt = None,
) -> None:
    """A signature recorded by mistake: the party owes it again."""
    do_record("signing_withdraw", slug, party=party, reason=reason, stage=stage)
