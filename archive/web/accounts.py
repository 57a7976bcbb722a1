"""Admins manage accounts from the web: create them, set roles, deactivate and reactivate, hand out
a new password, and grant or revoke a collection's confidential items, optionally until a day.

Every change goes through archive.services.accounts (the CLI's `crossings users` uses the same
functions), so both are audited alike. A generated password is rendered once in the answer to
the POST that made it, never put in a redirect or the cookie's flash messages, and the page is
sent with `no-store` like every page for an account.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from archive.models import Collection, Role, User
from archive.services import Invalid, accounts, api_tokens
from archive.web.auth import admins_only
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.editing import messages

bp = Blueprint("accounts", __name__, url_prefix="/admin/users")

ROLE_HINTS = {
    Role.admin: "everything, confidential material included, and these accounts",
    Role.archivist: "catalogues and edits; confidential material only of granted collections",
    Role.researcher: "reads public and restricted material; confidential only of granted collections",
}
#: (value, text) of the role choices.
ROLE_OPTIONS = [(role.value, f"{role.value.capitalize()}: {ROLE_HINTS[role]}") for role in accounts.ACCOUNT_ROLES]


def _lifetimes() -> accounts.SessionLifetimes:
    return accounts.SessionLifetimes.from_settings(current_archive().settings)


def _listing(values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
             created: tuple[User, str] | None = None, status: int = 200) -> ResponseReturnValue:
    session = db_session()
    users = accounts.list_users(session)
    return render_template("admin_users.html", users=users, values=values or {"role": "researcher"},
                           errors=errors or {}, created=created, role_options=ROLE_OPTIONS,
                           logins=accounts.live_logins(session, _lifetimes()), today=accounts.today()), status


def _account_page(user: User, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  new_password: str | None = None, status: int = 200) -> ResponseReturnValue:
    session = db_session()
    granted = {g.collection_id for g in user.grants}
    grant_choices = [("", "Choose a collection…")] + [
        (c.id, f"{c.title} (granted: set a new end)" if c.id in granted else c.title)
        for c in session.scalars(select(Collection).order_by(Collection.title))]
    return render_template("admin_user.html", user=user, errors=errors or {}, values=values or {},
                           new_password=new_password, grant_choices=grant_choices, role_options=ROLE_OPTIONS,
                           today=accounts.today(),
                           logins=accounts.live_logins(session, _lifetimes()).get(user.id, 0),
                           is_self=user.id == current_viewer().user_id,
                           tokens=api_tokens.list_tokens(session, current_viewer(), user.id),
                           token_state=api_tokens.state), status


def _refused(user: User, exc: Invalid, values: dict[str, str] | None = None) -> ResponseReturnValue:
    """The account page again with the reason beside its field, nothing of the attempt kept."""
    session = db_session()
    session.rollback()
    user = accounts.get_user(session, user.username)
    return _account_page(user, errors=messages(exc), values=values, status=400)


@bp.get("")
@admins_only
def index() -> ResponseReturnValue:
    return _listing()


@bp.post("")
@admins_only
def create() -> ResponseReturnValue:
    """A new account; without a password typed in, one is generated and shown on this answer only."""
    values = {name: request.form.get(name, "").strip() for name in ("username", "role")}
    typed = request.form.get("password", "")
    password = typed or accounts.generate_password()
    session = db_session()
    try:
        user = accounts.create_user(session, values["username"], password, values["role"])
    except Invalid as exc:
        session.rollback()
        return _listing(values, messages(exc), status=400)
    session.commit()
    return _listing(created=(user, "" if typed else password), status=201)


@bp.get("/<username>")
@admins_only
def account(username: str) -> ResponseReturnValue:
    return _account_page(accounts.get_user(db_session(), username))


@bp.post("/<username>/role")
@admins_only
def role(username: str) -> ResponseReturnValue:
    session = db_session()
    user = accounts.get_user(session, username)
    new_role = request.form.get("role", "")
    try:
        accounts.set_role(session, username, new_role)
    except Invalid as exc:
        return _refused(user, exc, {"role": new_role})
    session.commit()
    flash(f"{user.username} is now {user.role.value}; their logins have ended, so the new role applies at once.")
    return redirect(url_for(".account", username=user.username))


@bp.post("/<username>/active")
@admins_only
def activity(username: str) -> ResponseReturnValue:
    """`active=no` deactivates (every login ends, no new one is accepted); `active=yes` reactivates."""
    session = db_session()
    user = accounts.get_user(session, username)
    choice = request.form.get("active", "")
    try:
        if choice not in ("yes", "no"):
            raise Invalid(f"active must be yes or no, not {choice!r}", "active")
        accounts.set_active(session, username, choice == "yes")
    except Invalid as exc:
        return _refused(user, exc)
    session.commit()
    flash(f"{user.username} may log in again." if user.active
          else f"{user.username} is deactivated: their logins have ended and they cannot log in.")
    return redirect(url_for(".account", username=user.username))


@bp.post("/<username>/password")
@admins_only
def reset_password(username: str) -> ResponseReturnValue:
    """A generated password, shown once in this answer; the account's logins end."""
    session = db_session()
    user = accounts.get_user(session, username)
    password = accounts.reset_password(session, username)
    session.commit()
    return _account_page(user, new_password=password)


@bp.post("/<username>/grants")
@admins_only
def grant(username: str) -> ResponseReturnValue:
    """Grant a collection (or change a grant's last day): `collection` id, `expires` YYYY-MM-DD or blank."""
    session = db_session()
    user = accounts.get_user(session, username)
    values = {name: request.form.get(name, "").strip() for name in ("collection", "expires")}
    try:
        raw = values["collection"]
        if not (raw.isascii() and raw.isdigit()):
            raise Invalid("choose a collection to grant", "collection")
        expires = accounts.parse_expiry(values["expires"])
        accounts.grant(session, username, int(raw), expires=expires)
    except Invalid as exc:
        return _refused(user, exc, values)
    session.commit()
    granted = next(g for g in user.grants if g.collection_id == int(values["collection"]))
    end = f" through {granted.expires_on.isoformat()} (UTC)" if granted.expires_on else ""
    flash(f"{user.username} may see the confidential items of “{granted.collection.title}”{end}.")
    return redirect(url_for(".account", username=user.username, _anchor="grants"))


@bp.post("/<username>/grants/<id:collection_id>/revoke")
@admins_only
def revoke(username: str, collection_id: int) -> ResponseReturnValue:
    session = db_session()
    user = accounts.get_user(session, username)
    title = next((g.collection.title for g in user.grants if g.collection_id == collection_id), None)
    accounts.revoke(session, username, collection_id)
    session.commit()
    flash(f"{user.username} no longer sees the confidential items of “{title}”.")
    return redirect(url_for(".account", username=user.username, _anchor="grants"))

