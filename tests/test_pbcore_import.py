"""PBCore import (archive.interchange.pbcore_import, `crossings import pbcore`) on records in the field's shapes:
AAPB-like multi-title assets, collections, MediaInfo's instantiation documents, broken and hostile XML."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from archive.access import SYSTEM
from archive.core import Archive
from archive.interchange import pbcore_import
from archive.interchange.pbcore_import import import_pbcore
from archive.interchange.pbcore_records import read_records
from archive.models import Item, ItemKind, SourceRecord
from archive.services import places
from archive.services.editing.items import edit_item
from mediagen import make_video

NS = 'xmlns="http://www.pbcore.org/PBCore/PBCoreNamespace.html"'

#: An asset as the American Archive of Public Broadcasting exports it: several titles, identifiers and dates,
#: subjects, creators with roles, a physical and a digital instantiation with essence tracks.
AAPB = f"""<?xml version="1.0" encoding="UTF-8"?>
<pbcoreDescriptionDocument {NS} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.pbcore.org/PBCore/PBCoreNamespace.html https://raw.githubusercontent.com/WGBH/PBCore_2.1/master/pbcore-2.1.xsd">
  <pbcoreAssetType>Episode</pbcoreAssetType>
  <pbcoreAssetDate dateType="broadcast">1991-06-02</pbcoreAssetDate>
  <pbcoreAssetDate dateType="created">1991-05</pbcoreAssetDate>
  <pbcoreIdentifier source="http://americanarchiveinventory.org">cpb-aacip-15-70msck27</pbcoreIdentifier>
  <pbcoreIdentifier source="NOLA Code">RVRT 000104</pbcoreIdentifier>
  <pbcoreIdentifier source="Sony Ci">2f3b1c5e0d9a4e6f8a7b</pbcoreIdentifier>
  <pbcoreTitle titleType="Series">River Towns</pbcoreTitle>
  <pbcoreTitle titleType="Episode Number">104</pbcoreTitle>
  <pbcoreTitle titleType="Episode">The Yalu at Hyesan</pbcoreTitle>
  <pbcoreTitle titleType="Program">River Towns: Hyesan</pbcoreTitle>
  <pbcoreDescription descriptionType="Episode">Boats and the far bank, filmed from the Chinese side.</pbcoreDescription>
  <pbcoreDescription descriptionType="Series">A series about towns along rivers.</pbcoreDescription>
  <pbcoreGenre source="AAPB Format Genre">Documentary</pbcoreGenre>
  <pbcoreSubject>Rivers</pbcoreSubject>
  <pbcoreSubject subjectType="Topic">Borders</pbcoreSubject>
  <pbcoreCoverage><coverage>Hyesan</coverage><coverageType>Spatial</coverageType></pbcoreCoverage>
  <pbcoreCoverage><coverage>Atlantis</coverage><coverageType>Spatial</coverageType></pbcoreCoverage>
  <pbcoreCoverage><coverage>1990s</coverage><coverageType>Temporal</coverageType></pbcoreCoverage>
  <pbcoreCreator><creator>Lee, Soo-jin</creator><creatorRole>Producer</creatorRole></pbcoreCreator>
  <pbcoreCreator><creator>Park Min</creator></pbcoreCreator>
  <pbcoreContributor><contributor>Choi Yun</contributor><contributorRole>Camera</contributorRole></pbcoreContributor>
  <pbcorePublisher><publisher>WRVT</publisher><publisherRole>Distributor</publisherRole></pbcorePublisher>
  <pbcoreRightsSummary><rightsSummary>Copyright WRVT 1991. All rights reserved.</rightsSummary></pbcoreRightsSummary>
  <pbcoreInstantiation>
    <instantiationIdentifier source="Barcode">RVRT-TAPE-104</instantiationIdentifier>
    <instantiationDate dateType="created">1991-05-20</instantiationDate>
    <instantiationPhysical>Betacam SP</instantiationPhysical>
    <instantiationLocation>WRVT shelf 12</instantiationLocation>
    <instantiationMediaType>Moving Image</instantiationMediaType>
    <instantiationGenerations>Master</instantiationGenerations>
    <instantiationDuration>00:28:30;12</instantiationDuration>
    <instantiationLanguage>kor;eng</instantiationLanguage>
  </pbcoreInstantiation>
  <pbcoreInstantiation>
    <instantiationIdentifier source="File Name">cpb-aacip-15-70msck27.mp4</instantiationIdentifier>
    <instantiationIdentifier source="md5">0123456789abcdef0123456789abcdef</instantiationIdentifier>
    <instantiationDigital>video/mp4</instantiationDigital>
    <instantiationLocation>/mnt/aapb/cpb-aacip-15-70msck27.mp4</instantiationLocation>
    <instantiationMediaType>Moving Image</instantiationMediaType>
    <instantiationFileSize unitsOfMeasure="byte">291475523</instantiationFileSize>
    <instantiationDuration>00:28:30.400</instantiationDuration>
    <instantiationEssenceTrack>
      <essenceTrackType>Video</essenceTrackType>
      <essenceTrackEncoding>AVC</essenceTrackEncoding>
      <essenceTrackFrameRate unitsOfMeasure="fps">29.970</essenceTrackFrameRate>
      <essenceTrackFrameSize>720x480</essenceTrackFrameSize>
      <essenceTrackDuration>00:28:30.400</essenceTrackDuration>
    </instantiationEssenceTrack>
    <instantiationEssenceTrack>
      <essenceTrackType>Audio</essenceTrackType>
      <essenceTrackEncoding>AAC</essenceTrackEncoding>
      <essenceTrackSamplingRate unitsOfMeasure="kHz">48.0</essenceTrackSamplingRate>
    </instantiationEssenceTrack>
  </pbcoreInstantiation>
  <pbcoreAnnotation annotationType="Level of User Access">On Location</pbcoreAnnotation>
