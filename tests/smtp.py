"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it receives, scriptable.

    with SmtpServer() as smtp:           # or the `smtp_server` fixture
        smtp.handler.data_answers["a@example.no"] = ["421 4.3.2 busy", "451 4.3.0 later"]
        smtp.handler.rcpt_answers["nobody@example.no"] = "550 5.1.1 no such user"
        smtp.handler.drop_on_data = {3}   # abort the connection at the 3rd DATA, before answering
        ... send to ("127.0.0.1", smtp.port) ...
        smtp.handler.received            # [Received(mail_from, rcpt_tos, content)]
        smtp.handler.connections         # EHLO/HELO count = connections that talked SMTP
"""

from __future__ import annotations

import asyncio
import email
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from avtaleflyt.stack import HOST

from .ports import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()


@dataclass
class RecordingHandler:
    """Records every accepted message; answers as scripted.

    - `mail_answer`: the answer to every MAIL FROM, if set.
    - `rcpt_answers[address]`: the answer to RCPT TO for that address, every time.
    - `data_answers[address]`: answers to DATA for messages to that address, one per
      attempt (consumed in order); when they run out the message is accepted.
    - `drop_on_data`: 1-based numbers of DATA commands (counted over all connections)
      at which the connection is aborted instead of answered; the message is not kept.
    - `delay`: seconds to wait after keeping a message and before answering 250.
    - `hold_at`: the number of the kept message (1-based, over all connections) whose
      250 is held back until `release` is set; `holding` is set while it waits. The
      sender then has that message in flight: the server has it, the sender has no answer.
    """

    mail_answer: str | None = None
    rcpt_answers: dict[str, str] = field(default_factory=dict)
    data_answers: dict[str, deque[str] | list[str]] = field(default_factory=dict)
    drop_on_data: set[int] = field(default_factory=set)
    delay: float = 0.0
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event, repr=False)
    release: threading.Event = field(default_factory=threading.Event, repr=False)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    data_commands: int = 0
    answers: list[tuple[str, str]] = field(default_factory=list)  # (recipient, non-250 answer given)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.connections += 1
        return responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        session.host_name = hostname
        with self.lock:
            self.connections += 1
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        if self.mail_answer is not None:
            return self.mail_answer
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        answer = self.rcpt_answers.get(address)
        if answer is not None:
            with self.lock:
                self.answers.append((address, answer))
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_commands += 1
            number = self.data_commands
        if number in self.drop_on_data:
            server.transport.abort()
            return "250 OK (never seen)"
        recipient = envelope.rcpt_tos[0]
        scripted = self.data_answers.get(recipient)
        if scripted:
            if not isinstance(scripted, deque):
                scripted = self.data_answers[recipient] = deque(scripted)
            answer = scripted.popleft()
            with self.lock:
                self.answers.append((recipient, answer))
            if answer.startswith("421"):  # a 421 closes the connection once it is said
                asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return answer
        with self.lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content)))
            count = len(self.received)
        if count == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)  # this connection's task waits; the others go on
        if self.delay:
            await asyncio.sleep(self.delay)
        return f"250 2.0.0 Ok: queued as {count}"

    # --- what tests ask

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]

    def recipients(self) -> Iterable[str]:
        return (a for r in self.received for a in r.rcpt_tos)


class SmtpServer:
    """aiosmtpd in a background thread on HOST and a free port."""

    def __init__(self, handler: RecordingHandler | None = None, port: int | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.host = HOST
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
