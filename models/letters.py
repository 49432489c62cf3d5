"""What each email needs: one frozen context per EmailEvent. Pure data, no I/O.

The sweep and the reconciler build these from the database; `tasks.letters.render`
turns one into subject, text and HTML. Dates that come from the plan may be only a
month (`PlanDate` without a day); recorded facts (a decision's date) are real dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from .calendar_rules import working_day_before
from .dates import PlanDate
from .digests import PartyDigest, PartyDigestItem  # noqa: F401 - a party's digest, with its rules
from .enums import DigestKind, EmailEvent, ForumOutcome, Language, PartyKind, PartyOutcome, StageKind

When = dt.date | PlanDate


# --- references ----------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """The revision's contact person: the plan's `contact`, else its first coordinator."""

    name: str
    email: str
    title: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RevisionRef:
    title: str
    helsefellesskap: str
    slug: str
    coordinator_name: str  # the contact person: signs the letters; parties write to coordinator_email
    coordinator_email: str
    contact: Contact | None = None  # the same person with title and phone (the signature)
    reference: str | None = None  # the archive reference, "Vår ref." at the top of every letter


@dataclass(frozen=True)
class PartyRef:
    name: str
    body: str  # the deciding body: Kommunestyret, Bystyret, Styret
    email: str
    kind: PartyKind = PartyKind.municipality


@dataclass(frozen=True)
class ForumRef:
    key: str
    name: str
    email: str | None = None


@dataclass(frozen=True)
class DocumentRef:
    key: str
    title: str
    url: str | None = None  # where to read its current version: its web address, or the dashboard's link to the file
    version: int | None = None  # the current version's number (None: no version added yet)
    label: str | None = None  # the current version's label and date
    date: dt.date | None = None


@dataclass(frozen=True)
class ForumDecisionRef:
    forum_name: str
    outcome: ForumOutcome
    decided_on: dt.date
    case_no: str | None = None


@dataclass(frozen=True)
class Tally:
    """The parties' decisions in a political treatment stage."""

    parties: int  # active parties
    decided: int
    approved: int
    approved_with_reservations: int
    rejected: int


# --- to a party ----------------------------------------------------------------


@dataclass(frozen=True)
class HearingInvitation:
    revision: RevisionRef
    party: PartyRef
    stage_title: str
    documents: tuple[DocumentRef, ...]
    deadline: When
    opens: When | None = None


@dataclass(frozen=True)
class HearingReminder:
    revision: RevisionRef
    party: PartyRef
    stage_title: str
    documents: tuple[DocumentRef, ...]
    deadline: dt.date
    days_left: int


@dataclass(frozen=True)
class HearingDeadlinePassed:
    revision: RevisionRef
    party: PartyRef
    stage_title: str
    deadline: When
    responded: bool
    responded_on: dt.date | None = None
    closed_early: bool = False  # closed by hand before its deadline


@dataclass(frozen=True)
class PartyMeetingRef:
    """The party's own meeting for the case, from its meeting plan (models/party_meetings.py)."""

    date: dt.date
    body: str | None  # None: the party's deciding body
    send_by: dt.date | None  # the day the case must be sent by to reach it (None: set with `party schedule`)


@dataclass(frozen=True)
class DecisionRequest:
    revision: RevisionRef
    party: PartyRef
    documents: tuple[DocumentRef, ...]
    deadline: When
    proposed_resolution: str  # the plan's template for the party's kind, or `proposed_resolution()`
    adopted: tuple[ForumDecisionRef, ...] = ()  # the forum decisions that sent it to the parties
    report_url: str | None = None  # signed link to report the decision
    case_url: str | None = None  # the party's draft case through its link, without .docx/.html (tasks/papers/party_case.py)
    meeting: PartyMeetingRef | None = None  # its latest meeting before the deadline, from its meeting plan


@dataclass(frozen=True)
class DecisionReminder:
    revision: RevisionRef
    party: PartyRef
    deadline: dt.date
    days_left: int
    meeting_date: dt.date | None = None  # the party's council/board meeting, if known
    report_url: str | None = None


@dataclass(frozen=True)
class OverdueNotice:
    revision: RevisionRef
    party: PartyRef
    deadline: dt.date
    days_overdue: int
    meeting_date: dt.date | None = None
    report_url: str | None = None


