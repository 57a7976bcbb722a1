"""Imported PBCore records exported again as they came.

An item made from a PBCore record keeps that record (SourceRecord, format "pbcore", the one record's
XML text). While the item is untouched since (its version is still the one the import left), the
record says everything the item does and more than the model holds, so editors get it back as it
came, with the item's persistent identifier added when absent. Everyone else gets the generated
document: a record from elsewhere may hold what the access policy would withhold from them (an
original's checksum, exact coordinates), and it is not read here to find out.

A record that was a pbcoreInstantiationDocument (technical metadata only) is not a description
document: it is exported as the generated description with that instantiation in place of the
generated ones. A stored record that no longer parses, or is not PBCore, is passed over (logged)
for the generated document.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from archive.access import Viewer, may_edit
from archive.interchange.pbcore_xml import PBCORE_NS, pid_source, q
from archive.models import Item, SourceRecord

log = logging.getLogger(__name__)

#: What may come before pbcoreIdentifier in pbcoreDescriptionDocument's sequence.
_BEFORE_IDENTIFIER = (q("pbcoreAssetType"), q("pbcoreAssetDate"), q("pbcoreIdentifier"))
#: What follows pbcoreInstantiation in that sequence.
_AFTER_INSTANTIATION = (q("pbcoreAnnotation"), q("pbcorePart"), q("pbcoreExtension"))
#: Stored records are parsed without fetching or expanding anything they point at.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)


@dataclass(frozen=True)
class StoredRecord:
    item: Item
    root: etree._Element

    def document(self, *, generated: Callable[[], etree._Element]) -> etree._Element:
        """The pbcoreDescriptionDocument to export: the stored one with the item's identifier, or
        (for a stored instantiation document) `generated()` holding the stored instantiation."""
        if self.root.tag == q("pbcoreDescriptionDocument"):
            return with_identifier(self.root, self.item.pid)
        doc = generated()
        for old in doc.findall(q("pbcoreInstantiation")):
            doc.remove(old)
        instantiation = copy.deepcopy(self.root)
        instantiation.tag = q("pbcoreInstantiation")
        following = next((child for child in doc if child.tag in _AFTER_INSTANTIATION), None)
        if following is None:
            doc.append(instantiation)
        else:
            following.addprevious(instantiation)
        return doc


def untouched_source(viewer: Viewer, item: Item) -> StoredRecord | None:
    """The item's PBCore source record to export to `viewer` as it came, or None (generate one)."""
    if not may_edit(viewer):
        return None
    source = next((r for r in reversed(item.source_records)
                   if r.format == "pbcore" and r.item_version == item.version), None)
    if source is None:
        return None
    root = _parsed(source)
    if root is None:
        return None
    return StoredRecord(item=item, root=root)


def _parsed(source: SourceRecord) -> etree._Element | None:
    try:
        root = etree.fromstring(source.content.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        log.warning("the PBCore source record %s of item %s does not parse (%s): exporting a generated one",
                    source.id, source.item_id, exc)
        return None
    if root.tag not in (q("pbcoreDescriptionDocument"), q("pbcoreInstantiationDocument")):
        log.warning("the source record %s of item %s is %s, not a PBCore record: exporting a generated one",
                    source.id, source.item_id, root.tag)
        return None
    return root


def with_identifier(doc: etree._Element, pid: str) -> etree._Element:
    """`doc` with a pbcoreIdentifier holding `pid`, added after its other identifiers when none has it."""
    if any((element.text or "").strip() == pid for element in doc.iter(q("pbcoreIdentifier"))
           if element.getparent() is doc):
        return doc
    added = etree.Element(q("pbcoreIdentifier"), nsmap={None: PBCORE_NS})
    added.text, added.tail = pid, None
    added.set("source", pid_source(pid))
    added.set("annotation", "persistent identifier")
    leading = [child for child in doc if child.tag in _BEFORE_IDENTIFIER]
    if leading:
        leading[-1].addnext(added)
        added.tail = leading[-1].tail  # the same indentation as the identifier before it
    else:
        doc.insert(0, added)
    return doc
