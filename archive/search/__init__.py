"""Full-text search of items, transcripts and collections (the only package that imports whoosh).

The index is a cache of the database: archive.services.search_sync keeps it in step and can
always rebuild it. Pages, the API and the CLI search through archive.services.search.find_items,
which asks the index:

    index = archive.index                                   # a SearchIndex (archive.search.contract)
    response = index.search(SearchRequest(q, page=1, per_page=20, filters={"tag": ["border"]},
                                          sort="relevance"), viewer)
    response.total_items, response.items[0].hits[0].start, response.facets["year"], response.suggestion
    response.as_json()                                     # {"total", "items": [...], "facets", "suggestion"}
    SearchRequest.from_args(request.args)                  # from a query string, never failing
    SearchRequest(date_from=date(2019, 1, 1), date_to=None)  # date shot overlapping (see archive.services.filters)
    response.items[0].snippet_html, response.items[0].ranges  # the description's sentence; tagged time ranges

The engine behind archive.index is chosen by the `search_engine` setting (SearchEngine): whoosh
(archive.search.index.WhooshIndex, files in the data root) or postgresql
(archive.search.pg_index.PostgresIndex, tables in the catalogue database). Query language: see
archive.search.query. Facets and searchable fields: archive.search.schema.FACETS.
"""

from archive.search.api import (MAX_PER_PAGE, SORTS, CollectionHit, FacetValue, ItemHit, RangeHit, SearchRequest,
                                SearchResponse, SegmentHit)
from archive.search.documents import CollectionDoc, ItemDoc, RangeDoc, SegmentDoc, TranscriptDoc, ValueGuard
from archive.search.contract import IndexBusy, IndexVersions, SearchEngine, SearchIndex
from archive.search.index import WhooshIndex
from archive.search.query import MAX_DEPTH, QueryTooDeep
from archive.search.schema import FACETS, QUERY_FIELDS, Facet

__all__ = ["CollectionDoc", "CollectionHit", "FACETS", "Facet", "FacetValue", "IndexBusy", "IndexVersions",
           "ItemDoc", "ItemHit", "MAX_DEPTH", "MAX_PER_PAGE", "QueryTooDeep", "RangeDoc", "RangeHit", "QUERY_FIELDS",
           "SORTS", "SearchEngine", "SearchIndex", "SearchRequest", "SearchResponse", "SegmentDoc", "SegmentHit",
           "TranscriptDoc", "ValueGuard", "WhooshIndex"]
