"""Journeys: who travelled, and their legs from place to place, as each viewer may see them.

Reading (every viewer; archive.access.journey_filter applies):
    journey_view(session, viewer, journey_id, *, footage=True) -> JourneyView
    list_journeys(session, viewer, *, country=None, collection_id=None, place_id=None) -> list[JourneyView]
    legs_at_place(session, viewer, place_id) -> list[tuple[JourneyView, LegView]]  # at it or inside it
    journey_geojson(view) -> dict       # FeatureCollection: the route LineString, legs, stops and crossings
    countries_of_transit(legs) -> list[str]; distance_km(legs) -> float; duration(legs) -> timedelta | None

Writing (editors only; others get NotFound):
    create_journey(session, viewer, *, title, travellers="", description="", access="public",
                   collection_id=None, people=()) -> Journey
    edit_journey(session, viewer, journey_id, *, <the same fields, each optional>) -> Changes
    delete_journey(session, viewer, journey_id) -> str
    get_editable_journey(session, viewer, journey_id) -> Journey
    Legs and their order: archive.services.legs.

A JourneyView holds only what the viewer may know: its stops carry positions already published
for the viewer (a stop's place, its legs' and the place's own precision all coarsen it), a stop
whose place is hidden from the viewer is "an undisclosed place" at its country's point, and each
leg's footage lists only items the viewer may see. Distances are measured between the published
positions, so that they cannot be used to work an exact position out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import geo
from archive.access import (Viewer, can_see_place, collection_filter, item_filter, journey_filter, person_filter,
                            published_position)
from archive.dates import describe
from archive.geo import Position
from archive.models import (AccessLevel, BorderCrossing, Collection, Item, Journey, Leg, LocationPrecision,
                            MediaFile, Person, Place, TimeRange, TravelMode, item_legs, utcnow)
from archive.services import NotFound, saving_version
from archive.services.crossings import CrossingView, crossing_to_view
from archive.services.editing import fields as f
from archive.services.editing.collections import known_collection_id
from archive.services.editing.fields import KEEP, TITLE_MAX, Changes, Keep
from archive.services.editing.people import get_or_create_person
from archive.services.place_fields import country_code, place_and_inside, require_editor
from archive.services.places import PlaceView, to_view

#: Shown for a stop whose place the viewer may not know of.
UNDISCLOSED = "an undisclosed place"
TRAVELLERS_MAX = 2000


# -- views --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stop:
    """Where a leg starts or ends, as the viewer may see it."""
    name: str
    country_code: str | None
    position: Position  #: published for the viewer
    place: PlaceView | None  #: None when the place is hidden from the viewer

    @property
    def place_id(self) -> int | None:
        return self.place.id if self.place is not None else None

    def as_json(self) -> dict[str, Any]:
        return {"place_id": self.place_id, "name": self.name, "country": self.country_code,
                "latitude": self.position.lat, "longitude": self.position.lon,
                "coarsened": self.position.coarsened, "kind": self.place.kind.value if self.place else None}


@dataclass(frozen=True)
class Footage:
    """An item (or a time range of it) filmed on a leg."""
    item: Item
    range_id: int | None = None
    start_sec: float | None = None
    end_sec: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"item_id": self.item.id, "title": self.item.title, "kind": self.item.kind.value,
                "range_id": self.range_id, "start": self.start_sec, "end": self.end_sec}


@dataclass(frozen=True)
class LegView:
    id: int
    position: int  #: 1, 2, 3... in the order travelled
    origin: Stop
    destination: Stop
    date: str  #: EDTF
    date_lower: date | None
    date_upper: date | None
    mode: TravelMode
    crossing: CrossingView | None
    narrative: str
    precision: LocationPrecision
    footage: tuple[Footage, ...] = ()

    @property
    def date_label(self) -> str:
        return describe(self.date)

    @property
    def distance_km(self) -> float:
        return geo.haversine_km(*self.origin.position.latlon, *self.destination.position.latlon)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, "from": self.origin.as_json(),
                "to": self.destination.as_json(), "date": self.date,
                "date_lower": self.date_lower.isoformat() if self.date_lower else None,
                "date_upper": self.date_upper.isoformat() if self.date_upper else None,
                "mode": self.mode.value, "crossing": self.crossing.as_json() if self.crossing else None,
                "narrative": self.narrative, "distance_km": round(self.distance_km, 1),
                "footage": [each.as_json() for each in self.footage]}


def countries_of_transit(legs: Sequence[LegView]) -> list[str]:
    """ISO codes of the countries passed through, in order, without consecutive repeats."""
    codes = [code for leg in legs for code in (leg.origin.country_code, leg.destination.country_code) if code]
    return geo.dedupe_consecutive(codes)


def distance_km(legs: Sequence[LegView]) -> float:
    """The great-circle length of the legs, between their published stops."""
    return sum(leg.distance_km for leg in legs)


def duration(legs: Sequence[LegView]) -> timedelta | None:
    """Calendar days from the first leg's earliest date to the last leg's latest, both counted; None if unknown."""
    if not legs or legs[0].date_lower is None or legs[-1].date_upper is None:
        return None
    span = legs[-1].date_upper - legs[0].date_lower
    return span + timedelta(days=1) if span >= timedelta(0) else None


@dataclass(frozen=True)
class JourneyView:
    id: int
    title: str
    travellers: str
    description: str
    access: AccessLevel
    collection_id: int | None  #: None too when the viewer may not know the collection
    collection_title: str
    people: tuple[str, ...]  #: names the viewer may know of
    legs: tuple[LegView, ...] = field(default=())

    @property
    def countries_of_transit(self) -> list[str]:
        return countries_of_transit(self.legs)

    @property
    def distance_km(self) -> float:
        return distance_km(self.legs)

    @property
    def duration(self) -> timedelta | None:
        return duration(self.legs)

    @property
    def start(self) -> date | None:
        return self.legs[0].date_lower if self.legs else None

    @property
    def end(self) -> date | None:
        return self.legs[-1].date_upper if self.legs else None

    @property
    def stops(self) -> list[Stop]:
        """The stops in order: where the first leg starts, then where each leg ends (a break adds its start)."""
        return [stop for stop, _ in self.numbered_stops]

    @property
    def numbered_stops(self) -> list[tuple[Stop, int | None]]:
        """Each stop with the number of the leg that arrives there (None where the route starts or resumes)."""
        stops: list[tuple[Stop, int | None]] = []
        for leg in self.legs:
            if not stops or stops[-1][0] != leg.origin:
                stops.append((leg.origin, None))
            stops.append((leg.destination, leg.position))
        return stops

    def as_json(self) -> dict[str, Any]:
        days = self.duration
        return {"id": self.id, "title": self.title, "travellers": self.travellers, "description": self.description,
                "access": self.access.value, "collection_id": self.collection_id,
                "collection_title": self.collection_title or None, "people": list(self.people),
                "countries_of_transit": self.countries_of_transit, "distance_km": round(self.distance_km, 1),
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "duration_days": days.days if days is not None else None,
                "legs": [leg.as_json() for leg in self.legs]}


def journey_geojson(view: JourneyView) -> dict[str, Any]:
    """The journey as a FeatureCollection of published positions: the whole route as one LineString
    ([longitude, latitude] order), a LineString per leg, then a Point per stop and per border crossing.

    `kind` is what static/map.js draws (route, leg, stop, crossing); `id` ("leg-6") ties a leg's
    line, the stop it arrives at and its crossing together, as the journey page's timeline does;
    the place's and the crossing's own kinds are `place_kind` and `crossing_kind`.
    """
    features = [geo.line_feature([stop.position for stop in view.stops],
                                 {"role": "route", "kind": "route", "id": "route", "journey_id": view.id,
                                  "title": view.title, "countries_of_transit": view.countries_of_transit})]
    for leg in view.legs:
        features.append(geo.line_feature([leg.origin.position, leg.destination.position], {
            "role": "leg", "kind": "leg", "id": leg_feature_id(leg.position), "leg": leg.position,
            "name": f"Leg {leg.position}: {leg.origin.name} → {leg.destination.name}", "mode": leg.mode.value}))
    for number, (stop, arriving) in enumerate(view.numbered_stops):
        features.append(geo.point_feature(stop.position, {
            "role": "stop", "kind": "stop", "id": leg_feature_id(arriving) if arriving else f"stop-{number + 1}",
            "stop": number, "number": number + 1, "leg": arriving, "name": stop.name,
            # What its marker says: the leg that arrives there (leg 6 and its stop both read 6), S at a start.
            "badge": str(arriving) if arriving else "S",
            "place_kind": stop.place.kind.value if stop.place else None, "country": stop.country_code,
            "place_id": stop.place_id, "coarsened": stop.position.coarsened}))
    for leg in view.legs:
        if leg.crossing is not None:
            place = leg.crossing.place
            features.append(geo.point_feature(place.position, {
                "role": "crossing", "kind": "crossing", "id": leg_feature_id(leg.position), "leg": leg.position,
                "name": place.name, "crossing_kind": leg.crossing.kind.value,
                "from_country": leg.crossing.from_country, "to_country": leg.crossing.to_country,
                "country": place.country_code, "place_id": place.id, "coarsened": place.position.coarsened}))
    return geo.feature_collection(features, title=view.title)


def leg_feature_id(position: int) -> str:
    """The id shared by a leg's features on the map and its entry in the timeline."""
    return f"leg-{position}"


