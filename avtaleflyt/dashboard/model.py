"""What the dashboard shows, as typed pydantic models: the same data for the HTML pages and
/api/. Labels are words only to show (labels.py); nothing here is text for another module to
parse back: a plan date is a `PlanDate` (in JSON its ISO text), a day a date.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, PlainValidator, WithJsonSchema

from avtaleflyt.models.dates import PlanDate

PlanDateValue = Annotated[
    PlanDate,
    PlainValidator(PlanDate.parse_any),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "YYYY-MM-DD, or YYYY-MM for a month-only date; a milestone may also have a range A/B, a trailing ? (uncertain) or XXXX-XX-XX (not set)"}),
]

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


class ListFiltersOut(BaseModel):
    status: Literal["active", "completed"] | None = Field(default=None, description="only revisions with this status")
    helsefellesskap: str | None = Field(default=None, description="only this helsefellesskap's revisions")
    mine: bool = Field(default=False, description="only what needs the logged-in coordinator's action (a hearing to close, a decision to record, a late party, an open follow-up)")
    overdue: bool = Field(default=False, description="only revisions with an active stage whose date has passed")


class RevisionPage(BaseModel):
    items: list[RevisionSummary]
    page: int
    per_page: int
    total: int = Field(description="revisions that match the filters, on every page")
    pages: int
    filters: ListFiltersOut = Field(default_factory=ListFiltersOut)
    next: str | None = Field(default=None, description="the next page, same filters (a relative URL)")
    prev: str | None = Field(default=None, description="the previous page, same filters (a relative URL)")
    helsefellesskap_options: list[str] = Field(default_factory=list, description="every helsefellesskap, for the filter")


class ForumMeetingOut(BaseModel):
    forum: str
    name: str
    date: PlanDateValue
    time: str | None = Field(default=None, description="HH:MM or HH:MM-HH:MM, Norwegian time")
    place: str | None = None


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
    dates: dict[str, PlanDateValue] = Field(description="opens | due | meeting | deadline → the date")
    progress: str
    level: int = Field(description="dependency depth: 0 for stages that wait for nothing")
    late: bool = Field(description="active and one of its exact dates has passed")
    forum_names: list[str] = Field(default_factory=list, description="the names of `forums`, in their order")
    meetings: list[ForumMeetingOut] = Field(default_factory=list, description="a stage whose forums meet on their own days: each forum's meeting")
    still_to_decide: list[str] = Field(default_factory=list, description="a forum stage done on its quorum: the forums that have not approved; their decisions are still recorded")


class HearingCell(BaseModel):
    status: Literal["invited", "responded", "unanswered"]  # unanswered: invited, and the hearing has closed
    responded_on: dt.date | None = None


class MinutesFileOut(BaseModel):
    name: str
    size: int
    sha256: str
    url: str = Field(description="the file, for logged-in users: /revisions/{slug}/parties/{party_id}/minutes")


class PartyReturnsOut(BaseModel):
    """What the party sent back with its decision."""

    note: str | None = Field(default=None, description="its remarks (merknader)")
    reservations: str | None = Field(default=None, description="a conditional approval's reservations (forbehold)")
    minutes_text: str | None = Field(default=None, description="the decision's text or its extract of minutes (særutskrift)")
    minutes_file: MinutesFileOut | None = Field(default=None, description="...or as a file")
    reservations_missing: bool = Field(default=False, description="approved with reservations, but none recorded")


class PlannedMeetingOut(BaseModel):
    """A party's latest meeting before the political stage's deadline (models/party_meetings.py)."""

    date: dt.date | None = Field(description="None: no meeting on or before the deadline")
    body: str | None = None
    send_by: dt.date | None = Field(default=None, description="the day the case must be sent by to reach it")
    flag: Literal["none_in_time", "send_by_passed"] | None = Field(default=None, description="why the coordinators should look")
    flag_label: str | None = None


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
    returns: PartyReturnsOut | None = Field(default=None, description="what it sent back with its decision, when anything")
    planned_meeting: PlannedMeetingOut | None = Field(default=None, description="its meeting for the political stage, from its meeting plan")


class TimelineItem(BaseModel):
    date: PlanDateValue
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


class DocumentVersionOut(BaseModel):
    number: int
    label: str
    date: dt.date
    file_name: str | None = Field(description="a stored file's name; None for a web address")
    url: str = Field(description="where to open it: the web address, or the dashboard's link to the file (after login)")
    sha256: str | None
    size: int | None
    significant: bool | None = Field(description="added after its hearing closed: a significant change (True) or not (False)")
    approved_by: list[str] = Field(description="the decisions that approved this version: 'ASU 27.11.2024'")


class DocumentOut(BaseModel):
    key: str
    title: str
    versions: list[DocumentVersionOut]
    changed_since_hearing: list[str] = Field(description="closed hearings a significant later version has not been heard in")


class PlanVersionOut(BaseModel):
    version: int
    created_by: str
    created_at: dt.datetime
    reason: str | None
    changes: int = Field(description="how many differences from the version before")


class AlternativeDateOut(BaseModel):
    stage: str
    title: str
    field: str = Field(description="opens | due | meeting | deadline")
    field_label: str
    date: str = Field(description="the stage's date in this alternative")
    in_force: str | None = Field(description="the stage's date in the plan in force")


class AlternativeOut(BaseModel):
    """One of the plan's alternatives: the one chosen, or one still open to choose (shown greyed)."""

    key: str
    title: str
    chosen: bool
    open: bool = Field(description="no stage it concerns has started: `plan choose` may still choose it")
    dates: list[AlternativeDateOut]


class PlanDateOut(BaseModel):
    """A date of the plan: as in the baseline (version 1), as now, and how far it slipped."""

    what: str
    stage: str | None = Field(description="the stage's key; None for a milestone")
    field: str | None = Field(description="opens | due | meeting | deadline; None for a milestone")
    field_label: str
    baseline: PlanDateValue | None
    current: PlanDateValue | None
    slipped_days: int | None = Field(description="current minus baseline in days; positive is later")


class InForcePartyOut(BaseModel):
    party: str
    standing: Literal["in_force", "rejected", "pending"]
    standing_label: str
    since: dt.date | None = Field(description="in force from (its signing, or its approving decision without a signing stage); rejected: the decision's date")


class InForceOut(BaseModel):
    """For whom the agreement is in force (models/in_force.py)."""

    summary: str = Field(description="'i kraft for 20 av 21 parter; Kvam herad vedtok ikke avtalen'")
    count: int
    of: int
    parties: list[InForcePartyOut]


class FollowUpOut(BaseModel):
    """An item the coordinators must follow up (a party that rejected the agreement), shown until closed."""

    id: int
    reason: str
    reason_label: str
    party: str | None
    forum: str | None
    opened_on: dt.date
    open: bool
    closed_at: dt.datetime | None
    closed_by: str | None
    note: str | None
    stage: str | None = Field(default=None, description="a forum's item: the stage done on its quorum that the forum has not approved")


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
    alternatives: list[AlternativeOut] = Field(default_factory=list, description="the alternative chosen, and those not chosen while their stages have not started")
    emails: list[EmailOut]
    emails_truncated: bool
    in_force: InForceOut | None = None
    followups: list[FollowUpOut] = Field(default_factory=list, description="every follow-up item, open first")
    documents: list[DocumentOut] = Field(default_factory=list, description="the plan's documents, their versions and who approved each")
    forum_names: dict[str, str] = Field(default_factory=dict, description="each forum's name by its key")
