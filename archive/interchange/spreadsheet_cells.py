"""The cells of a spreadsheet being imported: how each editable column's cell is checked (with the
item edit page's own checks) and turned into what its service takes, and when a cell says what the
item already holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Viewer, collection_filter, place_filter
from archive.interchange.spreadsheet import BY_NAME, Column, labelled_id, split_list
from archive.models import Collection, Place
from archive.services import Invalid
from archive.services.editing import ITEM_FIELDS
from archive.services.editing import fields as f
from archive.services.legs import visible_leg
from archive.services.place_fields import place_by_reference, precision_value

#: Columns whose cell goes to edit_item as it is (it checks them with ITEM_FIELDS).
TEXT_FIELDS = ("title", "description", "date_shot", "creator", "language", "rights", "source", "access")


def _collection(session: Session, viewer: Viewer, text: str) -> int | None:
    title = text.strip()
    if not title:
        return None
    found = session.scalar(select(Collection.id).where(Collection.title == title, collection_filter(viewer)))
    if found is None:
        raise Invalid(f"there is no collection titled {title!r} (create it first: an import makes no collections)")
    return found


def _places(session: Session, viewer: Viewer, text: str) -> list[int]:
    ids: list[int] = []
    for part in split_list(text):
        number = labelled_id(part)
        place = place_by_reference(session, str(number) if number is not None else part, "places")
        visible = place is not None and session.scalar(
            select(Place.id).where(Place.id == place.id, place_filter(viewer))) is not None
        if not visible:  # the same words whether it is missing or hidden
            raise Invalid(f"there is no place {part!r}")
        assert place is not None
        ids.append(place.id)
    return list(dict.fromkeys(ids))


def _legs(session: Session, viewer: Viewer, text: str) -> list[int]:
    ids: list[int] = []
    for part in split_list(text):
        number = labelled_id(part) if not part.isdigit() else int(part)
        if number is None:
            raise Invalid(f"{part!r}: give the leg's id in brackets, as exported (\"Journey, leg 2 [7]\")")
        if visible_leg(session, viewer, number) is None:
            raise Invalid(f"there is no leg {number}")
        ids.append(number)
    return list(dict.fromkeys(ids))


def _precision(text: str) -> str:
    if not text.strip():
        raise Invalid("location precision may not be empty (exact, km10, region or country)")
    return precision_value(text.strip(), "location_precision").value


#: How each editable column's cell is checked: (session, viewer, text) -> what its service takes.
CHECKS: dict[str, Callable[[Session, Viewer, str], Any]] = {
    **{name: (lambda n: lambda s, v, text: (ITEM_FIELDS[n](s, text), text)[1])(name) for name in TEXT_FIELDS},
    "collection": _collection,
    "tags": lambda s, v, text: f.tag_names(split_list(text)),
    "places": _places,
    "legs": _legs,
    "location_precision": lambda s, v, text: _precision(text),
}
assert set(CHECKS) == {c.name for c in BY_NAME.values() if c.editable}, "every editable column has a check"


def same(column: Column, cell: str, current: str) -> bool:
    """Does the cell say what the item holds? Lists as sets (tags ignoring case, places and legs by id)."""
    cell, current = cell.replace("\r\n", "\n").strip(), current.strip()
    if cell == current:
        return True
    if column.is_list:
        def key(text: str) -> set[Any]:
            parts = split_list(text)
            if column.name == "tags":
                return {" ".join(p.split()).casefold() for p in parts}
            return {labelled_id(p) if labelled_id(p) is not None else p for p in parts}
        return key(cell) == key(current)
    if column.name != "duration":  # a title "1e3" is not "1000"
        return False
    try:
        return float(cell) == float(current)  # a spreadsheet may write 12.5 as 12.50
    except ValueError:
        return False
