"""Storing a checked plan as a new revision, in one transaction."""

from __future__ import annotations

from sqlmodel import Session, select

from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.plan import CheckedPlan
from avtaleflyt.models.tables import Document, Forum, Milestone, Party, PlanVersion, Revision, Stage

from . import party_meetings
from .recorder import Recorder


def store_revision(session: Session, checked: CheckedPlan, source: str, actor: str) -> Revision:
    """Store the plan as revision + plan version 1 (the baseline). Refuses a slug already stored."""
    plan = checked.plan
    slug = plan.revision_slug
    existing = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if existing is not None:
        raise DomainError(
            f"revision {slug!r} already exists (started {existing.created_at:%Y-%m-%d %H:%M}); use `plan shift` to change its plan",
            code=ErrorCode.revision_exists, slug=slug, started=existing.created_at,
        )
    revision = Revision(
        slug=slug,
        title=plan.revision,
        title_nn=plan.revision_nn,
        helsefellesskap=plan.helsefellesskap,
        language=plan.language,
        coordinators=[c.model_dump() for c in plan.coordinators],
        contact=plan.contact.model_dump() if plan.contact else None,
        reference=plan.reference,
        reminders=plan.reminders.model_dump(),
    )
    session.add(revision)
    session.flush()
    rid = revision.id
    session.add_all(Document(revision_id=rid, key=d.key, title=d.title, title_nn=d.title_nn) for d in plan.documents)
    session.add_all(
        Party(revision_id=rid, name=p.name, kind=p.kind, org_number=p.org_number, email=p.email, body=p.body, language=plan.party_language(p))
        for p in plan.parties
    )
    party_meetings.store_plan_meetings(session, rid, plan)
    session.add_all(Forum(revision_id=rid, key=f.key, name=f.name, email=f.email) for f in plan.forums)
    after = plan.stage_after()
    all_documents = [d.key for d in plan.documents]
    for position, spec in enumerate(plan.stages):
        session.add(
            Stage(
                revision_id=rid,
                position=position,
                key=spec.key,
                kind=spec.kind,
                title=spec.title,
                title_nn=spec.title_nn,
                after=after[spec.key],
                **spec.columns(all_documents),
                **{f: str(v) for f in ("opens", "due", "meeting", "deadline") if (v := getattr(spec, f, None)) is not None},
            )
        )
    session.add_all(
        Milestone(revision_id=rid, date=str(m.date), written=m.written, what=m.what, what_nn=m.what_nn, about=m.about, responsible=m.responsible, part=m.part, stage_key=m.stage, at=m.at)
        for m in plan.milestones
    )
    session.add(
        PlanVersion(revision_id=rid, version=1, source=source, effective=plan.model_dump(mode="json"), created_by=actor, reason="baseline")
    )
    Recorder(session, revision, actor).log("revision.stored", f"revision:{slug}", to_value="plan v1")
    return revision
