"""Dashboard accounts and a party's own decision link, against a real SQLite database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import PartyOutcome, Role
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import AuditEntry, Party, PartyLink, PartyTreatment, Revision
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
    url = next(word for word in request.body_text.split() if "/p/" in word)
    token = url.rsplit("/p/", 1)[1]
    with session_scope() as s:
        assert links.check(s, get_settings().signing_key(), token, NOW).party_id == political["Malvik kommune"].id


def test_a_party_reports_its_own_decision_once(political):
    token = token_for(political["Malvik kommune"])
    recorded, _ = actions.report_by_link(token, outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), case_no="PS 4/25", now=NOW)
    assert recorded.changed
    with session_scope() as s:
        row = s.exec(select(PartyTreatment).where(PartyTreatment.party_id == political["Malvik kommune"].id)).one()
        assert (row.status.value, row.self_reported, row.case_no) == ("approved", True, "PS 4/25")
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
        decided_before = s.exec(select(PartyTreatment).where(PartyTreatment.party_id == political["Trondheim kommune"].id)).one().status
    assert decided_before.value == "sent"
