"""Migration 0006: hearing responses and party treatments become one table of party obligations.

A database filled the way the old schema (0005) was, through raw SQL, goes up to 0006, down
again and up again, on SQLite and PostgreSQL; every row keeps its stage, party and values.
A downgrade that would lose a row (or a value) refuses and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from .test_migrations import alembic_config, empty_db_url, enum_types, tables  # noqa: F401  (empty_db_url: fixture)

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
STAGES = [("utkast", "draft"), ("godkjenning", "forum_approval"), ("horing", "hearing"), ("behandling", "political_treatment")]
# Inserted in this order, so a party's id is not its place in the rows below.
PARTIES = ["Hitra kommune", "St. Olavs hospital HF", "Frøya kommune", "Stjørdal kommune", "Malvik kommune"]
HEARING_ROWS = [  # party, status, responded_on, note
    ("Malvik kommune", "invited", None, None),
    ("Stjørdal kommune", "responded", dt.date(2024, 9, 1), "Ingen merknader – men «æøå» må med"),
    ("St. Olavs hospital HF", "responded", dt.date(2024, 9, 3), None),
    ("Frøya kommune", "invited", None, "purret på telefon"),
]
TREATMENT_ROWS = [  # party, status, meeting_date, decided_on, case_no, self_reported
    ("Malvik kommune", "sent", None, None, None, False),
    ("Stjørdal kommune", "scheduled", dt.date(2024, 10, 15), None, None, False),
    ("St. Olavs hospital HF", "approved", dt.date(2024, 10, 15), dt.date(2024, 10, 16), "24/1234", True),
    ("Frøya kommune", "approved_with_reservations", dt.date(2024, 10, 20), dt.date(2024, 10, 21), "24/77", False),
    ("Hitra kommune", "rejected", None, dt.date(2024, 10, 22), None, True),
]

# Typed, so both backends read back dates and booleans alike.
OBLIGATION = sa.table(
    "partyobligation",
    *(sa.column(c, sa.Integer) for c in ("id", "stage_id", "party_id")),
    sa.column("kind", sa.String), sa.column("status", sa.String),
    sa.column("answered_on", sa.Date), sa.column("meeting_date", sa.Date),
    sa.column("case_no", sa.String), sa.column("note", sa.String), sa.column("self_reported", sa.Boolean),
)
HEARING = sa.table(
    "hearingresponse", sa.column("stage_id", sa.Integer), sa.column("party_id", sa.Integer),
    sa.column("status", sa.String), sa.column("responded_on", sa.Date), sa.column("note", sa.String),
)
TREATMENT = sa.table(
    "partytreatment", sa.column("stage_id", sa.Integer), sa.column("party_id", sa.Integer),
    sa.column("status", sa.String), sa.column("meeting_date", sa.Date), sa.column("decided_on", sa.Date),
    sa.column("case_no", sa.String), sa.column("self_reported", sa.Boolean),
)


@pytest.fixture
def at_0005(empty_db_url: str) -> Iterator[tuple[str, sa.Engine]]:  # noqa: F811  (the imported fixture)
    command.upgrade(alembic_config(empty_db_url), "0005")
    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    try:
        yield empty_db_url, engine
    finally:
        engine.dispose()


def fill_old_schema(engine: sa.Engine) -> tuple[dict[str, int], dict[str, int]]:
    """A revision with its stages, parties, hearing responses and treatments, as 0005 stored them."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO revision (slug, title, helsefellesskap, language, status, seq, plan_version, coordinators, reminders, created_at)"
            " VALUES ('r', 'R', 'H', 'nb', 'active', 0, 1, '[]', '{}', :now)"
        ), {"now": NOW})
        for position, (key, kind) in enumerate(STAGES):
            conn.execute(sa.text(
                "INSERT INTO stage (revision_id, position, key, kind, after, documents, forums, status, round)"
                " VALUES ((SELECT id FROM revision), :position, :key, :kind, '[]', '[]', '[]', 'active', 1)"
            ), {"position": position, "key": key, "kind": kind})
        for name in PARTIES:
            conn.execute(sa.text(
                "INSERT INTO party (revision_id, name, kind, org_number, email, body, language, active)"
                " VALUES ((SELECT id FROM revision), :name, 'municipality', '939865942', 'p@example.no', 'Kommunestyret', 'nn', true)"
            ), {"name": name})
        stages = dict(conn.execute(sa.text("SELECT key, id FROM stage")).all())
        parties = dict(conn.execute(sa.text("SELECT name, id FROM party")).all())
        for party, status, responded_on, note in HEARING_ROWS:
            conn.execute(sa.text(
                "INSERT INTO hearingresponse (stage_id, party_id, status, responded_on, note)"
                " VALUES (:stage, :party, :status, :responded_on, :note)"
            ), {"stage": stages["horing"], "party": parties[party], "status": status, "responded_on": responded_on, "note": note})
        for party, status, meeting_date, decided_on, case_no, self_reported in TREATMENT_ROWS:
            conn.execute(sa.text(
                "INSERT INTO partytreatment (stage_id, party_id, status, meeting_date, decided_on, case_no, self_reported)"
                " VALUES (:stage, :party, :status, :meeting_date, :decided_on, :case_no, :self_reported)"
            ), {"stage": stages["behandling"], "party": parties[party], "status": status, "meeting_date": meeting_date,
                "decided_on": decided_on, "case_no": case_no, "self_reported": self_reported})
    return stages, parties


