"""Editing the geography for archivists: places, border crossings, journeys and their legs, the gaps
report, and which places and legs an item was filmed at.

Views follow archive.web.editing: parse the form, call one service of archive.services (places,
crossings, journeys, legs, locations, gaps), commit and redirect with a message; on a refusal
roll back and show the form again with the input kept and the message beside its field (400).
The reading pages (/places/<id>, /journeys/<id>, /map...) are archive.web.geography's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, render_template, request, url_for
from flask.typing import ResponseReturnValue

from archive.access import EDITORS, Viewer
from archive.dates import EDTF_HINT
from archive.geo import Position
from archive.models import (BorderCrossing, CrossingKind, Item, Journey, Leg, LocationPrecision, Place, PlaceKind,
                            TravelMode)
from archive.services import Invalid, crossings, gaps, journeys, legs, locations, places
from archive.services.editing import known_collections
from archive.services.editing.fields import whole_number
from archive.services.ingest import new_item_levels
from archive.services.place_fields import place_label
from archive.services.ranges import list_ranges
from archive.web.auth import editors_only
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.editing import (ACCESS_OPTIONS, PRECISION_OPTIONS, SavedItem, changed, done, messages, refusal,
                                 render_item_form, save_item_page)

bp = Blueprint("geo_edit", __name__)

PLACE_FORM = ("name", "alt_names", "kind", "country_code", "latitude", "longitude", "parent_id", "description",
              "access", "precision")
CROSSING_FORM = ("place_id", "from_country", "to_country", "kind", "notes")
JOURNEY_FORM = ("title", "travellers", "people", "collection_id", "description", "access")
LEG_FORM = ("from_place_id", "to_place_id", "date", "mode", "crossing_id", "narrative", "precision")

#: How each precision is offered in forms.


def _options(enum: Any) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum]


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _new_record_defaults() -> dict[str, str]:
    """A new place, journey or leg starts where a new item does (ingest.new_item_levels): nothing is public until chosen."""
    access, precision = new_item_levels(current_archive().settings)
    return {"access": access.value, "precision": precision.value}


def _with_defaults(values: dict[str, str]) -> dict[str, str]:
    """A new record's form values, a field left out or empty taking its default (see _new_record_defaults)."""
    return {**values, **{name: default for name, default in _new_record_defaults().items()
                         if name in values and not values[name].strip()}}


#: Up to this many places a place field is a drop-down list of them all; beyond it (a GeoNames
#: import brings thousands) a text field that suggests places as the editor types, which the
#: services read as place_by_reference does.
PLACE_LIST_MAX = 300
#: Suggestions one keystroke of a searched place field gets.
PLACE_SUGGESTIONS = 20


@dataclass(frozen=True)
class PlaceChoices:
    """What a place field offers: `options` to list, or None for a searched text field."""
    empty: str  #: what the field says when no place is chosen
    options: list[tuple[int, str]] | None


def place_options(viewer: Viewer, *, empty: str, leave_out: int | None = None) -> PlaceChoices:
    session = db_session()
    if places.count_places(session, viewer) > PLACE_LIST_MAX:
        return PlaceChoices(empty, None)
    return PlaceChoices(empty, [(p.id, place_label(p)) for p in places.list_places(session, viewer)
                                if p.id != leave_out])


@bp.app_template_global()
def place_field_text(value: Any) -> str:
    """What a searched place field shows for a form value: the label of a place id, else the text typed."""
    text = str(value or "")
    try:
        place_id = whole_number(text, "place")  # an id, as a stored record gives it
    except Invalid:
        return text
    place = db_session().get(Place, place_id) if place_id is not None else None
    return place_label(place) if place is not None else text


@bp.app_template_global()
def place_search_script() -> str | None:
    """The URL of static/place_search.js for a page's first searched place field; None for the
    others, as one script tag serves them all."""
    if g.get("place_search_script"):
        return None
    g.place_search_script = True
    return url_for("static", filename="place_search.js")


