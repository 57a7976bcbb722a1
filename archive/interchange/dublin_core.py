"""Simple Dublin Core records of items (the oai_dc shape OAI-PMH serves), as a given viewer may see
them: the same facts as the PBCore record, through the same rules (archive.interchange.record), in
DC's fifteen elements. Titles and descriptions carry xml:lang (the catalogue_language setting), as do
the item's languages and the links to its transcripts (their language). docs/interchange.md has the
crosswalk."""

from __future__ import annotations

from lxml import etree
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.identity import Identity
from archive.interchange import record
from archive.interchange.xmltext import language_tags, xml_lang, xml_text
from archive.models import Item

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
NSMAP = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}


def dc_document(session: Session, viewer: Viewer, item: Item, identity: Identity, *,
                catalogue_language: str | None = None) -> bytes:
    """A standalone oai_dc:dc record of `item` as `viewer` may see it (UTF-8, with its XML declaration).
    An item `viewer` may not see is NotFound, as its page is."""
    return etree.tostring(dc_element(session, viewer, item, identity, catalogue_language=catalogue_language),
                          xml_declaration=True, encoding="UTF-8", pretty_print=True)


def dc_element(session: Session, viewer: Viewer, item: Item, identity: Identity, *,
               catalogue_language: str | None = None) -> etree._Element:
    """The same as an element, for embedding (an OAI-PMH record, a bag's catalogue).

    `catalogue_language`: the language titles and descriptions are written in; by default the setting
    of that name of the session's archive (none without one: then they carry no xml:lang)."""
    if catalogue_language is None:
        archive = session.info.get("archive")
        catalogue_language = archive.settings["catalogue_language"] if archive is not None else ""
    record.require_visible(viewer, item)
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    catalogued_in = xml_lang(catalogue_language)

    def dc(name: str, value: object, lang: str | None = None) -> None:
        text = xml_text(value).strip()
        if text:
            element = etree.SubElement(root, f"{{{DC_NS}}}{name}")
            element.text = text
            if lang:
                element.set(XML_LANG, lang)

    dc("title", item.title, catalogued_in)
    for name, role in record.credits_of(item, "creator"):
        dc("creator", name)
    for tag in _subjects(item):
        dc("subject", tag)
    dc("description", item.description, catalogued_in)
    dc("publisher", identity.name)
    for name, role in record.credits_of(item, "publisher"):
        dc("publisher", name)
    for name, role in record.credits_of(item, "contributor"):
        dc("contributor", f"{name} ({role})" if role else name)
    dc("date", item.date_shot)
    dc("type", record.DCMI_TYPES.get(item.kind, ""))
    for mime in _formats(session, viewer, item):
        dc("format", mime)
    dc("identifier", item.pid)
    dc("identifier", identity.url(record.item_path(item)))
    dc("source", item.source)
    for tag in language_tags(item.language):
        dc("language", tag)
    for transcript in item.transcripts:
        dc("relation", identity.url(record.transcript_path(item, transcript)), xml_lang(transcript.language))
    for spot in record.spots(viewer, item):
        if spot.name:
            dc("coverage", spot.name)
        dc("coverage", f"{spot.coordinates} ({spot.shown_as})" if spot.shown_as else spot.coordinates)
    for country in record.countries(viewer, item):
        dc("coverage", country)
    if item.collection is not None:
        dc("relation", item.collection.title, catalogued_in)
    dc("rights", item.rights or (item.collection.rights if item.collection is not None else ""))
    return root


def _subjects(item: Item) -> list[str]:
    names = [tag.name for tag in item.tags]
    names += [r.tag.name for r in item.ranges if r.tag.name not in names]
    return list(dict.fromkeys(names))


def _formats(session: Session, viewer: Viewer, item: Item) -> list[str]:
    """The MIME types of the files `viewer` may receive: the original's if they may have it, else the copies'."""
    original = record.original_for(viewer, item)
    found = [original.mime_type] if original is not None else \
        [d.mime_type for d in record.received_derivatives(session, item)]
    return list(dict.fromkeys(m for m in found if m))
