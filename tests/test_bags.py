"""BagIt packages: what each viewer's bag holds, refusing tampered bags, merging, holey bags, hard links,
confidential backups, and imports that stop halfway."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import bagit
from lxml import etree
import pytest
from sqlalchemy import func, select

from archive import worker
from archive.access import SYSTEM
from archive.app import create_app
from archive.core import Archive
from archive.interchange import bag_restore
from archive.interchange.bag_export import export_bag
from archive.interchange.bag_import import BagRefused, import_bag
from archive.interchange.catalogue_json import NO_PASSWORD
from archive.interchange.selection import Selection
from archive.models import AccessLevel, Item, LocationPrecision, MediaFile, Transcript, User
from archive.services import accounts
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.transcripts import import_transcript
from conftest import new_catalogue
from mediagen import make_jpeg, make_video

VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nThe river at night.\n"


@pytest.fixture
def settings(settings: dict[str, object]) -> dict[str, object]:
    """Access copies are offered, so items whose originals non-editors may not have get one."""
    return {**settings, "offer_access_copy_downloads": True}


def _ingest(archive: Archive, path: Path, access: AccessLevel, precision: LocationPrecision,
            collection: str | None = None) -> int:
    report = ingest_paths(archive, [path], IngestOptions(access=access, location_precision=precision,
                                                         collection=collection))
    assert report.ok, report.failed
    return report.ingested[0]["item_id"]


@pytest.fixture
def target_url(database_backend: str, request: pytest.FixtureRequest) -> str:
    """A second catalogue on the test's backend, for the archive a bag is imported into."""
    return new_catalogue(request, database_backend)


@pytest.fixture
def items(archive: Archive, tmp_path: Path) -> dict[str, int]:
    """An item of each kind of access: public exact (a video with a transcript), public km10, restricted,
    confidential granted to the researcher, confidential not granted."""
    media = tmp_path / "media"
    media.mkdir()
    made = {
        "open": _ingest(archive, make_video(media / "open-river.mp4", duration=1.0), AccessLevel.public,
                        LocationPrecision.exact),
        "km10": _ingest(archive, make_jpeg(media / "secret-village.jpg", size=(64, 48)), AccessLevel.public,
                        LocationPrecision.km10),
        "restricted": _ingest(archive, make_jpeg(media / "restricted-camp.jpg", size=(60, 40)),
                              AccessLevel.restricted, LocationPrecision.exact),
        "granted": _ingest(archive, make_jpeg(media / "granted-shelter.jpg", size=(50, 40)),
                           AccessLevel.confidential, LocationPrecision.exact, collection="Granted"),
        "hidden": _ingest(archive, make_jpeg(media / "hidden-house.jpg", size=(40, 40)),
                          AccessLevel.confidential, LocationPrecision.exact, collection="Hidden"),
    }
    with archive.session() as session:
        import_transcript(session, session.get(Item, made["open"]), VTT, "open-river.en.vtt")
    worker.run(archive, once=True, log=lambda *a, **k: None)  # access copies
    return made


def _media(archive: Archive, item_id: int) -> MediaFile:
    with archive.Session() as session:
        media = session.scalar(select(MediaFile).where(MediaFile.item_id == item_id))
        session.expunge(media)
        return media


def _bag(archive: Archive, out: Path, viewer: Any = SYSTEM, selection: Selection = Selection(), **options: Any):
    with archive.Session() as session:
        return export_bag(session, viewer, archive.store, archive.index, selection, out, identity=archive.identity,
                          **{"public": False, **options})


