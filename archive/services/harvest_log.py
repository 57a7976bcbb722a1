"""What OAI-PMH harvesters know of the items: the harvest_records table, kept in step with the catalogue.

An item gets a row the first time a commit leaves it harvestable (public and not in the trash: what the
anonymous visitor sees), and the row stays for good: when the item stops being public, goes to the
trash or is purged, the row says deleted, so a harvester removes its copy (deletedRecord "persistent").
An item never public has no row and is never named, not even as deleted.

Every commit that changes an item's record moves its datestamp on, in the same transaction. Which
items a flush changed is learnt from the search index's own bookkeeping (archive.services.search_sync
notes them in session.info under CHANGED_ITEMS: fields, tags, places, legs, ranges, transcripts, and
renamed tags, places, collections...), plus what a record holds and the index does not (credits,
files, rights and precision); the rows are written just before the commit, from the items as they
then are. Core statements, not the ORM: a harvest row is a consequence of an edit, not one to audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive import db
from archive.access import ANONYMOUS, item_filter
from archive.models import Collection, Credit, Derivative, HarvestRecord, Item, MediaFile, UTCDateTime

#: session.info keys: the item ids and collection ids whose records a flush changed (search_sync adds to them).
CHANGED_ITEMS = "record_changed_items"
CHANGED_COLLECTIONS = "record_changed_collections"
CHUNK = 500  #: ids per IN (...)


def now_datestamp() -> datetime:
    """The current time as an OAI datestamp: UTC, whole seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def note_changed(session: Session, items: Iterable[int | None] = (), collections: Iterable[int | None] = ()) -> None:
    """Have the harvest log look again at these items (and every item of these collections) at the commit."""
    session.info.setdefault(CHANGED_ITEMS, set()).update(i for i in items if i is not None)
    session.info.setdefault(CHANGED_COLLECTIONS, set()).update(c for c in collections if c is not None)


def keep_harvest_log(sessions: sessionmaker[Session]) -> None:
    """Keep harvest_records in step with the commits of the sessions `sessions` makes (the Archive calls it)."""
    db.listen_once(sessions, "after_flush", _after_flush)
    db.listen_once(sessions, "before_commit", _before_commit)
    db.listen_once(sessions, "after_rollback", _after_rollback)


def _after_flush(session: Session, _context: Any) -> None:
    # What a record shows beyond the search documents: credits, files (dc:format), every item column.
    items: set[int] = set()
    collections: set[int] = set()
    media_files: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Item) and (obj in session.new or obj in session.deleted or session.is_modified(obj)):
            items.add(obj.id)
        elif isinstance(obj, Credit):
            items.add(obj.item_id)  # type: ignore[arg-type]
            collections.add(obj.collection_id)  # type: ignore[arg-type]
        elif isinstance(obj, MediaFile):
            items.add(obj.item_id)
        elif isinstance(obj, Derivative):
            media_files.add(obj.media_file_id)
        elif isinstance(obj, Collection) and obj in session.dirty and session.is_modified(obj):
            collections.add(obj.id)
    media_files.discard(None)  # type: ignore[arg-type]
    if media_files:
        items |= set(session.connection().scalars(select(MediaFile.item_id).where(MediaFile.id.in_(sorted(media_files)))))
    note_changed(session, items, collections)


def _after_rollback(session: Session) -> None:
    session.info.pop(CHANGED_ITEMS, None)
    session.info.pop(CHANGED_COLLECTIONS, None)


def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this: its changes must be noted first
    items = session.info.pop(CHANGED_ITEMS, set())
    collections = session.info.pop(CHANGED_COLLECTIONS, set())
    if collections:
        conn = session.connection()
        for chunk in _chunks(sorted(collections)):
            items |= set(conn.scalars(select(Item.id).where(Item.collection_id.in_(chunk))))
    if items:
        update_records(session, items)


def update_records(session: Session, item_ids: Iterable[int], *, datestamp: datetime | None = None) -> None:
    """Bring the harvest rows of `item_ids` up to date with the items as they are in the database now:
    a harvestable item's row is made or refreshed (datestamp now); a row whose item is no longer
    harvestable, or gone, is marked deleted (datestamp now), once. Flushes nothing; writes with Core,
    a statement per kind of change and chunk (executemany)."""
    stamp = datestamp or now_datestamp()
    conn = session.connection()
    harvestable = item_filter(ANONYMOUS)
    for chunk in _chunks(sorted(set(item_ids))):
        current = {row.id: row for row in conn.execute(
            select(Item.id, Item.pid, Item.collection_id, harvestable.label("harvestable")).where(Item.id.in_(chunk)))}
        known = {row.item_id: row for row in conn.execute(
            select(HarvestRecord.id, HarvestRecord.item_id, HarvestRecord.pid, HarvestRecord.deleted)
            .where(HarvestRecord.item_id.in_(chunk)))}
        by_pid = {row.pid: row for row in conn.execute(
            select(HarvestRecord.id, HarvestRecord.pid, HarvestRecord.deleted)
            .where(HarvestRecord.pid.in_([r.pid for r in current.values()])))} if current else {}
        orphaned, new, live, gone = [], [], [], []
        for item_id in chunk:
            item, record = current.get(item_id), known.get(item_id)
            if record is not None and (item is None or record.pid != item.pid):
                # The item is gone (or its id now names another item): its record is deleted for good.
                orphaned.append({"_id": record.id, "_stamp": stamp if not record.deleted else None})
                record = None
            if item is None:
                continue
            record = record or by_pid.get(item.pid)
            if item.harvestable:
                values = {"item_id": item.id, "collection_id": item.collection_id, "datestamp": stamp, "deleted": False}
                if record is None:
                    new.append({"pid": item.pid, **values})
                else:
                    live.append({"_id": record.id, **{f"_{name}": value for name, value in values.items()}})
            elif record is not None and not record.deleted:
                gone.append({"_id": record.id})
        by_id = HarvestRecord.id == bindparam("_id")
        if orphaned:  # first, so that a reused id is free for the item that now has it
            conn.execute(update(HarvestRecord).where(by_id).values(
                item_id=None, deleted=True, datestamp=func.coalesce(bindparam("_stamp", type_=UTCDateTime()),
                                                                    HarvestRecord.datestamp)), orphaned)
        if gone:
            conn.execute(update(HarvestRecord).where(by_id).values(deleted=True, datestamp=stamp), gone)
        if live:
            conn.execute(update(HarvestRecord).where(by_id).values(
                {name: bindparam(f"_{name}") for name in ("item_id", "collection_id", "datestamp", "deleted")}), live)
        if new:
            conn.execute(insert(HarvestRecord), new)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]
