"""IIIF Presentation 3 manifests and collections, and Content Search 2 answers, as one viewer may see them.

Built as plain JSON-ready dicts, without Flask: the web layer passes the URLs (`Links`) and what the
viewer may play or look at (`Media`, decided there by the one rule of archive.access.may_have_original,
as the item page's player is), and everything else is read here through the services, so a manifest
holds only the transcripts, time ranges, journey legs and places the viewer may see.

    manifest(session, viewer, item, links, media=Media(...), poster=Thumbnail(...), language="en")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from archive.access import Viewer, can_see_place
from archive.models import Item, ItemKind, Leg, Place, Transcript
from archive.search import SegmentHit
from archive.services.journeys import UNDISCLOSED, JourneyView
from archive.services.legs import visible_leg
from archive.services.locations import item_legs_of, item_places_of
from archive.services.ranges import list_ranges
from archive.services.transcripts import list_transcripts
from archive.transcripts import language_name

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
SEARCH_CONTEXT = "http://iiif.io/api/search/2/context.json"
#: `rights` must be one of these kinds of URI (Presentation 3, §3.3.1); other rights text goes in requiredStatement.
RIGHTS_URI = re.compile(r"^https?://(creativecommons\.org/(licenses|publicdomain)/|rightsstatements\.org/vocab/)\S+$")
#: A JSON language map's key when the language is not known (Presentation 3, §4.4).
NO_LANGUAGE = "none"


class Links(Protocol):
    """The URLs a manifest names, made by the web layer."""

    def manifest(self, item_id: int) -> str: ...
    def search(self, item_id: int) -> str: ...
    def item_page(self, item_id: int) -> str: ...
    def transcript_vtt(self, item_id: int, transcript_id: int) -> str: ...
    def collection(self, collection_id: int) -> str: ...
    def journey(self, journey_id: int) -> str: ...


@dataclass(frozen=True)
class Media:
    """The file that paints the canvas: what this viewer may play or see (proxy, access copy, page image,
    or the original where the one rule allows it)."""
    url: str
    mime_type: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Thumbnail:
    url: str
    mime_type: str
    width: int | None = None
    height: int | None = None


def language_map(text: str, language: str = "") -> dict[str, list[str]]:
    """{"ko": [text]}; {"none": [text]} when the language is not known."""
    return {language or NO_LANGUAGE: [text]}


def _pair(label: str, value: str | Sequence[str], language: str) -> dict[str, Any]:
    values = [value] if isinstance(value, str) else list(value)
    return {"label": language_map(label, "en"), "value": {language or NO_LANGUAGE: values}}


def canvas_id(links: Links, item_id: int) -> str:
    return f"{links.manifest(item_id)}/canvas/1"


def _image(thumb: Thumbnail) -> dict[str, Any]:
    image: dict[str, Any] = {"id": thumb.url, "type": "Image", "format": thumb.mime_type}
    if thumb.width and thumb.height:
        image.update(width=thumb.width, height=thumb.height)
    return image


def _body_type(item: Item) -> str:
    return {ItemKind.video: "Video", ItemKind.audio: "Sound"}.get(item.kind, "Image")


def _canvas(item: Item, links: Links, media: Media | None, poster: Thumbnail | None,
            transcripts: Sequence[Transcript]) -> dict[str, Any]:
    """The item's one canvas: sized by the media's own dimensions and duration, painted with `media`."""
    canvas = canvas_id(links, item.id)
    file = item.media
    out: dict[str, Any] = {"id": canvas, "type": "Canvas", "label": language_map(item.title)}
    kind = _body_type(item)
    duration = file.duration if file is not None and kind != "Image" else None
    if duration:
        out["duration"] = float(duration)
    width = (file.width if file is not None else None) or (media.width if media else None)
    height = (file.height if file is not None else None) or (media.height if media else None)
    if kind != "Sound" and width and height:
        out.update(width=width, height=height)
    elif kind == "Image" and media is None and poster is not None and poster.width and poster.height:
        out.update(width=poster.width, height=poster.height)
    if poster is not None:
        out["thumbnail"] = [_image(poster)]
    painting: list[dict[str, Any]] = []
    if media is not None:
        body: dict[str, Any] = {"id": media.url, "type": kind, "format": media.mime_type}
        if duration:
            body["duration"] = float(duration)
        if kind != "Sound" and (media.width or width) and (media.height or height):
            body.update(width=media.width or width, height=media.height or height)
        painting.append({"id": f"{canvas}/painting/1", "type": "Annotation", "motivation": "painting",
                         "body": body, "target": canvas})
    out["items"] = [{"id": f"{canvas}/page/1", "type": "AnnotationPage", "items": painting}]
    if transcripts and kind != "Image":
        out["annotations"] = [{"id": f"{canvas}/transcripts", "type": "AnnotationPage", "items": [
            {"id": f"{canvas}/transcripts/{t.id}", "type": "Annotation", "motivation": "supplementing",
             "body": {"id": links.transcript_vtt(item.id, t.id), "type": "Text", "format": "text/vtt",
                      "label": language_map(transcript_name(t), "en"),
                      **({"language": t.language} if t.language else {})},
             "target": canvas} for t in transcripts]}]
    return out


def transcript_name(transcript: Transcript) -> str:
    """"Korean transcript", "English subtitles", "Interview log (no language given)"."""
    kind = transcript.kind.value.replace("_", " ")
    if not transcript.language:
        return f"{kind[:1].upper()}{kind[1:]} (no language given)"
    return f"{language_name(transcript.language)} {kind}"


def _fragment(canvas: str, start: float, end: float) -> dict[str, str]:
    return {"id": f"{canvas}#t={start:g},{end:g}", "type": "Canvas"}


def _place_name(viewer: Viewer, place: Place) -> str:
    return place.name if can_see_place(viewer, place) else UNDISCLOSED


def leg_label(viewer: Viewer, leg: Leg) -> str:
    """"Through the Mekong, leg 6: Laos → Chiang Saen", with hidden places undisclosed."""
    return (f"{leg.journey.title}, leg {leg.position}: {_place_name(viewer, leg.from_place)} → "
            f"{_place_name(viewer, leg.to_place)}")


def _structures(session: Session, viewer: Viewer, item: Item, links: Links) -> list[dict[str, Any]]:
    """Ranges of the time-range tags and of the journey legs the item (or a stretch of it) was filmed on."""
    file = item.media
    if item.kind not in (ItemKind.video, ItemKind.audio) or file is None or not file.duration:
        return []
    canvas, manifest, duration = canvas_id(links, item.id), links.manifest(item.id), float(file.duration)
    tagged, legs = [], []
    for time_range in list_ranges(session, item):
        entry: dict[str, Any] = {"id": f"{manifest}/range/tag-{time_range.id}", "type": "Range",
                                 "label": language_map(time_range.tag.name),
                                 "items": [_fragment(canvas, time_range.start_sec, time_range.end_sec)]}
        if time_range.note:
            entry["summary"] = language_map(time_range.note)
        tagged.append(entry)
        leg = visible_leg(session, viewer, time_range.leg_id) if time_range.leg_id is not None else None
        if leg is not None:
            legs.append({"id": f"{manifest}/range/leg-{leg.id}-{time_range.id}", "type": "Range",
                         "label": language_map(leg_label(viewer, leg), "en"),
                         "items": [_fragment(canvas, time_range.start_sec, time_range.end_sec)]})
    for leg in item_legs_of(session, viewer, item):
        legs.append({"id": f"{manifest}/range/leg-{leg.id}", "type": "Range",
                     "label": language_map(leg_label(viewer, leg), "en"), "items": [_fragment(canvas, 0, duration)]})
    out = []
    if tagged:
        out.append({"id": f"{manifest}/range/tags", "type": "Range", "label": language_map("Time-range tags", "en"),
                    "items": tagged})
    if legs:
        out.append({"id": f"{manifest}/range/legs", "type": "Range", "label": language_map("Journey legs", "en"),
                    "items": legs})
    return out


def _metadata(viewer: Viewer, item: Item, language: str) -> list[dict[str, Any]]:
    pairs = [_pair("Kind", item.kind.value, "en")]
    if item.date_shot:
        pairs.append(_pair("Date shot", item.date_shot, NO_LANGUAGE))
    if item.creator:
        pairs.append(_pair("Creator", item.creator, NO_LANGUAGE))
    if item.language:
        names = [language_name(tag.strip()) for tag in item.language.split(",") if tag.strip()]
        pairs.append(_pair("Language", names, "en"))
    if item.collection is not None:
        pairs.append(_pair("Collection", item.collection.title, language))
    if item.tags:
        pairs.append(_pair("Tags", [tag.name for tag in item.tags], language))
    if places := item_places_of(viewer, item):
        pairs.append(_pair("Places", [place.name for place in places], NO_LANGUAGE))
    if item.credits:
        pairs.append(_pair("Credits", [f"{c.person.name} ({c.role})" for c in item.credits], NO_LANGUAGE))
    pairs.append(_pair("Identifier", item.pid, NO_LANGUAGE))
    return pairs


def manifest(session: Session, viewer: Viewer, item: Item, links: Links, *, media: Media | None,
             poster: Thumbnail | None, language: str, attribution: str) -> dict[str, Any]:
    """The item's Manifest for `viewer`, who the caller has checked may see `item` (archive.services.catalogue.get_item).

    `language` is the catalogue's (the language titles and descriptions are written in); transcripts carry
    their own. `attribution` names the archive in the requiredStatement.
    """
    transcripts = list_transcripts(session, viewer, item.id, segments=False)
    out: dict[str, Any] = {
        "@context": PRESENTATION_CONTEXT, "id": links.manifest(item.id), "type": "Manifest",
        "label": language_map(item.title, language),
    }
    if item.description:
        out["summary"] = language_map(item.description, language)
    out["metadata"] = _metadata(viewer, item, language)
    rights = item.rights.strip() or (item.collection.rights.strip() if item.collection is not None else "")
    if RIGHTS_URI.match(rights):
        out["rights"] = rights
    statement = f"{attribution}. {rights}" if rights and not RIGHTS_URI.match(rights) else attribution
    out["requiredStatement"] = {"label": language_map("Attribution", "en"), "value": language_map(statement, language)}
    out["homepage"] = [{"id": links.item_page(item.id), "type": "Text", "label": language_map(item.title, language),
                        "format": "text/html"}]
    if poster is not None:
        out["thumbnail"] = [_image(poster)]
    if item.collection is not None:
        out["partOf"] = [{"id": links.collection(item.collection.id), "type": "Collection"}]
    if transcripts and item.kind in (ItemKind.video, ItemKind.audio):
        out["service"] = [{"id": links.search(item.id), "type": "SearchService2"}]
    out["items"] = [_canvas(item, links, media, poster, transcripts)]
    if structures := _structures(session, viewer, item, links):
        out["structures"] = structures
    return out


def collection(collection_id: str, label: str, members: Iterable[dict[str, Any]], *, summary: str = "",
               language: str = "", attribution: str = "", part_of: str | None = None) -> dict[str, Any]:
    """A Collection of `members` (from `member`, or sub-collections of pages)."""
    out: dict[str, Any] = {"@context": PRESENTATION_CONTEXT, "id": collection_id, "type": "Collection",
                           "label": language_map(label, language)}
    if summary:
        out["summary"] = language_map(summary, language)
    if attribution:
        out["requiredStatement"] = {"label": language_map("Attribution", "en"),
                                    "value": language_map(attribution, language)}
    if part_of:
        out["partOf"] = [{"id": part_of, "type": "Collection"}]
    out["items"] = list(members)
    return out


def member(item: Item, links: Links, thumbnail: Thumbnail | None, language: str) -> dict[str, Any]:
    """A Manifest as a Collection lists it."""
    out: dict[str, Any] = {"id": links.manifest(item.id), "type": "Manifest", "label": language_map(item.title, language)}
    if thumbnail is not None:
        out["thumbnail"] = [_image(thumbnail)]
    return out


def sub_collection(collection_id: str, label: str, language: str = "en") -> dict[str, Any]:
    return {"id": collection_id, "type": "Collection", "label": language_map(label, language)}


def journey_items(view: JourneyView) -> list[Item]:
    """The items filmed on a journey's legs, in the order travelled, each once."""
    seen: dict[int, Item] = {}
    for leg in view.legs:
        for footage in leg.footage:
            seen.setdefault(footage.item.id, footage.item)
    return list(seen.values())