def _every_byte(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _catalogue(bag: Path) -> dict[str, Any]:
    return json.loads((bag / "data" / "catalogue.json").read_text(encoding="utf-8"))


def _table(catalogue: dict[str, Any], name: str) -> list[dict[str, Any]]:
    table = catalogue["tables"].get(name, {"columns": [], "rows": []})
    return [dict(zip(table["columns"], row)) for row in table["rows"]]


def _fresh(tmp_path: Path, name: str, database_url: str = "") -> Archive:
    app = create_app({"data": str(tmp_path / name), "secret_key": "bags", "database_url": database_url})
    return app.extensions["crossings"]


def _count(archive: Archive, model: type) -> int:
    with archive.Session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# -- what each viewer's bag holds ---------------------------------------------------------------

def test_a_public_bag_holds_public_items_and_no_trace_of_originals_it_may_not_have(
        archive: Archive, items: dict[str, int], tmp_path: Path) -> None:
    from archive.access import ANONYMOUS
    out = tmp_path / "public-bag"
    report = _bag(archive, out, ANONYMOUS, public=True)
    bagit.Bag(str(out)).validate()
    catalogue = _catalogue(out)
    assert {r["id"] for r in _table(catalogue, "items")} == {items["open"], items["km10"]}
    assert all(r["access"] == "public" for r in _table(catalogue, "items"))
    assert "audit_log" not in catalogue["tables"] and "users" not in catalogue["tables"]
    everything = _every_byte(out)
    km10 = _media(archive, items["km10"])
    for withheld in (km10, *(_media(archive, items[k]) for k in ("restricted", "granted", "hidden"))):
        assert withheld.sha256.encode() not in everything
        assert withheld.original_name.encode() not in everything
    # the km10 item comes as its access copy; the exact one as its original, named by checksum
    assert str(km10.id) in catalogue["payload"]["access_copies"]
    opened = _media(archive, items["open"])
    assert (out / "data" / "originals" / opened.sha256[:2] / f"{opened.sha256}.mp4").is_file()
    assert report.items == 2
    assert list((out / "data" / "transcripts" / str(items["open"])).glob("*.en.vtt"))
    # one PBCore and one Dublin Core record per item, as the visitor would get them from the item's routes
    records = out / "data" / "records"
    assert sorted(p.name for p in records.iterdir()) == sorted(
        f"{i}.{kind}.xml" for i in (items["open"], items["km10"]) for kind in ("pbcore", "dc"))
    pids = {r["id"]: r["pid"] for r in _table(catalogue, "items")}
    for item_id, pid in pids.items():
        pbcore = etree.fromstring((records / f"{item_id}.pbcore.xml").read_bytes())
        assert pbcore.tag.endswith("pbcoreDescriptionDocument")
        assert pid in {e.text for e in pbcore.iter("{*}pbcoreIdentifier")}
        dc = etree.fromstring((records / f"{item_id}.dc.xml").read_bytes())
        assert pid in {e.text for e in dc.iter("{http://purl.org/dc/elements/1.1/}identifier")}


def test_a_researchers_bag_holds_what_their_grants_open(archive: Archive, items: dict[str, int], tmp_path: Path,
                                                        make_user: Any) -> None:
    with archive.Session() as session:
        granted_collection = session.get(Item, items["granted"]).collection_id
    name = make_user("researcher", grants=(granted_collection,))
    with archive.Session() as session:
        viewer = accounts.viewer_for(accounts.get_user(session, name))
    out = tmp_path / "researcher-bag"
    _bag(archive, out, viewer)
    bagit.Bag(str(out)).validate()
    catalogue = _catalogue(out)
    assert {r["id"] for r in _table(catalogue, "items")} == {items[k] for k in ("open", "km10", "restricted", "granted")}
    assert [r["title"] for r in _table(catalogue, "collections")] == ["Granted"]
    everything = _every_byte(out)
    for key in ("km10", "hidden"):
        assert _media(archive, items[key]).sha256.encode() not in everything
    assert _media(archive, items["granted"]).sha256.encode() in everything  # exact: the original is theirs
    assert "source_records" not in catalogue["tables"] and "audit_log" not in catalogue["tables"]


# -- refusing -------------------------------------------------------------------------------------

def test_a_tampered_bag_is_refused_naming_the_file_and_nothing_is_imported(
        archive: Archive, items: dict[str, int], tmp_path: Path, runner: Any, target_url: str) -> None:
    out = tmp_path / "bag"
    _bag(archive, out)
    vtt = next((out / "data" / "transcripts").rglob("*.vtt"))  # written for the bag, not linked to the store
    vtt.write_text(vtt.read_text() + "\n00:00:01.000 --> 00:00:02.000\nAdded later.\n")
    (out / "data" / "journeys.geojson").unlink()
    result = runner.invoke(args=["import", "bag", str(out)])
    assert result.exit_code == 1
    assert f"{vtt.relative_to(out)}: altered" in result.output
    assert "data/journeys.geojson: missing" in result.output and "not imported" in result.output
    with pytest.raises(BagRefused):
        import_bag(archive, out)
    target = _fresh(tmp_path, "target", target_url)
    try:
        with pytest.raises(BagRefused) as refused:
            import_bag(target, out)
        assert len(refused.value.problems) == 2
        assert _count(target, Item) == 0 and not list(target.store.objects.keys("originals"))
    finally:
        target.close()


def test_an_export_refuses_a_folder_that_is_not_empty(archive: Archive, items: dict[str, int], tmp_path: Path,
                                                      runner: Any) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "note.txt").write_text("mine")
    result = runner.invoke(args=["export", "bag", str(out)])
    assert result.exit_code != 0 and "not an empty folder" in result.output
    assert (out / "note.txt").read_text() == "mine" and not list(tmp_path.glob("taken.partial-*"))


