"""What the search index is given: plain descriptions of items and collections, built from the
database by archive.services.search_sync (or by the benchmark, without a database).

Everything an item's search documents need is here, denormalised: the index never asks the
database anything, and one ItemDoc rewrites all of an item's documents at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SegmentDoc:
    id: int
    start: float  #: seconds from the start of the media
    end: float  #: seconds from the start of the media
    text: str
    speaker: str = ""


@dataclass(frozen=True)
class TranscriptDoc:
    id: int
    language: str  #: BCP 47, "" when unknown
    kind: str  #: a TranscriptKind value
    segments: Sequence[SegmentDoc] = ()


@dataclass(frozen=True)
class ItemDoc:
    """An item as search sees it. Items in the trash are not given to the index at all."""
    id: int
    title: str
    kind: str  #: an ItemKind value
    access: str  #: an AccessLevel value
    version: str  #: changes whenever anything indexed here changes (see search_sync.fingerprint)
    description: str = ""
    creator: str = ""
    collection_id: int | None = None
    collection: str = ""  #: the collection's title
    tags: Sequence[str] = ()
    languages: Sequence[str] = ()  #: the item's own language tags (transcripts add theirs)
    date_lower: date | None = None
    date_upper: date | None = None
    transcripts: Sequence[TranscriptDoc] = ()
    #: More keyword facets by name (the places issue adds "place", "country", "journey"); each must
    #: be declared in archive.search.schema.FACETS to be counted and searchable.
    facets: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CollectionDoc:
    id: int
    title: str
    version: str
    synopsis: str = ""
    description: str = ""
