"""PBCore 2.1 export (archive.interchange.pbcore): the shapes pbcore-2.1.xsd requires, what each viewer
may see in it, Unicode, untouched imported records, streamed collections, the routes and the command.

The schema may not be copied into the project, so what it requires is written out here, read from
pbcore-2.1.xsd of the PBCore project's PBCore_2.1 repository: each container's xs:sequence (children
in that order, with their minOccurs/maxOccurs), the attributes each element's type declares (an
undeclared one is invalid), the required ones, the one enumeration (coverageType), and the
threeLetterCode pattern of the language elements.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from archive.access import ANONYMOUS, SYSTEM, Viewer
from archive.core import Archive
from archive.dates import parse_date
from archive.interchange import record
from archive.interchange.pbcore import pbcore_document, pbcore_element, write_pbcore_collection
from archive.interchange.xmltext import xml_text
from archive.models import (AccessLevel, Collection, Item, ItemKind, LocationPrecision, Role, SourceRecord, Tag,
                            TimeRange, Transcript, TranscriptKind)
from archive.services import locations, places
from archive.services.catalogue import get_item
from archive.services.ingest import IngestOptions, ingest_paths
from conftest import log_in
from mediagen import make_video
from test_web import add_item

NS = "http://www.pbcore.org/PBCore/PBCoreNamespace.html"
UNBOUNDED = None

# -- what pbcore-2.1.xsd requires ---------------------------------------------------------------------

#: (child, minOccurs, maxOccurs) in xs:sequence order, per container (pbcoreDescriptionDocumentType,
#: instantiationType, essenceTrackType and the anonymous complex types inside them).
SEQUENCES: dict[str, list[tuple[str, int, int | None]]] = {
    "pbcoreCollection": [("pbcoreDescriptionDocument", 1, UNBOUNDED)],
    "pbcoreDescriptionDocument": [
        ("pbcoreAssetType", 0, UNBOUNDED), ("pbcoreAssetDate", 0, UNBOUNDED), ("pbcoreIdentifier", 1, UNBOUNDED),
        ("pbcoreTitle", 1, UNBOUNDED), ("pbcoreSubject", 0, UNBOUNDED), ("pbcoreDescription", 1, UNBOUNDED),
        ("pbcoreGenre", 0, UNBOUNDED), ("pbcoreRelation", 0, UNBOUNDED), ("pbcoreCoverage", 0, UNBOUNDED),
        ("pbcoreAudienceLevel", 0, UNBOUNDED), ("pbcoreAudienceRating", 0, UNBOUNDED),
        ("pbcoreCreator", 0, UNBOUNDED), ("pbcoreContributor", 0, UNBOUNDED), ("pbcorePublisher", 0, UNBOUNDED),
        ("pbcoreRightsSummary", 0, UNBOUNDED), ("pbcoreInstantiation", 0, UNBOUNDED),
        ("pbcoreAnnotation", 0, UNBOUNDED), ("pbcorePart", 0, UNBOUNDED), ("pbcoreExtension", 0, UNBOUNDED)],
    "pbcoreInstantiation": [
        ("instantiationIdentifier", 1, UNBOUNDED), ("instantiationDate", 0, UNBOUNDED),
        ("instantiationDimensions", 0, UNBOUNDED), ("instantiationPhysical", 0, 1), ("instantiationDigital", 0, 1),
        ("instantiationStandard", 0, 1), ("instantiationLocation", 1, 1), ("instantiationMediaType", 0, 1),
        ("instantiationGenerations", 0, UNBOUNDED), ("instantiationFileSize", 0, 1),
        ("instantiationTimeStart", 0, 1), ("instantiationDuration", 0, 1), ("instantiationDataRate", 0, 1),
        ("instantiationColors", 0, 1), ("instantiationTracks", 0, 1), ("instantiationChannelConfiguration", 0, 1),
        ("instantiationLanguage", 0, 1), ("instantiationAlternativeModes", 0, 1),
        ("instantiationEssenceTrack", 0, UNBOUNDED), ("instantiationRelation", 0, UNBOUNDED),
        ("instantiationRights", 0, UNBOUNDED), ("instantiationAnnotation", 0, UNBOUNDED),
        ("instantiationPart", 0, UNBOUNDED), ("instantiationExtension", 0, UNBOUNDED)],
    "instantiationEssenceTrack": [
        ("essenceTrackType", 0, 1), ("essenceTrackIdentifier", 0, UNBOUNDED), ("essenceTrackStandard", 0, 1),
        ("essenceTrackEncoding", 0, 1), ("essenceTrackDataRate", 0, 1), ("essenceTrackFrameRate", 0, 1),
        ("essenceTrackPlaybackSpeed", 0, 1), ("essenceTrackSamplingRate", 0, 1), ("essenceTrackBitDepth", 0, 1),
        ("essenceTrackFrameSize", 0, 1), ("essenceTrackAspectRatio", 0, 1), ("essenceTrackTimeStart", 0, 1),
        ("essenceTrackDuration", 0, 1), ("essenceTrackLanguage", 0, 1), ("essenceTrackAnnotation", 0, UNBOUNDED),
        ("essenceTrackExtension", 0, UNBOUNDED)],
    "pbcoreCoverage": [("coverage", 1, 1), ("coverageType", 0, 1)],
    "pbcoreCreator": [("creator", 1, 1), ("creatorRole", 0, UNBOUNDED)],
    "pbcoreContributor": [("contributor", 1, 1), ("contributorRole", 0, UNBOUNDED)],
    "pbcorePublisher": [("publisher", 1, 1), ("publisherRole", 0, UNBOUNDED)],
    "pbcoreRelation": [("pbcoreRelationType", 1, 1), ("pbcoreRelationIdentifier", 1, 1)],
}
#: rightsSummaryType (pbcoreRightsSummary, instantiationRights) is an xs:choice of at most one of these.
RIGHTS_CHOICE = {"rightsSummary", "rightsLink", "rightsEmbedded"}

# The attribute groups and the attributes each element's type declares.
SOURCE_VERSION = {"source", "ref", "version", "annotation"}  # sourceVersionGroup
START_END = {"startTime", "endTime", "timeAnnotation"}  # startEndTimeGroup
TECHNICAL = {"unitsOfMeasure"} | SOURCE_VERSION  # technicalStringType
ANNOTATION = {"annotationType"} | SOURCE_VERSION  # annotationStringType
AFFILIATED = {"affiliation", "affiliationSource", "affiliationRef", "affiliationVersion",
              "affiliationAnnotation"} | SOURCE_VERSION | START_END


def _typed(kind: str) -> set[str]:
    return {kind, f"{kind}Source", f"{kind}Ref", f"{kind}Version", f"{kind}Annotation"}


ATTRIBUTES: dict[str, set[str]] = {
    "pbcoreCollection": {"collectionTitle", "collectionDescription", "collectionSource", "collectionRef",
                         "collectionDate"} | SOURCE_VERSION,
    "pbcoreDescriptionDocument": SOURCE_VERSION,
    "pbcoreAssetType": SOURCE_VERSION, "pbcoreAssetDate": {"dateType"} | SOURCE_VERSION,
    "pbcoreIdentifier": SOURCE_VERSION, "pbcoreTitle": _typed("titleType") | SOURCE_VERSION | START_END,
    "pbcoreSubject": _typed("subjectType") | SOURCE_VERSION | START_END,
    "pbcoreDescription": _typed("descriptionType") | _typed("segmentType") | SOURCE_VERSION | START_END,
    "pbcoreGenre": SOURCE_VERSION | START_END, "pbcoreAudienceLevel": SOURCE_VERSION,
    "pbcoreAudienceRating": SOURCE_VERSION, "pbcoreRelation": set(), "pbcoreRelationType": SOURCE_VERSION,
    "pbcoreRelationIdentifier": SOURCE_VERSION, "pbcoreCoverage": set(), "coverage": SOURCE_VERSION | START_END,
    "coverageType": set(), "pbcoreCreator": set(), "pbcoreContributor": set(), "pbcorePublisher": set(),
    "creator": AFFILIATED, "contributor": AFFILIATED, "publisher": AFFILIATED,
    "creatorRole": SOURCE_VERSION, "contributorRole": {"portrayal"} | SOURCE_VERSION, "publisherRole": SOURCE_VERSION,
    "pbcoreRightsSummary": START_END, "rightsSummary": SOURCE_VERSION, "rightsLink": SOURCE_VERSION,
    "pbcoreInstantiation": SOURCE_VERSION | START_END, "pbcoreAnnotation": ANNOTATION,
    "instantiationIdentifier": SOURCE_VERSION, "instantiationDate": {"dateType"} | SOURCE_VERSION,
    "instantiationDimensions": TECHNICAL, "instantiationPhysical": SOURCE_VERSION,
    "instantiationDigital": SOURCE_VERSION, "instantiationStandard": {"profile"} | SOURCE_VERSION,
    "instantiationLocation": SOURCE_VERSION, "instantiationMediaType": SOURCE_VERSION,
    "instantiationGenerations": SOURCE_VERSION, "instantiationFileSize": TECHNICAL,
    "instantiationTimeStart": SOURCE_VERSION, "instantiationDuration": SOURCE_VERSION,
    "instantiationDataRate": TECHNICAL, "instantiationColors": SOURCE_VERSION, "instantiationTracks": SOURCE_VERSION,
    "instantiationChannelConfiguration": SOURCE_VERSION, "instantiationLanguage": SOURCE_VERSION,
    "instantiationAlternativeModes": SOURCE_VERSION, "instantiationEssenceTrack": SOURCE_VERSION,
    "instantiationAnnotation": ANNOTATION, "instantiationRights": START_END,
    "essenceTrackType": SOURCE_VERSION, "essenceTrackIdentifier": SOURCE_VERSION,
    "essenceTrackStandard": SOURCE_VERSION, "essenceTrackEncoding": SOURCE_VERSION,
    "essenceTrackDataRate": TECHNICAL, "essenceTrackFrameRate": TECHNICAL, "essenceTrackPlaybackSpeed": TECHNICAL,
    "essenceTrackSamplingRate": TECHNICAL, "essenceTrackBitDepth": TECHNICAL, "essenceTrackFrameSize": TECHNICAL,
    "essenceTrackAspectRatio": TECHNICAL, "essenceTrackTimeStart": SOURCE_VERSION,
    "essenceTrackDuration": SOURCE_VERSION, "essenceTrackLanguage": SOURCE_VERSION,
    "essenceTrackAnnotation": ANNOTATION,
}
#: requiredSourceVersionStringType: @source is use="required".
REQUIRED_ATTRIBUTES = {"pbcoreIdentifier": {"source"}, "instantiationIdentifier": {"source"}}
#: The schema's enumerations.
ENUMERATIONS = {"coverageType": {"Spatial", "Temporal"}}
#: threeLetterCode's xs:pattern (instantiationLanguage, essenceTrackLanguage).
THREE_LETTER = re.compile(r"^([a-z]{3}((;[a-z]{3})?)*)?$")
#: Lexical forms the export promises where the schema recommends one (HH:MM:SS.mmm; ISO 8601; bytes; WxH).
TIMESTAMP = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d\.\d{3}$")
FORMS = {"instantiationDuration": TIMESTAMP, "essenceTrackDuration": TIMESTAMP,
         "instantiationDate": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
         "instantiationFileSize": re.compile(r"^\d+$"), "essenceTrackFrameSize": re.compile(r"^\d+x\d+$"),
         "instantiationDimensions": re.compile(r"^\d+x\d+$"),
         "essenceTrackFrameRate": re.compile(r"^\d+(\.\d+)?$"), "essenceTrackSamplingRate": re.compile(r"^\d+(\.\d+)?$"),
         "instantiationLanguage": THREE_LETTER, "essenceTrackLanguage": THREE_LETTER}
XML_ATTRIBUTES = {"{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"}


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def shape_problems(element: etree._Element, path: str = "") -> list[str]:
    """What in `element` (and below) pbcore-2.1.xsd would refuse, as "path: reason" lines."""
    name = local(element)
    path = f"{path}/{name}"
    problems: list[str] = []
    if etree.QName(element).namespace != NS:
        problems.append(f"{path}: not in the PBCore namespace")
    if name not in ATTRIBUTES and name not in SEQUENCES:
        return problems + [f"{path}: an element the schema does not declare here"]
    for attribute in element.attrib:
        if attribute not in ATTRIBUTES.get(name, set()) and attribute not in XML_ATTRIBUTES:
            problems.append(f"{path}/@{attribute}: an attribute {name}'s type does not declare")
    for attribute in REQUIRED_ATTRIBUTES.get(name, set()):
        if not element.get(attribute):
            problems.append(f"{path}: @{attribute} is required")
    text = (element.text or "").strip()
    if name in ENUMERATIONS and text not in ENUMERATIONS[name]:
        problems.append(f"{path}: {text!r} is not one of {sorted(ENUMERATIONS[name])}")
    if name in FORMS and not FORMS[name].match(text):
        problems.append(f"{path}: {text!r} is not in the form {FORMS[name].pattern}")
    children = list(element)
    if name in ("pbcoreRightsSummary", "instantiationRights"):
        if len(children) > 1 or any(local(c) not in RIGHTS_CHOICE for c in children):
            problems.append(f"{path}: holds at most one of {sorted(RIGHTS_CHOICE)}")
        return problems + [p for c in children for p in shape_problems(c, path)]
    if name not in SEQUENCES:
        if children:
            problems.append(f"{path}: simple content may hold no elements")
        return problems
    sequence = SEQUENCES[name]
    order = [child for child, _, _ in sequence]
    position = 0
    for child in children:
        child_name = local(child)
        if child_name not in order:
            problems.append(f"{path}/{child_name}: not a child {name} may have")
            continue
        if order.index(child_name) < position:
            problems.append(f"{path}/{child_name}: out of the schema's order (after {order[position]})")
        position = max(position, order.index(child_name))
        problems += shape_problems(child, path)
    for child_name, least, most in sequence:
        count = sum(1 for c in children if local(c) == child_name)
        if count < least:
            problems.append(f"{path}: needs at least {least} {child_name}")
        if most is not None and count > most:
            problems.append(f"{path}: at most {most} {child_name}, has {count}")
    return problems


def parsed(data: bytes) -> etree._Element:
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>"), data[:60]
    return etree.fromstring(data)


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return element.findall(f"{{{NS}}}{name}")


def texts(element: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in element.iterfind(path, {"p": NS})]


def document(archive: Archive, viewer: Viewer, item_id: int) -> bytes:
    with archive.Session() as session:
        return pbcore_document(session, viewer, get_item(session, viewer, item_id), archive.identity)


def test_the_checker_finds_what_the_schema_refuses() -> None:
    """The shape checker itself: a document out of order, missing what is required, with a bad value."""
    bad = etree.fromstring(f"""<pbcoreDescriptionDocument xmlns="{NS}" titleType="x">
        <pbcoreTitle>t</pbcoreTitle><pbcoreIdentifier>1</pbcoreIdentifier>
        <pbcoreCoverage><coverageType>Somewhere</coverageType></pbcoreCoverage>
        <pbcoreInstantiation><instantiationIdentifier source="s">x</instantiationIdentifier>
          <instantiationLanguage>ko</instantiationLanguage></pbcoreInstantiation>
      </pbcoreDescriptionDocument>""".encode())
    problems = "\n".join(shape_problems(bad))
    for expected in ("@titleType: an attribute", "pbcoreIdentifier: out of the schema's order",
                     "pbcoreIdentifier: @source is required", "needs at least 1 pbcoreDescription",
                     "'Somewhere' is not one of", "pbcoreCoverage: needs at least 1 coverage",
                     "needs at least 1 instantiationLocation", "'ko' is not in the form"):
        assert expected in problems, problems


# -- items to export ----------------------------------------------------------------------------------

#: The exact positions of the footage's GPS and of its place, both published to about 10 km: no
#: non-editor's record may hold them.
GPS = (41.3771, 128.1877)
PLACE = (41.3912, 128.1733)
EXACT_TEXTS = ("41.377", "128.187", "41.391", "128.173")


@pytest.fixture
def settings(settings: dict[str, object]) -> dict[str, object]:
    return {**settings, "offer_access_copy_downloads": True, "base_url": "https://archive.example.org"}


def ingest_footage(archive: Archive, tmp_path: Path, *, precision: LocationPrecision,
                   name: str = "Hyesan-crossing.mp4") -> int:
    """Real footage (H.264 + AAC, 320x240 at 25 fps, 48 kHz), its GPS at GPS, ingested public."""
    clip = make_video(tmp_path / name, duration=2.0, location=f"+{GPS[0]:.4f}+{GPS[1]:.4f}/")
    report = ingest_paths(archive, [clip], IngestOptions(access=AccessLevel.public, location_precision=precision))
    assert report.ok, report.failed
    return report.ingested[0]["item_id"]


def describe(archive: Archive, item_id: int) -> None:
    """Give an item what a record carries: a collection, tags, credits of each kind, a sensitive
    place, a hidden place, a tagged range at that place, a Korean transcript, languages and rights."""
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.collection = Collection(title="Crossing tapes", synopsis="Tapes of a crossing.", kind="documentary",
                                     rights="CC BY-NC 4.0")
        item.description, item.language, item.date_shot = "Dusk at the river.", "ko, en", "2019-04-12~"
        parsed_date = parse_date(item.date_shot)
        item.date_lower, item.date_upper = parsed_date.lower, parsed_date.upper
        item.tags.append(Tag(name="river"))
        item.transcripts.append(Transcript(language="ko", kind=TranscriptKind.subtitles, source_name="ko.vtt"))
        from archive.models import Credit, Person
        for position, (name, role) in enumerate((("Kim Min-ji", "director"), ("Lee Soo", "camera"),
                                                 ("Seoul Films", "distributor"))):
            item.credits.append(Credit(person=Person(name=name), role=role, position=position))
        sensitive = places.create_place(session, SYSTEM, name="Riverbank", latitude=PLACE[0], longitude=PLACE[1],
                                        country="KP", precision="km10")
        hidden = places.create_place(session, SYSTEM, name="SAFEHOUSE", latitude=40.0, longitude=125.0,
                                     country="CN", access=AccessLevel.confidential)
        session.flush()
        locations.link_item_place(session, SYSTEM, item_id, sensitive.id)
        locations.link_item_place(session, SYSTEM, item_id, hidden.id)
        item = session.get(Item, item_id)
        item.ranges.append(TimeRange(tag=session.scalar(select(Tag).where(Tag.name == "river")), start_sec=0.5,
                                     end_sec=1.5, note="wading", place_id=sensitive.id))


@pytest.fixture
def footage(archive: Archive, tmp_path: Path) -> int:
    item_id = ingest_footage(archive, tmp_path, precision=LocationPrecision.km10)
    describe(archive, item_id)
    return item_id


# -- shapes ------------------------------------------------------------------------------------------

def test_a_described_item_has_every_shape_the_schema_requires(archive: Archive, footage: int) -> None:
    for viewer in (SYSTEM, ANONYMOUS):
        doc = parsed(document(archive, viewer, footage))
        assert local(doc) == "pbcoreDescriptionDocument"
        assert shape_problems(doc) == [], viewer.name
        assert doc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split() == [
            NS, "https://raw.githubusercontent.com/PBCore-AV-Metadata/PBCore_2.1/master/pbcore-2.1.xsd"]


def test_the_record_says_what_the_catalogue_holds(archive: Archive, footage: int) -> None:
    doc = parsed(document(archive, SYSTEM, footage))
    with archive.Session() as session:
        item = session.get(Item, footage)
        pid, media = item.pid, item.media
        sha, name, size = media.sha256, media.original_name, media.size
    assert texts(doc, "p:pbcoreAssetType") == ["Raw Footage"]
    date = children(doc, "pbcoreAssetDate")[0]
    assert (date.text, date.get("dateType")) == ("2019-04-12~", "created")
    identifiers = {(e.get("source"), e.text) for e in children(doc, "pbcoreIdentifier")}
    assert identifiers == {("URN", pid), ("Crossings archive", str(footage)),
                           ("URL", f"https://archive.example.org/items/{footage}")}
    assert [(e.get("titleType"), e.text) for e in children(doc, "pbcoreTitle")] == [
        ("Main", "Hyesan-crossing"), ("Collection", "Crossing tapes")]
    subjects = [(e.text, e.get("source"), e.get("startTime"), e.get("endTime")) for e in children(doc, "pbcoreSubject")]
    assert subjects == [("river", "Crossings tags", None, None),
                        ("river", "Crossings tags", "00:00:00.500", "00:00:01.500")]
    assert [(e.get("descriptionType"), e.text) for e in children(doc, "pbcoreDescription")] == [
        ("Description", "Dusk at the river."), ("Collection synopsis", "Tapes of a crossing.")]
    assert texts(doc, "p:pbcoreGenre") == ["documentary"]
    assert texts(doc, "p:pbcoreCreator/p:creator") == ["Kim Min-ji"]
    assert texts(doc, "p:pbcoreCreator/p:creatorRole") == ["director"]
    assert texts(doc, "p:pbcoreContributor/p:contributor") == ["Lee Soo"]
    assert texts(doc, "p:pbcorePublisher/p:publisher") == ["Seoul Films", "Crossings archive"]
    assert texts(doc, "p:pbcoreRightsSummary/p:rightsSummary") == ["CC BY-NC 4.0"]
    coverage = [(c.findtext(f"{{{NS}}}coverage"), c.findtext(f"{{{NS}}}coverageType"))
                for c in children(doc, "pbcoreCoverage")]
    assert ("Riverbank, North Korea", "Spatial") in coverage and ("2019-04-12~", "Temporal") in coverage
    assert (f"{PLACE[0]:.5f}, {PLACE[1]:.5f}", "Spatial") in coverage, "editors see the exact position"
    assert ("SAFEHOUSE, China", "Spatial") in coverage, "editors see confidential places"
    original = children(doc, "pbcoreInstantiation")[0]
    assert {(e.get("source"), e.text) for e in children(original, "instantiationIdentifier")} == {
        ("SHA-256", sha), ("Original file name", name)}
    assert original.findtext(f"{{{NS}}}instantiationFileSize") == str(size)
    assert original.findtext(f"{{{NS}}}instantiationLocation") == f"https://archive.example.org/items/{footage}/original"
    assert original.findtext(f"{{{NS}}}instantiationLanguage") == "kor;eng"
    assert original.findtext(f"{{{NS}}}instantiationGenerations") == "Original"
    assert re.match(r"^00:00:0[12]\.\d{3}$", original.findtext(f"{{{NS}}}instantiationDuration"))
    tracks = {t.findtext(f"{{{NS}}}essenceTrackType"): t for t in children(original, "instantiationEssenceTrack")}
    video, audio = tracks["Video"], tracks["Audio"]
    assert video.findtext(f"{{{NS}}}essenceTrackEncoding") == "h264"
    assert video.findtext(f"{{{NS}}}essenceTrackFrameSize") == "320x240"
    assert video.findtext(f"{{{NS}}}essenceTrackFrameRate") == "25"
    assert audio.findtext(f"{{{NS}}}essenceTrackEncoding") == "aac"
    assert audio.findtext(f"{{{NS}}}essenceTrackSamplingRate") == "48"
    assert audio.findtext(f"{{{NS}}}essenceTrackLanguage") == "kor;eng"
    annotations = {e.get("annotationType"): e for e in children(doc, "pbcoreAnnotation")}
    assert annotations["Access level"].text == "public"
    assert annotations["Location precision"].text == "km10"
    with archive.Session() as session:
        transcript_id = session.scalar(select(Transcript.id).where(Transcript.item_id == footage))
    vtt = f"https://archive.example.org/items/{footage}/transcripts/{transcript_id}.vtt"
    assert annotations["Subtitles"].get("ref") == vtt and "(ko)" in annotations["Subtitles"].text
    assert annotations["Time range tag"].text == "00:00:00.500-00:00:01.500 river: wading"


def test_a_catalogued_record_without_media_has_no_instantiation(archive: Archive) -> None:
    """pbcoreInstantiation is minOccurs="0": a record whose media are not attached is valid without one,
    and an empty description is still there, since pbcoreDescription is minOccurs="1"."""
    with archive.session() as session:
        item = Item(title="Tape 14, unlabelled", kind=ItemKind.catalogued, access=AccessLevel.public)
        session.add(item)
        session.flush()
        item_id = item.id
    doc = parsed(document(archive, ANONYMOUS, item_id))
    assert shape_problems(doc) == []
    assert children(doc, "pbcoreInstantiation") == []
    assert texts(doc, "p:pbcoreAssetType") == ["Miscellaneous"]
    assert [e.text for e in children(doc, "pbcoreDescription")] == [None]
    assert "catalogued, media not yet attached" in texts(doc, "p:pbcoreAnnotation")


# -- access ------------------------------------------------------------------------------------------

def test_a_public_viewer_gets_no_original_checksum_or_name_and_only_published_positions(
        archive: Archive, footage: int) -> None:
    with archive.Session() as session:
        media = session.get(Item, footage).media
        sha, name = media.sha256, media.original_name
    public = document(archive, ANONYMOUS, footage)
    text = public.decode()
    assert sha not in text and name not in text and "Hyesan-crossing.mp4" not in text
    assert "/original" not in text
    for exact in EXACT_TEXTS:
        assert exact not in text, exact
    assert "SAFEHOUSE" not in text, "a confidential place is absent for the public"
    doc = parsed(public)
    generations = texts(doc, "p:pbcoreInstantiation/p:instantiationGenerations")
    assert "Original" not in generations
    coverage = {c.findtext(f"{{{NS}}}coverage"): c.find(f"{{{NS}}}coverage") for c in children(doc, "pbcoreCoverage")}
    assert "Riverbank, North Korea" in coverage
    coordinates = [c for c in coverage.values() if c.get("source") == "WGS84 latitude, longitude"]
    assert coordinates and all(c.get("annotation") == "shown to about 10 km" for c in coordinates)
    admin = document(archive, SYSTEM, footage).decode()
    assert sha in admin and name in admin and f"{PLACE[0]:.5f}" in admin


def test_copies_the_viewer_receives_are_instantiations_without_the_originals_names(archive: Archive) -> None:
    item_id = add_item(archive, "Crossing", kind=ItemKind.video, derivatives=("grid", "proxy", "access"),
                       derivative_info={"access": {"sha256": "c0ffee" * 10 + "abcd", "duration": 3.0}},
                       media={"duration": 3.0, "width": 320, "height": 240}, original_name="DCIM_0001.MOV",
                       location_precision=LocationPrecision.km10)
    doc = parsed(document(archive, ANONYMOUS, item_id))
    assert shape_problems(doc) == []
    copies = children(doc, "pbcoreInstantiation")
    assert [c.findtext(f"{{{NS}}}instantiationGenerations") for c in copies] == ["Proxy", "Copy: Access"]
    access = copies[1]
    assert {e.get("source"): e.text for e in children(access, "instantiationIdentifier")}["SHA-256"] == \
        "c0ffee" * 10 + "abcd"
    assert access.findtext(f"{{{NS}}}instantiationLocation") == f"https://archive.example.org/items/{item_id}/access"
    assert access.findtext(f"{{{NS}}}instantiationDuration") == "00:00:03.000"
    assert "DCIM_0001" not in etree.tostring(doc).decode()
    archive.settings["offer_access_copy_downloads"] = False
    doc = parsed(document(archive, ANONYMOUS, item_id))
    assert texts(doc, "p:pbcoreInstantiation/p:instantiationGenerations") == ["Proxy"], \
        "no access copy is offered: none is described"


def test_routes_are_404_where_the_item_page_is_and_never_stored_unless_public(
        archive: Archive, client: FlaskClient, make_user) -> None:
    hidden = add_item(archive, "MARK-restricted", access=AccessLevel.restricted)
    public = add_item(archive, "MARK-public")
    for suffix in ("", ".pbcore.xml", ".dc.xml"):
        assert client.get(f"/items/{hidden}{suffix}").status_code == 404, suffix
        assert client.get(f"/items/999999{suffix}").status_code == 404, suffix
        response = client.get(f"/items/{public}{suffix}")
        assert response.status_code == 200, suffix
    for suffix in (".pbcore.xml", ".dc.xml"):
        response = client.get(f"/items/{public}{suffix}")
        assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert b"MARK-restricted" not in response.data
    log_in(client, make_user("researcher"))
    for suffix in (".pbcore.xml", ".dc.xml"):
        response = client.get(f"/items/{hidden}{suffix}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
    page = client.get(f"/items/{public}").get_data(as_text=True)
    assert f'href="/items/{public}.pbcore.xml"' in page and f'href="/items/{public}.dc.xml"' in page


# -- text --------------------------------------------------------------------------------------------

def test_korean_chinese_and_thai_text_round_trips_and_forbidden_characters_are_dropped(archive: Archive) -> None:
    title = "강을 건너다 · 过江 · ข้ามแม่น้ำ"
    # (PostgreSQL text holds no NUL and neither catalogue a lone surrogate: xml_text's own test has those.)
    item_id = add_item(archive, title + "\x01\x0b\ufffe", description="밤에\x1b 건넜다 & <갔다>",
                       creator="김\x02민지", original_name="강\x07.mov", location_precision=LocationPrecision.exact)
    data = document(archive, ANONYMOUS, item_id)
    doc = parsed(data)
    assert shape_problems(doc) == []
    assert texts(doc, "p:pbcoreTitle") == [title]
    assert texts(doc, "p:pbcoreDescription") == ["밤에 건넜다 & <갔다>"]
    assert texts(doc, "p:pbcoreCreator/p:creator") == ["김민지"]
    assert "강.mov" in texts(doc, "p:pbcoreInstantiation/p:instantiationIdentifier")
    assert title.encode("utf-8") in data, "written as UTF-8, not as character references"


def test_xml_text_drops_what_xml_1_0_forbids_and_keeps_the_rest() -> None:
    assert xml_text("a\x00b\x08c\td\ne\rf\ud800g\ufffeh\uffffi\U0001f600") == "abc\td\ne\rfghi\U0001f600"
    assert xml_text(None) == "" and xml_text(3) == "3"


# -- untouched imported records --------------------------------------------------------------------

SOURCE = f"""<pbcoreDescriptionDocument xmlns="{NS}">
  <pbcoreAssetType>Episode</pbcoreAssetType>
  <pbcoreIdentifier source="http://americanarchiveinventory.org">cpb-aacip-15-00000000</pbcoreIdentifier>
  <pbcoreTitle titleType="Series">Across the River</pbcoreTitle>
  <pbcoreTitle titleType="Episode">강 건너</pbcoreTitle>
  <pbcoreDescription descriptionType="Abstract">As it came.</pbcoreDescription>
  <pbcoreAudienceLevel>General</pbcoreAudienceLevel>
  <pbcoreInstantiation>
    <instantiationIdentifier source="tape">T-14</instantiationIdentifier>
    <instantiationPhysical>Betacam SP</instantiationPhysical>
    <instantiationLocation>Shelf 4</instantiationLocation>
  </pbcoreInstantiation>