@bp.get("/geography/edit/places.json")
@editors_only
def place_suggestions() -> ResponseReturnValue:
    """Places whose name contains ?q=, for a searched place field (static/place_search.js)."""
    found = places.find_places(db_session(), current_viewer(), request.args.get("q", "")[:200],
                               limit=PLACE_SUGGESTIONS)
    return {"places": [{"id": place.id, "label": place_label(place)} for place in found]}


def country_options(empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(c.code, f"{c.name} ({c.code})") for c in places.list_countries(db_session())]


def place_values(place: Place) -> dict[str, str]:
    """The form's fields of a stored place (editors see its exact position)."""
    return {"name": place.name, "alt_names": "\n".join(place.alt_names or ()), "kind": place.kind.value,
            "country_code": place.country_code or "", "latitude": f"{place.latitude:.6f}",
            "longitude": f"{place.longitude:.6f}", "parent_id": str(place.parent_id or ""),
            "description": place.description or "", "access": place.access.value,
            "precision": place.precision.value}


# -- the editors' index -----------------------------------------------------------------------

@bp.get("/geography/edit")
@editors_only
def index() -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    return render_template("edit_geography.html", places=places.list_places(session, viewer),
                           crossings=crossings.list_crossings(session, viewer),
                           journeys=journeys.list_journeys(session, viewer))


# -- places -----------------------------------------------------------------------------------

def render_place_form(place: Place | None, values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None) -> str:
    session, viewer = db_session(), current_viewer()
    shown = {**(place_values(place) if place else {**_new_record_defaults(), "kind": "other"}), **(values or {})}
    uses = places.place_uses(session, viewer, place) if place is not None else []
    return render_template("edit_place.html", place=place, values=shown, errors=errors or {}, uses=uses,
                           kinds=_options(PlaceKind), countries=country_options("No country"),
                           parents=place_options(viewer, empty="None", leave_out=place.id if place else None),
                           access_options=ACCESS_OPTIONS, precision_options=PRECISION_OPTIONS,
                           tile_url=current_archive().settings["map_tile_url"])


