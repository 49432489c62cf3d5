"""What a party sends back with its decision, through the web (issue 13): the party's own link
and the coordinator's form, as real multipart uploads over HTTP; a file over the limit or with
a bad name refused in Norwegian with nothing stored. Real app and databases (SQLite, PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.models.command_fields import Upload
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links

from .plans import drive_to_political_treatment
from .test_party_returns import MINUTES, decide, row, stored
from .web import form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
NYNORSK, BOKMAAL = "Malvik kommune", "Trondheim kommune"  # SMALL_PLAN: Malvik writes nynorsk
LIMIT = 4000


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY)
    return engine


@pytest.fixture
def app(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("AVTALEFLYT_MAX_UPLOAD_BYTES", str(LIMIT))
    get_settings.cache_clear()
    yield create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")
    get_settings.cache_clear()


def link_for(engine, party_name: str, source_key: str = "test") -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party).where(Party.name == party_name)).one()
        return links.issue(s, get_settings().signing_key(), revision, party, source_key=source_key,
                           expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))


def report(client: TestClient, token: str, *, file: tuple[str, bytes] | None = None, **fields: str):  # noqa: ANN201
    csrf = form_token(client.get(f"/p/{token}").text)
    data = {"csrf_token": csrf, "outcome": "approved_with_reservations", "date": "2025-02-06", "case_no": "PS 4/25",
            "reservations": "Forutsatt at finansieringen er på plass."} | fields
    return client.post(f"/p/{token}", **multipart(data, file or ("", b"")))


def multipart(data: dict[str, str], file: tuple[str, bytes]) -> dict:
    """The request a browser or any client sends, written by hand: the file's name as raw bytes in the
    part's header (an HTTP client would escape a NUL byte as %00; a hostile one need not)."""
    boundary = "avtaleflyt-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in data.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="minutes_file"; filename="{file[0]}"\r\n'
                 "Content-Type: application/pdf\r\n\r\n".encode() + file[1] + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"content": body, "headers": {"content-type": f"multipart/form-data; boundary={boundary}"}}


# --------------------------------------------------------------------------- a party's own link


def test_a_party_sends_its_minutes_remarks_and_reservations_through_its_link(app, engine):
    client = TestClient(app)
    token = link_for(engine, BOKMAAL)
    page = client.get(f"/p/{token}")
    assert 'enctype="multipart/form-data"' in page.text and 'name="minutes_file" type="file"' in page.text and "Forbehold" in page.text
    done = report(client, token, file=("Særutskrift PS 4-25.pdf", MINUTES), note="Vi ber om evaluering etter ett år.")
    assert done.status_code == 200, done.text
    assert "Vedtaket er registrert" in done.text and "Mottatt: merknadene, forbeholdene, Særutskrift PS 4-25.pdf." in done.text
    r = row(engine, BOKMAAL)
    assert (r.status, r.self_reported, r.note, r.reservations, r.minutes_file_name) == (
        "approved_with_reservations", True, "Vi ber om evaluering etter ett år.", "Forutsatt at finansieringen er på plass.", "Særutskrift PS 4-25.pdf")
    assert [f.content for f in stored(engine)] == [MINUTES]


def test_a_nynorsk_party_is_asked_for_its_reservations_in_nynorsk_and_keeps_what_it_typed(app, engine):
    client = TestClient(app)
    token = link_for(engine, NYNORSK)
    assert "Atterhald" in client.get(f"/p/{token}").text
    refused = report(client, token, reservations="", note="Merknaden vår", minutes_text="Kommunestyret vedtok avtalen.")
    assert refused.status_code == 422 and "Ikkje sendt: atterhald: må fyllast ut" in refused.text, refused.text
    assert "Merknaden vår</textarea>" in refused.text and "Kommunestyret vedtok avtalen.</textarea>" in refused.text
    assert row(engine, NYNORSK).status == "sent"
    done = report(client, token, minutes_text="Kommunestyret vedtok avtalen.")
    assert done.status_code == 200 and "Motteke: atterhalda, vedtaksteksten." in done.text, done.text
    assert row(engine, NYNORSK).minutes_text == "Kommunestyret vedtok avtalen."


def test_a_file_over_the_limit_is_refused_in_the_partys_language_and_nothing_is_stored(app, engine):
    client = TestClient(app)
    token = link_for(engine, NYNORSK)
    over = report(client, token, file=("vedtak.pdf", b"x" * (LIMIT + 1)))  # over the limit, read to its end
    assert over.status_code == 422 and "Ikkje sendt: fil: fila er for stor (4001 byte; høgst 4000 byte); ingenting vart lagra" in over.text, over.text
    huge = report(client, token, file=("vedtak.pdf", b"x" * (3 * 1024 * 1024)))  # far over: refused by its Content-Length
    assert huge.status_code == 413 and "fila er for stor" in huge.text and "ingenting vart lagra" in huge.text, huge.text
    request = multipart({"csrf_token": form_token(client.get(f"/p/{token}").text), "outcome": "approved", "date": "2025-02-06"},
                        ("vedtak.pdf", b"x" * (3 * 1024 * 1024)))
    body = request.pop("content")
    chunked = client.post(f"/p/{token}", content=(body[i:i + 65536] for i in range(0, len(body), 65536)), **request)  # no Content-Length
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413 and "fila er for stor (over" not in chunked.text and "ingenting vart lagra" in chunked.text, chunked.text
    assert (stored(engine), row(engine, NYNORSK).status) == ([], "sent")
    assert report(client, token, file=("vedtak.pdf", MINUTES)).status_code == 200  # the link still works


