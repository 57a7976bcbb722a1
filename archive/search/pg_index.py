"""The PostgreSQL engine: the search index as tables of the catalogue database (archive.search.pg_tables).

* Every web node searches the same tables, so a change is seen everywhere as soon as it commits.
  `write(conn, ...)` writes documents on a connection the caller holds, so archive.services.
  search_sync can index a change inside the catalogue's own transaction (no outbox to drain);
  `update` and `rebuild` do it in a transaction of their own.
* Writers are serialised by a PostgreSQL advisory lock (across processes and machines) and an
  RLock (threads); readers never wait (MVCC: a search sees the last committed index).
* `rebuild` replaces every row in one transaction: searches go on over the old rows until it commits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from archive.access import Viewer
from archive.search.api import SearchRequest, SearchResponse
from archive.search.contract import IndexBusy, IndexVersions
from archive.search.documents import CollectionDoc, ItemDoc
from archive.search.pg_search import MetaCache, PgSearch, _Languages
from archive.search.pg_tables import (PG_SCHEMA_VERSION, collection_row, item_rows, search_collections, search_items,
                                      search_segments, search_state, search_words)

#: The advisory lock key of index writers ("crossing" in ASCII, as a bigint): held by `lock` alone,
#: shared by the transactions that index their own changes (`hold_for_transaction`).
LOCK_KEY = 0x63726F7373696E67
#: Two-part advisory keys (space, id) of one item's or collection's documents, held to the commit.
ITEM_SPACE, COLLECTION_SPACE = 0x63726F73, 0x636F6C6C
BATCH = 500  #: items written per statement batch in a rebuild


class PostgresIndex:
    """Full-text search in the catalogue's PostgreSQL database (`search_engine = "postgresql"`)."""

    def __init__(self, engine: sa.Engine, *, catalogue_language: str = "en") -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError(f"the postgresql search engine needs a PostgreSQL catalogue, not {engine.dialect.name} "
                             f"({engine.url.render_as_string(hide_password=True)})")
        self.engine = engine
        self.catalogue_language = catalogue_language
        self._rlock = threading.RLock()
        self._local = threading.local()
        self._metas = MetaCache()

    def _state(self, conn: sa.Connection) -> dict[str, str]:
        return dict(conn.execute(sa.select(search_state.c.key, search_state.c.value)).all())

    def _wanted_state(self) -> dict[str, str]:
        return {"schema": PG_SCHEMA_VERSION, "catalogue_language": self.catalogue_language}

    def exists(self) -> bool:
        with self.engine.connect() as conn:
            if conn.scalar(sa.text("SELECT to_regclass('search_state')")) is None:
                return False
            return self._state(conn) == self._wanted_state()

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """The advisory lock of index writers, held on a connection of its own (re-entrant in a thread)."""
        if not self._rlock.acquire(timeout=-1 if timeout is None else timeout):
            raise IndexBusy("the search index is being written by another thread")
        try:
            depth = getattr(self._local, "depth", 0)
            if depth == 0:
                conn = self.engine.connect()
                try:
                    deadline = None if timeout is None else time.monotonic() + timeout
                    while not conn.scalar(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))):
                        if deadline is not None and time.monotonic() >= deadline:
                            raise IndexBusy("the search index is being written by another process")
                        time.sleep(0.05)
                    conn.commit()
                except BaseException:
                    conn.close()
                    raise
                self._local.conn = conn
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
                if self._local.depth == 0:
                    conn = self._local.conn
                    self._local.conn = None
                    try:
                        conn.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
                        conn.commit()
                    finally:
                        conn.close()
        finally:
            self._rlock.release()

    def hold_for_transaction(self, conn: sa.Connection, item_ids: Iterable[int],
                             collection_ids: Iterable[int] = ()) -> bool:
        """Prepare `conn`'s transaction to index these documents itself; False if a writer holding
        `lock` (a rebuild, a sync) is at work, and the change should go through the outbox instead.

        Locks the documents (in id order, until the commit) before the caller reads them, so two
        transactions changing one item index it one after the other, the second from what the
        first committed.
        """
        if not conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock_shared(LOCK_KEY))):
            return False
        for space, ids in ((ITEM_SPACE, item_ids), (COLLECTION_SPACE, collection_ids)):
            for id_ in sorted(set(ids)):
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(space, id_)))
        return True

    def write(self, conn: sa.Connection, items: Iterable[ItemDoc] = (), *, delete_items: Iterable[int] = (),
              collections: Iterable[CollectionDoc] = (), delete_collections: Iterable[int] = ()) -> None:
        """Replace and remove documents on `conn`, in the caller's transaction (which commits them)."""
        items, collections = list(items), list(collections)
        item_ids = sorted({*delete_items, *(d.id for d in items)})
        collection_ids = sorted({*delete_collections, *(d.id for d in collections)})
        # Rows are locked in id order by the deletes, so two writers of the same items take turns.
        if item_ids:
            conn.execute(sa.delete(search_segments).where(search_segments.c.item_id.in_(item_ids)))
            conn.execute(sa.delete(search_items).where(search_items.c.item_id.in_(item_ids)))
        if collection_ids:
            conn.execute(sa.delete(search_collections).where(search_collections.c.collection_id.in_(collection_ids)))
        self._insert(conn, items, collections)
        conn.execute(pg_insert(search_state).values(
            [{"key": k, "value": v} for k, v in self._wanted_state().items()]).on_conflict_do_nothing())

    def _insert(self, conn: sa.Connection, items: list[ItemDoc], collections: list[CollectionDoc]) -> None:
        item_rows_, segment_rows, collection_rows, words = [], [], [], set()
        for doc in items:
            row, segments, vocabulary = item_rows(doc, self.catalogue_language)
            item_rows_.append(row)
            segment_rows += segments
            words |= vocabulary
        for cdoc in collections:
            crow, vocabulary = collection_row(cdoc, self.catalogue_language)
            collection_rows.append(crow)
            words |= vocabulary
        for table, rows in ((search_items, item_rows_), (search_segments, segment_rows),
                            (search_collections, collection_rows)):
            if rows:
                conn.execute(sa.insert(table), rows)
        if words:
            insert = pg_insert(search_words).on_conflict_do_nothing()
            conn.execute(insert, [{"word": w} for w in sorted(words)])

    def update(self, items: Iterable[ItemDoc] = (), *, delete_items: Iterable[int] = (),
               collections: Iterable[CollectionDoc] = (), delete_collections: Iterable[int] = (),
               timeout: float | None = None) -> None:
        with self.lock(timeout), self.engine.begin() as conn:
            self.write(conn, items, delete_items=delete_items, collections=collections,
                       delete_collections=delete_collections)

    def rebuild(self, items: Iterable[ItemDoc], collections: Iterable[CollectionDoc] = (), *,
                procs: int = 1, on_item: Callable[[ItemDoc], None] | None = None) -> int:
        """All rows anew in one transaction (`procs` is ignored: PostgreSQL does the indexing work)."""
        count = 0
        with self.lock(), self.engine.begin() as conn:
            for table in (search_segments, search_items, search_collections, search_words, search_state):
                conn.execute(sa.delete(table))
            batch: list[ItemDoc] = []
            for doc in items:
                if on_item is not None:
                    on_item(doc)
                batch.append(doc)
                count += 1
                if len(batch) >= BATCH:
                    self._insert(conn, batch, [])
                    batch = []
            self._insert(conn, batch, list(collections))
            conn.execute(sa.insert(search_state), [{"key": k, "value": v} for k, v in self._wanted_state().items()])
        with self.engine.connect() as conn:  # fresh statistics for the planner after a bulk load
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("ANALYZE search_items, search_segments, search_collections, search_words"))
        return count

    # -- reading -------------------------------------------------------------------------------

    def search(self, request: SearchRequest, viewer: Viewer, *,
               confirm: Callable[[list[int]], Collection[int]] | None = None) -> SearchResponse:
        if not self.exists():
            return SearchResponse(0, [], {}, page=max(1, request.page), per_page=request.per_page,
                                  message="The search index is not built yet.")
        with self.engine.connect() as conn:
            return PgSearch(conn, self._languages(conn), request, viewer, confirm, self._metas).run()

    def _languages(self, conn: sa.Connection) -> _Languages:
        """The stemmer languages of the indexed items (a query word is stemmed in each), as whoosh's View has them."""
        stems = conn.execute(sa.select(sa.func.unnest(search_items.c.stem_languages)).distinct()).scalars()
        return _Languages(frozenset(stems), frozenset({self.catalogue_language}) - {""})

    def versions(self) -> IndexVersions:
        with self.engine.connect() as conn:
            items = conn.execute(sa.select(search_items.c.item_id, search_items.c.version)).all()
            collections = conn.execute(sa.select(search_collections.c.collection_id,
                                                 search_collections.c.version)).all()
        return IndexVersions(dict(items), dict(collections))

    def stats(self) -> dict[str, Any]:
        if not self.exists():
            return {"exists": False}
        with self.engine.connect() as conn:
            counts = {name: conn.scalar(sa.select(sa.func.count()).select_from(table))
                      for name, table in (("items", search_items), ("collections", search_collections),
                                          ("segments", search_segments))}
            size = sum(conn.scalar(sa.select(sa.func.pg_total_relation_size(table.name))) or 0
                       for table in (search_items, search_segments, search_collections, search_words))
        return {"exists": True, **counts, "documents": counts["items"] + counts["collections"] + counts["segments"],
                "bytes": size}

    def close(self) -> None:
        """The engine belongs to the archive, which disposes of it."""
