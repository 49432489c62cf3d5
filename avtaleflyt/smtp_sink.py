"""A local SMTP server that stores every message it receives as an `.eml` file.

`avtaleflyt up` runs it when no SMTP server is configured (AVTALEFLYT_SMTP_HOST
unset), so letters and reminders can be read without sending anything anywhere:

    python -m avtaleflyt.smtp_sink --dir .avtaleflyt/mail --port 8025

or in-process: `with SmtpSink(directory, port=0) as sink: ... sink.port`.

Each file is named `<UTC time>-<counter>-<sha256(Message-ID)[:12]>.eml` and holds
the message as received, preceded by `Return-Path:` and `Delivered-To:` lines
(the envelope), as a local delivery would write it. A message sent twice (the
outbox's at-least-once) is stored twice, with the same Message-ID.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import signal
import sys
import threading
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from avtaleflyt.clock import utcnow

HOST = "127.0.0.1"


class EmlHandler:
    """aiosmtpd handler: writes each message to `directory` (atomically: temp file, then rename)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self.stored: list[Path] = []

    def _name(self, content: bytes) -> str:
        headers = BytesHeaderParser().parsebytes(content)
        ident = (headers.get("Message-ID") or "").strip() or hashlib.sha256(content).hexdigest()
        stamp = utcnow().strftime("%Y%m%dT%H%M%S.%fZ")
        digest = hashlib.sha256(ident.encode(errors="replace")).hexdigest()[:12]
        return f"{stamp}-{next(self._counter):06d}-{digest}.eml"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        prefix = f"Return-Path: <{envelope.mail_from or ''}>\r\n".encode()
        for rcpt in envelope.rcpt_tos:
            prefix += f"Delivered-To: {rcpt}\r\n".encode()
        name = self._name(content)
        path = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as f:
            f.write(prefix + content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self.stored.append(path)
        return f"250 2.0.0 Ok: stored as {name}"


class SmtpSink:
    """The sink in a background thread: `start()` returns once it listens, `stop()` ends it.

    `port=0` picks a free port; `.port` tells which.
    """

    def __init__(self, directory: Path | str, host: str = HOST, port: int = 8025) -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self.handler = EmlHandler(self.directory)
        self.controller: Controller | None = None

    def start(self) -> SmtpSink:
        if self.port == 0:
            from avtaleflyt.stack import free_port

            self.port = free_port()
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m avtaleflyt.smtp_sink", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, type=Path, help="folder for the .eml files")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sink = SmtpSink(args.dir, args.host, args.port)
    try:
        sink.start()
    except Exception as exc:  # cannot bind, typically
        print(f"smtp_sink: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"smtp_sink: listening on {sink.host}:{sink.port}, storing .eml files in {sink.directory.resolve()}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
