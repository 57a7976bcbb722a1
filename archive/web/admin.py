"""The trash, object histories, the audit log and fixity (accounts: archive.web.accounts).

Archivists and admins move items to the trash; admins alone see the trash, restore from it and
empty it and read the global log. The public never sees who changed what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from archive.models import AuditEntry
from archive.services import Invalid, NotFound, audit, counted, trash
from archive.services.fixity import fixity_status
from archive.access import may_edit
from archive.web.auth import admins_only, editors_only
from archive.web.context import current_archive, current_viewer, db_session

bp = Blueprint("admin", __name__)

LOG_PER_PAGE = 50
TRASH_PER_PAGE = 50
#: Entries shown on an item or collection page before "show earlier changes".
HISTORY_SHOWN = 10
#: Fields of one entry shown before "N more fields" (a new record lists all of its fields).
FIELDS_SHOWN = 4
HISTORY_LIMIT = 200

ACTION_LABELS = {
    "create": "Created", "edit": "Edited", "access": "Access changed", "delete": "Moved to the trash",
    "restore": "Restored from the trash", "purge": "Deleted for good", "ingest": "Ingested",
    "bulk_edit": "Bulk edit", "merge": "Merged", "rename": "Renamed",
}
FIELD_LABELS = {
    "collection_id": "Collection", "date_shot": "Date shot", "grants": "Confidential collections",
    "password_hash": "Password", "person_id": "Person", "item_id": "Item", "tag_id": "Tag",
    "parent_id": "Broader term", "start_sec": "Start (s)", "end_sec": "End (s)", "pid": "Identifier",
}
#: Fields an action already says everything about.
SILENT_FIELDS = {"deleted_at"}
#: Text longer than this is shortened, with the whole of it a click away.
SHORT_TEXT = 120


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def shown_changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """(field, old, new) of an entry, in the order recorded, without what the action already says."""
    return [(name, *values) for name, values in entry.changes.items() if name not in SILENT_FIELDS]


def value_text(value: Any, field_name: str = "", titles: dict[tuple[str, int], str] | None = None) -> str:
    """A recorded JSON value as text: ids of other rows as their names (`titles`, one entry's part of
    audit.referenced_names), true/false as yes/no."""
    if (field_name in audit.REFERENCES or field_name == "parent_id") and isinstance(value, int) \
            and not isinstance(value, bool):
        noun = field_name.removesuffix("_id").replace("_", " ")
        return (titles or {}).get((field_name, value), f"{noun} {value} (gone)")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def shorten(text: str, limit: int = SHORT_TEXT) -> str:
    """The first line of `text`, cut at a word before `limit` characters, with an ellipsis when cut."""
    first = text.strip().split("\n", 1)[0]
    if len(first) <= limit and first == text.strip():
        return first
    cut = first[:limit].rsplit(" ", 1)[0] if len(first) > limit else first
    return cut.rstrip(" ,.;:") + "…"


def is_long_value(value: Any, field_name: str = "", titles: dict[tuple[str, int], str] | None = None) -> bool:
    """Whether a value is shown shortened (and so its change is better shown stacked than inline)."""
    if value is None or isinstance(value, (list, tuple)):
        return False
    text = value_text(value, field_name, titles)
    return shorten(text) != text


@dataclass(frozen=True)
class History:
    """An object's history for its page: the newest entries, whether there are more, collection titles."""
    object_type: str
    object_id: int
    entries: list[AuditEntry]
    truncated: bool
    titles: dict[str, dict[tuple[str, int], str]] = field(default_factory=dict)  #: audit.referenced_names


@bp.app_template_global()
def object_history(object_type: str, object_id: int) -> History | None:
    """The history of an item or collection, for archivists and admins; None for everyone else."""
    if not may_edit(current_viewer()):
        return None
    session = db_session()
    entries = audit.history(session, object_type, object_id, limit=HISTORY_LIMIT + 1)
    return History(object_type, object_id, entries[:HISTORY_LIMIT], len(entries) > HISTORY_LIMIT,
                   audit.referenced_names(session, entries))


def _register_template_helpers(state: Any) -> None:
    state.app.jinja_env.globals.update(action_label=action_label, field_label=field_label,
                                       shown_changes=shown_changes, is_long_value=is_long_value,
                                       HISTORY_SHOWN=HISTORY_SHOWN, FIELDS_SHOWN=FIELDS_SHOWN)
    state.app.jinja_env.filters.update(audit_value=value_text, shorten=shorten)


bp.record_once(_register_template_helpers)


# -- moving to the trash ----------------------------------------------------------------------

@bp.post("/items/<id:item_id>/delete")
@editors_only
def delete_item(item_id: int) -> ResponseReturnValue:
    session = db_session()
    [item] = trash.move_to_trash(session, current_viewer(), [item_id])
    session.commit()
    flash(f"“{item.title}” is in the trash. An admin can restore it from there.")
    return redirect(url_for("pages.browse"))


# -- the trash --------------------------------------------------------------------------------