</pbcoreDescriptionDocument>
"""

#: Three records, the third with neither identifier nor title.
COLLECTION = f"""<?xml version="1.0" encoding="UTF-8"?>
<pbcoreCollection {NS}>
  <pbcoreDescriptionDocument>
    <pbcoreIdentifier source="local">tape-1</pbcoreIdentifier>
    <pbcoreTitle>Tape one</pbcoreTitle>
  </pbcoreDescriptionDocument>
  <pbcoreDescriptionDocument>
    <pbcoreIdentifier source="local">tape-2</pbcoreIdentifier>
    <pbcoreAssetDate>sometime in spring</pbcoreAssetDate>
  </pbcoreDescriptionDocument>
  <pbcoreDescriptionDocument>
    <pbcoreDescription>Nobody wrote down what this was.</pbcoreDescription>
  </pbcoreDescriptionDocument>
</pbcoreCollection>
"""

#: What `mediainfo --Output=PBCore2 clip.mov` writes: the root is the instantiation.
MEDIAINFO = f"""<?xml version="1.0" encoding="UTF-8"?>
<pbcoreInstantiationDocument {NS} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.pbcore.org/PBCore/PBCoreNamespace.html https://raw.githubusercontent.com/WGBH/PBCore_2.1/master/pbcore-2.1.xsd">
  <instantiationIdentifier source="File Name">barcode_152572_clip.mov</instantiationIdentifier>
  <instantiationDate dateType="file modification">2018-02-26T19:14:19Z</instantiationDate>
  <instantiationDigital>video/quicktime</instantiationDigital>
  <instantiationStandard profile="QuickTime">MPEG-4</instantiationStandard>
  <instantiationLocation>/Users/archivist/Downloads/barcode_152572_clip.mov</instantiationLocation>
  <instantiationMediaType>Moving Image</instantiationMediaType>
  <instantiationFileSize unitsOfMeasure="byte">291475523</instantiationFileSize>
  <instantiationDuration>00:00:10;00</instantiationDuration>
  <instantiationDataRate unitsOfMeasure="bit/second">23947472</instantiationDataRate>
  <instantiationTracks>2</instantiationTracks>
  <instantiationEssenceTrack>
    <essenceTrackType>Video</essenceTrackType>
    <essenceTrackIdentifier source="ID (Mediainfo)">1</essenceTrackIdentifier>
    <essenceTrackEncoding source="codecid" ref="apch">ProRes</essenceTrackEncoding>
    <essenceTrackDataRate unitsOfMeasure="bit/second">23658000</essenceTrackDataRate>
    <essenceTrackFrameRate unitsOfMeasure="fps">29.970</essenceTrackFrameRate>
    <essenceTrackBitDepth>10</essenceTrackBitDepth>
    <essenceTrackFrameSize>1920x1080</essenceTrackFrameSize>
    <essenceTrackAspectRatio>16:9</essenceTrackAspectRatio>
    <essenceTrackDuration>00:00:10.010</essenceTrackDuration>
    <essenceTrackAnnotation annotationType="Format_Profile">422 HQ</essenceTrackAnnotation>
  </instantiationEssenceTrack>
  <instantiationEssenceTrack>
    <essenceTrackType>Audio</essenceTrackType>
    <essenceTrackEncoding>PCM</essenceTrackEncoding>
    <essenceTrackSamplingRate unitsOfMeasure="kHz">48.0</essenceTrackSamplingRate>
    <essenceTrackBitDepth>24</essenceTrackBitDepth>
  </instantiationEssenceTrack>