@dataclass(frozen=True)
class DecisionReceipt:
    revision: RevisionRef
    party: PartyRef
    outcome: PartyOutcome
    decided_on: dt.date
    case_no: str | None = None


@dataclass(frozen=True)
class SigningRequest:
    revision: RevisionRef
    party: PartyRef
    documents: tuple[DocumentRef, ...]  # the agreement to sign
    deadline: When
    decided_on: dt.date | None = None  # the party's approving decision
    case_no: str | None = None


@dataclass(frozen=True)
class SigningReminder:
    revision: RevisionRef
    party: PartyRef
    documents: tuple[DocumentRef, ...]
    deadline: dt.date
    days_left: int  # negative when overdue


@dataclass(frozen=True)
class SigningReceipt:
    revision: RevisionRef
    party: PartyRef
    signed_on: dt.date  # the agreement is in force for the party from this day
    signer: str
    signer_title: str | None = None


# --- to a forum ----------------------------------------------------------------


@dataclass(frozen=True)
class ForumMeetingNotice:
    revision: RevisionRef
    forum: ForumRef
    stage_title: str
    meeting: When
    documents: tuple[DocumentRef, ...]
    case_no: str | None = None
    forum_count: int = 1  # forums treating the case
    required: int | None = None  # approvals needed when several forums treat it; None: all
    time: str | None = None  # the forum's own meeting time (HH:MM or HH:MM-HH:MM), place
    place: str | None = None


@dataclass(frozen=True)
class InformationNotice:
    """An information item (til orientering) to a forum or a party: nobody decides."""

    revision: RevisionRef
    to_name: str  # the forum's name or the party's
    stage_title: str
    date: When  # the day it is presented
    documents: tuple[DocumentRef, ...]
    forums: tuple[str, ...] = ()  # the forums it is presented to (their names)


# --- to the coordinators -------------------------------------------------------


@dataclass(frozen=True)
class StageCompleted:
    """What the stage's kind recorded: hearing responses, forum decisions or the parties' tally."""

    revision: RevisionRef
    stage_title: str
    kind: StageKind
    completed_on: dt.date
    responses: int | None = None  # hearing
    invited: int | None = None  # hearing
    forum_decisions: tuple[ForumDecisionRef, ...] = ()  # forum_approval
    tally: Tally | None = None  # political_treatment
    next_stages: tuple[str, ...] = ()  # titles of the stages that start now


@dataclass(frozen=True)
class RevisionCompleted:
    revision: RevisionRef
    completed_on: dt.date
    tally: Tally
    with_reservations: tuple[str, ...] = ()  # party names
    rejected: tuple[str, ...] = ()  # party names
    in_force: str | None = None  # for whom the agreement is in force, worded (wording.in_force_summary)
    followups: tuple[str, ...] = ()  # the parties the coordinators must follow up (they rejected it)


@dataclass(frozen=True)
class DigestItem:
    when: When
    kind: DigestKind
    what: str  # stage title or milestone text
    party: str | None = None


@dataclass(frozen=True)
class FailedMessage:
    to: str
    subject: str
    error: str | None = None


@dataclass(frozen=True)
class MeetingMissing:
    """A party with no meeting before the political stage's deadline (`meeting` None), or whose send-by day has passed."""

    party: str
    deadline: When
    meeting: dt.date | None = None
    send_by: dt.date | None = None


@dataclass(frozen=True)
class DigestRevision:
    revision: RevisionRef
    open_stages: tuple[str, ...]
    upcoming: tuple[DigestItem, ...] = ()  # within the digest's horizon
    overdue: tuple[DigestItem, ...] = ()
    failed: tuple[FailedMessage, ...] = ()
    meetings_missing: tuple[MeetingMissing, ...] = ()  # the parties' meeting plans (models/party_meetings.py)


@dataclass(frozen=True)
class WeeklyDigest:
    recipient_name: str
    as_of: dt.date
    revisions: tuple[DigestRevision, ...]
    horizon_days: int = 14
    optout_url: str | None = None  # the signed link that stops the digest to this address (tasks/digests.py)


@dataclass(frozen=True)
class MovedDeadline:
    what: str  # the stage's title
    kind: StageKind  # a party's deadline: hearing or political_treatment; a forum's meeting: forum_approval
    before: When
    after: When


