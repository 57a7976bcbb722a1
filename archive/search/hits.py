"""Hits: the segments of the listed items that match, with snippets and timecodes, and the time
ranges whose tag matched.

A query is translated into a whoosh query over segment documents that finds a superset of the
matching segments; what postings cannot tell (word order, exact words, long prefixes) is
checked against each candidate's stored text (`SegmentCheck`). An item's documents are one run
of document numbers, so the hits of a whole page come from one forward pass of one matcher.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from archive.models import TranscriptKind
from archive.search import analysis
from archive.search.api import RangeHit, SegmentHit
from archive.search.highlight import snippet
from archive.search.query import And, Node, Not, Or, Term, names_value, terms_of
from archive.search.schema import speaker_key
from archive.transcripts import language_named

if TYPE_CHECKING:
    from archive.search.api import SearchRequest
    from archive.search.highlight import Marks
    from archive.search.view import ItemMeta, View

Scores = dict[int, float]

HIT_CANDIDATES = 200  #: most segments of one item checked for hits
TRANSCRIPT_KINDS = frozenset(k.value for k in TranscriptKind)


def _language_query(values: list[str]) -> wq.Query:
    """Segments in any of these languages, with any script or region (zh: zh, zh-hans, zh-hant)."""
    return wq.Or([q for v in dict.fromkeys(values) for q in (wq.Term("language", v), wq.Prefix("language", v + "-"))])


def word_query(word: str, languages: frozenset[str]) -> wq.Query:
    """Segments holding a (folded) word, by its stem in any of these languages or as it is."""
    terms = analysis.query_terms(word, languages)
    return wq.Term("body", terms[0]) if len(terms) == 1 else wq.Or([wq.Term("body", t) for t in terms])


def body_query(words: list[str], languages: frozenset[str]) -> wq.Query | None:
    """Segments holding all these words (stop words aside), None if there are none but stop words."""
    kept = sorted({w for w in words if w and w not in analysis.STOPWORDS})
    if not kept:
        return None
    return word_query(kept[0], languages) if len(kept) == 1 else wq.And([word_query(w, languages) for w in kept])


class SegmentHits:
    """Mixed into the search (archive.search.searching): needs view, searcher, reader, request, marks, filters."""

    view: View
    searcher: Any
    reader: Any
    request: SearchRequest
    marks: Marks
    filters: dict[str, set[str]]
    stem_languages: frozenset[str]

    def segment_query(self, node: Node | None) -> tuple[wq.Query | None, bool]:
        """A whoosh query over segment documents finding (a superset of) the segments matching `node`,
        and whether the candidates must be checked against their text (phrases, exact words, prefixes)."""
        if node is None:
            return None, False
        if isinstance(node, Term):
            return self._segment_leaf(node)
        if isinstance(node, Not):
            return None, False
        if isinstance(node, Or):
            parts = [self.segment_query(c) for c in node.children]
            queries = [q for q, _ in parts if q is not None]
            return (wq.Or(queries) if queries else None), any(v for _, v in parts)
        positives, negatives, verify = [], [], False
        for child in node.children:
            if isinstance(child, Not):
                q, v = self.segment_query(child.child)
                if q is not None and not v:
                    negatives.append(q)
                elif q is not None:
                    verify = True  # an inexact query cannot be subtracted: the text check does it
            else:
                q, v = self.segment_query(child)
                if q is not None:
                    positives.append(q)
                    verify = verify or v
        if not positives:
            return None, False
        q = positives[0] if len(positives) == 1 else wq.And(positives)
        for neg in negatives:
            q = wq.AndNot(q, neg)
        return q, verify

    def _segment_leaf(self, term: Term) -> tuple[wq.Query | None, bool]:
        ws = [w for w in analysis.words(term.text) if w]
        if not ws:
            return None, False
        if term.field == "speaker":
            if term.prefix:
                ws = ws[:-1]
            return (wq.And([wq.Term("speaker", w) for w in ws]) if ws else None), False
        if term.field == "language":
            value = term.text.strip().lower()
            return _language_query([value, (language_named(value) or value).lower()]), False
        if term.field == "kind":
            value = term.text.strip().lower()
            return (wq.Term("tkind", value) if value in TRANSCRIPT_KINDS else None), False
        if term.field is not None:
            return None, False  # title, tag, collection...: about the item, not its segments
        if term.prefix and not analysis.is_cjk(ws[-1]) and len(ws[-1]) >= analysis.PREFIX_MIN:
            parts = [wq.Term("grams", ws[-1][:analysis.PREFIX_MIN])]
            if ws[:-1]:
                q, _ = self._segment_leaf(Term(" ".join(ws[:-1]), quoted=True))
                if q is not None:
                    parts.append(q)
            return wq.And(parts), True
        if term.quoted or len(ws) > 1:
            # Segments holding the phrase's words; their text is checked for the order.
            query = body_query(ws, self.stem_languages)
            return query, query is not None
        if ws[0] in analysis.STOPWORDS:
            return None, False
        return word_query(ws[0], self.stem_languages), False

    def relaxed(self, node: Node | None) -> Node | None:
        """Any one of the query's words, for items none of whose segments holds them all."""
        leaves = [t for t, negated in terms_of(node) if not negated and t.field in (None, "speaker")]
        if len(leaves) < 2 or isinstance(node, Term):
            return None
        return Or(tuple(leaves))

    @staticmethod
    def plain_words(node: Node | None) -> bool:
        """Is the query just words (no phrases, fields, prefixes, OR or NOT)?"""
        return isinstance(node, And) and all(isinstance(c, Term) and c.field is None and not c.quoted
                                             and not c.prefix for c in node.children)

    def segment_filters(self) -> list[wq.Query]:
        out: list[wq.Query] = []
        if "language" in self.filters:
            out.append(_language_query([(language_named(v) or v).lower() for v in self.filters["language"]]))
        if "speaker" in self.filters:
            out.append(wq.Or([wq.Term("speaker_key", speaker_key(v)) for v in self.filters["speaker"]]))
        return out

    def ranges(self, item_ids: list[int]) -> list[tuple[int, int, int]]:
        """(first docnum, last docnum, item id) of the documents of these items, in docnum order.

        An item's documents are added together, so in each index segment they are one run of
        document numbers; should they not be, every document is listed on its own.
        """
        out: list[tuple[int, int, int]] = []
        for leaf, offset in self.reader.leaf_readers():
            for item_id in item_ids:
                key = str(item_id)
                if ("item", key) not in leaf:
                    continue
                info = leaf.term_info("item", key)
                low, high = info.min_id(), info.max_id()
                if high - low + 1 == info.doc_frequency():
                    out.append((offset + low, offset + high, item_id))
                else:
                    out += [(offset + d, offset + d, item_id) for d in leaf.postings("item", key).all_ids()]
        out.sort()
        return out

    def hits(self, item_ids: list[int], node: Node | None,
             seg_query: tuple[wq.Query | None, bool]) -> dict[int, list[SegmentHit]]:
        """The best segment hits of each item, found in one forward pass over the items' documents."""
        query, verify = seg_query
        if query is None or not item_ids:
            return {}
        filters = self.segment_filters()
        if filters:
            query = wq.And([query, *filters])
        matcher = query.matcher(self.searcher, self.searcher.context())
        candidates: dict[int, list[tuple[float, int]]] = {}
        for low, high, item_id in self.ranges(item_ids):
            if not matcher.is_active():
                break
            if matcher.id() < low:
                matcher.skip_to(low)
            while matcher.is_active() and matcher.id() <= high:
                candidates.setdefault(item_id, []).append((matcher.score(), matcher.id()))
                matcher.next()
        out: dict[int, list[SegmentHit]] = {}
        check = SegmentCheck(node, self.stem_languages) if verify and node is not None else None
        for item_id, found in candidates.items():
            found.sort(key=lambda c: (-c[0], c[1]))
            hits: list[SegmentHit] = []
            for score, docnum in found[:HIT_CANDIDATES]:
                seg_id, transcript_id, start, end, speaker, language, text, tkind, stem_language, catalogue = \
                    self.searcher.stored_fields(docnum)["hit"]
                if check is not None and not check(text, speaker, language, tkind, stem_language, catalogue):
                    continue
                hits.append(SegmentHit(seg_id, transcript_id, start, end,
                                       snippet(text, self.marks, language=stem_language, fallback=catalogue),
                                       speaker, language, score))
                if len(hits) >= self.request.hits_per_item:
                    break
            hits.sort(key=lambda h: (h.start, h.segment_id))
            if hits:
                out[item_id] = hits
        return out


    def range_hits(self, meta: ItemMeta, node: Node | None) -> list[RangeHit]:
        """The item's time ranges whose tag the query names (tag:"river crossing") or whose tag holds
        the query's words, by start: hits at the range's first second."""
        if node is None or not meta.ranges:
            return []
        named = [(ws, t.prefix) for t, negated in terms_of(node) if not negated and t.field == "tag"
                 and (ws := [w for w in analysis.words(t.text) if w])]
        words_too = any(t.field is None for t, negated in terms_of(node) if not negated)
        out: list[RangeHit] = []
        for range_id, tag, start, end in meta.ranges:
            tag_words = [w for w in analysis.words(tag) if w]
            if any(names_value(ws, prefix, tag_words) for ws, prefix in named):
                out.append(RangeHit(range_id, tag, start, end, f"<mark>{html.escape(tag)}</mark>"))
            elif words_too and self.marks and (marked := snippet(tag, self.marks, language=meta.catalogue_language,
                                                                     fallback=meta.catalogue_language)) != html.escape(tag):
                out.append(RangeHit(range_id, tag, start, end, marked))
            if len(out) >= self.request.hits_per_item:
                break
        return out


