"""The request's archive, database session and viewer."""

from __future__ import annotations

from flask import current_app, g
from flask_login import current_user
from sqlalchemy.orm import Session

from archive.access import ANONYMOUS, Viewer
from archive.core import Archive
from archive.services import audit


def current_archive() -> Archive:
    return current_app.extensions["crossings"]


def current_viewer() -> Viewer:
    """Who is asking: the logged-in account's viewer, or the anonymous public."""
    if "viewer" not in g:
        g.viewer = current_user.viewer if current_user.is_authenticated else ANONYMOUS
    return g.viewer


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown.

    Its changes are recorded in the audit trail as the current viewer's.
    """
    if "db" not in g:
        g.db = current_archive().Session()
        audit.act_as(g.db, current_viewer())  # may load the user through this same session
    return g.db
