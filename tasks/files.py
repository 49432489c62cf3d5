"""Uploaded files (document versions, a party's minutes) in the domain database, once per content.

In the database rather than a folder: every machine of a distributed setup (dashboard, workers,
CLI) sees the same files, and an upload is written in the transaction of the command that
brings it, so a refused command leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, select

from avtaleflyt.models import uploads
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import StoredFile


def read_limited(stream: BinaryIO, maximum: int, *, name: str, field: str = "file") -> bytes:
    """At most `maximum` bytes of `stream`; a longer stream is refused without reading it all."""
    data = stream.read(maximum + 1)
    uploads.check_size(len(data), maximum, name=name, field=field)
    return data


def read_path(path: Path, maximum: int, *, field: str = "file") -> tuple[str, bytes]:
    """A local file given to the CLI: (its name as stored, its bytes)."""
    name = uploads.clean_file_name(path.name, field=field)
    try:
        with path.open("rb") as stream:
            return name, read_limited(stream, maximum, name=name, field=field)
    except OSError as exc:
        raise DomainError(f"--{field}: cannot read {str(path)!r}: {exc.strerror or exc}", code=ErrorCode.unreadable_file, field=field, name=name) from None


def store(session: Session, content: bytes) -> StoredFile:
    """The stored file with these bytes: found by their SHA-256, or added (flushed, not committed)."""
    sha = hashlib.sha256(content).hexdigest()
    found = session.exec(select(StoredFile).where(StoredFile.sha256 == sha)).first()
    if found is not None:
        return found
    row = StoredFile(sha256=sha, size=len(content), content=content)
    session.add(row)
    session.flush()
    return row


def find(session: Session, sha256: str) -> StoredFile | None:
    return session.exec(select(StoredFile).where(StoredFile.sha256 == sha256)).first()
