"""One search on the PostgreSQL engine: the query's parse tree (archive.search.query) translated to
SQL over archive.search.pg_tables, with the access policy in the same WHERE clause.

Matching has the whoosh engine's meaning (archive.search.matching): a plain word matches an
item holding one of its terms (analysis.query_terms) anywhere; a phrase, a CJK word or a stop
word must be in one metadata field or one segment, in order (`<->` over positional vectors); a
prefix matches word beginnings (`:*`); field:value a run of a value's words. Filters, facets,
sorting, time-range hits and the access checks of facet values are the whoosh engine's own code
(inherited from archive.search.searching), run on the rows PostgreSQL returns; segment hits are
checked with hits.SegmentCheck and marked with highlight.snippet, as there.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from archive.access import Viewer, level_filter, may_edit
from archive.models import Role
from archive.search import analysis
from archive.search.api import CollectionHit, SearchRequest, SegmentHit
from archive.search.highlight import snippet
from archive.search.hits import HIT_CANDIDATES, SegmentCheck
from archive.search.pg_tables import lexeme, search_collections, search_items, search_segments, search_words
from archive.search.query import Node, Not, Or, Term, names_value, parse_query, terms_of
from archive.search.schema import QUERY_FIELDS
from archive.search.searching import Confirm, _Search
from archive.search.view import ItemMeta

I, S, C = search_items.c, search_segments.c, search_collections.c
TITLE_WEIGHT = 3.0  #: as schema.FIELD_WEIGHTS["title"]
SUGGESTION_CANDIDATES = 8


def tsquery(text: str) -> sa.ColumnElement[Any]:
    return sa.cast(sa.literal(text), TSQUERY)


def matches(vector: sa.ColumnElement[Any], q: str) -> sa.ColumnElement[bool]:
    """`vector @@ q`, with `q` written as tsquery text (lexemes quoted by `lexeme`)."""
    return vector.op("@@", return_type=sa.Boolean())(tsquery(q))


def _any(terms: Sequence[str]) -> str:
    return "(" + " | ".join(lexeme(t) for t in terms) + ")"


def _sequence(ws: Sequence[str], *, prefix: bool = False, field: str = "") -> str:
    parts = [lexeme(field + w) for w in ws]
    if prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


class MetaCache:
    """ItemMeta by item id and version, kept between searches (as the whoosh engine keeps its
    table), so that a search reads only ids, versions and scores of the items it matches."""

    LIMIT = 500_000  #: items kept; past it the cache starts again

    def __init__(self) -> None:
        self._metas: dict[int, tuple[str, ItemMeta]] = {}
        self._lock = threading.Lock()

    def get(self, conn: sa.Connection, wanted: list[tuple[int, str]]) -> dict[int, ItemMeta]:
        out: dict[int, ItemMeta] = {}
        missing = []
        for item_id, version in wanted:
            held = self._metas.get(item_id)
            if held is not None and held[0] == version:
                out[item_id] = held[1]
            else:
                missing.append(item_id)
        for start in range(0, len(missing), 5000):
            rows = conn.execute(sa.select(I.item_id, I.version, I.meta).where(I.item_id.in_(missing[start:start + 5000])))
            fresh = {item_id: (version, ItemMeta(meta)) for item_id, version, meta in rows}
            with self._lock:
                if len(self._metas) + len(fresh) > self.LIMIT:
                    self._metas = {}
                self._metas.update(fresh)
            out.update((item_id, meta) for item_id, (_, meta) in fresh.items())
        return out


@dataclasses.dataclass(frozen=True)
class _Languages:
    """What languages_for (archive.search.searching) asks of an index."""
    stem_languages: frozenset[str]
    catalogue_languages: frozenset[str]


class PgSearch(_Search):
    """The whoosh engine's search with its matching, hits and suggestions done in SQL."""

    def __init__(self, conn: sa.Connection, languages: _Languages, request: SearchRequest, viewer: Viewer,
                 confirm: Confirm | None = None, metas: MetaCache | None = None) -> None:
        self.conn = conn
        self.metas = metas if metas is not None else MetaCache()
        self.view = languages  # type: ignore[assignment]  # languages_for reads only these two
        self._guarded: list[ItemMeta] | None = None
        self._start(request, viewer, confirm)
        self.ranked_terms: list[str] = []  #: the plain words' terms, for ts_rank

    # -- what _Search.run asks of an engine -------------------------------------------------------

    def matching_rows(self, node: Node | None) -> list[tuple[int, ItemMeta, float]]:
        return self.visible_rows(self.item_match(node))

    def collections_for(self, node: Node | None) -> list[CollectionHit]:
        return self.collections_found(node)

    def visible_rows(self, where: sa.ColumnElement[bool] | None) -> list[tuple[int, ItemMeta, float]]:
        """(item id, meta, score) of the matching items the viewer may see."""
        score: sa.ColumnElement[Any] = sa.literal(0.0)
        if self.ranked_terms:
            q = tsquery(_any(sorted(set(self.ranked_terms))))
            score = sa.func.ts_rank(I.stems, q) + TITLE_WEIGHT * sa.func.ts_rank(I.title_stems, q)
        query = sa.select(I.item_id, I.version, score).where(level_filter(self.viewer, I.access, I.collection_id))
        if where is not None:
            query = query.where(where)
        rows = self.conn.execute(query).all()
        metas = self.metas.get(self.conn, [(item_id, version) for item_id, version, _ in rows])
        return [(item_id, metas[item_id], float(s) + 1.0) for item_id, _, s in rows if item_id in metas]

    # -- the parse tree as SQL -------------------------------------------------------------------

    def item_match(self, node: Node | None, *, collections: bool = False) -> sa.ColumnElement[bool] | None:
        """A WHERE clause for search_items (or search_collections) rows matching `node`; None: all."""
        if node is None:
            return None
        if isinstance(node, Term):
            return self.leaf(node, collections)
        if isinstance(node, Not):
            child = self.item_match(node.child, collections=collections)
            return None if child is None else sa.not_(child)
        if isinstance(node, Or):
            parts = [p for p in (self.item_match(c, collections=collections) for c in node.children) if p is not None]
            return sa.or_(*parts) if parts else None
        positives = [p for c in node.children if not isinstance(c, Not)
                     if (p := self.item_match(c, collections=collections)) is not None]
        negatives = [p for c in node.children if isinstance(c, Not)
                     if (p := self.item_match(c.child, collections=collections)) is not None]
        if not positives and not negatives:
            return None
        return sa.and_(sa.true(), *positives, *(sa.not_(n) for n in negatives))

    def leaf(self, term: Term, collections: bool) -> sa.ColumnElement[bool] | None:
        ws = [w for w in analysis.words(term.text) if w]
        if not ws:
            return None
        if term.field is None:
            return self.text_leaf(term, ws, collections)
        if collections:
            return sa.false()  # field:value names items only
        if term.field == "title":
            return self.title_leaf(term, ws)
        return self.facet_leaf(term, ws)

    def text_leaf(self, term: Term, ws: list[str], collections: bool) -> sa.ColumnElement[bool]:
        stems, words = (C.stems, C.words) if collections else (I.stems, I.words)

        def in_order(q: str) -> sa.ColumnElement[bool]:
            if collections:
                return matches(words, q)
            return sa.or_(matches(words, q),
                          I.item_id.in_(sa.select(S.item_id).where(matches(S.words, q))))

        if term.prefix:
            last = ws[-1]
            if analysis.is_cjk(last) or len(last) < analysis.PREFIX_MIN:
                self.note(f"Searches for the start of a word need at least {analysis.PREFIX_MIN} "
                          f"letters: {term.text}* was searched as a word.")
            else:
                self.marks.prefixes.add(last)
                found = in_order(f"{lexeme(last)}:*")
                head = ws[:-1]
                if head:  # as the whoosh engine: the words before the prefix in order, the prefix anywhere
                    if len(head) > 1:
                        self.marks.sequences.append(head)
                    else:
                        self.marks.words.add(head[0])
                    return sa.and_(found, in_order(_sequence(head)))
                return found
        if term.quoted or len(ws) > 1:
            if len(ws) == 1:
                self.marks.words.add(ws[0])
            else:
                self.marks.sequences.append(ws)
            return in_order(_sequence(ws))
        word = ws[0]
        if word in analysis.STOPWORDS:
            self.marks.words.add(word)
            return in_order(lexeme(word))
        terms = analysis.query_terms(word, self.stem_languages)
        self.marks.stems.update(terms)
        self.ranked_terms += terms
        return matches(stems, _any(terms))

    def note(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def title_leaf(self, term: Term, ws: list[str]) -> sa.ColumnElement[bool]:
        if term.prefix:
            return matches(I.title_words, f"{lexeme(ws[-1])}:*")
        kept = [w for w in ws if w not in analysis.STOPWORDS] or ws
        parts = [matches(I.title_stems, (_any(analysis.query_terms(w, self.stem_languages)))) for w in kept]
        if term.quoted and len(ws) > 1:
            parts.append(matches(I.title_words, _sequence(ws)))
        return sa.and_(*parts)

    def facet_leaf(self, term: Term, ws: list[str]) -> sa.ColumnElement[bool]:
        """Open values in the `facets` vector; guarded ones per viewer, from the few items that have them."""
        field = term.field
        assert field is not None
        found = matches(I.facets, (_sequence(ws, prefix=term.prefix, field=f"{field}:")))
        guarded = [meta.item_id for meta in self.guarded_items()
                   if any(value in meta.guards.get(field, {}) and names_value(ws, term.prefix, words)
                          and self.value_known(meta, field, value) for value, words in meta.value_words(field))]
        return sa.or_(found, I.item_id.in_(guarded)) if guarded else found

    def guarded_items(self) -> list[ItemMeta]:
        if self._guarded is None:
            rows = self.conn.execute(sa.select(I.meta).where(I.meta["guards"] != sa.cast(sa.literal("{}"), I.meta.type)))
            self._guarded = [ItemMeta(meta) for (meta,) in rows]
        return self._guarded

    # -- hits inside the page's items -------------------------------------------------------------

    def segment_match(self, node: Node | None) -> sa.ColumnElement[bool] | None:
        """Segments that may match `node` (any of its positive words); SegmentCheck decides."""
        parts = []
        for term, negated in terms_of(node):
            ws = [w for w in analysis.words(term.text) if w]
            if negated or not ws:
                continue
            if term.field == "speaker":
                parts.append(matches(S.speaker_words, _sequence(ws, prefix=term.prefix)))
            elif term.field is not None:
                continue
            elif term.prefix and not analysis.is_cjk(ws[-1]) and len(ws[-1]) >= analysis.PREFIX_MIN:
                parts.append(matches(S.words, _sequence(ws, prefix=True)))
            elif term.quoted or len(ws) > 1 or ws[0] in analysis.STOPWORDS:
                parts.append(matches(S.words, _sequence(ws)))
            else:
                parts.append(matches(S.stems, (_any(analysis.query_terms(ws[0], self.stem_languages)))))
        return sa.or_(*parts) if parts else None

    def segment_hits(self, item_ids: list[int], node: Node | None) -> dict[int, list[SegmentHit]]:
        where = self.segment_match(node)
        if where is None or not item_ids or node is None:
            return {}
        rank = sa.func.ts_rank(S.stems, tsquery(_any(sorted(set(self.ranked_terms))))) if self.ranked_terms \
            else sa.literal(0.0)
        query = sa.select(S.segment_id, S.item_id, S.transcript_id, S.start, S.end, S.speaker, S.language, S.text,
                          S.kind, S.stem_language, S.catalogue_language, rank.label("rank")
                          ).where(S.item_id.in_(item_ids), where)
        if "language" in self.filters:
            wanted = sorted(self.filters["language"])
            query = query.where(sa.or_(*(sa.or_(sa.func.lower(S.language) == v.lower(),
                                                 sa.func.lower(S.language).startswith(v.lower() + "-"))
                                          for v in wanted)))
        if "speaker" in self.filters:
            query = query.where(S.speaker.in_(sorted(self.filters["speaker"])))
        ordered = query.order_by(S.item_id, sa.desc("rank"), S.segment_id)
        check = SegmentCheck(node, self.stem_languages)
        out: dict[int, list[SegmentHit]] = {}
        seen: dict[int, int] = {}
        for row in self.conn.execute(ordered):
            found = out.setdefault(row.item_id, [])
            seen[row.item_id] = seen.get(row.item_id, 0) + 1
            if len(found) >= self.request.hits_per_item or seen[row.item_id] > HIT_CANDIDATES:
                continue
            if not check(row.text, row.speaker, row.language, row.kind, row.stem_language, row.catalogue_language):
                continue
            found.append(SegmentHit(row.segment_id, row.transcript_id, row.start, row.end,
                                    snippet(row.text, self.marks, language=row.stem_language,
                                            fallback=row.catalogue_language),
                                    row.speaker, row.language, float(row.rank)))
        for found in out.values():
            found.sort(key=lambda h: (h.start, h.segment_id))
        return {item_id: found for item_id, found in out.items() if found}

    # -- collections -------------------------------------------------------------------------------

    def collection_filter(self) -> sa.ColumnElement[bool]:
        """archive.access.collection_filter's rule, over the indexed items."""
        if self.viewer.role is Role.admin:
            return sa.true()
        items = sa.select(I.item_id).where(I.collection_id == C.collection_id)
        known = items.where(level_filter(self.viewer, I.access, I.collection_id)).exists()
        if may_edit(self.viewer):
            return sa.or_(known, ~items.exists())
        return known

    def collections_found(self, node: Node | None, limit: int = 5) -> list[CollectionHit]:
        where = self.item_match(node, collections=True)
        score = (sa.func.ts_rank(C.stems, tsquery(_any(sorted(set(self.ranked_terms))))) if self.ranked_terms
                 else sa.literal(0.0))
        query = sa.select(C.collection_id, C.meta, score.label("score")).where(self.collection_filter())
        if where is not None:
            query = query.where(where)
        out = []
        for collection_id, meta, score_ in self.conn.execute(query.order_by(sa.desc("score"), C.collection_id).limit(limit)):
            rest = " ".join(meta["meta_text"].split(analysis.BOUNDARY)[1:])
            out.append(CollectionHit(collection_id, meta["title"], float(score_) + 1.0,
                                     snippet(rest, self.marks, language=meta["catalogue_language"],
                                             fallback=meta["catalogue_language"])))
        return out

    # -- did you mean ------------------------------------------------------------------------------

    def suggest(self, node: Node) -> str | None:
        """As the whoosh engine's: a near word from search_words, offered only if it finds what the
        viewer may see (with the same filters)."""
        replacements: dict[tuple[int, int], str] = {}
        for term, negated in terms_of(node):
            if negated or term.field or term.quoted or term.prefix:
                continue
            ws = [w for w in analysis.words(term.text) if w]
            if len(ws) != 1 or analysis.is_cjk(ws[0]) or ws[0] in analysis.STOPWORDS or ws[0].isdigit():
                continue
            word = ws[0]
            if self.in_visible_vocabulary(word) or self.finds_visible(term):
                continue  # not misspelt: this viewer may see where the word is
            distance = 1 if len(word) < 5 else 2
            candidates = self.conn.execute(
                sa.select(search_words.c.word).where(
                    search_words.c.word.op("%")(word), search_words.c.word != word,
                    sa.func.left(search_words.c.word, 1) == word[:1],
                    sa.func.levenshtein(search_words.c.word, word) <= distance)
                .order_by(sa.func.levenshtein(search_words.c.word, word), sa.desc(sa.func.similarity(search_words.c.word, word)),
                          search_words.c.word).limit(SUGGESTION_CANDIDATES)).scalars()
            for candidate in candidates:
                if self.finds_visible(Term(candidate)):
                    replacements[term.span] = candidate
                    break
        if not replacements:
            return None
        q = self.request.q.strip()
        for (start, end), word in sorted(replacements.items(), reverse=True):
            q = q[:start] + word + q[end:]
        check = self.quiet()
        return q if check.finds_visible(parse_query(q, QUERY_FIELDS).node) else None

    def in_visible_vocabulary(self, word: str) -> bool:
        """Is `word` in an item this viewer may see, or a collection they may know? (One EXISTS each:
        words of hidden documents count as unknown, as in the whoosh engine.)"""
        check = self.quiet()
        term = Term(word, quoted=True)
        items = sa.select(I.item_id).where(level_filter(self.viewer, I.access, I.collection_id),
                                           check.text_leaf(term, [word], collections=False))
        if self._hidden_since:
            items = items.where(I.item_id.not_in(sorted(self._hidden_since)))
        collections = sa.select(C.collection_id).where(self.collection_filter(),
                                                       check.text_leaf(term, [word], collections=True))
        return bool(self.conn.scalar(sa.select(sa.or_(items.exists(), collections.exists()))))

    def quiet(self) -> PgSearch:
        """A search like this one that marks and notes nothing of its own."""
        other = PgSearch(self.conn, self.view, self.request, self.viewer, metas=self.metas)  # type: ignore[arg-type]
        other.stem_languages = self.stem_languages
        other._hidden_since = self._hidden_since
        return other

    def finds_visible(self, node: Node | None) -> bool:
        """Does `node` match an item the viewer may see that passes the filters?"""
        check = self.quiet()
        where = check.item_match(node)
        query = sa.select(I.item_id, I.version).where(level_filter(self.viewer, I.access, I.collection_id))
        if where is not None:
            query = query.where(where)
        for item in self.metas.get(self.conn, [tuple(r) for r in self.conn.execute(query)]).values():
            if item.item_id not in self._hidden_since and self.passes(item):
                return True
        return False