# -- building views -----------------------------------------------------------------------------

def _place_precisions(legs: Iterable[Leg]) -> dict[int, LocationPrecision]:
    """Per place, the coarsest precision of the legs touching it: a place shown at two precisions
    on one route would give its finer position away."""
    result: dict[int, LocationPrecision] = {}
    for leg in legs:
        crossing_point = (leg.crossing.place_id,) if leg.crossing is not None else ()
        for place_id in (leg.from_place_id, leg.to_place_id, *crossing_point):
            result[place_id] = geo.coarsest(result.get(place_id, LocationPrecision.exact), leg.precision)
    return result


def _stop(viewer: Viewer, place: Place, at_least: LocationPrecision) -> Stop:
    if can_see_place(viewer, place):
        view = to_view(viewer, place, at_least=at_least)
        return Stop(view.name, view.country_code, view.position, view)
    position = published_position(viewer, place.latitude, place.longitude, LocationPrecision.country,
                                  country_code=place.country_code)
    return Stop(UNDISCLOSED, place.country_code, position, None)


def _crossing(viewer: Viewer, crossing: BorderCrossing | None, at_least: LocationPrecision) -> CrossingView | None:
    if crossing is None or not can_see_place(viewer, crossing.place):
        return None
    return crossing_to_view(viewer, crossing, at_least=at_least)