</pbcoreInstantiationDocument>
"""

MALFORMED_TRACKS = f"""<pbcoreDescriptionDocument {NS}>
  <pbcoreIdentifier source="local">bad-tracks</pbcoreIdentifier>
  <pbcoreTitle>Bad tracks</pbcoreTitle>
  <pbcoreInstantiation>
    <instantiationIdentifier source="File Name">bad.mov</instantiationIdentifier>
    <instantiationDuration>1 hour</instantiationDuration>
    <instantiationEssenceTrack>
      <essenceTrackFrameSize>abc</essenceTrackFrameSize>
      <essenceTrackFrameRate>fast</essenceTrackFrameRate>
      <essenceTrackSamplingRate>48.0</essenceTrackSamplingRate>
    </instantiationEssenceTrack>
  </pbcoreInstantiation>
</pbcoreDescriptionDocument>
"""

#: No namespace at all, and titles in Korean and Chinese.
NO_NAMESPACE = """<pbcoreDescriptionDocument>
  <pbcoreIdentifier source="local">혜산-01</pbcoreIdentifier>
  <pbcoreTitle titleType="Series">압록강 기록</pbcoreTitle>
  <pbcoreTitle titleType="Episode">혜산의 새벽</pbcoreTitle>
  <pbcoreTitle titleType="Alternative">惠山的黎明</pbcoreTitle>
  <pbcoreDescription>강 건너편에서 촬영. 从对岸拍摄。</pbcoreDescription>
  <pbcoreSubject>강</pbcoreSubject>
  <pbcoreSubject>边境</pbcoreSubject>
  <pbcoreCoverage><coverage>惠山</coverage><coverageType>Spatial</coverageType></pbcoreCoverage>
  <pbcoreInstantiation><instantiationLanguage>kor</instantiationLanguage></pbcoreInstantiation>
</pbcoreDescriptionDocument>
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.fixture
def hyesan(archive: Archive) -> int:
    """The place the AAPB record's spatial coverage names, with its other names."""
    with archive.session() as session:
        return places.create_place(session, SYSTEM, name="Hyesan", latitude=41.39, longitude=128.19, country="KP",
                                   alt_names=["혜산", "惠山"]).id


