"""Which two transcripts of an item an account reads side by side, and the rows that align them.

The choice is per account and item (archive.models.TranscriptPair); the anonymous public keeps theirs
in the browser (static/transcript.js). Rows pair the cues of two transcripts by start time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.models import Item, Transcript, TranscriptPair
from archive.services import Invalid

#: Cues of two transcripts starting within this many seconds of each other share a row (a translation's
#: cue rarely starts on the very frame of the original's).
SAME_MOMENT_SEC = 0.5


def _checked(item: Item, transcripts: Sequence[Transcript], left_id: int, right_id: int) -> tuple[int, int]:
    ids = {t.id for t in transcripts}
    for name, value in (("left", left_id), ("right", right_id)):
        if value not in ids:
            raise Invalid(f"item {item.id} has no transcript {value} to show", name)
    if left_id == right_id:
        raise Invalid("choose two different transcripts to read side by side", "right")
    return left_id, right_id


def remember_pair(session: Session, viewer: Viewer, item: Item, transcripts: Sequence[Transcript],
                  left_id: int, right_id: int) -> tuple[int, int]:
    """Keep the pair for the signed-in `viewer` (among the item's `transcripts` they may see); flushes."""
    pair = _checked(item, transcripts, left_id, right_id)
    if viewer.user_id is None:
        raise Invalid("sign in to keep a choice of transcripts", "left")
    row = session.get(TranscriptPair, (viewer.user_id, item.id))
    if row is None:
        row = TranscriptPair(user_id=viewer.user_id, item_id=item.id)
        session.add(row)
    row.left_id, row.right_id = pair
    session.flush()
    return pair


def forget_pair(session: Session, viewer: Viewer, item: Item) -> None:
    """Back to one transcript at a time; flushes."""
    if viewer.user_id is not None and (row := session.get(TranscriptPair, (viewer.user_id, item.id))):
        session.delete(row)
        session.flush()


def remembered_pair(session: Session, viewer: Viewer, item: Item,
                    transcripts: Sequence[Transcript]) -> tuple[int, int] | None:
    """The pair the viewer chose for this item, while both transcripts are still there to see."""
    if viewer.user_id is None:
        return None
    row = session.get(TranscriptPair, (viewer.user_id, item.id))
    if row is None:
        return None
    try:
        return _checked(item, transcripts, row.left_id, row.right_id)
    except Invalid:
        return None


class Timed(Protocol):
    @property
    def start(self) -> float: ...


T = TypeVar("T", bound=Timed)


@dataclass(frozen=True)
class Row(Generic[T]):
    """One row of the side-by-side view: a cue of either transcript or of both, starting at `start`."""
    start: float
    left: T | None
    right: T | None


def aligned_rows(left: Sequence[T], right: Sequence[T], tolerance: float = SAME_MOMENT_SEC) -> list[Row[T]]:
    """The cues of both (each in time order) as rows by start time: two cues starting within `tolerance`
    share a row; a cue with no counterpart has a row of its own with the other side empty."""
    rows: list[Row[T]] = []
    i = j = 0
    while i < len(left) or j < len(right):
        a = left[i] if i < len(left) else None
        b = right[j] if j < len(right) else None
        if a is not None and b is not None and abs(a.start - b.start) <= tolerance:
            rows.append(Row(min(a.start, b.start), a, b))
            i, j = i + 1, j + 1
        elif b is None or (a is not None and a.start < b.start):
            rows.append(Row(a.start, a, None))  # type: ignore[union-attr]
            i += 1
        else:
            rows.append(Row(b.start, None, b))
            j += 1
    return rows