def _footage(session: Session, viewer: Viewer, leg_ids: list[int]) -> dict[int, list[Footage]]:
    footage: dict[int, list[Footage]] = {leg_id: [] for leg_id in leg_ids}
    if not leg_ids:
        return footage
    media = selectinload(Item.media_files).selectinload(MediaFile.derivatives)
    for leg_id, item in session.execute(
            select(item_legs.c.leg_id, Item).join(Item, Item.id == item_legs.c.item_id)
            .where(item_legs.c.leg_id.in_(leg_ids), item_filter(viewer)).options(media)
            .order_by(Item.date_lower.nulls_last(), Item.id)):
        footage[leg_id].append(Footage(item))
    for time_range in session.scalars(
            select(TimeRange).join(Item, Item.id == TimeRange.item_id)
            .where(TimeRange.leg_id.in_(leg_ids), item_filter(viewer))
            .options(selectinload(TimeRange.item).options(media)).order_by(TimeRange.item_id, TimeRange.start_sec)):
        footage[time_range.leg_id].append(Footage(time_range.item, time_range.id, time_range.start_sec,
                                                  time_range.end_sec))
    return footage


def _with_legs() -> Any:
    place = (selectinload(Place.country), selectinload(Place.parent).selectinload(Place.parent))
    legs = selectinload(Journey.legs)
    return (legs.selectinload(Leg.from_place).options(*place), legs.selectinload(Leg.to_place).options(*place),
            legs.selectinload(Leg.crossing).selectinload(BorderCrossing.place).options(*place),
            selectinload(Journey.people), selectinload(Journey.collection))