@dataclass(frozen=True)
class DeadlineMoved:
    """A shifted plan moved deadlines the party has still to meet, or meetings a forum has still to hold."""

    revision: RevisionRef
    party: PartyRef | None  # None when the letter is to a forum
    moves: tuple[MovedDeadline, ...]
    reason: str | None = None  # the coordinator's why, as given to `plan shift`
    forum: ForumRef | None = None  # the forum whose meetings moved (then `party` is None)


CONTEXTS: dict[EmailEvent, type] = {
    EmailEvent.hearing_invitation: HearingInvitation,
    EmailEvent.hearing_reminder: HearingReminder,
    EmailEvent.hearing_deadline_passed: HearingDeadlinePassed,
    EmailEvent.forum_meeting_notice: ForumMeetingNotice,
    EmailEvent.decision_request: DecisionRequest,
    EmailEvent.decision_reminder: DecisionReminder,
    EmailEvent.overdue_notice: OverdueNotice,
    EmailEvent.decision_receipt: DecisionReceipt,
    EmailEvent.stage_completed: StageCompleted,
    EmailEvent.revision_completed: RevisionCompleted,
    EmailEvent.weekly_digest: WeeklyDigest,
    EmailEvent.party_digest: PartyDigest,
    EmailEvent.deadline_moved: DeadlineMoved,
    EmailEvent.signing_request: SigningRequest,
    EmailEvent.signing_reminder: SigningReminder,
    EmailEvent.signing_receipt: SigningReceipt,
    EmailEvent.information_notice: InformationNotice,
}

COORDINATOR_EVENTS = frozenset({EmailEvent.stage_completed, EmailEvent.revision_completed, EmailEvent.weekly_digest})


def proposed_resolution(
    language: Language, party: PartyRef, health_trust: str, helsefellesskap: str, adopted: tuple[ForumDecisionRef, ...] = (), title: str = ""
) -> str:
    """The built-in "forslag til vedtak" a party can put in its own case (a plan may give its own:
    models/papers/party_case.py): «Kommunestyret godkjenner revidert overordnet samarbeidsavtale med
    tilhørende retningslinjer mellom X kommune og St. Olavs hospital HF, slik vedtatt i ASU 27.11.2024
    (sak 09-2024). Kommunedirektøren gis fullmakt til å signere avtalen.» A health trust's board
    approves the agreements with the municipalities of the helsefellesskap.
    """
    from .papers import party_case as pc  # the party's draft case words it; imported here, as few letters need it

    facts = pc.Facts(
        Language(language), party.kind, party.name, party.body, health_trust, helsefellesskap, title, "", "",
        tuple(pc.Adoption(d.forum_name, d.forum_name, d.decided_on, d.case_no, d.outcome) for d in adopted),
    )
    return pc.proposed_resolution(facts)


def written_deadline(value: When) -> When:
    """A deadline as a letter writes it: one on a weekend or public holiday is written as the
    working day before (models/calendar_rules.py). The stored deadline stays as planned."""
    day = value.as_date() if isinstance(value, PlanDate) else value
    if day is None:
        return value
    written = working_day_before(day)
    return value if written == day else written


def as_written(context: object) -> object:
    """The context with every deadline the recipient must meet as written (`written_deadline`): a field
    `deadline`, and a party's moved deadlines; `days_left`/`days_overdue` count to the written day."""
    if not dataclasses.is_dataclass(context) or isinstance(context, type):
        return context
    changes: dict[str, object] = {}
    if isinstance(context, DeadlineMoved) and context.party is not None:  # a forum's moves are meetings, not deadlines
        moves = tuple(dataclasses.replace(m, before=written_deadline(m.before), after=written_deadline(m.after)) for m in context.moves)
        if moves != context.moves:
            changes["moves"] = moves
    deadline = getattr(context, "deadline", None)
    if isinstance(deadline, dt.date | PlanDate) and (written := written_deadline(deadline)) is not deadline:
        earlier = ((deadline.as_date() if isinstance(deadline, PlanDate) else deadline) - written).days
        left = getattr(context, "days_left", None)
        # A reminder sent on its planned day after the day written (3 days before Easter Monday is Good
        # Friday, after Wednesday's written deadline) names the planned deadline: never "om -2 dager".
        if not (isinstance(left, int) and left >= 0 > left - earlier):
            changes["deadline"] = written
            if isinstance(left, int):
                changes["days_left"] = left - earlier
            if isinstance(overdue := getattr(context, "days_overdue", None), int):
                changes["days_overdue"] = overdue + earlier
    return dataclasses.replace(context, **changes) if changes else context
