"""Dashboard accounts: argon2id password hashes, sessions held on the server, the account
event log, and each account's roles: one per helsefellesskap (`Membership`, issue 16), or one
installation-wide (`User.role`). Coordinators record, readers read, in their helsefellesskap only."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import socket
from contextvars import ContextVar
from collections.abc import Mapping
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy import ColumnElement, delete, false, true
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from avtaleflyt.models.enums import Role
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import AccountEvent, Membership, Revision, User, UserSession

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("avtaleflyt: no such user")


def add_user(
    session: Session, username: str, name: str, role: Role | None, password: str,
    memberships: Mapping[str, Role] | None = None, *, admin: bool = False, actor: str | None = None,
) -> User:
    """A new account: `role` installation-wide (None: none), `memberships` a role per helsefellesskap."""
    username = username.strip().casefold()
    if not username or any(c.isspace() for c in username):
        raise DomainError("USERNAME: one word, no spaces", code=ErrorCode.bad_username, field="username", username=username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"password: at least {MIN_PASSWORD_LENGTH} characters", code=ErrorCode.weak_password, field="password", minimum=MIN_PASSWORD_LENGTH)
    wanted = {_helsefellesskap(hf): Role(r) for hf, r in (memberships or {}).items()}
    if session.exec(select(User).where(User.username == username)).first():
        raise DomainError(f"USERNAME: {username!r} exists already", code=ErrorCode.user_exists, field="username", username=username)
    user = User(username=username, name=name.strip() or username, role=role, admin=admin, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    for hf, r in wanted.items():
        session.add(Membership(user_id=user.id, helsefellesskap=hf, role=r))
    roles = [f"{hf}: {r.value}" for hf, r in sorted(wanted.items())] + ([f"everywhere: {role.value}"] if role else []) + (["admin"] if admin else [])
    log_event(session, "user.added", username=username, actor=actor, note="; ".join(roles) or None)
    session.flush()
    return user


# --- roles per helsefellesskap (issue 16) ---------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one account may see and record: its role in each helsefellesskap, and its installation-wide role."""

    roles: Mapping[str, Role] = field(default_factory=dict)
    everywhere: Role | None = None

    def role_in(self, helsefellesskap: str) -> Role | None:
        """The account's role in this helsefellesskap: the higher of its membership and its installation-wide role."""
        found = {self.roles.get(helsefellesskap), self.everywhere} - {None}
        if not found:
            return None
        return Role.coordinator if Role.coordinator in found else Role.reader

    def sees(self, helsefellesskap: str) -> bool:
        return self.role_in(helsefellesskap) is not None

    def records(self, helsefellesskap: str) -> bool:
        return self.role_in(helsefellesskap) == Role.coordinator

    def helsefellesskap(self, role: Role | None = None) -> frozenset[str] | None:
        """The helsefellesskap it sees (role=coordinator: records in); None: every one, also those to come."""
        if self.everywhere is not None and (role != Role.coordinator or self.everywhere == Role.coordinator):
            return None
        return frozenset(hf for hf in self.roles if role != Role.coordinator or self.records(hf))

    def where(self, column: ColumnElement[str], role: Role | None = None) -> ColumnElement[bool]:
        """A condition on a helsefellesskap column (e.g. Revision.helsefellesskap): only rows this account sees (records in)."""
        names = self.helsefellesskap(role)
        if names is None:
            return true()
        return column.in_(sorted(names)) if names else false()


def scope_of(session: Session, user: User) -> Scope:
    """The user's scope (one query for its memberships)."""
    rows = session.exec(select(Membership.helsefellesskap, Membership.role).where(Membership.user_id == user.id)).all()
    return Scope({hf: Role(r) for hf, r in rows}, Role(user.role) if user.role else None)


def helsefellesskap_of(session: Session, user: User, role: Role | None = None) -> frozenset[str] | None:
    """The helsefellesskap whose revisions `user` sees (role=Role.coordinator: records in, as the
    weekly coordinator digest wants); None means every helsefellesskap (an installation-wide role). Select its revisions with `scope_of(...).where(Revision.helsefellesskap)`."""
    return scope_of(session, user).helsefellesskap(role)


