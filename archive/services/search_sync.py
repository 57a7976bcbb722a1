"""Keeping the search index in step with the database (the index is a cache of it).

1. Every flush that changes what search shows (an item's fields, tags, access, trash, its
   collection's title, its transcripts and segments; a collection's texts) writes SearchOutbox
   rows in the same transaction, from listeners the Archive puts on its sessionmaker
   (`keep_in_step`): no service can forget, and a rolled-back change queues nothing.
2. After the commit, the session's archive (`session.info["archive"]`) takes the outbox rows,
   rewrites those documents under the index's write lock, and deletes the rows only once the
   index commit is done. This runs at the edge's commit, so every caller (web, CLI, demo,
   ingest) gets it without remembering; `sync_index(archive)` does the same explicitly.
3. A crash between the database commit and the index write leaves rows in the outbox: the next
   `Archive.open`, the next commit that syncs, or `crossings index check --fix` processes them.
   `check_index` compares a fingerprint of every item with the version its document was
   indexed at, so drift from any other cause is found too; `rebuild_index` makes a new index.

Reading the outbox and the documents happens inside the index lock, in one database
snapshot: whoever writes last has read the newest committed state, so no update is lost.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from archive import db
from archive.access import Viewer, can_see
from archive.models import (AccessLevel, Collection, Country, Item, Journey, Leg, Place, Role, SearchOutbox, Segment,
                            Tag, TimeRange, Transcript, item_leg_links, item_place_links, item_tags)
from archive.search import CollectionDoc, ItemDoc, RangeDoc, SegmentDoc, TranscriptDoc, ValueGuard
from archive.search.pg_index import PostgresIndex
from archive.services import harvest_log

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

#: The item columns its search documents are made from: read, fingerprinted and watched from this
#: one list (an ItemDoc field of another name, as languages from language, is filled in load_item_docs).
ITEM_COLUMNS = ("title", "description", "kind", "date_shot", "date_lower", "date_upper", "creator", "language",
                "access", "collection_id")
#: Item columns whose change rewrites the item's search documents (or, for deleted_at, removes them).
INDEXED_ITEM_FIELDS = (*ITEM_COLUMNS, "deleted_at")
#: Collection columns indexed: CollectionDoc's fields, which are named as the columns (all but id and
#: version). Watched, read and fingerprinted from this one list.
INDEXED_COLLECTION_FIELDS = tuple(f.name for f in dataclasses.fields(CollectionDoc) if f.name not in ("id", "version"))
#: Place, journey and time range columns whose change rewrites the documents of the items they concern.
INDEXED_PLACE_FIELDS = ("name", "alt_names", "country_code", "access")
INDEXED_JOURNEY_FIELDS = ("title", "access", "collection_id")
INDEXED_RANGE_FIELDS = ("place_id", "leg_id", "item_id", "tag_id", "start_sec", "end_sec")
#: Seconds a commit waits for another writer (a rebuild) before leaving its changes in the outbox.
COMMIT_WAIT = 30.0
BATCH = 200  #: items read and written per index commit when syncing or rebuilding


# -- 1. the outbox, written from flushes ------------------------------------------------------

def _changed(obj: Any, names: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _in_transaction(session: Session) -> PostgresIndex | None:
    """The archive's index, when it is written in the catalogue's own transaction (the postgresql
    engine) and this session does not defer indexing; else None (the outbox)."""
    archive = session.info.get("archive")
    if archive is None or not getattr(archive, "index_on_commit", True) or session.info.get("defer_index") \
            or archive.settings["search_engine"] != "postgresql":
        return None
    index = archive.index
    return index if isinstance(index, PostgresIndex) else None


def _queue(session: Session, items: set[int], collections: set[int]) -> None:
    items.discard(None)  # type: ignore[arg-type]
    collections.discard(None)  # type: ignore[arg-type]
    # What changes a search document changes the item's catalogue record too: the OAI-PMH harvest
    # log (archive.services.harvest_log) moves its datestamps on from the same finding.
    harvest_log.note_changed(session, items, collections)
    if (items or collections) and _in_transaction(session) is not None:
        session.info.setdefault("search_in_tx_items", set()).update(items)
        session.info.setdefault("search_in_tx_collections", set()).update(collections)
        return
    _write_outbox(session, items, collections)


def _write_outbox(session: Session, items: set[int], collections: set[int]) -> None:
    rows = ([{"object_type": "item", "object_id": i} for i in sorted(items)]
            + [{"object_type": "collection", "object_id": c} for c in sorted(collections)])
    if rows:
        session.connection().execute(insert(SearchOutbox), rows)
        session.info["search_pending"] = True


def _items_of_collections(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.connection().scalars(select(Item.id).where(Item.collection_id.in_(sorted(ids)))))


def _items_of_tags(session: Session, ids: set[int]) -> set[int]:
    """Items carrying these tags, themselves or on a time range."""
    if not ids:
        return set()
    wanted = sorted(ids)
    return set(session.connection().scalars(select(item_tags.c.item_id).where(item_tags.c.tag_id.in_(wanted)))) | set(
        session.connection().scalars(select(TimeRange.item_id).where(TimeRange.tag_id.in_(wanted))))


def _items_of_places(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    links = item_place_links()
    return set(session.connection().scalars(select(links.c.item_id).where(links.c.place_id.in_(sorted(ids)))))


def _items_of_legs(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    links = item_leg_links()
    return set(session.connection().scalars(select(links.c.item_id).where(links.c.leg_id.in_(sorted(ids)))))


def _items_of_journeys(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    legs = set(session.connection().scalars(select(Leg.id).where(Leg.journey_id.in_(sorted(ids)))))
    return _items_of_legs(session, legs)


def _ids(objects: Iterable[Any], kind: type) -> set[int]:
    return {o.id for o in objects if isinstance(o, kind) and o.id is not None}


def _linked_items(obj: Any) -> set[int]:
    """Items added to or taken from a place's or a leg's `items` (the other side of Item.places/legs)."""
    history = inspect(obj).attrs.items.history
    return {i.id for i in (*history.added, *history.deleted) if i.id is not None}


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # Deleting a collection, a tag, a place, a leg or a journey changes its items through the
    # database's ON DELETE: note them first.
    gone = session.deleted
    noted_now = (_items_of_collections(session, _ids(gone, Collection)) | _items_of_tags(session, _ids(gone, Tag))
                 | _items_of_places(session, _ids(gone, Place)) | _items_of_legs(session, _ids(gone, Leg))
                 | _items_of_journeys(session, _ids(gone, Journey)))
    if noted_now:
        noted = session.info.setdefault("search_noted_items", set())
        noted |= noted_now


def _after_flush(session: Session, _context: Any) -> None:
    items: set[int] = set(session.info.pop("search_noted_items", ()))
    collections: set[int] = set()
    renamed_collections: set[int] = set()
    renamed_tags: set[int] = set()
    renamed_places: set[int] = set()
    renamed_journeys: set[int] = set()
    moved_legs: set[int] = set()
    transcript_items: dict[int, int] = {}
    segment_transcripts: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Transcript):
            transcript_items[obj.id] = obj.item_id
    for obj in (*session.new, *session.deleted):  # made or gone: its documents change whatever the fields
        if isinstance(obj, Item):
            items.add(obj.id)
        elif isinstance(obj, Collection):
            collections.add(obj.id)
        elif isinstance(obj, Transcript):
            items.add(obj.item_id)
        elif isinstance(obj, Segment):
            segment_transcripts.add(obj.transcript_id)
        elif isinstance(obj, TimeRange):  # its tag is a hit of the item, its place a facet
            items.add(obj.item_id)
    for obj in session.dirty:
        if isinstance(obj, Item):
            if _changed(obj, (*INDEXED_ITEM_FIELDS, "tags", "places", "legs")):
                items.add(obj.id)
        elif isinstance(obj, Place):
            if _changed(obj, INDEXED_PLACE_FIELDS):
                renamed_places.add(obj.id)
            if _changed(obj, ("items",)):
                items |= _linked_items(obj)
        elif isinstance(obj, Journey):
            if _changed(obj, INDEXED_JOURNEY_FIELDS):
                renamed_journeys.add(obj.id)
        elif isinstance(obj, Leg):
            if _changed(obj, ("journey_id",)):
                moved_legs.add(obj.id)
            if _changed(obj, ("items",)):
                items |= _linked_items(obj)
        elif isinstance(obj, TimeRange):
            if _changed(obj, (*INDEXED_RANGE_FIELDS, "tag")):
                items.add(obj.item_id)
                items.update(v for v in inspect(obj).attrs.item_id.history.deleted if v)
        elif isinstance(obj, Collection):
            if _changed(obj, INDEXED_COLLECTION_FIELDS):
                collections.add(obj.id)
                if _changed(obj, ("title",)):
                    renamed_collections.add(obj.id)
        elif isinstance(obj, Tag):
            if _changed(obj, ("name",)):
                renamed_tags.add(obj.id)
        elif isinstance(obj, Transcript):
            if session.is_modified(obj, include_collections=True):
                items.add(obj.item_id)
                if _changed(obj, ("item_id",)):
                    items.update(v for v in inspect(obj).attrs.item_id.history.deleted if v)
        elif isinstance(obj, Segment):
            if session.is_modified(obj):
                segment_transcripts.add(obj.transcript_id)
    unknown = {t for t in segment_transcripts if t is not None and t not in transcript_items}
    if unknown:
        for transcript_id, item_id in session.connection().execute(
                select(Transcript.id, Transcript.item_id).where(Transcript.id.in_(sorted(unknown)))):
            transcript_items[transcript_id] = item_id
    items.update(transcript_items[t] for t in segment_transcripts if t in transcript_items)
    items |= _items_of_collections(session, renamed_collections) | _items_of_tags(session, renamed_tags)
    items |= (_items_of_places(session, renamed_places) | _items_of_journeys(session, renamed_journeys)
              | _items_of_legs(session, moved_legs))
    _queue(session, items, collections)


def _bulk_statement(state: Any) -> None:
    # update(Item).where(...) and delete(...) bypass flushes: queue the rows they are about to touch.
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_arguments.get("mapper")
    entity = mapper.class_ if mapper is not None else None
    where = state.statement.whereclause
    session = state.session
    if entity is Item:
        items = set(session.scalars(select(Item.id).where(where) if where is not None else select(Item.id)))
        _queue(session, items, set())
    elif entity is Transcript:
        stmt = select(Transcript.item_id)
        _queue(session, set(session.scalars(stmt.where(where) if where is not None else stmt)), set())
    elif entity is Segment:
        stmt = select(Transcript.item_id).join(Segment, Segment.transcript_id == Transcript.id)
        _queue(session, set(session.scalars(stmt.where(where) if where is not None else stmt)), set())
    elif entity is Collection:
        ids = set(session.scalars(select(Collection.id).where(where) if where is not None else select(Collection.id)))
        _queue(session, _items_of_collections(session, ids), ids)
    elif entity is Tag:
        ids = set(session.scalars(select(Tag.id).where(where) if where is not None else select(Tag.id)))
        _queue(session, _items_of_tags(session, ids), set())
    elif entity in (Place, Leg, Journey):
        ids = set(session.scalars(select(entity.id).where(where) if where is not None else select(entity.id)))
        of = {Place: _items_of_places, Leg: _items_of_legs, Journey: _items_of_journeys}[entity]
        _queue(session, of(session, ids), set())
    elif entity is TimeRange:
        stmt = select(TimeRange.item_id)
        _queue(session, set(session.scalars(stmt.where(where) if where is not None else stmt)), set())


def _before_commit(session: Session) -> None:
    """The postgresql engine: index the transaction's changes in it, just before it commits."""
    index = _in_transaction(session)
    if index is None:
        return
    session.flush()  # before_commit comes before the commit's own flush: the last changes name documents too
    if not (session.info.get("search_in_tx_items") or session.info.get("search_in_tx_collections")):
        return
    items = session.info.pop("search_in_tx_items", set())
    collections = session.info.pop("search_in_tx_collections", set())
    conn = session.connection()
    if not index.hold_for_transaction(conn, items, collections):
        _write_outbox(session, items, collections)  # a rebuild or a sync holds the index: it takes them after
        return
    docs, gone = load_item_docs(session, items)
    collection_docs, gone_collections = load_collection_docs(session, collections)
    index.write(conn, docs, delete_items=gone, collections=collection_docs, delete_collections=gone_collections)


