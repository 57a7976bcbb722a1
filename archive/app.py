"""The Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g

from archive.access import ANONYMOUS, Viewer
from archive.core import Archive

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the web app over an Archive opened (and migrated) from settings plus `overrides`."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    archive = Archive.open(overrides)
    app.extensions["crossings"] = archive
    app.config.update(SECRET_KEY=archive.secret_key(), CROSSINGS=archive.settings,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      MAX_CONTENT_LENGTH=None)

    from archive import cli, web
    web.register(app)
    cli.register(app)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    return app


def current_archive() -> Archive:
    from flask import current_app
    return current_app.extensions["crossings"]


def db_session():  # type: ignore[no-untyped-def]
    """The request's database session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = current_archive().Session()
    return g.db


def current_viewer() -> Viewer:
    """Who is asking; anonymous until accounts exist."""
    return g.get("viewer", ANONYMOUS)
