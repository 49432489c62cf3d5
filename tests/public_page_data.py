"""A public revision for the public page's tests: every string field of the plan carries its own
marker (`mrkNNNNNx`), driven to political treatment with decisions, documents, links, users and
mail, and then (`mark_database`) every text column of every row in the database set to a marker
of its own. `PUBLIC_PLAN_MARKERS` / `public_columns` say which markers the page may show."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from sqlalchemy import JSON, Enum, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from sqlmodel import select as sql_select

SLUG = "offentlig-test"
TODAY = dt.date(2025, 2, 10)
MARKER = re.compile(r"mrk\d{5}x")

_numbers = itertools.count(1)


def marker() -> str:
    return f"mrk{next(_numbers):05d}x"


# The plan: (marker name, public?) for each string field, by its place.
P = {name: marker() for name in (
    "helsefellesskap", "revision_nb", "revision_nn", "coord_name", "coord_email", "contact_name", "contact_email", "contact_title",
    "reference", "doc_public_nb", "doc_public_nn", "doc_private", "trust_name", "trust_email", "trust_body", "trust_records",
    "muni_name", "muni_email", "muni_body", "muni_records", "nn_name", "nn_email", "nn_body", "forum_asu", "forum_asu_email",
    "forum_fu", "forum_fu_email", "stage_draft", "stage_hearing_nb", "stage_hearing_nn", "stage_final", "stage_political",
    "resolution", "resolution_nn", "ms_what", "ms_about", "ms_responsible", "ms_part", "ms_written", "alt_title", "meeting_body",
)}
PHONE_DIGITS = "41 52 63 74"
# What the page shows from the plan itself: the records links (the rest it reads from the database).
PUBLIC_PLAN_MARKERS = {P["trust_records"], P["muni_records"]}
# Marked public in the plan but shown from the database's copy (so they may appear, and need not).
MAY_SHOW_PLAN_MARKERS = {P[k] for k in (
    "helsefellesskap", "revision_nb", "revision_nn", "doc_public_nb", "doc_public_nn", "trust_name", "muni_name", "nn_name",
    "forum_asu", "forum_fu", "stage_draft", "stage_hearing_nb", "stage_hearing_nn", "stage_final", "stage_political",
)}

PLAN = f"""
helsefellesskap: {P['helsefellesskap']}
revision: {{nb: {P['revision_nb']}, nn: {P['revision_nn']}}}
slug: {SLUG}
public: true
coordinators: [{{name: {P['coord_name']}, email: {P['coord_email']}@example.no}}]
contact: {{name: {P['contact_name']}, email: {P['contact_email']}@example.no, title: {P['contact_title']}, phone: "+47 {PHONE_DIGITS}"}}
reference: {P['reference']}
documents:
  - {{key: avtale, title: {{nb: {P['doc_public_nb']}, nn: {P['doc_public_nn']}}}, public: true}}
  - {{key: internt, title: {P['doc_private']}}}
parties:
  - {{name: {P['trust_name']}, kind: health_trust, org_number: "883974832", email: {P['trust_email']}@example.no, body: {P['trust_body']},
      records_url: "https://innsyn.example.no/{P['trust_records']}"}}
  - {{name: {P['muni_name']}, kind: municipality, org_number: "942110464", email: {P['muni_email']}@example.no, body: {P['muni_body']},
      records_url: "https://postliste.example.no/{P['muni_records']}?sak=1",
      meetings: [{{date: 2025-02-20, body: {P['meeting_body']}}}]}}
  - {{name: {P['nn_name']}, kind: municipality, org_number: "938726027", email: {P['nn_email']}@example.no, body: {P['nn_body']}, language: nn}}
forums:
  - {{key: ASU, name: {P['forum_asu']}, email: {P['forum_asu_email']}@example.no}}
  - {{key: FU, name: {P['forum_fu']}, email: {P['forum_fu_email']}@example.no}}
