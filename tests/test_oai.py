"""The OAI-PMH endpoint (/oai), harvested with sickle, the client aggregators use, over a real HTTP server.

Every response is checked against the OAI-PMH 2.0 schema (tests/schemas/OAI-PMH.xsd) and its records
against the oai_dc and PBCore checks of test_dublin_core and test_pbcore_export.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from lxml import etree
from sickle import Sickle, oaiexceptions
from sqlalchemy import select

from archive.access import ANONYMOUS, SYSTEM
from archive.app import create_app
from archive.core import Archive
from archive.interchange.oai import Repository, respond, signing_key
from archive.models import (AccessLevel, Credit, HarvestRecord, Item, ItemKind, Person, Segment, Tag, TimeRange,
                            Transcript)
from archive.services import trash
from archive.services.editing.items import bulk_edit, edit_item
from browser import live_server
from test_dublin_core import shape_problems as dc_problems
from test_pbcore_export import shape_problems as pbcore_problems
from test_web import add_item

OAI = "{http://www.openarchives.org/OAI/2.0/}"
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("schemas") / "OAI-PMH.xsd")))
PAGE = 3


@pytest.fixture
def settings(settings: dict[str, object]) -> dict[str, object]:
    return {**settings, "oai_page_size": PAGE, "contact_email": "archive@example.org"}


class CheckedSickle(Sickle):
    """sickle, keeping every response it received, each checked against the OAI-PMH schema."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, timeout=30, **kwargs)
        self.responses: list[bytes] = []

    def harvest(self, **kwargs: Any) -> Any:
        response = super().harvest(**kwargs)
        body = response.http_response.content
        assert response.http_response.status_code == 200
        assert response.http_response.headers["Content-Type"].startswith("text/xml")
        assert_valid(body)
        self.responses.append(body)
        return response


def assert_valid(body: bytes) -> etree._Element:
    root = etree.fromstring(body)
    assert SCHEMA.validate(root), f"{SCHEMA.error_log}\n{body.decode()[:3000]}"
    return root


@pytest.fixture
def base(app: Flask) -> Iterator[str]:
    with live_server(app) as url:
        yield f"{url}/oai"


def pid_of(archive: Archive, item_id: int) -> str:
    with archive.Session() as session:
        return session.get(Item, item_id).pid


def add_items(archive: Archive) -> dict[str, list[int]]:
    """Seven public items in two collections and one without, and hidden ones of each other level."""
    made: dict[str, list[int]] = {"public": [], "hidden": []}
    for n in range(7):
        made["public"].append(add_item(archive, f"Public clip {n}", collection=("River tapes", "Road tapes", None)[n % 3],
                                       tags=("river",)))
    made["hidden"].append(add_item(archive, "HIDDEN restricted clip", access=AccessLevel.restricted,
                                   collection="Sealed tapes"))
    made["hidden"].append(add_item(archive, "HIDDEN confidential clip", access=AccessLevel.confidential,
                                   collection="River tapes"))
    return made


def test_a_harvest_gets_every_public_item_once_and_nothing_else(app: Flask, archive: Archive, base: str) -> None:
    made = add_items(archive)
    public = {pid_of(archive, i) for i in made["public"]}
    hidden_pids = [pid_of(archive, i) for i in made["hidden"]]
    for prefix in ("oai_dc", "pbcore"):
        sickle = CheckedSickle(base)
        records = list(sickle.ListRecords(metadataPrefix=prefix))
        assert sorted(r.header.identifier for r in records) == sorted(public)  # each once
        assert len(sickle.responses) == 3  # 7 records, 3 a page
        for body in sickle.responses:
            for marker in ("HIDDEN", "Sealed tapes", *hidden_pids):
                assert marker.encode() not in body
        for r in records:
            [metadata] = r.xml.find(f"{OAI}metadata")
            assert (dc_problems(metadata) if prefix == "oai_dc" else pbcore_problems(metadata)) == []
        titles = sorted(r.metadata["title" if prefix == "oai_dc" else "pbcoreTitle"][0] for r in records)
        assert titles == [f"Public clip {n}" for n in range(7)]
        tokens = [etree.fromstring(b).find(f".//{OAI}resumptionToken") for b in sickle.responses]
        assert [t.get("cursor") for t in tokens] == ["0", "3", "6"]
        assert {t.get("completeListSize") for t in tokens} == {"7"}
        assert tokens[-1].text is None and tokens[0].get("expirationDate")  # the last one is empty
    headers = list(CheckedSickle(base, http_method="POST").ListIdentifiers(metadataPrefix="oai_dc"))
    assert sorted(h.identifier for h in headers) == sorted(public)
    one = made["public"][0]
    record = CheckedSickle(base).GetRecord(identifier=pid_of(archive, one), metadataPrefix="oai_dc")
    assert record.metadata["title"] == ["Public clip 0"]
    assert f"/items/{one}" in record.metadata["identifier"]


