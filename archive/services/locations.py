"""Where footage was shot: items and their time ranges linked to places and legs, and item positions.

Reading:
    item_position(viewer, item) -> Position | None   # the item's GPS as published to `viewer`
    item_places_of(viewer, item) -> list[PlaceView]
    suggest_item_place(session, viewer, item_id, radius_km) -> PlaceSuggestion | None   # from its GPS
    legs_of_items(session, viewer, item_ids) -> dict[item_id, list[ItemLeg]]   # for lists of items

Writing (editors only, on items they may see; others get NotFound):
    set_item_places(session, viewer, item_id, place_ids) -> Changes
    link_item_place(session, viewer, item_id, place_id) -> bool     # False when already linked
    unlink_item_place(session, viewer, item_id, place_id) -> bool
    set_item_legs(session, viewer, item_id, leg_ids) -> Changes
    link_item_leg(session, viewer, item_id, leg_id) -> bool
    unlink_item_leg(session, viewer, item_id, leg_id) -> bool
    set_range_place(session, viewer, item_id, range_id, place_id | None) -> Changes
    set_range_leg(session, viewer, item_id, range_id, leg_id | None) -> Changes
    set_item_location_precision(session, viewer, item_id, precision) -> Changes
    set_item_geography(session, viewer, item_id, place_ids=, leg_ids=, precision=, expected_version=)
    set_range_geography(session, viewer, item_id, range_id, place_id=, leg_id=, expected_version=)

Every change moves the item's version (a time range is part of the item it tags), and a change
made from a form of another version than `expected_version` is refused (Stale).

An item's own GPS (MediaFile.latitude/longitude, read at ingest) is shown through item_position
only: coarsened at the item's location_precision for everyone but editors. "Region" there means
the published position of the first place the item is linked to, else its 1° cell; "country"
the country of that place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from archive.access import Viewer, can_see_journey, can_see_place, item_filter, journey_filter, published_position
from archive.geo import Position
from archive.models import Item, Journey, Leg, LocationPrecision, Place, item_leg_links
from archive.services import Invalid, saving_version, touch
from archive.services.catalogue import get_item
from archive.services.editing import fields as f
from archive.services.access_copies import queue_access_copy_if_needed
from archive.services.ingest import queue_proxy_if_needed
from archive.services.editing.fields import KEEP, Changes, Keep
from archive.services.journeys import UNDISCLOSED
from archive.services.legs import visible_leg
from archive.services.place_fields import place_by_reference, precision_value, require_editor
from archive.services.places import PlaceSuggestion, PlaceView, place_position, suggest_place, to_view
from archive.services.ranges import get_range


def item_position(viewer: Viewer, item: Item) -> Position | None:
    """The GPS position of an item `viewer` may see, as published to them; None when it has none."""
    media = item.media
    if media is None or media.latitude is None or media.longitude is None:
        return None
    place = next((p for p in item.places if can_see_place(viewer, p)), None)
    region = place_position(viewer, place) if place is not None else None
    return published_position(viewer, media.latitude, media.longitude, item.location_precision, region=region,
                              country_code=place.country_code if place is not None else None)


def item_legs_of(session: Session, viewer: Viewer, item: Item) -> list[Leg]:
    """The item's legs on journeys `viewer` may see, by journey and position."""
    ids = [leg.id for leg in item.legs]
    if not ids:
        return []
    return list(session.scalars(select(Leg).join(Journey).where(Leg.id.in_(ids), journey_filter(viewer))
                                .options(selectinload(Leg.journey)).order_by(Journey.title, Leg.position)))


def item_places_of(viewer: Viewer, item: Item) -> list[PlaceView]:
    """The places an item `viewer` may see is linked to, those `viewer` may see, by name."""
    return [to_view(viewer, place) for place in item.places if can_see_place(viewer, place)]


def suggest_item_place(session: Session, viewer: Viewer, item_id: int, radius_km: float) -> PlaceSuggestion | None:
    """The nearest place to the item's GPS position within `radius_km`; None without GPS or a place near."""
    item = get_item(session, viewer, item_id)
    media = item.media
    if media is None or media.latitude is None or media.longitude is None:
        return None
    return suggest_place(session, viewer, media.latitude, media.longitude, radius_km)


# -- writing ------------------------------------------------------------------------------------

def _editable_item(session: Session, viewer: Viewer, item_id: int) -> Item:
    require_editor(viewer, f"item {item_id}")
    return get_item(session, viewer, item_id)


