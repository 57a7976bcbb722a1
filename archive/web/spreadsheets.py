"""Spreadsheets on the web: "Download as CSV" of a browse listing, a search and a collection (every
matching item the viewer may see, not one page), and the CSV import for archivists: upload, dry run,
apply.

Between the dry run and the apply the uploaded text waits in the data root's tmp/csv-imports/ under
a random token (an hour at most), with the versions of the items its dry run read; the apply plans it
again against the catalogue as it is then, so that what is applied is checked as it is applied, and an
item saved by someone else in between is a conflict (never reverted to the sheet's old values).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from archive.access import Role, Viewer
from archive.interchange.selection import Selection, selected_item_ids
from archive.interchange.spreadsheet import COLUMNS, iter_items_csv
from archive.interchange.spreadsheet_import import apply_csv_import, plan_csv_import, read_text
from archive.services import Invalid, NotFound
from archive.web.auth import editors_only
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.pages import item_query, visible_collections
from archive.web.search import search_request

bp = Blueprint("spreadsheets", __name__)

#: How long an uploaded sheet waits for its "Apply these changes", in seconds.
PENDING_TTL = 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


def _download(selection: Selection, what: str) -> Response:
    session, viewer = db_session(), current_viewer()
    ids = selected_item_ids(session, viewer, current_archive().index, selection)
    filename = f"crossings-{what}-{datetime.now(timezone.utc):%Y-%m-%d}.csv"
    # stream_with_context keeps the request (and its database session) open while the rows go out.
    return Response(stream_with_context(iter_items_csv(session, viewer, ids)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.get("/items.csv")
def items_csv() -> Response:
    """The browse listing's items, with its filters and sort (kind, collection, tag, year, sort)."""
    return _download(Selection(browse=item_query()), "items")


@bp.get("/search.csv")
def search_csv() -> Response:
    """The items a search finds, with its filters, by relevance."""
    return _download(Selection(search=search_request()), "search")


@bp.get("/collections/<id:collection_id>.csv")
def collection_csv(collection_id: int) -> Response:
    if collection_id not in {c.id for c, _ in visible_collections(db_session(), current_viewer())}:
        raise NotFound(f"collection {collection_id}")  # as its page is
    return _download(Selection(collection_id=collection_id), f"collection-{collection_id}")


@bp.app_template_global()
def csv_url(endpoint: str, **values: object) -> str:
    """The "Download as CSV" link of this page: its filters and sort, without the page number."""
    args = {name: value for name, value in request.args.to_dict(flat=False).items() if name not in ("page", "per_page")}
    return url_for(endpoint, **values, **args)


# -- the import ---------------------------------------------------------------------------------

def _pending_dir() -> Path:
    folder = current_archive().data_root / "tmp" / "csv-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    """Forget uploads whose dry run was never applied."""
    limit = time.time() - PENDING_TTL
    for path in folder.glob("*.csv"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:  # another request swept it first
            pass


def _pending(token: str) -> tuple[Path, str, dict[int, int], str]:
    """The waiting upload of `token`: its path, its file name, the item versions its dry run showed
    and its text; Invalid when gone."""
    if not _TOKEN.fullmatch(token):
        raise Invalid("this upload is not known (or has expired): upload the file again", "file")
    path = _pending_dir() / f"{token}.csv"
    try:
        if path.stat().st_mtime < time.time() - PENDING_TTL:
            raise FileNotFoundError(path)
        name, versions, text = path.read_text(encoding="utf-8").split("\n", 2)
    except FileNotFoundError:
        raise Invalid("this upload is not known (or has expired): upload the file again", "file") from None
    return path, name, {int(k): v for k, v in json.loads(versions).items()}, text


def _form(errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("import_csv.html", step="upload", errors=errors or {}, columns=COLUMNS), status


@bp.route("/import/csv", methods=["GET", "POST"])
@editors_only
def import_form() -> ResponseReturnValue:
    """GET: the upload form. POST: the dry run of the uploaded sheet, with "Apply these changes"."""
    if request.method == "GET":
        return _form()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form({"file": "Choose a CSV file to import."}, 400)
    name = upload.filename.replace("\n", " ")[:200]
    session, viewer = db_session(), current_viewer()
    try:
        text = read_text(upload.stream.read())
        plan = plan_csv_import(session, viewer, text, source_name=name)
    except Invalid as exc:
        session.rollback()
        return _form({"file": f"{name}: {exc}"}, 400)
    session.rollback()  # a dry run changes nothing
    folder = _pending_dir()
    _sweep(folder)
    token = secrets.token_hex(16)
    (folder / f"{token}.csv").write_text("\n".join((name, json.dumps(plan.versions), text)), encoding="utf-8")
    return render_template("import_csv.html", step="plan", plan=plan, token=token, name=name, errors={})


@bp.post("/import/csv/apply")
@editors_only
def import_apply() -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    try:
        path, name, versions, text = _pending(request.form.get("token", ""))
        plan = plan_csv_import(session, viewer, text, source_name=name, since=versions)
        result = apply_csv_import(session, viewer, plan, settings=current_archive().settings)
    except Invalid as exc:
        session.rollback()
        return _form({"file": str(exc)}, 400)
    session.commit()
    path.unlink(missing_ok=True)
    batch_url = url_for("admin.log", batch=result.batch) if _is_admin(viewer) else None
    return render_template("import_csv.html", step="done", result=result, name=name, batch_url=batch_url, errors={})


def _is_admin(viewer: Viewer) -> bool:
    return viewer.role is Role.admin