def test_identify_and_the_formats_say_what_the_repository_is(archive: Archive, base: str) -> None:
    add_item(archive, "A clip")
    sickle = CheckedSickle(base)
    identify = sickle.Identify()
    assert identify.repositoryName == "Crossings archive"
    assert identify.baseURL == base
    assert identify.adminEmail == "archive@example.org"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    with archive.Session() as session:
        earliest = session.scalar(select(HarvestRecord.datestamp))
    assert identify.earliestDatestamp == earliest.strftime("%Y-%m-%dT%H:%M:%SZ")
    formats = {f.metadataPrefix: f.metadataNamespace for f in sickle.ListMetadataFormats()}
    assert formats == {"oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
                       "pbcore": "http://www.pbcore.org/PBCore/PBCoreNamespace.html"}


def test_sets_are_the_collections_with_a_public_item(archive: Archive, base: str) -> None:
    sickle = CheckedSickle(base)
    with pytest.raises(oaiexceptions.NoSetHierarchy):
        list(sickle.ListSets())
    made = add_items(archive)
    sets = {s.setName: s.setSpec for s in sickle.ListSets()}
    assert sorted(sets) == ["River tapes", "Road tapes"]  # not Sealed tapes, whose only item is restricted
    river = [pid_of(archive, i) for i in made["public"][0::3]]
    harvested = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set=sets["River tapes"])]
    assert sorted(harvested) == sorted(river)
    with pytest.raises(oaiexceptions.BadArgument):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="river"))
    with pytest.raises(oaiexceptions.NoRecordsMatch):  # a set of that shape, but none such
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="collection:999"))


def test_from_and_until_select_by_datestamp_to_the_second(archive: Archive, base: str) -> None:
    first = [add_item(archive, f"Early {n}") for n in range(2)]
    time.sleep(1.1)
    later = add_item(archive, "Later")
    with archive.session() as session:
        stamp = session.scalar(select(HarvestRecord.datestamp).where(HarvestRecord.item_id == later))
    text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    before = (stamp - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sickle = CheckedSickle(base)

    def harvest(**arguments: str) -> set[str]:
        return {h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", **arguments)}

    assert harvest(**{"from": text}) == {pid_of(archive, later)}
    assert harvest(until=before) == {pid_of(archive, i) for i in first}
    assert harvest(**{"from": stamp.strftime("%Y-%m-%d"), "until": stamp.strftime("%Y-%m-%d")}) == \
        {pid_of(archive, i) for i in (*first, later)}  # a day covers the whole day
    # Editing a record moves its datestamp on: an incremental harvest gets it again.
    time.sleep(1.1)
    with archive.session() as session:
        bulk_edit(session, SYSTEM, [first[0]], add_tags=["mekong"])
    with archive.Session() as session:  # written as the edit commits
        edited = session.scalar(select(HarvestRecord.datestamp).where(HarvestRecord.item_id == first[0]))
    assert edited > stamp
    assert harvest(**{"from": edited.strftime("%Y-%m-%dT%H:%M:%SZ")}) == {pid_of(archive, first[0])}
    for wrong in ({"from": "2026-12-04", "until": text}, {"from": text, "until": before},
                  {"from": "2026-12-04T10:00Z"}, {"until": "yesterday"}, {"from": "2026-02-30"}):
        with pytest.raises(oaiexceptions.BadArgument):
            harvest(**wrong)
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        harvest(until="2000-01-01")


def test_an_item_once_public_is_deleted_and_one_never_public_is_never_named(archive: Archive, base: str) -> None:
    restricted_later, trashed, kept = (add_item(archive, f"Clip {n}", collection="River tapes") for n in range(3))
    never = add_item(archive, "NEVER public", access=AccessLevel.restricted)
    with archive.session() as session:
        edit_item(session, SYSTEM, never, title="NEVER public, edited")  # an edit of a hidden item names nothing
        edit_item(session, SYSTEM, restricted_later, access="restricted")
        trash.move_to_trash(session, SYSTEM, [trashed])
    sickle = CheckedSickle(base)
    records = {r.header.identifier: r for r in sickle.ListRecords(metadataPrefix="pbcore")}
    assert {pid: r.deleted for pid, r in records.items()} == {
        pid_of(archive, restricted_later): True, pid_of(archive, trashed): True, pid_of(archive, kept): False}
    assert all(r.xml.find(f"{OAI}metadata") is None for r in records.values() if r.deleted)
    assert records[pid_of(archive, trashed)].header.setSpecs  # a deleted record keeps its set
    assert not any(b"NEVER" in body or pid_of(archive, never).encode() in body for body in sickle.responses)
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        sickle.GetRecord(identifier=pid_of(archive, never), metadataPrefix="oai_dc")
    gone = sickle.GetRecord(identifier=pid_of(archive, restricted_later), metadataPrefix="oai_dc")
    assert gone.deleted and b"Clip 0" not in sickle.responses[-1]
    # Restored, it is back; purged from the trash, it stays deleted, with its identifier.
    with archive.session() as session:
        trash.restore(session, SYSTEM, [trashed])
    assert not sickle.GetRecord(identifier=pid_of(archive, trashed), metadataPrefix="oai_dc").deleted
    pid = pid_of(archive, kept)
    with archive.session() as session:
        trash.move_to_trash(session, SYSTEM, [kept])
    with archive.session() as session:
        trash.empty_trash(session, SYSTEM, [kept])
    assert sickle.GetRecord(identifier=pid, metadataPrefix="oai_dc").deleted
    assert len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))) == 3


