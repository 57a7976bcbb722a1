"""One searcher over one generation of the index, with the per-item metadata search needs in memory.

Item and collection documents carry a stored `meta` dict; a view keeps it for every live
document, keyed by document number, so that access checks, filters, facets and sorting never
read stored fields. Tables are made once per index segment (segments never change, only their
deletions, which are applied per view) and shared by every view that still uses the segment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from archive.models import AccessLevel
from archive.search import analysis
from archive.search.documents import ValueGuard
from archive.search.postings import average_length
from archive.search.schema import FIELD_WEIGHTS


class ItemMeta:
    """An item as a search result needs it. Duck-types the attributes archive.access.can_see reads."""
    __slots__ = ("item_id", "title", "description", "access", "collection_id", "deleted_at", "date", "date_upper",
                 "version", "facets", "facet_keys", "transcript_kinds", "ranges", "meta_text", "stem_languages",
                 "catalogue_language", "aliases", "guards", "_words")

    def __init__(self, meta: dict[str, Any]) -> None:
        self.item_id: int = meta["item_id"]
        self.title: str = meta["title"]
        self.description: str = meta["description"]
        self.access = AccessLevel(meta["access"])
        self.collection_id: int | None = meta["collection_id"]
        self.deleted_at = None  # trashed items are never indexed
        self.date: int | None = meta["date"]  # proleptic ordinal of date_lower
        self.date_upper: int | None = meta["date_upper"]  # of date_upper (date_lower when certain)
        self.version: str = meta["version"]
        self.facets: dict[str, tuple[str, ...]] = {k: tuple(dict.fromkeys(v)) for k, v in meta["facets"].items()}
        #: every (facet, value) of the item, for counting all facets in one pass
        self.facet_keys: tuple[tuple[str, str], ...] = tuple((k, v) for k, vs in self.facets.items() for v in vs)
        self.transcript_kinds: tuple[str, ...] = tuple(meta["transcript_kinds"])
        #: time ranges: (range id, tag, start, end), seconds from the start of the media
        self.ranges: tuple[tuple[int, str, float, float], ...] = tuple(tuple(r) for r in meta["ranges"])
        self.meta_text: str = meta["meta_text"]
        #: the stemmer languages of the item's terms (analysis.STEMMERS codes) and of its own fields
        self.stem_languages: tuple[str, ...] = tuple(meta["stem_languages"])
        self.catalogue_language: str = meta["catalogue_language"]
        #: other names of facet values: facet -> value -> names (searchable, never shown)
        self.aliases: dict[str, dict[str, list[str]]] = meta.get("aliases") or {}
        #: values not every viewer of the item may know: facet -> value -> ValueGuards (see `knows`)
        self.guards: dict[str, dict[str, tuple[ValueGuard, ...]]] = {
            name: {value: tuple(ValueGuard(rule, AccessLevel(access), coll) for rule, access, coll in guards)
                   for value, guards in by_value.items()}
            for name, by_value in (meta.get("guards") or {}).items()}
        self._words: dict[str, list[tuple[str, list[str]]]] = {}

    def value_words(self, facet: str) -> list[tuple[str, list[str]]]:
        """Each value of `facet` with the folded words of its name, once per other name too (for
        field:value queries); a caller checks `guards` before counting a value as found."""
        found = self._words.get(facet)
        if found is None:
            values = list(self.facets.get(facet, ()))
            if facet == "kind":
                values += list(self.transcript_kinds)
            aliases = self.aliases.get(facet, {})
            named = [(v, name) for v in values for name in (v, *aliases.get(v, ()))]
            found = [(v, [w for w in analysis.words(name) if w]) for v, name in named]
            self._words[facet] = found
        return found


class CollectionMeta:
    __slots__ = ("collection_id", "title", "version", "meta_text", "stem_languages", "catalogue_language")

    def __init__(self, meta: dict[str, Any]) -> None:
        self.collection_id: int = meta["collection_id"]
        self.title: str = meta["title"]
        self.version: str = meta["version"]
        self.meta_text: str = meta["meta_text"]
        self.stem_languages: tuple[str, ...] = tuple(meta["stem_languages"])
        self.catalogue_language: str = meta["catalogue_language"]


def load_table(reader: Any) -> dict[int, ItemMeta | CollectionMeta]:
    """Metadata of the item and collection documents of one segment, by local document number."""
    table: dict[int, ItemMeta | CollectionMeta] = {}
    for doctype, cls in (("item", ItemMeta), ("collection", CollectionMeta)):
        if ("doctype", doctype) not in reader:
            continue
        for docnum in reader.postings("doctype", doctype).all_ids():
            table[docnum] = cls(reader.stored_fields(docnum)["meta"])
    return table


TableFor = Callable[[str, Any], dict[int, Any]]

#: The item-level fields whose lengths ranking reads (see archive.search.matching.ranked).
RANKED_FIELDS = ("all", *FIELD_WEIGHTS)


def _read_lengths(leaf: Any) -> None:
    """Read a new segment's length columns of the ranked fields now: whoosh opens a column's file
    when first asked, and once a merge has removed the segment's files that would fail."""
    perdoc = getattr(leaf, "_perdoc", None)
    if hasattr(perdoc, "length_bytes"):
        for field in RANKED_FIELDS:
            perdoc.length_bytes(field)


