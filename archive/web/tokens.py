"""Every account's API tokens: list them, make one (its secret shown once), revoke one.

A secret is rendered only in the answer to the POST that made it, never in a redirect or a flash
message (which would put it in the cookie), and the page is sent `no-store` like every account's.
Admins revoke other accounts' tokens from the account's admin page, through the same revoke route.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from archive.models import TokenScope
from archive.services import Invalid, api_tokens
from archive.web.auth import accounts_only
from archive.web.context import current_viewer, db_session

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")

SCOPE_OPTIONS = [(TokenScope.read.value, "Read: look things up, as you can"),
                 (TokenScope.read_write.value, "Read and write: also change what you may change")]


def _page(*, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          created: tuple[object, str] | None = None, status: int = 200) -> ResponseReturnValue:
    viewer = current_viewer()
    tokens = api_tokens.list_tokens(db_session(), viewer, viewer.user_id)
    return render_template("account_tokens.html", tokens=tokens, state=api_tokens.state, created=created,
                           values=values or {"scope": TokenScope.read.value, "expires": "90"},
                           errors=errors or {}, scope_options=SCOPE_OPTIONS,
                           expiry_options=api_tokens.EXPIRY_CHOICES), status


@bp.route("", methods=["GET", "POST"])
@accounts_only
def index() -> ResponseReturnValue:
    """The account's tokens; a POST makes one and shows its secret, this once."""
    if request.method == "GET":
        return _page()
    values = {name: request.form.get(name, "") for name in ("name", "scope", "expires", "expires_on")}
    session = db_session()
    try:
        expires_at = api_tokens.parse_expiry(values["expires"], values["expires_on"])
        token, secret = api_tokens.create_token(session, current_viewer(), current_viewer().user_id or 0,
                                                name=values["name"], scope=api_tokens.scope_of(values["scope"]),
                                                expires_at=expires_at)
    except Invalid as exc:
        session.rollback()
        return _page(values=values, errors={exc.field or "name": str(exc).capitalize() + "."}, status=400)
    session.commit()
    return _page(created=(token, secret), status=201)


@bp.post("/<id:token_id>/revoke")
@accounts_only
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of your tokens (admins: anyone's); back to the page it was revoked from."""
    session = db_session()
    token = api_tokens.revoke_token(session, current_viewer(), token_id)  # NotFound: a 404
    owner = token.user.username
    session.commit()
    flash(f"Token “{token.name}” ({token.prefix}…) is revoked: it opens nothing any more.")
    if token.user_id != current_viewer().user_id:  # an admin, from the account's page
        return redirect(url_for("accounts.account", username=owner) + "#tokens-heading")
    return redirect(url_for("tokens.index"))
