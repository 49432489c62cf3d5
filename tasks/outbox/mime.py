"""The message for an outbox row, written so that every copy is the same, byte for byte.

`Message-ID` is derived from the row's key, `Date` is the row's creation time and
the MIME boundaries come from the key: a message sent twice (a crash between the
server's answer and the mark, a sender that stalled past its lease) arrives as two
identical copies that receivers and their clients drop as one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime, getaddresses
from functools import lru_cache
from typing import Any

from avtaleflyt.clock import aware, utcnow
from avtaleflyt.models import wording

MESSAGE_ID_DOMAIN = "avtaleflyt"
_NOT_SAFE = re.compile(r"[^a-z0-9]+")
_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e"})


def ics_filename(row: Any) -> str:
    """What the calendar entry is: `hoering-1-frist-2024-09-10.ics` (the stage, a word for the date
    in the letter's language, the date), in letters, digits and `-` only."""
    language = str(getattr(row, "language", None) or "nb")
    event = str(getattr(row.event, "value", row.event) or "")
    day = row.due.isoformat() if getattr(row, "due", None) else ""
    name = " ".join(p for p in (row.stage_key or "", wording.label("calendar_file", event, language) if event else "", day) if p)
    safe = _NOT_SAFE.sub("-", name.casefold().translate(_ASCII)).strip("-")
    return f"{safe or 'kalender'}.ics"


class _Headers(HeaderRegistry):
    """The standard header registry, but each header class is built once, not on every use
    (the stdlib builds a new class per header per message: a third of the rendering time)."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
            if key == "subject":
                cls = self._classes[key] = type("Subject", (_WholeEncodedWords, cls), {})
        return cls


class _WholeEncodedWords:
    """A non-ASCII subject as encoded words from end to end. The stdlib folder, switching from
    plain words to an encoded word at a fold, keeps the space before the fold and adds the
    fold's own: `2024 \r\n =?utf-8?b?4oCT?= …` reads as `2024  – …` (two spaces)."""

    def fold(self, *, policy):  # noqa: ANN001, ANN201
        value = str(self)
        if value.isascii():
            return super().fold(policy=policy)
        encoded = Header(value, "utf-8", header_name=self.name).encode(linesep=policy.linesep, maxlinelen=policy.max_line_length)
        return f"{self.name}: {encoded}{policy.linesep}"


# The SMTP policy (CRLF; refuses CR/LF in header values). Every body part is
# quoted-printable, so the message is 7-bit clean and needs no 8BITMIME.
POLICY = email_policy.SMTP.clone(header_factory=_Headers())
_EXPECTED_HEADERS = {
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
    "auto-submitted", "content-language", "reply-to",
}
_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------- the message


def message_id(key: str) -> str:
    """The Message-ID of every copy of the message with this key: `<sha256(key)[:32]@avtaleflyt>`."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{MESSAGE_ID_DOMAIN}>"


def _one_line(text: str) -> str:
    """A display name or subject on one line: CR, LF, tabs and runs of spaces become one space.

    In a header, a line break followed by a space is folding and means a space, so
    this is what the text says anyway; a line break not followed by a space would
    start a new header, which is exactly what must never happen.
    """
    return _WHITESPACE.sub(" ", text).strip()


@lru_cache(maxsize=4096)  # a sweep writes to the same parties' addresses again and again
def _address(addr_spec: str, display_name: str = "") -> Address:
    """One plain address (ASCII, no CR/LF, no list, no angle brackets); ValueError otherwise."""
    if not addr_spec or addr_spec != addr_spec.strip() or any(c in addr_spec for c in "\r\n\0"):
        raise ValueError(f"unsafe email address {addr_spec!r}")
    try:
        address = Address(display_name=_one_line(display_name), addr_spec=addr_spec)
    except Exception as exc:  # ValueError, HeaderParseError and the parser's defects
        raise ValueError(f"not a single email address: {addr_spec!r} ({exc})") from None
    if address.addr_spec != addr_spec or not addr_spec.isascii() or "@" not in addr_spec:
        raise ValueError(f"not a single plain email address: {addr_spec!r}")
    return address


def parse_sender(mail_from: str) -> Address:
    """`settings.mail_from` ("Name <addr>" or "addr") as one Address; ValueError if it is not one."""
    probe = EmailMessage(policy=POLICY)
    try:
        probe["From"] = mail_from
        addresses = probe["From"].addresses
    except Exception as exc:
        raise ValueError(f"mail_from is not an address: {mail_from!r} ({exc})") from None
    if len(addresses) != 1:
        raise ValueError(f"mail_from must be exactly one address: {mail_from!r}")
    return _address(addresses[0].addr_spec, addresses[0].display_name)


def _ics_method(ics: str) -> str:
    match = re.search(r"^METHOD:([A-Za-z-]+)\s*$", ics, re.MULTILINE)
    return match.group(1).upper() if match else "PUBLISH"


def build_email(row: Any, mail_from: str | Address) -> EmailMessage:
    """The message for an outbox row: text + HTML alternatives, and the `.ics` when the row has one.

    Headers: From, To (name and address), Subject, Date (the row's creation time, so
    every copy is identical), Message-ID (from the key), Auto-Submitted, Content-Language.
    A name or subject with line breaks is put on one line; the serialized message is
    parsed back and checked to carry exactly these headers and one recipient.
    Raises ValueError when the row cannot be written safely (e.g. a bad address).
    """
    msg, _data = render(row, mail_from)
    return msg


def render(row: Any, mail_from: str | Address) -> tuple[EmailMessage, bytes]:
    """The message (parsed back from its bytes) and its bytes as sent (CRLF), checked."""
    data = message_bytes(row, mail_from)
    return BytesParser(policy=POLICY).parsebytes(data), data  # type: ignore[return-value]


def message_bytes(row: Any, mail_from: str | Address) -> bytes:
    """The bytes sent for an outbox row (CRLF, 7-bit), written directly in one fixed layout:
    multipart/alternative (text, HTML), inside multipart/mixed with the `.ics` when there is one.
    Every value is checked first (`_address`, `_one_line`), and the headers are parsed back."""
    sender = mail_from if isinstance(mail_from, Address) else parse_sender(mail_from)
    recipient = _address(row.to_address, row.to_name or "")
    headers = [
        f"From: {_format_address(sender, 'From')}",
        f"To: {_format_address(recipient, 'To')}",
        f"Subject: {_header_text(_one_line(row.subject), 'Subject')}",
        f"Date: {format_datetime(aware(row.created_at or utcnow()))}",
        f"Message-ID: {message_id(row.key)}",
    ]
    if getattr(row, "reply_to", None):
        headers.append(f"Reply-To: {_format_address(_address(row.reply_to), 'Reply-To')}")
    headers.append("Auto-Submitted: auto-generated")  # RFC 3834: no vacation replies to a robot
    if getattr(row, "language", None):
        language = str(row.language)
        if not _TOKEN.fullmatch(language):
            raise ValueError(f"not a language tag: {language!r}")
        headers.append(f"Content-Language: {language}")
    headers.append("MIME-Version: 1.0")

    # Boundaries from the key: every copy of a message is the same, byte for byte, and
    # "=_" never occurs in quoted-printable text, so no part can contain a boundary.
    boundary = f"=_avtaleflyt_{hashlib.sha256(row.key.encode()).hexdigest()[:24]}"
    alternative = _multipart("alternative", f"{boundary}_alt", [
        _part('text/plain; charset="utf-8"', row.body_text),
        _part('text/html; charset="utf-8"', row.body_html),
    ])
    if row.ics:
        attachment = _part(
            f'text/calendar; charset="utf-8"; method="{_ics_method(row.ics)}"', row.ics,
            f'Content-Disposition: attachment; filename="{ics_filename(row)}"\r\n',
        )
        body = _multipart("mixed", f"{boundary}_mix", [alternative, attachment])
    else:
        body = alternative
    data = "\r\n".join(headers).encode("ascii") + b"\r\n" + body
    _verify_headers(data[: data.index(b"\r\n\r\n") + 4], recipient.addr_spec)
    return data


_TOKEN = re.compile(r"[A-Za-z0-9-]{1,35}")  # a language tag
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # as email.utils.formataddr quotes them
_ESCAPES = re.compile(r'[\\"]')


def _plain(text: str) -> bool:
    """Can go in a header as it is: printable ASCII that does not look like an encoded word."""
    return text.isascii() and text.isprintable() and "=?" not in text


def _format_address(address: Address, header: str) -> str:
    """`Name <addr>` with the name quoted (specials) or as encoded words (not ASCII); `addr` alone without a name."""
    name = address.display_name
    if not name:
        return address.addr_spec
    if _plain(name):
        if _SPECIALS.search(name):
            name = '"' + _ESCAPES.sub(r"\\\g<0>", name) + '"'
    else:
        # One encoded word, as email.utils.formataddr writes it: readers differ on the space
        # between two encoded words in a name (RFC 2047 drops it, the stdlib's parser adds one).
        name = f"=?utf-8?b?{base64.b64encode(name.encode('utf-8')).decode('ascii')}?="
    return f"{name} <{address.addr_spec}>"


def _header_text(value: str, header: str) -> str:
    """Unstructured text (one line already): folded at spaces if plain ASCII, else encoded words from end to end
    (the stdlib folder, switching to encoded words at a fold, would double the space there)."""
    if not _plain(value):
        return _encoded_words(value)
    lines, line = [], len(header) + 2
    out: list[str] = []
    for word in value.split(" "):
        if out and line + 1 + len(word) > 78:
            lines.append(" ".join(out))
            out, line = [], 0
        line += len(word) + (1 if out else 0)
        out.append(word)
    lines.append(" ".join(out))
    return "\r\n ".join(lines)


def _encoded_words(text: str) -> str:
    """Unstructured `text` as RFC 2047 base64 encoded words of at most 36 bytes of UTF-8 each
    (60 characters), one per line; whole characters in each, so every word decodes on its own.
    A reader joins adjacent encoded words in unstructured text without the folding between them."""
    data, words, start = text.encode("utf-8"), [], 0
    while len(data) - start > 36:
        end = start + 36
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: its character starts before `end`
            end -= 1
        words.append(data[start:end])
        start = end
    words.append(data[start:])
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _qp(text: str) -> bytes:
    """Quoted-printable of `text` with CRLF line ends (binascii, lines of at most 76)."""
    lines = text.encode("utf-8").splitlines()
    return binascii.b2a_qp(b"\r\n".join(lines) + b"\r\n", istext=True)


def _part(content_type: str, text: str, extra: str = "") -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: quoted-printable\r\n{extra}\r\n"
    return head.encode("ascii") + _qp(text)


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n'.encode("ascii")
    sep = f"--{boundary}\r\n".encode("ascii")
    return head + b"".join(sep + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode("ascii")


def _verify_headers(data: bytes, to_addr: str) -> None:
    """Parse the serialized message back: exactly the headers we set, once each, one recipient."""
    parsed = BytesHeaderParser(policy=email_policy.compat32).parsebytes(data)
    names = [name.lower() for name in parsed.keys()]
    if len(names) != len(set(names)) or not set(names) <= _EXPECTED_HEADERS:
        raise ValueError(f"unsafe headers in the message: {sorted(names)}")
    recipients = list(_recipients(str(parsed["To"])))
    if recipients != [to_addr]:
        raise ValueError(f"the To header names {recipients}, not [{to_addr!r}]")


@lru_cache(maxsize=4096)  # a sweep writes to the same parties again and again; the parse is the stdlib's, in Python
def _recipients(to_header: str) -> tuple[str, ...]:
    return tuple(addr for _name, addr in getaddresses([to_header]))
