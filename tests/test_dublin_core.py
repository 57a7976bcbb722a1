"""Dublin Core export (archive.interchange.dublin_core): the oai_dc shape, xml:lang, what each viewer may
see in it, and `crossings export dc`.

oai_dc.xsd makes oai_dc:dc an xs:choice (minOccurs 0, maxOccurs unbounded) of the fifteen elements
of http://purl.org/dc/elements/1.1/, each a SimpleLiteral: text with no element children and no
attribute but xml:lang.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from archive.access import ANONYMOUS, SYSTEM, Viewer
from archive.core import Archive
from archive.interchange.dublin_core import dc_document
from archive.models import AccessLevel, Item, ItemKind, LocationPrecision, Transcript
from archive.services.catalogue import get_item
from test_pbcore_export import EXACT_TEXTS, describe, ingest_footage
from test_web import add_item

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSI_SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
ELEMENTS = {"title", "creator", "subject", "description", "publisher", "contributor", "date", "type", "format",
            "identifier", "source", "language", "relation", "coverage", "rights"}
#: The DCMI Type Vocabulary.
DCMI_TYPES = {"Collection", "Dataset", "Event", "Image", "InteractiveResource", "MovingImage", "PhysicalObject",
              "Service", "Software", "Sound", "StillImage", "Text"}
#: xs:language, the type of xml:lang.
LANGUAGE = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")


@pytest.fixture
def settings(settings: dict[str, object]) -> dict[str, object]:
    return {**settings, "offer_access_copy_downloads": True, "base_url": "https://archive.example.org",
            "catalogue_language": "ko"}


def shape_problems(root: etree._Element) -> list[str]:
    """What oai_dc.xsd (and the DC elements' SimpleLiteral) would refuse in `root`."""
    problems = []
    if root.tag != f"{{{OAI_DC}}}dc":
        problems.append(f"the root is {root.tag}, not oai_dc:dc")
    if set(root.attrib) - {XSI_SCHEMA_LOCATION}:
        problems.append(f"oai_dc:dc has attributes {sorted(root.attrib)}")
    for child in root:
        name = etree.QName(child)
        where = f"dc/{name.localname}"
        if name.namespace != DC or name.localname not in ELEMENTS:
            problems.append(f"{where}: not one of the fifteen DC elements ({name.namespace})")
        if len(child):
            problems.append(f"{where}: a SimpleLiteral holds no elements")
        if set(child.attrib) - {XML_LANG}:
            problems.append(f"{where}: attributes {sorted(child.attrib)} (only xml:lang is declared)")
        if XML_LANG in child.attrib and not LANGUAGE.match(child.get(XML_LANG)):
            problems.append(f"{where}: xml:lang {child.get(XML_LANG)!r} is not an xs:language")
        if not (child.text or "").strip():
            problems.append(f"{where}: empty")
    return problems


def record(archive: Archive, viewer: Viewer, item_id: int) -> etree._Element:
    with archive.Session() as session:
        data = dc_document(session, viewer, get_item(session, viewer, item_id), archive.identity)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return etree.fromstring(data)


def values(root: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in root.findall(f"{{{DC}}}{name}")]


def langs(root: etree._Element, name: str) -> list[str | None]:
    return [e.get(XML_LANG) for e in root.findall(f"{{{DC}}}{name}")]


@pytest.fixture
def footage(archive: Archive, tmp_path: Path) -> int:
    item_id = ingest_footage(archive, tmp_path, precision=LocationPrecision.km10)
    describe(archive, item_id)
    return item_id


def test_a_described_item_is_simple_dc_with_languages_tagged(archive: Archive, footage: int) -> None:
    root = record(archive, SYSTEM, footage)
    assert shape_problems(root) == []
    assert root.get(XSI_SCHEMA_LOCATION).split() == [OAI_DC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"]
    with archive.Session() as session:
        item = session.get(Item, footage)
        pid, mime = item.pid, item.media.mime_type
        transcript_id = session.scalar(select(Transcript.id).where(Transcript.item_id == footage))
    assert values(root, "title") == ["Hyesan-crossing"] and langs(root, "title") == ["ko"]
    assert values(root, "description") == ["Dusk at the river."] and langs(root, "description") == ["ko"]
    assert values(root, "creator") == ["Kim Min-ji"]
    assert values(root, "contributor") == ["Lee Soo (camera)"]
    assert values(root, "publisher") == ["Crossings archive", "Seoul Films"]
    assert values(root, "subject") == ["river"]
    assert values(root, "date") == ["2019-04-12~"]
    assert values(root, "type") == ["MovingImage"]
    assert values(root, "format") == [mime]
    assert values(root, "identifier") == [pid, f"https://archive.example.org/items/{footage}"]
    assert values(root, "language") == ["ko", "en"]
    relations = dict(zip(values(root, "relation"), langs(root, "relation")))
    assert relations[f"https://archive.example.org/items/{footage}/transcripts/{transcript_id}.vtt"] == "ko"
    assert relations["Crossing tapes"] == "ko"
    assert values(root, "rights") == ["CC BY-NC 4.0"]
    coverage = values(root, "coverage")
    assert "Riverbank" in coverage and "North Korea" in coverage and "SAFEHOUSE" in coverage


def test_the_public_get_published_positions_and_the_copies_formats_only(archive: Archive, footage: int) -> None:
    root = record(archive, ANONYMOUS, footage)
    assert shape_problems(root) == []
    text = etree.tostring(root, encoding="unicode")
    for exact in EXACT_TEXTS:
        assert exact not in text, exact
    assert "SAFEHOUSE" not in text and "China" not in text
    assert any(c.endswith("(shown to about 10 km)") for c in values(root, "coverage"))
    with archive.Session() as session:
        media = session.get(Item, footage).media
        assert media.original_name not in text and media.sha256 not in text
        received = [d.mime_type for d in media.derivatives if d.kind in ("proxy", "access")]
    assert values(root, "format") == list(dict.fromkeys(received))


def test_each_kind_has_its_dcmi_type_and_a_catalogued_record_none(archive: Archive) -> None:
    kinds = {ItemKind.video: ["MovingImage"], ItemKind.still: ["StillImage"], ItemKind.audio: ["Sound"]}
    for kind, expected in kinds.items():
        root = record(archive, ANONYMOUS, add_item(archive, f"A {kind.value}", kind=kind,
                                                   location_precision=LocationPrecision.exact))
        assert values(root, "type") == expected and set(expected) <= DCMI_TYPES
    with archive.session() as session:
        item = Item(title="Tape 14", kind=ItemKind.catalogued, access=AccessLevel.public)
        session.add(item)
        session.flush()
        item_id = item.id
    root = record(archive, ANONYMOUS, item_id)
    assert shape_problems(root) == [] and values(root, "type") == [] and values(root, "format") == []


def test_unicode_round_trips_and_bad_language_tags_are_not_xml_lang(archive: Archive, settings) -> None:
    item_id = add_item(archive, "강을 건너다 \x01过江 ข้าม", description="밤\x0b에", language="ko, not a tag!, zh-Hans")
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.transcripts.append(Transcript(language="bad tag", source_name="x.vtt"))
    root = record(archive, ANONYMOUS, item_id)
    assert shape_problems(root) == []
    assert values(root, "title") == ["강을 건너다 过江 ข้าม"] and values(root, "description") == ["밤에"]
    assert values(root, "language") == ["ko", "zh-Hans"]
    assert None in langs(root, "relation"), "a transcript language that is no tag is left off"


def test_without_a_catalogue_language_titles_carry_no_xml_lang(archive: Archive) -> None:
    archive.settings["catalogue_language"] = ""
    root = record(archive, ANONYMOUS, add_item(archive, "Clip"))
    assert langs(root, "title") == [None] and shape_problems(root) == []


def test_the_route_serves_the_record_as_the_viewer_may_see_it(archive: Archive, client: FlaskClient) -> None:
    item_id = add_item(archive, "Clip", original_name="DCIM_0042.MOV", location_precision=LocationPrecision.km10)
    response = client.get(f"/items/{item_id}.dc.xml")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert shape_problems(root) == [] and b"DCIM_0042" not in response.data


def test_the_export_command_writes_a_record_per_item_into_a_folder(archive: Archive, runner, tmp_path: Path) -> None:
    public = add_item(archive, "Clip public")
    restricted = add_item(archive, "Clip restricted", access=AccessLevel.restricted)
    out = tmp_path / "dc"
    result = runner.invoke(args=["export", "dc", "--public", "-d", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"item-{public}.dc.xml"]
    result = runner.invoke(args=["export", "dc", "-d", str(out)])
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([f"item-{public}.dc.xml", f"item-{restricted}.dc.xml"])
    for path in out.iterdir():
        assert shape_problems(etree.fromstring(path.read_bytes())) == [], path.name
    result = runner.invoke(args=["export", "dc", "--as", "nobody", "-d", str(out)])
    assert result.exit_code != 0 and "nobody" in result.output


from test_demo import demo_root  # noqa: E402,F401  (the real demo, built once per test run)


def test_every_record_the_demo_can_produce_is_simple_dc(demo_root: Path) -> None:
    from archive.interchange.record import load_items
    demo = Archive.open({"data": str(demo_root), "secret_key": "test"})
    try:
        with demo.Session() as session:
            ids = list(session.scalars(select(Item.id).order_by(Item.id)))
            for viewer in (SYSTEM, ANONYMOUS):
                for item in load_items(session, viewer, ids):
                    root = etree.fromstring(dc_document(session, viewer, item, demo.identity))
                    assert shape_problems(root) == [], (viewer.name, item.id)
                    assert values(root, "title") and values(root, "identifier")
    finally:
        demo.close()
