"""/api/v1 places and border crossings: read as the viewer may, written by editors (journeys and legs:
archive.web.api.journeys).

Positions are always the published ones (archive.access.published_position): exact for editors,
coarsened at each record's precision for everyone else.
"""

from __future__ import annotations

from flask import Response
from pydantic import BaseModel, Field

from archive.models import AccessLevel, BorderCrossing, CrossingKind, Journey, Leg, LocationPrecision, Place, PlaceKind
from archive.services import Stale, crossings, places
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


PlacePage, CrossingPage = Page[PlaceOut], Page[CrossingOut]


def _place(place_id: int) -> Response:
    view = places.place_view(db_session(), current_viewer(), place_id)
    return reply(PlaceOut.model_validate(view.as_json()), etag=db_session().get(Place, place_id).version)


def _crossing(crossing_id: int, status: int = 200) -> Response:
    view = crossings.crossing_view(db_session(), current_viewer(), crossing_id)
    return reply(CrossingOut.model_validate(view.as_json()), status,
                 etag=db_session().get(BorderCrossing, crossing_id).version)


def given_fields(body: Body) -> dict[str, object]:
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
    places.edit_place(db_session(), current_viewer(), place_id, expected_version=expected_version(), **given_fields(body))
    db_session().commit()
    return _place(place_id)


@operation("DELETE", "/places/<id:place_id>", summary="Delete a place nothing uses", tag="places", response=None,
           status=204, writes=True, versioned=True)
def delete_place(place_id: int) -> Response:
    check_version(places.get_editable_place(db_session(), current_viewer(), place_id), "place")
    places.delete_place(db_session(), current_viewer(), place_id)
    db_session().commit()
    return reply(None)


def check_version(row: Place | BorderCrossing | Journey | Leg, object_type: str) -> None:
    """A delete's If-Match (the services' deletes take no version): 412 when the row was saved since."""
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
                            **given_fields(body))
    db_session().commit()
    return _crossing(crossing_id)


@operation("DELETE", "/crossings/<id:crossing_id>", summary="Delete a border crossing no leg uses",
           tag="crossings", response=None, status=204, writes=True, versioned=True)
def delete_crossing(crossing_id: int) -> Response:
    check_version(crossings.get_editable_crossing(db_session(), current_viewer(), crossing_id), "crossing")
    crossings.delete_crossing(db_session(), current_viewer(), crossing_id)
    db_session().commit()
    return reply(None)
