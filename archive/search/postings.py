"""Reading posting lists a block at a time, for the item-level passes that read whole lists.

whoosh's matchers step one posting at a time through several wrapper layers and score each
through a scorer object (some 5 µs a posting). Item-level passes read every posting of a term
(at most one per item), so they take the decoded block arrays instead: document numbers,
weights, and field lengths from the in-memory length column (archive.search.codec), with the
same BM25F formula and parameters as whoosh's default weighting.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from math import log
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

B, K1 = 0.75, 1.2  # whoosh's BM25F defaults, which the searchers use


def _blocks(matcher: Any) -> Iterator[tuple[Sequence[int], Sequence[float] | None]]:
    """(document numbers, weights or None for all 1.0) of each block, deleted documents included."""
    if isinstance(matcher, ListMatcher):
        yield matcher._ids, matcher._weights
    elif isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            yield matcher._ids, matcher._weights
            matcher._next_block()
    else:  # anything else, one posting at a time
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights


def _leaf_postings(leaf: Any, field: str, text: str) -> tuple[Any, frozenset[int]]:
    matcher = leaf.postings(field, text)
    deleted: frozenset[int] = frozenset()
    if isinstance(matcher, FilterMatcher):  # SegmentReader's way of hiding deleted documents
        deleted = frozenset(matcher._ids)
        matcher = matcher.child
    return matcher, deleted


def doc_ids(reader: Any, field: str, text: str) -> list[int]:
    """Document numbers holding `text` in `field` (deleted ones left out)."""
    out: list[int] = []
    for leaf, offset in reader.leaf_readers():
        if (field, text) not in leaf:
            continue
        matcher, deleted = _leaf_postings(leaf, field, text)
        for ids, _ in _blocks(matcher):
            out += [offset + d for d in ids if d not in deleted] if deleted else [offset + d for d in ids]
    return out


def average_length(reader: Any, field: str) -> float:
    """The average length of `field` in the documents that have it (deleted ones included)."""
    total, having = 0, 0
    for leaf, _ in reader.leaf_readers():
        perdoc = getattr(leaf, "_perdoc", None)
        lengths = perdoc.length_bytes(field) if hasattr(perdoc, "length_bytes") else None
        if lengths is None:
            continue
        having += len(lengths) - lengths.count(0)
        total += leaf.field_length(field)
    return total / having if having else 1.0


def bm25_scores(searcher: Any, field: str, text: str, *, doc_count: int | None = None,
                avgfl: float | None = None) -> dict[int, float]:
    """BM25F scores (as whoosh's default weighting gives them) of the documents holding `text` in `field`.

    `doc_count`: the number of documents the field belongs to (item and collection documents of
    an item-level field), and `avgfl` its average length where it is not empty: whoosh counts
    every document of the index, segments too, so a word in every item would still look rare
    and an item's transcripts many times longer than the average.
    """
    reader = searcher.reader()
    if (field, text) not in reader:
        return {}
    if doc_count is None:
        idf = searcher.idf(field, text)
    else:
        idf = log(doc_count / (reader.doc_frequency(field, text) + 1)) + 1
    if avgfl is None:
        avgfl = searcher.avg_field_length(field) or 1
    c1, c2, top = K1 * (1 - B), K1 * B / avgfl, idf * (K1 + 1)
    out: dict[int, float] = {}
    for leaf, offset in reader.leaf_readers():
        if (field, text) not in leaf:
            continue
        matcher, deleted = _leaf_postings(leaf, field, text)
        perdoc = getattr(leaf, "_perdoc", None)
        lengths = perdoc.length_bytes(field) if hasattr(perdoc, "length_bytes") else None
        for ids, weights in _blocks(matcher):
            for i, docnum in enumerate(ids):
                if deleted and docnum in deleted:
                    continue
                w = weights[i] if weights is not None else 1.0
                if lengths is not None:
                    fl = byte_to_length(lengths[docnum]) if docnum < len(lengths) else 1
                else:
                    fl = leaf.doc_field_length(docnum, field, 1)
                out[offset + docnum] = top * w / (w + c1 + c2 * (fl or 1))
    return out
