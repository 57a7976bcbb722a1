"""Time-range tags on the item page: everyone who may see the item sees them; editors change them.

The list and its forms are rendered by templates/_ranges.html from `range_panel(item)`. A refused
form is shown again on the item page itself, with the message beside the field, answering 400.
Each form carries the version of the item (a range is part of it): one sent from a page of an
older version is refused with what changed meanwhile (409), its values kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from archive.models import Item, TimeRange
from archive.services import Invalid, Stale, ranges
from archive.services.catalogue import get_item
from archive.services.vocabulary import tag_names
from archive.timecode import format_timecode, seconds_param
from archive.web import pages
from archive.access import may_edit
from archive.web.auth import editors_only
from archive.web.context import current_viewer, db_session
from archive.web.editing import refusal

bp = Blueprint("ranges", __name__)

FIELDS = ("start", "end", "tag", "note")


@dataclass
class RangeForm:
    """The values a range form shows and the messages beside its fields ("form" for the whole form)."""
    values: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FIELDS, ""))
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class RangePanel:
    """What _ranges.html shows for one item."""
    item: Item
    ranges: list[TimeRange]
    can_edit: bool
    tag_names: list[str]
    new: RangeForm
    refused: dict[int, RangeForm]  #: edit forms sent back, by range id

    def edit_form(self, time_range: TimeRange) -> RangeForm:
        return self.refused.get(time_range.id) or RangeForm(range_values(time_range))

    def link(self, time_range: TimeRange) -> str:
        """The item page, starting at the range."""
        return url_for("pages.item", item_id=self.item.id, t=seconds_param(time_range.start_sec),
                       _anchor="player")


def range_values(time_range: TimeRange) -> dict[str, str]:
    """A stored range as its edit form shows it."""
    return {"start": format_timecode(time_range.start_sec, 3), "end": format_timecode(time_range.end_sec, 3),
            "tag": time_range.tag.name, "note": time_range.note}


@bp.app_template_global()
def range_panel(item: Item) -> RangePanel:
    session, viewer = db_session(), current_viewer()
    can_edit = may_edit(viewer)
    refused: tuple[int | None, RangeForm] | None = g.get("refused_range")
    names = tag_names(session, viewer) if can_edit else []
    return RangePanel(item, ranges.list_ranges(session, item), can_edit, names,
                      new=refused[1] if refused and refused[0] is None else RangeForm(),
                      refused={refused[0]: refused[1]} if refused and refused[0] is not None else {})


@bp.app_template_filter()
def timecode(seconds: float | None) -> str:
    """H:MM:SS.s, as range fields take it."""
    return "" if seconds is None else format_timecode(seconds)


def _posted() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FIELDS}


def _refuse(item_id: int, range_id: int | None, values: dict[str, str], exc: Invalid) -> ResponseReturnValue:
    """The item page again, with the form as sent and the message beside its field."""
    if isinstance(exc, Stale):
        errors, status = refusal(exc)
        message = errors["version"]
    else:
        db_session().rollback()
        message, status = str(exc), 400
    g.refused_range = (range_id, RangeForm(values, {exc.field if exc.field in FIELDS else "form": message}))
    return pages.item(item_id), status


def _version() -> str | None:
    return request.form.get("version")


def _done(time_range: TimeRange) -> ResponseReturnValue:
    # Back at the range, the player where the range ends: the next one usually starts there.
    return redirect(url_for("pages.item", item_id=time_range.item_id, t=seconds_param(time_range.end_sec),
                            _anchor=f"range-{time_range.id}"))


@bp.post("/items/<id:item_id>/ranges")
@editors_only
def add(item_id: int) -> ResponseReturnValue:
    session = db_session()
    item = get_item(session, current_viewer(), item_id)
    values = _posted()
    try:
        time_range = ranges.add_range(session, item, start=values["start"], end=values["end"],
                                      tag_name=values["tag"], note=values["note"], expected_version=_version())
    except Invalid as exc:
        return _refuse(item_id, None, values, exc)
    session.commit()
    flash(f"Tagged {format_timecode(time_range.start_sec)}–{format_timecode(time_range.end_sec)} "
          f"as “{time_range.tag.name}”.")
    return _done(time_range)


@bp.post("/items/<id:item_id>/ranges/<id:range_id>")
@editors_only
def edit(item_id: int, range_id: int) -> ResponseReturnValue:
    session = db_session()
    time_range = ranges.get_range(session, current_viewer(), item_id, range_id)
    values = _posted()
    try:
        changes = ranges.update_range(session, time_range, start=values["start"], end=values["end"],
                                      tag_name=values["tag"], note=values["note"], expected_version=_version())
    except Invalid as exc:
        return _refuse(item_id, range_id, values, exc)
    session.commit()
    flash("Time range saved." if changes else "Nothing to change in that time range.")
    return _done(time_range)


@bp.post("/items/<id:item_id>/ranges/<id:range_id>/delete")
@editors_only
def delete(item_id: int, range_id: int) -> ResponseReturnValue:
    session = db_session()
    time_range = ranges.get_range(session, current_viewer(), item_id, range_id)
    label = (f"{format_timecode(time_range.start_sec)}–{format_timecode(time_range.end_sec)} "
             f"“{time_range.tag.name}”")
    shown = range_values(time_range)
    try:
        ranges.delete_range(session, time_range, expected_version=_version())
    except Invalid as exc:
        return _refuse(item_id, range_id, shown, exc)
    session.commit()
    flash(f"Time range {label} deleted.")
    return redirect(url_for("pages.item", item_id=item_id, _anchor="ranges"))
