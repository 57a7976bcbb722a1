"""/api/v1 places, border crossings, journeys and their legs: read as the viewer may, written by editors.

Positions are always the published ones (archive.access.published_position): exact for editors,
coarsened at each record's precision for everyone else.
"""

from __future__ import annotations

from datetime import date as Day

from flask import Response
from sqlalchemy import select
from pydantic import BaseModel, Field

from archive.models import (AccessLevel, BorderCrossing, CrossingKind, Journey, Leg, LocationPrecision, Place,
                            PlaceKind, TravelMode)
from archive.services import crossings, journeys, legs, places
from archive.services.editing import KEEP
from archive.web.api.models import Body, Id, Page, PageQuery, Text, page_of
from archive.web.api.operations import expected_version, operation, reply
from archive.web.context import current_viewer, db_session

COUNTRY = Field(None, max_length=2, description="ISO 3166-1 alpha-2 code, e.g. TH.")


class PlaceOut(BaseModel):
    id: int
    name: str
    alt_names: list[str]
    kind: PlaceKind
    country: str | None
    country_name: str
    latitude: float = Field(description="WGS84, as published to the viewer.")
    longitude: float
    coarsened: bool = Field(description="Whether the position was coarsened for this viewer.")
    precision: LocationPrecision = Field(description="The precision of the position given.")
    access: AccessLevel
    description: str
    parent_id: int | None
    parent_name: str | None
    item_count: int | None = Field(None, description="Items the viewer may see that were shot there.")


class PlacesQuery(PageQuery):
    kind: PlaceKind | None = None
    country: Text | None = COUNTRY
    q: Text | None = Field(None, max_length=200, description="A name or other name containing this.")


class NewPlace(Body):
    name: Text = Field(min_length=1, max_length=200)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    kind: PlaceKind = PlaceKind.other
    country: Text | None = COUNTRY
    alt_names: list[Text] = Field(default_factory=list, max_length=100)
    parent_id: Id | None = None
    description: Text = ""
    access: AccessLevel = AccessLevel.public
    precision: LocationPrecision = LocationPrecision.exact


class PlaceChange(Body):
    name: Text = Field(None, min_length=1, max_length=200)
    latitude: float = Field(None, ge=-90, le=90)
    longitude: float = Field(None, ge=-180, le=180)
    kind: PlaceKind = None
    country: Text | None = COUNTRY
    alt_names: list[Text] = Field(None, max_length=100)
    parent_id: Id | None = None
    description: Text = None
    access: AccessLevel = None
    precision: LocationPrecision = None


class CrossingOut(BaseModel):
    id: int
    place: PlaceOut
    from_country: str
    to_country: str
    kind: CrossingKind
    notes: str


class CrossingsQuery(PageQuery):
    country: Text | None = COUNTRY


class NewCrossing(Body):
    place_id: Id
    from_country: Text = Field(min_length=1, max_length=2)
    to_country: Text = Field(min_length=1, max_length=2)
    kind: CrossingKind
    notes: Text = ""


class CrossingChange(Body):
    place_id: Id = None
    from_country: Text = Field(None, min_length=1, max_length=2)
    to_country: Text = Field(None, min_length=1, max_length=2)
    kind: CrossingKind = None
    notes: Text = None


class Stop(BaseModel):
    place_id: int | None
    name: str
    country: str | None
    latitude: float
    longitude: float
    coarsened: bool
    kind: PlaceKind | None


class Footage(BaseModel):
    item_id: int
    title: str
    kind: str
    range_id: int | None
    start: float | None
    end: float | None


