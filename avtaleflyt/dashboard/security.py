"""Who may do what on the dashboard: signed-cookie sessions, a CSRF token per session,
and the two roles (coordinators record, readers read). Parties need no account: they
use the signed link in their letter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from avtaleflyt.models.enums import Role

SESSION_USER = "user"
SESSION_CSRF = "csrf"
SESSION_FLASH = "flash"
SESSION_MAX_AGE = 8 * 3600  # a working day


@dataclass(frozen=True)
class CurrentUser:
    username: str
    name: str
    role: Role

    @property
    def may_record(self) -> bool:
        return self.role == Role.coordinator


class LoginRequired(Exception):
    """Raised by `require_user`; the app answers with a redirect to /login (pages) or 401 (API)."""


def current_user(request: Request) -> CurrentUser | None:
    data = request.session.get(SESSION_USER)
    return CurrentUser(data["username"], data["name"], Role(data["role"])) if data else None


def require_user(request: Request) -> CurrentUser:
    user = current_user(request)
    if user is None:
        raise LoginRequired
    return user


def require_coordinator(request: Request) -> CurrentUser:
    user = require_user(request)
    if not user.may_record:
        raise HTTPException(403, "Bare koordinatorer kan registrere; du har lesetilgang.")
    return user


def log_in(request: Request, user: CurrentUser) -> None:
    request.session.clear()  # a new session on login: no fixation
    request.session[SESSION_USER] = {"username": user.username, "name": user.name, "role": user.role.value}
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise HTTPException(403, "Skjemaet mangler en gyldig sikkerhetsnøkkel (CSRF). Last siden på nytt og prøv igjen.")


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session[SESSION_FLASH] = {"message": message, "kind": kind}


def take_flash(request: Request) -> dict | None:
    return request.session.pop(SESSION_FLASH, None)
