"""Reading the dashboard's forms: a field, a date, and which records function a
coordinator's form names with its arguments. Bad input is a DomainError naming the
field in Norwegian; the routers (routers/forms.py, routers/party_links.py) show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import HTTPException

from avtaleflyt.models.dates import parse_day
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome
from avtaleflyt.models.rules import DomainError
from avtaleflyt.tasks import records

OUTCOME_NB = {"approved": "godkjent", "approved_with_reservations": "godkjent med merknader", "rejected": "ikke godkjent"}


def field(form, name: str, label: str, *, required: bool = True) -> str | None:  # noqa: ANN001
    value = (form.get(name) or "").strip()
    if required and not value:
        raise DomainError(f"{label}: må fylles ut")
    return value or None


def day(form, name: str, label: str) -> dt.date:  # noqa: ANN001
    try:
        return parse_day(field(form, name, label))
    except ValueError as exc:
        raise DomainError(f"{label}: {exc}") from None


def recording(action: str, form, today: dt.date) -> tuple[Callable, dict]:  # noqa: ANN001
    """The records function and its arguments for one of the revision page's forms."""
    stage = field(form, "stage", "trinn", required=False)
    match action:
        case "draft-complete":
            return records.complete_draft, {"stage_key": stage}
        case "forum-decision":
            return records.record_forum_decision, {
                "forum": field(form, "forum", "utvalg"), "outcome": ForumOutcome(field(form, "outcome", "utfall")),
                "on": day(form, "date", "dato"), "today": today, "case_no": field(form, "case_no", "saksnr.", required=False), "stage_key": stage,
            }
        case "hearing-response":
            return records.record_hearing_response, {
                "party": field(form, "party", "part"), "on": day(form, "date", "dato"), "today": today,
                "stage_key": stage, "note": field(form, "note", "merknad", required=False),
            }
        case "party-schedule":
            return records.schedule_party, {"party": field(form, "party", "part"), "meeting": day(form, "meeting", "møtedato")}
        case "party-decision":
            return records.record_party_decision, {
                "party": field(form, "party", "part"), "outcome": PartyOutcome(field(form, "outcome", "utfall")),
                "on": day(form, "date", "dato"), "today": today, "case_no": field(form, "case_no", "saksnr.", required=False),
            }
    raise HTTPException(404, f"Ukjent registrering {action!r}")