# -- backups ----------------------------------------------------------------------------------------

def test_a_backup_hard_links_originals_and_says_when_it_holds_password_hashes(
        archive: Archive, items: dict[str, int], tmp_path: Path, runner: Any, make_user: Any) -> None:
    make_user("admin", "keeper")
    result = runner.invoke(args=["export", "bag", str(tmp_path / "plain")])
    assert result.exit_code == 0, result.output
    assert "backup" in result.output and "hard-linked" in result.output
    plain = bagit.Bag(str(tmp_path / "plain"))
    plain.validate()
    assert "Crossings-Confidential" not in plain.info
    assert {r["password_hash"] for r in _table(_catalogue(tmp_path / "plain"), "users")} == {NO_PASSWORD}
    media = _media(archive, items["open"])
    in_bag = tmp_path / "plain" / "data" / "originals" / media.sha256[:2] / f"{media.sha256}.mp4"
    stored = archive.store.local_path(archive.store.original_relpath(media.sha256))
    assert os.stat(in_bag).st_ino == os.stat(stored).st_ino and os.stat(stored).st_nlink > 1

    result = runner.invoke(args=["export", "bag", "--with-accounts", str(tmp_path / "secret")])
    assert result.exit_code == 0, result.output
    secret = bagit.Bag(str(tmp_path / "secret"))
    secret.validate()
    assert secret.info["Crossings-Confidential"] == "this bag holds account password hashes"
    assert "CONFIDENTIAL" in secret.info["External-Description"]
    with archive.Session() as session:
        hashes = set(session.scalars(select(User.password_hash)))
    assert {r["password_hash"] for r in _table(_catalogue(tmp_path / "secret"), "users")} == hashes
    # --with-accounts only in a backup
    result = runner.invoke(args=["export", "bag", "--public", "--with-accounts", str(tmp_path / "no")])
    assert result.exit_code != 0 and "--with-accounts needs a backup" in result.output


def test_a_holey_bag_lists_originals_in_fetch_txt_and_restores_from_them(
        archive: Archive, items: dict[str, int], tmp_path: Path, target_url: str) -> None:
    out = tmp_path / "holey"
    report = _bag(archive, out, holey=True)
    assert report.fetched == 5  # derivatives are still linked: only originals are left out
    fetch = (out / "fetch.txt").read_text().splitlines()
    media = _media(archive, items["open"])
    line = next(f for f in fetch if media.sha256 in f)
    url, size, name = line.split(" ", 2)
    assert url.startswith("file://") and int(size) == media.size and not (out / name).exists()
    manifest = (out / "manifest-sha512.txt").read_text()
    assert name in manifest and name in (out / "manifest-sha256.txt").read_text()
    octets, files = bagit.Bag(str(out)).info["Payload-Oxum"].split(".")
    assert int(octets) == sum(p.stat().st_size for p in (out / "data").rglob("*") if p.is_file()) + sum(
        int(f.split(" ")[1]) for f in fetch)

    target = _fresh(tmp_path, "target", target_url)
    try:
        result = import_bag(target, out)
        assert result.fetched == 5 and result.mode == "restore"
        bagit.Bag(str(out)).validate()  # complete now
        assert target.store.hash(target.store.original_relpath(media.sha256)) == media.sha256
        assert _count(target, Item) == 5
    finally:
        target.close()


