"""Dashboard accounts and a party's own decision link, against a real SQLite database."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import PartyOutcome, Role
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import AuditEntry, Party, PartyLink, PartyObligation, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links
from avtaleflyt.tasks.accounts import add_user, authenticate

from .plans import drive_to_political_treatment

SLUG = "testrevisjon-2024"
NOW = dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)
TODAY = dt.date(2025, 2, 10)


def test_passwords_are_argon2_and_checked(domain_db_url):
    with session_scope() as s:
        user = add_user(s, "Kari", "Kari Nordmann", Role.coordinator, "riktig hest batteri stift")
        assert user.password_hash.startswith("$argon2id$")
        assert user.username == "kari"
    with session_scope() as s:
        assert authenticate(s, "KARI", "riktig hest batteri stift").role == Role.coordinator
        assert authenticate(s, "kari", "feil passord her") is None
        assert authenticate(s, "ola", "riktig hest batteri stift") is None
    with pytest.raises(DomainError, match="at least 12 characters"), session_scope() as s:
        add_user(s, "ola", "Ola", Role.reader, "kort")
    with pytest.raises(DomainError, match="'kari' exists already"), session_scope() as s:
        add_user(s, "kari", "Kari", Role.reader, "et annet langt passord")


@pytest.fixture
def political(domain_db_url):
    """The small plan driven to political treatment: decision requests (with links) enqueued."""
    drive_to_political_treatment(today=TODAY)
    with session_scope() as s:
        return {p.name: p for p in s.exec(select(Party))}


def report_token(body_text: str) -> str:
    """The token of the letter's own report link (…/p/TOKEN), not of the links to its papers (…/p/TOKEN/saksframlegg.docx)."""
    return next(m.group(1) for word in body_text.split() if (m := re.search(r"/p/([^/\s]+)$", word)))


def token_for(party: Party) -> str:
    with session_scope() as s:
        revision = s.exec(select(Revision)).one()
        return links.issue(s, get_settings().signing_key(), revision, party, source_key=f"test/{party.id}", expires_at=NOW + dt.timedelta(days=30))


def test_the_decision_request_carries_a_working_link(political):
    with session_scope() as s:
        assert len(s.exec(select(PartyLink)).all()) == 3  # one per party's decision request
    from avtaleflyt.models.tables import OutboxMessage

    with session_scope() as s:
        request = s.exec(select(OutboxMessage).where(OutboxMessage.event == "decision_request", OutboxMessage.to_address == "postmottak@malvik.example.no")).one()
    token = report_token(request.body_text)
    with session_scope() as s:
        assert links.check(s, get_settings().signing_key(), token, NOW).party_id == political["Malvik kommune"].id


def test_a_party_reports_its_own_decision_once(political):
    token = token_for(political["Malvik kommune"])
    recorded, _ = actions.report_by_link(token, outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), case_no="PS 4/25", now=NOW)
    assert recorded.changed
    with session_scope() as s:
        row = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == political["Malvik kommune"].id)).one()
        assert (row.status, row.self_reported, row.case_no) == ("approved", True, "PS 4/25")
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "party.decided")).one().actor == "Malvik kommune (self-reported)"
    with pytest.raises(links.LinkRefused, match="was used on"):
        actions.report_by_link(token, outcome=PartyOutcome.rejected, on=dt.date(2025, 2, 6), case_no=None, now=NOW)


def test_tampered_expired_and_foreign_links_are_refused(political):
    token = token_for(political["Trondheim kommune"])
    secret = get_settings().signing_key()
    with session_scope() as s:
        with pytest.raises(links.LinkRefused, match="not valid"):
            links.check(s, secret, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), NOW)
        with pytest.raises(links.LinkRefused, match="expired on"):
            links.check(s, secret, token, NOW + dt.timedelta(days=31))
        with pytest.raises(links.LinkRefused, match="not valid"):
            links.check(s, "another installation's secret", token, NOW)
        forged = links._serializer(secret).dumps("0" * 32)
        with pytest.raises(links.LinkRefused, match="not known"):
            links.check(s, secret, forged, NOW)
    with session_scope() as s:
        decided_before = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == political["Trondheim kommune"].id)).one().status
    assert decided_before == "sent"


# --------------------------------------------------------------------------- a party that has left; links withdrawn and reused


