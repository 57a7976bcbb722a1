"""Running one search over a View: match items, keep what the viewer may see, count facets,
rank and page, then find the hits inside the page's items and suggest a spelling.

Matching works on item documents (see archive.search.schema): all of a query's words must be in
the item (its metadata or any of its transcripts), a phrase in one segment or one metadata
field. Hits are then the segments of each listed item that match the whole query on their own;
when none does (the words are spread over several segments), the segments matching any of the
words; when none of those either, the item matched on its metadata and has no hits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import islice
from math import log
from typing import Any

from whoosh import query as wq
from whoosh.reading import TermNotFound

from archive.access import Viewer, can_see
from archive.models import TranscriptKind
from archive.search import analysis
from archive.search.api import (SORTS, CollectionHit, FacetValue, ItemHit, SearchRequest, SearchResponse,
                                SegmentHit)
from archive.search.highlight import Marks, snippet
from archive.search.query import And, Node, Not, Or, Term, parse_query, terms_of
from archive.search.schema import FACET_NAMES, FACETS, QUERY_FIELDS, speaker_key
from archive.search.view import ItemMeta, View

Scores = dict[int, float]

TITLE_BOOST = 2.0
FIELD_SCORE = 0.5  #: what a field:value match adds to an item's score
PREFIX_EXPANSIONS = 256  #: most words a prefix of 5 letters or more stands for
HIT_CANDIDATES = 200  #: most segments of one item checked for hits
TRANSCRIPT_KINDS = frozenset(k.value for k in TranscriptKind)


def run_search(view: View, request: SearchRequest, viewer: Viewer) -> SearchResponse:
    return _Search(view, request, viewer).run()


class _Search:
    def __init__(self, view: View, request: SearchRequest, viewer: Viewer) -> None:
        self.view = view
        self.searcher = view.searcher
        self.reader = view.searcher.reader()
        self.request = request
        self.viewer = viewer
        self.messages: list[str] = []
        self.marks = Marks()
        self.leaf_scores: dict[Term, Scores] = {}
        self.filters = {name: set(values) for name, values in request.filters.items()
                        if name in FACET_NAMES and values}
        self._visible: dict[int, bool] = {}

    # -- the whole search ----------------------------------------------------------------------

    def run(self) -> SearchResponse:
        req = self.request
        page, per_page = max(1, req.page), max(1, min(req.per_page, 100))
        parsed = parse_query(req.q.strip(), QUERY_FIELDS)
        self.messages += parsed.messages
        node = parsed.node
        scores = self.evaluate(node)
        visible = [(docnum, meta, score) for docnum, score in scores.items()
                   if (meta := self.view.items.get(docnum)) is not None and self.visible(docnum, meta)]
        results = [r for r in visible if self.passes(r[1])]
        facets = self.count_facets(visible, results)
        self.sort(results, ranked=node is not None)
        total = len(results)
        page_results = results[(page - 1) * per_page: page * per_page]
        page_ids = [meta.item_id for _, meta, _ in page_results]
        hits = self.hits(page_ids, node, self.segment_query(node))
        relaxed = self.relaxed(node)
        missing = [i for i in page_ids if not hits.get(i)]
        if missing and relaxed is not None:
            hits.update(self.hits(missing, relaxed, self.segment_query(relaxed)))
        items = [ItemHit(meta.item_id, meta.title, score, hits.get(meta.item_id, []))
                 for _, meta, score in page_results]
        collections = self.collection_hits(scores) if page == 1 and not self.filters and node is not None else []
        suggestion = self.suggest(node) if node is not None else None
        message = " ".join(dict.fromkeys(self.messages)) or None
        return SearchResponse(total, items, facets, page=page, per_page=per_page, suggestion=suggestion,
                              message=message, collections=collections)

    def visible(self, docnum: int, meta: ItemMeta) -> bool:
        seen = self._visible.get(docnum)
        if seen is None:
            seen = self._visible[docnum] = can_see(self.viewer, meta)  # type: ignore[arg-type]
        return seen

    def passes(self, meta: ItemMeta, skip: str | None = None) -> bool:
        for name, wanted in self.filters.items():
            if name != skip and wanted.isdisjoint(meta.facets.get(name, ())):
                return False
        return True

    def count_facets(self, visible: list, results: list) -> dict[str, list[FacetValue]]:
        out: dict[str, list[FacetValue]] = {}
        for facet in FACETS:
            pool = results if facet.name not in self.filters else \
                [r for r in visible if self.passes(r[1], skip=facet.name)]
            counts: Counter[str] = Counter()
            for _, meta, _ in pool:
                counts.update(set(meta.facets.get(facet.name, ())))
            if facet.newest_first:
                ordered = sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
            else:
                ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
            out[facet.name] = [FacetValue(v, n) for v, n in ordered[:self.request.facet_limit]]
        return out

    def sort(self, results: list, *, ranked: bool) -> None:
        sort = self.request.sort if self.request.sort in SORTS else "relevance"
        if sort == "relevance" and ranked:
            results.sort(key=lambda r: (-r[2], -(r[1].date or 0), r[1].item_id))
        elif sort == "date_shot":
            results.sort(key=lambda r: (r[1].date is None, r[1].date or 0, r[1].item_id))
        else:  # -date_shot, and relevance without a query
            results.sort(key=lambda r: (r[1].date is None, -(r[1].date or 0), -r[1].item_id))

    # -- matching items --------------------------------------------------------------------------

    def every(self) -> Scores:
        return dict.fromkeys([*self.view.items, *self.view.collections], 0.0)

    def evaluate(self, node: Node | None) -> Scores:
        if node is None:
            return self.every()
        found = self._eval(node)
        return self.every() if found is None else found

    def _eval(self, node: Node) -> Scores | None:
        if isinstance(node, Term):
            found = self.leaf_scores.get(node)
            if found is None and node not in self.leaf_scores:
                found = self.leaf(node)
                if found is not None:
                    self.leaf_scores[node] = found
            return found
        if isinstance(node, Not):
            child = self._eval(node.child)
            if child is None:
                return None
            return {d: 0.0 for d in self.every() if d not in child}
        if isinstance(node, Or):
            parts = [p for p in (self._eval(c) for c in node.children) if p is not None]
            if not parts:
                return None
            out: Scores = {}
            for part in parts:
                for d, s in part.items():
                    out[d] = out.get(d, 0.0) + s
            return out
        positives = [p for p in (self._eval(c) for c in node.children if not isinstance(c, Not)) if p is not None]
        negatives = [p for p in (self._eval(c.child) for c in node.children if isinstance(c, Not)) if p is not None]
        if not positives:
            if not negatives:
                return None
            positives = [self.every()]
        positives.sort(key=len)
        out = dict(positives[0])
        for part in positives[1:]:
            out = {d: s + part[d] for d, s in out.items() if d in part}
        for part in negatives:
            for d in part:
                out.pop(d, None)
        return out

    def leaf(self, term: Term) -> Scores | None:
        if term.field is None:
            return self.text_leaf(term)
        if term.field == "title":
            return self.title_leaf(term)
        return self.facet_leaf(term)

    def text_leaf(self, term: Term) -> Scores | None:
        ws = [w for w in analysis.words(term.text) if w]
        if not ws:
            return None
        if term.prefix:
            last = ws[-1]
            if analysis.is_cjk(last) or len(last) < analysis.PREFIX_MIN:
                self.messages.append(f"Searches for the start of a word need at least {analysis.PREFIX_MIN} "
                                     f"letters: {term.text}* was searched as a word.")
            else:
                self.marks.prefixes.add(last)
                parts = [self.prefix_items(last)] + ([self.sequence_items(ws[:-1])] if ws[:-1] else [])
                parts.sort(key=len)
                out = parts[0]
                for part in parts[1:]:
                    out = {d: s + part[d] for d, s in out.items() if d in part}
                return out
        if term.quoted or len(ws) > 1:
            return self.sequence_items(ws)
        return self.word_items(ws[0])

    def word_items(self, word: str) -> Scores:
        if word in analysis.STOPWORDS:
            self.marks.words.add(word)
            return self.existence("all_next", word)
        stem = analysis.stem(word)
        self.marks.stems.add(stem)
        out = self.ranked("all", stem)
        for d, s in self.ranked("title", stem).items():
            if d in out:
                out[d] += TITLE_BOOST * s
        return out

    def sequence_items(self, ws: list[str]) -> Scores:
        """Documents holding these words in this order (a quoted phrase, a CJK or hyphenated word)."""
        if len(ws) == 1:
            self.marks.words.add(ws[0])
            return self.existence("all_next", ws[0])
        self.marks.sequences.append(ws)
        found: set[int] | None = None
        unchecked = False  # a pair of two stop words can only be checked against the text
        for a, b in sorted(analysis.pairs_of(ws), key=self._pair_cost):
            if a in analysis.STOPWORDS and b in analysis.STOPWORDS:
                pair_docs = set(self.existence("all_next", a)) & set(self.existence("all_next", b))
                unchecked = True
            else:
                pair_docs = self.adjacent(a, b, within=found)
            found = pair_docs if found is None else found & pair_docs
            if not found:
                return {}
        assert found is not None
        if len(ws) > 2 or unchecked:  # each pair is somewhere in the item; are they all together somewhere?
            found = self.holding_sequence(found, ws)
        return dict.fromkeys(found, self.idf(len(found)))

    def _pair_cost(self, pair: tuple[str, str]) -> tuple[int, int]:
        a, b = pair
        if a in analysis.STOPWORDS and b in analysis.STOPWORDS:
            return (1, 0)
        return (0, min(self.reader.doc_frequency("all_prev", b) if b not in analysis.STOPWORDS else 1 << 30,
                       self.reader.doc_frequency("all_next", a) if a not in analysis.STOPWORDS else 1 << 30))

    def adjacent(self, first: str, then: str, within: set[int] | None = None) -> set[int]:
        """Item and collection documents in which `then` comes right after `first` somewhere.

        Read from the side of a word that is not a stop word (whose neighbours are few): the
        words before `then`, or the words after `first`.
        """
        use_prev = then not in analysis.STOPWORDS and (
            first in analysis.STOPWORDS
            or self.reader.doc_frequency("all_prev", then) <= self.reader.doc_frequency("all_next", first))
        field, term, other = ("all_prev", then, first) if use_prev else ("all_next", first, then)
        if (field, term) not in self.reader:
            return set()
        matcher = self.reader.postings(field, term)
        out: set[int] = set()
        while matcher.is_active():
            docnum = matcher.id()
            if (within is None or docnum in within) and analysis.follows(matcher.value(), other):
                out.add(docnum)
            matcher.next()
        return out

    def holding_sequence(self, docnums: set[int], ws: list[str]) -> set[int]:
        """Those documents one of whose metadata fields or segments holds the whole phrase.

        The segments are read in one forward pass over the candidate items' documents, each
        item's segments holding the phrase's words first, and only until one has the phrase.
        """
        confirmed: set[int] = set()
        pending: dict[int, int] = {}  # item id -> docnum, items whose segments must be read
        for docnum in docnums:
            meta = self.view.items.get(docnum) or self.view.collections.get(docnum)
            if meta is None:
                continue
            if analysis.contains_sequence(meta.meta_text, ws):
                confirmed.add(docnum)
            elif isinstance(meta, ItemMeta):
                pending[meta.item_id] = docnum
        if not pending:
            return confirmed
        stems = sorted(set(analysis.stems_of(ws)))
        query = (wq.Every() if not stems else wq.Term("body", stems[0]) if len(stems) == 1
                 else wq.And([wq.Term("body", t) for t in stems]))
        matcher = query.matcher(self.searcher, self.searcher.boolean_context())
        for low, high, item_id in self.ranges(list(pending)):
            if pending[item_id] in confirmed or not matcher.is_active():
                continue
            if matcher.id() < low:
                matcher.skip_to(low)
            while matcher.is_active() and matcher.id() <= high:
                hit = self.searcher.stored_fields(matcher.id()).get("hit")
                if hit is not None and analysis.contains_sequence(hit[6], ws):
                    confirmed.add(pending[item_id])
                    break
                matcher.next()
        return confirmed

    def prefix_items(self, prefix: str) -> Scores:
        if len(prefix) <= analysis.PREFIX_MAX:
            return self.existence("all_grams", prefix)
        words = list(islice(self.reader.expand_prefix("all_next", prefix), PREFIX_EXPANSIONS + 1))
        if len(words) > PREFIX_EXPANSIONS:
            self.messages.append(f"{prefix}* stands for too many words; only the first {PREFIX_EXPANSIONS} "
                                 "were searched for.")
        out: set[int] = set()
        for word in words[:PREFIX_EXPANSIONS]:
            out.update(self.existence("all_next", word.decode() if isinstance(word, bytes) else word))
        return dict.fromkeys(out, self.idf(len(out)))

    def title_leaf(self, term: Term) -> Scores:
        ws = [w for w in analysis.words(term.text) if w]
        if term.prefix and ws:
            last = ws[-1]
            return {d: FIELD_SCORE for d, meta in self.view.items.items()
                    if any(w.startswith(last) for w in analysis.words(meta.title))}
        stems = analysis.stems_of(ws) or [analysis.stem(w) for w in ws]
        parts = sorted((self.ranked("title", s) for s in stems), key=len)
        if not parts:
            return {}
        out = {d: TITLE_BOOST * s for d, s in parts[0].items()}
        for part in parts[1:]:
            out = {d: s + TITLE_BOOST * part[d] for d, s in out.items() if d in part}
        if term.quoted and len(ws) > 1:
            out = {d: s for d, s in out.items()
                   if d in self.view.items and analysis.contains_sequence(self.view.items[d].title, ws)}
        return {d: s for d, s in out.items() if d in self.view.items}

    def facet_leaf(self, term: Term) -> Scores:
        ws = [w for w in analysis.words(term.text) if w]
        if not ws:
            return {}
        n = len(ws)
        prefix = ws[-1] if term.prefix else None
        head = ws[:-1] if prefix else ws

        def matches(value: list[str]) -> bool:
            for i in range(len(value) - n + 1):
                if value[i:i + len(head)] == head and (prefix is None or value[i + len(head)].startswith(prefix)):
                    return True
            return False

        return {d: FIELD_SCORE for d, meta in self.view.items.items()
                if any(matches(v) for v in meta.value_words(term.field))}  # type: ignore[arg-type]

    # -- postings ---------------------------------------------------------------------------------

    def ranked(self, field: str, text: str) -> Scores:
        """BM25F scores of the documents holding `text` in `field`."""
        try:
            matcher = self.searcher.postings(field, text)
        except TermNotFound:
            return {}
        out: Scores = {}
        while matcher.is_active():
            out[matcher.id()] = matcher.score()
            matcher.next()
        return out

    def existence(self, field: str, text: str) -> Scores:
        """The documents holding `text` in `field`, all scored alike by how rare it is."""
        if (field, text) not in self.reader:
            return {}
        ids = list(self.reader.postings(field, text).all_ids())
        return dict.fromkeys(ids, self.idf(len(ids)))

    def idf(self, df: int) -> float:
        return 1.0 + log(1 + self.view.size / (df + 1))

    # -- hits inside items -------------------------------------------------------------------------

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
            return wq.Or([wq.Term("language", value), wq.Prefix("language", value + "-")]), False
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
            stems = sorted(set(analysis.stems_of(ws)))
            if not stems:
                return None, False
            query = wq.Term("body", stems[0]) if len(stems) == 1 else wq.And([wq.Term("body", t) for t in stems])
            return query, True
        if ws[0] in analysis.STOPWORDS:
            return None, False
        return wq.Term("body", analysis.stem(ws[0])), False

    def relaxed(self, node: Node | None) -> Node | None:
        """Any one of the query's words, for items none of whose segments holds them all."""
        leaves = [t for t, negated in terms_of(node) if not negated and t.field in (None, "speaker")]
        if len(leaves) < 2 or isinstance(node, Term):
            return None
        return Or(tuple(leaves))

    def segment_filters(self) -> list[wq.Query]:
        out: list[wq.Query] = []
        if "language" in self.filters:
            out.append(wq.Or([wq.Term("language", v.lower()) for v in self.filters["language"]]))
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
        check = _SegmentCheck(node) if verify and node is not None else None
        for item_id, found in candidates.items():
            found.sort(key=lambda c: (-c[0], c[1]))
            hits: list[SegmentHit] = []
            for score, docnum in found[:HIT_CANDIDATES]:
                seg_id, transcript_id, start, end, speaker, language, text, tkind = \
                    self.searcher.stored_fields(docnum)["hit"]
                if check is not None and not check(text, speaker, language, tkind):
                    continue
                hits.append(SegmentHit(seg_id, transcript_id, start, end, snippet(text, self.marks), speaker,
                                       language, score))
                if len(hits) >= self.request.hits_per_item:
                    break
            hits.sort(key=lambda h: (h.start, h.segment_id))
            if hits:
                out[item_id] = hits
        return out

    def collection_hits(self, scores: Scores, limit: int = 5) -> list[CollectionHit]:
        found = sorted(((s, d) for d, s in scores.items() if d in self.view.collections), key=lambda x: -x[0])
        out = []
        for score, docnum in found[:limit]:
            meta = self.view.collections[docnum]
            rest = " ".join(meta.meta_text.split(analysis.BOUNDARY)[1:])
            out.append(CollectionHit(meta.collection_id, meta.title, score, snippet(rest, self.marks)))
        return out

    # -- did you mean --------------------------------------------------------------------------------

    def suggest(self, node: Node) -> str | None:
        """A corrected query, when a word finds nothing this viewer may see and a near word does.

        Candidates come from the index's words, but one is offered only if it yields results this
        viewer may see (with the same filters): words found only in documents they may not see are
        never revealed.
        """
        replacements: dict[tuple[int, int], str] = {}
        for term, negated in terms_of(node):
            if negated or term.field or term.quoted or term.prefix:
                continue
            ws = [w for w in analysis.words(term.text) if w]
            if len(ws) != 1 or analysis.is_cjk(ws[0]) or ws[0] in analysis.STOPWORDS or ws[0].isdigit():
                continue
            word = ws[0]
            if ("all_next", word) in self.reader:
                continue  # not misspelt: the word is indexed (whether or not this viewer may see where)
            if self._finds_visible(self.leaf_scores.get(term) or {}):
                continue
            corrector = self.searcher.corrector("all_next")
            for candidate in corrector.suggest(word, limit=8, maxdist=1 if len(word) < 5 else 2, prefix=1):
                candidate = candidate.decode() if isinstance(candidate, bytes) else candidate
                if candidate != word and self._finds_visible(self.word_items_quiet(candidate)):
                    replacements[term.span] = candidate
                    break
        if not replacements:
            return None
        q = self.request.q.strip()
        for (start, end), word in sorted(replacements.items(), reverse=True):
            q = q[:start] + word + q[end:]
        check = _Search(self.view, SearchRequest(q=q, filters=self.request.filters), self.viewer)
        parsed = parse_query(q, QUERY_FIELDS)
        scores = check.evaluate(parsed.node)
        return q if check._finds_visible(scores) else None

    def word_items_quiet(self, word: str) -> Scores:
        marks = self.marks
        self.marks = Marks()
        try:
            return self.word_items(word)
        finally:
            self.marks = marks

    def _finds_visible(self, scores: Iterable[int]) -> bool:
        for docnum in scores:
            meta = self.view.items.get(docnum)
            if meta is not None and self.visible(docnum, meta) and self.passes(meta):
                return True
        return False


class _SegmentCheck:
    """`node` compiled to a test of one segment's text, speaker, language and transcript kind.

    Used on candidates that whoosh found by their words, for what postings cannot tell:
    word order (phrases), exact unstemmed words, prefixes longer than the indexed grams.
    """

    def __init__(self, node: Node) -> None:
        self.node = node
        self.terms: dict[Term, list[str]] = {t: [w for w in analysis.words(t.text) if w] for t, _ in terms_of(node)}

    def __call__(self, text: str, speaker: str, language: str, tkind: str) -> bool:
        words = analysis.words(text)
        cache: dict[str, Any] = {}

        def stems() -> set[str]:
            if "stems" not in cache:
                cache["stems"] = set(analysis.stems_of(words))
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
                return language.lower() == value or language.lower().startswith(value + "-")
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
            return analysis.stem(ws[0]) in stems()

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