def test_a_holey_bag_whose_files_cannot_be_fetched_is_refused_naming_them(
        archive: Archive, items: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "holey"
    _bag(archive, out, holey=True, fetch_base=(tmp_path / "no-such-bag").as_uri())
    target = _fresh(tmp_path, "target")
    try:
        with pytest.raises(BagRefused) as refused:
            import_bag(target, out)
        assert len(refused.value.problems) == 5
        assert all("cannot fetch file://" in p and "no-such-bag/data/originals/" in p for p in refused.value.problems)
        assert _count(target, Item) == 0
    finally:
        target.close()


# -- merging ---------------------------------------------------------------------------------------

def test_a_merge_reports_new_same_and_conflicted_records(archive: Archive, items: dict[str, int], tmp_path: Path,
                                                         target_url: str) -> None:
    out = tmp_path / "bag"
    _bag(archive, out)
    # the archive itself, one title changed since: that item conflicts, everything else is the same
    with archive.session() as session:
        session.get(Item, items["km10"]).title = "Renamed after the bag"
    again = import_bag(archive, out, rebuild_index=False)
    assert again.mode == "merge"
    item_outcomes = {r["key"]: r for r in again.records if r["table"] == "items"}
    with archive.Session() as session:
        pid = session.get(Item, items["km10"]).pid
        assert session.get(Item, items["km10"]).title == "Renamed after the bag"  # the archive's is kept
    assert item_outcomes[pid]["outcome"] == "conflicted"
    assert item_outcomes[pid]["differences"]["title"][0] == "Renamed after the bag"
    assert [r["outcome"] for k, r in item_outcomes.items() if k != pid] == ["same"] * 4
    assert again.total("new") == 0 and again.files_placed == 0
    with archive.Session() as session:
        from archive.models import AuditEntry
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "import_bag"))
        assert entry.changes["conflicted"] == [None, again.total("conflicted")] and again.total("conflicted") >= 1
    assert _count(archive, Item) == 5

    # an archive with an item of its own: the bag's records come in with new ids, linked as they were
    other = _fresh(tmp_path, "other", target_url)
    try:
        own = _ingest(other, make_jpeg(tmp_path / "own.jpg", size=(30, 30)), AccessLevel.public, LocationPrecision.exact)
        merged = import_bag(other, out)
        assert merged.mode == "merge" and merged.total("conflicted") == 0
        assert {r["outcome"] for r in merged.records if r["table"] == "items"} == {"new"}
        assert merged.files_placed >= 5
        with other.Session() as session:
            assert session.scalar(select(func.count(Item.id))) == 6
            opened = session.scalar(select(Item).where(Item.pid == _pid(archive, items["open"])))
            assert opened.id != own  # the bag's id 1 was taken: a new id, and its links follow it
            assert [t.language for t in session.scalars(select(Transcript).where(Transcript.item_id == opened.id))] == ["en"]
            assert opened.media_files[0].sha256 == _media(archive, items["open"]).sha256
            assert opened.collection_id is None
            granted = session.scalar(select(Item).where(Item.pid == _pid(archive, items["granted"])))
            assert granted.collection.title == "Granted"
        for media in (_media(archive, items[k]) for k in items):
            assert other.store.hash(other.store.original_relpath(media.sha256)) == media.sha256
    finally:
        other.close()


def _pid(archive: Archive, item_id: int) -> str:
    with archive.Session() as session:
        return session.get(Item, item_id).pid


# -- crash safety ----------------------------------------------------------------------------------

