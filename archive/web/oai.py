"""/oai: the OAI-PMH 2.0 endpoint, GET or POST (form-encoded), for harvesters.

Thin: the protocol is archive.interchange.oai. Answered as the anonymous visitor sees the archive,
whoever is logged in, so that a harvest is the same for everyone; exempt from CSRF, since harvesters
POST without a form (and nothing here changes anything).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, request, url_for

from archive.interchange.oai import Repository, respond, signing_key
from archive.web.auth import csrf
from archive.web.context import current_archive, db_session

bp = Blueprint("oai", __name__)


@bp.route("/oai", methods=["GET", "POST"])
@csrf.exempt
def endpoint() -> Response:
    """One OAI-PMH request: its verb and arguments from the query string (GET) or the form (POST)."""
    archive = current_archive()
    settings = archive.settings
    identity = archive.identity
    repository = Repository(
        identity=identity,
        base_url=identity.url("/oai") if identity.base_url else url_for("oai.endpoint", _external=True),
        token_key=signing_key(archive.secret_key()), page_size=max(1, int(settings["oai_page_size"])),
        token_lifetime=timedelta(hours=float(settings["oai_token_lifetime_hours"])))
    arguments = request.form if request.method == "POST" else request.args
    body = respond(db_session(), repository, list(arguments.items(multi=True)))
    response = Response(body, content_type="text/xml; charset=utf-8")
    # Lists change with every edit and tokens expire: a cache may keep nothing.
    response.headers["Cache-Control"] = "no-store"
    return response
