"""An item as one viewer may see it, gathered once for every record format (PBCore, Dublin Core):
its places at the viewer's precision, its credits sorted into creators, contributors and publishers,
and the files the viewer may receive.

Each rule comes from archive.access (can_see_place, may_have_original, published_position through
place_position and item_position); nothing here decides on its own what a viewer may know.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from archive import geo
from archive.access import Viewer, can_see, can_see_place, item_filter, may_have_original
from archive.models import Credit, Derivative, Item, ItemKind, MediaFile, Place, TimeRange, Transcript
from archive.services import NotFound
from archive.services.access_copies import ACCESS, downloads_offered
from archive.services.locations import item_position
from archive.services.places import place_position

#: Credit roles (lower case) that make a person a creator of the item; PUBLISHER_ROLES a publisher;
#: every other role (camera, sound, translator, fixer...) a contributor.
CREATOR_ROLES = frozenset({"creator", "director", "filmmaker", "photographer", "author", "producer"})
PUBLISHER_ROLES = frozenset({"publisher", "distributor", "broadcaster"})
#: The derivatives that stand for the item as a whole (thumbnails and storyboards do not).
RECEIVED_KINDS = ("proxy", ACCESS)
#: Items loaded at once by a streamed export: enough to make the queries few, few enough that a
#: whole archive is never in memory.
CHUNK = 200

#: What a record (PBCore, Dublin Core) reads of an item, loaded with it.
RECORD_LOAD = (selectinload(Item.media_files).selectinload(MediaFile.derivatives),
         selectinload(Item.credits).selectinload(Credit.person), selectinload(Item.tags),
         selectinload(Item.collection),
         selectinload(Item.places).selectinload(Place.country),
         selectinload(Item.places).selectinload(Place.parent),
         selectinload(Item.ranges).selectinload(TimeRange.tag),
         selectinload(Item.ranges).selectinload(TimeRange.place).selectinload(Place.country),
         selectinload(Item.transcripts),
         selectinload(Item.source_records))


def load_items(session: Session, viewer: Viewer, item_ids: Sequence[int],
               load: Sequence[ORMOption] = RECORD_LOAD) -> list[Item]:
    """The items of `item_ids` that `viewer` may see, in that order, with `load` (by default all a
    record needs; a CSV row reads less) loaded with them."""
    found = {item.id: item for item in session.scalars(
        select(Item).where(Item.id.in_(list(item_ids)), item_filter(viewer)).options(*load))}
    return [found[i] for i in item_ids if i in found]


def iter_items(session: Session, viewer: Viewer, item_ids: Sequence[int], chunk: int | None = None,
               load: Sequence[ORMOption] = RECORD_LOAD) -> Iterator[Item]:
    """`load_items` a chunk (default CHUNK) at a time: the items of one chunk are let go before the
    next is read (the session's identity map holds them weakly)."""
    chunk = chunk or CHUNK
    for start in range(0, len(item_ids), chunk):
        yield from load_items(session, viewer, item_ids[start:start + chunk], load)


def require_visible(viewer: Viewer, item: Item) -> None:
    """NotFound unless `viewer` may see `item`: a record is never made of what its page would not show."""
    if not can_see(viewer, item):
        raise NotFound(f"item {item.id}")


@dataclass(frozen=True)
class Spot:
    """A place (or the item's own GPS position) as `viewer` may know it."""
    name: str  #: "" for the item's own GPS position
    country: str  #: the country's name, "" when none
    position: geo.Position
    start: float | None = None  #: seconds: where a time range puts the place
    end: float | None = None

    @property
    def coordinates(self) -> str:
        """Decimal degrees, latitude first (WGS84), as the pages show them."""
        return f"{self.position.lat:.5f}, {self.position.lon:.5f}"

    @property
    def shown_as(self) -> str:
        """"shown to about 10 km"... or "" when exact."""
        return self.position.precision.shown_as


def spots(viewer: Viewer, item: Item) -> list[Spot]:
    """The item's places `viewer` may see, at their published positions, then the places of its time
    ranges, then its own GPS position (coarsened at the item's precision)."""
    found: list[Spot] = []
    for place in item.places:
        if can_see_place(viewer, place):
            found.append(_spot(viewer, place))
    for time_range in item.ranges:
        if time_range.place is not None and can_see_place(viewer, time_range.place):
            found.append(_spot(viewer, time_range.place, time_range.start_sec, time_range.end_sec))
    own = item_position(viewer, item)
    if own is not None:
        found.append(Spot(name="", country="", position=own))
    return found


def _spot(viewer: Viewer, place: Place, start: float | None = None, end: float | None = None) -> Spot:
    return Spot(name=place.name, country=place.country.name if place.country is not None else "",
                position=place_position(viewer, place), start=start, end=end)


def countries(viewer: Viewer, item: Item) -> list[str]:
    """The names of the countries of the places `viewer` may see, once each."""
    names: list[str] = []
    for spot in spots(viewer, item):
        if spot.country and spot.country not in names:
            names.append(spot.country)
    return names


def credit_kind(role: str) -> str:
    """"creator", "publisher" or "contributor" for a credit's role."""
    role = role.strip().lower()
    if role in CREATOR_ROLES:
        return "creator"
    if role in PUBLISHER_ROLES:
        return "publisher"
    return "contributor"


def credits_of(item: Item, kind: str) -> list[tuple[str, str]]:
    """(name, role) of the item's credits of one `credit_kind`, in their order; for creators, the
    item's own creator field first (without a role)."""
    found = [(item.creator.strip(), "")] if kind == "creator" and item.creator.strip() else []
    return found + [(c.person.name, c.role) for c in item.credits if credit_kind(c.role) == kind]


def original_for(viewer: Viewer, item: Item) -> MediaFile | None:
    """The original, when `viewer` may have it (its bytes, checksum and name): may_have_original."""
    return item.media if item.media is not None and may_have_original(viewer, item) else None


def received_derivatives(session: Session, item: Item) -> list[Derivative]:
    """The copies standing for the whole item that anyone who may see it receives: the proxy, and the
    access copy where the archive offers them to download (archive.web.files serves exactly these)."""
    media = item.media
    if media is None:
        return []
    found = []
    for kind in RECEIVED_KINDS:
        made = media.derivative(kind)
        if made is not None and (kind != ACCESS or downloads_offered(session)):
            found.append(made)
    return found


#: The DCMI Type of each kind of item (none for a record whose media are not attached yet).
DCMI_TYPES = {ItemKind.video: "MovingImage", ItemKind.still: "StillImage", ItemKind.audio: "Sound"}


def item_path(item: Item) -> str:
    return f"/items/{item.id}"


def transcript_path(item: Item, transcript: Transcript) -> str:
    """The WebVTT export of a transcript (archive.web.transcripts.export)."""
    return f"/items/{item.id}/transcripts/{transcript.id}.vtt"
