"""What making items public would show to anyone: asked before an edit, a bulk edit or
`crossings items set-access` publishes them, so that an archivist sees what leaves the archive.

A public item is seen by every visitor: its GPS position at its published precision, its
transcripts, and (when that precision is exact) its original file, whose metadata may carry the
position exactly. The preview says how much of each the change would publish; the edge asks for
a confirmation when it publishes anything at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.access import ANONYMOUS, Viewer, may_have_original
from archive.models import AccessLevel, Item, LocationPrecision, MediaFile, Transcript
from archive.services import counted
from archive.services.catalogue import visible_items
from archive.services.editing import fields as f


@dataclass(frozen=True)
class Exposure:
    """What one item would show every visitor once public."""
    item_id: int
    title: str
    access: AccessLevel  #: its level now
    #: The precision its GPS position would be published at; None when it has no GPS position.
    gps_precision: LocationPrecision | None
    transcripts: int
    original_downloadable: bool


@dataclass
class PublicationPreview:
    """The items a change of access level would make public (those already public are left out)."""
    level: AccessLevel
    items: list[Exposure] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        """Does the change publish anything? Then the edge asks before saving it."""
        return bool(self.items)

    @property
    def transcripts(self) -> int:
        return sum(e.transcripts for e in self.items)

    @property
    def originals(self) -> int:
        return sum(1 for e in self.items if e.original_downloadable)

    def gps(self) -> dict[LocationPrecision, int]:
        """How many of the items would publish a GPS position, by precision (most precise first)."""
        counts = {p: 0 for p in LocationPrecision}
        for e in self.items:
            if e.gps_precision is not None:
                counts[e.gps_precision] += 1
        return {p: n for p, n in counts.items() if n}

    def lines(self) -> list[str]:
        """The preview as sentences, the same on a page and in a terminal."""
        if not self.items:
            return []
        lines = [f"{counted(len(self.items), 'item')} will be seen by anyone, without logging in."]
        gps = self.gps()
        if gps:
            lines.append("GPS position published: " + ", ".join(
                f"{counted(n, 'item')} {_PRECISION_WORDS[p]}" for p, n in gps.items()) + ".")
        else:
            lines.append("No GPS position is published: none of them has one.")
        lines.append(f"{counted(self.transcripts, 'transcript')} can be read and downloaded."
                     if self.transcripts else "No transcript is published.")
        lines.append(f"The original file of {counted(self.originals, 'item')} can be downloaded, with any "
                     "position and device details in its metadata." if self.originals
                     else "No original can be downloaded: viewers get copies without its metadata.")
        return lines


_PRECISION_WORDS = {LocationPrecision.exact: "exactly, as recorded",
                    LocationPrecision.km10: "to about 10 km",
                    LocationPrecision.region: "to the region only",
                    LocationPrecision.country: "to the country only"}


def publication_preview(session: Session, viewer: Viewer, item_ids: Sequence[int],
                        level: AccessLevel | str) -> PublicationPreview:
    """What setting the items `viewer` may see among `item_ids` to `level` would make public.

    Ids of items `viewer` may not see are ignored (the edit that follows reports them as not
    found). Only a change to public publishes: other levels give an empty preview.
    """
    level = f.access(level)
    preview = PublicationPreview(level)
    if level is not AccessLevel.public or not item_ids:
        return preview
    items = list(session.scalars(
        visible_items(viewer).where(Item.id.in_(list(dict.fromkeys(item_ids))), Item.access != AccessLevel.public)
        .options(selectinload(Item.media_files)).order_by(Item.id)))
    transcripts = dict(session.execute(
        select(Transcript.item_id, func.count(Transcript.id)).where(Transcript.item_id.in_([i.id for i in items]))
        .group_by(Transcript.item_id)).all()) if items else {}
    for item in items:
        media: MediaFile | None = item.media
        has_gps = media is not None and media.latitude is not None and media.longitude is not None
        preview.items.append(Exposure(
            item.id, item.title, item.access, LocationPrecision(item.location_precision) if has_gps else None,
            transcripts.get(item.id, 0), media is not None and may_have_original(ANONYMOUS, item)))
    return preview