def _after_commit(session: Session) -> None:
    if not session.info.pop("search_pending", False):
        return
    archive = session.info.get("archive")
    if archive is None or not getattr(archive, "index_on_commit", True) or session.info.get("defer_index"):
        return  # the outbox keeps the change; whoever deferred it calls sync_index
    try:
        sync_index(archive, timeout=COMMIT_WAIT)
    except Exception:  # the change is committed and its outbox rows stay: the next sync does it
        log.exception("could not update the search index after a commit; the change waits in the outbox")


def _after_rollback(session: Session) -> None:
    for key in ("search_pending", "search_noted_items", "search_in_tx_items", "search_in_tx_collections"):
        session.info.pop(key, None)



#: The Session events that write the outbox and sync after the commit, with their listeners.
_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("before_flush", _before_flush), ("after_flush", _after_flush), ("do_orm_execute", _bulk_statement),
    ("before_commit", _before_commit), ("after_commit", _after_commit), ("after_rollback", _after_rollback))


def keep_in_step(sessions: sessionmaker[Session]) -> None:
    """Watch the sessions `sessions` makes: their changes queue outbox rows, their commits sync the index.

    The Archive calls it on its own sessionmaker, so sessions of any other engine (another archive,
    a script's own Session) are left alone. Calling it again on the same sessionmaker does nothing.
    """
    for name, listener in _LISTENERS:
        db.listen_once(sessions, name, listener)


