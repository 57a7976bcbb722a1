"""Journeys, places and countries: the reading pages, the archive map and their JSON/GeoJSON API.

Every position shown comes from the services' views (JourneyView, PlaceView, CrossingView),
which are already published for the viewer, so a sensitive place's exact coordinates never
reach a browser that may not have them. Editing is archive/web/geo_editing.py's.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from archive.access import can_see_place, may_edit
from archive.models import Item, PlaceKind
from archive.services.locations import item_legs_of
from archive.services import NotFound
from archive.services.crossings import CrossingView, list_crossings
from archive.services.editing.fields import whole_number
from archive.services.journeys import (JourneyView, journey_geojson, journey_view, leg_feature_id, legs_at_place,
                                       list_journeys)
from archive.services.place_fields import country_code, place_kind
from archive.services.places import (PlaceView, get_country, items_shot_at, list_places, place_items, place_view,
                                    places_geojson)
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.pages import player_for, visible_collections

bp = Blueprint("geography", __name__)

#: Outlines of the countries drawn under every map (static/geodata/, built by scripts/build-geodata.py).
BASE_LAYER = "geodata/countries.geojson"
#: Items listed on a place or country page; the page says how many there are in all.
ITEMS_SHOWN = 48
GEOJSON = "application/geo+json"


def geojson_response(data: dict[str, Any]) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), mimetype=GEOJSON)


def map_settings() -> dict[str, str]:
    """The data-* values every map element carries."""
    return {"base_url": url_for("static", filename=BASE_LAYER),
            "tile_url": current_archive().settings["map_tile_url"]}


def _whole_number(name: str) -> int | None:
    return whole_number(request.args.get(name, ""), name)


def place_filters() -> dict[str, Any]:
    """The filters of the map and of /api/places.geojson, checked (Invalid names the bad one)."""
    kind = (request.args.get("kind") or "").strip() or None
    country = (request.args.get("country") or "").strip() or None
    return {"kind": place_kind(kind).value if kind else None,
            "country": country_code(country, "country") if country else None,
            "collection_id": _whole_number("collection"), "journey_id": _whole_number("journey")}


def place_features(places: list[PlaceView]) -> dict[str, Any]:
    """places_geojson with what static/map.js draws a place by: a circle sized by `count`, a popup link."""
    data = places_geojson(places)
    for feature, place in zip(data["features"], places):
        properties = feature["properties"]
        properties.update(kind="place", place_kind=properties["kind"], id=f"place-{place.id}",
                          count=place.item_count or 0, url=url_for("geography.place", place_id=place.id),
                          label="Open the place page")
    return data


@bp.app_template_global("geo_edit_url")
def edit_url(endpoint: str, **values: Any) -> str | None:
    """The address of one of geo_editing.py's forms for an editor; None for others or while it does not exist."""
    if not may_edit(current_viewer()) or endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def _link_stops(data: dict[str, Any]) -> dict[str, Any]:
    for feature in data["features"]:
        properties = feature["properties"]
        if properties.get("place_id") is not None:
            properties["url"] = url_for("geography.place", place_id=properties["place_id"])
            properties["label"] = "Open the place page"
    return data


# -- pages --------------------------------------------------------------------------------------

@bp.get("/journeys")
def journeys() -> str:
    country = (request.args.get("country") or "").strip() or None
    views = list_journeys(db_session(), current_viewer(), country=country)
    return render_template("journeys.html", journeys=views, country=get_country(db_session(), country)
                           if country else None, country_names=_country_names(views))


@bp.get("/journeys/<id:journey_id>")
def journey(journey_id: int) -> str:
    view = journey_view(db_session(), current_viewer(), journey_id)
    return render_template("journey.html", journey=view, country_names=_country_names([view]),
                           leg_feature_id=leg_feature_id, map=map_settings())


@bp.get("/map")
def places_map() -> str:
    session, viewer = db_session(), current_viewer()
    filters = place_filters()
    places = list_places(session, viewer, **filters)
    return render_template("places_map.html", places=places, filters=filters, kinds=list(PlaceKind),
                           collections=visible_collections(session, viewer),
                           journeys=list_journeys(session, viewer), map=map_settings(),
                           geojson_url=url_for("geography.api_places_geojson",
                                               **{k: v for k, v in request.args.items()
                                                  if k in ("kind", "collection", "journey", "country") and v}))


