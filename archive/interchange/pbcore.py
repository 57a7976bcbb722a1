"""PBCore 2.1 records of items, as a given viewer may see them: one `pbcoreDescriptionDocument` per
item, or a streamed `pbcoreCollection` of many.

The element order is the schema's (pbcore-2.1.xsd, whose xs:sequence fixes it; tests/test_pbcore_export.py
writes that order out), and what goes in is decided by archive.access through archive.interchange.record:
places at the viewer's precision, the original's checksum and name only for whom may_have_original
allows, and only the copies the viewer may receive. docs/interchange.md has the crosswalk.

An item imported from PBCore and untouched since is exported to editors as its source record came
(archive.interchange.pbcore_source), so that a round trip loses nothing PBCore can hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import BinaryIO

from lxml import etree
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.identity import Identity
from archive.interchange import record
from archive.interchange.pbcore_media import add_instantiations
from archive.interchange.pbcore_source import untouched_source
from archive.interchange.pbcore_xml import NSMAP, SCHEMA_LOCATION, XSI_SCHEMA_LOCATION, pid_source, q, sub
from archive.interchange.xmltext import timestamp, xml_text
from archive.models import Item, ItemKind, TranscriptKind
from archive.transcripts import language_name

#: pbcoreAssetType of each kind (PBCore's asset type picklist).
ASSET_TYPES = {ItemKind.video: "Raw Footage", ItemKind.audio: "Raw Footage", ItemKind.still: "Image",
               ItemKind.catalogued: "Miscellaneous"}
TAGS_SOURCE = "Crossings tags"
TRANSCRIPT_LABELS = {TranscriptKind.transcript: "Transcript", TranscriptKind.subtitles: "Subtitles",
                     TranscriptKind.description: "Audio description", TranscriptKind.interview_log: "Interview log"}
ProgressFn = Callable[[Item], None]


def pbcore_document(session: Session, viewer: Viewer, item: Item, identity: Identity) -> bytes:
    """A standalone pbcoreDescriptionDocument of `item` as `viewer` may see it (UTF-8, with its XML
    declaration). An item `viewer` may not see is NotFound, as its page is."""
    return etree.tostring(pbcore_element(session, viewer, item, identity), xml_declaration=True,
                          encoding="UTF-8", pretty_print=True)


def pbcore_element(session: Session, viewer: Viewer, item: Item, identity: Identity) -> etree._Element:
    """The same as an element, for embedding (an OAI-PMH record, a bag's catalogue)."""
    record.require_visible(viewer, item)
    stored = untouched_source(viewer, item)
    if stored is not None:
        return stored.document(generated=lambda: _generated(session, viewer, item, identity))
    return _generated(session, viewer, item, identity)


def write_pbcore_collection(out: BinaryIO, session: Session, viewer: Viewer, item_ids: Sequence[int],
                            identity: Identity, *, title: str = "", description: str = "",
                            on_item: ProgressFn | None = None) -> int:
    """Write a pbcoreCollection of the items of `item_ids` that `viewer` may see, streamed: items are
    loaded a chunk at a time and each document is written as soon as it is made. Returns how many were
    written. The schema wants at least one document in a collection: with none, ValueError, before
    anything is written."""
    if not item_ids:
        raise ValueError("a pbcoreCollection holds at least one record, and there are no items to export")
    attributes = {"collectionTitle": xml_text(title or identity.name),
                  "collectionSource": xml_text(identity.name),
                  "collectionDate": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  XSI_SCHEMA_LOCATION: SCHEMA_LOCATION}
    if description:
        attributes["collectionDescription"] = xml_text(description)
    if identity.base_url:
        attributes["collectionRef"] = identity.url("/")
    written = 0
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(q("pbcoreCollection"), attributes, nsmap=NSMAP):
            xf.write("\n")
            for item in record.iter_items(session, viewer, item_ids):
                element = pbcore_element(session, viewer, item, identity)
                element.attrib.pop(XSI_SCHEMA_LOCATION, None)  # the collection's says it once
                xf.write(element, pretty_print=True)
                written += 1
                if on_item is not None:
                    on_item(item)
    if not written:
        raise ValueError("none of the selected items could be seen by this viewer any more")
    return written


def _generated(session: Session, viewer: Viewer, item: Item, identity: Identity) -> etree._Element:
    doc = etree.Element(q("pbcoreDescriptionDocument"), nsmap=NSMAP)
    doc.set(XSI_SCHEMA_LOCATION, SCHEMA_LOCATION)
    sub(doc, "pbcoreAssetType", ASSET_TYPES[ItemKind(item.kind)])
    if item.date_shot:
        sub(doc, "pbcoreAssetDate", item.date_shot, dateType="created", annotation="EDTF")
    add_identifiers(doc, item, identity)
    sub(doc, "pbcoreTitle", item.title, titleType="Main")
    if item.collection is not None:
        sub(doc, "pbcoreTitle", item.collection.title, titleType="Collection")
    for tag in item.tags:
        sub(doc, "pbcoreSubject", tag.name, subjectType="Keyword", source=TAGS_SOURCE)
    for time_range in item.ranges:
        sub(doc, "pbcoreSubject", time_range.tag.name, subjectType="Keyword", source=TAGS_SOURCE,
            startTime=timestamp(time_range.start_sec), endTime=timestamp(time_range.end_sec))
    # The schema requires a description: an item without one has an empty one.
    sub(doc, "pbcoreDescription", item.description, descriptionType="Description")
    if item.collection is not None and item.collection.synopsis:
        sub(doc, "pbcoreDescription", item.collection.synopsis, descriptionType="Collection synopsis")
    if item.collection is not None and item.collection.kind:
        sub(doc, "pbcoreGenre", item.collection.kind, source="Crossings collection kind")
    _coverage(doc, viewer, item)
    for name, role in record.credits_of(item, "creator"):
        _agent(doc, "Creator", name, role)
    for name, role in record.credits_of(item, "contributor"):
        _agent(doc, "Contributor", name, role)
    for name, role in record.credits_of(item, "publisher"):
        _agent(doc, "Publisher", name, role)
    _agent(doc, "Publisher", identity.name, "Archive")
    rights = item.rights or (item.collection.rights if item.collection is not None else "")
    if rights:
        sub(sub(doc, "pbcoreRightsSummary"), "rightsSummary", rights)
    add_instantiations(doc, session, viewer, item, identity)
    _annotations(doc, item, identity)
    return doc


def add_identifiers(doc: etree._Element, item: Item, identity: Identity) -> None:
    """The persistent identifier, the local id and the item's URL (PBCore requires @source on each)."""
    sub(doc, "pbcoreIdentifier", item.pid, source=pid_source(item.pid), annotation="persistent identifier")
    sub(doc, "pbcoreIdentifier", item.id, source=identity.name, annotation="local identifier")
    sub(doc, "pbcoreIdentifier", identity.url(record.item_path(item)), source="URL", annotation="catalogue page")


def _coverage(doc: etree._Element, viewer: Viewer, item: Item) -> None:
    for spot in record.spots(viewer, item):
        times = ({"startTime": timestamp(spot.start), "endTime": timestamp(spot.end)}
                 if spot.start is not None and spot.end is not None else {})
        if spot.name:
            name = f"{spot.name}, {spot.country}" if spot.country else spot.name
            coverage = sub(doc, "pbcoreCoverage")
            sub(coverage, "coverage", name, **times)
            sub(coverage, "coverageType", "Spatial")
        coverage = sub(doc, "pbcoreCoverage")
        sub(coverage, "coverage", spot.coordinates, source="WGS84 latitude, longitude",
            annotation=spot.shown_as or None, **times)
        sub(coverage, "coverageType", "Spatial")
    if item.date_shot:
        coverage = sub(doc, "pbcoreCoverage")
        sub(coverage, "coverage", item.date_shot, source="EDTF")
        sub(coverage, "coverageType", "Temporal")


def _agent(doc: etree._Element, kind: str, name: str, role: str) -> None:
    element = sub(doc, f"pbcore{kind}")
    sub(element, kind.lower(), name)
    if role:
        sub(element, f"{kind.lower()}Role", role)


def _annotations(doc: etree._Element, item: Item, identity: Identity) -> None:
    sub(doc, "pbcoreAnnotation", item.access.value, annotationType="Access level")
    sub(doc, "pbcoreAnnotation", item.location_precision.value, annotationType="Location precision",
        annotation=item.location_precision.label)
    if item.kind is ItemKind.catalogued:
        sub(doc, "pbcoreAnnotation", ItemKind.catalogued.label, annotationType="Kind")
    if item.source:
        sub(doc, "pbcoreAnnotation", item.source, annotationType="Source")
    for transcript in item.transcripts:
        url = identity.url(record.transcript_path(item, transcript))
        label = f"{TRANSCRIPT_LABELS[transcript.kind]}, {language_name(transcript.language)}"
        sub(doc, "pbcoreAnnotation", f"{label} ({transcript.language or 'no language given'}): {url}",
            annotationType=TRANSCRIPT_LABELS[transcript.kind], ref=url)
    for time_range in item.ranges:
        text = f"{timestamp(time_range.start_sec)}-{timestamp(time_range.end_sec)} {time_range.tag.name}"
        sub(doc, "pbcoreAnnotation", f"{text}: {time_range.note}" if time_range.note else text,
            annotationType="Time range tag")