def old_hearing_rows(stages: dict[str, int], parties: dict[str, int]) -> list[tuple]:
    return sorted((stages["horing"], parties[p], s, d, n) for p, s, d, n in HEARING_ROWS)


def old_treatment_rows(stages: dict[str, int], parties: dict[str, int]) -> list[tuple]:
    return sorted((stages["behandling"], parties[p], *rest) for p, *rest in TREATMENT_ROWS)


def expected_obligations(stages: dict[str, int], parties: dict[str, int]) -> list[tuple]:
    hearing = [(stages["horing"], parties[p], "hearing", s, d, None, None, n, False) for p, s, d, n in HEARING_ROWS]
    treatment = [
        (stages["behandling"], parties[p], "political_treatment", s, decided, meeting, case_no, None, self_reported)
        for p, s, meeting, decided, case_no, self_reported in TREATMENT_ROWS
    ]
    return sorted(hearing + treatment)


def rows(engine: sa.Engine, table: sa.TableClause, *, with_id: bool = False) -> list[tuple]:
    columns = [c for c in table.c if with_id or c.name != "id"]
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(*columns)))


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def obligation_table_differences(engine: sa.Engine) -> list:
    """What autogenerate would change about partyobligation alone (the old classes may still be in the models)."""

    def only_obligations(obj, name, type_, reflected, compare_to) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table == "partyobligation"

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": only_obligations, "compare_type": True})
        return [d for d in compare_metadata(context, SQLModel.metadata) if not _added_later(d)]


# Columns and indexes of partyobligation that later migrations add: at 0006 the table lacks exactly these.
LATER_COLUMNS = {
    "approved_versions": "0011", "signer": "0013", "signer_title": "0013",
    "reservations": "0014", "minutes_text": "0014", "minutes_file_id": "0014", "minutes_file_name": "0014",
}
LATER_INDEXES = {"ix_partyobligation_meeting_date": "0022"}


def _added_later(difference: tuple) -> bool:
    if difference[0] == "add_column":
        return difference[3].name in LATER_COLUMNS
    if difference[0] == "add_fk":
        return set(difference[1].column_keys) <= set(LATER_COLUMNS)
    if difference[0] == "add_index":
        return difference[1].name in LATER_INDEXES
    return False