def _places(session: Session, place_ids: Iterable[int | str]) -> list[Place]:
    places = (place_by_reference(session, raw, "places") for raw in place_ids)
    return list(dict.fromkeys(place for place in places if place is not None))


def _legs(session: Session, viewer: Viewer, leg_ids: Iterable[int | str]) -> list[Leg]:
    legs: list[Leg] = []
    for raw in leg_ids:
        leg_id = f.whole_number(raw, "legs")
        if leg_id is None:
            continue
        leg = visible_leg(session, viewer, leg_id)
        if leg is None:
            raise Invalid(f"there is no leg {leg_id}", "legs")
        if leg not in legs:
            legs.append(leg)
    return legs


def set_item_places(session: Session, viewer: Viewer, item_id: int, place_ids: Iterable[int | str]) -> Changes:
    """Link the item to exactly these places; return {"places": (old names, new names)} when that changed."""
    item = _editable_item(session, viewer, item_id)
    places = _places(session, place_ids)
    before, after = sorted(p.name for p in item.places), sorted(p.name for p in places)
    if {p.id for p in item.places} == {p.id for p in places}:
        return {}
    touch(item)
    item.places = places
    session.flush()
    return {"places": (before, after)}


def link_item_place(session: Session, viewer: Viewer, item_id: int, place_id: int,
                    expected_version: int | str | None = None) -> bool:
    item = _editable_item(session, viewer, item_id)
    place = _places(session, [place_id])[0]
    with saving_version(item, "item", expected_version):
        if place in item.places:
            return False
        touch(item)
        item.places.append(place)
        session.flush()
    return True


def unlink_item_place(session: Session, viewer: Viewer, item_id: int, place_id: int) -> bool:
    item = _editable_item(session, viewer, item_id)
    kept = [p for p in item.places if p.id != place_id]
    if len(kept) == len(item.places):
        return False
    touch(item)
    item.places = kept
    session.flush()
    return True


def _leg_label(leg: Leg) -> str:
    return f"{leg.journey.title} leg {leg.position}"


def set_item_legs(session: Session, viewer: Viewer, item_id: int, leg_ids: Iterable[int | str]) -> Changes:
    """Link the item to exactly these legs (of journeys `viewer` may see; links to hidden ones stay)."""
    item = _editable_item(session, viewer, item_id)
    legs = _legs(session, viewer, leg_ids)
    shown = [leg for leg in item.legs if can_see_journey(viewer, leg.journey)]
    if {leg.id for leg in shown} == {leg.id for leg in legs}:
        return {}
    before = sorted(_leg_label(leg) for leg in shown)
    touch(item)
    item.legs = [leg for leg in item.legs if leg not in shown] + legs
    session.flush()
    return {"legs": (before, sorted(_leg_label(leg) for leg in legs))}


def link_item_leg(session: Session, viewer: Viewer, item_id: int, leg_id: int) -> bool:
    item = _editable_item(session, viewer, item_id)
    leg = _legs(session, viewer, [leg_id])[0]
    if leg in item.legs:
        return False
    touch(item)
    item.legs.append(leg)
    session.flush()
    return True


def unlink_item_leg(session: Session, viewer: Viewer, item_id: int, leg_id: int) -> bool:
    item = _editable_item(session, viewer, item_id)
    leg = _legs(session, viewer, [leg_id])[0]
    if leg not in item.legs:
        return False
    touch(item)
    item.legs.remove(leg)
    session.flush()
    return True


def set_range_place(session: Session, viewer: Viewer, item_id: int, range_id: int,
                    place_id: int | str | None) -> Changes:
    """Say where a time range of an item was filmed (None: nowhere in particular)."""
    require_editor(viewer, f"time range {range_id}")
    time_range = get_range(session, viewer, item_id, range_id)
    places = _places(session, [] if place_id in (None, "") else [place_id])
    new = places[0].id if places else None
    if time_range.place_id == new:
        return {}
    touch(time_range.item)
    old, time_range.place_id = time_range.place_id, new
    session.flush()
    session.expire(time_range, ["place"])
    return {"place_id": (old, new)}


def set_range_leg(session: Session, viewer: Viewer, item_id: int, range_id: int, leg_id: int | str | None) -> Changes:
    """Say on which leg of a journey a time range of an item was filmed (None: none)."""
    require_editor(viewer, f"time range {range_id}")
    time_range = get_range(session, viewer, item_id, range_id)
    legs = _legs(session, viewer, [] if leg_id in (None, "") else [leg_id])
    new = legs[0].id if legs else None
    if time_range.leg_id == new:
        return {}
    touch(time_range.item)
    old, time_range.leg_id = time_range.leg_id, new
    session.flush()
    session.expire(time_range, ["leg"])
    return {"leg_id": (old, new)}