class SegmentCheck:
    """`node` compiled to a test of one segment's text, speaker, language and transcript kind.

    Used on candidates that whoosh found by their words, for what postings cannot tell:
    word order (phrases), exact unstemmed words, prefixes longer than the indexed grams.
    """

    def __init__(self, node: Node, languages: frozenset[str] = frozenset()) -> None:
        self.node = node
        self.terms: dict[Term, list[str]] = {t: [w for w in analysis.words(t.text) if w] for t, _ in terms_of(node)}
        self.languages = languages  #: the stemmers a query word is stemmed with

    def __call__(self, text: str, speaker: str, language: str, tkind: str, stem_language: str = "",
                 catalogue: str = "") -> bool:
        """Does the segment match? `stem_language` and `catalogue` are those its terms were made with."""
        words = analysis.words(text)
        cache: dict[str, Any] = {}

        def stems() -> set[str]:
            if "stems" not in cache:
                cache["stems"] = set(analysis.stems_of(words, stem_language, catalogue))
            return cache["stems"]

        def seq_in(seq: list[str], found: list[str]) -> bool:
            n = len(seq)
            first = seq[0]
            return any(found[i] == first and found[i:i + n] == seq for i in range(len(found) - n + 1))

        def leaf(t: Term) -> bool | None:
            ws = self.terms[t]
            if not ws:
                return None
            if t.field == "speaker":
                if "speaker" not in cache:
                    cache["speaker"] = [w for w in analysis.words(speaker) if w]
                return seq_in(ws, cache["speaker"])
            if t.field == "language":
                value = t.text.strip().lower()
                return any(language.lower() == v or language.lower().startswith(v + "-")
                           for v in (value, (language_named(value) or value).lower()))
            if t.field == "kind":
                value = t.text.strip().lower()
                return tkind == value if value in TRANSCRIPT_KINDS else None
            if t.field is not None:
                return None
            if t.prefix and not analysis.is_cjk(ws[-1]) and len(ws[-1]) >= analysis.PREFIX_MIN:
                head, last = ws[:-1], ws[-1]
                return any(w.startswith(last) and (not head or words[max(0, i - len(head)):i] == head)
                           for i, w in enumerate(words))
            if t.quoted or len(ws) > 1:
                return ws[0] in words if len(ws) == 1 else seq_in(ws, words)
            if ws[0] in analysis.STOPWORDS:
                return None
            return not stems().isdisjoint(analysis.query_terms(ws[0], self.languages))

        def ev(n: Node) -> bool | None:
            if isinstance(n, Term):
                return leaf(n)
            if isinstance(n, Not):
                inner = ev(n.child)
                return None if inner is None else not inner
            values = [v for v in (ev(c) for c in n.children) if v is not None]
            if not values:
                return None
            return all(values) if isinstance(n, And) else any(values)

        return ev(self.node) is not False
