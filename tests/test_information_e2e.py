"""Information items end to end on a real Prefect server with a real worker and a real SMTP server
(issue 14): a draft, then two items (til orientering). The forum and the named parties receive the
notice with the document's current version and a calendar entry; nobody decides; the first item
closes on its date (the sweep, on a clock set to it), the second when a coordinator marks it done,
and the run completes."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import select

from avtaleflyt.db import session_scope
from avtaleflyt.models.tables import OutboxMessage

from .test_e2e import cli, wait_for_run
from .test_information import MALVIK, SHORT_PLAN, SLUG

pytestmark = pytest.mark.e2e

ADDRESS = "https://example.no/avtaler/overordnet-v1.pdf"


def received(smtp_server, subject: str, count: int, timeout: float = 120.0) -> dict[str, object]:
    """The letters with `subject` over SMTP, by recipient, once `count` have arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {r.rcpt_tos[0]: r.message for r in smtp_server.handler.received if r.message["Subject"] == subject}
        if len(found) >= count:
            return found
        time.sleep(0.5)
    pytest.fail(f"{count} letters {subject!r} not received within {timeout:.0f} s")


def stages(slug: str = SLUG) -> dict[str, str]:
    return {s["key"]: s["status"] for s in json.loads(cli("revision", "show", slug, "--json"))["stages"]}


def test_information_items_end_to_end(prefect_server, worker, domain_db_url, tmp_path, mail):
    smtp_server = mail
    worker(env={"AVTALEFLYT_SMTP_HOST": "127.0.0.1", "AVTALEFLYT_SMTP_PORT": str(smtp_server.port), "AVTALEFLYT_SMTP_STARTTLS": "false"})
    plan = tmp_path / "plan.yaml"
    plan.write_text(SHORT_PLAN, encoding="utf-8")
    cli("revision", "start", str(plan))
    assert wait_for_run(slug=SLUG) == "AwaitingDraft"
    cli("document", "add", SLUG, "overordnet", ADDRESS, "--label", "Utkast til orientering", "--date", "2025-01-06")
    cli("draft", "complete", SLUG)
    assert wait_for_run(slug=SLUG) == "AwaitingInformation"
    assert stages() == {"utkast": "done", "orientering": "active", "orientering-alle": "active"}

    # The forum and the two named parties (Malvik in nynorsk), with the document's current version and the date in their calendar.
    named = received(smtp_server, "Til orientering 15.01.2025: orientering", 3)
    assert sorted(named) == ["postmottak@malvik.example.no", "postmottak@trondheim.example.no", "psu@example.no"]
    for address, message in named.items():
        text = message.get_body(("plain",)).get_content()
        assert f"Overordnet samarbeidsavtale – Utkast til orientering, 06.01.2025: {ADDRESS}" in text
        assert "Retningslinjer for samarbeid" not in text  # not one of its documents
        (ics,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        calendar = ics.get_content() if isinstance(ics.get_content(), str) else ics.get_content().decode()
        assert "DTSTART;VALUE=DATE:20250115" in calendar and "SUMMARY:Til orientering: Testrevisjon 2024" in calendar.replace("\r\n ", "")
        assert ("treng ikkje svare" in text) == (address == "postmottak@malvik.example.no")
    every = received(smtp_server, "Til orientering 10.02.2025: orientering-alle", 3)
    assert sorted(every) == ["postmottak@malvik.example.no", "postmottak@stolav.example.no", "postmottak@trondheim.example.no"]

    # Nobody decides: there is nothing to record an answer to.
    refused = cli("party", "decide", SLUG, "--party", MALVIK, "--outcome", "approved", "--date", "2025-01-10", expect=2)
    assert "no political_treatment stage is open" in refused

    # The sweep on a clock set to the first item's date closes it (and only it); the run goes on.
    cli("reminders", "run", "--as-of", "2025-01-14")
    assert wait_for_run(slug=SLUG) == "AwaitingInformation" and stages()["orientering"] == "active"
    swept = cli("reminders", "run", "--as-of", "2025-01-15")
    assert f"{SLUG}: 0 due, enqueued 0; stages closed at their date: orientering" in " ".join(swept.split())  # was 'hearings closed'
    assert wait_for_run(slug=SLUG) == "AwaitingInformation"
    assert stages() == {"utkast": "done", "orientering": "done", "orientering-alle": "active"}

    # The second one is marked done by a coordinator before its date: the run completes.
    cli("information", "done", SLUG, "--stage", "orientering-alle", "--note", "Lagt fram i PSU-møtet 03.02.2025")
    assert wait_for_run(timeout=180, slug=SLUG) == "Completed"
    assert set(stages().values()) == {"done"}
    with session_scope() as s:
        events = [m.event.value for m in s.exec(select(OutboxMessage))]
    assert events.count("information_notice") == 6  # each once, whatever the passes
