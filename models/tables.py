"""The domain database: one revision's stages, parties, forums and everything recorded.

Plan dates are stored as text (`2024-11-27` or `2024-11`, see `PlanDate`);
recorded facts (a decision's date) are real dates.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from .enums import (
    EmailEvent,
    ForumOutcome,
    OutboxStatus,
    Role,
    Language,
    PartyKind,
    RevisionStatus,
    StageKind,
    StageStatus,
)


def _as_text(enum: type[StrEnum]) -> Enum:
    """VARCHAR(32), read back as the enum's members: a new member needs no migration (0007)."""
    return Enum(enum, native_enum=False, create_constraint=False, length=32, values_callable=lambda e: [m.value for m in e])


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Revision(SQLModel, table=True):
    # The list's order, alone and under its filters (migration 0022).
    __table_args__ = (
        Index("ix_revision_list", "created_at", "id"),
        Index("ix_revision_status_list", "status", "created_at", "id"),
        Index("ix_revision_helsefellesskap_list", "helsefellesskap", "created_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    title: str
    title_nn: str | None = None  # the nynorsk title; None: the title in either language
    helsefellesskap: str
    language: Language = Language.nb
    status: RevisionStatus = RevisionStatus.active
    seq: int = Field(default=0, description="event counter: raised by every recorded change")
    plan_version: int = 1
    coordinators: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    contact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # the plan's contact person; None: the first coordinator
    reference: str | None = None  # the archive reference ("vår ref.") of every letter
    reminders: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    flow_run_id: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    completed_at: dt.datetime | None = None


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("revision_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    key: str
    title: str
    title_nn: str | None = None
    version: int = Field(default=1, description="the latest version's number (DocumentVersion); 1 before any is added")


class DocumentVersion(SQLModel, table=True):
    """One version of a document: a stored file or a web address, with its label and date."""

    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    number: int
    label: str
    date: dt.date = Field(description="the version's own date (as the secretariat dates it)")
    file_id: int | None = Field(default=None, foreign_key="storedfile.id")
    file_name: str | None = None
    url: str | None = None
    sha256: str | None = Field(default=None, max_length=64, description="of the file; None for a web address")
    size: int | None = None
    significant: bool | None = Field(default=None, description="after its hearing closed: a change that needs a new hearing round?")
    public: bool = Field(default=False, description="shown and served on the public page (`document add --public`; migration 0024)")
    added_by: str
    added_at: dt.datetime = Field(default_factory=utcnow)


class StoredFile(SQLModel, table=True):
    """An uploaded file's bytes, once per content (tasks/files.py); what refers to it keeps its name."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True, index=True, max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class Party(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("revision_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    name: str
    kind: PartyKind
    org_number: str
    email: str
    body: str
    language: Language
    active: bool = Field(default=True, description="false once the party has left (a merger): its history stays")
    joined_on: dt.date | None = Field(default=None, description="set when the party joined after the revision started")
    left_on: dt.date | None = None
    left_reason: str | None = None


class PartyMeeting(SQLModel, table=True):
    """A meeting of the party's council or board, from the plan (`parties[].meetings`) or `party meetings import`."""

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    date: dt.date
    body: str | None = None
    case_deadline_days: int = Field(description="days before the meeting the case must be sent")
    source: str = Field(default="plan", description="plan | import")


class Forum(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("revision_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    key: str
    name: str
    email: str | None = None


class Stage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("revision_id", "key"), Index("ix_stage_status_revision", "status", "revision_id"))  # the active stages (0022)
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    position: int
    key: str
    kind: StageKind = Field(sa_type=_as_text(StageKind))
    title: str | None = None
    title_nn: str | None = None
    after: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    forums: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    required: int | None = Field(default=None, description="approvals needed; None means all named forums")
    opens: str | None = None
    due: str | None = None
    meeting: str | None = None
    meetings: dict[str, dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="a forum stage's own meetings: forum key -> {date, time, place} (migration 0015)"
    )
    deadline: str | None = None
    parties: str | list[str] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="the parties an information stage tells: 'all' or names; None: none (migration 0017)"
    )
    status: StageStatus = StageStatus.pending
    round: int = Field(default=1, description="raised each time a returned decision sends the stage back")
    closed_reason: str | None = Field(default=None, description="why a draft or hearing was closed")
    returned_to: str | None = Field(default=None, description="the draft stage a returned decision sent this stage back to")
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None


class ForumDecision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(foreign_key="stage.id", index=True)
    forum_key: str
    round: int
    outcome: ForumOutcome
    decided_on: dt.date
    case_no: str | None = None
    recorded_at: dt.datetime = Field(default_factory=utcnow)
    approved_versions: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="the document versions it decided on: [{key, number}]"
    )


class PartyObligation(SQLModel, table=True):
    """What one party owes one stage under way: a hearing response, a political decision.

    One row per stage and party, made when the stage starts (or the party joins). `kind` is
    the stage's kind; `status` is one of that kind's own statuses (models/stages/<kind>.py).
    """

    __table_args__ = (UniqueConstraint("stage_id", "party_id"), Index("ix_partyobligation_meeting_date", "meeting_date"))  # councils that have met (0022)
    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(foreign_key="stage.id", index=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    kind: str = Field(max_length=32)
    status: str = Field(max_length=32)
    answered_on: dt.date | None = Field(default=None, description="when the party responded or decided")
    meeting_date: dt.date | None = Field(default=None, description="the council or board meeting that treats it")
    case_no: str | None = None
    note: str | None = None
    self_reported: bool = False
    approved_versions: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="a party decision: the document versions it decided on"
    )
    # What a party sends back with its decision (migration 0014); its remarks (merknader) are `note`.
    reservations: str | None = Field(default=None, description="a conditional approval's reservations (forbehold)")
    minutes_text: str | None = Field(default=None, description="the decision's text or its extract of minutes (særutskrift), as text")
    minutes_file_id: int | None = Field(default=None, foreign_key="storedfile.id", description="...or as a file (its bytes)")
    minutes_file_name: str | None = Field(default=None, description="the file's name as given")
    # A signature (a signing stage, migration 0013): its date is `answered_on`.
    signer: str | None = Field(default=None, description="who signed for the party")
    signer_title: str | None = None


class FollowUp(SQLModel, table=True):
    """Something the coordinators must follow up (a party that rejected the agreement: a dialogue
    meeting, say), shown until one of them closes it (tasks/followups.py)."""

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    party_id: int | None = Field(default=None, foreign_key="party.id")
    forum_key: str | None = None
    stage_key: str | None = Field(default=None, description="a forum's item: the stage done on its quorum that it has not approved")
    reason: str = Field(max_length=32, description="models/followups.FollowUpReason")
    opened_at: dt.datetime = Field(default_factory=utcnow)
    opened_on: dt.date
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    note: str | None = None


class Milestone(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    date: str = Field(description="canonical text (PlanDate): YYYY-MM-DD, YYYY-MM, a range A/B, '?' after it if uncertain, XXXX-XX-XX not set")
    written: str | None = Field(default=None, description="the date as the secretariat wrote it (`Nov./des.`), shown instead of `date`")
    what: str
    what_nn: str | None = None
    about: str | None = None
    responsible: str | None = None
    part: str | None = None
    stage_key: str | None = Field(default=None, description="the stage it is tied to: its date is that stage's (`at`)")
    at: str | None = Field(default=None, description="start | end | meeting | deadline of `stage_key`")


class PlanVersion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("revision_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    version: int
    source: str = Field(description="the plan file's text as given")
    effective: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="the plan in force: the file with dependent dates moved"
    )
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str
    reason: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Append-only: every state change, who made it and when, from → to."""

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    seq: int
    at: dt.datetime = Field(default_factory=utcnow)
    actor: str
    action: str
    subject: str
    from_value: str | None = None
    to_value: str | None = None
    note: str | None = None


class OutboxMessage(SQLModel, table=True):
    """An email, stored (rendered) before it is sent; the sender marks it sent with the server's answer.

    `key` is unique: revision/stage/party/event/due date. Writing the same message
    twice is a no-op, so a sweep run again after a crash enqueues nothing new.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=400)
    revision_id: int | None = Field(default=None, foreign_key="revision.id", index=True)
    stage_key: str | None = None
    party_id: int | None = Field(default=None, foreign_key="party.id")
    event: EmailEvent = Field(sa_type=_as_text(EmailEvent))
    language: Language
    due: dt.date | None = Field(default=None, description="the deadline or date the message is about")
    to_name: str
    to_address: str
    reply_to: str | None = Field(default=None, description="where replies go: the revision's coordinator")
    subject: str
    body_text: str
    body_html: str
    ics: str | None = Field(default=None, description="iCalendar attachment for the deadline, if any")
    status: OutboxStatus = Field(default=OutboxStatus.pending, index=True, sa_type=_as_text(OutboxStatus))
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    claimed_by: str | None = Field(default=None, description="the sending batch that holds the row")
    claimed_until: dt.datetime | None = Field(default=None, description="the batch's lease: others skip the row until then")
    smtp_response: str | None = None
    last_error: str | None = None
    cancelled_reason: str | None = Field(default=None, description="why it was not sent: its reason had gone (status cancelled)")
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


class User(SQLModel, table=True):
    """A dashboard login. Parties need none: they report through a signed link.

    What it may see and record is its `Membership` rows, one per helsefellesskap (migration 0025).
    `role` is an installation-wide role, in every helsefellesskap there is or will be (an operator's
    own staff); None for an account that has only memberships, which every account made by
    `user add --helsefellesskap` and every account upgraded by 0025 is. `admin` manages accounts and
    sees no revision by it.
    """

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    name: str
    role: Role | None = None
    password_hash: str = Field(description="argon2id")
    active: bool = True
    admin: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """An account's role in one helsefellesskap (migration 0025): it sees that helsefellesskap's
    revisions, and records in them as a coordinator."""

    __table_args__ = (UniqueConstraint("user_id", "helsefellesskap", name="uq_membership_user_helsefellesskap"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    helsefellesskap: str = Field(index=True)
    role: Role = Field(sa_column=Column(_as_text(Role), nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class UserSession(SQLModel, table=True):
    """A dashboard login held on the server: the signed cookie carries only its key.

    Every request reads it with its user (active? which role?); logout, `user disable`
    and expiry end it.
    """

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, index=True, max_length=64, description="sha256 of the key in the cookie")
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    ended_at: dt.datetime | None = None


class AccountEvent(SQLModel, table=True):
    """Append-only: logins, refused and throttled logins, logouts, account changes.

    The revision's audit log (`AuditEntry`) belongs to one revision; these belong to none.
    """

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    action: str
    username: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, description="who changed the account (CLI), when not the user")
    note: str | None = None


class PartyLink(SQLModel, table=True):
    """A link in a party's letter to report its decision: signed, expiring, used once."""

    id: int | None = Field(default=None, primary_key=True)
    nonce: str = Field(unique=True, index=True, max_length=64)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    party_id: int = Field(foreign_key="party.id")
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = Field(default=None, description="withdrawn: the party left, decided, or got a newer link")
    revoked_because: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class DigestOptOut(SQLModel, table=True):
    """An address that wants no weekly digest (migration 0026); every other letter still goes to it."""

    address: str = Field(primary_key=True, max_length=320, description="casefolded")
    created_at: dt.datetime = Field(default_factory=utcnow)
    source: str = Field(default="cli", max_length=16, description="cli | link")