class LegOut(BaseModel):
    id: int
    version: int = Field(description="The leg's version: If-Match of its PATCH and DELETE.")
    position: int = Field(description="1, 2, 3... in the order travelled.")
    from_: Stop = Field(alias="from")
    to: Stop
    date: str = Field(description="Extended Date/Time Format.")
    date_lower: Day | None
    date_upper: Day | None
    mode: TravelMode
    crossing: CrossingOut | None
    narrative: str
    distance_km: float
    footage: list[Footage]

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class JourneyOut(BaseModel):
    id: int
    version: int
    title: str
    travellers: str
    description: str
    access: AccessLevel
    collection_id: int | None
    collection_title: str | None
    people: list[str]
    countries_of_transit: list[str]
    distance_km: float
    start: Day | None
    end: Day | None
    duration_days: int | None
    legs: list[LegOut]


class JourneysQuery(PageQuery):
    country: Text | None = COUNTRY
    collection: Id | None = None


class NewJourney(Body):
    title: Text = Field(min_length=1, max_length=500)
    travellers: Text = Field("", max_length=500)
    description: Text = ""
    access: AccessLevel = AccessLevel.public
    collection_id: Id | None = None
    people: list[Text] = Field(default_factory=list, max_length=100)


class JourneyChange(Body):
    title: Text = Field(None, min_length=1, max_length=500)
    travellers: Text = Field(None, max_length=500)
    description: Text = None
    access: AccessLevel = None
    collection_id: Id | None = None
    people: list[Text] = Field(None, max_length=100)


class NewLeg(Body):
    from_place_id: Id
    to_place_id: Id
    date: Text = Field("", max_length=200)
    mode: TravelMode = TravelMode.other
    crossing_id: Id | None = None
    narrative: Text = ""
    precision: LocationPrecision = LocationPrecision.exact
    position: int | None = Field(None, ge=1, le=10_000, description="1 is first; at the end if left out.")


class LegChange(Body):
    from_place_id: Id = None
    to_place_id: Id = None
    date: Text = Field(None, max_length=200)
    mode: TravelMode = None
    crossing_id: Id | None = None
    narrative: Text = None
    precision: LocationPrecision = None


PlacePage, CrossingPage, JourneyPage = Page[PlaceOut], Page[CrossingOut], Page[JourneyOut]


def _place(place_id: int) -> Response:
    view = places.place_view(db_session(), current_viewer(), place_id)
    return reply(PlaceOut.model_validate(view.as_json()), etag=db_session().get(Place, place_id).version)


def _crossing(crossing_id: int, status: int = 200) -> Response:
    view = crossings.crossing_view(db_session(), current_viewer(), crossing_id)
    return reply(CrossingOut.model_validate(view.as_json()), status,
                 etag=db_session().get(BorderCrossing, crossing_id).version)


def _journey_json(views: list[journeys.JourneyView]) -> list[dict[str, object]]:
    """The journeys' JSON with the versions of the journeys and of their legs."""
    session, ids = db_session(), [v.id for v in views]
    versions = {row.id: row.version for row in session.execute(select(Journey.id, Journey.version).where(Journey.id.in_(ids)))}
    leg_versions = {row.id: row.version for row in session.execute(select(Leg.id, Leg.version).where(Leg.journey_id.in_(ids)))}
    out = []
    for view in views:
        data = view.as_json()
        data["version"] = versions[view.id]
        for leg in data["legs"]:
            leg["version"] = leg_versions[leg["id"]]
        out.append(data)
    return out


def _journey(journey_id: int, status: int = 200) -> Response:
    [data] = _journey_json([journeys.journey_view(db_session(), current_viewer(), journey_id)])
    return reply(JourneyOut.model_validate(data), status, etag=data["version"])  # type: ignore[arg-type]


def _editable_journey(journey_id: int) -> Journey:
    return journeys.get_editable_journey(db_session(), current_viewer(), journey_id)


def _given(body: Body) -> dict[str, object]:
    return body.model_dump(exclude_unset=True)


# -- places ----------------------------------------------------------------------------------------

@operation("GET", "/places", summary="List places", tag="places", query=PlacesQuery, response=PlacePage)
def list_places(query: PlacesQuery) -> Response:
    """Places the viewer may see, by name, with how many visible items were shot at each."""
    found = places.list_places(db_session(), current_viewer(), kind=query.kind, country=query.country, text=query.q)
    return reply(PlacePage.model_validate(page_of([v.as_json() for v in found], query)))


