"""For whom a revision's agreement is in force (models/in_force.py), read from the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from avtaleflyt.models.enums import StageKind
from avtaleflyt.models.in_force import InForce, in_force
from avtaleflyt.models.stages import StageFacts
from avtaleflyt.models.tables import Revision

from .stages.base import facts_by_stage, parties_of, stages_of

if TYPE_CHECKING:
    from .status import RevisionView


def in_force_of(session: Session, revision: Revision) -> InForce:
    stages = stages_of(session, revision)
    return in_force(stages, facts_by_stage(session, [s.id for s in stages]), parties_of(session, revision))


def in_force_by_slug(session: Session, slug: str) -> tuple[Revision, InForce]:
    from avtaleflyt.models.errors import DomainError, ErrorCode

    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        raise DomainError(f"SLUG: no revision {slug!r}", code=ErrorCode.no_revision, field="slug", slug=slug)
    return revision, in_force_of(session, revision)


@dataclass(frozen=True)
class _Row:
    id: str
    key: str = ""
    kind: str = ""
    position: int = 0
    party_id: str = ""
    status: str = ""
    answered_on: dt.date | None = None
    name: str = ""
    active: bool = True


def in_force_of_view(view: RevisionView) -> InForce:
    """The same, from a read model that has every party's answers already (no query)."""
    stages = [_Row(s.key, key=s.key, kind=StageKind(s.kind), position=i) for i, s in enumerate(view.stages)]
    obligations: dict[str, list[_Row]] = {s.key: [] for s in view.stages}
    for p in view.parties:
        for a in p.answers:
            obligations[a.stage].append(_Row(a.stage, party_id=p.name, status=a.status, answered_on=a.answered_on))
    parties = [_Row(p.name, name=p.name, active=p.active) for p in view.parties]
    return in_force(stages, {k: StageFacts(v) for k, v in obligations.items()}, parties)  # type: ignore[arg-type]