def _place_fields(values: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {name: value for name, value in values.items() if name != "country_code"}
    fields["country"] = values["country_code"]
    return fields


@bp.route("/places/new", methods=["GET", "POST"])
@editors_only
def new_place() -> ResponseReturnValue:
    if request.method == "GET":
        return render_place_form(None)
    session = db_session()
    values = _with_defaults(_form(PLACE_FORM))
    try:
        place = places.create_place(session, current_viewer(), **_place_fields(values))
    except Invalid as exc:
        session.rollback()
        return render_place_form(None, values, messages(exc)), 400
    return done(f"Created the place {place.name}.", url_for("geo_edit.edit_place", place_id=place.id))


@bp.route("/places/<id:place_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_place(place_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    if request.method == "GET":
        return render_place_form(places.get_editable_place(session, viewer, place_id))
    values = _form(PLACE_FORM)
    try:
        changes = places.edit_place(session, viewer, place_id, **_place_fields(values),
                                    expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        return render_place_form(places.get_editable_place(session, viewer, place_id), values, errors), status
    name = session.get(Place, place_id).name  # type: ignore[union-attr]
    message = f"Saved {name}: {changed(changes)} changed." if changes else "Nothing to save: no field was changed."
    return done(message, url_for("geo_edit.edit_place", place_id=place_id))


@bp.post("/places/<id:place_id>/delete")
@editors_only
def delete_place(place_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    try:
        name = places.delete_place(session, viewer, place_id)
    except Invalid as exc:
        session.rollback()
        return render_place_form(places.get_editable_place(session, viewer, place_id), errors=messages(exc)), 400
    return done(f"Deleted the place {name}.", url_for("geo_edit.index"))


# -- border crossings -------------------------------------------------------------------------

def render_crossing_form(crossing: BorderCrossing | None, values: dict[str, str] | None = None,
                         errors: dict[str, str] | None = None) -> str:
    shown: dict[str, str] = {"kind": CrossingKind.land.value}
    if crossing is not None:
        shown = {"place_id": str(crossing.place_id), "from_country": crossing.from_country,
                 "to_country": crossing.to_country, "kind": crossing.kind.value, "notes": crossing.notes}
    return render_template("edit_crossing.html", crossing=crossing, values={**shown, **(values or {})},
                           errors=errors or {}, kinds=_options(CrossingKind),
                           points=place_options(current_viewer(), empty="Choose the crossing point"),
                           countries=country_options("Choose a country"))


@bp.route("/crossings/new", methods=["GET", "POST"])
@editors_only
def new_crossing() -> ResponseReturnValue:
    if request.method == "GET":
        return render_crossing_form(None, {"place_id": request.args.get("place", "")})
    session = db_session()
    values = _form(CROSSING_FORM)
    try:
        crossing = crossings.create_crossing(session, current_viewer(), **values)
    except Invalid as exc:
        session.rollback()
        return render_crossing_form(None, values, messages(exc)), 400
    return done(f"Created the crossing {crossing.label}.", url_for("geo_edit.edit_crossing", crossing_id=crossing.id))


@bp.route("/crossings/<id:crossing_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_crossing(crossing_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    if request.method == "GET":
        return render_crossing_form(crossings.get_editable_crossing(session, viewer, crossing_id))
    values = _form(CROSSING_FORM)
    try:
        changes = crossings.edit_crossing(session, viewer, crossing_id, **values,
                                          expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        crossing = crossings.get_editable_crossing(session, viewer, crossing_id)
        return render_crossing_form(crossing, values, errors), status
    message = f"Saved the crossing: {changed(changes)} changed." if changes else "Nothing to save."
    return done(message, url_for("geo_edit.edit_crossing", crossing_id=crossing_id))


@bp.post("/crossings/<id:crossing_id>/delete")
@editors_only
def delete_crossing(crossing_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    try:
        label = crossings.delete_crossing(session, viewer, crossing_id)
    except Invalid as exc:
        session.rollback()
        crossing = crossings.get_editable_crossing(session, viewer, crossing_id)
        return render_crossing_form(crossing, errors=messages(exc)), 400
    return done(f"Deleted the crossing {label}.", url_for("geo_edit.index"))


# -- journeys and their legs ------------------------------------------------------------------

def journey_values(journey: Journey) -> dict[str, str]:
    return {"title": journey.title, "travellers": journey.travellers,
            "people": "\n".join(p.name for p in journey.people), "collection_id": str(journey.collection_id or ""),
            "description": journey.description, "access": journey.access.value}


def leg_values(leg: Leg) -> dict[str, str]:
    return {"from_place_id": str(leg.from_place_id), "to_place_id": str(leg.to_place_id), "date": leg.date,
            "mode": leg.mode.value, "crossing_id": str(leg.crossing_id or ""), "narrative": leg.narrative,
            "precision": leg.precision.value}


def leg_form_context(viewer: Viewer) -> dict[str, Any]:
    """The choices of the leg form: places, crossings, modes, precisions."""
    crossing_options = [("", "No border crossing")] + [
        (c.id, c.label) for c in crossings.list_crossings(db_session(), viewer)]
    return {"place_choices": place_options(viewer, empty="Choose a place"), "crossing_choices": crossing_options,
            "modes": _options(TravelMode), "precision_options": PRECISION_OPTIONS, "edtf_hint": EDTF_HINT}


def render_journey_form(journey: Journey | None, values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None, leg_form: dict[str, str] | None = None,
                        leg_errors: dict[str, str] | None = None) -> str:
    session, viewer = db_session(), current_viewer()
    shown = {**(journey_values(journey) if journey else {"access": _new_record_defaults()["access"]}), **(values or {})}
    collection_options = [("", "No collection")] + [(c.id, c.title) for c in known_collections(session, viewer)]
    return render_template("edit_journey.html", journey=journey, values=shown, errors=errors or {},
                           collection_options=collection_options, access_options=ACCESS_OPTIONS,
                           leg_form={"mode": "other", "precision": _new_record_defaults()["precision"],
                                     **(leg_form or {})},
                           leg_errors=leg_errors or {}, **leg_form_context(viewer))


@bp.route("/journeys/new", methods=["GET", "POST"])
@editors_only
def new_journey() -> ResponseReturnValue:
    if request.method == "GET":
        return render_journey_form(None)
    session = db_session()
    values = _with_defaults(_form(JOURNEY_FORM))
    try:
        journey = journeys.create_journey(session, current_viewer(), **_journey_fields(values))
    except Invalid as exc:
        session.rollback()
        return render_journey_form(None, values, messages(exc)), 400
    return done(f"Created the journey “{journey.title}”. Add its legs below.",
                url_for("geo_edit.edit_journey", journey_id=journey.id))


def _journey_fields(values: dict[str, str]) -> dict[str, Any]:
    return {**values, "people": values["people"].splitlines()}


@bp.route("/journeys/<id:journey_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_journey(journey_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    if request.method == "GET":
        return render_journey_form(journeys.get_editable_journey(session, viewer, journey_id))
    values = _form(JOURNEY_FORM)
    try:
        changes = journeys.edit_journey(session, viewer, journey_id, **_journey_fields(values),
                                        expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        journey = journeys.get_editable_journey(session, viewer, journey_id)
        return render_journey_form(journey, values, errors), status
    message = f"Saved the journey: {changed(changes)} changed." if changes else "Nothing to save."
    return done(message, url_for("geo_edit.edit_journey", journey_id=journey_id))


@bp.post("/journeys/<id:journey_id>/delete")
@editors_only
def delete_journey(journey_id: int) -> ResponseReturnValue:
    title = journeys.delete_journey(db_session(), current_viewer(), journey_id)
    return done(f"Deleted the journey “{title}” and its legs (its places and footage stay).",
                url_for("geo_edit.index"))


@bp.post("/journeys/<id:journey_id>/legs")
@editors_only
def add_leg(journey_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    values = _with_defaults(_form(LEG_FORM))
    try:
        leg = legs.add_leg(session, viewer, journey_id, **values)
    except Invalid as exc:
        session.rollback()
        journey = journeys.get_editable_journey(session, viewer, journey_id)
        return render_journey_form(journey, leg_form=values, leg_errors=messages(exc)), 400
    return done(f"Added leg {leg.position}.", url_for("geo_edit.edit_journey", journey_id=journey_id,
                                                       _anchor=f"leg-{leg.position}"))


def render_leg_form(leg: Leg, values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> str:
    return render_template("edit_leg.html", leg=leg, values={**leg_values(leg), **(values or {})},
                           errors=errors or {}, **leg_form_context(current_viewer()))


@bp.route("/legs/<id:leg_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_leg(leg_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    if request.method == "GET":
        return render_leg_form(legs.get_editable_leg(session, viewer, leg_id))
    values = _form(LEG_FORM)
    try:
        changes = legs.edit_leg(session, viewer, leg_id, **values, expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        return render_leg_form(legs.get_editable_leg(session, viewer, leg_id), values, errors), status
    leg = legs.get_editable_leg(session, viewer, leg_id)
    message = f"Saved leg {leg.position}: {changed(changes)} changed." if changes else "Nothing to save."
    return done(message, url_for("geo_edit.edit_journey", journey_id=leg.journey_id, _anchor=f"leg-{leg.position}"))


@bp.post("/legs/<id:leg_id>/delete")
@editors_only
def delete_leg(leg_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    position = legs.get_editable_leg(session, viewer, leg_id).position
    journey_id = legs.delete_leg(session, viewer, leg_id)
    return done(f"Removed leg {position}; the later legs moved up.",
                url_for("geo_edit.edit_journey", journey_id=journey_id, _anchor="legs"))


@bp.post("/legs/<id:leg_id>/move")
@editors_only
def move_leg(leg_id: int) -> ResponseReturnValue:
    step = -1 if request.form.get("direction") == "up" else 1
    leg = legs.move_leg(db_session(), current_viewer(), leg_id, step)
    return done(f"Moved the leg {'up' if step < 0 else 'down'}: it is now leg {leg.position}.",
                url_for("geo_edit.edit_journey", journey_id=leg.journey_id, _anchor=f"leg-{leg.position}"))


# -- the gaps report --------------------------------------------------------------------------

@bp.get("/gaps")
@editors_only
def gaps_page() -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    journey_id = whole_number(request.args.get("journey", ""), "journey")
    journey = None
    if journey_id is not None:
        journey = journeys.get_editable_journey(session, viewer, journey_id)
    report = gaps.gaps_report(session, viewer, journey_id=journey_id)
    return render_template("gaps.html", report=report, journey=journey,
                           journeys=journeys.list_journeys(session, viewer))


# -- items: where they were filmed ------------------------------------------------------------

@bp.app_template_global()
def item_location(item: Item) -> dict[str, Any]:
    """Where an item was filmed, as the current viewer may see it: its GPS position (coarsened unless
    they edit), its places and its legs."""
    session, viewer = db_session(), current_viewer()
    position: Position | None = locations.item_position(viewer, item)
    return {"position": position, "places": locations.item_places_of(viewer, item), "legs": locations.item_legs_of(session, viewer, item)}


@bp.app_template_global()
def item_geography_form(item: Item) -> dict[str, Any] | None:
    """What the item's edit page needs to link places and legs (editors only; None for others)."""
    session, viewer = db_session(), current_viewer()
    if viewer.role not in EDITORS:
        return None
    radius = float(current_archive().settings["place_suggest_radius_km"])
    suggestion = locations.suggest_item_place(session, viewer, item.id, radius)
    linked = locations.item_places_of(viewer, item)
    if suggestion is not None and any(p.id == suggestion.place.id for p in linked):
        suggestion = None
    leg_choices: list[tuple[str, list[tuple[int, str]]]] = [
        (journey.title, [(leg.id, f"Leg {leg.position}: {leg.origin.name} → {leg.destination.name}")
                         for leg in journey.legs])
        for journey in journeys.list_journeys(session, viewer) if journey.legs]
    return {"linked_places": linked, "linked_legs": locations.item_legs_of(session, viewer, item),
            "ranges": list_ranges(session, item),
            "place_choices": place_options(viewer, empty="Add a place…"), "leg_choices": leg_choices,
            "precision_options": PRECISION_OPTIONS, "precision": item.location_precision.value,
            "suggestion": suggestion, "radius": radius}


@bp.post("/items/<id:item_id>/geography")
@editors_only
def item_geography(item_id: int) -> ResponseReturnValue:
    """"Save where it was filmed": the edit page sends its other fields too, and they are saved with it."""
    saved = save_item_page(item_id, geography=True)
    if not isinstance(saved, SavedItem):
        return saved
    changes = saved.changes
    message = f"Saved where it was filmed: {changed(changes)} changed." if changes else "Nothing to save."
    return done(message, url_for("edit.edit_item", item_id=item_id, _anchor="geography"))


@bp.post("/items/<id:item_id>/places/link")
@editors_only
def link_item_place(item_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    try:
        place_id = whole_number(request.form.get("place_id", ""), "places")
    except Invalid:
        place_id = None
    if place_id is None:
        return render_item_form(item_id, geo_errors={"places": "Choose a place to link."}), 400
    try:
        linked = locations.link_item_place(session, viewer, item_id, place_id,
                                           expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        return render_item_form(item_id, geo_errors=errors), status
    name = session.get(Place, place_id).name  # type: ignore[union-attr]
    return done(f"Linked {name}." if linked else f"{name} was linked already.",
                url_for("edit.edit_item", item_id=item_id, _anchor="geography"))


@bp.post("/items/<id:item_id>/ranges/<id:range_id>/where")
@editors_only
def range_geography(item_id: int, range_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    values = {"place_id": request.form.get("place_id", ""), "leg_id": request.form.get("leg_id", "")}
    try:
        changes = locations.set_range_geography(session, viewer, item_id, range_id, **values,
                                                expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        return render_item_form(item_id, geo_errors=errors, range_where=(range_id, values)), status
    message = "Saved where the time range was filmed." if changes else "Nothing to save."
    return done(message, url_for("edit.edit_item", item_id=item_id, _anchor=f"range-where-{range_id}"))
