"""The PostgreSQL engine's tables, and how an ItemDoc or a CollectionDoc becomes their rows.

The engine keeps its index in the catalogue database (migration 0013 makes these tables on
PostgreSQL only). Words are analysed in Python by archive.search.analysis, the same code the
whoosh engine, queries and snippets use, so CJK bigrams, Thai and Lao words and accent folding
are the project's own; PostgreSQL is given the resulting lexemes as tsvector literals and never
parses text itself. Two kinds of vector:

* `stems`: the ranked terms (analysis.stems_of), no positions: plain words match these.
* `words`: the folded units in order, with positions, for phrases, prefixes and CJK words
  (`<->`); parts of a text (analysis.BOUNDARY) are kept two positions apart, so a phrase never
  spans two fields. Segments have their own row, so a phrase never spans two segments either.

Facet values that every viewer of the item may know are in `facets` as `name:word` lexemes (for
name:value); guarded values are left out and matched per viewer from `meta`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from archive.models import NAMING
from archive.search import analysis
from archive.search.documents import CollectionDoc, ItemDoc
from archive.search.schema import FACET_NAMES, QUERY_FIELDS, SCHEMA_VERSION, collection_meta, item_meta
from archive.search.view import ItemMeta

#: Bumped with the tables' shape or what goes into them; and with the analysis (SCHEMA_VERSION).
PG_SCHEMA_VERSION = f"pg-1/{SCHEMA_VERSION}"
MAX_POSITION = 16383  #: PostgreSQL's largest tsvector position
MAX_LEXEME_BYTES = 2046  #: PostgreSQL's longest lexeme
#: Facets that may be written as name:value, matched on the `facets` vector.
SEARCHABLE_FACETS = tuple(name for name in FACET_NAMES if name in QUERY_FIELDS)



class Vector(sa.types.TypeDecorator[str]):
    """A tsvector given as a literal (see `plain_vector`, `positional_vector`), cast on the way in."""
    impl = TSVECTOR
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return sa.cast(bindvalue, TSVECTOR)


metadata = sa.MetaData(naming_convention=NAMING)

search_state = sa.Table(
    "search_state", metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

search_items = sa.Table(
    "search_items", metadata,
    sa.Column("item_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("access", sa.String(20), nullable=False),
    sa.Column("collection_id", sa.Integer(), nullable=True),
    sa.Column("meta", JSONB(), nullable=False),  #: schema.item_meta: facets, sorting, ranges
    #: meta's stem_languages, apart: every search reads them all (a query word is stemmed in each)
    sa.Column("stem_languages", ARRAY(sa.String(10)), nullable=False),
    sa.Column("stems", Vector(), nullable=False),  #: every ranked term of the item and its segments
    sa.Column("words", Vector(), nullable=False),  #: the item's own fields, positional
    sa.Column("title_stems", Vector(), nullable=False),
    sa.Column("title_words", Vector(), nullable=False),
    sa.Column("facets", Vector(), nullable=False),  #: name:word of open facet values, positional
    sa.Index("ix_search_items_stems", "stems", postgresql_using="gin"),
    sa.Index("ix_search_items_words", "words", postgresql_using="gin"),
    sa.Index("ix_search_items_facets", "facets", postgresql_using="gin"),
    sa.Index("ix_search_items_collection_id", "collection_id"),
)

search_segments = sa.Table(
    "search_segments", metadata,
    sa.Column("segment_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("item_id", sa.Integer(), nullable=False),
    sa.Column("transcript_id", sa.Integer(), nullable=False),
    sa.Column("start", sa.Float(), nullable=False),  #: seconds from the start of the media
    sa.Column("end", sa.Float(), nullable=False),  #: seconds from the start of the media
    sa.Column("speaker", sa.Text(), nullable=False),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("stem_language", sa.String(10), nullable=False),
    sa.Column("catalogue_language", sa.String(10), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("stems", Vector(), nullable=False),
    sa.Column("words", Vector(), nullable=False),
    sa.Column("speaker_words", Vector(), nullable=False),
    sa.Index("ix_search_segments_item_id", "item_id"),
    sa.Index("ix_search_segments_stems", "stems", postgresql_using="gin"),
    sa.Index("ix_search_segments_words", "words", postgresql_using="gin"),
)

search_collections = sa.Table(
    "search_collections", metadata,
    sa.Column("collection_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("meta", JSONB(), nullable=False),  #: schema.collection_meta
    sa.Column("stems", Vector(), nullable=False),
    sa.Column("words", Vector(), nullable=False),
)

#: Every word indexed, for "did you mean" (pg_trgm's % and fuzzystrmatch's levenshtein); words of
#: removed documents stay, since each suggestion is checked against what the viewer may see.
search_words = sa.Table(
    "search_words", metadata,
    sa.Column("word", sa.Text(), primary_key=True),
    sa.Index("ix_search_words_word_trgm", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"}),
)


def lexeme(word: str) -> str:
    """A word quoted as a tsvector or tsquery lexeme (PostgreSQL parses nothing inside it)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _fits(word: str) -> bool:
    return bool(word) and len(word.encode()) <= MAX_LEXEME_BYTES


