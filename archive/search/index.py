"""The whoosh engine's index on disk: opening, the one writer at a time, rebuilding, and fresh searchers.

* Writes are serialised across threads (an RLock) and processes (an fcntl lock on a file beside
  the index): a second writer waits its turn, it never gets whoosh's LockError.
* Readers never wait: each thread keeps a searcher and refreshes it (`searcher.refresh()`, which
  re-uses the segments that did not change) when the index has moved on.
* `path` is a symbolic link to the directory holding the index; a rebuild writes a new
  directory and swaps the link at once, so searches go on over the old index meanwhile.
* Commits do not merge segments (merging a dozen small ones takes seconds): adding a transcript
  stays quick. Once the index has been idle for IDLE_MERGE seconds, a background thread merges
  the small segments of a size tier that holds many (`_to_merge`); a write merges only when
  the index has more than MAX_SEGMENTS segments, so searching never slows down for long.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from archive.access import Viewer
from archive.search import analysis
from archive.search import schema as schema_mod
from archive.search.codec import Codec
from archive.search.storage import MemoryWriteStorage
from archive.search.api import SearchRequest, SearchResponse
from archive.search.contract import IndexBusy, IndexVersions
from archive.search.documents import CollectionDoc, ItemDoc
from archive.search.view import View, load_table

log = logging.getLogger(__name__)

VERSION_FILE = "crossings-schema"
#: A size tier (docs, by powers of TIER_BASE) is merged once it holds this many segments.
TIER_BASE = 8
TIER_SEGMENTS = 8
IDLE_MERGE = 5.0  #: seconds without writes after which small segments are merged in the background
IDLE_MERGE_DOCS = 60_000  #: largest merge done in the background (more: `optimize` or a rebuild)
MAX_SEGMENTS = 64  #: a commit that would leave more segments merges a tier itself


def _to_merge(segments: list[Any], max_docs: int | None = None) -> list[Any]:
    """The TIER_SEGMENTS smallest segments of the smallest size tier (1-7 docs, 8-63, 64-511...)
    holding that many, and segments whose documents are mostly deleted; [] when none needs merging."""
    tiers: dict[int, list[Any]] = {}
    for seg in segments:
        live = max(1, seg.doc_count())
        tier = 0
        while live >= TIER_BASE ** (tier + 1):
            tier += 1
        tiers.setdefault(tier, []).append(seg)
    merge: list[Any] = []
    for tier in sorted(tiers):
        if len(tiers[tier]) >= TIER_SEGMENTS:
            merge = sorted(tiers[tier], key=lambda s: s.doc_count_all())[:TIER_SEGMENTS]
            break
    merge += [s for s in segments if s not in merge and s.doc_count_all() and s.doc_count() < s.doc_count_all() / 2]
    if max_docs is not None and sum(s.doc_count_all() for s in merge) > max_docs:
        return []
    return merge if len(merge) > 1 or any(s.doc_count() < s.doc_count_all() for s in merge) else []


def _merge(writer: Any, segments: list[Any], merge: list[Any]) -> list[Any]:
    for seg in merge:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in merge]


def _commit_policy(writer: Any, segments: list[Any]) -> list[Any]:
    """Merge nothing, unless the index has grown past MAX_SEGMENTS segments."""
    if len(segments) + 1 <= MAX_SEGMENTS:
        return segments
    return _merge(writer, segments, _to_merge(segments) or sorted(segments, key=lambda s: s.doc_count())[:2])


class WhooshIndex:
    """The whoosh engine of the search contract (archive.search.contract.SearchIndex): an index in
    files under the data root, no server to run.

    The index is a cache of the database: archive.services.search_sync fills and mends it, and
    `rebuild` can always make it again. All methods may be called from any thread.
    """

    def __init__(self, path: Path | str, *, limitmb: int = 128, catalogue_language: str = "en") -> None:
        self.path = Path(path)
        self.limitmb = limitmb
        #: the stemmer of titles, descriptions and tags (analysis.STEMMERS code, "" for none)
        self.catalogue = analysis.stem_language(catalogue_language)
        #: written beside the index: an index of another schema or catalogue language is rebuilt
        self.version = f"{schema_mod.SCHEMA_VERSION} catalogue={self.catalogue or '-'}"
        self._lock_path = self.path.with_name(f".{self.path.name}.lock")
        self._rlock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._tables: dict[str, dict[int, Any]] = {}  # segment id -> its item/collection metadata
        self._tables_lock = threading.Lock()
        self._pool: list[View] = []  # idle views, newest last
        self._merge_timer: threading.Timer | None = None

    # -- the directory -----------------------------------------------------------------------

    def _target(self) -> Path | None:
        """The directory the index lives in now, or None when there is no usable index."""
        try:
            target = self.path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            return None
        try:
            if (target / VERSION_FILE).read_text().strip() != self.version:
                return None
        except OSError:
            return None
        return target if whoosh_index.exists_in(str(target)) else None

    def exists(self) -> bool:
        """Is there an index of this schema version (an old or missing one needs `rebuild`)?"""
        return self._target() is not None

    def _new_directory(self) -> Path:
        directory = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex[:12]}")
        directory.mkdir(parents=True)
        whoosh_index.create_in(str(directory), schema_mod.make_schema())
        (directory / VERSION_FILE).write_text(self.version + "\n")
        return directory

    def _point_at(self, directory: Path) -> None:
        """Make `path` point at `directory` in one step (readers see the old or the new index)."""
        old = self.path.resolve() if self.path.is_symlink() else None
        link = self.path.with_name(f".{self.path.name}.link-{uuid.uuid4().hex[:8]}")
        link.symlink_to(directory.name)
        if self.path.exists() and not self.path.is_symlink():
            shutil.rmtree(self.path)  # an index from before the link was used
        os.replace(link, self.path)
        if old is not None and old != directory.resolve():
            shutil.rmtree(old, ignore_errors=True)

    def _open_for_writing(self) -> Any:
        """The index, opened for an incremental write (new files are written from memory)."""
        target = self._target()
        if target is None:
            target = self._new_directory()
            self._point_at(target)
        return whoosh_index.FileIndex(MemoryWriteStorage(str(target)), indexname="MAIN")

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the index's write lock (re-entrant in a thread); wait up to `timeout` seconds, or for ever.

        Raises IndexBusy when the timeout passes first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._rlock.acquire(timeout=-1 if timeout is None else timeout):
            raise IndexBusy(f"the search index at {self.path} is being written by another thread")
        try:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    while True:
                        try:
                            fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                            break
                        except OSError as exc:
                            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                                raise
                            if time.monotonic() >= deadline:  # type: ignore[operator]
                                raise IndexBusy(f"the search index at {self.path} is being written by "
                                                "another process") from None
                            time.sleep(0.05)
                except BaseException:
                    os.close(fd)
                    raise
                self._fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
        finally:
            self._rlock.release()

    def update(self, items: Iterable[ItemDoc] = (), *, delete_items: Iterable[int] = (),
               collections: Iterable[CollectionDoc] = (), delete_collections: Iterable[int] = (),
               timeout: float | None = None) -> None:
        """Replace the documents of `items` and `collections`, remove those of the deleted ids; one commit.

        Items in the trash are to be passed in `delete_items`: the index never holds them.
        """
        items, collections = list(items), list(collections)
        with self.lock(timeout):
            ix = self._open_for_writing()
            writer = ix.writer(limitmb=self.limitmb, codec=Codec(), compound=False)
            try:
                for item_id in {*delete_items, *(d.id for d in items)}:
                    writer.delete_by_term("item", str(item_id))
                for collection_id in {*delete_collections, *(c.id for c in collections)}:
                    writer.delete_by_term("coll", str(collection_id))
                for doc in items:
                    for fields in schema_mod.item_documents(doc, self.catalogue):
                        writer.add_document(**fields)
                for coll in collections:
                    writer.add_document(**schema_mod.collection_document(coll, self.catalogue))
            except BaseException:
                writer.cancel()
                raise
            writer.commit(mergetype=_commit_policy)
            ix.close()
        self._schedule_merge()

    def _schedule_merge(self) -> None:
        with self._tables_lock:
            if self._merge_timer is not None:
                self._merge_timer.cancel()
            self._merge_timer = threading.Timer(IDLE_MERGE, self._idle_merge)
            self._merge_timer.daemon = True
            self._merge_timer.start()

    def _idle_merge(self) -> None:
        """Merge the small segments that piled up, if no one else is writing (else: later)."""
        try:
            with self.lock(timeout=0):
                if self._target() is None:
                    return
                ix = self._open_for_writing()
                while merge := _to_merge(ix._segments(), max_docs=IDLE_MERGE_DOCS):
                    writer = ix.writer(limitmb=self.limitmb, codec=Codec(), compound=False)
                    writer.commit(mergetype=lambda w, segs, chosen=merge: _merge(w, segs, [s for s in segs
                                                                                         if s in chosen]))
                ix.close()
        except IndexBusy:
            self._schedule_merge()
        except Exception:  # a cache's housekeeping must never take anything down
            log.warning("merging search index segments failed", exc_info=True)

    def rebuild(self, items: Iterable[ItemDoc], collections: Iterable[CollectionDoc] = (), *,
                procs: int = 1, limitmb: int | None = None,
                on_item: Callable[[ItemDoc], None] | None = None) -> int:
        """Write a new index from these documents and swap it in; return the number of items.

        Searches go on over the old index until the swap. With `procs` > 1 the analysis and
        posting work runs in that many processes (whoosh's MpWriter), each leaving a segment.
        """
        limitmb = limitmb or self.limitmb
        count = 0
        with self.lock():
            directory = self._new_directory()
            try:
                ix = whoosh_index.open_dir(str(directory))
                if procs > 1:
                    writer = ix.writer(procs=procs, multisegment=True, limitmb=limitmb, batchsize=256,
                                       codec=Codec(), compound=False)
                else:
                    writer = ix.writer(limitmb=limitmb, codec=Codec(), compound=False)
                try:
                    grouped = procs > 1  # MpWriter: keep an item's documents in one batch (one run of docnums)
                    for doc in items:
                        if grouped:
                            writer.start_group()
                        for fields in schema_mod.item_documents(doc, self.catalogue):
                            writer.add_document(**fields)
                        if grouped:
                            writer.end_group()
                            # MpWriter only hands a batch to its processes outside a group: do it here.
                            if len(writer.docbuffer) >= writer.batchsize:
                                writer._enqueue()
                        count += 1
                        if on_item:
                            on_item(doc)
                    for coll in collections:
                        writer.add_document(**schema_mod.collection_document(coll, self.catalogue))
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(merge=False) if procs > 1 else writer.commit()
                ix.close()
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._point_at(directory)
        return count

    def optimize(self) -> None:
        """Merge every segment into one (slow on a large index; searches go on meanwhile)."""
        with self.lock():
            ix = self._open_for_writing()
            ix.optimize()
            ix.close()

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def _borrowed_view(self) -> Iterator[View | None]:
        """A view of the newest committed index, from a pool: re-used and refreshed, not reopened.

        Threads that search at the same time get views of their own (whoosh searchers are not
        shared between threads); one that is idle goes back to the pool.
        """
        with self._tables_lock:
            view = self._pool.pop() if self._pool else None
        try:
            if view is None or not view.current(self.path):
                target = self._target()
                if target is None:
                    if view is not None:
                        view.close()
                    view = None
                elif view is not None and view.directory == target:
                    view = view.refreshed(self._table_for)
                else:
                    if view is not None:
                        view.close()
                    view = View.open(target, self._table_for)
                if view is not None:
                    self._forget_unused_tables(view)
            yield view
        except BaseException:
            if view is not None:
                view.close()
            raise
        else:
            if view is not None:
                with self._tables_lock:
                    self._pool.append(view)

    def _forget_unused_tables(self, fresh: View) -> None:
        with self._tables_lock:
            live = set(fresh.segment_ids)
            for view in self._pool:
                live |= set(view.segment_ids)
            for key in list(self._tables):
                if key not in live:
                    del self._tables[key]

    def _table_for(self, key: str, reader: Any) -> dict[int, Any]:
        with self._tables_lock:
            table = self._tables.get(key)
        if table is None:
            table = load_table(reader)
            with self._tables_lock:
                self._tables[key] = table
        return table

    def search(self, request: SearchRequest, viewer: Viewer, *,
               confirm: Callable[[list[int]], Collection[int]] | None = None) -> SearchResponse:
        """Search as `viewer`: results, snippets, facets and suggestions hold only what they may see.

        `confirm`, given the ids of the items the index would show, answers those the database
        still shows `viewer` (archive.services.search passes one): the index lags the database by
        a commit, and totals and facet counts must not count what was hidden meanwhile.

        Never raises for a bad query (`message` says how it was read), except QueryTooDeep for
        nesting past query.MAX_DEPTH. Without an index the response is empty (and says so).
        """
        from archive.search.searching import run_search
        with self._borrowed_view() as view:
            if view is None:
                return SearchResponse(0, [], {}, page=max(1, request.page), per_page=request.per_page,
                                      message="The search index is not built yet.")
            return run_search(view, request, viewer, confirm=confirm)

    def versions(self) -> IndexVersions:
        """Every indexed item and collection with its version, for drift checks."""
        with self._borrowed_view() as view:
            if view is None:
                return IndexVersions({}, {})
            return IndexVersions({m.item_id: m.version for m in view.items.values()},
                                 {m.collection_id: m.version for m in view.collections.values()})

    def stats(self) -> dict[str, Any]:
        """Documents, segments and bytes on disk."""
        target = self._target()
        if target is None:
            return {"exists": False}
        size = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
        with self._borrowed_view() as view:
            if view is None:
                return {"exists": False}
            return {"exists": True, "items": len(view.items), "collections": len(view.collections),
                    "documents": view.searcher.doc_count(), "segments": len(view.segment_ids), "bytes": size}

    def close(self) -> None:
        with self._tables_lock:
            if self._merge_timer is not None:
                self._merge_timer.cancel()
                self._merge_timer = None
            for view in self._pool:
                view.close()
            self._pool = []
            self._tables.clear()
