"""What a search asks and answers: plain dataclasses for the web pages, the API and the CLI.

    response = archive.index.search(SearchRequest(q="hyesan river", page=1, filters={"tag": ["border"]}),
                                    viewer)
    response.as_json()   # the shape of GET /api/search
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: Sort orders: name -> label. "relevance" ranks by score (newest first without a query).
SORTS: dict[str, str] = {
    "relevance": "Relevance",
    "date_shot": "Date shot, earliest first",
    "-date_shot": "Date shot, latest first",
}
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class SearchRequest:
    """One search. `filters` maps a facet name (see archive.search.FACETS) to the values to keep:
    values of one facet are alternatives (OR), different facets must all hold (AND).
    Out-of-range numbers are clamped, unknown facets and sorts ignored: a request never fails."""
    q: str = ""
    page: int = 1
    per_page: int = 20
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: str = "relevance"
    hits_per_item: int = 3  #: most segment hits listed under one item
    facet_limit: int = 20  #: most values listed per facet (the counts of those listed are exact)
    #: Items whose date shot (an interval when uncertain) overlaps from..to, either end open;
    #: with either set, items of unknown date are left out.
    date_from: date | None = None
    date_to: date | None = None

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    @classmethod
    def from_args(cls, args: Mapping[str, Any], *, default_per_page: int = 20,
                  max_per_page: int = MAX_PER_PAGE) -> SearchRequest:
        """From query-string arguments (q, page, per_page, sort, and a facet name per filter; a
        werkzeug MultiDict gives repeated facet parameters as several values)."""
        from archive.search.schema import FACET_NAMES

        def number(name: str, default: int) -> int:
            try:
                return int(str(args.get(name, "") or default).strip())
            except ValueError:
                return default

        filters: dict[str, list[str]] = {}
        for name in FACET_NAMES:
            getlist = getattr(args, "getlist", None)
            values = getlist(name) if getlist else args.get(name)
            if isinstance(values, str):
                values = [values]
            values = [str(v).strip() for v in values or () if str(v).strip()]
            if values:
                filters[name] = values
        return cls(q=str(args.get("q") or ""), page=max(1, number("page", 1)),
                   per_page=max(1, min(number("per_page", default_per_page), max_per_page)),
                   filters=filters, sort=str(args.get("sort") or "relevance"))


@dataclass(frozen=True)
class SegmentHit:
    """A matching transcript segment: link to the player at `start` seconds."""
    segment_id: int
    transcript_id: int
    start: float  #: seconds from the start of the media
    end: float  #: seconds from the start of the media
    snippet_html: str  #: escaped text with the matches in <mark>
    speaker: str = ""
    language: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class RangeHit:
    """A time range of the item whose tag matched: link to the player at `start` seconds."""
    range_id: int
    tag: str
    start: float  #: seconds from the start of the media
    end: float  #: seconds from the start of the media
    snippet_html: str = ""  #: the tag, escaped, with the matches in <mark>


@dataclass(frozen=True)
class ItemHit:
    """A matching item. `hits` is empty when the item matched on its title, description, tags or
    collection only; then `snippet_html` is the description's matching sentence, if it has one."""
    item_id: int
    title: str
    score: float
    hits: list[SegmentHit] = field(default_factory=list)
    snippet_html: str = ""  #: escaped text with the matches in <mark>
    ranges: list[RangeHit] = field(default_factory=list)  #: its time ranges whose tag matched, by start


@dataclass(frozen=True)
class CollectionHit:
    """A collection whose title, synopsis or description matched, if the viewer may know it (see
    archive.access.collection_filter: through an item they may see)."""
    collection_id: int
    title: str
    score: float
    snippet_html: str = ""


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int  #: matching items the viewer may see with this value


@dataclass
class SearchResponse:
    total_items: int
    items: list[ItemHit]
    facets: dict[str, list[FacetValue]]
    page: int = 1
    per_page: int = 20
    suggestion: str | None = None  #: a corrected query with visible results, for "did you mean"
    message: str | None = None  #: how the query was read, when it did not parse as written
    collections: list[CollectionHit] = field(default_factory=list)  #: first page only

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_items // self.per_page))

    def as_json(self) -> dict[str, Any]:
        """The JSON of GET /api/search (plus "message" and "collections", which clients may ignore)."""
        return {
            "total": self.total_items,
            "page": self.page,
            "per_page": self.per_page,
            "items": [{"id": i.item_id, "title": i.title, "score": round(i.score, 4), "snippet": i.snippet_html,
                       "hits": [{"start": h.start, "end": h.end, "snippet": h.snippet_html,
                                 "speaker": h.speaker, "language": h.language, "transcript_id": h.transcript_id}
                                for h in i.hits],
                       "ranges": [{"id": r.range_id, "tag": r.tag, "start": r.start, "end": r.end,
                                   "snippet": r.snippet_html} for r in i.ranges]}
                      for i in self.items],
            "facets": {name: [{"value": v.value, "count": v.count} for v in values]
                       for name, values in self.facets.items()},
            "suggestion": self.suggestion,
            "message": self.message,
            "collections": [{"id": c.collection_id, "title": c.title, "snippet": c.snippet_html}
                            for c in self.collections],
        }
