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
analyses documents, queries and snippets. Text is given as `Texts`: parts, each with the language
its words are stemmed in (a transcript's language; the catalogue's for titles, descriptions, tags). Every field's terms are words, stems or word
beginnings: the term dictionary grows with the vocabulary, not with the text (whoosh pays for
each distinct term; an index of word pairs had millions). Segment docs of one item are written
together, and an
item's documents are replaced together (deleted by the `item` term, added again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Union

from whoosh import fields, formats
from whoosh.analysis import IDTokenizer
from whoosh.system import pack_uint

from archive.search import analysis
from archive.search.documents import CollectionDoc, ItemDoc
from archive.transcripts import base_language, language_name

#: Bumped whenever fields or analysis change: an index of another version is rebuilt.
SCHEMA_VERSION = "crossings-search-9"

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


@dataclass(frozen=True)
class Texts:
    """Text to index in parts, each with the language (an analysis.STEMMERS code or "") its words
    are stemmed in; `fallback` (the catalogue's language) stems Latin-script words of other
    languages (see analysis.word_language). Parts are joined with analysis.BOUNDARY."""
    parts: tuple[tuple[str, str], ...]  #: (language, text)
    fallback: str = ""


FieldValue = Union[str, list[str], Texts]


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

    def terms(self, value: FieldValue) -> list[str] | set[str]:
        if isinstance(value, list):
            return value
        if self.mode == "stems":
            if isinstance(value, str):
                return analysis.stems_of(_words(value))
            return [term for language, words in _parts(value)
                    for term in analysis.stems_of(words, language, value.fallback)]
        words = _words(value)
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
_last_text: FieldValue | None = None
_last_words: list[str] = []
_last_parts: tuple[Texts | None, list[tuple[str, list[str]]]] = (None, [])
_last_neighbours: tuple[FieldValue | None, Any] = (None, None)


def _parts(texts: Texts) -> list[tuple[str, list[str]]]:
    """Each part's language and words."""
    global _last_parts
    if _last_parts[0] is not texts:
        _last_parts = (texts, [(language, analysis.words(text)) for language, text in texts.parts])
    return _last_parts[1]


def _words(text: FieldValue) -> list[str]:
    """The words of a text or of all the parts of a Texts, "" between parts."""
    global _last_text, _last_words
    if text is not _last_text:
        if isinstance(text, Texts):
            joined: list[str] = []
            for _, words in _parts(text):
                if joined:
                    joined.append("")
                joined += words
            _last_words = joined
        else:
            _last_words = analysis.words(text)
        _last_text = text
    return _last_words


def _neighbours(text: FieldValue) -> tuple[dict[str, bytes], dict[str, bytes]]:
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


def _stem_languages(catalogue: str, tags: Any) -> list[str]:
    """The stemmer languages a document's terms are in: its texts' and the catalogue's."""
    return sorted({catalogue, *(analysis.stem_language(t) for t in tags)} - {""})


def item_meta(doc: ItemDoc, catalogue: str = "en") -> dict[str, Any]:
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
        "stem_languages": _stem_languages(catalogue, (t.language for t in doc.transcripts)),
        "catalogue_language": catalogue,
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


def item_documents(doc: ItemDoc, catalogue: str = "en") -> Iterator[dict[str, Any]]:
    """The whoosh documents of one item: its item document, then one per segment.

    `catalogue` is the stemmer language (analysis.STEMMERS) of the catalogue's own words: titles,
    descriptions, tags, speakers' names, and Latin-script words in other scripts' transcripts."""
    key = str(doc.id)
    parts = [(catalogue, _meta_text(doc))]
    for transcript in doc.transcripts:
        if transcript.segments:
            parts.append((analysis.stem_language(transcript.language),
                          analysis.BOUNDARY.join(s.text for s in transcript.segments)))
        speakers = [s.speaker for s in transcript.segments if s.speaker]
        if speakers:
            parts.append(("", analysis.BOUNDARY.join(speakers)))
    everything = Texts(tuple(parts), catalogue)
    title = Texts(((catalogue, doc.title),), catalogue)
    speakers = dict.fromkeys(s.speaker for t in doc.transcripts for s in t.segments if s.speaker)
    spoken = tuple((analysis.stem_language(t.language), _joined(s.text for s in t.segments))
                   for t in doc.transcripts if t.segments)
    ranked = {"spoken": spoken,
              "tagged": ((catalogue, _joined(_all_tags(doc))),),
              "described": ((catalogue, doc.description),),
              "named": ((catalogue, _joined(_open_values(doc))), ("", _joined(speakers))),
              "other": ((catalogue, _joined([doc.creator, doc.collection])),)}
    yield {"id": f"i{key}", "doctype": "item", "item": key, "title": title, "all": everything,
           "all_next": everything, "all_prev": everything, "all_grams": everything,
           "meta": item_meta(doc, catalogue),
           **{name: Texts(tuple(p for p in text if p[1]), catalogue)
              for name, text in ranked.items() if any(p[1] for p in text)}}
    for transcript in doc.transcripts:
        language = transcript.language.lower()
        stem_language = analysis.stem_language(language)
        for s in transcript.segments:
            body = Texts(((stem_language, s.text),), catalogue)
            fields_ = {"item": key, "body": body, "grams": body, "tkind": transcript.kind,
                       "hit": (s.id, transcript.id, s.start, s.end, s.speaker, transcript.language, s.text,
                               transcript.kind, stem_language, catalogue)}
            if language:
                fields_["language"] = language
            if s.speaker:
                fields_["speaker"] = s.speaker
                fields_["speaker_key"] = speaker_key(s.speaker)
            yield fields_


def collection_meta(doc: CollectionDoc, catalogue: str = "en") -> dict[str, Any]:
    return {"collection_id": doc.id, "title": doc.title, "version": doc.version,
            "meta_text": analysis.BOUNDARY.join(p for p in (doc.title, doc.synopsis, doc.description) if p),
            "stem_languages": _stem_languages(catalogue, ()), "catalogue_language": catalogue}


def collection_document(doc: CollectionDoc, catalogue: str = "en") -> dict[str, Any]:
    meta = collection_meta(doc, catalogue)
    text = Texts(((catalogue, meta["meta_text"]),), catalogue)
    described = _joined([doc.synopsis, doc.description])
    return {"id": f"c{doc.id}", "doctype": "collection", "coll": str(doc.id),
            "title": Texts(((catalogue, doc.title),), catalogue), "all": text,
            "all_next": text, "all_prev": text, "all_grams": text, "meta": meta,
            **({"described": Texts(((catalogue, described),), catalogue)} if described else {})}