def set_item_location_precision(session: Session, viewer: Viewer, item_id: int,
                                precision: LocationPrecision | str) -> Changes:
    """How precisely the item's GPS position is published to viewers who are not editors."""
    item = _editable_item(session, viewer, item_id)
    value = precision_value(precision, "location_precision")
    if item.location_precision is value:
        return {}
    old, item.location_precision = item.location_precision, value
    session.flush()
    queue_proxy_if_needed(session, item)  # published coarser: who may not have the original plays a proxy
    queue_access_copy_if_needed(session, item)  # ... and downloads an access copy, where that is offered
    return {"location_precision": (old, value)}


def set_item_geography(session: Session, viewer: Viewer, item_id: int, *,
                       place_ids: Iterable[int | str] | Keep = KEEP, leg_ids: Iterable[int | str] | Keep = KEEP,
                       precision: LocationPrecision | str | Keep = KEEP,
                       expected_version: int | str | None = None) -> Changes:
    """What the item editor's "where it was filmed" saves: its places, legs and published precision
    (those given), from a form of `expected_version` of the item (Stale when it was saved since)."""
    item = _editable_item(session, viewer, item_id)
    changes: Changes = {}
    with saving_version(item, "item", expected_version):
        if place_ids is not KEEP:
            changes.update(set_item_places(session, viewer, item_id, place_ids))
        if leg_ids is not KEEP:
            changes.update(set_item_legs(session, viewer, item_id, leg_ids))
        if precision is not KEEP:
            changes.update(set_item_location_precision(session, viewer, item_id, precision))
    return changes


def set_range_geography(session: Session, viewer: Viewer, item_id: int, range_id: int, *,
                        place_id: int | str | None, leg_id: int | str | None,
                        expected_version: int | str | None = None) -> Changes:
    """Where a time range was filmed, its place and its leg, from a form of `expected_version` of its
    item (Stale when the item or one of its ranges was saved since)."""
    item = _editable_item(session, viewer, item_id)
    with saving_version(item, "item", expected_version):
        return {**set_range_place(session, viewer, item_id, range_id, place_id),
                **set_range_leg(session, viewer, item_id, range_id, leg_id)}


# -- legs of many items at once ------------------------------------------------------------------

@dataclass(frozen=True)
class ItemLeg:
    """A leg an item (or a time range of it) was filmed on, as a viewer may see it."""
    journey_id: int
    journey: str  #: the journey's title
    position: int  #: 1 for the first leg
    from_place_id: int | None  #: None when the place is hidden from the viewer
    from_name: str  #: UNDISCLOSED when hidden
    to_place_id: int | None
    to_name: str

    def as_json(self) -> dict[str, Any]:
        return {"journey_id": self.journey_id, "journey": self.journey, "leg": self.position,
                "from": self.from_name, "to": self.to_name}


def legs_of_items(session: Session, viewer: Viewer, item_ids: Iterable[int]) -> dict[int, list[ItemLeg]]:
    """The legs of journeys `viewer` may see that these items, or their time ranges, were filmed on:
    one query for a page of items; items hidden from `viewer` and items without legs are left out."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    links = item_leg_links(wanted)
    origin, destination = aliased(Place), aliased(Place)
    rows = session.execute(
        select(links.c.item_id, Journey.id, Journey.title, Leg.position, origin, destination)
        .join(Leg, Leg.id == links.c.leg_id).join(Journey, Journey.id == Leg.journey_id)
        .join(Item, Item.id == links.c.item_id)
        .join(origin, origin.id == Leg.from_place_id).join(destination, destination.id == Leg.to_place_id)
        .where(journey_filter(viewer), item_filter(viewer))
        .order_by(links.c.item_id, Journey.title, Journey.id, Leg.position))
    out: dict[int, list[ItemLeg]] = defaultdict(list)
    for item_id, journey_id, title, position, start, end in rows:
        shown = [(p.id, p.name) if can_see_place(viewer, p) else (None, UNDISCLOSED) for p in (start, end)]
        out[item_id].append(ItemLeg(journey_id, title, position, *shown[0], *shown[1]))
    return dict(out)