def test_an_import_that_stops_halfway_leaves_nothing_after_recovery(
        archive: Archive, items: dict[str, int], tmp_path: Path, target_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "bag"
    _bag(archive, out)
    real = bag_restore.restore_rows

    def dies_halfway(session: Any, tables: dict[str, Any], payload: dict[str, Any], report: Any) -> None:
        real(session, tables, payload, report)
        session.flush()
        raise KeyboardInterrupt  # killed after every row went in, before the commit

    monkeypatch.setattr(bag_restore, "restore_rows", dies_halfway)
    target = _fresh(tmp_path, "target", target_url)
    try:
        with pytest.raises(KeyboardInterrupt):
            import_bag(target, out)
        assert _count(target, Item) == 0 and _count(target, MediaFile) == 0
        assert len(list(target.store.objects.keys("originals"))) == 5  # placed, under intents
        with target.Session() as session:
            def is_recorded(sha: str) -> bool:
                return session.scalar(select(MediaFile.id).where(MediaFile.sha256 == sha)) is not None
            removed = target.store.recover(is_recorded, now=datetime.now(timezone.utc) + timedelta(days=1))
        assert len(removed) == 5
        assert not list(target.store.objects.keys("originals")) and not list(target.store.objects.keys("derivatives"))
        monkeypatch.setattr(bag_restore, "restore_rows", real)
        assert import_bag(target, out).mode == "restore"  # and the bag goes in whole afterwards
        assert _count(target, Item) == 5
    finally:
        target.close()


# -- the web ---------------------------------------------------------------------------------------

def test_admins_export_from_the_web_and_download_an_audited_tar(archive: Archive, items: dict[str, int],
                                                                 client: Any, tmp_path: Path, make_user: Any) -> None:
    import io
    import tarfile
    from archive.models import AuditEntry, Job
    from conftest import csrf_token, log_in
    admin = make_user("admin")
    researcher = make_user("researcher")
    log_in(client, admin)
    with archive.Session() as session:
        collection_id = session.get(Item, items["granted"]).collection_id
    page = client.get("/admin/exports")
    assert page.status_code == 200 and "No export yet" in page.get_data(as_text=True)
    response = client.post("/admin/exports", data={"csrf_token": csrf_token(client, "/admin/exports"),
                                                   "scope": "whole", "public": "yes"})
    assert response.status_code == 302
    body = client.get("/admin/exports").get_data(as_text=True)
    assert "queued" in body and 'http-equiv="refresh"' in body
    with archive.Session() as session:
        job_id = session.scalar(select(Job.id).where(Job.kind == "export_bag"))
    worker.run(archive, once=True, log=lambda *a, **k: None)
    body = client.get("/admin/exports").get_data(as_text=True)
    assert "done" in body and f"/admin/exports/{job_id}/bag.tar" in body and 'http-equiv="refresh"' not in body
    assert "2 items" in body  # the public ones
    with archive.Session() as session:
        payload = session.get(Job, job_id).payload
    assert payload["files_done"] == payload["files_total"] > 0
    # the form offers the collections and journeys by name, and queues the one chosen
    assert f'value="collection:{collection_id}"' in body
    client.post("/admin/exports", data={"csrf_token": csrf_token(client, "/admin/exports"),
                                        "scope": f"collection:{collection_id}"})
    with archive.Session() as session:
        queued = session.scalars(select(Job).where(Job.kind == "export_bag").order_by(Job.id.desc())).first()
        assert (queued.payload["scope"], queued.payload["scope_id"]) == ("collection", collection_id)

    download = client.get(f"/admin/exports/{job_id}/bag.tar")
    assert download.status_code == 200 and download.mimetype == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(download.get_data()), mode="r:") as tar:
        tar.extractall(tmp_path / "downloaded", filter="data")
    bag = tmp_path / "downloaded" / f"crossings-export-{job_id}"
    bagit.Bag(str(bag)).validate()
    assert {r["id"] for r in _table(_catalogue(bag), "items")} == {items["open"], items["km10"]}
    with archive.Session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "download_bag"))
        assert entry is not None and entry.actor == admin and entry.object_id == job_id

    client.get("/logout")
    log_in(client, researcher)
    assert client.get(f"/admin/exports/{job_id}/bag.tar").status_code == 404
    assert client.get("/admin/exports").status_code == 404


def test_a_collections_bag_from_the_command_line_holds_its_items_alone(archive: Archive, items: dict[str, int],
                                                                       tmp_path: Path, runner: Any) -> None:
    with archive.Session() as session:
        collection_id = session.get(Item, items["hidden"]).collection_id
    out = tmp_path / "hidden"
    result = runner.invoke(args=["export", "bag", "--collection", str(collection_id), str(out)])
    assert result.exit_code == 0, result.output
    assert f"bag {out}: 1 items" in result.output
    bagit.Bag(str(out)).validate()
    catalogue = _catalogue(out)
    assert catalogue["scope"] == f"collection {collection_id}" and not catalogue["backup"]
    assert [r["id"] for r in _table(catalogue, "items")] == [items["hidden"]]
    assert [r["title"] for r in _table(catalogue, "collections")] == ["Hidden"]
    # as anyone: the collection has nothing public, so it is not there at all
    result = runner.invoke(args=["export", "bag", "--public", "--collection", str(collection_id), str(tmp_path / "no")])
    assert result.exit_code != 0 and "not there" in result.output and not (tmp_path / "no").exists()