class View:
    """A searcher and the live items and collections it sees. Used by one thread at a time."""

    def __init__(self, directory: Path, ix: Any, searcher: Any, table_for: TableFor) -> None:
        self.directory = directory
        self.ix = ix
        self.searcher = searcher
        self.closed = False
        self.items: dict[int, ItemMeta] = {}
        self.collections: dict[int, CollectionMeta] = {}
        self.item_docnum: dict[int, int] = {}
        self.segment_ids: list[str] = []
        self._item_column: Any = None
        reader = searcher.reader()
        for leaf, offset in reader.leaf_readers():
            if leaf.segment() is None:  # an index without segments yet
                continue
            key = leaf.segment().segment_id()
            self.segment_ids.append(key)
            _read_lengths(leaf)
            table = table_for(key, leaf)
            deleted = leaf.deleted_docs_set if leaf.has_deletions() else ()
            for local, meta in table.items():
                if local in deleted:
                    continue
                if isinstance(meta, ItemMeta):
                    self.items[offset + local] = meta
                    self.item_docnum[meta.item_id] = offset + local
                else:
                    self.collections[offset + local] = meta
        #: Number of item and collection documents, the N of idf-like scores.
        self.size = max(1, len(self.items) + len(self.collections))
        self._average_lengths: dict[str, float] = {}
        metas = [*self.items.values(), *self.collections.values()]
        #: The stemmer languages of the index's terms: a query word is looked for in each of them.
        self.stem_languages: frozenset[str] = frozenset(lang for m in metas for lang in m.stem_languages)
        #: The languages of the catalogue's own words (one, unless the setting changed mid-index).
        self.catalogue_languages: frozenset[str] = frozenset(m.catalogue_language for m in metas) - {""}

    @classmethod
    def open(cls, directory: Path, table_for: TableFor) -> View:
        ix = whoosh_index.open_dir(str(directory))
        return cls(directory, ix, ix.searcher(), table_for)

    def current(self, link: Path) -> bool:
        """Is this still the newest commit of the index `link` points at?"""
        try:
            if Path(os.readlink(link)).name != self.directory.name:
                return False
            return self.ix.latest_generation() == self.searcher.reader().generation()
        except OSError:
            return False

    def refreshed(self, table_for: TableFor) -> View:
        """A view of the newest commit, re-using the segment readers that did not change.

        Not whoosh's own `searcher.refresh()`: in whoosh-reloaded 2.7.5 it re-uses a segment's
        reader by segment id alone, so deletions made since (an updated item's old documents)
        stay visible, and segments merged away come back.
        """
        toc = self.ix._read_toc()
        if toc.generation == self.searcher.reader().generation():
            return self
        old = {leaf.segment().segment_id(): leaf for leaf, _ in self.searcher.reader().leaf_readers()
               if leaf.segment() is not None}
        readers = []
        for segment in toc.segments:
            leaf = old.get(segment.segment_id())
            if leaf is not None and leaf.segment().deleted_count() == segment.deleted_count():
                readers.append(old.pop(segment.segment_id()))
            else:
                readers.append(SegmentReader(self.ix.storage, toc.schema, segment, generation=toc.generation))
        if not readers:
            reader = EmptyReader(toc.schema)
        elif len(readers) == 1:
            reader = readers[0]
        else:
            reader = MultiReader(readers, generation=toc.generation)
        for leaf in old.values():
            leaf.close()
        self.closed = True
        return View(self.directory, self.ix, Searcher(reader, fromindex=self.ix), table_for)

    def average_length(self, field: str) -> float:
        """The average length of an item-level field where it is not empty (for BM25F)."""
        found = self._average_lengths.get(field)
        if found is None:
            found = self._average_lengths[field] = average_length(self.searcher.reader(), field)
        return found

    def item_of(self, docnum: int) -> int:
        """The item id of a segment document."""
        if self._item_column is None:
            self._item_column = self.searcher.reader().column_reader("item")
        return int(self._item_column[docnum])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.searcher.close()
