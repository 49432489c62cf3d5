"""Document versions: adding one (a file stored in the same transaction, or a web address),
the current versions a letter or a decision names, and which decisions approved which version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from avtaleflyt.models import documents as rules
from avtaleflyt.models import uploads
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import Document, DocumentVersion, ForumDecision, Party, PartyObligation, Revision, Stage, StoredFile

from . import files
from .recorder import Recorder, lock_revision
from .stages.base import Recorded, done, stages_of


@dataclass(frozen=True)
class Upload:
    """A file to store: its name as given (checked again here) and its bytes."""

    name: str
    content: bytes


def documents_of(session: Session, revision: Revision) -> list[Document]:
    return list(session.exec(select(Document).where(Document.revision_id == revision.id).order_by(Document.id)).all())


def versions_by_document(session: Session, revision: Revision) -> dict[int, list[DocumentVersion]]:
    ids = select(Document.id).where(Document.revision_id == revision.id)
    found: dict[int, list[DocumentVersion]] = {}
    for v in session.exec(select(DocumentVersion).where(col(DocumentVersion.document_id).in_(ids)).order_by(DocumentVersion.number)):
        found.setdefault(v.document_id, []).append(v)
    return found


def add_version(
    session: Session, slug: str, key: str, *, label: str, on: dt.date | None, today: dt.date, actor: str, max_bytes: int,
    upload: Upload | None = None, url: str | None = None, significant: bool | None = None, public: bool = False,
) -> Recorded:
    """Add the next version of document `key`: every check first, then the file and the row, in the caller's transaction."""
    revision = lock_revision(session, slug)
    document = rules.find_document(documents_of(session, revision), key)
    label = rules.check_label(label)
    if (upload is None) == (url is None):
        raise DomainError("FILE|URL: give one file or one web address", code=ErrorCode.required, field="file")
    on = on or today
    if on > today:
        raise DomainError(f"--date: {on} is after today ({today})", code=ErrorCode.future_date, field="date", day=on, today=today)
    significant = rules.check_significance(document.key, stages_of(session, revision), significant)
    versions = versions_by_document(session, revision).get(document.id, [])
    row = DocumentVersion(document_id=document.id, number=rules.next_number(versions), label=label, date=on, significant=significant, public=public, added_by=actor)
    if upload is not None:
        name = uploads.clean_file_name(upload.name)
        uploads.check_size(len(upload.content), max_bytes, name=name)
        stored = files.store(session, upload.content)
        row.file_id, row.file_name, row.sha256, row.size = stored.id, name, stored.sha256, stored.size
        what = f"{name} ({stored.size} bytes, sha256 {stored.sha256[:12]})"
    else:
        row.url = uploads.check_url(url or "")
        what = row.url
    session.add(row)
    document.version = row.number
    session.add(document)
    rec = Recorder(session, revision, actor)
    to = f"v{row.number} {label} ({on})" + ("; significant change after its hearing" if significant else "") + ("; public" if public else "")
    rec.log("document.version_added", f"document:{document.key}", f"v{row.number - 1}" if versions else None, to, what)
    return done(rec, f"{document.key} v{row.number}: {label}, {on}: {what}" + (" (public)" if public else "") + (" — significant: offer `hearing reopen`" if significant else ""))


def current_versions(session: Session, revision: Revision, keys: Iterable[str] | None = None) -> dict[str, DocumentVersion]:
    """Each document's current (latest) version, by key; `keys` limits them (None: every document).
    A document with no version yet is left out."""
    wanted = set(keys) if keys else None
    by_id = {d.id: d.key for d in documents_of(session, revision) if wanted is None or d.key in wanted}
    found: dict[str, DocumentVersion] = {}
    for document_id, versions in versions_by_document(session, revision).items():
        if document_id in by_id and (latest := rules.current(versions)) is not None:
            found[by_id[document_id]] = latest
    return found


def with_current(session: Session, revision: Revision) -> list[tuple[Document, DocumentVersion | None]]:
    """Every document in order with its current version (None: none yet): read once by a caller
    that writes many letters listing them (`letter_parts.documents`, `papers.party_case.facts`)."""
    versions = current_versions(session, revision)
    return [(d, versions.get(d.key)) for d in documents_of(session, revision)]