def run_import(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(args=["import", "pbcore", *args])


def items(archive: Archive) -> list[Item]:
    with archive.Session() as session:
        found = list(session.scalars(select(Item).order_by(Item.id)))
        for item in found:  # loaded while the session is open
            _ = item.tags, item.credits, item.places, item.source_records, item.record_keys, item.collection, item.media
            for credit in item.credits:
                _ = credit.person
        return found


def test_an_aapb_asset_becomes_a_catalogued_item(archive: Archive, hyesan: int, tmp_path: Path,
                                                 runner: CliRunner) -> None:
    result = run_import(runner, str(write(tmp_path, "aapb.xml", AAPB)), "--access", "public")
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 refused, 1 with warnings" in result.stderr
    [item] = items(archive)
    assert item.kind is ItemKind.catalogued and item.media is None
    assert item.title == "The Yalu at Hyesan"  # the episode title, not the series or the episode number
    assert item.collection.title == "River Towns"  # the series
    assert item.date_shot == "1991-05"  # the date it was made, not the broadcast date
    assert item.description == ("Boats and the far bank, filmed from the Chinese side.\n\n"
                                "A series about towns along rivers.")
    assert item.creator == "Lee, Soo-jin"
    assert [(c.person.name, c.role) for c in item.credits] == [
        ("Lee, Soo-jin", "Producer"), ("Park Min", "creator"), ("Choi Yun", "Camera"), ("WRVT", "Distributor")]
    assert sorted(t.name for t in item.tags) == ["Borders", "Rivers"]
    assert item.language == "ko, en"
    assert item.rights == "Copyright WRVT 1991. All rights reserved."
    assert item.access.value == "public"
    assert [p.id for p in item.places] == [hyesan]
    assert "cpb-aacip-15-70msck27 (http://americanarchiveinventory.org)" in item.source
    assert "RVRT 000104 (NOLA Code)" in item.source
    # The place that is not in the gazetteer is not made: it is reported, and kept in the record.
    assert ("warning aapb.xml (item 1): pbcoreDescriptionDocument/pbcoreCoverage[2]/coverage[1]: \"Atlantis\" "
            "matches no place of the gazetteer; kept in the source record") in result.stderr
    keys = {k.key for k in item.record_keys}
    assert {"name:cpb-aacip-15-70msck27.mp4", "name:cpb-aacip-15-70msck27", "name:RVRT-TAPE-104",
            "md5:0123456789abcdef0123456789abcdef"} <= keys
    assert "name:WRVT shelf 12" not in keys  # a shelf is not a file name


def test_the_source_record_is_kept_as_it_came(archive: Archive, tmp_path: Path, runner: CliRunner) -> None:
    assert run_import(runner, str(write(tmp_path, "aapb.xml", AAPB))).exit_code == 0
    [item] = items(archive)
    [source] = item.source_records
    assert (source.format, source.source_name) == ("pbcore", "aapb.xml")
    # The whole document, byte for byte, but for the XML declaration (the text is no longer in its encoding).
    assert source.content == AAPB.split("?>", 1)[1].strip()
    assert source.item_version == item.version  # untouched since its import


def test_a_record_of_a_collection_is_kept_with_its_namespace(archive: Archive, tmp_path: Path,
                                                             runner: CliRunner) -> None:
    run_import(runner, str(write(tmp_path, "records.xml", COLLECTION)))
    first = items(archive)[0].source_records[0].content
    assert first.startswith('<pbcoreDescriptionDocument xmlns="http://www.pbcore.org/PBCore/PBCoreNamespace.html">')
    original = COLLECTION.split("<pbcoreDescriptionDocument>", 2)[1].split("</pbcoreDescriptionDocument>")[0]
    assert original in first  # the element's own text, as it was
    assert etree.QName(etree.fromstring(first.encode())).namespace == "http://www.pbcore.org/PBCore/PBCoreNamespace.html"


def test_a_collection_imports_its_good_records_and_refuses_the_bad_one(archive: Archive, tmp_path: Path,
                                                                       runner: CliRunner) -> None:
    result = run_import(runner, str(write(tmp_path, "records.xml", COLLECTION)))
    assert result.exit_code == 1
    assert ("crossings: records.xml: pbcoreCollection/pbcoreDescriptionDocument[3]: no identifier and no title"
            in result.stderr)
    assert "2 created, 0 updated, 1 refused, 1 with warnings" in result.stderr
    assert ('pbcoreCollection/pbcoreDescriptionDocument[2]/pbcoreAssetDate[1]: "sometime in spring" is not a date'
            in result.stderr)
    assert [(i.title, i.date_shot) for i in items(archive)] == [("Tape one", ""), ("tape-2", "")]


def test_warnings_come_in_the_documents_order(archive: Archive) -> None:
    record = f"""<pbcoreDescriptionDocument {NS}>
      <pbcoreAssetDate>soon</pbcoreAssetDate>
      <pbcoreTitle>Ordered</pbcoreTitle>
      <pbcoreCoverage><coverage>Nowhere</coverage><coverageType>Spatial</coverageType></pbcoreCoverage>
      <pbcoreInstantiation><instantiationDuration>long</instantiationDuration></pbcoreInstantiation>
      <pbcoreInstantiation><instantiationLanguage>xx-bad</instantiationLanguage></pbcoreInstantiation>
    </pbcoreDescriptionDocument>"""
    with archive.session() as session:
        [outcome] = import_pbcore(session, SYSTEM, record.encode(), source_name="o.xml").records
    assert [m.split(": ", 1)[0] for m in outcome.messages] == [
        "pbcoreDescriptionDocument/pbcoreAssetDate[1]", "pbcoreDescriptionDocument/pbcoreCoverage[1]/coverage[1]",
        "pbcoreDescriptionDocument/pbcoreInstantiation[1]/instantiationDuration[1]",
        "pbcoreDescriptionDocument/pbcoreInstantiation[2]/instantiationLanguage[1]"]


def test_json_gives_the_records_one_by_one(archive: Archive, tmp_path: Path, runner: CliRunner) -> None:
    result = run_import(runner, "--json", str(write(tmp_path, "records.xml", COLLECTION)),
                        str(write(tmp_path, "broken.xml", "<pbcoreCollection>\n  <a>\n</pbcoreCollection>")))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["file"], r["record"], r["outcome"]) for r in lines] == [
        ("records.xml", "pbcoreCollection/pbcoreDescriptionDocument[1]", "created"),
        ("records.xml", "pbcoreCollection/pbcoreDescriptionDocument[2]", "created"),
        ("records.xml", "pbcoreCollection/pbcoreDescriptionDocument[3]", "refused"),
        ("broken.xml", "", "refused")]
    assert lines[0]["item_id"] == 1 and lines[0]["title"] == "Tape one" and lines[0]["messages"] == []
    assert lines[2]["messages"] == ["no identifier and no title"]
    assert "2 created, 0 updated, 2 refused, 1 with warnings" in result.stderr


