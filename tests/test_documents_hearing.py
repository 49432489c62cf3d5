"""A significant change after the hearing, heard again (issue 13): `hearing reopen` starts a new
round of the closed hearing (new invitations with the new deadline, the stages after it waiting
for it), the parties respond, it closes, and the document is no longer "changed since its hearing"."""

from __future__ import annotations

import pytest
from sqlmodel import select

from avtaleflyt.cli.app import app
from avtaleflyt.db import session_scope
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import OutboxMessage, PartyObligation, Revision, Stage
from avtaleflyt.tasks import documents

from .test_documents import SLUG, add, do, engine, runner  # noqa: F401 - engine is a fixture

PARTIES = ("St. Olavs hospital HF", "Trondheim kommune", "Malvik kommune")


def stage(engine, key: str) -> tuple[str, int, str | None]:
    with session_scope(engine) as s:
        row = s.exec(select(Stage).where(Stage.key == key)).one()
        return row.status.value, row.round, row.deadline


def changed(engine) -> dict[str, list[str]]:
    with session_scope(engine) as s:
        return documents.changed_since_hearing(s, s.exec(select(Revision)).one())


def invitations(engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.event == "hearing_invitation").order_by(OutboxMessage.id)).all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def to_closed_hearing(engine) -> None:
    add(engine, label="Utkast")
    do(engine, "draft_complete", stage="utkast")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", stage="hoeringsforslag")
    do(engine, "hearing_close", stage="hoering", reason="fristen er ute")
    assert stage(engine, "hoering")[0] == "done" and stage(engine, "sluttbehandling")[0] == "active"


def test_a_version_after_the_hearing_must_say_whether_it_is_significant(engine):
    add(engine, label="Før høringen")  # an open or coming hearing: no need to say
    to_closed_hearing(engine)
    result = runner.invoke(app, ["document", "add", SLUG, "overordnet", "https://example.no/v3", "--label", "Etter høringen"])
    assert result.exit_code == 2
    assert "--significant/--not-significant: the hearing of 'overordnet' ('hoering') has closed" in result.stderr
    result = runner.invoke(app, ["document", "add", SLUG, "overordnet", "https://example.no/v3", "--label", "Etter høringen", "--not-significant"])
    assert result.exit_code == 0, result.output
    assert changed(engine) == {}
    result = runner.invoke(app, ["document", "add", SLUG, "overordnet", "https://example.no/v4", "--label", "Ny paragraf", "--significant"])
    assert result.exit_code == 0, result.output
    assert changed(engine) == {"overordnet": ["hoering"]}
    assert "changed since its hearing hoering" in runner.invoke(app, ["document", "list", SLUG]).output


def test_a_significant_change_is_heard_again(engine):
    to_closed_hearing(engine)
    first_round = invitations(engine)
    assert len(first_round) == 3 and all(m.key.endswith("/r1") for m in first_round)
    with pytest.raises(DomainError) as refused:  # nothing changed yet: nothing to hear again
        do(engine, "hearing_reopen", stage="hoering", deadline="2025-03-14")
    assert refused.value.params["why"] == "nothing_changed"
    add(engine, label="Ny paragraf 5", url="https://example.no/v2", significant=True)
    with pytest.raises(DomainError) as refused:
        do(engine, "hearing_reopen", stage="hoering", deadline="2025-02-10")
    assert refused.value.params["why"] == "deadline_past"

    recorded = do(engine, "hearing_reopen", stage="hoering", deadline="2025-03-14", reason="ny paragraf 5")
    assert "round 2, deadline 2025-03-14" in recorded.message
    assert stage(engine, "hoering") == ("active", 2, "2025-03-14")
    assert stage(engine, "sluttbehandling")[0] == "pending"  # it waits for the hearing again
    assert changed(engine) == {}
    second_round = invitations(engine)[3:]
    assert len(second_round) == 3 and all("/2025-03-14/r2" in m.key for m in second_round)
    assert all("fredag 14. mars 2025" in m.body_text for m in second_round)
    with session_scope(engine) as s:
        assert {o.status for o in s.exec(select(PartyObligation).where(PartyObligation.kind == "hearing"))} == {"invited"}
    with pytest.raises(DomainError) as refused:
        do(engine, "forum_decision", forum="ASU", outcome="approved", date="2025-02-10", stage="sluttbehandling")
    assert refused.value.code == ErrorCode.stage_not_started

    for party in PARTIES:
        do(engine, "hearing_response", party=party, date="2025-02-10", stage="hoering")
    assert stage(engine, "hoering") == ("done", 2, "2025-03-14")
    assert stage(engine, "sluttbehandling")[0] == "active"
    assert changed(engine) == {}


def test_no_new_round_once_a_stage_after_the_hearing_is_decided(engine):
    to_closed_hearing(engine)
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-11-27", stage="sluttbehandling")
    add(engine, label="Ny paragraf 5", url="https://example.no/v2", significant=True)
    with pytest.raises(DomainError) as refused:
        do(engine, "hearing_reopen", stage="hoering", deadline="2025-03-14")
    assert refused.value.params["why"] == "decided_after" and "'sluttbehandling'" in str(refused.value)
    assert stage(engine, "hoering") == ("done", 1, "2024-09-10")
    result = runner.invoke(app, ["hearing", "reopen", SLUG, "--stage", "hoering", "--deadline", "2099-03-14"])
    assert result.exit_code == 2 and "already been decided on" in result.stderr
