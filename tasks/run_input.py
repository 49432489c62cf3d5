"""Recording input that arrived through Prefect's resume form, through the same functions as the CLI."""

from __future__ import annotations

from sqlmodel import Session

from avtaleflyt.clock import today
from avtaleflyt.models.dates import check_year
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome
from avtaleflyt.models.limits import check_recorded_text
from avtaleflyt.models.rules import DomainError

from . import records


def _need(value, name: str):  # noqa: ANN001, ANN202
    if value in (None, ""):
        raise DomainError(f"{name}: required for this action")
    return value


def record_input(session: Session, slug: str, event, actor: str) -> records.Recorded | None:  # noqa: ANN001
    """`event` is a RevisionInput; returns None for `refresh`."""
    day = event.date
    try:  # the form takes any date and any text: the same bounds as the CLI and the dashboard
        if day is not None:
            check_year(day.year, day)
        check_recorded_text({"case_no": event.case_no, "note": event.note})
    except ValueError as exc:
        raise DomainError(f"{'date' if 'year' in str(exc) else 'input'}: {exc}") from None
    match event.action:
        case "refresh":
            return None
        case "draft_complete":
            return records.complete_draft(session, slug, stage_key=event.stage, actor=actor, note=event.note)
        case "forum_decision":
            return records.record_forum_decision(
                session, slug, forum=_need(event.forum, "forum"), outcome=ForumOutcome(_need(event.outcome, "outcome")),
                on=_need(day, "date"), today=today(), case_no=event.case_no, stage_key=event.stage, actor=actor,
            )
        case "hearing_response":
            return records.record_hearing_response(
                session, slug, party=_need(event.party, "party"), on=_need(day, "date"), today=today(), stage_key=event.stage, note=event.note, actor=actor
            )
        case "hearing_close":
            return records.close_hearing(session, slug, stage_key=event.stage, reason=event.note or f"closed by {actor}", actor=actor)
        case "party_schedule":
            return records.schedule_party(session, slug, party=_need(event.party, "party"), meeting=_need(day, "date"), actor=actor)
        case "party_decision":
            return records.record_party_decision(
                session, slug, party=_need(event.party, "party"), outcome=PartyOutcome(_need(event.outcome, "outcome")),
                on=_need(day, "date"), today=today(), case_no=event.case_no, actor=actor,
            )
    raise DomainError(f"action: unknown {event.action!r}")