def test_broken_xml_is_refused_naming_line_and_column_and_the_batch_goes_on(archive: Archive, tmp_path: Path,
                                                                            runner: CliRunner) -> None:
    broken = write(tmp_path, "broken.xml", f"<pbcoreDescriptionDocument {NS}>\n  <pbcoreTitle>A\n</pbcoreDescriptionDocument>")
    result = run_import(runner, str(broken), str(write(tmp_path, "clip.xml", MEDIAINFO)))
    assert result.exit_code == 1
    assert ("crossings: broken.xml: line 3, column 29: Opening and ending tag mismatch: pbcoreTitle line 2 and "
            "pbcoreDescriptionDocument") in result.stderr
    assert "1 created, 0 updated, 1 refused, 0 with warnings" in result.stderr
    assert [i.title for i in items(archive)] == ["barcode_152572_clip.mov"]


def test_a_root_that_is_not_pbcore_is_refused_naming_it(archive: Archive, tmp_path: Path, runner: CliRunner) -> None:
    dc = '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"><title>x</title></oai_dc:dc>'
    result = run_import(runner, str(write(tmp_path, "dc.xml", dc)), str(tmp_path / "missing.xml"))
    assert result.exit_code == 1
    assert ("crossings: dc.xml: the root element is <{http://www.openarchives.org/OAI/2.0/oai_dc/}dc>, "
            "not a PBCore document") in result.stderr
    assert "crossings: missing.xml: no such file" in result.stderr
    assert items(archive) == []


def test_an_instantiation_document_is_a_record_of_its_file(archive: Archive, tmp_path: Path,
                                                           runner: CliRunner) -> None:
    result = run_import(runner, str(write(tmp_path, "clip.xml", MEDIAINFO)))
    assert result.exit_code == 0, result.stderr
    [item] = items(archive)
    assert item.kind is ItemKind.catalogued and item.title == "barcode_152572_clip.mov"
    assert {k.key for k in item.record_keys} == {"name:barcode_152572_clip.mov"}
    assert item.source_records[0].content.startswith("<pbcoreInstantiationDocument")


def test_malformed_essence_tracks_are_warnings_naming_the_element(archive: Archive, tmp_path: Path,
                                                                  runner: CliRunner) -> None:
    result = run_import(runner, "--json", str(write(tmp_path, "tracks.xml", MALFORMED_TRACKS)))
    assert result.exit_code == 0
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    inst = "pbcoreDescriptionDocument/pbcoreInstantiation[1]"
    assert line["outcome"] == "created" and line["messages"] == [
        f'{inst}/instantiationDuration[1]: "1 hour" is not a duration (HH:MM:SS, HH:MM:SS;FF or seconds)',
        f'{inst}/instantiationEssenceTrack[1]/essenceTrackFrameSize[1]: "abc" is not a frame size (WIDTHxHEIGHT)',
        f'{inst}/instantiationEssenceTrack[1]/essenceTrackFrameRate[1]: "fast" is not a frame rate '
        '(frames per second, e.g. 29.97 or 30000/1001)']
    assert "0 refused, 1 with warnings" in result.stderr


def test_a_document_without_namespace_in_korean_and_chinese(archive: Archive, hyesan: int, tmp_path: Path,
                                                            runner: CliRunner) -> None:
    result = run_import(runner, str(write(tmp_path, "혜산.xml", NO_NAMESPACE)))
    assert result.exit_code == 0, result.stderr
    [item] = items(archive)
    assert (item.title, item.collection.title) == ("혜산의 새벽", "압록강 기록")
    assert item.description == "강 건너편에서 촬영. 从对岸拍摄。"
    assert sorted(t.name for t in item.tags) == sorted(["강", "边境"])
    assert [p.id for p in item.places] == [hyesan]  # by its other name
    assert item.source_records[0].item_version == item.version  # linking the place bumped it before the record
    assert item.language == "ko"
    assert item.source_records[0].source_name == "혜산.xml"
    assert "惠山的黎明" in item.source_records[0].content  # the other title, kept in the record


