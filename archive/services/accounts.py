"""Accounts: users, roles, collection grants, and logging in with a rate limit on guessing."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from archive.access import Viewer
from archive.models import Collection, CollectionGrant, LoginAttempt, LoginSession, Role, User
from archive.services import Invalid, NotFound

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
MIN_PASSWORD = 10
ACCOUNT_ROLES = (Role.admin, Role.archivist, Role.researcher)
#: Load an account with its grants and their collections' titles.
_WITH_GRANTS = selectinload(User.grants).selectinload(CollectionGrant.collection)
# A hash to check against when the username is unknown, so that both cases take as long.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class TooManyAttempts(Exception):
    """Logins are refused for a while; `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {max(1, retry_after // 60)} minute(s)")
        self.retry_after = retry_after


def today() -> date:
    """The UTC day, which decides whether a grant is in force."""
    return datetime.now(timezone.utc).date()


def viewer_for(user: User, *, on: date | None = None) -> Viewer:
    """The access-policy view of an account: its role and the grants in force `on` (today).
    Made afresh for every request, so a grant stops opening anything the day after it expires."""
    on = on or today()
    return Viewer(role=user.role, user_id=user.id, name=user.username,
                  granted_collections=frozenset(g.collection_id for g in user.grants if g.in_force(on)))


def _role(value: Role | str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in ACCOUNT_ROLES:
        raise Invalid(f"role must be one of {', '.join(r.value for r in ACCOUNT_ROLES)}, not {value!r}", "role")
    return role


#: Letters and digits no one misreads when copying a password from a screen (no 0/O, 1/l/I).
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_password() -> str:
    """A new random password to hand over once: four groups of four (about 93 bits), e.g. k7Rm-x2Qp-9fTz-W4hc."""
    return "-".join("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


def _password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters", "password")
    return generate_password_hash(password)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower())
                          .options(_WITH_GRANTS))
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
    return list(session.scalars(select(User).options(_WITH_GRANTS)
                                .order_by(User.username)))


def _keep_an_admin(session: Session, user: User, field: str) -> None:
    """Refuse to leave the archive without an active admin, who alone could undo it from the web."""
    others = session.scalar(select(func.count(User.id)).where(User.role == Role.admin, User.active.is_(True),
                                                            User.id != user.id))
    if user.role is Role.admin and user.active and not others:
        raise Invalid(f"the only active admin is {user.username}; make another account an admin first", field)


def set_role(session: Session, username: str, role: Role | str) -> User:
    """Change the account's role; its logins end, so it starts afresh with the new role."""
    user = get_user(session, username)
    role = _role(role)
    if user.role != role:
        if role is not Role.admin:
            _keep_an_admin(session, user, "role")
        user.role = role
        end_sessions(session, user)
    session.flush()
    return user


def reset_password(session: Session, username: str) -> str:
    """Give the account a generated password (every login ends); return it, to be shown once."""
    password = generate_password()
    set_password(session, username, password)
    return password


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; every login made with the old one ends."""
    user = get_user(session, username)
    user.password_hash = _password(password)
    end_sessions(session, user)
    session.flush()
    return user


def change_own_password(session: Session, viewer: Viewer, old_password: str, new_password: str) -> User:
    """The viewer's own new password, given the current one; every login of the account ends."""
    user = session.get(User, viewer.user_id) if viewer.user_id is not None else None
    if user is None or not user.active:
        raise NotFound("your account")
    if not check_password_hash(user.password_hash, old_password):
        raise Invalid("that is not your current password", "old_password")
    if old_password == new_password:
        raise Invalid("the new password must differ from the current one", "new_password")
    try:
        return set_password(session, user.username, new_password)
    except Invalid as exc:
        raise Invalid(str(exc), "new_password") from exc


def set_active(session: Session, username: str, active: bool) -> User:
    """Deactivate (its logins end and it cannot log in) or reactivate an account."""
    user = get_user(session, username)
    if not active:
        _keep_an_admin(session, user, "active")
    user.active = active
    if not active:
        end_sessions(session, user)
    session.flush()
    return user


# -- logins kept in the database ------------------------------------------------------------

@dataclass(frozen=True)
class SessionLifetimes:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_settings(cls, settings: dict[str, object]) -> SessionLifetimes:
        return cls(idle=timedelta(minutes=float(settings["session_idle_minutes"])),  # type: ignore[arg-type]
                   absolute=timedelta(hours=float(settings["session_lifetime_hours"])))  # type: ignore[arg-type]


#: last_seen_at is written at most this often, so that a busy browser is not a write per request.
TOUCH_EVERY = timedelta(minutes=1)


def secret_hash(token: str) -> str:
    """What is stored of a login's or an API token's secret: its sha256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def start_session(session: Session, user: User, *, user_agent: str = "", remote_addr: str = "",
                  now: datetime | None = None) -> str:
    """Record a new login of `user`; returns its random token (only its hash is stored)."""
    now = now or datetime.now(timezone.utc)
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=secret_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                             user_agent=user_agent[:200], remote_addr=remote_addr[:64]))
    session.flush()
    return token


def resume_session(session: Session, token: str, lifetimes: SessionLifetimes, *,
                   now: datetime | None = None) -> User | None:
    """The active account whose live login `token` is, or None; a login past its lifetimes is deleted."""
    now = now or datetime.now(timezone.utc)
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == secret_hash(token))
                         .options(selectinload(LoginSession.user).selectinload(User.grants)
                                  .selectinload(CollectionGrant.collection)))
    if row is None:
        return None
    if (not row.user.active or now - row.last_seen_at > lifetimes.idle
            or now - row.created_at > lifetimes.absolute):
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return row.user


def live_logins(session: Session, lifetimes: SessionLifetimes, *, now: datetime | None = None) -> dict[int, int]:
    """How many browsers each account is logged in on now (accounts with none are left out)."""
    now = now or datetime.now(timezone.utc)
    rows = session.execute(select(LoginSession.user_id, func.count()).where(
        LoginSession.last_seen_at >= now - lifetimes.idle, LoginSession.created_at >= now - lifetimes.absolute)
        .group_by(LoginSession.user_id))
    return {user_id: count for user_id, count in rows}


def end_session(session: Session, token: str) -> None:
    """Log out the browser holding `token` (nothing if it is unknown)."""
    session.execute(delete(LoginSession).where(LoginSession.token_hash == secret_hash(token)))


def end_sessions(session: Session, user: User) -> None:
    """Log out every browser of `user`."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def prune_sessions(session: Session, lifetimes: SessionLifetimes, *, now: datetime | None = None) -> None:
    """Delete logins past their idle or absolute lifetime (they no longer open anything anyway)."""
    now = now or datetime.now(timezone.utc)
    session.execute(delete(LoginSession).where(or_(LoginSession.last_seen_at < now - lifetimes.idle,
                                                   LoginSession.created_at < now - lifetimes.absolute)))


def parse_expiry(raw: str | None, *, on: date | None = None) -> date | None:
    """A grant's last day from YYYY-MM-DD text (blank: no end); a day already past is refused."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{raw!r} is not a date; write the grant's last day as YYYY-MM-DD, e.g. 2027-06-30",
                      "expires") from None
    if day < (on or today()):
        raise Invalid(f"{day.isoformat()} is already past; a grant's last day is today or later", "expires")
    return day


def grant(session: Session, username: str, collection_id: int, *, expires: date | None = None) -> User:
    """Let the user see the collection's confidential items, through the end of `expires` (UTC) if given.

    Granting again sets the new end (or none). The grant is replaced rather than edited, so the
    audit trail's entry for the account shows the old and the new end side by side."""
    user = get_user(session, username)
    collection = session.get(Collection, collection_id)
    if collection is None:
        raise NotFound(f"collection {collection_id}")
    current = next((g for g in user.grants if g.collection_id == collection_id), None)
    if current is not None and current.expires_on == expires:
        return user
    if current is not None:
        user.grants.remove(current)
    user.grants.append(CollectionGrant(collection=collection, expires_on=expires))
    session.flush()
    return user


def revoke(session: Session, username: str, collection_id: int) -> User:
    """Take back a grant (in force or expired); NotFound when there is none."""
    user = get_user(session, username)
    current = next((g for g in user.grants if g.collection_id == collection_id), None)
    if current is None:
        raise NotFound(f"a grant of collection {collection_id} to {user.username}")
    user.grants.remove(current)
    session.flush()
    return user


@dataclass(frozen=True)
class LoginLimits:
    #: Failed logins allowed for one username from one address (the pair) within the window.
    max_failures: int
    #: Failed logins allowed from one address over all usernames within the window.
    max_failures_per_address: int
    window_seconds: int


def reserve_login(session: Session, username: str, remote_addr: str, *, now: datetime | None = None) -> int:
    """Record a login attempt as pending, before its password is checked; returns its id.

    The caller commits it at once, so that every process counting attempts sees it: that is what
    keeps simultaneous guesses from all slipping under the limit (see authenticate).
    """
    attempt = LoginAttempt(username=username.strip().lower()[:80], remote_addr=remote_addr[:64], succeeded=None,
                           at=now or datetime.now(timezone.utc))
    session.add(attempt)
    session.flush()
    return attempt.id


def authenticate(session: Session, attempt_id: int, password: str, limits: LoginLimits,
                 *, now: datetime | None = None) -> User | None:
    """The active user whose password this is, or None; TooManyAttempts while the attempt's
    username and address, or its address alone, has failed too often within the window.

    `attempt_id` is a committed reserve_login. The limits count failed and still-pending attempts,
    this one included, so of any number tried at once at most the limit get their password checked
    (some may be refused early, never too many let through). Failures count per username *and*
    address, so a stranger guessing elsewhere cannot lock the owner out; a success clears its pair.
    A refused attempt leaves no row, so waiting out the window always ends the lock.
    """
    now = now or datetime.now(timezone.utc)
    attempt = session.get(LoginAttempt, attempt_id)
    if attempt is None or attempt.succeeded is not None:
        raise Invalid(f"login attempt {attempt_id} is not pending", "attempt")
    counted = select(func.count(), func.min(LoginAttempt.at)).where(
        or_(LoginAttempt.succeeded.is_(False), LoginAttempt.succeeded.is_(None)),
        LoginAttempt.at >= attempt.at - timedelta(seconds=limits.window_seconds))
    pair = (LoginAttempt.username == attempt.username, LoginAttempt.remote_addr == attempt.remote_addr)
    for where, limit in ((pair, limits.max_failures),
                         ((LoginAttempt.remote_addr == attempt.remote_addr,), limits.max_failures_per_address)):
        count, oldest = session.execute(counted.where(*where)).one()
        if count > limit:
            session.delete(attempt)
            session.flush()
            raise TooManyAttempts(int((oldest + timedelta(seconds=limits.window_seconds) - now).total_seconds()))
    user = session.scalar(select(User).where(User.username == attempt.username)
                          .options(_WITH_GRANTS))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password) and bool(user and user.active)
    attempt.succeeded = ok
    if ok:
        assert user is not None
        user.last_login_at = now
        session.execute(delete(LoginAttempt).where(*pair, LoginAttempt.succeeded.is_(False)))
    session.flush()
    return user if ok else None


DEMO_USERS = (("admin", Role.admin), ("archivist", Role.archivist), ("researcher", Role.researcher))


def ensure_demo_users(session: Session) -> list[tuple[str, Role, str]]:
    """Create the demo's admin, archivist and researcher when absent; return (name, role, password) of new ones."""
    made = []
    for username, role in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            password = generate_password()
            create_user(session, username, password, role)
            made.append((username, role, password))
    return made
