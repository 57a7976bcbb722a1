"""Matching whole items: the query evaluated over item (and collection) documents.

All of a query's words must be in the item, in its metadata or any of its transcripts; a phrase
must be in one segment or one metadata field. Scores are BM25F over the items' stems, field by
field, weighed by schema.FIELD_WEIGHTS (what was said and the title above the description, the
collection's name lowest), plus an idf-like score for phrases, prefixes and exact words. A word is
looked for by its stem in each language of the search (`stem_languages`, see
analysis.query_terms); an item holding the word as typed scores above one holding only a word
of the same stem (EXACT_WEIGHT). Each term costs one pass over a posting list of at most one
entry per item.
"""

from __future__ import annotations

from itertools import islice
from math import log
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from archive.search import analysis
from archive.search.hits import body_query
from archive.search.postings import bm25_scores, doc_ids
from archive.search.query import Node, Not, Or, Term, names_value
from archive.search.schema import FIELD_WEIGHTS
from archive.search.view import ItemMeta

if TYPE_CHECKING:
    from archive.search.highlight import Marks
    from archive.search.view import View

Scores = dict[int, float]

TITLE_BOOST = FIELD_WEIGHTS["title"]
FIELD_SCORE = 0.5  #: what a field:value match adds to an item's score
PREFIX_EXPANSIONS = 256  #: most words a prefix of 5 letters or more stands for
#: What the word as typed adds, times its idf: BM25's most for one term (K1 + 1), so that the
#: exact form ranks above words that only share its stem ("evenements" above "even").
EXACT_WEIGHT = 2.2


class ItemMatching:
    """Mixed into the search (archive.search.searching): needs view, searcher, reader, marks, messages."""

    view: View
    searcher: Any
    reader: Any
    marks: Marks
    messages: list[str]
    leaf_scores: dict[Term, Scores]
    stem_languages: frozenset[str]  #: the stemmers a query word is stemmed with

    def value_known(self, meta: ItemMeta, facet: str, value: str) -> bool:
        """May the viewer know this facet value of the item (see ItemMeta.guards)? The search decides."""
        raise NotImplementedError

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
        terms = analysis.query_terms(word, self.stem_languages)
        self.marks.stems.update(terms)
        out = self.weighed(terms)
        if len(terms) > 1:  # stems as well as the word: the word as typed ranks first
            for d, s in self.existence("all_next", word).items():
                if d in out:
                    out[d] += EXACT_WEIGHT * s
        return out

    def weighed(self, terms: list[str]) -> Scores:
        """The documents holding any of `terms` (a word's stems) anywhere, each scored by the fields it
        is in (FIELD_WEIGHTS): a word said in the footage or in the title outranks one in the
        description, and that one a word of the collection's name or the creator, shared by many items."""
        out = dict.fromkeys((d for term in terms for d in doc_ids(self.reader, "all", term)), 0.0)
        if not out:
            return out
        for field_, weight in FIELD_WEIGHTS.items():
            for d, s in self.best_of(field_, terms).items():
                if d in out:
                    out[d] += weight * s
        return out

    def best_of(self, field: str, terms: list[str]) -> Scores:
        """Each document's best BM25F score among `terms` (a word's stems in several languages)."""
        out: Scores = {}
        for term in terms:
            for d, s in self.ranked(field, term).items():
                if s > out.get(d, 0.0):
                    out[d] = s
        return out

    def sequence_items(self, ws: list[str]) -> Scores:
        """Documents holding these words in this order (a quoted phrase, a CJK or hyphenated word).

        Two and three words are checked exactly against the neighbours stored with a word that is
        not a stop word (see analysis.neighbours); longer phrases as overlapping threes, and then
        against the text, as is a three whose middle word is the only one that is not a stop word.
        """
        if len(ws) == 1:
            self.marks.words.add(ws[0])
            return self.existence("all_next", ws[0])
        self.marks.sequences.append(ws)
        size = 2 if len(ws) == 2 else 3
        windows = [ws[i:i + size] for i in range(len(ws) - size + 1)]
        found: set[int] | None = None
        inexact = len(ws) > 3
        for window in sorted(windows, key=self._window_cost):
            docs, exact = self.window_docs(window, within=found)
            inexact = inexact or not exact
            found = docs if found is None else found & docs
            if not found:
                return {}
        assert found is not None
        if inexact:
            found = self.holding_sequence(found, ws)
        return dict.fromkeys(found, self.idf(len(found)))

    def _window_cost(self, window: list[str]) -> int:
        first, last = window[0], window[-1]
        costs = [self.reader.doc_frequency("all_next", first) if first not in analysis.STOPWORDS else 1 << 30,
                 self.reader.doc_frequency("all_prev", last) if last not in analysis.STOPWORDS else 1 << 30]
        return min(costs)

    def window_docs(self, window: list[str], within: set[int] | None = None) -> tuple[set[int], bool]:
        """Documents holding two or three words in a row, and whether that was checked exactly."""
        first, last = window[0], window[-1]
        rest, lead = " ".join(window[1:]), " ".join(window[:-1])
        if first not in analysis.STOPWORDS and (
                last in analysis.STOPWORDS
                or self.reader.doc_frequency("all_next", first) <= self.reader.doc_frequency("all_prev", last)):
            return self.neighbour_docs("all_next", first, rest, within), True
        if last not in analysis.STOPWORDS:
            return self.neighbour_docs("all_prev", last, lead, within), True
        if len(window) == 3 and window[1] not in analysis.STOPWORDS:  # stop, word, stop: both sides of the word
            middle = window[1]
            docs = self.neighbour_docs("all_next", middle, last, within)
            return docs & self.neighbour_docs("all_prev", middle, first, docs), False
        # Stop words only: they are in the document; the text decides.
        docs = set(doc_ids(self.reader, "all_next", first))
        for word in window[1:]:
            docs &= set(doc_ids(self.reader, "all_next", word))
        return (docs if within is None else docs & within), False

    def neighbour_docs(self, field: str, term: str, neighbour: str, within: set[int] | None) -> set[int]:
        """Documents in which `term` has `neighbour` (one or two words) after it ("all_next") or before it."""
        if (field, term) not in self.reader:
            return set()
        matcher = self.reader.postings(field, term)
        out: set[int] = set()
        while matcher.is_active():
            docnum = matcher.id()
            if (within is None or docnum in within) and analysis.follows(matcher.value(), neighbour):
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
        query = body_query(ws, self.stem_languages) or wq.Every()
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
        kept = [w for w in ws if w not in analysis.STOPWORDS] or ws
        parts = sorted((self.best_of("title", analysis.query_terms(w, self.stem_languages)) for w in kept), key=len)
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
        field_ = term.field
        assert field_ is not None
        return {d: FIELD_SCORE for d, meta in self.view.items.items()
                if any(names_value(ws, term.prefix, words) and self.value_known(meta, field_, value)
                       for value, words in meta.value_words(field_))}

    # -- postings ---------------------------------------------------------------------------------

    def ranked(self, field: str, text: str) -> Scores:
        """BM25F scores of the item and collection documents holding `text` in `field`."""
        return bm25_scores(self.searcher, field, text, doc_count=self.view.size,
                           avgfl=self.view.average_length(field))

    def existence(self, field: str, text: str) -> Scores:
        """The documents holding `text` in `field`, all scored alike by how rare it is."""
        ids = doc_ids(self.reader, field, text)
        return dict.fromkeys(ids, self.idf(len(ids)))

    def idf(self, df: int) -> float:
        return 1.0 + log(1 + self.view.size / (df + 1))

