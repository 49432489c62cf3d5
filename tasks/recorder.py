"""Writing a change: lock the revision, raise its event counter once, log every change."""

from __future__ import annotations

from sqlmodel import Session, select

from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import AuditEntry, Revision


def lock_revision(session: Session, slug: str) -> Revision:
    """The revision, locked for this transaction (row lock on PostgreSQL; SQLite is locked at BEGIN).

    `populate_existing`: a revision this session loaded before the lock (unlocked) is
    read again, or on PostgreSQL it keeps what it held before another writer committed.
    """
    revision = session.exec(
        select(Revision).where(Revision.slug == slug).with_for_update().execution_options(populate_existing=True)
    ).first()
    if revision is None:
        known = session.exec(select(Revision.slug).order_by(Revision.slug)).all()
        hint = f"; known: {', '.join(known)}" if known else "; no revision has been started"
        raise DomainError(f"SLUG: no revision {slug!r}{hint}", code=ErrorCode.no_revision, field="revision", slug=slug)
    return revision


class Recorder:
    """Appends audit entries for one transaction; the first one raises the revision's event counter."""

    def __init__(self, session: Session, revision: Revision, actor: str):
        self.session, self.revision, self.actor = session, revision, actor
        self.entries: list[AuditEntry] = []

    @property
    def changed(self) -> bool:
        return bool(self.entries)

    def log(self, action: str, subject: str, from_value: object = None, to_value: object = None, note: str | None = None) -> None:
        if not self.entries:
            self.revision.seq += 1
            self.session.add(self.revision)
        entry = AuditEntry(
            revision_id=self.revision.id,
            seq=self.revision.seq,
            actor=self.actor,
            action=action,
            subject=subject,
            from_value=None if from_value is None else str(from_value),
            to_value=None if to_value is None else str(to_value),
            note=note,
        )
        self.session.add(entry)
        self.entries.append(entry)
