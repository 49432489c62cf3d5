"""Uploads: the file name and size checks, and files stored once per content in the database."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, select

from avtaleflyt.db import engine_for
from avtaleflyt.models import uploads
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import StoredFile
from avtaleflyt.tasks import files


@pytest.mark.parametrize(
    "name, problem",
    [("../etc/passwd", "path"), ("a\x00.pdf", "nul"), ("..", "dots"), ("a\\b.docx", "path"), (".htaccess", "hidden"),
     ("", "empty"), ("   ", "empty"), ("a\nb.pdf", "control"), ("a\u202eb.pdf", "control"), ("x" * 201, "too_long")],
)
def test_a_name_that_is_not_one_plain_file_name_is_refused(name, problem):
    with pytest.raises(DomainError) as err:
        uploads.clean_file_name(name)
    assert err.value.code == ErrorCode.bad_file_name and err.value.params["problem"] == problem and err.value.field == "file"
    assert "\x00" not in str(err.value)


def test_a_plain_name_is_kept_in_nfc():
    assert uploads.clean_file_name("Særutskrift Kvam herad.pdf") == "Særutskrift Kvam herad.pdf"
    assert uploads.clean_file_name("A\u030a.docx") == "\u00c5.docx"


def test_a_stream_over_the_limit_is_refused_without_reading_it_all():
    stream = io.BytesIO(b"x" * 1000)
    with pytest.raises(DomainError) as err:
        files.read_limited(stream, 100, name="big.pdf")
    assert err.value.code == ErrorCode.file_too_large and err.value.params == {"name": "big.pdf", "size": 101, "maximum": 100}
    assert stream.tell() == 101
    assert files.read_limited(io.BytesIO(b"x" * 100), 100, name="ok.pdf") == b"x" * 100


@pytest.mark.parametrize("url", ["ftp://x.no/a", "javascript:alert(1)", "https://", "http://a b.no", "https://x.no/\nBcc: a@b.no", "x.no"])
def test_only_web_addresses_are_urls(url):
    with pytest.raises(DomainError) as err:
        uploads.check_url(url)
    assert err.value.code == ErrorCode.bad_url


def test_same_bytes_are_stored_once(domain_db_url):
    with Session(engine_for(domain_db_url)) as session:
        a = files.store(session, "æøå".encode())
        b = files.store(session, "æøå".encode())
        c = files.store(session, b"other")
        session.commit()
        assert a.id == b.id != c.id
        assert len(session.exec(select(StoredFile)).all()) == 2
        assert files.find(session, a.sha256).content == "æøå".encode()
