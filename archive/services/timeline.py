"""A collection's timeline of dates shot: each visible item's EDTF date as the span it allows.

An exact day is a point; a month, a year, an approximate ("2019~"), uncertain ("2019?"),
unspecified ("201X") or interval date is the span from its first possible day to its last, and
says which it is, so that a page can draw it as a band rather than a false point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.access import Viewer, item_filter
from archive.dates import describe
from archive.models import Item

#: Most items drawn; a larger collection's timeline says how many more there are.
TIMELINE_LIMIT = 120


@dataclass(frozen=True)
class TimelineEntry:
    item_id: int
    title: str
    date_shot: str  #: the EDTF text
    label: str  #: how the date reads ("about 2019", "2019-03 to 2019-05")
    lower: date
    upper: date
    start: float  #: where the span starts, as a percentage of the timeline's width
    width: float  #: the span's width, a percentage (0 for a single day)

    @property
    def qualified(self) -> str:
        """"approximate", "uncertain", "unspecified", "range" or "" for an exact day."""
        text = self.date_shot
        if text.endswith("%") or text.endswith("?"):
            return "uncertain"
        if text.endswith("~"):
            return "approximate"
        if "X" in text.upper():
            return "unspecified"
        return "" if self.lower == self.upper else "range"


@dataclass(frozen=True)
class Timeline:
    first: date
    last: date
    entries: list[TimelineEntry]
    dated: int  #: visible items with a date shot (entries holds at most TIMELINE_LIMIT of them)
    undated: int  #: visible items without one


def collection_timeline(session: Session, viewer: Viewer, collection_id: int) -> Timeline | None:
    """The timeline of the items of the collection that `viewer` may see; None when none of them is dated."""
    visible = (Item.collection_id == collection_id, item_filter(viewer))
    undated = session.scalar(select(func.count()).where(*visible, Item.date_lower.is_(None))) or 0
    dated = session.scalar(select(func.count()).where(*visible, Item.date_lower.is_not(None))) or 0
    if not dated:
        return None
    first, last = session.execute(select(func.min(Item.date_lower),
                                         func.max(func.coalesce(Item.date_upper, Item.date_lower)))
                                  .where(*visible)).one()
    rows = session.execute(select(Item.id, Item.title, Item.date_shot, Item.date_lower, Item.date_upper)
                           .where(*visible, Item.date_lower.is_not(None))
                           .order_by(Item.date_lower, Item.id).limit(TIMELINE_LIMIT)).all()
    span = (last - first).days or 1
    entries = []
    for item_id, title, text, lower, upper in rows:
        upper = upper or lower
        entries.append(TimelineEntry(item_id, title, text, describe(text), lower, upper,
                                     round((lower - first).days / span * 100, 2),
                                     round((upper - lower).days / span * 100, 2)))
    return Timeline(first, last, entries, dated, undated)
