"""What the dashboard shows, as pydantic models (the same data for the HTML pages and
/api/), and the Norwegian words it shows them in.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from avtaleflyt.tasks.status import Deadline, Progress

# --------------------------------------------------------------------------- Norwegian labels

MONTHS_NB = ["jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."]
STAGE_STATUS_NB = {"pending": "venter", "active": "pågår", "done": "ferdig"}
STAGE_KIND_NB = {
    "draft": "utkast",
    "hearing": "høring",
    "forum_approval": "behandling i utvalg",
    "political_treatment": "politisk behandling",
}
REVISION_STATUS_NB = {"active": "pågår", "completed": "fullført"}
TREATMENT_NB = {
    "sent": "sendt",
    "scheduled": "møte berammet",
    "approved": "godkjent",  # the words of the forms and the letters
    "approved_with_reservations": "godkjent med merknader",
    "rejected": "ikke godkjent",
}
HEARING_NB = {"invited": "invitert", "responded": "svart"}
DATE_NAME_NB = {"opens": "åpner", "due": "frist", "meeting": "møte", "deadline": "frist"}
_DATE_NAME_WHAT_NB = {"due": "frist", "meeting": "møte", "deadline": "frist"}
EMAIL_STATUS_NB = {"pending": "i kø", "sent": "sendt", "failed": "feilet"}
EMAIL_EVENT_NB = {
    "hearing_invitation": "høringsinvitasjon",
    "hearing_reminder": "høringspåminnelse",
    "hearing_deadline_passed": "høringsfrist passert",
    "forum_meeting_notice": "møteinnkalling",
    "decision_request": "anmodning om vedtak",
    "decision_reminder": "påminnelse om vedtak",
    "overdue_notice": "varsel om forsinkelse",
    "decision_receipt": "kvittering for vedtak",
    "stage_completed": "trinn fullført",
    "revision_completed": "revisjon fullført",
    "weekly_digest": "ukesammendrag",
    "deadline_moved": "ny frist",
}
DATE_FIELD_NB = {"opens": "åpner", "due": "frist", "meeting": "møte", "deadline": "frist"}


def month_label(year: int, month: int) -> str:
    return f"{MONTHS_NB[month - 1]} {year}"


def day_label(day: dt.date) -> str:
    return f"{day.day}. {MONTHS_NB[day.month - 1]} {day.year}"


def _progress_nb(kind: str, p: Progress) -> str:
    """The same facts as `tasks.status.describe`, in bokmål."""
    if p.waits_for:
        return f"venter på {', '.join(p.waits_for)}"
    match kind:
        case "forum_approval":
            parts = [f"{p.done}/{p.of} godkjent" + (f" ({', '.join(p.approved)})" if p.approved else "")]
            parts += [f"sendt tilbake: {', '.join(p.returned)}"] if p.returned else []
            parts += [f"utsatt: {', '.join(p.postponed)}"] if p.postponed else []
            return "; ".join(parts)
        case "hearing":
            return f"{p.done}/{p.of} svar" + (f"; {p.note}" if p.note else "")
        case "political_treatment":
            return f"{p.done}/{p.of} vedtatt"
        case "draft":
            return "ferdig" if p.note else "pågår"  # who finished it is in the audit log
    return ""


def _what_nb(deadline: Deadline) -> str:
    return f"{STAGE_KIND_NB.get(deadline.kind, deadline.kind)}: {_DATE_NAME_WHAT_NB[deadline.date_name]}"


# --------------------------------------------------------------------------- models


class DeadlineOut(BaseModel):
    day: dt.date
    stage: str
    what: str = Field(description="in Norwegian, e.g. 'høring: frist'")
    overdue: bool


class RevisionSummary(BaseModel):
    slug: str
    title: str
    helsefellesskap: str
    status: Literal["active", "completed"]
    status_label: str
    open_stages: list[str]
    parties: int = Field(description="active parties")
    decided: int = Field(description="parties whose council/board has decided")
    treating: int = Field(description="parties in political treatment (0 before it starts)")
    responded: int = Field(description="hearing responses received")
    invited: int = Field(description="hearing invitations sent")
    next_deadline: DeadlineOut | None
    overdue: int = Field(description="deadlines of active stages that have passed")
    url: str


class RevisionPage(BaseModel):
    items: list[RevisionSummary]
    page: int
    per_page: int
    total: int
    pages: int


class StageOut(BaseModel):
    key: str
    title: str | None
    kind: str
    kind_label: str
    status: Literal["pending", "active", "done"]
    status_label: str
    round: int
    after: list[str]
    forums: list[str]
    dates: dict[str, str]
    progress: str
    level: int = Field(description="dependency depth: 0 for stages that wait for nothing")
    late: bool = Field(description="active and one of its exact dates has passed")


class HearingCell(BaseModel):
    status: Literal["invited", "responded"]
    responded_on: dt.date | None = None


class PartyOut(BaseModel):
    name: str
    kind: str
    body: str
    language: str
    active: bool
    hearings: dict[str, HearingCell] = Field(description="hearing stage key → response")
    treatment: str | None
    treatment_label: str | None
    meeting: dt.date | None
    decided_on: dt.date | None
    case_no: str | None
    self_reported: bool
    joined_on: dt.date | None = Field(default=None, description="set when the party joined after the revision started")
    left_on: dt.date | None = Field(default=None, description="set when the party has left; its history stays")


class TimelineItem(BaseModel):
    date: str = Field(description="YYYY-MM-DD or YYYY-MM")
    day: int | None
    label: str
    detail: str | None = None
    source: Literal["milestone", "stage"]
    stage: str | None = None
    status: str | None = None
    late: bool = False
    past: bool = False


class TimelineCell(BaseModel):
    month: str = Field(description="YYYY-MM")
    items: list[TimelineItem] = []
    spans: list[str] = Field(default=[], description="stages running through this month (a hearing from opens to deadline)")


class TimelineRow(BaseModel):
    body: str
    cells: list[TimelineCell]


class TimelineMonth(BaseModel):
    key: str
    label: str
    current: bool


class Timeline(BaseModel):
    today: dt.date
    months: list[TimelineMonth]
    rows: list[TimelineRow]
    today_in_span: bool


class EmailOut(BaseModel):
    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str
    status_label: str
    event: str
    event_label: str
    stage: str | None
    to_name: str
    to_address: str
    subject: str
    error: str | None
    attempts: int


class PlanVersionOut(BaseModel):
    version: int
    created_by: str
    created_at: dt.datetime
    reason: str | None
    changes: int = Field(description="how many differences from the version before")


class PlanDateOut(BaseModel):
    """A date of the plan: as in the baseline (version 1), as now, and how far it slipped."""

    what: str
    stage: str | None = Field(description="the stage's key; None for a milestone")
    field: str | None = Field(description="opens | due | meeting | deadline; None for a milestone")
    field_label: str
    baseline: str | None
    current: str | None
    slipped_days: int | None = Field(description="current minus baseline in days; positive is later")


class RevisionDetail(RevisionSummary):
    seq: int
    flow_run_id: str | None
    prefect_run_url: str | None
    stages: list[StageOut]
    parties_detail: list[PartyOut]
    hearing_stages: list[str]
    upcoming: list[DeadlineOut]
    overdue_items: list[DeadlineOut]
    behind_plan: list[DeadlineOut] = Field(description="passed dates of stages that have not started yet")
    timeline: Timeline
    plan_versions: list[PlanVersionOut]
    plan_dates: list[PlanDateOut] = Field(description="every stage date, then the milestones that moved since the baseline")
    emails: list[EmailOut]
    emails_truncated: bool

