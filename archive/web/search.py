"""Full-text search: the results page and GET /api/search, both answered by archive.search.

Both ask archive.services.search.find_items, which confirms what the index found through the
access policy in the database, so a result (or a facet count) the database no longer shows this
viewer is left out even while the index catches up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.models import Item
from archive.search import SORTS, ItemHit, SearchRequest, SearchResponse
from archive.services import Paginated
from archive.services.filters import date_choices, facet_blocks, search_filter
from archive.services.search import find_items
from archive.services.journeys import leg_feature_id
from archive.services.locations import ItemLeg, legs_of_items
from archive.timecode import seconds_param
from archive.web.context import current_archive, current_viewer, db_session

bp = Blueprint("search", __name__)

def search_request() -> SearchRequest:
    """The request's search, from its query string (archive.services.filters): bad numbers and
    unknown names fall back; a bad date is a 400 naming it."""
    settings = current_archive().settings
    return search_filter(request.args, default_per_page=settings["per_page"], max_per_page=settings["max_per_page"])


def search_visible(session: Session, viewer: Viewer, search: SearchRequest) -> tuple[SearchResponse, dict[int, Item]]:
    """The answer to `search`, holding only what the database lets `viewer` see, and the page's items by id."""
    found = find_items(session, viewer, current_archive().index, search)
    return found.response, found.items


@bp.get("/api/search")
def api() -> Response:
    """SearchResponse.as_json(), each item with the "legs" it was filmed on; with neither q nor
    filters: every item the viewer may see, newest first."""
    session, viewer = db_session(), current_viewer()
    response, _ = search_visible(session, viewer, search_request())
    body = response.as_json()
    legs = legs_of_items(session, viewer, [hit.item_id for hit in response.items])
    for item in body["items"]:
        item["legs"] = [leg.as_json() for leg in legs.get(item["id"], [])]
    return jsonify(body)


# -- the page ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """An item in the result list: what the index found in it, and the item itself."""
    hit: ItemHit
    item: Item
    legs: list[ItemLeg] = field(default_factory=list)  #: legs of journeys the viewer may see, where it was filmed


@dataclass
class ResultsPage(Paginated):
    """One page of results, in the shape templates/_item_card.html's pagination and count expect."""
    items: list[Result]
    total: int
    page: int
    per_page: int


def search_url(args: dict[str, list[str]]) -> str:
    """The search page with these parameters (a FacetOption's, or a date filter's removal)."""
    return url_for("search.page", **args)


def leg_url(leg: ItemLeg) -> str:
    """The journey page at the leg (templates/journey.html gives each leg its map feature's id)."""
    return url_for("geography.journey", journey_id=leg.journey_id, _anchor=leg_feature_id(leg.position))


def place_url(place_id: int) -> str:
    return url_for("geography.place", place_id=place_id)


def hit_url(item_id: int, seconds: float, transcript_id: int | None = None) -> str:
    """The item page with its player starting at `seconds` (static/item.js reads ?t=), showing the
    transcript the words were found in (static/transcript.js reads ?transcript=)."""
    return url_for("pages.item", item_id=item_id, t=seconds_param(seconds), transcript=transcript_id,
                   _anchor="player")


@bp.get("/search")
def page() -> str:
    search = search_request()
    searching = bool(search.q.strip() or search.filters or search.dated)
    viewer = current_viewer()
    results = None
    if searching:
        session = db_session()
        response, items = search_visible(session, viewer, search)
        legs = legs_of_items(session, viewer, [hit.item_id for hit in response.items])
        results = ResultsPage([Result(hit, items[hit.item_id], legs.get(hit.item_id, [])) for hit in response.items],
                              response.total_items, response.page, response.per_page)
    else:  # the form, with the facets of everything the viewer may see as places to start
        response, _ = search_visible(db_session(), viewer, SearchRequest(per_page=1))
    return render_template("search.html", search=search, searching=searching, response=response,
                           results=results, facets=facet_blocks(request.args, search, response), sorts=SORTS,
                           dates=date_choices(request.args, search), search_url=search_url, hit_url=hit_url,
                           leg_url=leg_url, place_url=place_url)
