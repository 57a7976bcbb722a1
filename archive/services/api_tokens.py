"""API tokens: secrets with which scripts act as an account, under the same access policy.

A secret is shown once, when it is made; only its sha256 is kept (as for logins), with its first
characters to tell tokens apart in listings. Secrets start with `crs_`, so that secret scanners
can recognise a leaked one. An account makes and revokes its own tokens; an admin may list and
revoke anyone's (to cut off a leak) but not make one for another account, which would let the
admin act in that account's name. The CLI, run by whoever holds the data root, may do all three.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import SYSTEM, Viewer
from archive.models import ApiToken, CollectionGrant, Role, TokenScope, User
from archive.services import Invalid, NotFound
from archive.services import audit
from archive.services.accounts import TOUCH_EVERY, secret_hash, viewer_for

#: What every secret starts with: scanners (GitHub's, gitleaks) find leaked ones by it.
SECRET_PREFIX = "crs_"
#: How much of the secret listings show: the prefix and 8 random characters (48 bits, enough to tell apart).
SHOWN_CHARACTERS = len(SECRET_PREFIX) + 8
#: Longer than any secret we make; a longer header is refused before it is hashed.
MAX_SECRET_LENGTH = 200
MAX_NAME = 100


def _is_admin(actor: Viewer) -> bool:
    return actor.role is Role.admin


def _may_manage(actor: Viewer, user_id: int) -> bool:
    """May `actor` see and revoke the tokens of account `user_id`?"""
    return actor.user_id == user_id or _is_admin(actor)


def scope_of(value: TokenScope | str) -> TokenScope:
    """A scope from its name; "read-write" (the CLI's spelling) is read_write."""
    try:
        return TokenScope(str(value.value if isinstance(value, TokenScope) else value).replace("-", "_"))
    except ValueError:
        raise Invalid(f"scope must be read or read-write, not {value!r}", "scope") from None


def create_token(session: Session, actor: Viewer, user_id: int, *, name: str, scope: TokenScope,
                 expires_at: datetime | None, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of account `user_id` and its secret, to be shown once (only its hash is kept).

    An account makes its own; the CLI (SYSTEM) makes one for any account; nobody else may.
    """
    now = now or datetime.now(timezone.utc)
    user = session.get(User, user_id)
    if user is None or not (actor.user_id == user_id or actor == SYSTEM):
        raise NotFound(f"account {user_id}")
    if not user.active:
        raise Invalid(f"the account {user.username} is deactivated; reactivate it first", "user")
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("give the token a name that says what uses it, e.g. 'nightly export'", "name")
    if len(name) > MAX_NAME:
        raise Invalid(f"a token's name has at most {MAX_NAME} characters, not {len(name)}", "name")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise Invalid("the expiry needs a time zone", "expires_at")
        if expires_at <= now:
            raise Invalid(f"the expiry {expires_at.isoformat()} is already past", "expires_at")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=secret_hash(secret), prefix=secret[:SHOWN_CHARACTERS],
                     scope=scope_of(scope), created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session, actor: Viewer, user_id: int | None) -> list[ApiToken]:
    """The tokens of account `user_id` (every account's when None: admins only), newest first,
    revoked and expired ones included."""
    stmt = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id.desc())
    if user_id is None:
        if not _is_admin(actor):
            raise NotFound("the tokens of every account")
    else:
        if not _may_manage(actor, user_id) or session.get(User, user_id) is None:
            raise NotFound(f"account {user_id}")
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(session.scalars(stmt))


def revoke_token(session: Session, actor: Viewer, token_id: int, *, now: datetime | None = None) -> ApiToken:
    """Revoke a token of the actor's own (admins: anyone's); revoking it again changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None or not _may_manage(actor, token.user_id):
        raise NotFound(f"token {token_id}")
    if token.revoked_at is None:
        with audit.labelled(session, "revoke"):
            token.revoked_at = now or datetime.now(timezone.utc)
    return token


def authenticate_token(session: Session, secret: str, *, now: datetime | None = None) -> ApiToken | None:
    """The token whose secret this is, with its account loaded, or None when it is unknown, revoked,
    expired or its account deactivated. Its last use is written at most once a minute."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        return None
    now = now or datetime.now(timezone.utc)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == secret_hash(secret))
                           .options(selectinload(ApiToken.user).selectinload(User.grants)
                                    .selectinload(CollectionGrant.collection)))
    if (token is None or token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now)
            or not token.user.active):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        session.flush()
    return token


def viewer_for_token(token: ApiToken) -> Viewer:
    """The access-policy viewer of the token's account, marked with the token (for the audit trail)."""
    return replace(viewer_for(token.user), token_id=token.id)


def expiry_in_days(days: int | None, *, now: datetime | None = None) -> datetime | None:
    """The moment `days` whole days from now (None: never expires)."""
    if days is None:
        return None
    if not 1 <= days <= 36500:
        raise Invalid(f"a token lasts 1 to 36500 days, not {days}", "expires")
    return (now or datetime.now(timezone.utc)) + timedelta(days=days)


def state(token: ApiToken, *, now: datetime | None = None) -> str:
    """"active", "expired" or "revoked", for listings."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or datetime.now(timezone.utc)):
        return "expired"
    return "active"


#: The web form's expiry choices: (value, text); "date" takes the day from a second field.
EXPIRY_CHOICES = (("never", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"),
                  ("date", "At the end of a day I choose"))


def parse_expiry(choice: str, day_text: str = "", *, now: datetime | None = None) -> datetime | None:
    """The expiry of the web form: never, in 30/90/365 days, or at the end of a UTC day (YYYY-MM-DD)."""
    now = now or datetime.now(timezone.utc)
    choice = (choice or "never").strip()
    if choice == "never":
        return None
    if choice.isdigit() and choice in dict(EXPIRY_CHOICES):
        return expiry_in_days(int(choice), now=now)
    if choice != "date":
        raise Invalid(f"the expiry must be one of {', '.join(v for v, _ in EXPIRY_CHOICES)}, not {choice!r}",
                      "expires")
    try:
        day = date.fromisoformat((day_text or "").strip())
    except ValueError:
        raise Invalid(f"{day_text!r} is not a date; write the token's last day as YYYY-MM-DD, e.g. 2027-06-30",
                      "expires_on") from None
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.utc)
    if end <= now:
        raise Invalid(f"{day.isoformat()} is already past; a token's last day is today or later", "expires_on")
    return end