# -- 2. documents from the database ------------------------------------------------------------

def _languages(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _plain(value: Any) -> Any:
    """An enum column's value as stored (so that a fingerprint is the same whichever way it was read)."""
    return value.value if isinstance(value, enum.Enum) else value


def _digest(*parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:16]


def _item_rows(session: Session, ids: list[int] | None) -> list[Any]:
    stmt = (select(Item.id, *(getattr(Item, name) for name in ITEM_COLUMNS),
                   Collection.title.label("collection_title"))
            .outerjoin(Collection, Collection.id == Item.collection_id)
            .where(Item.deleted_at.is_(None)).order_by(Item.id))
    if ids is not None:
        stmt = stmt.where(Item.id.in_(ids))
    return list(session.execute(stmt))


def _tags(session: Session, ids: list[int] | None) -> dict[int, list[str]]:
    stmt = select(item_tags.c.item_id, Tag.name).join(Tag, Tag.id == item_tags.c.tag_id)
    if ids is not None:
        stmt = stmt.where(item_tags.c.item_id.in_(ids))
    out: dict[int, list[str]] = defaultdict(list)
    for item_id, name in session.execute(stmt):
        out[item_id].append(name)
    return out


def _ranges(session: Session, ids: list[int] | None) -> dict[int, list[RangeDoc]]:
    """Time ranges by item, by start, each with its tag's name."""
    stmt = (select(TimeRange.id, TimeRange.item_id, Tag.name, TimeRange.start_sec, TimeRange.end_sec)
            .join(Tag, Tag.id == TimeRange.tag_id)
            .order_by(TimeRange.item_id, TimeRange.start_sec, TimeRange.end_sec, TimeRange.id))
    if ids is not None:
        stmt = stmt.where(TimeRange.item_id.in_(ids))
    out: dict[int, list[RangeDoc]] = defaultdict(list)
    for range_id, item_id, tag, start, end in session.execute(stmt):
        out[item_id].append(RangeDoc(range_id, tag, start, end))
    return out


def _transcript_rows(session: Session, ids: list[int] | None) -> dict[int, list[Any]]:
    """Transcripts by item, with a summary of their segments (for fingerprints)."""
    summary = (select(Segment.transcript_id, func.count(Segment.id).label("n"), func.max(Segment.id).label("last"),
                      func.sum(func.length(Segment.text)).label("chars"),
                      func.sum(Segment.start_sec + Segment.end_sec).label("times"))
               .group_by(Segment.transcript_id).subquery())
    stmt = (select(Transcript.id, Transcript.item_id, Transcript.language, Transcript.kind, Transcript.updated_at,
                   summary.c.n, summary.c.last, summary.c.chars, summary.c.times)
            .outerjoin(summary, summary.c.transcript_id == Transcript.id).order_by(Transcript.id))
    if ids is not None:
        stmt = stmt.where(Transcript.item_id.in_(ids))
    out: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(stmt):
        out[row.item_id].append(row)
    return out


# -- where an item was shot: places, countries and journeys as facets -----------------------------

@dataclass
class _Whereabouts:
    """The place, country and journey facets of one item, with other names and guards (see ItemDoc)."""
    facets: dict[str, list[str]] = field(default_factory=dict)
    #: facet -> value -> (other name, given by a link open to all the item's viewers)
    aliases: dict[str, dict[str, list[tuple[str, bool]]]] = field(default_factory=dict)
    #: facet -> value -> guards of each link giving it; None once a link is open to all the item's viewers
    guards: dict[str, dict[str, set[ValueGuard] | None]] = field(default_factory=dict)

    def add(self, facet: str, value: str, guard: ValueGuard, open_: bool, aliases: Iterable[str] = ()) -> None:
        values = self.facets.setdefault(facet, [])
        if value not in values:
            values.append(value)
        names = self.aliases.setdefault(facet, {}).setdefault(value, [])
        names += [(a, open_) for a in aliases if a and a != value and (a, open_) not in names]
        by_value = self.guards.setdefault(facet, {})
        if open_:
            by_value[value] = None
        elif value not in by_value:
            by_value[value] = {guard}
        elif by_value[value] is not None:
            by_value[value].add(guard)  # type: ignore[union-attr]

    def _aliases(self, facet: str, value: str) -> list[str]:
        """Other names of an open value come from its open links only: a hidden place that shares a
        public one's name must not lend it its other names."""
        guarded = self.guards[facet][value] is not None
        return sorted({a for a, open_ in self.aliases[facet][value] if open_ or guarded})

    def doc_fields(self) -> dict[str, Any]:
        """ItemDoc's facets, facet_aliases and facet_guards, in a stable order (they feed the fingerprint)."""
        return {
            "facets": {name: sorted(values, key=str.casefold) for name, values in sorted(self.facets.items())},
            "facet_aliases": {name: {v: names for v in sorted(by_value) if (names := self._aliases(name, v))}
                              for name, by_value in sorted(self.aliases.items())},
            "facet_guards": {name: {v: sorted(g, key=repr) for v, g in sorted(by_value.items()) if g is not None}
                             for name, by_value in sorted(self.guards.items())},
        }


def _viewers_to_try(*collections: int | None) -> Iterator[Viewer]:
    """A viewer of every role with every grant that matters to the access rules of these collections."""
    known = sorted({c for c in collections if c is not None})
    grant_sets = {frozenset(), frozenset(known)} | {frozenset([c]) for c in known}
    for role in Role:
        for grants in grant_sets:
            yield Viewer(role=role, granted_collections=grants)


class _ItemLike:
    """What archive.access.can_see reads of an item."""
    __slots__ = ("access", "collection_id", "deleted_at")

    def __init__(self, access: AccessLevel, collection_id: int | None) -> None:
        self.access, self.collection_id, self.deleted_at = access, collection_id, None


_open_cache: dict[tuple[AccessLevel, int | None, ValueGuard], bool] = {}


def _open_to_item_viewers(access: AccessLevel, collection_id: int | None, guard: ValueGuard) -> bool:
    """May everyone who may see the item know what `guard` guards? Asked of the access policy itself,
    with a viewer of each role and each grant that matters (the rules depend on nothing else)."""
    key = (access, collection_id, guard)
    found = _open_cache.get(key)
    if found is None:
        item = _ItemLike(access, collection_id)
        found = all(guard.allows(v) for v in _viewers_to_try(collection_id, guard.collection_id)
                    if can_see(v, item))  # type: ignore[arg-type]
        if len(_open_cache) > 10_000:
            _open_cache.clear()
        _open_cache[key] = found
    return found


def _whereabouts(session: Session, rows: list[Any], ids: list[int] | None) -> dict[int, _Whereabouts]:
    """Places (linked or through ranges), their countries and the journeys of linked legs, by item."""
    items = {row.id: row for row in rows}
    out: dict[int, _Whereabouts] = defaultdict(_Whereabouts)
    places = item_place_links(ids)
    stmt = (select(places.c.item_id, Place.id, Place.name, Place.alt_names, Place.access, Place.country_code,
                   Country.name.label("country_name"))
            .join(Place, Place.id == places.c.place_id).outerjoin(Country, Country.code == Place.country_code)
            .order_by(places.c.item_id, Place.name, Place.id))
    for link in session.execute(stmt):
        item = items.get(link.item_id)
        if item is None:
            continue
        guard = ValueGuard("place", link.access)
        open_ = _open_to_item_viewers(item.access, item.collection_id, guard)
        where = out[link.item_id]
        where.add("place", link.name, guard, open_, link.alt_names or ())
        if link.country_code:
            where.add("country", link.country_name or link.country_code, guard, open_, [link.country_code])
    legs = item_leg_links(ids)
    stmt = (select(legs.c.item_id, Journey.id, Journey.title, Journey.access, Journey.collection_id)
            .join(Leg, Leg.id == legs.c.leg_id).join(Journey, Journey.id == Leg.journey_id)
            .distinct().order_by(legs.c.item_id, Journey.id))
    for link in session.execute(stmt):
        item = items.get(link.item_id)
        if item is None:
            continue
        guard = ValueGuard("journey", link.access, link.collection_id)
        out[link.item_id].add("journey", link.title, guard,
                              _open_to_item_viewers(item.access, item.collection_id, guard))
    return {item_id: where for item_id, where in out.items()}


def _fingerprint(row: Any, tags: list[str], transcripts: list[Any], where: dict[str, Any],
                 ranges: list[RangeDoc]) -> str:
    """Changes whenever anything indexed for the item changes; stored in its document as `version`."""
    return _digest(*(_plain(getattr(row, name)) for name in ITEM_COLUMNS), row.collection_title,
                   sorted(tags), [(t.id, t.language, t.kind.value, t.updated_at.isoformat(), t.n, t.last, t.chars,
                                   round(t.times or 0, 3)) for t in transcripts], where,
                   [(r.id, r.tag, r.start, r.end) for r in ranges])


def item_fingerprints(session: Session) -> dict[int, str]:
    """Every item outside the trash with its fingerprint (what the index should hold)."""
    tags = _tags(session, None)
    transcripts = _transcript_rows(session, None)
    rows = _item_rows(session, None)
    where = _whereabouts(session, rows, None)
    ranges = _ranges(session, None)
    return {row.id: _fingerprint(row, tags.get(row.id, []), transcripts.get(row.id, []),
                                 where[row.id].doc_fields() if row.id in where else {}, ranges.get(row.id, []))
            for row in rows}


def load_item_docs(session: Session, ids: Iterable[int]) -> tuple[list[ItemDoc], set[int]]:
    """Search documents of these items, and the ids that must leave the index (deleted or in the trash)."""
    wanted = sorted(set(ids))
    if not wanted:
        return [], set()
    rows = _item_rows(session, wanted)
    tags = _tags(session, wanted)
    transcripts = _transcript_rows(session, wanted)
    transcript_ids = [t.id for ts in transcripts.values() for t in ts]
    segments: dict[int, list[SegmentDoc]] = defaultdict(list)
    for chunk in range(0, len(transcript_ids), 500):
        for seg in session.execute(
                select(Segment.id, Segment.transcript_id, Segment.start_sec, Segment.end_sec, Segment.speaker,
                       Segment.text).where(Segment.transcript_id.in_(transcript_ids[chunk:chunk + 500]))
                .order_by(Segment.transcript_id, Segment.position)):
            segments[seg.transcript_id].append(SegmentDoc(seg.id, seg.start_sec, seg.end_sec, seg.text, seg.speaker))
    where = _whereabouts(session, rows, wanted)
    ranges = _ranges(session, wanted)
    docs = []
    for row in rows:
        item_tags_ = tags.get(row.id, [])
        item_transcripts = transcripts.get(row.id, [])
        located = where[row.id].doc_fields() if row.id in where else {}
        item_ranges = ranges.get(row.id, [])
        docs.append(ItemDoc(
            id=row.id, title=row.title, kind=row.kind.value, access=row.access.value,
            version=_fingerprint(row, item_tags_, item_transcripts, located, item_ranges),
            description=row.description, ranges=item_ranges,
            creator=row.creator, collection_id=row.collection_id, collection=row.collection_title or "",
            tags=sorted(item_tags_), languages=_languages(row.language), date_lower=row.date_lower,
            date_upper=row.date_upper,
            transcripts=[TranscriptDoc(t.id, t.language, t.kind.value, segments.get(t.id, []))
                         for t in item_transcripts], **located))
    return docs, set(wanted) - {d.id for d in docs}


def _collection_doc(c: Any) -> CollectionDoc:
    values = {name: getattr(c, name) for name in INDEXED_COLLECTION_FIELDS}
    return CollectionDoc(id=c.id, version=_digest(*values.values()), **values)


def load_collection_docs(session: Session, ids: Iterable[int] | None) -> tuple[list[CollectionDoc], set[int]]:
    stmt = select(Collection.id, *(getattr(Collection, name) for name in INDEXED_COLLECTION_FIELDS))
    wanted = None if ids is None else sorted(set(ids))
    if wanted is not None:
        stmt = stmt.where(Collection.id.in_(wanted))
    docs = [_collection_doc(c) for c in session.execute(stmt)]
    return docs, (set(wanted) - {d.id for d in docs}) if wanted is not None else set()


# -- 3. syncing, rebuilding, checking --------------------------------------------------------------

@dataclass
class SyncResult:
    items: int = 0  #: items whose documents were rewritten or removed
    collections: int = 0


def sync_index(archive: Archive, *, timeout: float | None = None) -> SyncResult:
    """Rewrite the documents named in the outbox, then delete those rows; wait up to `timeout` s for the lock."""
    result = SyncResult()
    with archive.index.lock(timeout):
        while True:
            with archive.Session() as session:  # one snapshot for the rows and the documents
                rows = session.execute(select(SearchOutbox.id, SearchOutbox.object_type, SearchOutbox.object_id)
                                       .order_by(SearchOutbox.id).limit(BATCH * 5)).all()
                if not rows:
                    return result
                item_ids = {r.object_id for r in rows if r.object_type == "item"}
                collection_ids = {r.object_id for r in rows if r.object_type == "collection"}
                docs, gone = load_item_docs(session, item_ids)
                collections, gone_collections = load_collection_docs(session, collection_ids)
            archive.index.update(docs, delete_items=gone, collections=collections,
                                 delete_collections=gone_collections)
            with archive.Session() as session, session.begin():
                session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
            result.items += len(item_ids)
            result.collections += len(collection_ids)


def pending(archive: Archive) -> int:
    """Changes waiting in the outbox."""
    with archive.Session() as session:
        return session.scalar(select(func.count(SearchOutbox.id))) or 0


def _stream_docs(session: Session, ids: list[int]) -> Iterator[ItemDoc]:
    for start in range(0, len(ids), BATCH):
        docs, _ = load_item_docs(session, ids[start:start + BATCH])
        yield from docs


def rebuild_index(archive: Archive, *, on_total: Callable[[int], None] | None = None,
                  on_item: Callable[[ItemDoc], None] | None = None, procs: int | None = None) -> int:
    """Make the index anew from the database (searches go on over the old one meanwhile); return items indexed.

    Changes committed while it runs are in the outbox and are applied before the lock is let go.
    """
    with archive.index.lock():
        with archive.Session() as session:
            ids = list(session.scalars(select(Item.id).where(Item.deleted_at.is_(None)).order_by(Item.id)))
            segments = session.scalar(select(func.count(Segment.id))) or 0
            collections, _ = load_collection_docs(session, None)
            if on_total:
                on_total(len(ids))
            if procs is None:
                procs = 2 if segments > 50_000 else 1
            count = archive.index.rebuild(_stream_docs(session, ids), collections, procs=procs, on_item=on_item)
        sync_index(archive)
    return count


@dataclass
class IndexCheck:
    """Drift between the database and the index."""
    missing: list[int] = field(default_factory=list)  #: items in the database, not in the index
    extra: list[int] = field(default_factory=list)  #: indexed items deleted or in the trash
    stale: list[int] = field(default_factory=list)  #: indexed at an older version
    collections: list[int] = field(default_factory=list)  #: collections missing, extra or stale
    outbox: int = 0  #: changes committed but not yet indexed
    fixed: bool = False

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.collections or self.outbox)


