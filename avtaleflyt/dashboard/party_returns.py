"""What each party sent back with its decision, for the revision page and /api/ (one query), and
the stored minutes file behind /revisions/{slug}/parties/{party_id}/minutes."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import or_
from sqlmodel import Session, col, select

from avtaleflyt.models.enums import TreatmentStatus
from avtaleflyt.models.stages import KINDS
from avtaleflyt.models.tables import Party, PartyObligation, Revision, Stage, StoredFile

from .model import MinutesFileOut, PartyReturnsOut

DECIDING_KINDS = [kind.value for kind, rules in KINDS.items() if rules.party_decision]


def _rows(slug: str):  # noqa: ANN202 - a select
    o = PartyObligation
    return (
        select(Party.id, Party.name, o, StoredFile.size, StoredFile.sha256)
        .join(o, col(o.party_id) == col(Party.id))
        .join(Stage, col(Stage.id) == col(o.stage_id))
        .join(Revision, col(Revision.id) == col(Stage.revision_id))
        .outerjoin(StoredFile, col(StoredFile.id) == col(o.minutes_file_id))
        .where(Revision.slug == slug, col(o.kind).in_(DECIDING_KINDS))
        .order_by(col(Stage.position), col(o.id))
    )


def returns_by_party(session: Session, slug: str) -> dict[str, PartyReturnsOut]:
    """By party name: what it sent back with its decision (its latest stage that asks one), when anything."""
    o = PartyObligation
    query = _rows(slug).where(or_(
        col(o.note).is_not(None), col(o.reservations).is_not(None), col(o.minutes_text).is_not(None),
        col(o.minutes_file_id).is_not(None), o.status == TreatmentStatus.approved_with_reservations,
    ))
    found: dict[str, PartyReturnsOut] = {}
    for party_id, name, row, size, sha256 in session.exec(query).all():
        minutes_file = None
        if row.minutes_file_id is not None and sha256 is not None:
            url = f"/revisions/{quote(slug)}/parties/{party_id}/minutes"
            minutes_file = MinutesFileOut(name=row.minutes_file_name or "vedtak", size=size, sha256=sha256, url=url)
        found[name] = PartyReturnsOut(
            note=row.note, reservations=row.reservations, minutes_text=row.minutes_text, minutes_file=minutes_file,
            reservations_missing=row.status == TreatmentStatus.approved_with_reservations and not row.reservations,
        )
    return found


def minutes_file(session: Session, slug: str, party_id: int) -> tuple[str, bytes] | None:
    """The party's minutes file (its name, its bytes), or None."""
    rows = session.exec(_rows(slug).where(Party.id == party_id, col(PartyObligation.minutes_file_id).is_not(None))).all()
    if not rows:
        return None
    row = rows[-1][2]
    stored = session.get(StoredFile, row.minutes_file_id)
    return (row.minutes_file_name or "vedtak", stored.content) if stored else None
