"""Reading the catalogue: items, collections and tags, always through the access policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import Select, extract, func, select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, item_filter
from archive.models import Collection, Credit, Item, ItemKind, MediaFile, Tag, item_tags
from archive.search import FacetValue
from archive.services import Invalid, NotFound, Paginated
from archive.services.item_filters import count_facets, filter_clauses, parse_filters

SortKey = Literal["newest", "oldest", "title", "date_shot", "-date_shot"]
SORTS: dict[str, str] = {
    "newest": "Recently added",
    "oldest": "First added",
    "title": "Title A–Z",
    "date_shot": "Date shot, earliest first",
    "-date_shot": "Date shot, latest first",
}

#: Largest page, collection id or page size accepted in a query (a signed 32-bit integer).
MAX_PARAMETER = 2**31 - 1


@dataclass(frozen=True)
class ItemQuery:
    """Filters of the browse page and the API, already validated."""
    kind: ItemKind | None = None
    collection_id: int | None = None
    tag: str | None = None
    year: int | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = 24
    #: facet -> values, as search's filters (archive.services.item_filters.BROWSE_FACETS)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: items whose date shot (an interval when uncertain) overlaps from..to; undated ones left out
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class ItemPage(Paginated):
    items: list[Item]
    total: int
    page: int
    per_page: int
    query: ItemQuery = field(default_factory=ItemQuery)
    #: facet -> its values' counts among the visible items (only when asked for: find_items(facets=True))
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


def parse_item_query(args: Mapping[str, str], *, default_per_page: int, max_per_page: int) -> ItemQuery:
    """Validate browse/API parameters; raise Invalid naming the parameter on a bad value."""
    def integer(name: str, minimum: int = 1, maximum: int | None = MAX_PARAMETER) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(f"{name} must be a whole number, not {raw!r}", name) from None
        if value < minimum:
            raise Invalid(f"{name} must be at least {minimum}", name)
        if maximum is not None and value > maximum:  # larger ones overflow the database's integers
            raise Invalid(f"{name} must be at most {maximum}", name)
        return value

    filters, date_from, date_to = parse_filters(args)  # kind too: repeated, its values are alternatives
    sort = (args.get("sort") or "newest").strip()
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", "sort")
    year = integer("year", maximum=None)
    if year is not None and year > 9999:
        raise Invalid("year must have at most four digits", "year")
    per_page = integer("per_page", maximum=None) or default_per_page  # clamped below, never refused
    return ItemQuery(filters=filters, date_from=date_from, date_to=date_to, collection_id=integer("collection"), tag=(args.get("tag") or "").strip() or None,
                     year=year, sort=sort, page=integer("page") or 1,
                     per_page=min(per_page, max_per_page))


def visible_items(viewer: Viewer) -> Select[tuple[Item]]:
    """Every query for items starts here, so that none forgets the access policy."""
    return select(Item).where(item_filter(viewer))


def _filtered(viewer: Viewer, q: ItemQuery, *, skip: str | None = None) -> Select[tuple[Item]]:
    """The visible items matching `q`, without the filter of facet `skip` (to count its other values)."""
    stmt = visible_items(viewer).where(*filter_clauses(viewer, q.filters, skip=skip))
    if q.kind:
        stmt = stmt.where(Item.kind == q.kind)
    if q.collection_id:
        stmt = stmt.where(Item.collection_id == q.collection_id)
    if q.tag:
        stmt = stmt.where(Item.tags.any(Tag.name == q.tag))
    if q.year:
        # An uncertain date counts in every year it may fall in.
        stmt = stmt.where(Item.date_lower <= date(q.year, 12, 31),
                          func.coalesce(Item.date_upper, Item.date_lower) >= date(q.year, 1, 1))
    if q.date_from is not None:
        stmt = stmt.where(func.coalesce(Item.date_upper, Item.date_lower) >= q.date_from)
    if q.date_to is not None:
        stmt = stmt.where(Item.date_lower <= q.date_to)
    return stmt


_ORDER = {
    "newest": (Item.created_at.desc(), Item.id.desc()),
    "oldest": (Item.created_at.asc(), Item.id.asc()),
    "title": (Item.title.asc(), Item.id.asc()),
    "date_shot": (Item.date_lower.is_(None), Item.date_lower.asc(), Item.id.asc()),
    "-date_shot": (Item.date_lower.is_(None), Item.date_lower.desc(), Item.id.desc()),
}


def find_items(session: Session, viewer: Viewer, q: ItemQuery, *, facets: bool = False) -> ItemPage:
    """One page of the items `viewer` may see that match `q`; with `facets`, the counts of every
    browse facet's values among them (never counting what `viewer` may not see)."""
    stmt = _filtered(viewer, q)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(Item.media_files).selectinload(MediaFile.derivatives),
                     selectinload(Item.collection), selectinload(Item.tags))
        .order_by(*_ORDER[q.sort]).limit(q.per_page).offset((q.page - 1) * q.per_page)
    ).all()
    counts = count_facets(session, viewer, lambda skip: _filtered(viewer, q, skip=skip).with_only_columns(Item.id),
                          q.filters) if facets else {}
    return ItemPage(list(rows), total, q.page, q.per_page, q, counts)


