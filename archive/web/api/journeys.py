"""/api/v1 journeys and their legs: read as the viewer may, written by editors (positions as published)."""

from __future__ import annotations

from datetime import date as Day

from flask import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from archive.models import AccessLevel, Journey, Leg, LocationPrecision, PlaceKind, TravelMode
from archive.services import journeys, legs
from archive.web.api.geography import COUNTRY, CrossingOut, check_version, given_fields
from archive.web.api.models import Body, Id, Page, PageQuery, Text, page_of
from archive.web.api.operations import expected_version, operation, reply
from archive.web.context import current_viewer, db_session


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


JourneyPage = Page[JourneyOut]


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
                          **given_fields(body))
    db_session().commit()
    return _journey(journey_id)


@operation("DELETE", "/journeys/<id:journey_id>", summary="Delete a journey and its legs", tag="journeys",
           response=None, status=204, writes=True, versioned=True)
def delete_journey(journey_id: int) -> Response:
    check_version(journeys.get_editable_journey(db_session(), current_viewer(), journey_id), "journey")
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
    legs.edit_leg(db_session(), current_viewer(), leg_id, expected_version=expected_version(), **given_fields(body))
    db_session().commit()
    return _journey(journey_id)


@operation("DELETE", "/legs/<id:leg_id>", summary="Delete a leg", tag="journeys", response=None, status=204,
           writes=True, versioned=True)
def delete_leg(leg_id: int) -> Response:
    """If-Match takes the leg's version; the later legs move up."""
    check_version(legs.get_editable_leg(db_session(), current_viewer(), leg_id), "leg")
    legs.delete_leg(db_session(), current_viewer(), leg_id)
    db_session().commit()
    return reply(None)
