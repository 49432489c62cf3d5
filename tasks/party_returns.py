"""What a party sends back with its decision: its remarks (merknader), a conditional approval's
reservations (forbehold), and the decision's text or extract of minutes (særutskrift) as text or
as a file. Kept on its PartyObligation row; the file's bytes in StoredFile (tasks/files.py), in
the transaction of the command that brings it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from avtaleflyt.models import uploads
from avtaleflyt.models.command_fields import Upload
from avtaleflyt.models.stages import political_treatment
from avtaleflyt.models.tables import PartyObligation, StoredFile
from avtaleflyt.settings import get_settings

from . import files
from .recorder import Recorder

FIELDS = ("note", "reservations", "minutes_text", "minutes_file_id", "minutes_file_name")
SHOWN = 60  # characters of a text the audit log quotes


@dataclass(frozen=True)
class Returns:
    note: str | None = None
    reservations: str | None = None
    minutes_text: str | None = None
    minutes_file: Upload | None = None

    def check(self) -> Upload | None:
        """The file, its name and size checked (bad_file_name, file_too_large): before anything is written."""
        if self.minutes_file is None:
            return None
        name = uploads.clean_file_name(self.minutes_file.name, field="file")
        uploads.check_size(len(self.minutes_file.content), get_settings().max_upload_bytes, name=name, field="file")
        return Upload(name=name, content=self.minutes_file.content)


def record(session: Session, rec: Recorder, row: PartyObligation, subject: str, returns: Returns, upload: Upload | None, *, note: str | None) -> list[str]:
    """Set what was given on `row` (a field not given keeps its value) and log it; the names of the fields that changed."""
    given: dict[str, object] = {"note": returns.note, "reservations": returns.reservations, "minutes_text": returns.minutes_text}
    if upload is not None:
        stored = files.store(session, upload.content)
        given |= {"minutes_file_id": stored.id, "minutes_file_name": upload.name}
    changed = political_treatment.returns_changed(row, given)
    if not changed:
        return []
    before = describe(session, row)
    for field, (_, value) in changed.items():
        setattr(row, field, value)
    session.add(row)
    rec.log("party.returns", subject, before or None, describe(session, row), note)
    return [f for f in changed if f != "minutes_file_id"] or ["minutes_file_name"]


def clear(session: Session, rec: Recorder, row: PartyObligation, subject: str, reason: str) -> None:
    """A withdrawn decision takes what came with it (the audit log keeps a summary; a stored file stays)."""
    before = describe(session, row)
    if not before:
        return
    for field in FIELDS:
        setattr(row, field, None)
    session.add(row)
    rec.log("party.returns", subject, before, None, reason)


def describe(session: Session, row: PartyObligation) -> str:
    """What the row holds, for the audit log: texts quoted short, the file by name, size and SHA-256."""
    parts = [f"{label}: {_short(value)}" for label, value in (("remarks", row.note), ("reservations", row.reservations), ("minutes", row.minutes_text)) if value]
    if row.minutes_file_id is not None:
        stored = session.get(StoredFile, row.minutes_file_id)
        parts.append(f"minutes file: {row.minutes_file_name} ({stored.size} bytes, sha256 {stored.sha256[:12]})" if stored else f"minutes file: {row.minutes_file_name}")
    return "; ".join(parts)


def _short(text: str) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= SHOWN else one[: SHOWN - 1] + "…") + (f" ({len(text)} characters)" if len(one) > SHOWN else "")
