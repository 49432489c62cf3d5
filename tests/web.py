"""Logging a TestClient in to the dashboard, as a coordinator or a reader; serving it for real."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import User
from avtaleflyt.tasks.accounts import add_user

PASSWORD = "et langt nok passord"


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client: TestClient, engine, role: Role = Role.reader) -> TestClient:  # noqa: ANN001
    username = role.value
    with session_scope(engine) as s:
        if s.exec(select(User).where(User.username == username)).first() is None:
            add_user(s, username, f"Test {username}", role, PASSWORD)
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


@contextmanager
def served(app) -> Iterator[str]:  # noqa: ANN001 - a FastAPI app
    """The app under uvicorn (configured as `avtaleflyt dashboard` does) in a thread on a free loopback port; yields its base URL."""
    import uvicorn

    from avtaleflyt.dashboard.__main__ import uvicorn_config

    from .ports import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the dashboard did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
