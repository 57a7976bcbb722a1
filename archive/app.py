"""The Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g

from archive.core import Archive
from archive.web.context import current_archive, current_viewer, db_session

__all__ = ["create_app", "current_archive", "current_viewer", "db_session"]

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the web app over an Archive opened (and migrated) from settings plus `overrides`."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    archive = Archive.open(overrides)
    app.extensions["crossings"] = archive
    app.config.update(SECRET_KEY=archive.secret_key(), CROSSINGS=archive.settings,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      MAX_CONTENT_LENGTH=archive.settings["max_upload_bytes"])

    from archive import cli, web
    web.register(app)
    cli.register(app)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    # Under gunicorn (archive/server-logging.json) each worker says when it can take requests;
    # elsewhere INFO is not shown.
    app.logger.info("ready: %s", archive.data_root)
    return app
