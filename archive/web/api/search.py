"""/api/v1/search: full-text search over the catalogue and what is said in the footage."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field, create_model

from archive.search import SORTS
from archive.search.schema import FACET_NAMES
from archive.services.locations import legs_of_items
from archive.web.api.models import Id, PageQuery, Text, next_page_url
from archive.web.api.operations import operation, reply
from archive.web.context import current_viewer, db_session
from archive.web.search import search_request, search_visible


class _SearchBase(PageQuery):
    q: Text = Field("", max_length=1000, description="Words, \"phrases\", field:value, AND/OR/NOT.")
    sort: Literal[tuple(SORTS)] = "relevance"  # type: ignore[valid-type]
    date_from: Text | None = Field(None, alias="from", max_length=100, description="Shot on or after (EDTF).")
    date_to: Text | None = Field(None, alias="to", max_length=100, description="Shot on or before (EDTF).")


#: The query: q, sort, dates, and one repeatable parameter per facet (values of one facet are alternatives).
SearchQuery = create_model(  # type: ignore[call-overload]
    "SearchQuery", __base__=_SearchBase,
    **{name: (list[Text], Field(default_factory=list, max_length=50)) for name in FACET_NAMES})


class SegmentHit(BaseModel):
    start: float
    end: float
    snippet: str = Field(description="HTML: escaped text with the matches in <mark>.")
    speaker: str
    language: str
    transcript_id: int


class RangeHit(BaseModel):
    id: int
    tag: str
    start: float
    end: float
    snippet: str


class ItemLeg(BaseModel):
    journey_id: int
    journey: str
    leg: int
    from_: str = Field(alias="from")
    to: str
    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class SearchHit(BaseModel):
    id: Id
    title: str
    score: float
    snippet: str
    hits: list[SegmentHit]
    ranges: list[RangeHit]
    legs: list[ItemLeg]


class FacetValue(BaseModel):
    value: str
    count: int


class CollectionHit(BaseModel):
    id: int
    title: str
    snippet: str


class SearchPage(BaseModel):
    """A page of results in the API's pagination shape, with the facets of all of them."""
    items: list[SearchHit]
    total: int
    page: int
    per_page: int
    next: str | None
    facets: dict[str, list[FacetValue]]
    suggestion: str | None
    message: str | None
    collections: list[CollectionHit]


@operation("GET", "/search", summary="Search", tag="search", query=SearchQuery, response=SearchPage)
def search(query: BaseModel) -> Response:
    """Items whose catalogue, transcripts or time ranges match, with facet counts; with neither q nor
    filters, every item the viewer may see, newest first."""
    del query  # checked; archive.services.filters reads the same parameters, repeated facets included
    session, viewer = db_session(), current_viewer()
    response, _ = search_visible(session, viewer, search_request())
    body = response.as_json()
    legs = legs_of_items(session, viewer, [hit.item_id for hit in response.items])
    for item in body["items"]:
        item["legs"] = [leg.as_json() for leg in legs.get(item["id"], [])]
    body["next"] = next_page_url(body["page"], body["per_page"], body["total"])
    return reply(SearchPage.model_validate(body))

