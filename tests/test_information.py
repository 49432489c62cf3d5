"""Information items (til orientering, issue 14): a stage kind whose forums and parties are told,
with the documents, and where nobody decides. It closes on its date (the sweep, on the clock it is
given) or when a coordinator marks it done (the command, the CLI's `information done`, the page's form).

Through actions.execute and the sweep on both databases (the reconcile pass in the command's
transaction); the plan check on its own.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.enums import Role
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import AuditEntry, OutboxMessage, PartyObligation, Revision, Stage
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision
from avtaleflyt.tasks.sweep import sweep_revision

from .plans import SMALL_PLAN
from .web import form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 1, 10)
MALVIK = "Malvik kommune"  # nynorsk

# PSU has an address (a forum without one gets no letter); a second document that the item does not send.
BASE = SMALL_PLAN.replace(
    "{key: PSU, name: Politisk samarbeidsutvalg}", "{key: PSU, name: Politisk samarbeidsutvalg, email: psu@example.no}"
).replace(
    "  - {key: overordnet, title: Overordnet samarbeidsavtale}\n",
    "  - {key: overordnet, title: Overordnet samarbeidsavtale}\n  - {key: retningslinjer, title: Retningslinjer for samarbeid}\n",
)
ITEM = "  - {key: orientering, kind: information, after: [utkast], forums: [PSU], parties: [Trondheim kommune, Malvik kommune], documents: [overordnet], date: 2025-01-15}\n"
INFO_PLAN = BASE.rstrip("\n") + "\n" + ITEM


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(INFO_PLAN), INFO_PLAN, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    return engine


def do(engine, action: str, **fields):  # noqa: ANN201
    return actions.execute(parse_command({"action": action, "revision": SLUG, **fields}), actor="kari", clock=FixedClock(), engine=engine)[0]


def stages(engine) -> dict[str, str]:
    with session_scope(engine) as s:
        return {st.key: st.status.value for st in s.exec(select(Stage).order_by(Stage.position))}


def notices(engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.event == "information_notice").order_by(OutboxMessage.id)))


def problems(text: str) -> list[str]:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text)
    return [str(p) for p in caught.value.problems]


# --- the plan ----------------------------------------------------------------------------


def test_the_plan_takes_an_information_item_with_forums_parties_documents_and_a_date():
    plan = parse_plan(INFO_PLAN).plan
    (item,) = [s for s in plan.stages if s.key == "orientering"]
    assert (str(item.deadline), item.forums, item.parties, item.documents) == ("2025-01-15", ["PSU"], ["Trondheim kommune", MALVIK], ["overordnet"])
    every = parse_plan(BASE.rstrip("\n") + "\n  - {key: o, kind: information, after: [utkast], parties: all, date: 2025-01-15}\n").plan.stages[-1]
    assert every.parties == "all" and every.columns(["overordnet", "retningslinjer"]) == {
        "documents": ["overordnet", "retningslinjer"], "forums": [], "required": None, "parties": "all",  # none named: every document
    }


def test_plan_check_names_unknown_forums_parties_and_documents_with_their_place():
    bad = BASE.rstrip("\n") + "\n  - {key: o, kind: information, after: [utkast], forums: [PSU, HSU], parties: [Trondheim kommune, Orkland kommune], documents: [avtale], date: 2025-01-15}\n"
    found = problems(bad)
    assert any(p.endswith("stages[5].forums[1]: unknown forum 'HSU'; known: ASU, FU, PSU, fagrad") for p in found), found
    assert any("stages[5].parties[1]: unknown party 'Orkland kommune'; known: Malvik kommune, St. Olavs hospital HF, Trondheim kommune" in p for p in found), found
    assert any("stages[5].documents[0]: unknown document 'avtale'" in p for p in found), found
    assert all("line " in p for p in found if "stages[5]" in p), "each problem names its line"


def test_plan_check_wants_at_least_one_recipient_and_a_date():
    found = problems(BASE.rstrip("\n") + "\n  - {key: o, kind: information, after: [utkast], documents: [overordnet], date: 2025-01-15}\n")
    assert any("stages[5]: an information item tells someone: give it forums: and/or parties:" in p for p in found), found
    assert any("stages[5].date" in p for p in problems(BASE.rstrip("\n") + "\n  - {key: o, kind: information, after: [utkast], parties: all}\n"))


# --- on the database ---------------------------------------------------------------------


def test_the_forum_and_the_named_parties_are_told_with_the_documents_and_nobody_decides(engine):
    assert notices(engine) == [] and stages(engine)["orientering"] == "pending"
    do(engine, "draft_complete")
    assert stages(engine)["orientering"] == "active"
    sent = {m.to_name: m for m in notices(engine)}
    assert sorted(sent) == [MALVIK, "Politisk samarbeidsutvalg", "Trondheim kommune"]  # not the health trust: not named
    assert sent["Politisk samarbeidsutvalg"].to_address == "psu@example.no"
    for m in sent.values():
        assert "Overordnet samarbeidsavtale" in m.body_text and "Retningslinjer for samarbeid" not in m.body_text  # only its documents
        assert "onsdag 15. januar 2025" in m.body_text and "Orienteres i: Politisk samarbeidsutvalg" in m.body_text.replace("Orienterast", "Orienteres")
        assert m.ics and "DTSTART;VALUE=DATE:20250115" in m.ics and "Til orientering: Testrevisjon 2024" in m.ics
    assert sent[MALVIK].language == "nn" and "treng ikkje svare" in sent[MALVIK].body_text
    assert "trenger ikke svare" in sent["Trondheim kommune"].body_text and sent["Trondheim kommune"].subject == "Til orientering 15.01.2025: orientering"
    with session_scope(engine) as s:
        assert s.exec(select(PartyObligation)).all() == []  # nobody owes it an answer
        assert {st.key: st.parties for st in s.exec(select(Stage))}["orientering"] == ["Trondheim kommune", MALVIK]
    # another pass sends nothing again
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    assert len(notices(engine)) == 3


def test_a_party_left_out_hears_nothing_and_a_plan_with_all_tells_every_party(domain_db_url):
    engine = engine_for(domain_db_url)
    plan = BASE.rstrip("\n") + "\n  - {key: alle, kind: information, after: [utkast], parties: all, date: 2025-01-15}\n"
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    do(engine, "draft_complete")
    assert sorted(m.to_name for m in notices(engine)) == [MALVIK, "St. Olavs hospital HF", "Trondheim kommune"]  # no forum named


def test_it_closes_on_its_date_by_the_sweep(engine):
    do(engine, "draft_complete")
    with session_scope(engine) as s:
        assert sweep_revision(s, SLUG, dt.date(2025, 1, 14)).closed == []
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=dt.date(2025, 1, 14))
    assert stages(engine)["orientering"] == "active"
    with session_scope(engine) as s:
        assert sweep_revision(s, SLUG, dt.date(2025, 1, 15)).closed == ["orientering"]
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=dt.date(2025, 1, 15))
    assert stages(engine)["orientering"] == "done"
    with session_scope(engine) as s:
        assert sweep_revision(s, SLUG, dt.date(2025, 1, 16)).closed == []  # done: nothing more
        assert s.exec(select(Stage).where(Stage.key == "orientering")).one().closed_reason == "presented on 2025-01-15"
        (completed,) = s.exec(select(OutboxMessage).where(OutboxMessage.event == "stage_completed", OutboxMessage.stage_key == "orientering")).all()
    assert "Fasen «orientering» i «Testrevisjon 2024» ble avsluttet onsdag 15. januar 2025." in completed.body_text
    assert "Utkastet er ferdig" not in completed.body_text  # said of a draft only


def test_it_closes_when_marked_done_once(engine):
    with pytest.raises(DomainError) as caught:
        do(engine, "information_done")
    assert caught.value.code == ErrorCode.no_open_stage
    do(engine, "draft_complete")
    recorded = do(engine, "information_done", note="lagt fram i PSU-møtet")
    assert recorded.changed and stages(engine)["orientering"] == "done"
    with pytest.raises(DomainError) as caught:
        do(engine, "information_done", stage="orientering")
    assert caught.value.code == ErrorCode.stage_done
    with session_scope(engine) as s:
        (entry,) = s.exec(select(AuditEntry).where(AuditEntry.action == "information.done")).all()
        assert (entry.actor, entry.note) == ("kari", "lagt fram i PSU-møtet")
        assert s.exec(select(Stage).where(Stage.key == "orientering")).one().closed_reason == "marked done by kari on 2025-01-10"


def test_the_page_offers_the_form_and_records_it(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    do(engine, "draft_complete")
    client = log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="form-information-done"' in page and '<option value="orientering">orientering</option>' in page
    answer = client.post(f"/revisions/{SLUG}/record/information-done", data={"csrf_token": form_token(page), "stage": "orientering", "note": "gitt"})
    assert answer.status_code == 200 and "Registrert: orienteringen «orientering» er gitt" in answer.text
    assert stages(engine)["orientering"] == "done"
    with session_scope(engine) as s:
        assert s.exec(select(Revision.seq)).one() >= 2


def test_the_read_side_shows_it_through_the_registry(engine, monkeypatch):
    """revision show, the Fremdriftsplan, the plan's calendar, the digest and the page name it without
    knowing the kind: its words are its `KindWords` ("Til orientering")."""
    from avtaleflyt.tasks import export
    from avtaleflyt.tasks.digests import coordinator_digests
    from avtaleflyt.tasks.status import revision_views

    do(engine, "draft_complete")
    with session_scope(engine) as s:
        (view,) = revision_views(s, slug=SLUG, today=TODAY)
        item = next(st for st in view.stages if st.key == "orientering")
        assert (item.kind, item.status, item.progress, str(item.dates["deadline"])) == ("information", "active", "to be presented", "2025-01-15")
        fremdrift = export.plan_html(s, SLUG, today=TODAY)
        assert '<td class="when">15.01.2025</td><td>Til orientering</td><td>orientering</td>' in fremdrift
        assert "SUMMARY:Til orientering: orientering" in export.plan_ics(s, SLUG, stamp=FixedClock().now()).replace("\r\n ", "")
        (digest, *_) = coordinator_digests(s, dt.date(2025, 1, 13))
        assert "Til orientering" in digest.body_text and "orientering" in digest.body_text
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    client = log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert "orientering" in page and "Til orientering" in page


SHORT_PLAN = BASE[: BASE.index("stages:\n")] + """stages:
  - {key: utkast, kind: draft, due: 2024-12-20}
  - {key: orientering, kind: information, forums: [PSU], parties: [Trondheim kommune, Malvik kommune], documents: [overordnet], date: 2025-01-15}
  - {key: orientering-alle, kind: information, after: [utkast], parties: all, date: 2025-02-10}
"""


def test_a_revision_of_a_draft_and_information_items_completes(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SHORT_PLAN), SHORT_PLAN, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    do(engine, "draft_complete")
    assert len(notices(engine)) == 3 + 3
    do(engine, "information_done", stage="orientering")
    do(engine, "information_done", stage="orientering-alle")
    with session_scope(engine) as s:
        assert s.exec(select(Revision.status)).one() == "completed"
        (done,) = s.exec(select(OutboxMessage).where(OutboxMessage.event == "revision_completed")).all()
    assert "Revideringen er avsluttet" in done.subject
