"""Dashboard accounts: argon2id password hashes, sessions held on the server, the account
event log; coordinators record, readers read."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from sqlalchemy import delete
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from avtaleflyt.models.enums import Role
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import AccountEvent, User, UserSession

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("avtaleflyt: no such user")


def add_user(session: Session, username: str, name: str, role: Role, password: str) -> User:
    username = username.strip().casefold()
    if not username or any(c.isspace() for c in username):
        raise DomainError("USERNAME: one word, no spaces", code=ErrorCode.bad_username, field="username", username=username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"password: at least {MIN_PASSWORD_LENGTH} characters", code=ErrorCode.weak_password, field="password", minimum=MIN_PASSWORD_LENGTH)
    if session.exec(select(User).where(User.username == username)).first():
        raise DomainError(f"USERNAME: {username!r} exists already", code=ErrorCode.user_exists, field="username", username=username)
    user = User(username=username, name=name.strip() or username, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (the same answer for every failure)."""
    user = session.exec(select(User).where(User.username == username.strip().casefold(), User.active == True)).first()  # noqa: E712
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    return user


# --- sessions on the server ------------------------------------------------------------
# The signed cookie carries only a random key; the row says whose session it is and
# whether it still works. Every request reads it with the user, so logout, `user
# disable` and `user role` take effect on the user's next request.


SESSION_ROWS_KEPT = dt.timedelta(days=30)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(session: Session, user: User, *, now: dt.datetime, max_age: dt.timedelta) -> str:
    """A new session for `user`; returns the key for the cookie (only its hash is stored)."""
    key = secrets.token_urlsafe(32)
    # Rows of sessions long over go (the account event log keeps the logins and logouts).
    session.exec(delete(UserSession).where(UserSession.expires_at < now - SESSION_ROWS_KEPT))  # type: ignore[call-overload]
    session.add(UserSession(key_hash=_key_hash(key), user_id=user.id, created_at=now, expires_at=now + max_age))
    session.flush()
    return key


def session_user(session: Session, key: str, *, now: dt.datetime) -> User | None:
    """The active user whose session `key` is, if the session has not ended or expired (one query)."""
    return session.exec(
        select(User).join(UserSession, col(UserSession.user_id) == col(User.id)).where(
            UserSession.key_hash == _key_hash(key), col(UserSession.ended_at).is_(None), UserSession.expires_at > now, col(User.active).is_(True)
        )
    ).first()


def end_session(session: Session, key: str, *, now: dt.datetime) -> str | None:
    """End the session `key` (logout); returns its user's name, or None if it had ended already."""
    row = session.exec(select(UserSession).where(UserSession.key_hash == _key_hash(key), col(UserSession.ended_at).is_(None))).first()
    if row is None:
        return None
    row.ended_at = now
    session.add(row)
    user = session.get(User, row.user_id)
    return user.username if user else None


def _end_all(session: Session, user: User, now: dt.datetime) -> int:
    rows = session.exec(select(UserSession).where(UserSession.user_id == user.id, col(UserSession.ended_at).is_(None))).all()
    for row in rows:
        row.ended_at = now
        session.add(row)
    return len(rows)


# --- account changes from the CLI, and the account event log ------------------------------------


def log_event(session: Session, action: str, *, username: str | None = None, ip: str | None = None, actor: str | None = None, note: str | None = None) -> None:
    """Append to the account event log (the user name bounded: it may come from a login form)."""
    session.add(AccountEvent(action=action, username=(username or None) and username[:64], ip=ip and ip[:64], actor=actor, note=note))


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip().casefold()).with_for_update()).first()
    if user is None:
        raise DomainError(f"USERNAME: no user {username.strip()!r}", code=ErrorCode.no_user, field="username", username=username.strip())
    return user


def set_active(session: Session, username: str, active: bool, *, actor: str, now: dt.datetime) -> tuple[User, int]:
    """Disable (every session of the user ends) or enable an account; returns it and how many sessions ended."""
    user = _user(session, username)
    ended = 0 if active else _end_all(session, user, now)
    if user.active != active:
        user.active = active
        session.add(user)
        log_event(session, "user.enabled" if active else "user.disabled", username=user.username, actor=actor, note=f"{ended} session(s) ended" if ended else None)
    return user, ended


def set_role(session: Session, username: str, role: Role, *, actor: str) -> tuple[User, Role]:
    """Give a user another role; a session under way gets it on its next request. Returns the user and the role before."""
    user = _user(session, username)
    before = user.role
    if before != role:
        user.role = role
        session.add(user)
        log_event(session, "user.role", username=user.username, actor=actor, note=f"{before.value} → {role.value}")
    return user, before