def test_a_record_naming_an_items_pid_updates_it(archive: Archive, tmp_path: Path, runner: CliRunner) -> None:
    run_import(runner, str(write(tmp_path, "aapb.xml", AAPB)))
    [item] = items(archive)
    again = f"""<pbcoreDescriptionDocument {NS}>
      <pbcoreIdentifier source="Crossings">{item.pid}</pbcoreIdentifier>
      <pbcoreTitle titleType="Program">The Yalu at Hyesan, recut</pbcoreTitle>
      <pbcoreSubject>Boats</pbcoreSubject>
    </pbcoreDescriptionDocument>"""
    result = run_import(runner, str(write(tmp_path, "again.xml", again)))
    assert "0 created, 1 updated, 0 refused, 0 with warnings" in result.stderr
    [updated] = items(archive)
    assert updated.id == item.id and updated.title == "The Yalu at Hyesan, recut"
    assert updated.date_shot == "1991-05" and updated.creator == "Lee, Soo-jin"  # what the record leaves out stays
    assert sorted(t.name for t in updated.tags) == ["Boats", "Borders", "Rivers"]
    assert [s.source_name for s in updated.source_records] == ["aapb.xml", "again.xml"]
    assert updated.source_records[1].item_version == updated.version > item.version


def test_an_edit_after_the_import_leaves_the_record_behind(archive: Archive) -> None:
    with archive.session() as session:
        import_pbcore(session, SYSTEM, MEDIAINFO.encode(), source_name="clip.xml")
    with archive.session() as session:
        import_pbcore(session, SYSTEM, COLLECTION.encode(), source_name="records.xml")
    with archive.session() as session:
        edit_item(session, SYSTEM, 2, title="Tape one, renamed")
    with archive.Session() as session:
        versions = {i.id: (i.version, i.source_records[0].item_version) for i in session.scalars(select(Item))}
    assert versions[1][0] == versions[1][1] and versions[3][0] == versions[3][1]  # untouched
    assert versions[2][0] == versions[2][1] + 1  # edited


