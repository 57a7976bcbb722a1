"""The index's fields and facets, and how an ItemDoc becomes whoosh documents.

One index holds three kinds of document:

* an **item** document per item: title, description, creator, tags, collection title and all
  its transcripts' text in item-level fields (`all`: stems, ranked; `all_next` and `all_prev`:
  words, with the words that follow and precede them, for phrases; `all_grams`: word
  beginnings, for prefixes), the same text split into ranked fields for scoring only (`title`,
  `spoken`, `tagged`, `described`, `named`, `other`: see FIELD_WEIGHTS),
  plus `meta`, a stored dict of everything filtering, facets and sorting need. Whole-query
  matching, ranking, totals and facets run on these: at most one posting per item and term, so a
  common word costs as many steps as there are items, not segments.
* a **segment** document per transcript cue (`body`, `grams`, speaker, language): used to find
  the hits, with snippets and timecodes, inside the items of the page being shown (phrases are
  checked against the segment's stored text there).
* a **collection** document per collection (title, synopsis, description) in the item-level fields.

Fields are indexed from term lists made by archive.search.analysis (`_Terms`), so the same code
analyses documents, queries and snippets. Every field's terms are words, stems or word
beginnings: the term dictionary grows with the vocabulary, not with the text (whoosh pays for
each distinct term; an index of word pairs had millions). Segment docs of one item are written
together, and an
item's documents are replaced together (deleted by the `item` term, added again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from whoosh import fields, formats
from whoosh.analysis import IDTokenizer
from whoosh.system import pack_uint

from archive.search import analysis
from archive.search.documents import CollectionDoc, ItemDoc
from archive.transcripts import base_language, language_name

#: Bumped whenever fields or analysis change: an index of another version is rebuilt.
SCHEMA_VERSION = "crossings-search-8"

#: The ranked fields of item and collection documents, with each one's weight in a document's
#: score (the sum of weight x BM25F in the field). What was said and the title count most; the
#: collection's name and the creator, the same on many items ("Crossings demo"), least. A word
#: matches wherever it is in `all`; these fields only rank.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "spoken": 2.5,  #: transcript segments
    "tagged": 1.5,  #: tags
    "described": 1.0,  #: the item's description; a collection's synopsis and description
    "named": 1.0,  #: places, countries, journeys and speakers
    "other": 0.25,  #: creator, the collection's title
}


@dataclass(frozen=True)
class Facet:
    """A facet counted over results and usable as a filter (and, if `searchable`, as field:value)."""
    name: str
    label: str
    searchable: bool = True  #: may be written as name:value in a query
    newest_first: bool = False  #: values listed in descending value order (years) instead of by count


#: The facets, in the order pages show them. Adding one: give ItemDoc.facets[name] values, add it here.
FACETS: tuple[Facet, ...] = (
    Facet("kind", "Kind"),
    Facet("collection", "Collection"),
    Facet("tag", "Tag"),
    Facet("place", "Place"),
    Facet("country", "Country"),
    Facet("journey", "Journey"),
    Facet("year", "Year", newest_first=True),
    Facet("language", "Language"),
    Facet("speaker", "Speaker"),
    Facet("has_transcript", "Has transcript", searchable=False),
)
FACET_NAMES = tuple(f.name for f in FACETS)
#: Fields a query may name: the facets marked searchable, and title.
QUERY_FIELDS = frozenset({"title"} | {f.name for f in FACETS if f.searchable})


class _Followers(formats.Format):
    """Postings whose value is a bytes payload (the follower digests of archive.search.analysis)."""
    posting_size = -1
    textual = True

    def decode_frequency(self, valuestring: bytes) -> int:
        return 1

    def decode_weight(self, valuestring: bytes) -> float:
        return 1.0


class _Terms(fields.FieldType):
    """A field indexed from a text (analysed here) or a ready list of terms.

    `mode` says which terms: "stems" (ranked, with frequencies), "words", "followers" (words with
    the digests of the words after them as payload) or "grams" (present or not).
    """

    def __init__(self, mode: str, *, scorable: bool = False, grams: tuple[int, ...] = (3, 4)) -> None:
        self.mode = mode
        self.grams = grams
        self.format = (formats.Frequency() if scorable else _Followers() if mode in ("followers", "preceders")
                       else formats.Existence())
        self.scorable = scorable
        self.stored = False
        self.unique = False
        self.vector = None
        self.column_type = None
        self.analyzer = IDTokenizer()

    def terms(self, value: str | list[str]) -> list[str] | set[str]:
        if isinstance(value, list):
            return value
        words = _words(value)
        if self.mode == "stems":
            return analysis.stems_of(words)
        if self.mode == "words":
            return set(w for w in words if w)
        grams = analysis.grams_of(words)
        if self.grams != (3, 4):
            grams = {g for g in grams if len(g) in self.grams}
        return grams

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if self.mode in ("followers", "preceders"):
            followers, preceders = _neighbours(value)
            for term, keys in (followers if self.mode == "followers" else preceders).items():
                yield term.encode("utf-8"), 1, 1.0, keys
            return
        found = self.terms(value)
        if self.scorable:
            for term, freq in Counter(found).items():
                yield term.encode("utf-8"), freq, float(freq), pack_uint(freq)
        else:
            for term in set(found):
                yield term.encode("utf-8"), 1, 1.0, b""


# The fields of one document are analysed one after another from the same text: remember the last.
_last_text: str | None = None
_last_words: list[str] = []


_last_neighbours: tuple[str | None, Any] = (None, None)


def _words(text: str) -> list[str]:
    global _last_text, _last_words
    if text is not _last_text:
        _last_words = analysis.words(text)
        _last_text = text
    return _last_words


def _neighbours(text: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    global _last_neighbours
    if _last_neighbours[0] is not text:
        _last_neighbours = (text, analysis.neighbours(_words(text)))
    return _last_neighbours[1]


def make_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        doctype=fields.ID(),
        item=fields.ID(sortable=True),
        coll=fields.ID(),
        # item and collection documents
        all=_Terms("stems", scorable=True),
        title=_Terms("stems", scorable=True),
        all_next=_Terms("followers"),
        all_prev=_Terms("preceders"),
        all_grams=_Terms("grams"),
        spoken=_Terms("stems", scorable=True),
        tagged=_Terms("stems", scorable=True),
        described=_Terms("stems", scorable=True),
        named=_Terms("stems", scorable=True),
        other=_Terms("stems", scorable=True),
        meta=fields.STORED(),
        # segment documents
        body=_Terms("stems", scorable=True),
        grams=_Terms("grams", grams=(3,)),
        speaker=_Terms("words"),
        speaker_key=fields.ID(),
        language=fields.ID(),
        tkind=fields.ID(),
        hit=fields.STORED(),
    )


def speaker_key(name: str) -> str:
    return " ".join(w for w in analysis.words(name) if w)


def _years(doc: ItemDoc) -> list[str]:
    if doc.date_lower is None:
        return []
    high = doc.date_upper or doc.date_lower
    return [str(y) for y in range(doc.date_lower.year, min(high.year, doc.date_lower.year + 50) + 1)]


def item_meta(doc: ItemDoc) -> dict[str, Any]:
    """What search keeps in memory per item: access, sort keys, facet values, text for phrase checks."""
    tags = list(dict.fromkeys([*doc.languages, *(t.language for t in doc.transcripts if t.language)]))
    # A language's scripts and regions are one value (zh-Hans and zh are Chinese), named by the
    # tags and its English name too, for language:zh-Hans and language:chinese.
    languages = list(dict.fromkeys(base_language(t) for t in tags))
    language_aliases = {code: sorted({t for t in tags if base_language(t) == code and t != code}
                                     | ({name} if (name := language_name(code)) != code else set()))
                        for code in languages}
    speakers = list(dict.fromkeys(s.speaker for t in doc.transcripts for s in t.segments if s.speaker))
    facets: dict[str, list[str]] = {
        "kind": [doc.kind],
        "collection": [doc.collection] if doc.collection else [],
        "tag": _all_tags(doc),
        "year": _years(doc),
        "language": languages,
        "speaker": speakers,
        "has_transcript": ["yes" if any(t.segments for t in doc.transcripts) else "no"],
    }
    for name, values in doc.facets.items():
        facets[name] = list(values)
    return {
        "item_id": doc.id,
        "title": doc.title,
        "description": doc.description,
        "access": doc.access,
        "collection_id": doc.collection_id,
        "date": doc.date_lower.toordinal() if doc.date_lower else None,
        "date_upper": (doc.date_upper or doc.date_lower).toordinal() if doc.date_lower else None,
        "version": doc.version,
        "facets": facets,
        "transcript_kinds": sorted({t.kind for t in doc.transcripts}),
        "ranges": [[r.id, r.tag, r.start, r.end] for r in doc.ranges],
        "meta_text": _meta_text(doc),
        "aliases": {name: {value: list(names) for value, names in by_value.items() if names}
                    for name, by_value in {**doc.facet_aliases, "language": language_aliases}.items() if by_value},
        "guards": {name: {value: [[g.rule, getattr(g.access, "value", g.access), g.collection_id] for g in guards]
                          for value, guards in by_value.items()}
                   for name, by_value in doc.facet_guards.items() if by_value},
    }


def _open_values(doc: ItemDoc) -> list[str]:
    """The facet values (with their other names) that every viewer of the item may know; guarded
    values are matched per viewer, by name:value only."""
    parts: list[str] = []
    for name, values in doc.facets.items():
        guarded = doc.facet_guards.get(name, {})
        aliases = doc.facet_aliases.get(name, {})
        for value in values:
            if value not in guarded:
                parts += [value, *aliases.get(value, ())]
    return parts


def _meta_text(doc: ItemDoc) -> str:
    """The item's own words: its fields and the facet values every viewer of the item may know."""
    parts = [doc.title, doc.description, doc.creator, doc.collection, *_all_tags(doc), *_open_values(doc)]
    return analysis.BOUNDARY.join(p for p in parts if p)