def test_a_token_outlives_a_restart_and_a_changed_or_expired_one_is_refused(
        app: Flask, archive: Archive, settings: dict[str, object], base: str) -> None:
    made = add_items(archive)
    first = CheckedSickle(base).harvest(verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.xml.find(f".//{OAI}resumptionToken").text
    seen = [h.text for h in first.xml.iter(f"{OAI}identifier")]
    restarted = create_app(settings)  # a new process would read the same secret from the same catalogue
    try:
        with live_server(restarted) as url:
            sickle = CheckedSickle(f"{url}/oai")
            rest = sickle.ListIdentifiers(resumptionToken=token)
            seen += [h.identifier for h in rest]
            assert sorted(seen) == sorted(pid_of(archive, i) for i in made["public"])
            for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token.replace(".", ""), "x", "é"):
                with pytest.raises(oaiexceptions.BadResumptionToken):
                    list(sickle.ListIdentifiers(resumptionToken=bad))
            with pytest.raises(oaiexceptions.BadResumptionToken):  # a token of another list
                list(sickle.ListRecords(resumptionToken=token))
    finally:
        restarted.extensions["crossings"].close()
    repository = Repository(identity=archive.identity, base_url=base, token_key=signing_key(archive.secret_key()),
                            page_size=PAGE, token_lifetime=timedelta(hours=24))
    with archive.Session() as session:
        old = respond(session, repository, [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")],
                      now=datetime.now(timezone.utc) - timedelta(hours=25))
        forged = respond(session, Repository(identity=archive.identity, base_url=base, token_key=signing_key("other"),
                                             page_size=PAGE), [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
    for body in (old, forged):
        stale = etree.fromstring(body).find(f".//{OAI}resumptionToken").text
        with pytest.raises(oaiexceptions.BadResumptionToken):
            list(CheckedSickle(base).ListIdentifiers(resumptionToken=stale))


def _error(base: str, method: str = "GET", **arguments: Any) -> tuple[str, etree._Element]:
    """The error code of a request made with requests (which, unlike sickle, can repeat an argument)."""
    response = requests.request(method, base, **({"params": arguments} if method == "GET" else {"data": arguments}),
                                timeout=30)
    assert response.status_code == 200
    root = assert_valid(response.content)
    error = root.find(f"{OAI}error")
    assert error is not None and error.text, response.text
    return error.get("code"), root.find(f"{OAI}request")


def test_each_error_condition_is_the_protocols_own(archive: Archive, base: str) -> None:
    sickle = CheckedSickle(base)
    with pytest.raises(oaiexceptions.NoRecordsMatch):  # an empty archive
        list(sickle.ListRecords(metadataPrefix="oai_dc"))
    add_item(archive, "A clip")
    cases = {
        "badVerb": [{}, {"verb": "Harvest"}, {"verb": ["Identify", "Identify"]}],
        "badArgument": [{"verb": "Identify", "set": "x"}, {"verb": "ListRecords"},
                        {"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]},
                        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},
                        {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
                        {"verb": "ListIdentifiers", "metadataPrefix": ""}],
        "cannotDisseminateFormat": [{"verb": "ListRecords", "metadataPrefix": "marc21"}],
        "idDoesNotExist": [{"verb": "GetRecord", "identifier": "urn:uuid:0", "metadataPrefix": "oai_dc"},
                           {"verb": "ListMetadataFormats", "identifier": "ark:/12345/none"}],
        "noSetHierarchy": [{"verb": "ListSets"}, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "a"}],
        "badResumptionToken": [{"verb": "ListSets", "resumptionToken": "x"},
                               {"verb": "ListRecords", "resumptionToken": "bm90IGEgdG9rZW4"}],
    }
    for code, requests_ in cases.items():
        for arguments in requests_:
            for method in ("GET", "POST"):
                found, request = _error(base, method, **arguments)
                assert found == code, (method, arguments)
                # badVerb and badArgument echo the base URL alone, without the request's arguments
                assert (request.attrib == {}) is (code in ("badVerb", "badArgument")), (code, request.attrib)
                assert request.text == base
    with pytest.raises(oaiexceptions.CannotDisseminateFormat):
        sickle.GetRecord(identifier="urn:uuid:0", metadataPrefix="marc21")
    both = requests.get(base, params={"verb": "GetRecord", "identifier": "urn:uuid:0", "metadataPrefix": "marc21"},
                        timeout=30)
    assert [e.get("code") for e in assert_valid(both.content).iter(f"{OAI}error")] == [
        "cannotDisseminateFormat", "idDoesNotExist"]


def test_a_logged_in_harvester_gets_the_anonymous_harvest_and_post_needs_no_csrf_token(
        archive: Archive, client: Any, login: Any) -> None:
    made = add_items(archive)
    login("admin")
    body = client.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc").get_data()
    for item_id in made["hidden"]:
        assert pid_of(archive, item_id).encode() not in body
    posted = client.post("/oai", data={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert posted.status_code == 200 and pid_of(archive, made["public"][0]).encode() in posted.get_data()
    assert posted.headers["Cache-Control"] == "no-store"


def test_ranges_transcripts_credits_and_renamed_tags_move_the_datestamp_on(archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video, media={"duration": 10.0})

    def stamp() -> datetime:
        with archive.Session() as session:
            return session.scalar(select(HarvestRecord.datestamp).where(HarvestRecord.item_id == item_id))

    changes = [
        lambda s, item: item.ranges.append(TimeRange(tag=Tag(name="crossing"), start_sec=1.0, end_sec=2.0)),
        lambda s, item: item.transcripts.append(Transcript(language="en", source_name="a.vtt", segments=[
            Segment(position=0, start_sec=0.0, end_sec=1.0, text="river")])),
        lambda s, item: item.credits.append(Credit(person=Person(name="A guide"), role="camera")),
        lambda s, item: setattr(item, "rights", "CC BY 4.0"),
        # known through the search index's bookkeeping: a segment's words, a tag renamed elsewhere
        lambda s, item: setattr(item.transcripts[0].segments[0], "text", "the Mekong"),
        lambda s, item: setattr(s.scalar(select(Tag).where(Tag.name == "crossing")), "name", "river crossing"),
    ]
    for change in changes:
        before = stamp()
        time.sleep(1.05)
        with archive.session() as session:
            change(session, session.get(Item, item_id))
        assert stamp() > before, change


def test_the_migration_knows_the_public_items_and_the_public_ones_in_the_trash(
        tmp_path: Path, unmigrated_database_url: str) -> None:
    """0017 fills the harvest log: public items live at their updated_at, public ones in the trash as
    deleted at the time they were trashed, restricted ones not at all."""
    from alembic import command
    from sqlalchemy import text

    from archive import db

    archive = Archive.open({"data": str(tmp_path / "d"), "database_url": unmigrated_database_url}, migrate=False)
    command.upgrade(db.alembic_config(archive.engine), "0016")
    rows = [(1, "public", None), (2, "public", "2024-05-06 07:08:09.750000"), (3, "restricted", None)]
    with archive.engine.begin() as conn:
        for item_id, access, deleted_at in rows:
            conn.execute(text(
                "INSERT INTO items (id, version, pid, title, description, kind, date_shot, creator, language, rights, "
                "source, access, created_at, updated_at, deleted_at, location_precision) VALUES (:id, 1, :pid, 't', '', "
                "'video', '', '', '', '', '', :access, '2019-04-01 00:00:00', '2019-04-01 10:11:12.500000', :deleted, "
                "'exact')"), {"id": item_id, "pid": f"urn:uuid:{item_id}", "access": access, "deleted": deleted_at})
    db.upgrade(archive.engine)
    with archive.Session() as session:
        found = [(r.pid, r.item_id, r.deleted, r.datestamp) for r in session.scalars(
            select(HarvestRecord).order_by(HarvestRecord.item_id))]
    assert found == [("urn:uuid:1", 1, False, datetime(2019, 4, 1, 10, 11, 12, tzinfo=timezone.utc)),
                     ("urn:uuid:2", 2, True, datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc))]
    archive.close()


def test_bags_restored_or_merged_enter_the_harvest_log(archive: Archive, tmp_path: Path) -> None:
    """A bag's rows go in as Core statements, which the listeners do not see: a restore of a package
    (no harvest log in it) and a merge of a backup (whose log is the other archive's) name the public
    items they bring, and nothing else."""
    from archive.interchange.bag_export import export_bag
    from archive.interchange.bag_import import import_bag
    from archive.interchange.selection import Selection

    public = add_item(archive, "Bagged public clip")
    add_item(archive, "Bagged restricted clip", access=AccessLevel.restricted)
    backup, package = tmp_path / "backup", tmp_path / "package"
    with archive.Session() as session:
        export_bag(session, SYSTEM, archive.store, archive.index, Selection(), backup, identity=archive.identity,
                   public=False, with_accounts=False)
        export_bag(session, ANONYMOUS, archive.store, archive.index, Selection(), package, identity=archive.identity,
                   public=True)

    def harvest_log(target: Archive) -> list[tuple[str, bool]]:
        with target.Session() as session:
            return [(r.pid, r.deleted) for r in session.scalars(select(HarvestRecord).order_by(HarvestRecord.pid))]

    restored = Archive.open({"data": str(tmp_path / "restored"), "secret_key": "x", "database_url": ""})
    merged = Archive.open({"data": str(tmp_path / "merged"), "secret_key": "x", "database_url": ""})
    try:
        assert import_bag(restored, package).mode == "restore"
        assert harvest_log(restored) == [(pid_of(archive, public), False)]
        theirs = add_item(merged, "Already there")
        assert import_bag(merged, backup).mode == "merge"
        assert harvest_log(merged) == sorted([(pid_of(archive, public), False), (pid_of(merged, theirs), False)])
    finally:
        restored.close()
        merged.close()


def test_an_imported_public_record_is_harvestable(archive: Archive, base: str) -> None:
    from archive.interchange.pbcore_import import import_pbcore

    record = ('<pbcoreDescriptionDocument xmlns="http://www.pbcore.org/PBCore/PBCoreNamespace.html">'
              '<pbcoreIdentifier source="tape">tape-12</pbcoreIdentifier>'
              '<pbcoreTitle>Imported before its media</pbcoreTitle></pbcoreDescriptionDocument>')
    with archive.session() as session:
        [imported] = import_pbcore(session, SYSTEM, record.encode(), source_name="a.xml", access="public").records
        import_pbcore(session, SYSTEM, record.replace("tape-12", "tape-13").encode(), source_name="b.xml",
                      access="restricted")
    records = list(CheckedSickle(base).ListRecords(metadataPrefix="oai_dc"))
    assert [(r.header.identifier, r.metadata["title"]) for r in records] == [
        (pid_of(archive, imported.item_id), ["Imported before its media"])]


def test_an_ingested_file_is_harvestable_when_ingested_public(archive: Archive, runner: Any, tmp_path: Path,
                                                              base: str) -> None:
    from mediagen import make_jpeg

    public, kept_back = make_jpeg(tmp_path / "river.jpg"), make_jpeg(tmp_path / "camp.jpg", size=(320, 240))
    for path, access in ((public, "public"), (kept_back, "restricted")):
        result = runner.invoke(args=["ingest", str(path), "--access", access])
        assert result.exit_code == 0, result.output
    with archive.Session() as session:
        pids = dict(session.execute(select(Item.title, Item.pid)).all())
    headers = [h.identifier for h in CheckedSickle(base).ListIdentifiers(metadataPrefix="pbcore")]
    assert len(pids) == 2 and headers == [pids["river"]], pids