def request_token(party_name: str) -> str:
    """The token in the decision request the party was sent."""
    from avtaleflyt.models.tables import OutboxMessage

    with session_scope() as s:
        party = s.exec(select(Party).where(Party.name == party_name)).one()
        letter = s.exec(select(OutboxMessage).where(OutboxMessage.event == "decision_request", OutboxMessage.party_id == party.id)).one()
    return report_token(letter.body_text)


def leave(party_name: str) -> None:
    """A plan shift without `party_name` in it: the party leaves (a merger)."""
    from avtaleflyt.tasks.shift import apply_shift

    from .plans import SMALL_PLAN

    line = next(line for line in SMALL_PLAN.splitlines(keepends=True) if f"name: {party_name}," in line)
    with session_scope() as s:
        apply_shift(s, SLUG, SMALL_PLAN.replace(line, ""), actor="t", reason="sammenslåing", today=TODAY)


def test_a_party_that_has_left_cannot_decide_by_command_or_link(political):
    token = request_token("Trondheim kommune")
    leave("Trondheim kommune")
    with session_scope() as s:
        link = s.exec(select(PartyLink).where(PartyLink.party_id == political["Trondheim kommune"].id)).one()
        assert link.revoked_at is not None and "left the revision" in link.revoked_because
    with pytest.raises(DomainError, match="Trondheim kommune left the revision on 2025-02-10"), session_scope() as s:
        from avtaleflyt.tasks import records

        records.record_party_decision(s, SLUG, party="Trondheim kommune", outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), today=TODAY, actor="t")
    with pytest.raises(links.LinkRefused, match="withdrawn on .*left the revision"):
        actions.report_by_link(token, outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), case_no=None, now=NOW)
    # A link issued by hand (not through the letters) is refused too: the party is not active.
    fresh = token_for(political["Trondheim kommune"])
    with pytest.raises(links.LinkRefused, match="has left the revision"):
        actions.report_by_link(fresh, outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), case_no=None, now=NOW)
    with session_scope() as s:
        row = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == political["Trondheim kommune"].id)).one()
        assert row.status == "sent"


def test_a_recorded_decision_withdraws_the_partys_link(political):
    from avtaleflyt.tasks import records

    token = request_token("Malvik kommune")
    with session_scope() as s:
        records.record_party_decision(s, SLUG, party="Malvik kommune", outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), today=TODAY, actor="t")
    with pytest.raises(links.LinkRefused, match="withdrawn on .*the decision is recorded"):
        actions.report_by_link(token, outcome=PartyOutcome.rejected, on=dt.date(2025, 2, 6), case_no=None, now=NOW)


def test_a_reminder_reuses_the_partys_working_link_and_rotates_a_stale_one(political):
    from avtaleflyt.models.enums import EmailEvent
    from avtaleflyt.models.reminders import Due
    from avtaleflyt.tasks import compose

    party = political["St. Olavs hospital HF"]
    first = request_token(party.name)

    def remind(key: str) -> str:
        due = Due(EmailEvent.decision_reminder, "politisk", party.id, dt.date(2025, 3, 1), key, 14)
        with session_scope() as s:
            message = compose.reminder(s, s.exec(select(Revision)).one(), due)
        return report_token(message.body_text)

    assert remind("reminder-1") == first  # the 120-day link still works: no new one
    with session_scope() as s:
        assert len(s.exec(select(PartyLink).where(PartyLink.party_id == party.id)).all()) == 1
        link = s.exec(select(PartyLink).where(PartyLink.party_id == party.id)).one()
        link.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=links.REUSE_MIN_DAYS - 1)  # nearly run out
        s.add(link)
    second = remind("reminder-2")
    assert second != first
    assert remind("reminder-2") == second  # the same letter composed again: the same link
    with session_scope() as s:
        rows = {r.nonce: r for r in s.exec(select(PartyLink).where(PartyLink.party_id == party.id))}
        assert len(rows) == 2
        assert sum(r.revoked_at is None for r in rows.values()) == 1  # only one link works
    with pytest.raises(links.LinkRefused, match="replaced by a newer link"):
        with session_scope() as s:
            links.check(s, get_settings().signing_key(), first, dt.datetime.now(dt.timezone.utc))
    with session_scope() as s:
        assert links.check(s, get_settings().signing_key(), second, dt.datetime.now(dt.timezone.utc)).party_id == party.id