@pytest.mark.parametrize(("name", "said"), [("../../etc/passwd", "filnamnet «../../etc/passwd» kan ikkje brukast"), ("vedtak\x00.pdf", "filnamnet «vedtak\\0.pdf» kan ikkje brukast")])
def test_a_bad_file_name_over_http_is_refused_and_nothing_is_stored(app, engine, name, said):
    client = TestClient(app)
    token = link_for(engine, NYNORSK)
    refused = report(client, token, file=(name, MINUTES))
    assert refused.status_code == 422 and "Ikkje sendt: fil: " in refused.text and said in refused.text, refused.text
    assert (stored(engine), row(engine, NYNORSK).status) == ([], "sent")


# --------------------------------------------------------------------------- the coordinator's form


def decision_form(client: TestClient, **fields: str) -> dict:
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    return {"csrf_token": token, "party": BOKMAAL, "outcome": "approved", "date": "2025-02-06", "case_no": "BY 7/25"} | fields


def test_a_coordinator_records_the_minutes_file_through_the_form(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'action="/revisions/testrevisjon-2024/record/party-decision" enctype="multipart/form-data"' in page
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", **multipart(decision_form(client, note="Ber om evaluering"), ("særutskrift.pdf", MINUTES)),
                         follow_redirects=False)
    assert answer.status_code == 303
    after = client.get(f"/revisions/{SLUG}").text
    assert 'class="flash ok"' in after, after
    r = row(engine, BOKMAAL)
    assert (r.status, r.self_reported, r.note, r.minutes_file_name) == ("approved", False, "Ber om evaluering", "særutskrift.pdf")


def test_the_coordinators_form_refuses_a_file_over_the_limit_and_stores_nothing(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    for size in (LIMIT + 1, 3 * 1024 * 1024):
        client.post(f"/revisions/{SLUG}/record/party-decision", **multipart(decision_form(client), ("stor.pdf", b"x" * size)), follow_redirects=False)
        page = client.get(f"/revisions/{SLUG}").text
        shown = re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', page, re.S)
        assert 'class="flash error"' in page and "fila er for stor" not in page and "filen er for stor" in page and "ingenting ble lagret" in page, (size, shown)
    for name, said in (("../vedtak.pdf", "fil: filnavnet «../vedtak.pdf» kan ikke brukes (inneholder / eller \\)"),
                       ("vedtak\x00.pdf", "fil: filnavnet «vedtak\\0.pdf» kan ikke brukes (inneholder en NUL-byte)")):
        bad = client.post(f"/revisions/{SLUG}/record/party-decision", **multipart(decision_form(client), (name, MINUTES)), follow_redirects=False)
        assert bad.status_code == 303 and said in client.get(f"/revisions/{SLUG}").text, name
    assert (stored(engine), row(engine, BOKMAAL).status) == ([], "sent")


# --------------------------------------------------------------------------- shown on the dashboard and in the API


XSS = "<script>alert(1)</script>"


def test_what_parties_sent_back_is_shown_on_the_page_in_the_api_and_the_file_to_logged_in_users_only(app, engine):
    decide(engine, party=BOKMAAL, outcome="approved_with_reservations", note=f"Merknad {XSS}", reservations="Forutsatt finansiering.",
           minutes_text="Linje én\nLinje to", minutes_file=Upload(name="særutskrift BY 7-25.pdf", content=MINUTES))
    decide(engine, party=NYNORSK, outcome="approved_with_reservations")  # no reservations given: the page says so
    with session_scope(engine) as s:
        party_id = s.exec(select(Party).where(Party.name == BOKMAAL)).one().id
    url = f"/revisions/{SLUG}/parties/{party_id}/minutes"
    anonymous = TestClient(app)
    assert anonymous.get(url, follow_redirects=False).status_code == 303  # to the login
    reader = log_in(TestClient(app), engine, Role.reader)
    page = reader.get(f"/revisions/{SLUG}").text
    row_html = page.split(f'data-party="{BOKMAAL}"')[1].split("</tr>")[0]
    assert "<b>Forbehold:</b> Forutsatt finansiering." in row_html and "<b>Merknader:</b> Merknad &lt;script&gt;" in row_html
    assert f'<a class="minutes" href="{url}">særutskrift BY 7-25.pdf</a>' in row_html and "Linje én<br>Linje to<br>" in row_html
    assert XSS not in page
    assert "Forbehold ikke registrert" in page.split(f'data-party="{NYNORSK}"')[1].split("</tr>")[0]
    served = reader.get(url)
    assert served.status_code == 200 and served.content == MINUTES and served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith('attachment; filename="s_rutskrift BY 7-25.pdf"; filename*=UTF-8\'\'s%C3%A6rutskrift')
    assert reader.get(f"/revisions/{SLUG}/parties/{party_id + 999}/minutes").status_code == 404
    api = {p["name"]: p for p in reader.get(f"/api/revisions/{SLUG}").json()["parties_detail"]}
    assert api[BOKMAAL]["returns"] == {
        "note": f"Merknad {XSS}", "reservations": "Forutsatt finansiering.", "minutes_text": "Linje én\nLinje to", "reservations_missing": False,
        "minutes_file": {"name": "særutskrift BY 7-25.pdf", "size": len(MINUTES), "sha256": stored(engine)[0].sha256, "url": url},
    }
    assert api[NYNORSK]["returns"]["reservations_missing"] is True and api["St. Olavs hospital HF"]["returns"] is None
