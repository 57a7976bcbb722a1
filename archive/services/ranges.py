"""Time-range tags: a tagged stretch of a video's footage or a recording's sound.

Times are seconds from the start of the media; text in the forms of archive.timecode is accepted
too. Every function validates before it changes anything, raises Invalid naming the field
("start", "end", "tag", "note"), flushes and never commits.

A range is part of the item it tags: each change moves the item's version, and one made from a
page of another version of the item than `expected_version` is refused (Stale).
"""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer
from archive.models import Item, ItemKind, TimeRange
from archive.services import Invalid, NotFound, saving_version, touch
from archive.services.catalogue import get_item
from archive.services.editing import KEEP, NAME_MAX, Changes, Keep, get_or_create_tag
from archive.timecode import FORMS, format_timecode, parse_timecode

NOTE_MAX = 2000
#: Players and probes disagree about the last fraction of a second of a file; an end this close
#: past the probed duration is taken to mean the end of the media.
END_SLACK = 0.25

Seconds = float | int | str


def list_ranges(session: Session, item: Item) -> list[TimeRange]:
    """The ranges of an item the caller has already been allowed to see, by start then end."""
    return list(session.scalars(select(TimeRange).where(TimeRange.item_id == item.id)
                                .options(selectinload(TimeRange.tag))
                                .order_by(TimeRange.start_sec, TimeRange.end_sec, TimeRange.id)))


def get_range(session: Session, viewer: Viewer, item_id: int, range_id: int) -> TimeRange:
    """A range of an item `viewer` may see; NotFound otherwise, or when it belongs to another item."""
    item = get_item(session, viewer, item_id)
    found = session.get(TimeRange, range_id)
    if found is None or found.item_id != item.id:
        raise NotFound(f"time range {range_id} of item {item_id}")
    return found


def add_range(session: Session, item: Item, *, start: Seconds, end: Seconds, tag_name: str,
              note: str = "", expected_version: int | str | None = None) -> TimeRange:
    """Tag the stretch of `item` from `start` to `end` with `tag_name` (created when missing)."""
    start_sec, end_sec = _bounds(item, start, end)
    name, note = _tag_name(tag_name), _note(note)
    with saving_version(item, "item", expected_version):
        time_range = TimeRange(item=item, start_sec=start_sec, end_sec=end_sec, note=note,
                               tag=get_or_create_tag(session, name))
        session.add(time_range)
        touch(item)
        session.flush()
    return time_range


def update_range(session: Session, time_range: TimeRange, *, start: Seconds | Keep = KEEP,
                 end: Seconds | Keep = KEEP, tag_name: str | Keep = KEEP, note: str | Keep = KEEP,
                 expected_version: int | str | None = None) -> Changes:
    """Change the given fields (all or none); return {field: (old, new)} of those that changed."""
    with saving_version(time_range.item, "item", expected_version):
        return _update_range(session, time_range, start, end, tag_name, note)


def _update_range(session: Session, time_range: TimeRange, start: Seconds | Keep, end: Seconds | Keep,
                  tag_name: str | Keep, note: str | Keep) -> Changes:
    start_sec, end_sec = _bounds(time_range.item,
                                 time_range.start_sec if start is KEEP else start,
                                 time_range.end_sec if end is KEEP else end)
    name = None if tag_name is KEEP else _tag_name(tag_name)
    new_note = time_range.note if note is KEEP else _note(note)
    changes: Changes = {}
    if start_sec != time_range.start_sec:
        changes["start"] = (time_range.start_sec, start_sec)
    if end_sec != time_range.end_sec:
        changes["end"] = (time_range.end_sec, end_sec)
    if new_note != time_range.note:
        changes["note"] = (time_range.note, new_note)
    if name is not None and name != time_range.tag.name:
        tag = get_or_create_tag(session, name)
        if tag is not time_range.tag:
            changes["tag"] = (time_range.tag.name, tag.name)
            time_range.tag = tag
    time_range.start_sec, time_range.end_sec, time_range.note = start_sec, end_sec, new_note
    if changes:
        touch(time_range.item)
    session.flush()
    return changes


def delete_range(session: Session, time_range: TimeRange, expected_version: int | str | None = None) -> None:
    """Remove the range; its tag stays in the vocabulary."""
    item = time_range.item
    with saving_version(item, "item", expected_version):
        session.delete(time_range)
        touch(item)
        session.flush()


# -- validation -------------------------------------------------------------------------------

def _seconds(value: Seconds, field: str) -> float:
    if isinstance(value, str):
        if not value.strip():
            raise Invalid(f"give the {field}: {FORMS}", field)
        try:
            value = parse_timecode(value)
        except ValueError as exc:
            raise Invalid(str(exc), field) from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Invalid(f"the {field} must be a number of seconds, not {value!r}", field)
    if value < 0:
        raise Invalid(f"the {field} must be 0 or later", field)
    return round(float(value), 3)  # milliseconds are finer than any frame


def _bounds(item: Item, start: Seconds, end: Seconds) -> tuple[float, float]:
    if item.kind is ItemKind.still:
        raise Invalid("a still has no timeline: time ranges are for video and audio", "start")
    start_sec, end_sec = _seconds(start, "start"), _seconds(end, "end")
    duration = item.media.duration if item.media is not None else None
    if duration is not None and start_sec >= duration:
        raise Invalid(f"the start must come before the end of the media ({format_timecode(duration, 3)})",
                      "start")
    if end_sec <= start_sec:
        raise Invalid(f"the end must come after the start ({format_timecode(start_sec, 3)})", "end")
    if duration is not None and end_sec > duration:
        if end_sec > duration + END_SLACK:
            raise Invalid(f"the end is past the end of the media ({format_timecode(duration, 3)})", "end")
        end_sec = duration
    return start_sec, end_sec


def _tag_name(value: str) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name:
        raise Invalid("give the range a tag", "tag")
    if len(name) > NAME_MAX:
        raise Invalid(f"a tag is at most {NAME_MAX} characters", "tag")
    return name


def _note(value: str) -> str:
    if not isinstance(value, str):
        raise Invalid("the note must be text", "note")
    value = value.strip()
    if len(value) > NOTE_MAX:
        raise Invalid(f"the note is longer than {NOTE_MAX} characters", "note")
    return value
