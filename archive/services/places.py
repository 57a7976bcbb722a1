"""The gazetteer: countries and places, and the positions of places as each viewer may see them.

Reading (every viewer; the access policy of archive.access applies):
    list_countries(session) -> list[Country]
    get_country(session, code) -> Country
    place_view(session, viewer, place_id) -> PlaceView
    list_places(session, viewer, *, kind=None, country=None, collection_id=None, journey_id=None,
                text=None) -> list[PlaceView]          # each with its count of items `viewer` may see
    count_places(session, viewer) -> int
    find_places(session, viewer, text, *, limit=20) -> list[Place]   # by name, for a searched place field
    place_items(session, viewer, place_id, *, limit=200) -> list[Item]
    items_shot_at(session, viewer, place_ids, *, limit=200) -> (list[Item], total)   # at any of the places
    places_geojson(places) -> dict                      # FeatureCollection of PlaceView points
    place_position(viewer, place, *, at_least=LocationPrecision.exact) -> Position

Editors only (others get NotFound, as for anything they may not know of):
    suggest_place(session, viewer, lat, lon, radius_km) -> PlaceSuggestion | None   # nearest place to a GPS fix
    create_place(session, viewer, *, name, latitude, longitude, kind="other", country="", alt_names=(),
                 parent_id=None, description="", access="public", precision="exact") -> Place
    edit_place(session, viewer, place_id, *, <the same fields, each optional>) -> Changes
    delete_place(session, viewer, place_id) -> str     # refused, naming what uses it, while in use
    get_editable_place(session, viewer, place_id) -> Place

Pages, maps and exports take places as PlaceView: its `position` is already the one published
to the viewer (exact for editors, coarsened for others when the place is sensitive), so a
template cannot show exact coordinates by mistake. Only get_editable_place hands out the row
itself, and only to editors. The checks of typed values (country codes, coordinates, other
names...) are in archive.services.place_fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from archive import geo
from archive.access import Viewer, can_see_place, item_filter, journey_filter, place_filter, published_position
from archive.geo import Position
from archive.models import (AccessLevel, BorderCrossing, Country, Item, Journey, Leg, LocationPrecision, Place,
                            PlaceKind, TimeRange, item_place_links, item_places)
from archive.services import Invalid, NotFound, counted, saving_version
from archive.services.editing import fields as f
from archive.services.editing.fields import KEEP, Changes, Keep
from archive.services.place_fields import (MAX_DEPTH, alt_names, coordinate, country_code, is_within, journey_named,
                                           place_by_reference, place_kind, precision_value, require_editor)

# -- countries ----------------------------------------------------------------------------------

def list_countries(session: Session) -> list[Country]:
    return list(session.scalars(select(Country).order_by(Country.name)))


def get_country(session: Session, code: str) -> Country:
    country = session.get(Country, (code or "").upper())
    if country is None:
        raise NotFound(f"country {code!r}")
    return country


# -- views --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlaceView:
    """A place as one viewer may see it; `position` is already the published one."""
    id: int
    name: str
    alt_names: tuple[str, ...]
    kind: PlaceKind
    country_code: str | None
    country_name: str
    position: Position
    #: The place's own setting; position.precision says what was applied for this viewer.
    precision: LocationPrecision
    access: AccessLevel
    description: str
    parent_id: int | None  #: None too when the parent is hidden from the viewer
    parent_name: str
    item_count: int | None = None  #: items the viewer may see, where counted

    @property
    def lat(self) -> float:
        return self.position.lat

    @property
    def lon(self) -> float:
        return self.position.lon

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "name": self.name, "alt_names": list(self.alt_names), "kind": self.kind.value,
            "country": self.country_code, "country_name": self.country_name,
            "latitude": self.position.lat, "longitude": self.position.lon,
            "coarsened": self.position.coarsened, "precision": self.position.precision.value,
            "access": self.access.value, "description": self.description,
            "parent_id": self.parent_id, "parent_name": self.parent_name or None,
        }
        if self.item_count is not None:
            data["item_count"] = self.item_count
        return data


def place_position(viewer: Viewer, place: Place, *, at_least: LocationPrecision = LocationPrecision.exact,
                   _depth: int = 0) -> Position:
    """The position of `place` published to `viewer`, coarsened at least to `at_least` (a leg's precision)."""
    precision = geo.coarsest(place.precision, at_least)
    region = None
    if (precision is LocationPrecision.region and place.parent is not None and _depth < MAX_DEPTH
            and can_see_place(viewer, place.parent)):
        region = place_position(viewer, place.parent, _depth=_depth + 1)
    return published_position(viewer, place.latitude, place.longitude, precision, region=region,
                              country_code=place.country_code)


def to_view(viewer: Viewer, place: Place, *, item_count: int | None = None,
            at_least: LocationPrecision = LocationPrecision.exact) -> PlaceView:
    """The view of a place the caller has checked `viewer` may see."""
    parent = place.parent if place.parent is not None and can_see_place(viewer, place.parent) else None
    return PlaceView(id=place.id, name=place.name, alt_names=tuple(place.alt_names or ()), kind=place.kind,
                     country_code=place.country_code, country_name=place.country.name if place.country else "",
                     position=place_position(viewer, place, at_least=at_least), precision=place.precision,
                     access=place.access, description=place.description,
                     parent_id=parent.id if parent else None, parent_name=parent.name if parent else "",
                     item_count=item_count)


def _with_relations(stmt: Any) -> Any:
    return stmt.options(selectinload(Place.country), selectinload(Place.parent).selectinload(Place.parent))


def visible_places(viewer: Viewer) -> Any:
    """Every query for places starts here, so that none forgets the access policy."""
    return _with_relations(select(Place).where(place_filter(viewer)))


def _visible_place(session: Session, viewer: Viewer, place_id: int) -> Place:
    place = session.scalar(visible_places(viewer).where(Place.id == place_id))
    if place is None:
        raise NotFound(f"place {place_id}")
    return place


def place_view(session: Session, viewer: Viewer, place_id: int) -> PlaceView:
    """The place with its count of visible items; NotFound when absent or hidden from `viewer`."""
    place = _visible_place(session, viewer, place_id)
    return to_view(viewer, place, item_count=_item_counts(session, viewer, [place.id]).get(place.id, 0))


def _item_ids_by_place(viewer: Viewer) -> Any:
    """(place_id, item_id) of visible items linked to a place directly or through one of their ranges."""
    links = item_place_links()
    return (select(links.c.place_id, links.c.item_id).join(Item, Item.id == links.c.item_id)
            .where(item_filter(viewer)).subquery())


def _item_counts(session: Session, viewer: Viewer, place_ids: Sequence[int] | None = None) -> dict[int, int]:
    links = _item_ids_by_place(viewer)
    stmt = select(links.c.place_id, func.count(func.distinct(links.c.item_id))).group_by(links.c.place_id)
    if place_ids is not None:
        stmt = stmt.where(links.c.place_id.in_(list(place_ids)))
    return {place_id: n for place_id, n in session.execute(stmt)}


def list_places(session: Session, viewer: Viewer, *, kind: PlaceKind | str | None = None, country: str | None = None,
                collection_id: int | None = None, journey_id: int | None = None,
                text: str | None = None, place_id: int | None = None) -> list[PlaceView]:
    """Places `viewer` may see, by name, each with how many items `viewer` may see were shot there.

    Filters: the kind, the country code, places with visible items of a collection, the stops
    and crossing points of a visible journey, a name or other name containing `text`, one place.
    """
    stmt = visible_places(viewer)
    if place_id is not None:
        stmt = stmt.where(Place.id == place_id)
    if kind:
        stmt = stmt.where(Place.kind == place_kind(kind))
    if country:
        stmt = stmt.where(Place.country_code == country_code(country))
    if collection_id is not None:
        links = _item_ids_by_place(viewer)
        stmt = stmt.where(Place.id.in_(select(links.c.place_id).join(Item, Item.id == links.c.item_id)
                                       .where(Item.collection_id == collection_id)))
    if journey_id is not None:
        legs = select(Leg).join(Journey).where(Leg.journey_id == journey_id, journey_filter(viewer)).subquery()
        crossings = select(BorderCrossing.place_id).join(legs, legs.c.crossing_id == BorderCrossing.id)
        stmt = stmt.where(or_(Place.id.in_(select(legs.c.from_place_id)), Place.id.in_(select(legs.c.to_place_id)),
                              Place.id.in_(crossings)))
    places = list(session.scalars(stmt.order_by(Place.name, Place.country_code, Place.id)))
    if text and text.strip():
        # Other names are JSON (escaped non-ASCII) in the database, so they are matched here.
        needle = " ".join(text.split()).casefold()
        places = [p for p in places if any(needle in n.casefold() for n in (p.name, *(p.alt_names or ())))]
    counts = _item_counts(session, viewer)
    return [to_view(viewer, place, item_count=counts.get(place.id, 0)) for place in places]


def count_places(session: Session, viewer: Viewer) -> int:
    return session.scalar(select(func.count(Place.id)).where(place_filter(viewer))) or 0


def find_places(session: Session, viewer: Viewer, text: str, *, limit: int = 20) -> list[Place]:
    """Places whose name contains `text`: names that are `text` first, then those starting with it.

    Other names are left out: they are JSON with escaped non-ASCII in the database (see list_places),
    which a LIKE cannot search.
    """
    needle = " ".join(text.split())
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    lowered = func.lower(Place.name)
    rank = case((lowered == needle.lower(), 0), (lowered.startswith(needle.lower(), autoescape=True), 1), else_=2)
    stmt = (visible_places(viewer).where(Place.name.ilike(pattern, escape="\\"))
            .order_by(rank, Place.name, Place.country_code, Place.id).limit(limit))
    return list(session.scalars(stmt))


def place_items(session: Session, viewer: Viewer, place_id: int, *, limit: int = 200) -> list[Item]:
    """Items `viewer` may see shot at the place (linked directly or through a range), newest shot first."""
    _visible_place(session, viewer, place_id)
    return items_shot_at(session, viewer, [place_id], limit=limit)[0]


def items_shot_at(session: Session, viewer: Viewer, place_ids: Sequence[int], *,
                  limit: int = 200) -> tuple[list[Item], int]:
    """Items `viewer` may see shot at any of the places, newest shot first, and how many there are in all."""
    links = _item_ids_by_place(viewer)
    shot = select(Item.id).where(Item.id.in_(select(links.c.item_id).where(links.c.place_id.in_(list(place_ids)))),
                                 item_filter(viewer))
    total = session.scalar(select(func.count()).select_from(shot.subquery())) or 0
    items = session.scalars(select(Item).where(Item.id.in_(shot)).options(selectinload(Item.media_files))
                            .order_by(Item.date_lower.desc().nulls_last(), Item.id).limit(limit))
    return list(items), total


def places_geojson(places: Iterable[PlaceView]) -> dict[str, Any]:
    """A FeatureCollection with one Point per place, at its published position."""
    return geo.feature_collection(geo.point_feature(p.position, {
        "id": p.id, "name": p.name, "kind": p.kind.value, "country": p.country_code,
        "coarsened": p.position.coarsened, "item_count": p.item_count,
    }) for p in places)


@dataclass(frozen=True)
class PlaceSuggestion:
    """The place nearest a GPS position, for an archivist to confirm or change."""
    place: PlaceView
    distance_km: float  #: from the GPS position to the place's recorded position
    country_code: str | None
    country_name: str


def suggest_place(session: Session, viewer: Viewer, lat: float, lon: float,
                  radius_km: float) -> PlaceSuggestion | None:
    """The place nearest to (lat, lon) within `radius_km` (setting place_suggest_radius_km); for editors'
    forms only, as the distance tells how far the exact point lies from a place."""
    require_editor(viewer, "place suggestions")
    lat, lon = coordinate(lat, "latitude"), coordinate(lon, "longitude")
    if isinstance(radius_km, bool) or not isinstance(radius_km, (int, float)) or not 0 < radius_km <= 20_000:
        raise Invalid(f"the radius must be a number of kilometres, more than 0 and at most 20000, not {radius_km!r}",
                      "radius_km")
    box = geo.bounding_box(lat, lon, radius_km)
    in_box = or_(*(Place.longitude.between(west, east) for west, east in box.lon_ranges))
    rows = session.execute(select(Place.id, Place.latitude, Place.longitude).where(
        place_filter(viewer), Place.latitude.between(box.min_lat, box.max_lat), in_box)).all()
    found = geo.nearest(((row.id, row.latitude, row.longitude) for row in rows), lat, lon, radius_km)
    if found is None:
        return None
    view = to_view(viewer, _visible_place(session, viewer, found[0]))
    return PlaceSuggestion(view, found[1], view.country_code, view.country_name)


# -- writing ------------------------------------------------------------------------------------

def _parent(session: Session, value: int | str | None, place: Place | None) -> Place | None:
    parent = place_by_reference(session, value, "parent_id")
    if parent is not None and place is not None and is_within(parent, place):
        raise Invalid(f"{parent.name} is inside {place.name} already: a place cannot be inside itself", "parent_id")
    return parent


def _check_unique(session: Session, name: str, code: str | None, place: Place | None) -> None:
    other = session.scalar(select(Place).where(Place.name == name, Place.country_code.is_(None) if code is None
                                               else Place.country_code == code))
    if other is not None and other is not place:
        where = f"in {code}" if code else "without a country"
        raise Invalid(f"there is already a place named {name!r} {where} (place {other.id})", "name")


#: How each editable field of a place is checked: (session, value, place being edited) -> clean value.
PLACE_FIELDS: dict[str, Callable[[Session, Any, Place | None], Any]] = {
    "name": lambda s, v, p: f.name(v, "name"),
    "kind": lambda s, v, p: place_kind(v),
    "country_code": lambda s, v, p: country_code(v, "country_code"),
    "latitude": lambda s, v, p: coordinate(v, "latitude"),
    "longitude": lambda s, v, p: coordinate(v, "longitude"),
    "alt_names": lambda s, v, p: alt_names(v),
    "parent": lambda s, v, p: _parent(s, v, p),
    "description": lambda s, v, p: f.text(v, "description"),
    "access": lambda s, v, p: f.access(v),
    "precision": lambda s, v, p: precision_value(v),
}


def _values(session: Session, given: dict[str, Any], place: Place | None) -> dict[str, Any]:
    values = f.validated({name: partial(PLACE_FIELDS[name], session, value, place)
                          for name, value in given.items() if value is not KEEP})
    if "alt_names" in values:
        name = values.get("name", place.name if place else "")
        values["alt_names"] = [n for n in values["alt_names"] if n != name]
    name = values.get("name", place.name if place is not None else None)
    code = values["country_code"] if "country_code" in values else (place.country_code if place else None)
    if name is not None and ("name" in values or "country_code" in values):
        _check_unique(session, name, code, place)
    return values


def create_place(session: Session, viewer: Viewer, *, name: str, latitude: float | str, longitude: float | str,
                 kind: PlaceKind | str = PlaceKind.other, country: str | None = "",
                 alt_names: Iterable[str] | str = (), parent_id: int | str | None = None, description: str = "",
                 access: AccessLevel | str = AccessLevel.public,
                 precision: LocationPrecision | str = LocationPrecision.exact) -> Place:
    """A new place; refuses a name that another place of the same country has."""
    require_editor(viewer, "places")
    values = _values(session, dict(name=name, latitude=latitude, longitude=longitude, kind=kind,
                                   country_code=country, alt_names=alt_names, parent=parent_id,
                                   description=description, access=access, precision=precision), None)
    place = Place(**values)
    session.add(place)
    session.flush()
    return place


def edit_place(session: Session, viewer: Viewer, place_id: int, *, name: str | Keep = KEEP,
               latitude: float | str | Keep = KEEP, longitude: float | str | Keep = KEEP,
               kind: PlaceKind | str | Keep = KEEP, country: str | None | Keep = KEEP,
               alt_names: Iterable[str] | str | Keep = KEEP, parent_id: int | str | None | Keep = KEEP,
               description: str | Keep = KEEP, access: AccessLevel | str | Keep = KEEP,
               precision: LocationPrecision | str | Keep = KEEP, expected_version: int | str | None = None) -> Changes:
    """Change the given fields (all or none); return {field: (old, new)} of those that changed.
    With `expected_version`, a save from a form of another version is refused (Stale).

    A new country is refused while a leg or a border crossing relies on the old one.
    """
    place = get_editable_place(session, viewer, place_id)
    values = _values(session, dict(name=name, latitude=latitude, longitude=longitude, kind=kind,
                                   country_code=country, alt_names=alt_names, parent=parent_id,
                                   description=description, access=access, precision=precision), place)
    if "country_code" in values and values["country_code"] != place.country_code:
        _check_country_change(session, viewer, place, values["country_code"])
    if "parent" in values:
        new_parent = values.pop("parent")
        values["parent_id"] = new_parent.id if new_parent is not None else None
    with saving_version(place, "place", expected_version):
        changes = f.apply_changes(place, values)
        session.flush()
    session.expire(place, ["parent"])
    return changes


def _check_country_change(session: Session, viewer: Viewer, place: Place, code: str | None) -> None:
    """Refuse a country that would break the rule of a leg's crossing or of a crossing at the place."""
    legs = session.scalars(select(Leg).where(Leg.crossing_id.is_not(None), or_(
        Leg.from_place_id == place.id, Leg.to_place_id == place.id)).options(
        selectinload(Leg.journey), selectinload(Leg.crossing))).all()
    for leg in legs:
        needed = leg.crossing.from_country if leg.from_place_id == place.id else leg.crossing.to_country
        if needed != code:
            raise Invalid(f"leg {leg.position} of {journey_named(viewer, leg.journey)} crosses {leg.crossing.from_country}→"
                          f"{leg.crossing.to_country} at {place.name}, which must stay in {needed}; change the "
                          "leg's crossing first", "country_code")
    for crossing in session.scalars(select(BorderCrossing).where(BorderCrossing.place_id == place.id)):
        if code is not None and code not in (crossing.from_country, crossing.to_country):
            raise Invalid(f"{place.name} is the crossing point of {crossing.from_country}→{crossing.to_country}: "
                          f"it must lie in one of those countries, not {code}", "country_code")


def get_editable_place(session: Session, viewer: Viewer, place_id: int) -> Place:
    """The place row itself, exact position included: for editors' forms only (NotFound for others)."""
    require_editor(viewer, f"place {place_id}")
    return _visible_place(session, viewer, place_id)


def place_uses(session: Session, viewer: Viewer, place: Place) -> list[str]:
    """What refers to the place, in words ("2 legs (...)", "1 border crossing"...); empty when nothing does.

    Journeys `viewer` may not see are counted but not named.
    """
    uses: list[str] = []
    legs = session.scalars(select(Leg).where(or_(Leg.from_place_id == place.id, Leg.to_place_id == place.id))
                           .options(selectinload(Leg.journey)).order_by(Leg.journey_id, Leg.position)).all()
    if legs:
        where = "; ".join(f"{journey_named(viewer, leg.journey)} leg {leg.position}" for leg in legs[:5])
        uses.append(counted(len(legs), "leg") + f" ({where}{'...' if len(legs) > 5 else ''})")
    crossings = session.scalars(select(BorderCrossing).where(BorderCrossing.place_id == place.id)).all()
    if crossings:
        uses.append(counted(len(crossings), "border crossing") + " ("
                    + ", ".join(f"{c.from_country}→{c.to_country}" for c in crossings) + ")")
    items = session.scalar(select(func.count()).select_from(item_places).where(item_places.c.place_id == place.id))
    if items:
        uses.append(counted(items, "item"))
    ranges = session.scalar(select(func.count(TimeRange.id)).where(TimeRange.place_id == place.id))
    if ranges:
        uses.append(counted(ranges, "time range"))
    children = session.scalars(select(Place.name).where(Place.parent_id == place.id).order_by(Place.name)).all()
    if children:
        uses.append(counted(len(children), "place") + " inside it (" + ", ".join(children[:5])
                    + ("..." if len(children) > 5 else "") + ")")
    return uses


def delete_place(session: Session, viewer: Viewer, place_id: int) -> str:
    """Delete a place nothing uses; return its name. A place in use is refused, naming its uses."""
    place = get_editable_place(session, viewer, place_id)
    uses = place_uses(session, viewer, place)
    if uses:
        raise Invalid(f"{place.name} is in use: {', '.join(uses)}; remove those first", "delete")
    name = place.name
    session.delete(place)
    session.flush()
    return name