@operation("GET", "/places/<id:place_id>", summary="Get a place", tag="places", response=PlaceOut, versioned=True)
def get_place(place_id: int) -> Response:
    return _place(place_id)


@operation("POST", "/places", summary="Add a place", tag="places", body=NewPlace, response=PlaceOut, status=201,
           writes=True, versioned=True)
def create_place(body: NewPlace) -> Response:
    place = places.create_place(db_session(), current_viewer(), **body.model_dump())
    db_session().commit()
    answer = _place(place.id)
    answer.status_code = 201
    return answer


@operation("PATCH", "/places/<id:place_id>", summary="Edit a place", tag="places", body=PlaceChange,
           response=PlaceOut, writes=True, versioned=True,
           find=lambda place_id: places.get_editable_place(db_session(), current_viewer(), place_id))
def edit_place(place_id: int, body: PlaceChange) -> Response:
    places.edit_place(db_session(), current_viewer(), place_id, expected_version=expected_version(), **_given(body))
    db_session().commit()
    return _place(place_id)


@operation("DELETE", "/places/<id:place_id>", summary="Delete a place nothing uses", tag="places", response=None,
           status=204, writes=True, versioned=True)
def delete_place(place_id: int) -> Response:
    _check_version(places.get_editable_place(db_session(), current_viewer(), place_id), "place")
    places.delete_place(db_session(), current_viewer(), place_id)
    db_session().commit()
    return reply(None)


def _check_version(row: Place | BorderCrossing | Journey | Leg, object_type: str) -> None:
    """A delete's If-Match (the services' deletes take no version): 412 when the row was saved since."""
    from archive.services import Stale
    version = expected_version()
    if version is not None and version != row.version:
        raise Stale(object_type, row.id, version)


# -- border crossings ------------------------------------------------------------------------------

@operation("GET", "/crossings", summary="List border crossings", tag="crossings", query=CrossingsQuery,
           response=CrossingPage)
def list_crossings(query: CrossingsQuery) -> Response:
    """Crossings whose point the viewer may see; `country` keeps those into or out of it."""
    found = crossings.list_crossings(db_session(), current_viewer(), country=query.country)
    return reply(CrossingPage.model_validate(page_of([v.as_json() for v in found], query)))


@operation("GET", "/crossings/<id:crossing_id>", summary="Get a border crossing", tag="crossings",
           response=CrossingOut, versioned=True)
def get_crossing(crossing_id: int) -> Response:
    return _crossing(crossing_id)


@operation("POST", "/crossings", summary="Add a border crossing", tag="crossings", body=NewCrossing,
           response=CrossingOut, status=201, writes=True, versioned=True)
def create_crossing(body: NewCrossing) -> Response:
    crossing = crossings.create_crossing(db_session(), current_viewer(), **body.model_dump())
    db_session().commit()
    return _crossing(crossing.id, 201)


@operation("PATCH", "/crossings/<id:crossing_id>", summary="Edit a border crossing", tag="crossings",
           body=CrossingChange, response=CrossingOut, writes=True, versioned=True,
           find=lambda crossing_id: crossings.get_editable_crossing(db_session(), current_viewer(), crossing_id))
def edit_crossing(crossing_id: int, body: CrossingChange) -> Response:
    crossings.edit_crossing(db_session(), current_viewer(), crossing_id, expected_version=expected_version(),
                            **_given(body))
    db_session().commit()
    return _crossing(crossing_id)


@operation("DELETE", "/crossings/<id:crossing_id>", summary="Delete a border crossing no leg uses",
           tag="crossings", response=None, status=204, writes=True, versioned=True)
def delete_crossing(crossing_id: int) -> Response:
    _check_version(crossings.get_editable_crossing(db_session(), current_viewer(), crossing_id), "crossing")
    crossings.delete_crossing(db_session(), current_viewer(), crossing_id)
    db_session().commit()
    return reply(None)


