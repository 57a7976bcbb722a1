"""Logging in and out, API tokens, who the viewer is, role checks, CSRF and security headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, Request, Response, abort, current_app, flash, g, jsonify, redirect,
                   render_template, request, session as cookie, url_for)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound as HTTPNotFound
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from archive.web.context import current_archive, current_viewer, db_session
from archive.access import EDITORS
from archive.models import ApiToken, Role, TokenScope, User
from archive.services import Invalid, accounts, api_tokens

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


class TokenUser(UserMixin):
    """The account an API token acts as, for one request only: nothing of it goes into a cookie."""

    def __init__(self, token: ApiToken) -> None:
        self.id = f"token:{token.id}"
        self.viewer = api_tokens.viewer_for_token(token)
        self.token_id, self.token_name, self.scope = token.id, token.name, token.scope


#: Where tokens are accepted: the JSON API and the harvesting and image protocols. Pages and forms
#: are for browsers, which log in; a token on them is refused rather than ignored.
TOKEN_PATHS = ("/api/", "/oai/", "/iiif/")
#: Methods a read token may use (they change nothing).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def accepts_tokens(path: str) -> bool:
    """Is `path` one where an API token may be used (see TOKEN_PATHS; `/oai` itself too)?"""
    return path == "/oai" or path.startswith(TOKEN_PATHS)


def bearer_secret() -> str | None:
    """The secret of the request's `Authorization: Bearer` header ("" when it has none), or None
    when the request has no such header. Other schemes (Basic, from a proxy in front) are not ours."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def token_scope() -> TokenScope | None:
    """The scope of the token the request is made with; None for a browser's login or the public."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user.scope if isinstance(user, TokenUser) else None


def token_error(status: int, code: str, message: str) -> Response:
    """An API error in the JSON shape of /api; a 401 also says why in WWW-Authenticate (RFC 6750)."""
    response = jsonify(error={"code": code, "message": message, "field": None})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{code}", error_description="{message}"'
    return response


def require_write_scope() -> None:
    """Refuse (403) a read token on a method that may change something; browsers' logins pass.

    Every token request is checked before its view (see _guard_requests); views may call it again.
    """
    if token_scope() is TokenScope.read and request.method not in SAFE_METHODS:
        abort(token_error(403, "forbidden", f"this token is read-only; {request.method} needs a read-write token"))


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
    last_seen (or deleting an expired login) is kept whatever the view then does. A request with
    a Bearer header is the token's alone: a cookie sent along with it opens nothing."""
    if bearer_secret() is not None:
        return None
    archive = current_archive()
    with archive.session() as session:
        user = accounts.resume_session(session, token, accounts.SessionLifetimes.from_settings(archive.settings))
        return LoginUser(user, token) if user is not None else None


def _load_token_user(req: Request) -> TokenUser | None:
    """The account of the request's API token, if it is live (its last use is kept whatever the view does)."""
    secret = bearer_secret()
    if not secret or not accepts_tokens(req.path):
        return None
    with current_archive().session() as session:
        token = api_tokens.authenticate_token(session, secret)
        return TokenUser(token) if token is not None else None


def _guard_requests() -> Response | None:
    """Before every view: a request with a Bearer header must carry a live token, on a path that
    accepts tokens, with the scope its method needs, and is exempt from CSRF (a browser does not
    add that header to a forged cross-site request); every other request is checked for CSRF."""
    secret = bearer_secret()
    if secret is None:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect(apply_exemptions=True)
        return None
    g.token_request = True
    if not accepts_tokens(request.path):
        return token_error(400, "invalid_request",
                           "API tokens are accepted under /api/, /oai and /iiif/ only; log in to use the pages")
    if not secret:
        return token_error(401, "invalid_token", "the Authorization header has no token after Bearer")
    if token_scope() is None:  # loads the token's account
        return token_error(401, "invalid_token", "the token is unknown, revoked or expired, or its account is "
                                                 "deactivated")
    require_write_scope()
    return None


class _NoCookieForTokens(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that the answer to a token request sets no cookie:
    a script's token must not turn into a browser login."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if g.get("token_request"):
            return
        super().save_session(app, session, response)


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
    login_manager.request_loader(_load_token_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    # CSRF is checked by _guard_requests instead, which exempts token requests and only them.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_guard_requests)
    app.session_interface = _NoCookieForTokens()
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tied to the session instead of an hour
    app.config["SESSION_COOKIE_SECURE"] = app.extensions["crossings"].settings["session_cookie_secure"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    app.jinja_env.globals["current_viewer"] = current_viewer

