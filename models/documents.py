"""The rules of a revision's documents and their versions. Pure: the callers load the rows.

A document version is a stored file or a web address, with a label and a date. A version
added after a hearing that treated the document has closed must say whether the change is
significant; a significant one makes the document "changed since its hearing" until a new
round of that hearing (`hearing reopen`) has heard it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .enums import StageStatus
from .errors import DomainError, ErrorCode
from .limits import LINE_BREAKS, MAX_NAME
from .stages import hearing

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed for the rules
    from .tables import Document, DocumentVersion, Stage


@dataclass(frozen=True)
class VersionRef:
    """Which version of which document: what a decision records it approved."""

    key: str
    number: int

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "number": self.number}


def find_document(documents: Sequence[Document], key: str) -> Document:
    for d in documents:
        if d.key == key:
            return d
    keys = [d.key for d in documents]
    raise DomainError(
        f"KEY: no document {key!r} in this revision; its documents are {', '.join(keys) or 'none'}",
        code=ErrorCode.invalid_value, field="document", problem="choice", value=key[:60], allowed=keys,
    )


def check_label(label: str | None) -> str:
    text = (label or "").strip()
    if not text:
        raise DomainError("--label: required (what this version is, e.g. 'Utkast etter høringen')", code=ErrorCode.required, field="label")
    if len(text) > MAX_NAME:
        raise DomainError(f"--label: {len(text)} characters; at most {MAX_NAME}", code=ErrorCode.too_long, field="label", length=len(text), maximum=MAX_NAME)
    if any(c in LINE_BREAKS for c in text):
        raise DomainError("--label: must be on one line", code=ErrorCode.invalid_value, field="label", problem="multi_line", value="")
    return text


def next_number(versions: Iterable[DocumentVersion]) -> int:
    return max((v.number for v in versions), default=0) + 1


def hearings_of(document_key: str, stages: Sequence[Stage]) -> list[Stage]:
    """The hearing stages that treat the document (a hearing names its documents; none named: all)."""
    return [s for s in stages if s.kind == hearing.RULES.kind and document_key in (s.documents or [])]


def hearing_closed(stage: Stage) -> bool:
    return stage.status == StageStatus.done or bool(stage.closed_reason)


def closed_hearings(document_key: str, stages: Sequence[Stage]) -> list[Stage]:
    return [s for s in hearings_of(document_key, stages) if hearing_closed(s)]


def check_significance(document_key: str, stages: Sequence[Stage], significant: bool | None) -> bool | None:
    """The `significant` a new version is stored with: required once a hearing of the document has
    closed (refused without it), ignored (None) before."""
    closed = closed_hearings(document_key, stages)
    if not closed:
        return None
    if significant is None:
        names = ", ".join(repr(s.key) for s in closed)
        raise DomainError(
            f"--significant/--not-significant: the hearing of {document_key!r} ({names}) has closed; say whether this version "
            "changes it significantly (--significant: the parties should be heard again, `hearing reopen`) or not (--not-significant)",
            code=ErrorCode.required, field="significant", document=document_key, stages=[s.key for s in closed],
        )
    return significant


def changed_since_hearing(document_key: str, versions: Sequence[DocumentVersion], stages: Sequence[Stage]) -> list[str]:
    """The closed hearings (keys) of the document that a significant version added after they
    closed has not been heard by: empty once a new round has heard it (or none is significant)."""
    significant = [v.added_at for v in versions if v.significant]
    if not significant:
        return []
    latest = max(_aware(t) for t in significant)
    return [s.key for s in closed_hearings(document_key, stages) if s.completed_at is None or _aware(s.completed_at) < latest]


def current(versions: Iterable[DocumentVersion]) -> DocumentVersion | None:
    return max(versions, key=lambda v: v.number, default=None)


def approved(current_versions: Iterable[tuple[str, int]]) -> list[dict[str, object]]:
    """What a decision stores in `approved_versions`: [{key, number}], by key."""
    return [VersionRef(k, n).as_json() for k, n in sorted(current_versions)]


def short_sha(sha256: str | None) -> str:
    return sha256[:12] if sha256 else ""


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
