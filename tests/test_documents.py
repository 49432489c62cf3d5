"""Document versions (issue 13): a file or a web address with a label and a date, the size
limit, and the versions each forum and party decision approved."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt import actions
from avtaleflyt.cli.app import app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import AuditEntry, DocumentVersion, ForumDecision, PartyObligation, Revision, StoredFile
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import documents
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
runner = CliRunner()


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    return engine


def do(engine, action: str, **fields):  # noqa: ANN201
    return actions.execute(parse_command({"action": action, "revision": SLUG, **fields}), actor="kari", clock=FixedClock(), engine=engine)[0]


def add(engine, key: str = "overordnet", *, content: bytes | None = b"%PDF-1.4 utkast", name: str = "Overordnet avtale æøå.pdf",
        url: str | None = None, label: str = "Utkast", significant: bool | None = None):  # noqa: ANN201
    with session_scope(engine) as s:
        return documents.add_version(
            s, SLUG, key, label=label, on=None, today=TODAY, actor="kari", max_bytes=get_settings().max_upload_bytes,
            upload=documents.Upload(name, content) if url is None else None, url=url, significant=significant,
        )


def versions(engine) -> list[tuple]:
    with session_scope(engine) as s:
        return [(v.number, v.label, v.file_name, v.url, v.sha256, v.size, v.significant)
                for v in s.exec(select(DocumentVersion).order_by(DocumentVersion.number))]


def seq(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Revision.seq)).one()


def test_a_version_from_a_file_and_one_from_a_web_address(engine, tmp_path):
    pdf = tmp_path / "Overordnet avtale æøå.pdf"
    pdf.write_bytes(b"%PDF-1.4 overordnet samarbeidsavtale")
    first = runner.invoke(app, ["document", "add", SLUG, "overordnet", str(pdf), "--label", "Utkast til høring", "--date", "2024-06-14"])
    assert first.exit_code == 0, first.output
    assert "overordnet v1" in first.output
    second = runner.invoke(app, ["document", "add", SLUG, "overordnet", "https://example.no/avtale-v2.pdf", "--label", "Etter ASU"])
    assert second.exit_code == 0, second.output
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert versions(engine) == [
        (1, "Utkast til høring", "Overordnet avtale æøå.pdf", None, sha, len(pdf.read_bytes()), None),
        (2, "Etter ASU", None, "https://example.no/avtale-v2.pdf", None, None, None),
    ]
    with session_scope(engine) as s:
        assert s.exec(select(StoredFile.content)).one() == pdf.read_bytes()
        assert [(a.subject, a.from_value, a.to_value[:2]) for a in s.exec(select(AuditEntry).where(AuditEntry.action == "document.version_added"))] == [
            ("document:overordnet", None, "v1"), ("document:overordnet", "v1", "v2"),
        ]
    listed = runner.invoke(app, ["document", "list", SLUG])
    assert listed.exit_code == 0, listed.output
    assert sha[:12] in listed.output and "Etter ASU" in listed.output and "2024-06-14" in listed.output


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_MAX_UPLOAD_BYTES", "100")
    get_settings.cache_clear()
    big = tmp_path / "stor.pdf"
    big.write_bytes(b"x" * 101)
    before = seq(engine)
    result = runner.invoke(app, ["document", "add", SLUG, "overordnet", str(big), "--label", "For stor"])
    assert result.exit_code == 2
    assert "stor.pdf is 101 bytes; an upload is at most 100 (AVTALEFLYT_MAX_UPLOAD_BYTES); nothing was stored" in result.stderr
    assert "Traceback" not in result.output
    assert versions(engine) == [] and seq(engine) == before
    with session_scope(engine) as s:
        assert s.exec(select(StoredFile)).all() == []
    with pytest.raises(DomainError) as refused:  # the same limit when the bytes come another way (the dashboard)
        with session_scope(engine) as s:
            documents.add_version(s, SLUG, "overordnet", label="x", on=None, today=TODAY, actor="k", max_bytes=100, upload=documents.Upload("a.pdf", b"y" * 101))
    assert refused.value.code == ErrorCode.file_too_large
    with session_scope(engine) as s:
        assert s.exec(select(StoredFile)).all() == []


@pytest.mark.parametrize(
    ("key", "fields", "code", "words"),
    [
        ("ukjent", {}, ErrorCode.invalid_value, "no document 'ukjent'"),
        ("overordnet", {"label": " "}, ErrorCode.required, "--label: required"),
        ("overordnet", {"url": "ftp://example.no/a"}, ErrorCode.bad_url, "is not a web address"),
        ("overordnet", {"name": "../etc/passwd"}, ErrorCode.bad_file_name, "cannot be used"),
    ],
)
def test_bad_input_is_refused_naming_the_problem_and_writes_nothing(engine, key, fields, code, words):
    with pytest.raises(DomainError) as refused:
        add(engine, key, **fields)
    assert refused.value.code == code and words in str(refused.value)
    assert versions(engine) == []


def test_forum_and_party_decisions_record_the_versions_they_approved(engine):
    add(engine, label="Utkast")  # v1 before the forum meets
    do(engine, "draft_complete", stage="utkast")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", stage="hoeringsforslag")
    do(engine, "hearing_close", stage="hoering", reason="alle har svart")
    add(engine, label="Etter høringen", url="https://example.no/v2", significant=False)  # v2 after the hearing: not significant
    for forum in ("ASU", "FU", "PSU"):
        do(engine, "forum_decision", forum=forum, outcome="approved", date="2024-11-27", stage="sluttbehandling")
    do(engine, "party_decision", party="Malvik kommune", outcome="approved", date="2025-02-01", case_no="PS 4/25")
    with session_scope(engine) as s:
        decided = {(d.forum_key, d.decided_on.month): d.approved_versions for d in s.exec(select(ForumDecision))}
        party = s.exec(select(PartyObligation).where(PartyObligation.status == "approved")).one()
    assert decided == {("ASU", 6): [{"key": "overordnet", "number": 1}], **{(f, 11): [{"key": "overordnet", "number": 2}] for f in ("ASU", "FU", "PSU")}}
    assert party.approved_versions == [{"key": "overordnet", "number": 2}]
    listed = runner.invoke(app, ["document", "list", SLUG, "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"who": "Malvik kommune"' in listed.output and '"who": "PSU"' in listed.output