# -- journeys and legs -----------------------------------------------------------------------------

@operation("GET", "/journeys", summary="List journeys", tag="journeys", query=JourneysQuery, response=JourneyPage)
def list_journeys(query: JourneysQuery) -> Response:
    """Journeys the viewer may see, by title, with their legs (without footage)."""
    found = journeys.list_journeys(db_session(), current_viewer(), country=query.country,
                                   collection_id=query.collection)
    return reply(JourneyPage.model_validate(page_of(_journey_json(found), query)))


@operation("GET", "/journeys/<id:journey_id>", summary="Get a journey", tag="journeys", response=JourneyOut,
           versioned=True)
def get_journey(journey_id: int) -> Response:
    """The journey with its ordered legs, their footage and the countries of transit."""
    return _journey(journey_id)


@operation("POST", "/journeys", summary="Add a journey", tag="journeys", body=NewJourney, response=JourneyOut,
           status=201, writes=True, versioned=True)
def create_journey(body: NewJourney) -> Response:
    journey = journeys.create_journey(db_session(), current_viewer(), **body.model_dump())
    db_session().commit()
    return _journey(journey.id, 201)


@operation("PATCH", "/journeys/<id:journey_id>", summary="Edit a journey", tag="journeys", body=JourneyChange,
           response=JourneyOut, writes=True, versioned=True, find=lambda journey_id: _editable_journey(journey_id))
def edit_journey(journey_id: int, body: JourneyChange) -> Response:
    journeys.edit_journey(db_session(), current_viewer(), journey_id, expected_version=expected_version(),
                          **_given(body))
    db_session().commit()
    return _journey(journey_id)


@operation("DELETE", "/journeys/<id:journey_id>", summary="Delete a journey and its legs", tag="journeys",
           response=None, status=204, writes=True, versioned=True)
def delete_journey(journey_id: int) -> Response:
    _check_version(journeys.get_editable_journey(db_session(), current_viewer(), journey_id), "journey")
    journeys.delete_journey(db_session(), current_viewer(), journey_id)
    db_session().commit()
    return reply(None)


@operation("POST", "/journeys/<id:journey_id>/legs", summary="Add a leg to a journey", tag="journeys",
           body=NewLeg, response=JourneyOut, status=201, writes=True, versioned=True,
           find=lambda journey_id: _editable_journey(journey_id))
def add_leg(journey_id: int, body: NewLeg) -> Response:
    """The answer is the whole journey, its legs renumbered."""
    legs.add_leg(db_session(), current_viewer(), journey_id, **body.model_dump())
    db_session().commit()
    return _journey(journey_id, 201)


@operation("PATCH", "/legs/<id:leg_id>", summary="Edit a leg", tag="journeys", body=LegChange,
           response=JourneyOut, writes=True, versioned=True,
           find=lambda leg_id: legs.get_editable_leg(db_session(), current_viewer(), leg_id))
def edit_leg(leg_id: int, body: LegChange) -> Response:
    """If-Match takes the leg's version; the answer is its journey (whose ETag it carries)."""
    leg = legs.get_editable_leg(db_session(), current_viewer(), leg_id)
    journey_id = leg.journey_id
    legs.edit_leg(db_session(), current_viewer(), leg_id, expected_version=expected_version(), **_given(body))
    db_session().commit()
    return _journey(journey_id)


@operation("DELETE", "/legs/<id:leg_id>", summary="Delete a leg", tag="journeys", response=None, status=204,
           writes=True, versioned=True)
def delete_leg(leg_id: int) -> Response:
    """If-Match takes the leg's version; the later legs move up."""
    _check_version(legs.get_editable_leg(db_session(), current_viewer(), leg_id), "leg")
    legs.delete_leg(db_session(), current_viewer(), leg_id)
    db_session().commit()
    return reply(None)
