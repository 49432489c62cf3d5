"""One weekly digest per recipient across every revision (issue 16): a coordinator address named by
several plans gets one digest a week listing each revision it follows, soonest first, through the
outbox and a real SMTP server, exactly once (a sweep run again, a sweep killed and run again); an
address that opted out (`mail optout`) gets none, and its other letters still go. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections import Counter

import pytest
from avtaleflyt.models.digests import digest_key
from avtaleflyt.models.enums import EmailEvent
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import DigestOptOut, OutboxMessage
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.settings import get_settings

from .plans import org_number

runner = CliRunner()
MONDAY = dt.date(2024, 9, 2)  # ISO week 36
SHARED = "Felles@Example.no"  # spelt differently in the two plans: one address


def plan(n: int, deadline: str, shared: str, language: str = "nb") -> str:
    return f"""
helsefellesskap: Helsefellesskap {n}
revision: Revidering {n}
slug: rev-{n}
language: {language}
coordinators: [{{name: Felles sekretariat, email: {shared}}}, {{name: Eget sekretariat, email: eget{n}@example.no}}]
documents:
  - {{key: avtale, title: Overordnet samarbeidsavtale}}
parties:
  - {{name: Helse {n} HF, kind: health_trust, org_number: "{org_number(100 + n)}", email: post@helse{n}.example.no, body: Styret}}
  - {{name: Kommune {n}, kind: municipality, org_number: "{org_number(200 + n)}", email: post@kommune{n}.example.no, body: Kommunestyret}}
stages:
  - {{key: hoering, kind: hearing, title: Høring {n}, documents: [avtale], opens: 2024-08-01, deadline: {deadline}}}
  - {{key: politisk, kind: political_treatment, deadline: 2025-03-01}}
"""


@pytest.fixture
def engine(domain_db_url):
    get_settings.cache_clear()
    engine = engine_for(domain_db_url)
    # rev-2's hearing ends first: it comes first in the digest
    for n, deadline, shared in ((1, "2024-09-13", SHARED), (2, "2024-09-06", SHARED.lower()), (3, "2024-09-20", "annen@example.no")):
        source = plan(n, deadline, shared)
        with session_scope(engine) as s:
            store_revision(s, parse_plan(source), source, "t")
        with session_scope(engine) as s:
            reconcile_revision(s, f"rev-{n}", today=dt.date(2024, 8, 1))
    return engine


def sweep(day: dt.date, *extra: str) -> None:
    result = runner.invoke(app, ["reminders", "run", "--as-of", day.isoformat(), *extra])
    assert result.exit_code == 0, result.output


def digests(engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.event == EmailEvent.weekly_digest).order_by(OutboxMessage.key)))


def test_one_digest_per_address_and_week_across_revisions_exactly_once(engine, mail):
    sweep(MONDAY)
    sweep(MONDAY)  # run again: nothing twice
    sweep(MONDAY + dt.timedelta(days=3))  # not a Monday: no digest
    rows = digests(engine)
    assert [r.key for r in rows] == [
        "digest:annen@example.no:2024-W36", "digest:eget1@example.no:2024-W36", "digest:eget2@example.no:2024-W36",
        "digest:eget3@example.no:2024-W36", "digest:felles@example.no:2024-W36",
    ]
    assert all(r.revision_id is None and r.status == "sent" for r in rows)
    shared = rows[-1].body_text
    # both revisions the address follows, soonest first; not the third
    assert shared.index("== Revidering 2 (Helsefellesskap 2) ==") < shared.index("== Revidering 1 (Helsefellesskap 1) ==")
    assert "Revidering 3" not in shared and "2 aktive revideringer" in rows[-1].subject
    assert "06.09 frist" in shared or "06.09.2024" in shared, shared
    own = rows[1].body_text
    assert "Revidering 1" in own and "Revidering 2" not in own
    received = Counter(a for r in mail.handler.received for a in r.rcpt_tos)
    for r in rows:
        assert received[r.to_address] >= 1
    assert received_once(mail, rows)
    sweep(MONDAY + dt.timedelta(days=7))  # next week: one more each
    assert Counter(r.to_address.casefold() for r in digests(engine))["felles@example.no"] == 2


def test_an_opted_out_address_gets_no_digest_and_its_other_letters(engine, mail):
    assert runner.invoke(app, ["mail", "optout", "FELLES@example.no"]).exit_code == 0
    again = runner.invoke(app, ["mail", "optout", "felles@example.no"])
    assert again.exit_code == 0 and "had opted out already" in again.output
    bad = runner.invoke(app, ["mail", "optout", "not an address"])
    assert bad.exit_code == 2 and "not an e-mail address" in bad.output
    sweep(MONDAY)
    assert "digest:felles@example.no:2024-W36" not in {r.key for r in digests(engine)}
    assert len(digests(engine)) == 4
    with session_scope(engine) as s:
        assert s.exec(select(DigestOptOut.address)).all() == ["felles@example.no"]
        # its other letters still go: rev-1's stage-completed letters went to the shared address before, and do now
    assert runner.invoke(app, ["mail", "optout", "felles@example.no", "--undo"]).exit_code == 0
    sweep(MONDAY + dt.timedelta(days=7))
    assert "digest:felles@example.no:2024-W37" in {r.key for r in digests(engine)}
    undo = runner.invoke(app, ["mail", "optout", "felles@example.no", "--undo"])
    assert "had not opted out" in undo.output


KILLER = """
import datetime as dt, sys, time
from avtaleflyt.tasks import digests, outbox, sweep
after = sys.argv[2] == "after"
real_enqueue, real_digests = outbox.enqueue_all, digests.enqueue_digests
def enqueue(session, messages):
    n = real_enqueue(session, messages)
    if not after and any(m.key.startswith("digest:") for m in messages):
        print("KILL ME", flush=True)
        time.sleep(120)  # killed here, inside the digests' transaction
    return n