def _whole(raw: str | None, name: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= audit.MAX_PAGE:
        raise Invalid(f"{name} must be a whole number from 1, not {raw!r}", name)
    return int(raw)


def _selected() -> list[int]:
    """The item ids ticked in the trash form."""
    return [i for i in (_whole(raw, "item") for raw in request.form.getlist("item")) if i is not None]


@bp.get("/trash")
@admins_only
def trash_page() -> str:
    page = _whole(request.args.get("page"), "page") or 1
    listing = trash.list_trash(db_session(), current_viewer(), page=page, per_page=TRASH_PER_PAGE)
    return render_template("trash.html", listing=listing)


@bp.post("/trash/restore")
@admins_only
def restore() -> ResponseReturnValue:
    ids = _selected()
    if not ids:
        flash("Tick the items to restore first.")
        return redirect(url_for(".trash_page"))
    session = db_session()
    items = trash.restore(session, current_viewer(), ids)
    session.commit()
    names = ", ".join(f"“{item.title}”" for item in items[:3]) + (" …" if len(items) > 3 else "")
    flash(f"Restored {counted(len(items), 'item')}: {names}.")
    return redirect(url_for(".trash_page"))


@bp.post("/trash/empty")
@admins_only
def empty() -> ResponseReturnValue:
    """Without `confirm=yes`, show what would go; with it, delete exactly the items listed there."""
    session, viewer = db_session(), current_viewer()
    confirmed = request.form.get("confirm") == "yes"
    everything = request.form.get("scope") == "all" and not confirmed
    ids = None if everything else _selected()
    if not everything and not ids:
        if confirmed:
            raise Invalid("the confirmation names no items to delete", "item")
        flash("Tick the items to delete for good first, or empty the whole trash.")
        return redirect(url_for(".trash_page"))
    try:
        if not confirmed:
            plan = trash.plan_purge(session, viewer, ids)
            if not plan.items:
                flash("The trash is empty.")
                return redirect(url_for(".trash_page"))
            return render_template("trash_empty.html", plan=plan, everything=everything)
        purged = trash.empty_trash(session, viewer, ids or [])
    except NotFound:
        flash("Some of these items are no longer in the trash (restored or deleted meanwhile); "
              "nothing was deleted. Please look again.")
        return redirect(url_for(".trash_page"))
    session.commit()
    # Only now that the rows are gone for good: a failed commit above leaves every file in place.
    removed = trash.remove_unused_files(session, current_archive().store, purged.checksums)
    kept = len(purged.checksums) - len(removed)
    note = f" {counted(kept, 'file')} stayed because another record uses {'it' if kept == 1 else 'them'}." if kept else ""
    flash(f"Deleted {counted(len(purged.item_ids), 'item')} for good and removed "
          f"{counted(len(removed), 'stored file')}.{note}")
    return redirect(url_for(".trash_page"))


# -- the audit log ----------------------------------------------------------------------------

def object_url(object_type: str, obj: Any) -> str | None:
    """Where an object of the log can be seen, if anywhere."""
    if object_type == "item":
        return url_for("pages.item", item_id=obj.id)
    if object_type == "collection":
        return url_for("pages.collection", collection_id=obj.id)
    if object_type == "range":
        return url_for("pages.item", item_id=obj.item_id)
    if object_type == "tag":
        return url_for("pages.browse", tag=obj.name)
    if object_type == "user":
        return url_for("accounts.account", username=obj.username)
    return None


@bp.get("/admin/log")
@admins_only
def log() -> ResponseReturnValue:
    session = db_session()
    errors: dict[str, str] = {}
    try:
        query = audit.parse_audit_query(request.args, per_page=LOG_PER_PAGE)
    except Invalid as exc:
        errors[exc.field or "form"] = str(exc)
        query = None
    page = audit.entry_page(session, query) if query else None
    links: dict[tuple[str, int], str] = {}
    titles: dict[str, dict[tuple[str, int], str]] = {}
    if page:
        for (object_type, object_id), obj in audit.live_objects(session, current_viewer(), page.entries).items():
            if (url := object_url(object_type, obj)) is not None:
                links[(object_type, object_id)] = url
        titles = audit.referenced_names(session, page.entries)
    html = render_template("audit_log.html", page=page, query=query, errors=errors, links=links, titles=titles,
                           args=request.args, actors=audit.actors(session), actions=audit.actions(session),
                           object_types=sorted(set(audit.AUDITED.values())),
                           csv_args=audit.query_args(query) if query else {})
    return html, 400 if errors else 200


@bp.get("/admin/log.csv")
@admins_only
def log_csv() -> Response:
    query = audit.parse_audit_query(request.args)
    filename = f"crossings-audit-{datetime.now(timezone.utc):%Y%m%d}.csv"
    # stream_with_context keeps the request (and its database session) open while rows go out.
    return Response(stream_with_context(audit.export_csv(db_session(), query)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


# -- fixity -----------------------------------------------------------------------------------

@bp.get("/admin/fixity")
@admins_only
def fixity() -> str:
    """What the nightly checks found: originals missing or changed, and how far behind the checks are."""
    days = current_archive().settings["fixity_days"]
    return render_template("admin_fixity.html", status=fixity_status(db_session(), days=days), days=days)