def _all_tags(doc: ItemDoc) -> list[str]:
    """The item's tags and its time ranges' tags, once each."""
    return list(dict.fromkeys([*doc.tags, *(r.tag for r in doc.ranges)]))


def _joined(parts: Iterable[str]) -> str:
    return analysis.BOUNDARY.join(p for p in parts if p)


def item_documents(doc: ItemDoc) -> Iterator[dict[str, Any]]:
    """The whoosh documents of one item: its item document, then one per segment."""
    key = str(doc.id)
    meta_text = _meta_text(doc)
    texts = [meta_text]
    for transcript in doc.transcripts:
        texts += [s.text for s in transcript.segments]
        texts += [s.speaker for s in transcript.segments if s.speaker]
    everything = analysis.BOUNDARY.join(texts)
    speakers = dict.fromkeys(s.speaker for t in doc.transcripts for s in t.segments if s.speaker)
    ranked = {"spoken": _joined(s.text for t in doc.transcripts for s in t.segments),
              "tagged": _joined(_all_tags(doc)), "described": doc.description,
              "named": _joined([*_open_values(doc), *speakers]), "other": _joined([doc.creator, doc.collection])}
    yield {"id": f"i{key}", "doctype": "item", "item": key, "title": doc.title, "all": everything,
           "all_next": everything, "all_prev": everything, "all_grams": everything, "meta": item_meta(doc),
           **{name: text for name, text in ranked.items() if text}}
    for transcript in doc.transcripts:
        language = transcript.language.lower()
        for s in transcript.segments:
            fields_ = {"item": key, "body": s.text, "grams": s.text, "tkind": transcript.kind,
                       "hit": (s.id, transcript.id, s.start, s.end, s.speaker, transcript.language, s.text,
                               transcript.kind)}
            if language:
                fields_["language"] = language
            if s.speaker:
                fields_["speaker"] = s.speaker
                fields_["speaker_key"] = speaker_key(s.speaker)
            yield fields_


def collection_meta(doc: CollectionDoc) -> dict[str, Any]:
    return {"collection_id": doc.id, "title": doc.title, "version": doc.version,
            "meta_text": analysis.BOUNDARY.join(p for p in (doc.title, doc.synopsis, doc.description) if p)}


def collection_document(doc: CollectionDoc) -> dict[str, Any]:
    meta = collection_meta(doc)
    text = meta["meta_text"]
    described = _joined([doc.synopsis, doc.description])
    return {"id": f"c{doc.id}", "doctype": "collection", "coll": str(doc.id), "title": doc.title, "all": text,
            "all_next": text, "all_prev": text, "all_grams": text, "meta": meta,
            **({"described": described} if described else {})}
