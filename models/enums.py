"""The closed vocabularies of the domain, as the plan file and the CLI spell them."""

from enum import StrEnum


class Language(StrEnum):
    nb = "nb"  # bokmål
    nn = "nn"  # nynorsk


class PartyKind(StrEnum):
    municipality = "municipality"
    health_trust = "health_trust"


class StageKind(StrEnum):
    draft = "draft"
    hearing = "hearing"
    forum_approval = "forum_approval"
    political_treatment = "political_treatment"
    signing = "signing"
    information = "information"  # til orientering: forums and parties are told, nobody decides


class StageStatus(StrEnum):
    pending = "pending"  # waits for the stages it comes after
    active = "active"  # entry actions done, gate not yet met
    done = "done"


class RevisionStatus(StrEnum):
    active = "active"
    completed = "completed"


class ForumOutcome(StrEnum):
    approved = "approved"
    approved_with_changes = "approved_with_changes"
    returned = "returned"
    postponed = "postponed"


APPROVING_FORUM_OUTCOMES = frozenset({ForumOutcome.approved, ForumOutcome.approved_with_changes})


class HearingStatus(StrEnum):
    invited = "invited"
    responded = "responded"


class TreatmentStatus(StrEnum):
    sent = "sent"  # decision request sent, no meeting known
    scheduled = "scheduled"  # the council/board meeting date is known
    approved = "approved"
    approved_with_reservations = "approved_with_reservations"
    rejected = "rejected"


class PartyOutcome(StrEnum):
    approved = "approved"
    approved_with_reservations = "approved_with_reservations"
    rejected = "rejected"


DECIDED_TREATMENTS = frozenset(
    {TreatmentStatus.approved, TreatmentStatus.approved_with_reservations, TreatmentStatus.rejected}
)


class EmailEvent(StrEnum):
    """One email template per event and language: templates/email/<event>.<lang>.txt|html."""

    hearing_invitation = "hearing_invitation"
    hearing_reminder = "hearing_reminder"
    hearing_deadline_passed = "hearing_deadline_passed"
    forum_meeting_notice = "forum_meeting_notice"
    decision_request = "decision_request"
    decision_reminder = "decision_reminder"  # before the party's deadline
    overdue_notice = "overdue_notice"
    decision_receipt = "decision_receipt"
    stage_completed = "stage_completed"
    revision_completed = "revision_completed"
    weekly_digest = "weekly_digest"
    party_digest = "party_digest"  # a party's weekly list of what it owes, across its revisions
    deadline_moved = "deadline_moved"  # a shifted plan moved the party's deadline
    signing_request = "signing_request"  # a party that approved is asked to sign
    signing_reminder = "signing_reminder"  # before the signing deadline, and after it
    signing_receipt = "signing_receipt"
    information_notice = "information_notice"  # an information item (til orientering) with its documents


class DigestKind(StrEnum):
    """How the weekly digest lists a date."""

    hearing_deadline = "hearing_deadline"
    forum_meeting = "forum_meeting"
    decision_deadline = "decision_deadline"
    party_meeting = "party_meeting"  # a party's council/board meeting
    milestone = "milestone"
    signing_deadline = "signing_deadline"
    information = "information"  # an information item's date


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # permanent (5xx) or out of attempts; shown, never retried by itself
    cancelled = "cancelled"  # not sent: its reason had gone before it went out (`cancelled_reason` says which)


class Role(StrEnum):
    coordinator = "coordinator"  # reads and records
    reader = "reader"  # reads only