stages:
  - {{key: utkast, kind: draft, title: {P['stage_draft']}, due: 2024-06-14}}
  - {{key: hoering, kind: hearing, title: {{nb: {P['stage_hearing_nb']}, nn: {P['stage_hearing_nn']}}}, opens: 2024-06-20, deadline: 2024-09-10}}
  - {{key: slutt, kind: forum_approval, title: {P['stage_final']}, forums: [ASU, FU], meeting: 2024-11-27}}
  - key: politisk
    kind: political_treatment
    title: {P['stage_political']}
    deadline: 2025-03-01
    resolution: {{municipality: "{P['resolution']} {{party}}", health_trust: "{P['resolution']} {{party}}"}}
    resolution_nn: {{municipality: "{P['resolution_nn']} {{party}}", health_trust: "{P['resolution_nn']} {{party}}"}}
milestones:
  - {{date: 2025-05, written: {P['ms_written']}, what: {P['ms_what']}, about: {P['ms_about']}, responsible: {P['ms_responsible']}, part: {P['ms_part']}}}
"""

# What the driving records (the database's own markers are set afterwards by mark_database).
CASE_NO_TRUST = marker()
CASE_NO_MUNI = marker()
CASE_NO_FORUM = marker()
RESERVATIONS = marker()
NOTE = marker()
MINUTES = marker()
CLOSE_REASON = marker()
VERSION_PUBLIC = marker()
VERSION_PRIVATE = marker()
FILE_PUBLIC = marker()
FILE_PRIVATE = marker()
ACTOR = marker()
USER_NAME = marker()
PUBLIC_FILE_BYTES = b"%PDF-1.4 the agreement as approved\n"


def drive(engine: Engine) -> str:
    """Store PLAN and drive it: forums decide, the hearing closes, two parties decide, documents
    get versions, a party link and a user exist. Returns a party link's token."""
    from avtaleflyt.db import session_scope
    from avtaleflyt.models.enums import ForumOutcome, PartyOutcome, Role
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.models.tables import AccountEvent, Party, Revision, UserSession
    from avtaleflyt.tasks import documents, links, records
    from avtaleflyt.tasks.accounts import add_user
    from avtaleflyt.tasks.party_returns import Returns
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision

    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key=None, actor=ACTOR),
        lambda s: records.close_hearing(s, SLUG, stage_key=None, reason=CLOSE_REASON, actor=ACTOR),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=TODAY, case_no=CASE_NO_FORUM, actor=ACTOR),
        lambda s: records.record_forum_decision(s, SLUG, forum="FU", outcome=ForumOutcome.approved, on=dt.date(2024, 11, 28), today=TODAY, actor=ACTOR),
    ]
    with session_scope(engine) as s:
        store_revision(s, parse_plan(PLAN), PLAN, ACTOR)
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    for step in steps:
        with session_scope(engine) as s:
            step(s)
        with session_scope(engine) as s:
            reconcile_revision(s, SLUG, today=TODAY)
    with session_scope(engine) as s:
        documents.add_version(s, SLUG, "avtale", label=VERSION_PUBLIC, on=dt.date(2025, 1, 5), today=TODAY, actor=ACTOR, max_bytes=10**6, significant=False,
                              upload=documents.Upload(f"{FILE_PUBLIC}.pdf", PUBLIC_FILE_BYTES))
        documents.add_version(s, SLUG, "internt", label=VERSION_PRIVATE, on=dt.date(2025, 1, 6), today=TODAY, actor=ACTOR, max_bytes=10**6, significant=False,
                              upload=documents.Upload(f"{FILE_PRIVATE}.pdf", b"%PDF-1.4 internal\n"))
    with session_scope(engine) as s:
        records.record_party_decision(
            s, SLUG, party=P["muni_name"], outcome=PartyOutcome.approved_with_reservations, on=dt.date(2025, 2, 3), today=TODAY,
            case_no=CASE_NO_MUNI, actor=ACTOR, returns=Returns(note=NOTE, reservations=RESERVATIONS, minutes_text=MINUTES),
        )
    with session_scope(engine) as s:
        records.record_party_decision(s, SLUG, party=P["trust_name"], outcome=PartyOutcome.approved, on=dt.date(2025, 2, 4), today=TODAY, case_no=CASE_NO_TRUST, actor=ACTOR)
    with session_scope(engine) as s:
        revision = s.exec(sql_select(Revision).where(Revision.slug == SLUG)).one()
        party = s.exec(sql_select(Party).where(Party.revision_id == revision.id, Party.name == P["nn_name"])).one()
        token = links.issue(s, "test-secret", revision, party, source_key="t", expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
        user = add_user(s, "kari", USER_NAME, Role.coordinator, "et langt nok passord")
        s.flush()
        s.add(UserSession(key_hash="0" * 64, user_id=user.id, expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)))
        s.add(AccountEvent(action="login", username="kari", ip="192.0.2.1"))
    return token


