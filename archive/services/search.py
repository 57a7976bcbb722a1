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
from archive.models import Item
from archive.search import QueryTooDeep, SearchIndex, SearchRequest, SearchResponse
from archive.services import Invalid
from archive.services.catalogue import items_by_id

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