def test_0006_carries_every_hearing_response_and_treatment_up_down_and_up(at_0005):
    url, engine = at_0005
    cfg = alembic_config(url)
    stages, parties = fill_old_schema(engine)
    expected = expected_obligations(stages, parties)

    command.upgrade(cfg, "0006")
    assert {"hearingresponse", "partytreatment"}.isdisjoint(tables(engine))
    assert {"hearingstatus", "treatmentstatus"}.isdisjoint(enum_types(engine))
    assert rows(engine, OBLIGATION) == expected
    assert obligation_table_differences(engine) == []

    command.downgrade(cfg, "0005")
    assert "partyobligation" not in tables(engine)
    if engine.dialect.name == "postgresql":
        assert {"hearingstatus", "treatmentstatus"} <= enum_types(engine)
    assert rows(engine, HEARING) == old_hearing_rows(stages, parties)
    assert rows(engine, TREATMENT) == old_treatment_rows(stages, parties)

    command.upgrade(cfg, "0006")
    assert rows(engine, OBLIGATION) == expected
    assert current_revision(engine) == "0006"


def test_0006_refuses_a_stage_and_party_in_both_old_tables_and_changes_nothing(at_0005):
    url, engine = at_0005
    stages, parties = fill_old_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO hearingresponse (stage_id, party_id, status) VALUES (:stage, :party, 'invited')"
        ), {"stage": stages["behandling"], "party": parties["Malvik kommune"]})
    hearing_before, treatment_before = rows(engine, HEARING), rows(engine, TREATMENT)

    with pytest.raises(RuntimeError, match=r"1 \(stage, party\) pair\(s\) have both a hearingresponse and a partytreatment"):
        command.upgrade(alembic_config(url), "0006")

    assert current_revision(engine) == "0005"
    assert "partyobligation" not in tables(engine)
    assert (rows(engine, HEARING), rows(engine, TREATMENT)) == (hearing_before, treatment_before)


# (what makes a row that the old tables cannot hold, what the error says, how to repair it)
UNFIT_ROWS = {
    "unknown kind": (
        (
            "INSERT INTO partyobligation (stage_id, party_id, kind, status, self_reported)"
            " VALUES ((SELECT id FROM stage WHERE key = 'utkast'), (SELECT id FROM party WHERE name = 'Malvik kommune'),"
            " 'signing', 'signed', false)"
        ),
        r"1 row\(s\) of kind 'signing'",
        "DELETE FROM partyobligation WHERE kind = 'signing'",
    ),
    "unknown status": (
        "UPDATE partyobligation SET status = 'withdrawn' WHERE kind = 'hearing' AND status = 'invited'",
        r"2 row\(s\) of kind 'hearing' with a status hearingresponse does not know",
        "UPDATE partyobligation SET status = 'invited' WHERE status = 'withdrawn'",
    ),
    "treatment with a note": (
        "UPDATE partyobligation SET note = 'x' WHERE kind = 'political_treatment' AND status = 'rejected'",
        r"1 row\(s\) of kind 'political_treatment' with a note",
        "UPDATE partyobligation SET note = NULL WHERE kind = 'political_treatment'",
    ),
    "hearing with a case number": (
        "UPDATE partyobligation SET case_no = '24/1' WHERE kind = 'hearing' AND status = 'responded'",
        r"2 row\(s\) of kind 'hearing' with a case_no",
        "UPDATE partyobligation SET case_no = NULL WHERE kind = 'hearing'",
    ),
}


@pytest.mark.parametrize("unfit", list(UNFIT_ROWS))
def test_0006_downgrade_refuses_rows_the_old_tables_cannot_hold_and_changes_nothing(at_0005, unfit):
    url, engine = at_0005
    cfg = alembic_config(url)
    stages, parties = fill_old_schema(engine)
    command.upgrade(cfg, "0006")
    spoil, message, repair = UNFIT_ROWS[unfit]
    with engine.begin() as conn:
        conn.execute(sa.text(spoil))
    before = (rows(engine, OBLIGATION, with_id=True), tables(engine), enum_types(engine))

    with pytest.raises(RuntimeError, match=message):
        command.downgrade(cfg, "0005")

    assert current_revision(engine) == "0006"
    assert (rows(engine, OBLIGATION, with_id=True), tables(engine), enum_types(engine)) == before

    with engine.begin() as conn:  # only that row stood in the way
        conn.execute(sa.text(repair))
    command.downgrade(cfg, "0005")
    assert rows(engine, HEARING) == old_hearing_rows(stages, parties)
    assert rows(engine, TREATMENT) == old_treatment_rows(stages, parties)