</pbcoreDescriptionDocument>"""

INSTANTIATION_ONLY = f"""<pbcoreInstantiationDocument xmlns="{NS}">
  <instantiationIdentifier source="MediaInfo">tape-14.mov</instantiationIdentifier>
  <instantiationDigital>video/quicktime</instantiationDigital>
  <instantiationLocation>/mnt/ingest/tape-14.mov</instantiationLocation>
  <instantiationEssenceTrack><essenceTrackType>Video</essenceTrackType>
    <essenceTrackEncoding>ProRes 422</essenceTrackEncoding></instantiationEssenceTrack>
</pbcoreInstantiationDocument>"""


def _imported(archive: Archive, content: str) -> int:
    with archive.session() as session:
        item = Item(title="Across the River", kind=ItemKind.catalogued, access=AccessLevel.public)
        session.add(item)
        session.flush()
        item.source_records.append(SourceRecord(format="pbcore", source_name="aapb.xml", content=content,
                                                item_version=item.version))
        return item.id


ARCHIVIST = Viewer(role=Role.archivist, name="archivist")


def test_an_untouched_imported_record_goes_back_to_editors_as_it_came_with_its_identifier(archive: Archive) -> None:
    item_id = _imported(archive, SOURCE)
    with archive.Session() as session:
        pid = session.get(Item, item_id).pid
    doc = parsed(document(archive, ARCHIVIST, item_id))
    assert shape_problems(doc) == []
    assert texts(doc, "p:pbcoreTitle") == ["Across the River", "강 건너"]
    assert texts(doc, "p:pbcoreAudienceLevel") == ["General"], "what the model has no place for is kept"
    assert texts(doc, "p:pbcoreInstantiation/p:instantiationPhysical") == ["Betacam SP"]
    assert [(e.get("source"), e.text) for e in children(doc, "pbcoreIdentifier")] == [
        ("http://americanarchiveinventory.org", "cpb-aacip-15-00000000"), ("URN", pid)]
    # The identifier is not added twice when the record already holds it.
    with archive.Session() as session:
        again = pbcore_element(session, ARCHIVIST, get_item(session, ARCHIVIST, item_id), archive.identity)
        assert [e.text for e in children(again, "pbcoreIdentifier")].count(pid) == 1
    public = parsed(document(archive, ANONYMOUS, item_id))
    assert texts(public, "p:pbcoreAudienceLevel") == [], "non-editors get the generated record"
    with archive.session() as session:
        session.get(Item, item_id).description = "Edited since."
    edited = parsed(document(archive, ARCHIVIST, item_id))
    assert texts(edited, "p:pbcoreAudienceLevel") == [], "an edited item is exported from the catalogue"
    assert texts(edited, "p:pbcoreDescription") == ["Edited since."]


def test_an_instantiation_only_record_comes_back_inside_a_description_document(archive: Archive) -> None:
    item_id = _imported(archive, INSTANTIATION_ONLY)
    doc = parsed(document(archive, ARCHIVIST, item_id))
    assert local(doc) == "pbcoreDescriptionDocument" and shape_problems(doc) == []
    assert texts(doc, "p:pbcoreInstantiation/p:instantiationIdentifier") == ["tape-14.mov"]
    assert texts(doc, "p:pbcoreInstantiation/p:instantiationEssenceTrack/p:essenceTrackEncoding") == ["ProRes 422"]


def test_a_stored_record_that_no_longer_parses_is_passed_over_for_the_generated_one(archive: Archive) -> None:
    item_id = _imported(archive, SOURCE[:200])
    doc = parsed(document(archive, ARCHIVIST, item_id))
    assert shape_problems(doc) == []
    assert texts(doc, "p:pbcoreTitle") == ["Across the River"]


# -- collections -------------------------------------------------------------------------------------

def test_a_collection_streams_each_visible_item_as_a_valid_document(archive: Archive, monkeypatch) -> None:
    ids = [add_item(archive, f"Clip {n}", access=AccessLevel.restricted if n == 2 else AccessLevel.public)
           for n in range(5)]
    loaded: list[int] = []
    real = record.load_items
    monkeypatch.setattr(record, "CHUNK", 2)
    monkeypatch.setattr(record, "load_items", lambda s, v, chunk, *load: loaded.append(len(chunk)) or real(s, v, chunk, *load))
    out = io.BytesIO()
    seen: list[int] = []
    with archive.Session() as session:
        written = write_pbcore_collection(out, session, ANONYMOUS, ids, archive.identity, title="Clips 한",
                                          on_item=lambda item: seen.append(item.id))
    assert loaded == [2, 2, 1], "items are loaded a chunk at a time"
    collection = parsed(out.getvalue())
    assert shape_problems(collection) == []
    assert collection.get("collectionTitle") == "Clips 한"
    assert written == 4 and seen == [i for i in ids if i != ids[2]]
    assert [texts(d, "p:pbcoreTitle")[0] for d in collection] == ["Clip 0", "Clip 1", "Clip 3", "Clip 4"]
    with archive.Session() as session, pytest.raises(ValueError, match="at least one"):
        write_pbcore_collection(io.BytesIO(), session, ANONYMOUS, [], archive.identity)


def test_the_export_command_writes_a_collection_as_the_chosen_viewer_sees_it(
        archive: Archive, runner, tmp_path: Path) -> None:
    public = add_item(archive, "Clip public", collection="Tapes")
    restricted = add_item(archive, "Clip restricted", access=AccessLevel.restricted, collection="Tapes")
    out = tmp_path / "records.xml"
    result = runner.invoke(args=["export", "pbcore", "--public", "-o", str(out)])
    assert result.exit_code == 0, result.output
    collection = parsed(out.read_bytes())
    assert shape_problems(collection) == []
    assert [texts(d, "p:pbcoreTitle")[0] for d in collection] == ["Clip public"]
    result = runner.invoke(args=["export", "pbcore"])  # as the system, to stdout
    assert result.exit_code == 0
    collection = parsed(result.stdout_bytes)
    assert len(collection) == 2 and collection.get("collectionTitle") == "Crossings archive: the whole archive"
    with archive.Session() as session:
        tapes = session.scalar(select(Collection.id).where(Collection.title == "Tapes"))
    result = runner.invoke(args=["export", "pbcore", "--collection", str(tapes), "--public", "-o", str(out)])
    assert result.exit_code == 0 and len(parsed(out.read_bytes())) == 1
    result = runner.invoke(args=["export", "pbcore", "--collection", "9999", "-o", str(out)])
    assert result.exit_code != 0 and "collection 9999" in result.output
    with archive.session() as session:
        session.get(Item, public).access = AccessLevel.restricted
    before = out.read_bytes()
    result = runner.invoke(args=["export", "pbcore", "--public", "-o", str(out)])
    assert result.exit_code == 1 and "nothing to export" in result.output
    assert out.read_bytes() == before and not (tmp_path / "records.xml.part").exists()
    assert restricted


# -- the demo ----------------------------------------------------------------------------------------

from test_demo import demo_root  # noqa: E402,F401  (the real demo, built once per test run)

RESEARCHER = Viewer(role=Role.researcher, name="researcher")


def test_every_record_the_demo_can_produce_has_the_schemas_shapes(demo_root: Path) -> None:
    """Every item of the demo, as an admin, a researcher and the public see it, and the whole demo as
    one collection: nothing pbcore-2.1.xsd would refuse."""
    demo = Archive.open({"data": str(demo_root), "secret_key": "test"})
    try:
        with demo.Session() as session:
            ids = list(session.scalars(select(Item.id).order_by(Item.id)))
            assert len(ids) > 10
            for viewer in (SYSTEM, RESEARCHER, ANONYMOUS):
                out = io.BytesIO()
                visible = [i.id for i in record.load_items(session, viewer, ids)]
                written = write_pbcore_collection(out, session, viewer, visible, demo.identity)
                collection = parsed(out.getvalue())
                assert written == len(collection) == len(visible)
                assert shape_problems(collection) == [], viewer.name
                for item in record.load_items(session, viewer, visible):
                    assert shape_problems(parsed(pbcore_document(session, viewer, item, demo.identity))) == []
    finally:
        demo.close()


def test_no_record_is_made_of_an_item_the_viewer_may_not_see(archive: Archive) -> None:
    """The functions other exports call (bags, OAI-PMH) check for themselves, whatever their caller did."""
    from archive.interchange.dublin_core import dc_element
    from archive.services import NotFound
    hidden = add_item(archive, "Hidden", access=AccessLevel.confidential, collection="Closed")
    with archive.Session() as session:
        item = session.get(Item, hidden)
        for make in (pbcore_element, dc_element):
            with pytest.raises(NotFound):
                make(session, Viewer(role=Role.researcher), item, archive.identity)
        assert local(pbcore_element(session, SYSTEM, item, archive.identity)) == "pbcoreDescriptionDocument"


def test_the_export_command_takes_the_items_of_a_search(archive: Archive, runner, tmp_path: Path) -> None:
    add_item(archive, "River at dusk", tags=("river",))
    add_item(archive, "Mountain pass")
    assert runner.invoke(args=["index", "rebuild"]).exit_code == 0
    out = tmp_path / "found.xml"
    for args in (["--search", "river"], ["--search", "", "--filter", "tag=river"]):
        result = runner.invoke(args=["export", "pbcore", *args, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert [texts(d, "p:pbcoreTitle")[0] for d in parsed(out.read_bytes())] == ["River at dusk"], args
    result = runner.invoke(args=["export", "pbcore", "--filter", "tag=river", "-o", str(out)])
    assert result.exit_code == 2 and "--filter narrows --search" in result.output
