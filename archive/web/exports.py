"""/admin/exports: admins ask the worker for a bag (the whole archive, a collection or a journey; for anyone,
or as an admin sees it), watch it being made, and download it as one streamed .tar, the download audited.

The bag itself is archive.interchange.bag_export's; the job and the tar stream archive.interchange.bag_jobs'.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from archive.interchange import bag_jobs
from archive.models import JobState
from archive.services import Invalid
from archive.services.catalogue import list_collections
from archive.services.journeys import list_journeys
from archive.web.auth import admins_only
from archive.web.context import current_archive, current_viewer, db_session

bp = Blueprint("exports", __name__)


@bp.get("/admin/exports")
@admins_only
def exports_page() -> str:
    exports = bag_jobs.list_exports(db_session())
    working = any(job.state in (JobState.queued, JobState.running) for job in exports)
    session, viewer = db_session(), current_viewer()
    return render_template("admin_exports.html", exports=exports, working=working,
                           collections=[c for c, _ in list_collections(session, viewer)],
                           journeys=list_journeys(session, viewer))


@bp.post("/admin/exports")
@admins_only
def queue_export() -> ResponseReturnValue:
    # The form's one list gives "collection:3"; scope=collection&scope_id=3 is read too.
    scope, _, raw_id = request.form.get("scope", "whole").partition(":")
    raw_id = (raw_id or request.form.get("scope_id", "")).strip()
    if raw_id and not raw_id.isdigit():
        raise Invalid(f"the {scope}'s id must be a whole number, not {raw_id!r}", "scope_id")
    session = db_session()
    job = bag_jobs.queue_export(session, current_viewer(), scope=scope, scope_id=int(raw_id) if raw_id else None,
                                public=request.form.get("public") == "yes")
    session.commit()
    flash(f"Export {job.id} is queued; the worker (crossings worker) makes it.")
    return redirect(url_for(".exports_page"))


@bp.get("/admin/exports/<id:job_id>/bag.tar")
@admins_only
def download_bag(job_id: int) -> ResponseReturnValue:
    session, archive = db_session(), current_archive()
    path = bag_jobs.finished_bag(session, archive.data_root, job_id)  # NotFound: 404, as for any absent thing
    bag_jobs.record_download(session, current_viewer(), job_id)
    session.commit()
    name = f"crossings-export-{job_id}"
    return Response(stream_with_context(bag_jobs.stream_tar(path, name)), mimetype="application/x-tar",
                    headers={"Content-Disposition": f'attachment; filename="{name}.tar"'})