def to_journey_view(session: Session, viewer: Viewer, journey: Journey, *, footage: bool = True) -> JourneyView:
    """The view of a journey the caller has checked `viewer` may see."""
    precisions = _place_precisions(journey.legs)
    films = _footage(session, viewer, [leg.id for leg in journey.legs]) if footage else {}
    legs = tuple(LegView(
        id=leg.id, position=leg.position,
        origin=_stop(viewer, leg.from_place, precisions[leg.from_place_id]),
        destination=_stop(viewer, leg.to_place, precisions[leg.to_place_id]),
        date=leg.date, date_lower=leg.date_lower, date_upper=leg.date_upper, mode=leg.mode,
        crossing=_crossing(viewer, leg.crossing, precisions[leg.crossing.place_id]) if leg.crossing else None,
        narrative=leg.narrative, precision=leg.precision, footage=tuple(films.get(leg.id, ())))
        for leg in journey.legs)
    collection = journey.collection
    if collection is not None and session.scalar(
            select(Collection.id).where(Collection.id == collection.id, collection_filter(viewer))) is None:
        collection = None
    people_ids = [p.id for p in journey.people]
    known = set(session.scalars(select(Person.id).where(Person.id.in_(people_ids), person_filter(viewer)))) \
        if people_ids else set()
    return JourneyView(journey.id, journey.title, journey.travellers, journey.description, journey.access,
                       collection.id if collection else None, collection.title if collection else "",
                       tuple(p.name for p in journey.people if p.id in known), legs)


def _visible_journey(session: Session, viewer: Viewer, journey_id: int) -> Journey:
    journey = session.scalar(select(Journey).where(Journey.id == journey_id, journey_filter(viewer))
                             .options(*_with_legs()))
    if journey is None:
        raise NotFound(f"journey {journey_id}")
    return journey


def journey_view(session: Session, viewer: Viewer, journey_id: int, *, footage: bool = True) -> JourneyView:
    """The journey with its legs, stops and (with `footage`) the visible items of each leg; NotFound when hidden."""
    return to_journey_view(session, viewer, _visible_journey(session, viewer, journey_id), footage=footage)


def list_journeys(session: Session, viewer: Viewer, *, country: str | None = None,
                  collection_id: int | None = None, place_id: int | None = None) -> list[JourneyView]:
    """Journeys `viewer` may see, by title, without footage; `country` keeps those transiting it,
    `place_id` those stopping or crossing there or at a place inside it."""
    stmt = select(Journey).where(journey_filter(viewer)).options(*_with_legs()).order_by(Journey.title, Journey.id)
    if collection_id is not None:
        stmt = stmt.where(Journey.collection_id == collection_id)
    if place_id is not None:
        places = place_and_inside(session, place_id)
        crossing_places = select(BorderCrossing.id).where(BorderCrossing.place_id.in_(places))
        stmt = stmt.where(Journey.legs.any(Leg.from_place_id.in_(places) | Leg.to_place_id.in_(places)
                                           | Leg.crossing_id.in_(crossing_places)))
    views = [to_journey_view(session, viewer, journey, footage=False) for journey in session.scalars(stmt)]
    if country:
        code = country_code(country)
        views = [view for view in views if code in view.countries_of_transit]
    return views


