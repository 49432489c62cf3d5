"""Who may do what on the dashboard: sessions held on the server, a CSRF token per
session, the roles (one per helsefellesskap: coordinators record, readers read; a revision of
another helsefellesskap answers 404, as if it did not exist), and the headers every answer
carries. Parties need no account: they use the signed link in their letter.

The signed cookie carries a random session key, the CSRF token and a short flash
message. Each request reads the session's row with its user from the database, so
logout, `user disable`, `user grant`/`revoke` and `user role` take effect on the next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avtaleflyt.models.enums import Role
from avtaleflyt.tasks import accounts

SESSION_KEY = "sid"
SESSION_CSRF = "csrf"
SESSION_FLASH = "flash"
SESSION_MAX_AGE = 8 * 3600  # a working day
FLASH_MAX = 300  # characters: a message may quote what a user typed, and the cookie must stay small


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in account and its roles: `scope` says which helsefellesskap it sees and records in (issue 16)."""

    username: str
    name: str
    scope: accounts.Scope = field(default_factory=accounts.Scope)
    admin: bool = False

    @property
    def may_record(self) -> bool:
        """A coordinator somewhere (the list's 'needs my action', the header); a revision asks `may_record_in`."""
        return self.scope.everywhere == Role.coordinator or Role.coordinator in self.scope.roles.values()

    def may_record_in(self, helsefellesskap: str) -> bool:
        return self.scope.records(helsefellesskap)

    def sees(self, helsefellesskap: str) -> bool:
        return self.scope.sees(helsefellesskap)


class LoginRequired(Exception):
    """Raised by `deps.require_user`; the app answers with a redirect to /login (pages) or 401 (API)."""


def log_in(request: Request, key: str, user: CurrentUser) -> None:
    request.session.clear()  # a new session on login: no fixation
    request.session[SESSION_KEY] = key
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    request.state.user = user


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not isinstance(submitted, str) or not secrets.compare_digest(expected, submitted):
        raise HTTPException(403, "Skjemaet mangler en gyldig sikkerhetsnøkkel (CSRF). Last siden på nytt og prøv igjen.")


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A message for the next page, in the cookie: cut to FLASH_MAX characters."""
    short = message if len(message) <= FLASH_MAX else message[: FLASH_MAX - 1] + "…"
    request.session[SESSION_FLASH] = {"message": short, "kind": kind}


def take_flash(request: Request) -> dict | None:
    return request.session.pop(SESSION_FLASH, None)


# --------------------------------------------------------------------------- headers

# No inline script or style anywhere: the pages load /static/dashboard.css and .js.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # a party's link carries its token in the URL
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it
}


class SecurityHeaders:
    """Adds HEADERS to every HTTP answer; a handler that sets its own CSP keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