def enqueue_digests(as_of, engine=None):
    n = real_digests(as_of, engine)
    print("KILL ME", flush=True)  # committed, not yet sent
    time.sleep(120)
    return n
outbox.enqueue_all, digests.enqueue_digests = enqueue, enqueue_digests
sweep.run_sweep(dt.date.fromisoformat(sys.argv[1]))
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_sweep_killed_at_its_digests_and_run_again_sends_each_once(engine, mail, when):
    proc = subprocess.Popen([sys.executable, "-c", KILLER, MONDAY.isoformat(), when], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = proc.stdout.readline()
        assert line.strip() == "KILL ME", line
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    assert len(digests(engine)) == (0 if when == "before" else 5)  # the transaction rolled back / committed
    sweep(MONDAY)
    sweep(MONDAY)
    rows = digests(engine)
    assert len(rows) == 5 and len({r.key for r in rows}) == 5 and {r.status for r in rows} == {"sent"}
    theirs = party_digests(engine)
    assert len(theirs) == 6 and {r.status for r in theirs} == {"sent"}
    assert received_once(mail, rows + theirs), "each recipient exactly once"


def test_digest_key_is_per_address_and_iso_week():
    assert digest_key(" Sek@Example.no", dt.date(2024, 12, 30)) == "digest:sek@example.no:2025-W01"
    assert digest_key("sek@example.no", dt.date(2024, 12, 29)) == "digest:sek@example.no:2024-W52"


def test_the_digests_opt_out_link_asks_on_get_and_opts_out_on_post(engine, mail):
    from fastapi.testclient import TestClient

    from avtaleflyt.dashboard import create_app

    from .web import form_token as csrf

    sweep(MONDAY)
    (row,) = [r for r in digests(engine) if r.key == "digest:felles@example.no:2024-W36"]
    assert "Meld deg av: http" in row.body_text and "andre e-poster om revideringene kommer fortsatt" in row.body_text
    url = re.search(r"Meld deg av: (\S+)", row.body_text).group(1)
    assert f'href="{url}"' in row.body_html
    path = url.split("://", 1)[1].split("/", 1)[1]
    client = TestClient(create_app(engine, today=lambda: MONDAY, prefect_ui="http://127.0.0.1:9"))
    page = client.get(f"/{path}")
    assert page.status_code == 200 and "felles@example.no" in page.text and "<form method=\"post\">" in page.text
    assert optouts(engine) == [], "a GET (a mail scanner) opts no one out"
    assert client.post(f"/{path}", data={"csrf_token": "wrong"}).status_code == 403
    assert optouts(engine) == []
    done = client.post(f"/{path}", data={"csrf_token": csrf(page.text)})
    assert done.status_code == 200 and "Avmeldt" in done.text and "kommer fortsatt" in done.text
    assert optouts(engine) == ["felles@example.no"]
    assert client.get(f"/{path[:-3]}xyz").status_code == 404  # a token not ours
    sweep(MONDAY + dt.timedelta(days=7))
    assert "digest:felles@example.no:2024-W37" not in {r.key for r in digests(engine)}
    assert len(digests(engine)) == 5 + 4


def test_a_nynorsk_plans_digest_and_its_opt_out_page_are_in_nynorsk(domain_db_url, mail):
    engine = engine_for(domain_db_url)
    source = plan(9, "2024-09-06", "nyn@example.no", language="nn")
    with session_scope(engine) as s:
        store_revision(s, parse_plan(source), source, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, "rev-9", today=dt.date(2024, 8, 1))
    sweep(MONDAY)
    (row,) = [r for r in digests(engine) if r.to_address == "nyn@example.no"]
    assert row.language == "nn" and row.subject.startswith("Vekeoversikt for veke 36")
    assert "andre e-postar om revideringane kjem framleis" in row.body_text
    from fastapi.testclient import TestClient

    from avtaleflyt.dashboard import create_app

    url = re.search(r"Meld deg av: (\S+)", row.body_text).group(1)
    page = TestClient(create_app(engine, today=lambda: MONDAY, prefect_ui="http://127.0.0.1:9")).get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert page.status_code == 200 and "vekeoversikta" in page.text and 'lang="nn"' in page.text


def test_mail_preview_shows_the_digest_with_its_opt_out_in_both_languages():
    nb = runner.invoke(app, ["mail", "preview", "weekly_digest"])
    nn = runner.invoke(app, ["mail", "preview", "weekly_digest", "--lang", "nn"])
    assert nb.exit_code == nn.exit_code == 0
    assert "Meld deg av: https://avtaleflyt.example.no/avmelding/eksempel" in nb.output and "kommer fortsatt" in nb.output
    assert "Meld deg av: https://avtaleflyt.example.no/avmelding/eksempel" in nn.output and "kjem framleis" in nn.output


def optouts(engine) -> list[str]:
    with session_scope(engine) as s:
        return list(s.exec(select(DigestOptOut.address)).all())


def party_digests(engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.event == EmailEvent.party_digest).order_by(OutboxMessage.key)))


