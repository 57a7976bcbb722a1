"""Which items an export takes: a collection, a journey, a browse listing, a search, or the whole
archive, always only those the exporting viewer may see.

Every format (bags, PBCore, CSV...) selects through here, so that "the items of a search" means one
thing for all of them, and no export can reach an item its viewer could not open.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Viewer, collection_filter, item_filter, journey_filter
from archive.models import Collection, Item, Journey, Leg, item_legs
from archive.search import SearchIndex, SearchRequest
from archive.search.api import MAX_PER_PAGE
from archive.services import NotFound
from archive.services.catalogue import ItemQuery, matching_item_ids
from archive.services.search import find_items as search_items


@dataclass(frozen=True)
class Selection:
    """At most one of the four; none: every item the viewer may see."""
    collection_id: int | None = None
    journey_id: int | None = None
    search: SearchRequest | None = None
    browse: ItemQuery | None = None

    def describe(self) -> str:
        """In words, for a package's description: "collection 3", "the search 'river'"..."""
        if self.collection_id is not None:
            return f"collection {self.collection_id}"
        if self.journey_id is not None:
            return f"journey {self.journey_id}"
        if self.search is not None:
            return f"the items found by the search {self.search.q!r}" if self.search.q else "the items of a search"
        if self.browse is not None:
            return "the items of a browse listing"
        return "the whole archive"


def selected_item_ids(session: Session, viewer: Viewer, index: SearchIndex, selection: Selection) -> list[int]:
    """The ids of the items `selection` takes that `viewer` may see, in the selection's own order
    (search: by relevance; browse: its sort; otherwise by id). A collection or journey the viewer may
    not see is NotFound, as its page would be."""
    if selection.collection_id is not None:
        if session.scalar(select(Collection.id).where(Collection.id == selection.collection_id,
                                                      collection_filter(viewer))) is None:
            raise NotFound(f"collection {selection.collection_id}")
        return list(session.scalars(select(Item.id).where(item_filter(viewer),
                                                          Item.collection_id == selection.collection_id)
                                    .order_by(Item.id)))
    if selection.journey_id is not None:
        if session.scalar(select(Journey.id).where(Journey.id == selection.journey_id,
                                                   journey_filter(viewer))) is None:
            raise NotFound(f"journey {selection.journey_id}")
        on_legs = (select(item_legs.c.item_id).join(Leg, Leg.id == item_legs.c.leg_id)
                   .where(Leg.journey_id == selection.journey_id))
        return list(session.scalars(select(Item.id).where(item_filter(viewer), Item.id.in_(on_legs))
                                    .order_by(Item.id)))
    if selection.search is not None:
        return _searched_ids(session, viewer, index, selection.search)
    if selection.browse is not None:
        return matching_item_ids(session, viewer, selection.browse)
    return list(session.scalars(select(Item.id).where(item_filter(viewer)).order_by(Item.id)))


def _searched_ids(session: Session, viewer: Viewer, index: SearchIndex, request: SearchRequest) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        found = search_items(session, viewer, index,
                             dataclasses.replace(request, page=page, per_page=MAX_PER_PAGE, hits_per_item=1))
        ids.extend(hit.item_id for hit in found.response.items)
        if not found.response.items or len(ids) >= found.response.total_items:
            return ids
        page += 1
