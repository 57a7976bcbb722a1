"""The tag vocabulary: a public tree of terms with counts, and its upkeep for archivists and admins.

Each form posts one change; a refused one shows the tag's page again with the message beside the
field, answering 400.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from archive.models import TimeRange
from archive.services import Invalid, Stale, counted, vocabulary
from archive.timecode import seconds_param
from archive.access import may_edit
from archive.web.auth import editors_only
from archive.web.context import current_viewer, db_session
from archive.web.editing import refusal

bp = Blueprint("tags", __name__)


@bp.get("/tags")
def index() -> str:
    session, viewer = db_session(), current_viewer()
    return render_template("tags.html", tree=vocabulary.tag_tree(session, viewer),
                           can_edit=may_edit(viewer))


@bp.get("/tags/<id:tag_id>")
@editors_only
def edit(tag_id: int) -> str:
    return _page(tag_id)


@bp.post("/tags/<id:tag_id>/rename")
@editors_only
def rename(tag_id: int) -> ResponseReturnValue:
    session = db_session()
    old = vocabulary.get_tag(session, tag_id, current_viewer()).name
    try:
        tag = vocabulary.rename_tag(session, tag_id, request.form.get("name", ""),
                                    expected_version=request.form.get("version"))
    except Invalid as exc:
        return _refused(tag_id, exc)
    session.commit()
    return _done(f"Renamed “{old}” to “{tag.name}”." if tag.name != old else "The name is unchanged.",
                 url_for("tags.edit", tag_id=tag_id))


@bp.post("/tags/<id:tag_id>/parent")
@editors_only
def parent(tag_id: int) -> ResponseReturnValue:
    session = db_session()
    vocabulary.get_tag(session, tag_id, current_viewer())
    name = request.form.get("parent", "").strip()
    try:
        broader = vocabulary.term(session, name, "parent") if name else None  # a new heading is made
        tag = vocabulary.set_parent(session, tag_id, broader.id if broader else None,
                                    expected_version=request.form.get("version"))
    except Invalid as exc:
        return _refused(tag_id, exc, "parent")
    session.commit()
    return _done(f"“{tag.name}” is now under “{broader.name}”." if broader
                 else f"“{tag.name}” is now a top-level term.", url_for("tags.edit", tag_id=tag_id))


@bp.post("/tags/<id:tag_id>/merge")
@editors_only
def merge(tag_id: int) -> ResponseReturnValue:
    session = db_session()
    source = vocabulary.get_tag(session, tag_id, current_viewer()).name
    try:
        target = vocabulary.existing_tag(session, request.form.get("target", ""), "target", current_viewer())
        result = vocabulary.merge_tags(session, tag_id, target.id, expected_version=request.form.get("version"))
    except Invalid as exc:
        return _refused(tag_id, exc, "target")
    session.commit()
    return _done(f"Merged “{source}” into “{target.name}”: {counted(result.items, 'item')}, "
                 f"{counted(result.ranges, 'time range')} and {counted(result.children, 'narrower term')} followed.",
                 url_for("tags.edit", tag_id=target.id))


@bp.post("/tags/<id:tag_id>/delete")
@editors_only
def delete(tag_id: int) -> ResponseReturnValue:
    session = db_session()
    name = vocabulary.get_tag(session, tag_id, current_viewer()).name
    try:
        vocabulary.delete_tag(session, tag_id, expected_version=request.form.get("version"))
    except Invalid as exc:
        return _refused(tag_id, exc, "tag")
    session.commit()
    return _done(f"Deleted the tag “{name}”.", url_for("tags.index"))


def _page(tag_id: int, errors: dict[str, str] | None = None) -> str:
    session = db_session()
    tag = vocabulary.get_tag(session, tag_id, current_viewer())
    below = vocabulary.descendants(session, tag)
    return render_template(
        "tag.html", tag=tag, usage=vocabulary.usage(session, current_viewer(), tag),
        ranges=vocabulary.tagged_ranges(session, current_viewer(), tag), range_url=range_url,
        broader_terms=vocabulary.broader_terms(tag), in_use=vocabulary.in_use(session, tag), children=vocabulary.children(session, tag),
        parent_names=vocabulary.tag_names(session, current_viewer(), leave_out=[tag, *below]),
        other_names=vocabulary.tag_names(session, current_viewer(), leave_out=[tag]),
        values=request.form if request.method == "POST" else {}, errors=errors or {})


def range_url(time_range: TimeRange) -> str:
    """The item page with its player starting at the range (static/item.js reads ?t=)."""
    return url_for("pages.item", item_id=time_range.item_id, t=seconds_param(time_range.start_sec), _anchor="player")


def _refused(tag_id: int, exc: Invalid, form_field: str = "name") -> ResponseReturnValue:
    """The tag's page again with the message beside its field; a stale form's beside `form_field`,
    the field of the form that was sent (409)."""
    if isinstance(exc, Stale):
        errors, status = refusal(exc)
        return _page(tag_id, {form_field: errors["version"]}), status
    db_session().rollback()
    return _page(tag_id, {exc.field or "form": str(exc)}), 400


def _done(message: str, to: str) -> Response:
    flash(message)
    return redirect(to)
