"""The public status page's read model (/offentlig/{slug}): only what is public by nature.

A revision is public when the plan in force says `public: true`. What it shows: the stages with
their dates and status, each party's decision (outcome, date, case number, the reservations that
are part of a conditional approval) linked to the party's public records, the forums' decisions,
and the versions of the documents the plan marks `public: true`. Never read here: e-mail
addresses, officers' names (coordinators, contact, signers, who recorded what), remarks and notes,
the decision's minutes, tokens, the outbox, other documents.

A fixed number of queries whatever the size of the revision (nine for the page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from avtaleflyt.models import wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import DECIDED_TREATMENTS
from avtaleflyt.models.plan import Plan
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import (
    AuditEntry, Document, DocumentVersion, Forum, ForumDecision, Party, PartyObligation, PlanVersion, Revision, Stage, StoredFile,
)
from avtaleflyt.models.titles import title_in
from avtaleflyt.models.written_dates import format_norwegian_date

DATE_FIELDS = ("opens", "due", "meeting", "deadline")


@dataclass(frozen=True)
class PublicStage:
    title: str
    status: str
    status_label: str
    dates: list[tuple[str, str]]  # (what, when)


@dataclass(frozen=True)
class PublicDecision:
    """A party's or a forum's decision; `outcome` None: the party has not decided yet."""

    id: str  # stable across corrections: the feed entry's id
    who: str
    stage: str
    outcome: str | None
    outcome_label: str
    decided_on: dt.date | None
    case_no: str | None
    reservations: str | None = None
    records_url: str | None = None
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True)
class PublicVersion:
    number: int
    label: str
    date: dt.date
    href: str


@dataclass(frozen=True)
class PublicDocument:
    title: str
    versions: list[PublicVersion]


@dataclass(frozen=True)
class PublicPage:
    slug: str
    title: str
    helsefellesskap: str
    language: str
    status_label: str
    updated: dt.datetime
    stages: list[PublicStage]
    party_decisions: list[PublicDecision]
    forum_decisions: list[PublicDecision]
    documents: list[PublicDocument] = field(default_factory=list)

    def words(self) -> dict[str, str]:
        return wording.words("public_page", self.language)


def public_plan(session: Session, slug: str) -> tuple[Revision, Plan] | None:
    """The revision and its plan in force, if that plan makes it public; None for an unknown slug too."""
    from avtaleflyt.tasks.shift import plan_in_force

    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        return None
    latest = session.exec(
        select(PlanVersion).where(PlanVersion.revision_id == revision.id).order_by(col(PlanVersion.version).desc()).limit(1)
    ).first()
    if latest is None:
        return None
    plan = plan_in_force(latest)
    return (revision, plan) if plan.public else None


def public_version(session: Session, slug: str, key: str, number: int) -> tuple[DocumentVersion, StoredFile | None] | None:
    """A public version (its document marked public in the plan, or itself by `document add --public`)
    with its file; None for anything else."""
    found = public_plan(session, slug)
    if found is None:
        return None
    row = session.exec(
        select(DocumentVersion).join(Document, col(Document.id) == col(DocumentVersion.document_id))
        .where(Document.revision_id == found[0].id, Document.key == key, DocumentVersion.number == number)
    ).first()
    if row is None or not (row.public or key in {d.key for d in found[1].documents if d.public}):
        return None
    return row, session.get(StoredFile, row.file_id) if row.file_id is not None else None


def _when(value: str, language: str) -> str:
    d = PlanDate.parse_any(value)
    if not d.simple:
        return format_norwegian_date(d)
    return wording.short_date(d, language) if d.exact else wording.short_month_year(d.year, d.month, language)


def _stage_title(stage: Stage, language: str) -> str:
    return title_in(language, stage.title, stage.title_nn) or wording.label("stage_kind", stage.kind, language)


def _stage(stage: Stage, language: str, forum_names: dict[str, str]) -> PublicStage:
    forums = [forum_names.get(f, f) for f in stage.forums]
    dates = [(wording.stage_date_label(stage.kind, f, language, forums), _when(v, language)) for f in DATE_FIELDS if (v := getattr(stage, f))]
    for key, meeting in sorted((stage.meetings or {}).items(), key=lambda item: str(item[1].get("date"))):
        if meeting.get("date"):
            dates.append((wording.stage_date_label(stage.kind, "meeting", language, [forum_names.get(key, key)]), _when(meeting["date"], language)))
    status = stage.status.value
    return PublicStage(_stage_title(stage, language), status, wording.label("stage_status", status, language), dates)


def public_page(session: Session, slug: str) -> PublicPage | None:
    """The page's content, or None when the slug is unknown or not public (the same None for both)."""
    found = public_plan(session, slug)
    if found is None:
        return None
    revision, plan = found
    language = revision.language.value
    stages = list(session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all())
    forum_names = dict(session.exec(select(Forum.key, Forum.name).where(Forum.revision_id == revision.id)).all())
    return PublicPage(
        slug=revision.slug,
        title=title_in(language, revision.title, revision.title_nn) or revision.title,
        helsefellesskap=revision.helsefellesskap,
        language=language,
        status_label=wording.label("revision_status", revision.status.value, language),
        updated=_last_change(session, revision),
        stages=[_stage(s, language, forum_names) for s in stages],
        party_decisions=_party_decisions(session, revision, plan, stages, language),
        forum_decisions=_forum_decisions(session, revision, stages, forum_names, language),
        documents=_documents(session, revision, plan, language),
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _last_change(session: Session, revision: Revision) -> dt.datetime:
    last = session.exec(select(func.max(AuditEntry.at)).where(AuditEntry.revision_id == revision.id)).one()
    return _utc(last or revision.created_at)


def _party_decisions(session: Session, revision: Revision, plan: Plan, stages: list[Stage], language: str) -> list[PublicDecision]:
    """One row per party and stage in which every party decides (political treatment), in plan order."""
    deciding = {s.id: s for s in stages if rules_for(s.kind).party_decision}
    if not deciding:
        return []
    rows = session.exec(
        select(PartyObligation, Party).join(Party, col(Party.id) == col(PartyObligation.party_id))
        .where(col(PartyObligation.stage_id).in_(list(deciding))).order_by(PartyObligation.stage_id, Party.id)
    ).all()
    recorded = dict(session.exec(
        select(AuditEntry.subject, func.max(AuditEntry.at)).where(AuditEntry.revision_id == revision.id)
        .where(col(AuditEntry.subject).like("stage:%/party:%")).group_by(AuditEntry.subject)
    ).all())
    records = {p.org_number: p.records_url for p in plan.parties}
    out = []
    for obligation, party in sorted(rows, key=lambda r: (deciding[r[0].stage_id].position, r[1].id)):
        stage = deciding[obligation.stage_id]
        decided = obligation.status in DECIDED_TREATMENTS
        if not decided and not party.active:
            continue
        at = recorded.get(f"stage:{stage.key}/party:{party.name}")
        out.append(PublicDecision(
            id=f"stage/{stage.key}/party/{party.org_number}",
            who=party.name,
            stage=_stage_title(stage, language),
            outcome=obligation.status if decided else None,
            outcome_label=wording.label("party_outcome", obligation.status, language) if decided else wording.word("public_page.not_yet", language),
            decided_on=obligation.answered_on if decided else None,
            case_no=obligation.case_no if decided else None,
            reservations=obligation.reservations if decided else None,
            records_url=records.get(party.org_number),
            recorded_at=_utc(at) if at else None,
        ))
    return out


def _forum_decisions(session: Session, revision: Revision, stages: list[Stage], forum_names: dict[str, str], language: str) -> list[PublicDecision]:
    by_id = {s.id: s for s in stages}
    rows = session.exec(
        select(ForumDecision).where(col(ForumDecision.stage_id).in_(list(by_id))).order_by(ForumDecision.decided_on, ForumDecision.id)
    ).all() if by_id else []
    return [
        PublicDecision(
            id=f"stage/{by_id[d.stage_id].key}/forum/{d.forum_key}/round/{d.round}/{d.id}",
            who=forum_names.get(d.forum_key, d.forum_key),
            stage=_stage_title(by_id[d.stage_id], language),
            outcome=d.outcome.value,
            outcome_label=wording.label("forum_outcome", d.outcome.value, language),
            decided_on=d.decided_on,
            case_no=d.case_no,
            recorded_at=_utc(d.recorded_at),
        )
        for d in rows
    ]


def _documents(session: Session, revision: Revision, plan: Plan, language: str) -> list[PublicDocument]:
    """The documents the plan marks public, with every version; of the others, the versions marked public."""
    public = {d.key for d in plan.documents if d.public}
    rows = session.exec(
        select(Document, DocumentVersion).join(DocumentVersion, col(DocumentVersion.document_id) == col(Document.id), isouter=True)
        .where(Document.revision_id == revision.id).order_by(Document.id, DocumentVersion.number)
    ).all()
    documents: dict[int, Document] = {}
    versions: dict[int, list[DocumentVersion]] = {}
    for d, v in rows:
        if d.key in public or (v is not None and v.public):
            documents.setdefault(d.id, d)
            if v is not None:
                versions.setdefault(d.id, []).append(v)
    return [
        PublicDocument(
            title=title_in(language, d.title, d.title_nn) or d.title,
            versions=[
                PublicVersion(v.number, v.label, v.date, v.url or f"/offentlig/{revision.slug}/dokumenter/{d.key}/v{v.number}")
                for v in versions.get(d.id, [])
            ],
        )
        for d in documents.values()
    ]