def approved_now(session: Session, revision: Revision, keys: Iterable[str] | None = None) -> list[dict[str, object]]:
    """What a decision recorded now approves: the current versions of `keys` (None: every document)."""
    return rules.approved((k, v.number) for k, v in current_versions(session, revision, keys).items())


def changed_since_hearing(session: Session, revision: Revision) -> dict[str, list[str]]:
    """Document key -> the closed hearings a significant later version has not been heard in."""
    stages, versions = stages_of(session, revision), versions_by_document(session, revision)
    found = {d.key: rules.changed_since_hearing(d.key, versions.get(d.id, []), stages) for d in documents_of(session, revision)}
    return {k: v for k, v in found.items() if v}


@dataclass(frozen=True)
class Approval:
    """One decision that approved a version: who, and on which stage."""

    who: str
    stage_key: str
    decided_on: dt.date | None


def approvals(session: Session, stages: list[Stage]) -> dict[tuple[str, int], list[Approval]]:
    """(document key, version number) -> the decisions (of `stages`) that recorded it among their approved versions. Two queries."""
    keys = {s.id: s.key for s in stages}
    found: dict[tuple[str, int], list[Approval]] = {}
    decisions = select(ForumDecision).where(col(ForumDecision.stage_id).in_(keys), col(ForumDecision.approved_versions).is_not(None))
    for d in session.exec(decisions.order_by(ForumDecision.id)):
        for v in d.approved_versions or []:
            found.setdefault((v["key"], v["number"]), []).append(Approval(d.forum_key, keys[d.stage_id], d.decided_on))
    obligations = (
        select(PartyObligation, Party.name).join(Party, col(Party.id) == PartyObligation.party_id)
        .where(col(PartyObligation.stage_id).in_(keys), col(PartyObligation.approved_versions).is_not(None))
    )
    for o, name in session.exec(obligations.order_by(PartyObligation.id)):
        for v in o.approved_versions or []:
            found.setdefault((v["key"], v["number"]), []).append(Approval(name, keys[o.stage_id], o.answered_on))
    return found


def version_file(session: Session, revision: Revision, key: str, number: int) -> tuple[DocumentVersion, StoredFile | None] | None:
    """A version of the revision's document with its stored file (None for a web address); None if there is no such version."""
    row = session.exec(
        select(DocumentVersion).join(Document, col(Document.id) == DocumentVersion.document_id)
        .where(Document.revision_id == revision.id, Document.key == key, DocumentVersion.number == number)
    ).first()
    if row is None:
        return None
    return row, session.get(StoredFile, row.file_id) if row.file_id is not None else None


def listing(session: Session, slug: str) -> list[dict[str, object]]:
    """Every document of the revision with its versions and who approved each (`document list`, the dashboard):
    five queries however many documents, versions and decisions."""
    in_revision = (Revision.slug == slug)
    rows = session.exec(
        select(Document, DocumentVersion).join(Revision, col(Revision.id) == Document.revision_id)
        .outerjoin(DocumentVersion, col(DocumentVersion.document_id) == Document.id).where(in_revision)
        .order_by(Document.id, DocumentVersion.number)
    ).all()
    if not rows:
        lock_revision(session, slug)  # raises for an unknown revision, naming the known ones
        return []
    docs = list({d.id: d for d, _ in rows}.values())
    versions: dict[int, list[DocumentVersion]] = {}
    for d, v in rows:
        if v is not None:
            versions.setdefault(d.id, []).append(v)
    # the stages and decisions only matter once a version exists: a revision without one costs one query
    stages = list(session.exec(select(Stage).join(Revision, col(Revision.id) == Stage.revision_id).where(in_revision))) if versions else []
    approved = approvals(session, stages) if versions else {}
    return [
        {
            "key": d.key, "title": d.title, "changed_since_hearing": rules.changed_since_hearing(d.key, versions.get(d.id, []), stages),
            "versions": [
                {
                    "number": v.number, "label": v.label, "date": v.date.isoformat(), "file_name": v.file_name, "url": v.url,
                    "sha256": v.sha256, "size": v.size, "significant": v.significant, "public": v.public, "added_by": v.added_by,
                    "approved_by": [{"who": a.who, "stage": a.stage_key, "on": a.decided_on.isoformat() if a.decided_on else None}
                                    for a in approved.get((d.key, v.number), [])],
                }
                for v in versions.get(d.id, [])
            ],
        }
        for d in docs
    ]
