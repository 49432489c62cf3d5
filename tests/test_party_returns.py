"""What a party sends back with its decision (issue 13): its decision text or extract of minutes
(særutskrift) as a file or text, its remarks (merknader), a conditional approval's reservations
(forbehold). Through the command and the CLI here; the party link and the dashboard in
test_party_returns_web.py. Real databases (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select

from avtaleflyt import actions
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.command_fields import Upload
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import AuditEntry, Party, PartyObligation, StoredFile
from avtaleflyt.settings import get_settings

from .plans import drive_to_political_treatment
from .test_cli import offline_prefect, run  # noqa: F401 - a fixture

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
PARTY = "Malvik kommune"
MINUTES = "Særutskrift: Kommunestyret godkjenner avtalen. Æ, ø og å står seg.".encode()


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY)
    return engine


@pytest.fixture
def small_uploads(monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    yield 1000
    get_settings.cache_clear()


def decide(engine, **fields):  # noqa: ANN001, ANN201
    given = {"party": PARTY, "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"} | fields
    command = parse_command({"action": "party_decision", "revision": SLUG, **given})
    return actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)[0]


def row(engine, party: str = PARTY) -> PartyObligation:
    with session_scope(engine) as s:
        who = s.exec(select(Party).where(Party.name == party)).one()
        found = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment", PartyObligation.party_id == who.id)).one()
        s.expunge(found)
        return found


def stored(engine) -> list[StoredFile]:
    with session_scope(engine) as s:
        files = list(s.exec(select(StoredFile)).all())
        for f in files:
            s.expunge(f)
        return files


def audit(engine, action: str) -> list[AuditEntry]:
    with session_scope(engine) as s:
        entries = list(s.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all())
        for e in entries:
            s.expunge(e)
        return entries


def audit_count(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(AuditEntry)).one()


# --------------------------------------------------------------------------- the command


def test_a_decision_with_its_minutes_file_remarks_and_reservations_is_stored(engine):
    decide(engine, outcome="approved_with_reservations", note="Vi ber om en evaluering etter ett år.", reservations="Forutsatt finansiering.",
           minutes_file=Upload(name="særutskrift PS 4-25.pdf", content=MINUTES))
    r = row(engine)
    assert (r.status, r.note, r.reservations, r.minutes_file_name) == (
        "approved_with_reservations", "Vi ber om en evaluering etter ett år.", "Forutsatt finansiering.", "særutskrift PS 4-25.pdf")
    (f,) = stored(engine)
    assert (r.minutes_file_id, f.content, f.size) == (f.id, MINUTES, len(MINUTES))
    (logged,) = audit(engine, "party.returns")
    assert "særutskrift PS 4-25.pdf" in logged.to_value and "Forutsatt finansiering." in logged.to_value


def test_minutes_as_text(engine):
    decide(engine, minutes_text="Kommunestyret vedtok samrøystes å godkjenne avtalen.")
    assert row(engine).minutes_text == "Kommunestyret vedtok samrøystes å godkjenne avtalen."
    assert stored(engine) == []


def test_the_same_decision_again_adds_what_it_brings_as_a_logged_change(engine):
    decide(engine)
    before = audit_count(engine)
    again = decide(engine)  # nothing new: nothing changes
    assert not again.changed and audit_count(engine) == before
    added = decide(engine, note="Merknad kom etter møtet.", minutes_file=Upload(name="vedtak.pdf", content=MINUTES))
    assert added.changed and "added note, minutes_file_name" in added.message
    (logged,) = audit(engine, "party.returns")
    assert logged.from_value is None and "Merknad kom etter møtet." in logged.to_value and "vedtak.pdf" in logged.to_value
    assert (row(engine).status, row(engine).note) == ("approved", "Merknad kom etter møtet.")
    decide(engine, note="Rettet merknad.")  # a field given replaces; one not given stays
    r = row(engine)
    assert (r.note, r.minutes_file_name) == ("Rettet merknad.", "vedtak.pdf")
    assert audit(engine, "party.returns")[1].from_value.startswith("remarks: 'Merknad kom etter møtet.'; minutes file: vedtak.pdf")


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(engine, small_uploads):
    before = audit_count(engine)
    with pytest.raises(DomainError) as refused:
        decide(engine, minutes_file=Upload(name="stor.pdf", content=b"x" * 1001), note="kommer ikke med")
    assert refused.value.code == ErrorCode.file_too_large and "1,001 bytes; an upload is at most 1,000" in refused.value.message
    assert (stored(engine), row(engine).status, row(engine).note, audit_count(engine)) == ([], "sent", None, before)


@pytest.mark.parametrize(("name", "problem"), [("../../etc/passwd", "path"), ("vedtak\x00.pdf", "nul"), ("..", "dots")])
def test_a_bad_file_name_is_refused_and_nothing_is_stored(engine, name, problem):
    with pytest.raises(DomainError) as refused:
        decide(engine, minutes_file=Upload(name=name, content=MINUTES))
    assert (refused.value.code, refused.value.params["problem"]) == (ErrorCode.bad_file_name, problem)
    assert (stored(engine), row(engine).status) == ([], "sent")


def test_reservations_belong_to_a_conditional_approval(engine):
    with pytest.raises(DomainError) as refused:
        decide(engine, outcome="rejected", reservations="forbehold")
    assert (refused.value.code, refused.value.field) == (ErrorCode.invalid_value, "reservations")
    decide(engine, outcome="approved_with_reservations")  # a coordinator's record without them: recorded (the CLI warns)
    assert row(engine).status == "approved_with_reservations"


def test_a_file_is_never_parsed_from_text():
    for given in ({"name": "a.pdf", "content": "aGVp"}, "a.pdf"):
        with pytest.raises(DomainError) as refused:
            parse_command({"action": "party_decision", "revision": SLUG, "party": PARTY, "outcome": "approved", "date": "2025-02-06", "minutes_file": given})
        assert (refused.value.code, refused.value.field) == (ErrorCode.invalid_value, "minutes_file")


def test_a_withdrawn_decision_takes_what_came_with_it(engine):
    decide(engine, note="merknad", minutes_text="vedtaket", minutes_file=Upload(name="vedtak.pdf", content=MINUTES))
    command = parse_command({"action": "party_withdraw", "revision": SLUG, "party": PARTY, "reason": "feil part"})
    actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)
    r = row(engine)
    assert (r.note, r.minutes_text, r.minutes_file_id, r.minutes_file_name) == (None, None, None, None)
    assert audit(engine, "party.returns")[-1].to_value is None and len(stored(engine)) == 1


# --------------------------------------------------------------------------- the CLI


def test_cli_records_a_decision_with_its_file_text_note_and_reservations(engine, offline_prefect, tmp_path):  # noqa: F811
    minutes = tmp_path / "Særutskrift PS 4-25.pdf"
    minutes.write_bytes(MINUTES)
    result = run("party", "decide", SLUG, "--party", PARTY, "--outcome", "approved_with_reservations", "--date", "2025-02-06",
                 "--file", str(minutes), "--text", "Kommunestyret godkjenner.", "--note", "Evaluer etter ett år.", "--reservations", "Forutsatt midler.")
    assert result.exit_code == 0, result.output
    r = row(engine)
    assert (r.minutes_file_name, r.minutes_text, r.note, r.reservations) == ("Særutskrift PS 4-25.pdf", "Kommunestyret godkjenner.", "Evaluer etter ett år.", "Forutsatt midler.")
    assert [f.content for f in stored(engine)] == [MINUTES]


def test_cli_warns_of_a_conditional_approval_without_reservations(engine, offline_prefect):  # noqa: F811
    result = run("party", "decide", SLUG, "--party", PARTY, "--outcome", "approved_with_reservations", "--date", "2025-02-06")
    assert result.exit_code == 0, result.output
    assert "warning: --reservations: none given with a conditional approval" in result.stderr


def test_cli_refuses_a_file_over_the_limit_and_a_missing_file(engine, offline_prefect, small_uploads, tmp_path):  # noqa: F811
    big = tmp_path / "stor.pdf"
    big.write_bytes(b"x" * 5000)
    result = run("party", "decide", SLUG, "--party", PARTY, "--outcome", "approved", "--date", "2025-02-06", "--file", str(big))
    assert result.exit_code == 2 and "error: --file: stor.pdf is" in result.stderr and "nothing was stored" in result.stderr, result.output
    missing = run("party", "decide", SLUG, "--party", PARTY, "--outcome", "approved", "--date", "2025-02-06", "--file", str(tmp_path / "ingen.pdf"))
    assert missing.exit_code == 2 and "error: --file: cannot read" in missing.stderr, missing.output
    assert "Traceback" not in result.output + missing.output
    assert (stored(engine), row(engine).status) == ([], "sent")
