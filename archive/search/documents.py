"""What the search index is given: plain descriptions of items and collections, built from the
database by archive.services.search_sync (or by the benchmark, without a database).

Everything an item's search documents need is here, denormalised: the index never asks the
database anything, and one ItemDoc rewrites all of an item's documents at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from archive.access import Viewer, can_see_journey, can_see_place


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
class RangeDoc:
    """A tagged stretch of the item's media (a TimeRange): found by its tag, a hit at `start`."""
    id: int
    tag: str
    start: float  #: seconds from the start of the media
    end: float  #: seconds from the start of the media


@dataclass(frozen=True)
class ValueGuard:
    """Who may know a facet value: the access rule of archive.access for a place or a journey."""
    rule: str  #: "place" (archive.access.can_see_place) or "journey" (can_see_journey)
    access: str  #: an AccessLevel (its value in a document; the AccessLevel itself in a search)
    collection_id: int | None = None  #: a journey's collection (confidential ones are granted by it)

    def allows(self, viewer: Viewer) -> bool:
        """Does the access policy let `viewer` know what this guards?"""
        if self.rule == "place":
            return can_see_place(viewer, self)  # type: ignore[arg-type]
        if self.rule == "journey":
            return can_see_journey(viewer, self)  # type: ignore[arg-type]
        return False  # a rule this code does not know: keep the value from everyone


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
    #: Time-range tags: their names are values of the "tag" facet too, and each range is a hit.
    ranges: Sequence[RangeDoc] = ()
    #: More keyword facets by name (the places issue adds "place", "country", "journey"); each must
    #: be declared in archive.search.schema.FACETS to be counted and searchable.
    facets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: Other names of a facet value, found by name:value and (when the value is open) by plain
    #: words, never shown as values: facet -> value -> names ("place": {"Hyesan": ["혜산", "惠山"]}).
    facet_aliases: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    #: Facet values that not everyone who may see the item may know: facet -> value -> guards;
    #: a viewer knows the value when one of its guards lets them. Such values are left out of
    #: the item's words (a plain word cannot tell viewers apart); they are counted, filtered on
    #: and matched by name:value per viewer.
    facet_guards: Mapping[str, Mapping[str, Sequence[ValueGuard]]] = field(default_factory=dict)


@dataclass(frozen=True)
class CollectionDoc:
    id: int
    title: str
    version: str
    synopsis: str = ""
    description: str = ""
