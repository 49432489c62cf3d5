"""Logging a TestClient in to the dashboard, as a coordinator or a reader."""

from __future__ import annotations

import re

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