# Columns the page needs as they are (keys, plan dates, kinds and statuses kept as text), and the
# plan in force it reads the public flags from (its own markers are the plan's, above).
STRUCTURAL = {
    ("revision", "slug"), ("document", "key"), ("forum", "key"), ("stage", "key"), ("forumdecision", "forum_key"),
    ("party", "org_number"), ("partyobligation", "kind"), ("partyobligation", "status"), ("documentversion", "url"),
    ("stage", "opens"), ("stage", "due"), ("stage", "meeting"), ("stage", "deadline"),
    ("stage", "after"), ("stage", "documents"), ("stage", "forums"), ("stage", "meetings"), ("stage", "parties"),
    ("planversion", "effective"),
}


def _is_text(kind: object) -> bool:
    """String, Text, and SQLModel's AutoString (a TypeDecorator over String)."""
    return isinstance(kind, (String, Text)) or isinstance(getattr(kind, "impl", None), (String, Text))


def mark_database(engine: Engine) -> dict[str, tuple[str, str, object]]:
    """Every text and JSON column of every row (but STRUCTURAL) set to a marker of its own.
    Returns marker → (table, column, the row's id)."""
    found: dict[str, tuple[str, str, object]] = {}
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            columns = [
                c for c in table.columns
                if (table.name, c.name) not in STRUCTURAL and not c.primary_key and not c.foreign_keys
                and (isinstance(c.type, JSON) or (_is_text(c.type) and not isinstance(c.type, Enum)))
            ]
            if not columns:
                continue
            key = list(table.primary_key.columns)  # `id`, or another key (digestoptout: the address)
            for row in conn.execute(select(*key)).all():
                values = {}
                for c in columns:
                    m = marker()
                    found[m] = (table.name, c.name, row[0] if len(key) == 1 else tuple(row))
                    values[c.name] = {"marker": m} if isinstance(c.type, JSON) else m
                conn.execute(update(table).where(*(k == v for k, v in zip(key, row, strict=True))).values(**values))
    return found


def public_columns(engine: Engine) -> set[tuple[str, str]]:
    """The (table, column) the page may show, whatever the row."""
    return {
        ("revision", "title"), ("revision", "title_nn"), ("revision", "helsefellesskap"),
        ("party", "name"), ("forum", "name"), ("stage", "title"), ("stage", "title_nn"),
        ("partyobligation", "case_no"), ("partyobligation", "reservations"), ("forumdecision", "case_no"),
    }


def public_rows(engine: Engine) -> set[tuple[str, str, object]]:
    """Row by row: the public document's titles, its versions' labels and file names (its download's name)."""
    with engine.connect() as conn:
        doc = SQLModel.metadata.tables["document"]
        version = SQLModel.metadata.tables["documentversion"]
        (doc_id,) = conn.execute(select(doc.c.id).where(doc.c.key == "avtale")).one()
        versions = [r.id for r in conn.execute(select(version.c.id).where(version.c.document_id == doc_id))]
    return {("document", "title", doc_id), ("document", "title_nn", doc_id)} | {("documentversion", c, v) for v in versions for c in ("label", "file_name")}
