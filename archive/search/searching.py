"""Running one search over a View: match items, keep what the viewer may see, count facets,
rank and page, then find the hits inside the page's items and suggest a spelling.

Matching works on item documents (see archive.search.schema): all of a query's words must be in
the item (its metadata or any of its transcripts), a phrase in one segment or one metadata
field. Hits are then the segments of each listed item that match the whole query on their own;
when none does (the words are spread over several segments), the segments matching any of the
words; when none of those either, the item matched on its metadata and has no hits.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from itertools import chain

from archive.access import Viewer, can_see, may_edit
from archive.models import Role
from archive.search import analysis
from archive.search.api import SORTS, CollectionHit, FacetValue, ItemHit, SearchRequest, SearchResponse, SegmentHit
from archive.search.documents import ValueGuard
from archive.search.highlight import Marks, sentence_snippet, snippet
from archive.search.hits import SegmentHits
from archive.search.matching import ItemMatching, Scores
from archive.search.postings import doc_ids
from archive.search.query import And, Node, Term, parse_query, terms_of
from archive.search.schema import FACET_NAMES, FACETS, QUERY_FIELDS
from archive.search.view import ItemMeta, View


#: Given item ids the index would show, those the database still shows the viewer.
Confirm = Callable[[list[int]], Collection[int]]


def run_search(view: View, request: SearchRequest, viewer: Viewer, *, confirm: Confirm | None = None) -> SearchResponse:
    return _Search(view, request, viewer, confirm).run()


class _Search(ItemMatching, SegmentHits):
    def __init__(self, view: View, request: SearchRequest, viewer: Viewer, confirm: Confirm | None = None) -> None:
        self.view = view
        self.searcher = view.searcher
        self.reader = view.searcher.reader()
        self.leaf_scores: dict[Term, Scores] = {}
        self._collections: tuple[set[int | None], set[int | None]] | None = None
        self._start(request, viewer, confirm)

    def _start(self, request: SearchRequest, viewer: Viewer, confirm: Confirm | None) -> None:
        """The state of one search that every engine's search has (self.view must be set first:
        the stemming languages are read from it)."""
        self.request = request
        self.viewer = viewer
        self.messages: list[str] = []
        self.marks = Marks()
        self.filters = {name: set(values) for name, values in request.filters.items()
                        if name in FACET_NAMES and values}
        self.dates = (request.date_from.toordinal() if request.date_from else None,
                      request.date_to.toordinal() if request.date_to else None)
        self._visible: dict[int, bool] = {}
        self._filter_names: dict[str, set[tuple[str, ...]]] = {}
        self.confirm = confirm
        #: items the index shows the viewer but the database no longer does (see `confirm`)
        self._hidden_since: set[int] = set()
        self._known_guards: dict[tuple[ValueGuard, ...], bool] = {}
        self._item_facets: dict[int, dict[str, tuple[str, ...]]] = {}
        self.stem_languages = self.languages_for(None)

    # -- the whole search ----------------------------------------------------------------------

    def run(self) -> SearchResponse:
        """The whole search; each engine says how it finds the items (`matching_rows`), the hits in
        their segments (`segment_hits`) and the collections (`collections_for`)."""
        req = self.request
        page, per_page = max(1, req.page), max(1, min(req.per_page, 100))
        parsed = parse_query(req.q.strip(), QUERY_FIELDS)
        self.messages += parsed.messages
        node = parsed.node
        self.stem_languages = self.languages_for(node)
        visible = self.matching_rows(node)
        if self.confirm is not None and visible:
            shown = set(self.confirm([meta.item_id for _, meta, _ in visible]))
            self._hidden_since = {meta.item_id for _, meta, _ in visible if meta.item_id not in shown}
            if self._hidden_since:
                visible = [r for r in visible if r[1].item_id in shown]
        results = [r for r in visible if self.passes(r[1])]
        facets = self.count_facets(visible, results)
        self.sort(results, ranked=node is not None)
        page_results = results[(page - 1) * per_page: page * per_page]
        page_ids = [meta.item_id for _, meta, _ in page_results]
        relaxed = self.relaxed(node)
        if relaxed is not None and self.plain_words(node):
            # One pass: a segment holding more of the words scores higher, so it comes first.
            hits = self.segment_hits(page_ids, relaxed)
        else:
            hits = self.segment_hits(page_ids, node)
            missing = [i for i in page_ids if not hits.get(i)]
            if missing and relaxed is not None:
                hits.update(self.segment_hits(missing, relaxed))
        items = []
        for _, meta, score in page_results:
            found = hits.get(meta.item_id, [])
            # Without a hit in what was said, the description's matching sentence shows why it was found.
            items.append(ItemHit(meta.item_id, meta.title, score, found,
                                 "" if found else sentence_snippet(meta.description, self.marks, language=meta.catalogue_language,
                                                                  fallback=meta.catalogue_language),
                                 self.range_hits(meta, node)))
        collections = (self.collections_for(node) if page == 1 and not self.filters and not req.dated
                       and node is not None else [])
        suggestion = self.suggest(node) if node is not None else None
        message = " ".join(dict.fromkeys(self.messages)) or None
        return SearchResponse(len(results), items, facets, page=page, per_page=per_page, suggestion=suggestion,
                              message=message, collections=collections)

    def matching_rows(self, node: Node | None) -> list[tuple[int, ItemMeta, float]]:
        """(document, meta, score) of the items matching `node` that the viewer may see."""
        self._scores = self.evaluate(node)
        return [(docnum, meta, score) for docnum, score in self._scores.items()
                if (meta := self.view.items.get(docnum)) is not None and self.visible(docnum, meta)]

    def segment_hits(self, item_ids: list[int], node: Node | None) -> dict[int, list[SegmentHit]]:
        return self.hits(item_ids, node, self.segment_query(node))

    def collections_for(self, node: Node | None) -> list[CollectionHit]:
        return self.collection_hits(self._scores)

    def languages_for(self, node: Node | None) -> frozenset[str]:
        """The stemmers query words are stemmed with: those of the languages the search is limited
        to (a language filter, or language:xx among the words that must all hold), else every one
        in the index. A language without a Latin-script stemmer brings the catalogue's (its texts'
        Latin words were stemmed in that, see analysis.word_language)."""
        chosen = set(self.filters.get("language", ()))
        if node is not None:
            children = node.children if isinstance(node, And) else (node,)
            chosen |= {c.text for c in children if isinstance(c, Term) and c.field == "language" and c.text}
        if not chosen:
            return self.view.stem_languages
        codes = {analysis.stem_language(tag) for tag in chosen}
        if any(not code or not analysis.STEMMERS[code][1] for code in codes):
            codes |= self.view.catalogue_languages
        return frozenset(codes - {""})

    def visible(self, docnum: int, meta: ItemMeta) -> bool:
        seen = self._visible.get(docnum)
        if seen is None:
            seen = self._visible[docnum] = can_see(self.viewer, meta)  # type: ignore[arg-type]
        return seen and meta.item_id not in self._hidden_since

    # -- facet values the viewer may know ---------------------------------------------------------

    def knows(self, guards: tuple[ValueGuard, ...]) -> bool:
        """Does one of a guarded value's guards let the viewer know it (archive.access's rule)?"""
        known = self._known_guards.get(guards)
        if known is None:
            known = self._known_guards[guards] = any(g.allows(self.viewer) for g in guards)
        return known

    def value_known(self, meta: ItemMeta, facet: str, value: str) -> bool:
        guards = meta.guards.get(facet, {}).get(value) if meta.guards else None
        return guards is None or self.knows(guards)

    def facets_of(self, meta: ItemMeta) -> dict[str, tuple[str, ...]]:
        """The item's facet values the viewer may know."""
        if not meta.guards:
            return meta.facets
        found = self._item_facets.get(meta.item_id)
        if found is None:
            found = self._item_facets[meta.item_id] = {
                name: tuple(v for v in values if self.value_known(meta, name, v))
                for name, values in meta.facets.items()}
        return found

    def facet_keys_of(self, meta: ItemMeta) -> Iterable[tuple[str, str]]:
        if not meta.guards:
            return meta.facet_keys
        return ((name, v) for name, values in self.facets_of(meta).items() for v in values)

    def passes(self, meta: ItemMeta, skip: str | None = None) -> bool:
        low, high = self.dates
        if low is not None or high is not None:
            if meta.date is None:
                return False
            if (high is not None and meta.date > high) or (low is not None and (meta.date_upper or meta.date) < low):
                return False  # the item's (possibly uncertain) interval does not overlap from..to
        for name, wanted in self.filters.items():
            if name != skip and wanted.isdisjoint(self.facets_of(meta).get(name, ())) \
                    and not self.named_in_filter(meta, name):
                return False
        return True

    def named_in_filter(self, meta: ItemMeta, facet: str) -> bool:
        """Does a filter value name one of the item's values of `facet` as name:value would, by its
        folded words or one of its other names (?country=china or ?country=CN as country:china)?"""
        if facet not in QUERY_FIELDS:
            return False
        names = self._filter_names.get(facet)
        if names is None:
            names = self._filter_names[facet] = {tuple(w for w in analysis.words(v) if w) for v in self.filters[facet]}
        return any(tuple(words) in names and self.value_known(meta, facet, value)
                   for value, words in meta.value_words(facet))

    def count_facets(self, visible: list, results: list) -> dict[str, list[FacetValue]]:
        """Counts of the values of every facet among the results; a facet that is filtered on is
        counted without its own filter, so that its other values can still be chosen."""
        counts = Counter(chain.from_iterable(self.facet_keys_of(meta) for _, meta, _ in results))
        out: dict[str, list[FacetValue]] = {}
        for facet in FACETS:
            if facet.name in self.filters:
                own = Counter(v for _, meta, _ in visible if self.passes(meta, skip=facet.name)
                              for v in self.facets_of(meta).get(facet.name, ()))
                values = list(own.items())
            else:
                values = [(v, n) for (name, v), n in counts.items() if name == facet.name]
            if facet.newest_first:
                values.sort(key=lambda kv: kv[0], reverse=True)
            else:
                values.sort(key=lambda kv: (-kv[1], kv[0].casefold()))
            out[facet.name] = [FacetValue(v, n) for v, n in values[:self.request.facet_limit]]
        return out

    def sort(self, results: list, *, ranked: bool) -> None:
        sort = self.request.sort if self.request.sort in SORTS else "relevance"
        if sort == "relevance" and ranked:
            results.sort(key=lambda r: (-r[2], -(r[1].date or 0), r[1].item_id))
        elif sort == "date_shot":
            results.sort(key=lambda r: (r[1].date is None, r[1].date or 0, r[1].item_id))
        else:  # -date_shot, and relevance without a query
            results.sort(key=lambda r: (r[1].date is None, -(r[1].date or 0), -r[1].item_id))

    # -- collections ---------------------------------------------------------------------------

    def collection_known(self, collection_id: int) -> bool:
        """The access policy's rule for collections (archive.access.collection_filter): known when the
        viewer may see one of its items; editors also know those with no item yet; admins all."""
        if self.viewer.role is Role.admin:
            return True
        if self._collections is None:
            self._collections = ({m.collection_id for d, m in self.view.items.items() if self.visible(d, m)},
                                 {m.collection_id for m in self.view.items.values()})
        known, indexed = self._collections
        return collection_id in known or (may_edit(self.viewer) and collection_id not in indexed)

    def collection_hits(self, scores: Scores, limit: int = 5) -> list[CollectionHit]:
        found = sorted(((s, d) for d, s in scores.items()
                        if d in self.view.collections and self.collection_known(self.view.collections[d].collection_id)),
                       key=lambda x: -x[0])
        out = []
        for score, docnum in found[:limit]:
            meta = self.view.collections[docnum]
            rest = " ".join(meta.meta_text.split(analysis.BOUNDARY)[1:])
            out.append(CollectionHit(meta.collection_id, meta.title, score, snippet(rest, self.marks, language=meta.catalogue_language,
                                                                    fallback=meta.catalogue_language)))
        return out

    # -- did you mean ------------------------------------------------------------------------------

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
            if self.in_visible_vocabulary(word):
                continue  # not misspelt: this viewer may see where the word is
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
        check = _Search(self.view, dataclasses.replace(self.request, q=q), self.viewer)
        check._hidden_since = self._hidden_since
        check.stem_languages = self.stem_languages
        parsed = parse_query(q, QUERY_FIELDS)
        scores = check.evaluate(parsed.node)
        return q if check._finds_visible(scores) else None

    def in_visible_vocabulary(self, word: str) -> bool:
        """Is `word` in a document this viewer may see? Words of hidden documents count as unknown,
        so that whether a suggestion is looked for never tells what hidden material holds."""
        if ("all_next", word) not in self.reader:
            return False
        for docnum in doc_ids(self.reader, "all_next", word):
            meta = self.view.items.get(docnum)
            if meta is not None and self.visible(docnum, meta):
                return True
            collection = self.view.collections.get(docnum)
            if collection is not None and self.collection_known(collection.collection_id):
                return True
        return False

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
