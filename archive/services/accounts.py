"""Accounts: users, roles, collection grants, and logging in with a rate limit on guessing."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from archive.access import Viewer
from archive.models import Collection, LoginAttempt, Role, User
from archive.services import Invalid, NotFound

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
MIN_PASSWORD = 10
ACCOUNT_ROLES = (Role.admin, Role.archivist, Role.researcher)
# A hash to check against when the username is unknown, so that both cases take as long.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class TooManyAttempts(Exception):
    """Logins are refused for a while; `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {max(1, retry_after // 60)} minute(s)")
        self.retry_after = retry_after


def viewer_for(user: User) -> Viewer:
    """The access-policy view of an account."""
    return Viewer(role=user.role, user_id=user.id, name=user.username,
                  granted_collections=frozenset(c.id for c in user.granted_collections))


def _role(value: Role | str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in ACCOUNT_ROLES:
        raise Invalid(f"role must be one of {', '.join(r.value for r in ACCOUNT_ROLES)}, not {value!r}", "role")
    return role


def _password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters", "password")
    return generate_password_hash(password)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower())
                          .options(selectinload(User.granted_collections)))
    if user is None:
        raise NotFound(f"user {username!r}")
    return user


def create_user(session: Session, username: str, password: str, role: Role | str) -> User:
    """A new account; usernames are lower-case letters, digits and . _ -."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise Invalid("a username has 2 to 80 lower-case letters, digits, dots, dashes or underscores",
                      "username")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Invalid(f"there is already a user {username!r}", "username")
    user = User(username=username, password_hash=_password(password), role=_role(role), active=True)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.granted_collections))
                                .order_by(User.username)))


def set_role(session: Session, username: str, role: Role | str) -> User:
    user = get_user(session, username)
    user.role = _role(role)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    user = get_user(session, username)
    user.password_hash = _password(password)
    session.flush()
    return user


def grant(session: Session, username: str, collection_id: int) -> User:
    """Let the user see the collection's confidential items."""
    user = get_user(session, username)
    collection = session.get(Collection, collection_id)
    if collection is None:
        raise NotFound(f"collection {collection_id}")
    if collection not in user.granted_collections:
        user.granted_collections.append(collection)
    session.flush()
    return user


def revoke(session: Session, username: str, collection_id: int) -> User:
    user = get_user(session, username)
    user.granted_collections = [c for c in user.granted_collections if c.id != collection_id]
    session.flush()
    return user


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int
    max_failures_per_address: int
    window_seconds: int


def authenticate(session: Session, username: str, password: str, remote_addr: str, limits: LoginLimits,
                 *, now: datetime | None = None) -> User | None:
    """The active user whose password this is, or None; refuses with TooManyAttempts when guessing.

    Every attempt is recorded (the caller commits), so the limit holds across processes.
    """
    now = now or datetime.now(timezone.utc)
    username = username.strip().lower()[:80]
    since = now - timedelta(seconds=limits.window_seconds)
    failures = select(func.count(), func.min(LoginAttempt.at)).where(LoginAttempt.succeeded.is_(False),
                                                                    LoginAttempt.at >= since)
    for where, limit in ((LoginAttempt.username == username, limits.max_failures),
                         (LoginAttempt.remote_addr == remote_addr, limits.max_failures_per_address)):
        count, oldest = session.execute(failures.where(where)).one()
        if count >= limit:
            retry = int((oldest + timedelta(seconds=limits.window_seconds) - now).total_seconds())
            raise TooManyAttempts(retry)
    user = session.scalar(select(User).where(User.username == username)
                          .options(selectinload(User.granted_collections)))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password) and bool(user and user.active)
    session.add(LoginAttempt(username=username, remote_addr=remote_addr[:64], succeeded=ok, at=now))
    if ok:
        assert user is not None
        user.last_login_at = now
    session.flush()
    return user if ok else None


DEMO_USERS = (("admin", Role.admin), ("archivist", Role.archivist), ("researcher", Role.researcher))


def ensure_demo_users(session: Session) -> list[tuple[str, Role, str]]:
    """Create the demo's admin, archivist and researcher when absent; return (name, role, password) of new ones."""
    made = []
    for username, role in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            password = secrets.token_urlsafe(12)
            create_user(session, username, password, role)
            made.append((username, role, password))
    return made
