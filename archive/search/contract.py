"""The search contract: what the rest of the app asks of a search engine, and nothing more.

`archive.index` is a SearchIndex; the engine behind it is chosen by the `search_engine` setting
(SearchEngine). Everything outside archive.search reaches an engine through these methods only,
and tests/test_search_contract.py runs one behavioural suite against every engine, so they
cannot drift apart.

An engine is a cache of the database: it is given documents (archive.search.documents), never
asks the catalogue's tables anything, and can always be made again by `rebuild` (the postgresql
engine keeps its own tables in the same database, and also offers `write(connection, ...)` for
search_sync to index a change in the catalogue's transaction). There is no separate
"suggest" or "check" call: "did you mean" is `SearchResponse.suggestion` of `search`, and the
drift check (archive.services.search_sync.check_index) compares the database with `versions`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from archive.access import Viewer
from archive.search.api import SearchRequest, SearchResponse
from archive.search.documents import CollectionDoc, ItemDoc


class SearchEngine(enum.StrEnum):
    """The values of the `search_engine` setting."""
    whoosh = "whoosh"  #: archive.search.index.WhooshIndex: files in the data root, no server
    #: archive.search.pg_index.PostgresIndex: tables in the catalogue's PostgreSQL database,
    #: written in the catalogue's own transactions (every web node sees a change at once)
    postgresql = "postgresql"


class IndexBusy(TimeoutError):
    """Another writer held the index longer than the caller was willing to wait."""


@dataclass(frozen=True)
class IndexVersions:
    """What the index holds: item and collection ids with the version each was indexed at."""
    items: dict[int, str]
    collections: dict[int, str]


@runtime_checkable
class SearchIndex(Protocol):
    """Items, their transcript segments and collections, searchable as one index.

    Every method may be called from any thread, and from several processes over one index.
    """

    def exists(self) -> bool:
        """Is there an index this engine can search as it is (else search_sync rebuilds it)?

        An index written by another version of the engine's fields or analysis, or for another
        catalogue language, does not exist.
        """
        ...

    def lock(self, timeout: float | None = None) -> AbstractContextManager[None]:
        """Hold the one write lock of this index (across threads and processes; re-entrant in a thread).

        search_sync reads the outbox and the documents inside it, so whoever writes last has read
        the newest committed state. Waits up to `timeout` seconds (None: for ever), then raises
        IndexBusy. `update` and `rebuild` take it themselves.
        """
        ...

    def update(self, items: Iterable[ItemDoc] = (), *, delete_items: Iterable[int] = (),
               collections: Iterable[CollectionDoc] = (), delete_collections: Iterable[int] = (),
               timeout: float | None = None) -> None:
        """Replace all documents of `items` and `collections`, remove those of the deleted ids, at once.

        Searches see all of the change or none of it. An ItemDoc replaces every document of its
        item (segments and ranges included). Ids that are not indexed are ignored.
        """
        ...

    def rebuild(self, items: Iterable[ItemDoc], collections: Iterable[CollectionDoc] = (), *,
                procs: int = 1, on_item: Callable[[ItemDoc], None] | None = None) -> int:
        """Make the index anew from exactly these documents; return the number of items.

        Searches go on over the old index until the new one replaces it at once. `on_item` is
        called as each item is taken (for progress); `procs` is how many processes the engine
        may use for it (an engine may ignore it).
        """
        ...

    def search(self, request: SearchRequest, viewer: Viewer, *,
               confirm: Callable[[list[int]], Collection[int]] | None = None) -> SearchResponse:
        """Search as `viewer`: results, snippets, facets and suggestions hold only what they may see.

        The query language is archive.search.query's: AND/OR/NOT and parentheses, "phrases",
        prefix*, field:value for QUERY_FIELDS; a single CJK character finds the words holding it.
        Facets (FACETS) count matching items the viewer may see, with values they may know
        (ItemDoc.facet_guards). Segment hits carry their timecodes, range hits their range's.
        `suggestion` is a corrected query that finds something the viewer may see.

        `confirm`, given the ids of the items the index would show, answers those the database
        still shows `viewer`: totals and facet counts must not count what was hidden since the
        last update (archive.services.search passes one).

        Never raises for a bad query (`message` says how it was read), except QueryTooDeep for
        nesting past query.MAX_DEPTH. Without an index the response is empty, and says so.
        """
        ...

    def versions(self) -> IndexVersions:
        """Every indexed item and collection with the `version` of the document it was indexed from."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counts for people: "exists" always; "items", "collections", "documents" and "bytes" when the
        engine knows them (callers read those with .get)."""
        ...

    def close(self) -> None:
        """Let go of what the engine holds open (files, connections, timers); the archive is closing."""
        ...