def search_page(page_id: str, item: Item, links: Links, hits: Sequence[SegmentHit], texts: dict[int, str],
                *, ignored: Sequence[str] = ()) -> dict[str, Any]:
    """A Content Search 2 answer: one supplementing annotation per matching cue, targeting the canvas at its
    times, with the cue's text (`texts`, by segment id) as its body; `ignored` lists parameters not honoured."""
    canvas, manifest_id = canvas_id(links, item.id), links.manifest(item.id)
    out: dict[str, Any] = {"@context": [PRESENTATION_CONTEXT, SEARCH_CONTEXT], "id": page_id, "type": "AnnotationPage"}
    if ignored:
        out["ignored"] = list(ignored)
    out["items"] = [{
        "id": f"{canvas}/transcripts/{hit.transcript_id}/cue/{hit.segment_id}", "type": "Annotation",
        "motivation": "supplementing",
        "body": {"type": "TextualBody", "value": texts.get(hit.segment_id, ""), "format": "text/plain",
                 **({"language": hit.language} if hit.language else {})},
        "target": {"id": f"{canvas}#t={hit.start:g},{hit.end:g}", "type": "Canvas",
                   "partOf": [{"id": manifest_id, "type": "Manifest"}]},
    } for hit in hits]
    return out


def clip_ranges(range_id: str, label: str, clips: Sequence[tuple[Item, float, float, str]], links: Links,
                language: str = "en") -> dict[str, Any]:
    """A clip list as one IIIF Range whose member Ranges are the clips, in order: each a span of its item's
    canvas (`clips`: item, in, out, note), `partOf` the item's manifest, so a viewer can open and play it."""
    members = []
    for position, (item, start, end, note) in enumerate(clips, start=1):
        entry: dict[str, Any] = {"id": f"{range_id}/clip-{position}", "type": "Range",
                                 "label": language_map(item.title, item.language or ""),
                                 "items": [_fragment(canvas_id(links, item.id), start, end)],
                                 "partOf": [{"id": links.manifest(item.id), "type": "Manifest"}]}
        if note:
            entry["summary"] = language_map(note)
        members.append(entry)
    return {"@context": PRESENTATION_CONTEXT, "id": range_id, "type": "Range",
            "label": language_map(label, language), "items": members}
