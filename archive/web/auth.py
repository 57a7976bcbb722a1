"""Logging in and out, who the viewer is, role checks, CSRF and security headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, session as cookie, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound as HTTPNotFound
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from archive.web.context import current_archive, current_viewer, db_session
from archive.access import EDITORS
from archive.models import Role, User
from archive.services import Invalid, accounts

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

#: Only our own scripts, styles and media; no inline script is needed anywhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


class LoginUser(UserMixin):
    """What Flask-Login keeps for a request: the login's random token and the access-policy viewer.

    `id` (what Flask-Login puts in the cookie) is the token of a row in the sessions table, never
    the account's id, so deleting the row ends the login even for a saved copy of the cookie.
    """

    def __init__(self, user: User, token: str) -> None:
        self.id = token
        self.viewer = accounts.viewer_for(user)


F = TypeVar("F", bound=Callable[..., Any])


def require_role(*roles: Role) -> Callable[[F], F]:
    """Anonymous visitors are sent to log in; accounts without one of `roles` get a 404."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            viewer = current_viewer()
            if viewer.is_anonymous:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if viewer.role not in roles:
                raise HTTPNotFound()
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


editors_only = require_role(*EDITORS)
admins_only = require_role(Role.admin)
accounts_only = require_role(*accounts.ACCOUNT_ROLES)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class PasswordForm(FlaskForm):
    old_password = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1000)])


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send people to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        settings = current_archive().settings
        limits = accounts.LoginLimits(settings["login_max_failures"], settings["login_max_failures_per_address"],
                                      settings["login_window_seconds"])
        session = db_session()
        attempt = accounts.reserve_login(session, form.username.data or "", request.remote_addr or "unknown")
        session.commit()  # counted by every other login from now on, before this password is checked
        try:
            user = accounts.authenticate(session, attempt, form.password.data or "", limits)
            session.commit()
        except accounts.TooManyAttempts as exc:
            session.commit()  # the refused attempt's reservation is taken back
            response = Response(render_template("login.html", form=form, error=str(exc).capitalize() + "."), 429)
            response.headers["Retry-After"] = str(max(exc.retry_after, 1))
            return response
        if user is not None:
            lifetimes = accounts.SessionLifetimes.from_settings(settings)
            accounts.prune_sessions(session, lifetimes)
            token = accounts.start_session(session, user, user_agent=request.user_agent.string,
                                           remote_addr=request.remote_addr or "")
            session.commit()
            # A fresh cookie: nothing from before the login (the CSRF token included) carries over.
            cookie.clear()
            g.pop("csrf_token", None)
            login_user(LoginUser(user, token))
            g.pop("viewer", None)
            flash(f"Logged in as {user.username} ({user.role.value}).")
            return redirect(_safe_next(request.args.get("next")))
        status = 401
        form.password.errors = ["Unknown username or wrong password."]
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if current_user.is_authenticated:
        session = db_session()
        accounts.end_session(session, current_user.get_id())
        session.commit()
    logout_user()
    cookie.clear()
    g.pop("viewer", None)
    flash("Logged out.")
    return redirect(url_for("pages.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@accounts_only
def change_password() -> Any:
    """Every account changes its own password here; its other logins end, this browser stays in."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        session = db_session()
        try:
            user = accounts.change_own_password(session, current_viewer(), form.old_password.data or "",
                                                form.new_password.data or "")
        except Invalid as exc:
            session.rollback()
            getattr(form, exc.field if exc.field in ("old_password", "new_password") else "new_password").errors = [
                str(exc).capitalize() + "."]
            return render_template("account_password.html", form=form), 400
        token = accounts.start_session(session, user, user_agent=request.user_agent.string,
                                       remote_addr=request.remote_addr or "")
        session.commit()
        logout_user()
        cookie.clear()
        login_user(LoginUser(user, token))
        flash("Your password is changed; any other browser logged in as you has been logged out.")
        return redirect(url_for("pages.home"))
    if request.method == "POST":
        status = 400
    return render_template("account_password.html", form=form), status


def _load_user(token: str) -> LoginUser | None:
    """The live login whose token the cookie holds; its own transaction, so that refreshing
    last_seen (or deleting an expired login) is kept whatever the view then does."""
    archive = current_archive()
    with archive.session() as session:
        user = accounts.resume_session(session, token, accounts.SessionLifetimes.from_settings(archive.settings))
        return LoginUser(user, token) if user is not None else None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if current_user and not current_user.is_anonymous:
        # Pages for an account must not be kept by shared caches.
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tied to the session instead of an hour
    app.config["SESSION_COOKIE_SECURE"] = app.extensions["crossings"].settings["session_cookie_secure"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    app.jinja_env.globals["current_viewer"] = current_viewer