def test_a_public_bag_gives_no_size_or_path_of_an_original_it_withholds(archive: Archive, items: dict[str, int],
                                                                         tmp_path: Path) -> None:
    from archive.access import ANONYMOUS
    out = tmp_path / "public"
    _bag(archive, out, ANONYMOUS, public=True)
    media = {r["item_id"]: r for r in _table(_catalogue(out), "media_files")}
    withheld, opened = media[items["km10"]], media[items["open"]]
    assert (withheld["sha256"], withheld["original_name"], withheld["size"], withheld["original_path"]) == ("", "", None, "")
    assert opened["sha256"] == _media(archive, items["open"]).sha256 and opened["original_path"] == ""


def test_an_export_that_fails_leaves_no_half_bag(archive: Archive, items: dict[str, int], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.interchange import bag_export

    def broken(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bag_export, "_write_geojson", broken)
    with pytest.raises(OSError, match="disk full"):
        _bag(archive, tmp_path / "bag")
    assert not any(p.name.startswith("bag") for p in tmp_path.iterdir())  # neither bag nor bag.partial-*


def test_import_json_lists_every_record(archive: Archive, items: dict[str, int], tmp_path: Path, runner: Any) -> None:
    out = tmp_path / "bag"
    _bag(archive, out)
    result = runner.invoke(args=["import", "bag", "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["mode"] == "merge" and document["counts"]["items"] == {"same": 5}
    assert {r["table"] for r in document["records"]} >= {"items", "media_files", "transcripts", "segments"}


def test_a_bag_of_an_object_store_streams_its_originals_down(archive: Archive, items: dict[str, int],
                                                              tmp_path: Path, store_backend: str) -> None:
    out = tmp_path / "bag"
    report = _bag(archive, out)
    bagit.Bag(str(out)).validate()
    media = _media(archive, items["open"])
    in_bag = out / "data" / "originals" / media.sha256[:2] / f"{media.sha256}.mp4"
    assert in_bag.is_file()
    if store_backend == "s3":
        assert report.linked == 0 and report.copied >= 5
        holey = _bag(archive, tmp_path / "holey", holey=True)
        assert holey.fetched == 5
        urls = [line.split(" ")[0] for line in (tmp_path / "holey" / "fetch.txt").read_text().splitlines()]
        assert all(url.startswith(f"s3://{archive.store.objects.bucket}/") for url in urls)  # type: ignore[attr-defined]
    else:
        assert report.linked >= 5


def test_a_catalogue_from_another_version_is_refused_naming_what_it_cannot_keep(
        archive: Archive, items: dict[str, int], tmp_path: Path, runner: Any) -> None:
    out = tmp_path / "bag"
    _bag(archive, out)
    path = out / "data" / "catalogue.json"
    catalogue = json.loads(path.read_text())
    catalogue["tables"]["items"]["columns"].append("mood")
    for row in catalogue["tables"]["items"]["rows"]:
        row.append("calm")
    path.write_text(json.dumps(catalogue))
    bag = bagit.Bag(str(out))
    bag.save(manifests=True)  # a bag that is valid as a bag, with a catalogue this Crossings cannot keep
    bagit.Bag(str(out)).validate()
    result = runner.invoke(args=["import", "bag", str(out)])
    assert result.exit_code == 1
    assert "data/catalogue.json: table items: columns this Crossings does not have: mood" in result.output


def test_a_backup_with_accounts_is_not_restored_over_accounts_already_made(
        archive: Archive, items: dict[str, int], tmp_path: Path, target_url: str, make_user: Any) -> None:
    make_user("admin", "keeper")
    out = tmp_path / "bag"
    _bag(archive, out, with_accounts=True)
    target = _fresh(tmp_path, "target", target_url)
    try:
        with target.session() as session:
            accounts.create_user(session, "first-admin", "correct horse battery", "admin")
        with pytest.raises(bag_restore.RestoreRefused, match="already has accounts"):
            import_bag(target, out)
        assert _count(target, Item) == 0 and not list(target.store.objects.keys("originals"))
        with target.Session() as session:
            assert list(session.scalars(select(User.username))) == ["first-admin"]
    finally:
        target.close()


def test_a_searchs_bag_holds_what_the_search_finds(archive: Archive, items: dict[str, int], tmp_path: Path,
                                                   runner: Any) -> None:
    out = tmp_path / "found"
    result = runner.invoke(args=["export", "bag", "--search", "river", str(out)])
    assert result.exit_code == 0, result.output
    catalogue = _catalogue(out)
    assert [r["id"] for r in _table(catalogue, "items")] == [items["open"]]
    assert catalogue["scope"] == "the items found by the search 'river'"
