"""Finding items: the one way pages, the API and the CLI search, with the database's last word.

The index is a cache of the database and lags it by a commit (archive.services.search_sync), so
what it finds is confirmed here through the access policy before anything is counted or shown:
an item made confidential a moment ago is neither a hit nor a facet count for those who may no
longer see it.

    found = find_items(session, viewer, archive.index, SearchRequest(q="river"))
    found.response.total_items, found.response.facets["tag"], found.items[item_id]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Viewer, item_filter
from archive.models import Item, Segment
from archive.search import QueryTooDeep, SearchIndex, SearchRequest, SearchResponse, SegmentHit
from archive.services import Invalid
from archive.services.catalogue import get_item, items_by_id

#: Above this many ids, the visible ids are read whole and intersected instead of asked in chunks.
WHOLE_TABLE_FROM = 5000
CHUNK = 500  #: ids per IN (...) (SQLite allows 999 parameters by default in older builds)


@dataclass(frozen=True)
class FoundItems:
    response: SearchResponse  #: hits, totals, facets and suggestion: only what the database shows the viewer
    items: dict[int, Item]  #: the items of the page, loaded through the access policy, by id


def visible_item_ids(session: Session, viewer: Viewer, ids: Iterable[int]) -> set[int]:
    """The items among `ids` that `viewer` may see now, by the database (not the index)."""
    wanted = sorted(set(ids))
    if len(wanted) > WHOLE_TABLE_FROM:
        return set(session.scalars(select(Item.id).where(item_filter(viewer)))) & set(wanted)
    out: set[int] = set()
    for start in range(0, len(wanted), CHUNK):
        out.update(session.scalars(select(Item.id).where(item_filter(viewer),
                                                         Item.id.in_(wanted[start:start + CHUNK]))))
    return out


def find_items(session: Session, viewer: Viewer, index: SearchIndex, request: SearchRequest) -> FoundItems:
    """Search as `viewer`; every item counted (hits, totals, facets) is one the database shows them.

    A query nested past archive.search.MAX_DEPTH is refused with Invalid (field "q"), a 400.
    """
    try:
        response = index.search(request, viewer, confirm=lambda ids: visible_item_ids(session, viewer, ids))
    except QueryTooDeep as exc:
        raise Invalid(str(exc), field="q") from exc
    items = items_by_id(session, viewer, [hit.item_id for hit in response.items])
    kept = [hit for hit in response.items if hit.item_id in items]
    if len(kept) != len(response.items):  # only if the database changed between the two reads
        response = dataclasses.replace(response, items=kept,
                                       total_items=response.total_items - (len(response.items) - len(kept)))
    return FoundItems(response, items)


#: Most cues one search within an item answers (archive.search.hits checks at most 200 segments an item).
MAX_CUE_HITS = 200


def find_in_transcripts(session: Session, viewer: Viewer, index: SearchIndex, item_id: int,
                        q: str) -> tuple[list[SegmentHit], dict[int, str]]:
    """The cues of one item's transcripts that match `q`, by time, and their text by segment id, as `viewer`
    may see them (the IIIF Content Search answer): NotFound when they may not see the item.

    The same search as every other, narrowed to the one item by the database's confirmation, so
    only the search module knows its engine; the texts are read from the database, not the index."""
    item = get_item(session, viewer, item_id)
    if not q.strip():
        return [], {}

    def confirm(ids: Iterable[int]) -> set[int]:
        return visible_item_ids(session, viewer, [i for i in ids if i == item.id])

    try:
        response = index.search(SearchRequest(q=q, per_page=1, hits_per_item=MAX_CUE_HITS), viewer, confirm=confirm)
    except QueryTooDeep as exc:
        raise Invalid(str(exc), field="q") from exc
    own = {t.id for t in item.transcripts}
    hits = sorted((hit for found in response.items if found.item_id == item.id for hit in found.hits
                   if hit.transcript_id in own), key=lambda hit: (hit.start, hit.segment_id))
    texts = dict(session.execute(select(Segment.id, Segment.text).where(
        Segment.id.in_([hit.segment_id for hit in hits]))).all()) if hits else {}
    return [hit for hit in hits if hit.segment_id in texts], texts