def matching_item_ids(session: Session, viewer: Viewer, q: ItemQuery) -> list[int]:
    """The ids of every item `viewer` may see that match `q`, in its sort order, on every page."""
    return list(session.scalars(_filtered(viewer, q).with_only_columns(Item.id).order_by(*_ORDER[q.sort])))


def get_item(session: Session, viewer: Viewer, item_id: int) -> Item:
    """The item, or NotFound when it does not exist or `viewer` may not see it."""
    item = session.scalar(visible_items(viewer).where(Item.id == item_id).options(
        selectinload(Item.media_files).selectinload(MediaFile.derivatives),
        selectinload(Item.credits).selectinload(Credit.person), selectinload(Item.tags),
        selectinload(Item.collection), selectinload(Item.jobs)))
    if item is None:
        raise NotFound(f"item {item_id}")
    return item


def get_visible_media(session: Session, viewer: Viewer, sha256: str) -> MediaFile:
    """A stored file by checksum, if `viewer` may see the item it belongs to."""
    media = session.scalar(select(MediaFile).join(Item).where(MediaFile.sha256 == sha256, item_filter(viewer))
                           .options(selectinload(MediaFile.derivatives)))
    if media is None:
        raise NotFound(f"file {sha256}")
    return media


def list_collections(session: Session, viewer: Viewer) -> list[tuple[Collection, int]]:
    """Collections with the number of their items that `viewer` may see."""
    counts = (select(Item.collection_id, func.count().label("n")).where(item_filter(viewer))
              .group_by(Item.collection_id).subquery())
    rows = session.execute(
        select(Collection, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.collection_id == Collection.id)
        .order_by(Collection.year.desc().nulls_last(), Collection.title)
    ).all()
    return [(c, n) for c, n in rows]


def get_collection(session: Session, collection_id: int) -> Collection:
    collection = session.scalar(select(Collection).where(Collection.id == collection_id).options(
        selectinload(Collection.credits).selectinload(Credit.person)))
    if collection is None:
        raise NotFound(f"collection {collection_id}")
    return collection


def get_or_create_collection(session: Session, title: str) -> tuple[Collection, bool]:
    title = title.strip()
    if not title:
        raise Invalid("a collection needs a title", "collection")
    found = session.scalar(select(Collection).where(Collection.title == title))
    if found:
        return found, False
    collection = Collection(title=title)
    session.add(collection)
    session.flush()
    return collection, True


def tag_counts(session: Session, viewer: Viewer, limit: int = 100) -> list[tuple[str, int]]:
    """Tags with how many visible items carry them, most used first."""
    # Counted by tag id over item_tags and items alone, then named: grouping the joined rows by name
    # took twice as long (21,000 rows at 10,000 items).
    counts = (select(item_tags.c.tag_id, func.count().label("n")).join(Item, Item.id == item_tags.c.item_id)
              .where(item_filter(viewer)).group_by(item_tags.c.tag_id).subquery())
    rows = session.execute(
        select(Tag.name, counts.c.n).join(counts, counts.c.tag_id == Tag.id)
        .order_by(counts.c.n.desc(), Tag.name).limit(limit)
    ).all()
    return [(name, n) for name, n in rows]


def year_range(session: Session, viewer: Viewer) -> list[int]:
    """The years in which visible items were shot, for the browse page's year filter."""
    rows = session.execute(select(extract("year", Item.date_lower), extract("year", Item.date_upper))
                           .where(item_filter(viewer), Item.date_lower.is_not(None)).distinct()).all()
    years: set[int] = set()
    for low, high in rows:
        low = int(low)
        high = int(high) if high is not None else low
        years.update(range(low, min(high, low + 50) + 1))
    return sorted(years, reverse=True)


def recent_items(session: Session, viewer: Viewer, limit: int = 12) -> list[Item]:
    return find_items(session, viewer, ItemQuery(per_page=limit)).items


def items_by_id(session: Session, viewer: Viewer, ids: Iterable[int]) -> dict[int, Item]:
    """The items among `ids` that `viewer` may see, by id, with what a result list shows, in one query.

    Ids of items they may not see (or that are gone) are simply absent from the answer.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(visible_items(viewer).where(Item.id.in_(wanted)).options(
        selectinload(Item.media_files).selectinload(MediaFile.derivatives), selectinload(Item.collection)))
    return {item.id: item for item in rows}