def check_index(archive: Archive, *, fix: bool = False) -> IndexCheck:
    """Compare every item's fingerprint with its indexed version; with `fix`, mend what differs."""
    with archive.Session() as session:
        wanted = item_fingerprints(session)
        wanted_collections = {c.id: c.version for c in load_collection_docs(session, None)[0]}
        outbox = session.scalar(select(func.count(SearchOutbox.id))) or 0
    held = archive.index.versions()
    report = IndexCheck(
        missing=sorted(set(wanted) - set(held.items)),
        extra=sorted(set(held.items) - set(wanted)),
        stale=sorted(i for i, v in held.items.items() if i in wanted and wanted[i] != v),
        collections=sorted({c for c in set(wanted_collections) | set(held.collections)
                            if wanted_collections.get(c) != held.collections.get(c)}),
        outbox=outbox)
    if fix and not report.clean:
        with archive.index.lock():
            sync_index(archive)
            repair = report.missing + report.stale
            with archive.Session() as session:
                for start in range(0, len(repair), BATCH):
                    docs, gone = load_item_docs(session, repair[start:start + BATCH])
                    archive.index.update(docs, delete_items=gone)
                collections, gone_collections = load_collection_docs(session, report.collections)
            archive.index.update(delete_items=report.extra, collections=collections,
                                 delete_collections=gone_collections)
        after = check_index(archive)
        report.fixed = after.clean
    return report


def recover(archive: Archive) -> None:
    """At start: build a missing index (from a non-empty database), and apply changes left in the outbox."""
    with archive.Session() as session:
        has_content = session.scalar(select(Item.id).limit(1)) is not None or \
            session.scalar(select(Collection.id).limit(1)) is not None
        waiting = session.scalar(select(SearchOutbox.id).limit(1)) is not None
    if not archive.index.exists():
        if has_content:
            log.warning("search index missing or of an older version: rebuilding it from the database")
            rebuild_index(archive)
        elif waiting:
            sync_index(archive)
    elif waiting:
        sync_index(archive)