@bp.get("/places/<id:place_id>")
def place(place_id: int) -> str:
    session, viewer = db_session(), current_viewer()
    view = place_view(session, viewer, place_id)
    legs = legs_at_place(session, viewer, place_id)
    journeys_through = list({journey.id: journey for journey, _ in legs}.values())
    return render_template(
        "place.html", place=view, items=place_items(session, viewer, place_id, limit=ITEMS_SHOWN),
        journeys=journeys_through, legs=legs, country_names=_country_names(journeys_through),
        crossings=list_crossings(session, viewer, place_id=place_id), leg_feature_id=leg_feature_id,
        map=map_settings())


@bp.get("/countries/<code>")
def country(code: str) -> str:
    session, viewer = db_session(), current_viewer()
    if len(code) != 2 or not code.isalpha():
        raise NotFound(f"country {code!r}")
    found = get_country(session, code)
    places = list_places(session, viewer, country=found.code)
    items, total = items_shot_at(session, viewer, [p.id for p in places if p.item_count], limit=ITEMS_SHOWN)
    crossings = list_crossings(session, viewer, country=found.code)
    journeys_through = list_journeys(session, viewer, country=found.code)
    return render_template(
        "country.html", country=found, places=places, items=items, item_total=total,
        crossings_in=[c for c in crossings if c.to_country == found.code],
        crossings_out=[c for c in crossings if c.from_country == found.code],
        journeys=journeys_through, country_names=_country_names(journeys_through, crossings),
        map=map_settings())


def _country_names(journeys: list[JourneyView], crossings: list[CrossingView] = ()) -> dict[str, str]:
    """Names of the countries the journeys transit and the crossings join, by ISO code."""
    codes = {code for view in journeys for code in view.countries_of_transit}
    codes |= {code for c in crossings for code in (c.from_country, c.to_country)}
    session = db_session()
    names: dict[str, str] = {}
    for code in codes:
        try:
            names[code] = get_country(session, code).name
        except NotFound:
            names[code] = code
    return names


# -- API ----------------------------------------------------------------------------------------

@bp.get("/api/journeys/<id:journey_id>")
def api_journey(journey_id: int) -> Response:
    """The journey with its ordered legs and countries of transit (ISO codes)."""
    return Response(json.dumps(journey_view(db_session(), current_viewer(), journey_id).as_json(),
                               ensure_ascii=False), mimetype="application/json")


@bp.get("/api/journeys/<id:journey_id>.geojson")
def api_journey_geojson(journey_id: int) -> Response:
    """The route as one LineString, a LineString per leg, stops and crossings as Points."""
    view = journey_view(db_session(), current_viewer(), journey_id, footage=False)
    return geojson_response(_link_stops(journey_geojson(view)))


@bp.get("/api/places.geojson")
def api_places_geojson() -> Response:
    """Visible places as Points with their visible item counts; filters kind, collection, journey, country,
    and place (one place, for the map of its page)."""
    places = list_places(db_session(), current_viewer(), **place_filters(), place_id=_whole_number("place"))
    return geojson_response(place_features(places))


@bp.get("/api/places/<id:place_id>")
def api_place(place_id: int) -> Response:
    return Response(json.dumps(place_view(db_session(), current_viewer(), place_id).as_json(),
                               ensure_ascii=False), mimetype="application/json")


# -- the map that follows an item's footage (static/map_follows.js) --------------------------------

@bp.app_template_global()
def follow_map(item: Item) -> dict[str, Any] | None:
    """For an item on a journey leg the viewer may see: its journey's GeoJSON (published positions, as the journey
    page's), the leg's feature id, and the time ranges that name a visible place ("start,end,place_id;..." by
    which the marker goes to that place's stop or crossing). None for an item on no such leg."""
    legs = item_legs_of(db_session(), current_viewer(), item)
    if not legs:
        return None
    leg = legs[0]
    viewer = current_viewer()
    ranges = ";".join(f"{r.start_sec:g},{r.end_sec:g},{r.place_id}" for r in item.ranges
                      if r.place is not None and can_see_place(viewer, r.place))
    return {"settings": map_settings(), "leg": leg, "leg_id": leg_feature_id(leg.position), "ranges": ranges,
            "geojson_url": url_for("geography.api_journey_geojson", journey_id=leg.journey_id)}


@bp.app_template_global()
def leg_clip(item: Item) -> Any:
    """How the journey page plays a leg's footage in place (archive.web.pages.player_for: what this viewer may
    play, an access copy for those who may not have the original); None for stills and unplayable items."""
    player = player_for(item)
    return player if player.element in ("video", "audio") and player.src else None
