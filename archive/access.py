"""The one access policy: what a viewer may know exists.

Every listing, page, file, search hit and export asks this module. Anything a viewer may not
see is treated as absent (404), never as forbidden (403), so that its existence is not confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from archive import geo
from archive.models import (AccessLevel, Collection, Credit, Item, Journey, LocationPrecision, Person, Place, Role,
                            Tag, TimeRange, journey_people)

__all__ = ["ANONYMOUS", "EDITORS", "ORIGINAL_ONLY_FIELDS", "SYSTEM", "Role", "Viewer", "can_see", "can_see_journey", "can_see_place",
           "collection_filter", "item_filter", "journey_filter", "may_edit", "may_have_original", "person_filter", "place_filter",
           "published_position", "tag_filter", "withheld_from_non_editors"]

#: Roles that change the catalogue.
EDITORS = frozenset({Role.archivist, Role.admin})


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a role and the collections granted to them for confidential material."""
    role: Role = Role.public
    granted_collections: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None
    name: str = "anonymous"
    #: The API token the viewer acts through (None for a browser's login, the CLI, the public).
    token_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role is Role.public


def may_edit(viewer: Viewer) -> bool:
    return viewer.role in EDITORS


def may_have_original(viewer: Viewer, item: Item) -> bool:
    """The one rule for what a non-editor receives: may `viewer` have the original's bytes, checksum
    and file name? Editors always; others only when the item's published precision is exact, since
    an original may carry its position in carriers no reader finds (EXIF, XMP, GPS tracks...), and
    its checksum or name confirm that a file someone holds is the archived one. Decided by the
    item's own precision, never by whether GPS happened to be read from it. Everyone else gets
    metadata-free copies (web proxy, thumbnails, an access copy where downloads are offered:
    archive.services.access_copies) or nothing, and never the original's checksum or name."""
    return may_edit(viewer) or LocationPrecision(item.location_precision) is LocationPrecision.exact


#: A media file's fields that identify the original file: given only to viewers who may_have_original.
ORIGINAL_ONLY_FIELDS = ("sha256", "original_name", "size", "bit_rate")


ANONYMOUS = Viewer()
#: The CLI acts with full rights: whoever runs it already holds the data root.
SYSTEM = Viewer(role=Role.admin, name="system")


def withheld_from_non_editors(item: Item) -> bool:
    """Is there a viewer who is not an editor, may see `item`, and may not have its original? Then
    the item needs its metadata-free copies (a proxy to play, an access copy to download). Public
    and restricted items are seen by non-editors, confidential ones when in a collection (which can
    be granted to a researcher); items in the trash by no one."""
    seen = item.deleted_at is None and (AccessLevel(item.access) is not AccessLevel.confidential or item.collection_id is not None)
    # ANONYMOUS stands for every non-editor: may_have_original asks nothing else of the viewer.
    return seen and not may_have_original(ANONYMOUS, item)


