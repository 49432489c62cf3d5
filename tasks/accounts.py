"""Dashboard accounts: argon2id password hashes; coordinators record, readers read."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from avtaleflyt.models.enums import Role
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import User

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("avtaleflyt: no such user")


def add_user(session: Session, username: str, name: str, role: Role, password: str) -> User:
    username = username.strip().casefold()
    if not username or any(c.isspace() for c in username):
        raise DomainError("USERNAME: one word, no spaces")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if session.exec(select(User).where(User.username == username)).first():
        raise DomainError(f"USERNAME: {username!r} exists already")
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