def legs_at_place(session: Session, viewer: Viewer, place_id: int) -> list[tuple[JourneyView, LegView]]:
    """The legs `viewer` may see that start, end or cross the border at the place or at a place inside it
    (a crossing point on a river, a landing in a town), each with its journey; stops and crossings hidden
    from the viewer do not count."""
    places = place_and_inside(session, place_id)
    return [(journey, leg) for journey in list_journeys(session, viewer, place_id=place_id) for leg in journey.legs
            if {leg.origin.place_id, leg.destination.place_id, leg.crossing.place.id if leg.crossing else None}
            & places]


# -- writing ------------------------------------------------------------------------------------

def get_editable_journey(session: Session, viewer: Viewer, journey_id: int) -> Journey:
    """The journey row with its legs, for editors' forms (NotFound for others and for hidden journeys)."""
    require_editor(viewer, f"journey {journey_id}")
    return _visible_journey(session, viewer, journey_id)


def _people(session: Session, names: Iterable[str]) -> list[Person]:
    if isinstance(names, str):
        names = [n for n in names.replace(";", "\n").splitlines()]
    cleaned = list(dict.fromkeys(" ".join(n.split()) for n in names if isinstance(n, str) and n.strip()))
    for name in cleaned:
        f.name(name, "people")
    return [get_or_create_person(session, name) for name in cleaned]


def _journey_values(session: Session, viewer: Viewer, given: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "title": lambda v: f.text(v, "title", limit=TITLE_MAX, required=True),
        "travellers": lambda v: f.text(v, "travellers", limit=TRAVELLERS_MAX),
        "description": lambda v: f.text(v, "description"),
        "access": f.access,
        "collection_id": partial(known_collection_id, session, viewer),
        "people": partial(_people, session),
    }
    return f.validated({name: partial(checks[name], value) for name, value in given.items() if value is not KEEP})


def create_journey(session: Session, viewer: Viewer, *, title: str, travellers: str = "", description: str = "",
                   access: AccessLevel | str = AccessLevel.public, collection_id: int | str | None = None,
                   people: Iterable[str] = ()) -> Journey:
    """A new journey without legs; `people` are names of people (made when new) who travelled."""
    require_editor(viewer, "journeys")
    values = _journey_values(session, viewer, dict(title=title, travellers=travellers, description=description,
                                                   access=access, collection_id=collection_id, people=people))
    journey = Journey(**values)
    session.add(journey)
    session.flush()
    return journey


def edit_journey(session: Session, viewer: Viewer, journey_id: int, *, title: str | Keep = KEEP,
                 travellers: str | Keep = KEEP, description: str | Keep = KEEP,
                 access: AccessLevel | str | Keep = KEEP, collection_id: int | str | None | Keep = KEEP,
                 people: Iterable[str] | Keep = KEEP, expected_version: int | str | None = None) -> Changes:
    """Change the given fields (all or none); return {field: (old, new)} of those that changed.
    With `expected_version`, a save from a form of another version is refused (Stale)."""
    journey = get_editable_journey(session, viewer, journey_id)
    values = _journey_values(session, viewer, dict(title=title, travellers=travellers, description=description,
                                                   access=access, collection_id=collection_id, people=people))
    people = values.pop("people", None)
    with saving_version(journey, "journey", expected_version):
        changes = f.apply_changes(journey, values)
        if people is not None:
            before, after = sorted(p.name for p in journey.people), sorted(p.name for p in people)
            if before != after:
                changes["people"] = (before, after)
                journey.people = people
                journey.updated_at = utcnow()  # a row UPDATE, so that the version moves and is checked
        session.flush()
    return changes


def delete_journey(session: Session, viewer: Viewer, journey_id: int) -> str:
    """Delete a journey and its legs (items and places stay); return its title."""
    journey = get_editable_journey(session, viewer, journey_id)
    title = journey.title
    session.delete(journey)
    session.flush()
    return title