def _helsefellesskap(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise DomainError("--helsefellesskap: must not be empty", code=ErrorCode.required, field="helsefellesskap")
    return name


def grant(session: Session, username: str, helsefellesskap: str, role: Role, *, actor: str | None) -> tuple[User, Role | None]:
    """Give `username` `role` in `helsefellesskap` (a new membership, or another role in it); returns the role before."""
    hf = _helsefellesskap(helsefellesskap)
    user = _user(session, username)
    row = session.exec(select(Membership).where(Membership.user_id == user.id, Membership.helsefellesskap == hf)).first()
    before = Role(row.role) if row else None
    if before != role:
        if row is None:
            row = Membership(user_id=user.id, helsefellesskap=hf, role=role)
        row.role = role
        session.add(row)
        log_event(session, "membership.granted", username=user.username, actor=actor, note=f"{hf}: {before.value if before else 'none'} → {role.value}")
        session.flush()
    return user, before


def revoke(session: Session, username: str, helsefellesskap: str, *, actor: str | None) -> tuple[User, Role]:
    """End `username`'s membership of `helsefellesskap`; returns the role it had. Refused if it has none."""
    hf = _helsefellesskap(helsefellesskap)
    user = _user(session, username)
    row = session.exec(select(Membership).where(Membership.user_id == user.id, Membership.helsefellesskap == hf)).first()
    if row is None:
        raise DomainError(f"--helsefellesskap: {user.username!r} has no role in {hf!r}", code=ErrorCode.invalid_value, field="helsefellesskap", value=hf)
    before = Role(row.role)
    session.delete(row)
    log_event(session, "membership.revoked", username=user.username, actor=actor, note=f"{hf}: {before.value} → none")
    session.flush()
    return user, before


def set_admin(session: Session, username: str, admin: bool, *, actor: str | None) -> User:
    """Make an account an admin (it manages accounts) or not."""
    user = _user(session, username)
    if user.admin != admin:
        user.admin = admin
        session.add(user)
        log_event(session, "user.admin" if admin else "user.not_admin", username=user.username, actor=actor)
    return user


def accounts(session: Session) -> list[tuple[User, dict[str, Role]]]:
    """Every account with its memberships, by name (two queries)."""
    users = session.exec(select(User).order_by(User.username)).all()
    roles: dict[int, dict[str, Role]] = {u.id: {} for u in users}
    for m in session.exec(select(Membership).order_by(Membership.helsefellesskap)).all():
        roles.setdefault(m.user_id, {})[m.helsefellesskap] = Role(m.role)
    return [(u, roles[u.id]) for u in users]


def known_helsefellesskap(session: Session) -> list[str]:
    """The helsefellesskap that have a revision."""
    return list(session.exec(select(Revision.helsefellesskap).distinct().order_by(Revision.helsefellesskap)).all())


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


def session_user_scope(session: Session, key: str, *, now: dt.datetime, slug: str | None = None) -> tuple[User, Scope, tuple[int, str] | None] | None:
    """The active user whose session `key` is, if the session has not ended or expired, with the
    user's scope and, for a route with a revision's `slug`, that revision's (id, helsefellesskap)
    or None: one query (memberships joined, the revision a subquery)."""
    revision = select(Revision.id, Revision.helsefellesskap).where(Revision.slug == slug).subquery() if slug is not None else None
    columns = [User, Membership.helsefellesskap, Membership.role] + ([revision.c.id, revision.c.helsefellesskap] if revision is not None else [])
    query = (
        select(*columns)
        .join(UserSession, col(UserSession.user_id) == col(User.id))
        .outerjoin(Membership, col(Membership.user_id) == col(User.id))
        .where(UserSession.key_hash == _key_hash(key), col(UserSession.ended_at).is_(None), UserSession.expires_at > now, col(User.active).is_(True))
    )
    if revision is not None:
        query = query.outerjoin(revision, true())
    rows = session.exec(query).all()
    if not rows:
        return None
    user = rows[0][0]
    scope = Scope({row[1]: Role(row[2]) for row in rows if row[1] is not None}, Role(user.role) if user.role else None)
    found = (rows[0][3], rows[0][4]) if revision is not None and rows[0][3] is not None else None
    return user, scope, found


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


# Where an account change comes from when the caller names no address: the dashboard's admin
# pages set the admin's address; a CLI command leaves it unset: `cli@` this machine's name.
ORIGIN: ContextVar[str | None] = ContextVar("account_event_origin", default=None)


def log_event(session: Session, action: str, *, username: str | None = None, ip: str | None = None, actor: str | None = None, note: str | None = None) -> None:
    """Append to the account event log (the user name bounded: it may come from a login form)."""
    ip = ip or ORIGIN.get() or f"cli@{socket.gethostname()}"
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
    """Change a user's installation-wide role; a session under way gets it on its next request.
    Refused for an account with roles per helsefellesskap only (`grant` changes those). Returns the user and the role before."""
    user = _user(session, username)
    before = user.role
    if before is None:
        raise DomainError(
            f"--role: {user.username!r} has roles per helsefellesskap only: use `user grant {user.username} --helsefellesskap HF --role ROLE`",
            code=ErrorCode.invalid_value, field="role", value=role.value,
        )
    if before != role:
        user.role = role
        session.add(user)
        log_event(session, "user.role", username=user.username, actor=actor, note=f"everywhere: {before.value} → {role.value}")
    return user, Role(before)