def test_each_party_gets_one_digest_of_what_it_owes_only_when_something_is_due(engine, mail):
    from avtaleflyt.tasks import records

    with session_scope(engine) as s:  # the shared party (same address in rev-1 and rev-2) answers rev-2's hearing
        records.record_hearing_response(s, "rev-2", stage_key="hoering", party="Kommune 2", on=dt.date(2024, 8, 20), today=dt.date(2024, 8, 20), actor="t")
    sweep(dt.date(2024, 8, 5))  # a Monday with every deadline more than 30 days off: no party digest
    assert party_digests(engine) == []
    sweep(MONDAY)
    sweep(MONDAY)
    rows = party_digests(engine)
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) and all(k.endswith(":party") for k in keys)
    by_address = {r.to_address: r for r in rows if r.key.endswith("2024-W36:party")}
    # Kommune 2 answered: nothing due, no digest that week; the others each one, with their own link
    assert "post@kommune2.example.no" not in by_address
    one = by_address["post@kommune1.example.no"]
    assert one.language == "nb" and "Høringsfrist: Høring 1" in one.body_text and "Revidering 1 (Helsefellesskap 1)" in one.body_text
    assert "Revidering 2" not in one.body_text
    assert re.search(r"Deres lenke: http\S+/p/\S+", one.body_text) and "Meld av: http" in one.body_text
    assert "fredag 13. september 2024" in one.body_text
    assert "post@kommune3.example.no" in by_address and "post@helse1.example.no" in by_address
    assert received_once(mail, list(by_address.values())), "each party exactly once that week"


def test_a_party_named_in_two_revisions_gets_one_digest_listing_both_in_its_language(domain_db_url, mail):
    engine = engine_for(domain_db_url)
    for n, deadline in ((7, "2024-09-20"), (8, "2024-09-06")):
        source = plan(n, deadline, f"k{n}@example.no", language="nb").replace(f"post@kommune{n}.example.no", "Post@Felles-kommune.example.no")
        source = source.replace("body: Kommunestyret}", "body: Kommunestyret, language: nn}")
        with session_scope(engine) as s:
            store_revision(s, parse_plan(source), source, "t")
        with session_scope(engine) as s:
            reconcile_revision(s, f"rev-{n}", today=dt.date(2024, 8, 1))
    sweep(MONDAY)
    (row,) = [r for r in party_digests(engine) if r.to_address.casefold() == "post@felles-kommune.example.no"]
    text = row.body_text
    assert row.language == "nn" and row.subject == "Vekeoversikt for veke 36: 2 saker ventar på Kommune 7"
    assert text.index("Revidering 8") < text.index("Revidering 7"), "soonest first"
    assert text.count("Lenkja dykkar: http") == 2 and "kjem framleis" in text
    links = re.findall(r"Lenkja dykkar: (\S+)", text)
    assert links[0] != links[1], "each revision its own link"
    assert runner.invoke(app, ["mail", "optout", "post@felles-kommune.example.no"]).exit_code == 0
    sweep(MONDAY + dt.timedelta(days=7))
    assert [r.key for r in party_digests(engine) if "felles-kommune" in r.key] == ["digest:post@felles-kommune.example.no:2024-W36:party"]


def test_mail_preview_shows_the_partys_digest_in_both_languages():
    nb = runner.invoke(app, ["mail", "preview", "party_digest"])
    nn = runner.invoke(app, ["mail", "preview", "party_digest", "--lang", "nn"])
    assert nb.exit_code == nn.exit_code == 0
    assert "1 sak venter på Trondheim kommune" in nb.output and "Deres lenke: https://" in nb.output
    assert "1 sak ventar på Heim kommune" in nn.output and "Lenkja dykkar: https://" in nn.output


def received_once(mail, rows: list[OutboxMessage]) -> bool:
    """Each of `rows` reached the SMTP server exactly once, to its address."""
    from avtaleflyt.tasks.outbox import message_id

    ids = Counter(r.message_id for r in mail.handler.received)
    to = {r.message_id: r.rcpt_tos for r in mail.handler.received}
    return all(ids[message_id(r.key)] == 1 and to[message_id(r.key)] == (r.to_address,) for r in rows)