def plain_vector(terms: Iterable[str]) -> str:
    """A tsvector literal of these lexemes, without positions."""
    return " ".join(lexeme(t) for t in sorted({t for t in terms if _fits(t)}))


def positional_vector(parts: Iterable[list[str]], prefix: str = "") -> str:
    """A tsvector literal of the units of each part at their positions; "" units and parts are two apart."""
    positions: dict[str, list[int]] = {}
    at = 1
    for units in parts:
        for unit in units:
            if at > MAX_POSITION:
                break
            if unit:
                if _fits(prefix + unit):
                    positions.setdefault(prefix + unit, []).append(at)
                at += 1
            else:
                at += 2
        at += 2
    return " ".join(f"{lexeme(w)}:{','.join(map(str, ps[:256]))}" for w, ps in sorted(positions.items()))


def _units(text: str) -> list[str]:
    return analysis.words(text)


def _stems(text: str, language: str, catalogue: str) -> list[str]:
    return analysis.stems_of(analysis.words(text), language, catalogue)


def item_rows(doc: ItemDoc, catalogue: str = "en") -> tuple[dict[str, Any], list[dict[str, Any]], set[str]]:
    """The search_items row of an item, its search_segments rows, and its words (for search_words)."""
    meta = item_meta(doc, catalogue)
    meta_text = meta["meta_text"]
    stems = set(_stems(meta_text, catalogue, catalogue))
    vocabulary = {w for w in _units(meta_text) if w and not analysis.is_cjk(w)}
    segments: list[dict[str, Any]] = []
    for transcript in doc.transcripts:
        stem_language = analysis.stem_language(transcript.language.lower())
        for s in transcript.segments:
            units = _units(s.text)
            seg_stems = analysis.stems_of(units, stem_language, catalogue)
            stems.update(seg_stems)
            speaker_units = [w for w in _units(s.speaker) if w]
            stems.update(analysis.stems_of(speaker_units, "", catalogue))
            vocabulary.update(w for w in units if w and not analysis.is_cjk(w))
            segments.append({"segment_id": s.id, "item_id": doc.id, "transcript_id": transcript.id,
                             "start": s.start, "end": s.end, "speaker": s.speaker,
                             "language": transcript.language, "kind": transcript.kind,
                             "stem_language": stem_language, "catalogue_language": catalogue, "text": s.text,
                             "stems": plain_vector(seg_stems), "words": positional_vector([units]),
                             "speaker_words": positional_vector([speaker_units])})
    values = ItemMeta(meta)
    facet_parts = []
    for facet in SEARCHABLE_FACETS:
        guarded = meta["guards"].get(facet, {})
        facet_parts += [[f"{facet}:{w}" for w in words] for value, words in values.value_words(facet)
                        if value not in guarded]
    row = {"item_id": doc.id, "version": doc.version, "access": str(getattr(doc.access, "value", doc.access)),
           "collection_id": doc.collection_id, "meta": meta, "stem_languages": meta["stem_languages"],
           "stems": plain_vector(stems),
           "words": positional_vector([_units(meta_text)]),
           "title_stems": plain_vector(_stems(doc.title, catalogue, catalogue)),
           "title_words": positional_vector([_units(doc.title)]),
           "facets": positional_vector(facet_parts)}
    return row, segments, vocabulary


def collection_row(doc: CollectionDoc, catalogue: str = "en") -> tuple[dict[str, Any], set[str]]:
    """The search_collections row of a collection, and its words."""
    meta = collection_meta(doc, catalogue)
    units = _units(meta["meta_text"])
    return ({"collection_id": doc.id, "version": doc.version, "meta": meta,
             "stems": plain_vector(_stems(meta["meta_text"], catalogue, catalogue)),
             "words": positional_vector([units])},
            {w for w in units if w and not analysis.is_cjk(w)})