def item_filter(viewer: Viewer, *, in_trash: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on Item keeping only what `viewer` may see.

    Items in the trash are absent for everyone; `in_trash` selects them instead, for the trash
    page, where the same access rule still applies.
    """
    trash = Item.deleted_at.is_not(None) if in_trash else Item.deleted_at.is_(None)
    if viewer.role is Role.admin:
        return trash
    return and_(trash, _level_filter(viewer, Item.access, Item.collection_id))


def can_see(viewer: Viewer, item: Item) -> bool:
    """The same rule as item_filter, for an item already loaded (and not in the trash)."""
    return item.deleted_at is None and _level_allows(viewer, item.access, item.collection_id)


# Items and journeys share one rule: public to all, restricted to accounts, confidential to
# admins and to accounts granted the collection.

def level_filter(viewer: Viewer, access: ColumnElement[Any], collection_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """The items' rule as a WHERE clause on any columns holding an access level and a collection id
    (the PostgreSQL search engine's copy of the items, archive.search.pg_tables)."""
    return _level_filter(viewer, access, collection_id)


def _level_filter(viewer: Viewer, access: ColumnElement[AccessLevel],
                  collection_id: ColumnElement[int | None]) -> ColumnElement[bool]:
    if viewer.role is Role.admin:
        return true()
    if viewer.role is Role.public:
        return access == AccessLevel.public
    confidential = (and_(access == AccessLevel.confidential, collection_id.in_(sorted(viewer.granted_collections)))
                    if viewer.granted_collections else false())
    return or_(access.in_([AccessLevel.public, AccessLevel.restricted]), confidential)


def _level_allows(viewer: Viewer, access: AccessLevel, collection_id: int | None) -> bool:
    if viewer.role is Role.admin or access is AccessLevel.public:
        return True
    if viewer.role is Role.public:
        return False
    if access is AccessLevel.restricted:
        return True
    return collection_id is not None and collection_id in viewer.granted_collections


# Collections, people and tags have no access level of their own: they are known through the
# items they belong to, so that a title, a name or a term never reveals hidden material.

def collection_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Collection: those with an item `viewer` may see, or (editors) with none at all."""
    if viewer.role is Role.admin:
        return true()
    known = Collection.items.any(item_filter(viewer))
    if may_edit(viewer):  # a collection just made, with nothing in it yet
        return known | ~Collection.items.any(Item.deleted_at.is_(None))
    return known


def person_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Person: a name can itself endanger someone, so a person is known only through an
    item, collection or journey `viewer` may see (or, to editors, when linked to nothing at all)."""
    if viewer.role is Role.admin:
        return true()
    known = (Person.credits.any(Credit.item.has(item_filter(viewer))
                                | Credit.collection.has(collection_filter(viewer)))
             | Person.id.in_(select(journey_people.c.person_id).join(Journey, Journey.id == journey_people.c.journey_id)
                             .where(journey_filter(viewer))))
    if may_edit(viewer):  # someone just added, linked to nothing yet, so the editor can use them
        unlinked = ~Person.credits.any() & Person.id.not_in(select(journey_people.c.person_id))
        return known | unlinked
    return known


def tag_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Tag: terms used on an item or a range `viewer` may see, or (editors) unused ones."""
    if viewer.role is Role.admin:
        return true()
    used_visibly = Tag.items.any(item_filter(viewer)) | Tag.id.in_(
        select(TimeRange.tag_id).join(Item, Item.id == TimeRange.item_id).where(item_filter(viewer)))
    if may_edit(viewer):
        unused = ~Tag.items.any() & Tag.id.not_in(select(TimeRange.tag_id))
        return used_visibly | unused
    return used_visibly


# -- journeys, places and positions (issue 5) --------------------------------------------------

def journey_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Journey: the rule of items (public to all, restricted to accounts,
    confidential to admins and to accounts granted the journey's collection)."""
    return _level_filter(viewer, Journey.access, Journey.collection_id)


def can_see_journey(viewer: Viewer, journey: Journey) -> bool:
    """The same rule as journey_filter, for a journey already loaded."""
    return _level_allows(viewer, journey.access, journey.collection_id)


def place_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Place: public to all, restricted to accounts, confidential to editors."""
    if may_edit(viewer):
        return true()
    if viewer.role is Role.public:
        return Place.access == AccessLevel.public
    return Place.access.in_([AccessLevel.public, AccessLevel.restricted])


def can_see_place(viewer: Viewer, place: Place) -> bool:
    """The same rule as place_filter, for a place already loaded."""
    if may_edit(viewer) or place.access is AccessLevel.public:
        return True
    return viewer.role is not Role.public and place.access is AccessLevel.restricted


def published_position(viewer: Viewer, lat: float, lon: float, precision: LocationPrecision | str, *,
                       region: geo.Position | None = None, country_code: str | None = None) -> geo.Position:
    """The position of a place, a leg's stop or an item's GPS that `viewer` may be shown.

    Editors see the exact position; everyone else sees it coarsened at `precision` (see
    archive.geo.coarsen): `region` is the parent place's position as published to `viewer`,
    `country_code` names the country whose representative point stands for a country-only one.
    Every page, map, API answer and export takes positions from here, so that the exact
    coordinates of something sensitive never reach a browser that may not have them.
    """
    precision = LocationPrecision(precision)
    if precision is LocationPrecision.exact or may_edit(viewer):
        return geo.Position(lat, lon)
    lat, lon = geo.coarsen(lat, lon, precision, region=region.latlon if region is not None else None,
                           country=geo.country_point(country_code))
    return geo.Position(lat, lon, precision)