def test_each_file_is_one_transaction(archive: Archive, tmp_path: Path, runner: CliRunner,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = pbcore_import._add_credits

    def failing(session: Any, item: Item, *rest: Any) -> None:
        if item.title == "tape-2":  # the second record of the file: the first must go too
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        real(session, item, *rest)

    monkeypatch.setattr(pbcore_import, "_add_credits", failing)
    result = run_import(runner, str(write(tmp_path, "records.xml", COLLECTION)),
                        str(write(tmp_path, "clip.xml", MEDIAINFO)))
    assert result.exit_code == 1
    assert "crossings: records.xml: nothing imported: disk I/O error" in result.stderr
    assert [i.title for i in items(archive)] == ["barcode_152572_clip.mov"]


def test_ingest_attaches_a_file_to_its_catalogued_record(archive: Archive, tmp_path: Path, runner: CliRunner) -> None:
    run_import(runner, str(write(tmp_path, "aapb.xml", AAPB)), str(write(tmp_path, "clip.xml", MEDIAINFO)))
    (tmp_path / "in").mkdir()
    video = make_video(tmp_path / "in" / "cpb-aacip-15-70msck27.mov", duration=1.0)  # by its stem
    other = make_video(tmp_path / "in" / "unrelated.mp4", duration=1.0, source="color=c=blue")
    result = runner.invoke(args=["ingest", str(video), str(other)])
    assert result.exit_code == 0, result.stderr
    assert f"{video}: attached to item 1 (catalogued record name:cpb-aacip-15-70msck27)" in result.stderr
    first, mediainfo, new = items(archive)
    assert first.kind is ItemKind.video and first.media is not None
    assert first.media.original_name == "cpb-aacip-15-70msck27.mov"
    assert (first.title, first.date_shot, first.collection.title) == ("The Yalu at Hyesan", "1991-05", "River Towns")
    assert mediainfo.kind is ItemKind.catalogued and mediainfo.media is None
    assert (new.title, new.kind) == ("unrelated", ItemKind.video)
    # Ingested again, the file is a duplicate of the item it was attached to.
    again = runner.invoke(args=["ingest", "--json", str(video)])
    assert json.loads(again.stdout)["duplicates"][0]["item_id"] == 1


def test_ingest_attaches_by_checksum_and_never_to_two_records(archive: Archive, tmp_path: Path) -> None:
    import hashlib
    from archive.services.ingest import IngestOptions, ingest_paths

    (tmp_path / "in").mkdir()
    (tmp_path / "in2").mkdir()
    video = make_video(tmp_path / "in" / "renamed.mp4", duration=1.0)
    sha = hashlib.sha256(video.read_bytes()).hexdigest()
    by_sum = f"""<pbcoreInstantiationDocument {NS}>
      <instantiationIdentifier source="SHA-256">{sha.upper()}</instantiationIdentifier>
      <instantiationIdentifier source="File Name">tape.mov</instantiationIdentifier></pbcoreInstantiationDocument>"""
    twice = f"""<pbcoreCollection {NS}>
      <pbcoreDescriptionDocument><pbcoreTitle>One</pbcoreTitle><pbcoreIdentifier>twin</pbcoreIdentifier></pbcoreDescriptionDocument>
      <pbcoreDescriptionDocument><pbcoreTitle>Two</pbcoreTitle><pbcoreIdentifier>twin</pbcoreIdentifier></pbcoreDescriptionDocument>
    </pbcoreCollection>"""
    with archive.session() as session:
        import_pbcore(session, SYSTEM, by_sum.encode(), source_name="sum.xml")
        import_pbcore(session, SYSTEM, twice.encode(), source_name="twice.xml")
    twin = make_video(tmp_path / "in2" / "twin.mp4", duration=1.0, source="color=c=red")
    report = ingest_paths(archive, [video, twin], IngestOptions())
    by_path = {entry["path"]: entry for entry in report.ingested}
    assert (by_path[str(video)]["item_id"], by_path[str(video)]["catalogued_record"]) == (1, f"sha256:{sha}")
    assert by_path[str(twin)]["item_id"] == 4 and "catalogued_record" not in by_path[str(twin)]
    assert any("named by 2 catalogued records (items 2, 3)" in w for w in by_path[str(twin)]["warnings"])


# -- hostile and damaged input ------------------------------------------------------------------------

def test_entities_are_not_expanded_and_no_file_is_read(archive: Archive, tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOP-SECRET")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE pbcoreDescriptionDocument [<!ENTITY leak SYSTEM "file://{secret}">
  <!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>
<pbcoreDescriptionDocument {NS}><pbcoreTitle>x&leak;&e;</pbcoreTitle></pbcoreDescriptionDocument>"""
    with archive.session() as session:
        report = import_pbcore(session, SYSTEM, xxe.encode(), source_name="xxe.xml")
    [record] = report.records
    assert record.outcome == "created" and record.title == "x"
    with archive.Session() as session:
        assert "TOP-SECRET" not in session.get(Item, record.item_id).title


def test_no_input_crashes_the_import(archive: Archive) -> None:
    """Truncations and byte mutations of real shapes, seeded and bounded: each is a report, never an exception."""
    rng = random.Random(12)
    cases: list[bytes] = []
    for text in (AAPB, COLLECTION, MEDIAINFO, NO_NAMESPACE):
        data = text.encode()
        cases += [data[:n] for n in sorted(rng.sample(range(len(data)), 8))]
        for _ in range(6):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            cases.append(bytes(mutated))
    cases += [b"", b"\x00\xff\xfe", b"<?xml version='1.0' encoding='klingon'?><a/>", b"<" * 10000,
              b"<pbcoreCollection/>", ("<pbcoreDescriptionDocument>" * 3000).encode()]
    outcomes = []
    for data in cases:
        with archive.session() as session:
            report = import_pbcore(session, SYSTEM, data, source_name="fuzz.xml")
        assert report.records, data[:80]
        outcomes += [r.outcome for r in report.records]
        for record in report.records:
            assert record.outcome in ("created", "updated", "refused")
            assert record.outcome != "refused" or record.messages
    assert {"created", "refused"} <= set(outcomes)
    with archive.Session() as session:  # every item made has its record kept
        assert session.scalar(select(func.count(Item.id))) == session.scalar(select(func.count(SourceRecord.id)))


def test_read_records_never_touches_the_database() -> None:
    """The reading half is pure: records come back checked, for any caller."""
    [record] = read_records(MALFORMED_TRACKS.encode(), "tracks.xml")
    assert record.title == "Bad tracks" and len(record.warnings) == 3
    assert record.keys == ["name:bad.mov", "name:bad-tracks"]


def test_an_edit_saved_while_its_file_is_attached_fails_that_file_only(archive: Archive, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Attaching changes the item: an edit committed meanwhile wins (the version check), the file is refused
    with a reason, the batch goes on, and the record stays catalogued for the next run."""
    from sqlalchemy import update
    from archive.services import ingest

    with archive.session() as session:
        import_pbcore(session, SYSTEM, MEDIAINFO.encode(), source_name="clip.xml")
    real = ingest.catalogued_record_of

    def racing(session: Any, prepared: Any) -> Any:
        found = real(session, prepared)
        if found is not None:  # an editor saves the item between the look-up and the attach
            with archive.engine.begin() as conn:
                table = Item.__table__
                conn.execute(update(table).where(table.c.id == found[0].id).values(version=table.c.version + 1))
        return found

    monkeypatch.setattr(ingest, "catalogued_record_of", racing)
    (tmp_path / "in").mkdir()
    clip = make_video(tmp_path / "in" / "barcode_152572_clip.mov", duration=1.0)
    other = make_video(tmp_path / "in" / "other.mp4", duration=1.0, source="color=c=green")
    report = ingest.ingest_paths(archive, [clip, other], ingest.IngestOptions())
    assert [f["path"] for f in report.failed] == [str(clip)]
    assert "changed while the file was being attached" in report.failed[0]["reason"]
    assert [e["path"] for e in report.ingested] == [str(other)]
    [record, new] = items(archive)
    assert record.kind is ItemKind.catalogued and record.media is None and new.title == "other"
    monkeypatch.setattr(ingest, "catalogued_record_of", real)
    again = ingest.ingest_paths(archive, [clip], ingest.IngestOptions())
    assert again.ingested[0]["item_id"] == record.id and again.ingested[0]["catalogued_record"]


def _leaves(element: Any) -> set[tuple[str, tuple[tuple[str, str], ...], str]]:
    """Every element as (path of local names, attributes, text): what a record holds, whatever its layout."""
    from lxml import etree

    found = set()
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        path = "/".join(etree.QName(a).localname for a in reversed([node, *node.iterancestors()]))
        attrs = tuple(sorted((etree.QName(k).localname, v) for k, v in node.attrib.items()
                             if etree.QName(k).localname != "schemaLocation"))
        found.add((path, attrs, (node.text or "").strip()))
    return found


def test_an_untouched_imported_record_exported_again_loses_nothing(archive: Archive, runner: CliRunner,
                                                                   tmp_path: Path) -> None:
    from lxml import etree

    from archive.access import SYSTEM
    from archive.interchange.pbcore import pbcore_document

    assert run_import(runner, str(write(tmp_path, "aapb.xml", AAPB))).exit_code == 0
    [item] = items(archive)
    with archive.Session() as session:
        exported = etree.fromstring(pbcore_document(session, SYSTEM, session.get(Item, item.id), archive.identity))
    came = etree.fromstring(AAPB.encode())
    assert _leaves(came) - _leaves(exported) == set()
    # ...and it carries the archive's own identifier of the item too.
    assert item.pid in {(e.text or "").strip() for e in exported.iter("{*}pbcoreIdentifier")}


def test_a_place_named_with_its_country_is_linked_and_a_position_is_no_place(archive: Archive, hyesan: int) -> None:
    """As Crossings itself writes spatial coverage: "Name, Country", then the published position."""
    with archive.session() as session:
        places.create_place(session, SYSTEM, name="Hyesan", latitude=10.0, longitude=10.0, country="TH")
    document = f"""<pbcoreDescriptionDocument {NS}>
      <pbcoreIdentifier source="local">yalu-7</pbcoreIdentifier>
      <pbcoreTitle>Dawn at the river</pbcoreTitle>
      <pbcoreCoverage><coverage>Hyesan, North Korea</coverage><coverageType>Spatial</coverageType></pbcoreCoverage>
      <pbcoreCoverage><coverage source="WGS84 latitude, longitude">41.39000, 128.19000</coverage>
        <coverageType>Spatial</coverageType></pbcoreCoverage>
    </pbcoreDescriptionDocument>"""
    with archive.session() as session:
        report = import_pbcore(session, SYSTEM, document.encode(), source_name="crossings.xml")
    assert (report.created, report.warned) == (1, 0), report
    [item] = items(archive)
    assert [p.id for p in item.places] == [hyesan]  # the North Korean one of the two places named Hyesan
