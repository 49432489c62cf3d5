"""The signing stage end to end on a real Prefect server with a real worker and a real SMTP server
(issue 13): one party rejects, the two that approved sign (one by the CLI, one through Prefect's own
resume form), the run completes, and the completion letter, `revision show` and the dashboard say
for whom the agreement is in force; the rejecting party's follow-up item is opened, then closed."""

from __future__ import annotations

import json
import re
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prefect import get_client
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import OutboxMessage, Revision

from .test_e2e import cli, wait_for_run
from .test_signing import MALVIK, SIGNING_PLAN, SLUG
from .web import log_in

pytestmark = pytest.mark.e2e

SUMMARY_NB = "i kraft for 2 av 3 parter; Malvik kommune vedtok ikke avtalen"


def test_signing_end_to_end_with_one_party_rejecting(prefect_server, worker, domain_db_url, tmp_path, smtp_server):
    worker(env={"AVTALEFLYT_SMTP_HOST": "127.0.0.1", "AVTALEFLYT_SMTP_PORT": str(smtp_server.port), "AVTALEFLYT_SMTP_STARTTLS": "false"})
    plan = tmp_path / "plan.yaml"
    plan.write_text(SIGNING_PLAN, encoding="utf-8")
    cli("revision", "start", str(plan))
    assert wait_for_run(slug=SLUG) == "AwaitingDraft"
    cli("draft", "complete", SLUG)
    cli("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-06-19")
    cli("hearing", "close", SLUG)
    for forum in ("ASU", "FU", "PSU"):
        cli("forum", "decide", SLUG, "--forum", forum, "--outcome", "approved", "--date", "2024-11-27")
    assert wait_for_run(slug=SLUG) == "AwaitingPoliticalTreatment"

    cli("party", "decide", SLUG, "--party", MALVIK, "--outcome", "rejected", "--date", "2025-02-13", "--case", "PS 12/25")
    cli("party", "decide", SLUG, "--party", "Trondheim kommune", "--outcome", "approved", "--date", "2025-02-20")
    cli("party", "decide", SLUG, "--party", "St. Olavs hospital HF", "--outcome", "approved_with_reservations", "--date", "2025-02-26",
        "--reservations", "forutsetter finansiering")
    assert wait_for_run(slug=SLUG) == "AwaitingSignatures"
    assert MALVIK in cli("followup", "list", SLUG)
    refused = cli("signing", "record", SLUG, "--party", MALVIK, "--date", "2025-05-02", "--signer", "Ola", expect=2)
    assert "owes no signature" in refused

    cli("signing", "record", SLUG, "--party", "Trondheim kommune", "--date", "2025-05-02", "--signer", "Rita Ottervik", "--title", "ordfører")
    assert wait_for_run(slug=SLUG) == "AwaitingSignatures"
    with session_scope() as s:
        run_id = UUID(s.exec(select(Revision).where(Revision.slug == SLUG)).one().flow_run_id)
    with get_client(sync_client=True) as client:  # the health trust's signature through Prefect's own resume form
        answer = client.resume_flow_run(run_id, run_input={
            "action": "party_signing", "party": "St. Olavs hospital HF", "date": "2025-05-06", "signer": "Nils Kvernmo", "signer_title": "administrerende direktør",
        })
    assert answer.status.value == "ACCEPT"
    assert wait_for_run(timeout=180, slug=SLUG) == "Completed"

    view = json.loads(cli("revision", "show", SLUG, "--json"))
    assert view["status"] == "completed" and {s["status"] for s in view["stages"]} == {"done"}
    assert view["in_force"]["summary"] == SUMMARY_NB
    assert {p["party"]: p["since"] for p in view["in_force"]["parties"] if p["standing"] == "in_force"} == {
        "Trondheim kommune": "2025-05-02", "St. Olavs hospital HF": "2025-05-06",
    }
    assert SUMMARY_NB in " ".join(cli("revision", "show", SLUG).split())

    # The letters went out through SMTP: two signing requests and receipts, and the completion letter saying it.
    wait_for_run(slug=SLUG)
    with session_scope() as s:
        outbox = list(s.exec(select(OutboxMessage)))
    assert {m.status.value for m in outbox} == {"sent"}
    events = [m.event.value for m in outbox]
    assert events.count("signing_request") == events.count("signing_receipt") == 2
    (done,) = [r for r in smtp_server.handler.received if r.message["Subject"].startswith("Revideringen er avsluttet")]
    text = done.message.get_body(("plain",)).get_content()
    assert f"Avtalen er {SUMMARY_NB}." in text and "Åpne oppfølgingspunkter: Malvik kommune." in text

    # The dashboard says it too, and shows the follow-up item until a coordinator closes it.
    engine = engine_for(domain_db_url)
    client = log_in(TestClient(create_app(engine, prefect_ui="http://127.0.0.1:9")), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert re.search(r'id="i-kraft-oppsummering">(.*?)</p>', page).group(1) == f"Avtalen er {SUMMARY_NB}."
    (item,) = [f for f in view["followups"] if f["party"]]  # fagrad, which has not decided, has its own (tests/test_quorum.py)
    assert (item["party"], item["reason"], item["open"]) == (MALVIK, "rejected", True)
    assert f'data-followup="{item["id"]}" data-open="ja"' in page
    cli("followup", "close", SLUG, str(item["id"]), "--note", "dialogmøte 12.03.2025")
    assert [f for f in json.loads(cli("revision", "show", SLUG, "--json"))["followups"] if f["party"]] == []
    assert f'data-followup="{item["id"]}" data-open="nei"' in client.get(f"/revisions/{SLUG}").text
