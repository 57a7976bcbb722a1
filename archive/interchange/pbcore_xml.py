"""PBCore 2.1's namespace, schema location and the one helper that makes its elements safely."""

from __future__ import annotations

from lxml import etree

from archive.interchange.xmltext import xml_text

PBCORE_NS = "http://www.pbcore.org/PBCore/PBCoreNamespace.html"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{PBCORE_NS} https://raw.githubusercontent.com/PBCore-AV-Metadata/PBCore_2.1/master/pbcore-2.1.xsd"
NSMAP = {None: PBCORE_NS, "xsi": XSI_NS}
XSI_SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"


def q(name: str) -> str:
    """A PBCore element's qualified name."""
    return f"{{{PBCORE_NS}}}{name}"


def sub(parent: etree._Element, name: str, text: object = None, **attributes: object) -> etree._Element:
    """A PBCore child of `parent`: text and attribute values made safe for XML; None attributes left off."""
    element = etree.SubElement(parent, q(name))
    if text is not None:
        element.text = xml_text(text)
    for key, value in attributes.items():
        if value is not None:
            element.set(key, xml_text(value))
    return element


def pid_source(pid: str) -> str:
    """The @source of a persistent identifier's pbcoreIdentifier: its scheme."""
    return "ARK" if pid.startswith("ark:") else "URN"
