"""/journeys/<id>/story.zip: a journey's offline classroom package (archive.interchange.story), for anyone.

The package is what an anonymous visitor may see, whoever asks, so any viewer may download it; it exists
only for a public journey (another is answered 404 like any absent thing, with a reason to a viewer who
sees the journey). It is built on request into a temporary folder and sent as one zip, then removed: a
journey's public proxies are small (the demo's eight legs: about a second), so no job is queued.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, send_file
from flask.typing import ResponseReturnValue

from archive.interchange.story import export_story
from archive.models import AccessLevel
from archive.services.journeys import journey_view
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.errors import error_response

bp = Blueprint("stories", __name__)

NOT_PUBLIC = ("This journey is not public, so there is no classroom package of it: a package holds only "
              "what anyone may see.")


@bp.get("/journeys/<id:journey_id>/story.zip")
def download(journey_id: int) -> ResponseReturnValue:
    session, archive = db_session(), current_archive()
    view = journey_view(session, current_viewer(), journey_id, footage=False)  # NotFound: hidden from the viewer
    if view.access is not AccessLevel.public:
        return error_response(404, NOT_PUBLIC)
    work = Path(tempfile.mkdtemp(prefix="story-", dir=archive.store.tmp))
    try:
        report = export_story(session, archive.store, journey_id, work / f"journey-{journey_id}",
                              identity=archive.identity)
    except BaseException:  # NotFound too (the journey went away meanwhile): nothing is left behind
        shutil.rmtree(work, ignore_errors=True)
        raise
    response = send_file(report.zip_path, mimetype="application/zip", as_attachment=True,
                         download_name=f"journey-{journey_id}-story.zip")
    response.call_on_close(lambda: shutil.rmtree(work, ignore_errors=True))
    return response
