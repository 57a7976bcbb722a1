"""Uploading from the browser: files saved under the data root and run through the CLI's ingest."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, Item, MediaFile
from archive.services.editing import safe_filename
from conftest import csrf_token
from test_edit_web import field_html
from test_web import add_item, text


def jpeg(colour: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def upload(client: FlaskClient, files: list[tuple[bytes, str]], *, json: bool = False, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/upload"), "access": "public", **fields,
            "files": [(io.BytesIO(content), name) for content, name in files]}
    headers = {"Accept": "application/json"} if json else {"Accept": "text/html"}
    return client.post("/upload", data=data, content_type="multipart/form-data", headers=headers)


def upload_folders(archive: Archive) -> list[str]:
    return [p.name for p in archive.store.tmp.iterdir() if p.name.startswith("upload-")]


@pytest.mark.parametrize("sent, saved", [
    ("압록강 야경.jpg", "압록강 야경.jpg"),
    ("\u110b\u1161\u11b8\u1105\u1169\u11a8.jpg", "압록.jpg"),  # macOS sends Hangul decomposed
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\donor\\Desktop\\clip 1.mov", "clip 1.mov"),
    ("bad\x00name\x1b.jpg", "badname.jpg"),
    ("photo\u202egpj.exe", "photogpj.exe"),  # no right-to-left override disguising the extension
    ("..", "upload"),
    ("   ", "upload"),
    (".hidden.jpg", "hidden.jpg"),
    ("가" * 200 + ".jpg", "가" * 83 + ".jpg"),  # 255 bytes of UTF-8 at most, extension kept
])
def test_safe_filename_keeps_korean_and_strips_paths_and_control_characters(sent: str, saved: str) -> None:
    assert safe_filename(sent) == saved


def test_upload_page_offers_files_collections_and_access_levels(client: FlaskClient, archive: Archive,
                                                                login) -> None:
    add_item(archive, "Clip", collection="Beyond Utopia")
    login("archivist")

    html = text(client.get("/upload"))

    assert '<input id="f-files" name="files" type="file" multiple' in html
    assert 'enctype="multipart/form-data"' in html and "upload.js" in html
    assert "Beyond Utopia" in field_html(html, "collection_id")
    assert '<option value="restricted" selected>' in field_html(html, "access")  # the default_access setting
    assert '<option value="km10" selected>' in field_html(html, "location_precision")


def test_upload_of_several_files_shows_ingested_duplicates_and_failures(client: FlaskClient, archive: Archive,
                                                                        login) -> None:
    existing = add_item(archive, "Already here", content=jpeg("navy"))
    login("archivist")

    response = upload(client, [(jpeg("teal"), "압록강 야경.jpg"), (jpeg("olive"), "mekong_boat.jpg"),
                               (b"notes from the trip\n" * 20, "notes.txt"), (jpeg("navy"), "copy of navy.jpg")],
                      collection_id="", new_collection="Field uploads", access="restricted")

    html = text(response)
    assert response.status_code == 200
    assert "2 ingested" in html and "1 already in the archive" in html and "1 failed" in html
    with archive.Session() as session:
        items = session.scalars(select(Item).where(Item.id != existing).order_by(Item.id)).all()
        assert sorted(i.media.original_name for i in items) == ["mekong_boat.jpg", "압록강 야경.jpg"]
        assert {i.access for i in items} == {AccessLevel.restricted}
        assert {i.collection.title for i in items} == {"Field uploads"}
    for item in items:
        assert f'href="/items/{item.id}"' in html
    assert html.index("압록강 야경.jpg") < html.index("mekong_boat.jpg")  # in the order sent
    rows = re.findall(r'<li class="upload-list__row upload-list__row--(\w+)">(.*?)</li>', html, re.S)
    outcomes = {kind: row for kind, row in rows}
    assert "copy of navy.jpg" in outcomes["dup"] and f'href="/items/{existing}"' in outcomes["dup"]
    assert "notes.txt" in outcomes["failed"] and "not a media file" in outcomes["failed"]
    assert upload_folders(archive) == []


def test_upload_answers_json_when_asked(client: FlaskClient, archive: Archive, login) -> None:
    existing = add_item(archive, "Already here", content=jpeg("navy"))
    login("archivist")

    response = upload(client, [(jpeg("teal"), "a.jpg"), (jpeg("navy"), "b.jpg"), (b"", "empty.jpg"),
                               (b"plain text\n" * 10, "c.txt")], json=True)

    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    with archive.Session() as session:
        new_id = session.scalar(select(MediaFile.item_id).where(MediaFile.original_name == "a.jpg"))
    assert body["ingested"] == [{"name": "a.jpg", "item_id": new_id, "title": "a", "url": f"/items/{new_id}",
                                 "edit_url": f"/items/{new_id}/edit"}]
    assert body["duplicates"] == [{"name": "b.jpg", "item_id": existing, "title": "Already here",
                                   "url": f"/items/{existing}", "edit_url": f"/items/{existing}/edit"}]
    assert body["failed"] == [{"name": "empty.jpg", "reason": "empty file (0 bytes)"},
                              {"name": "c.txt", "reason": "not a media file"}]


def test_the_same_file_twice_in_one_upload_is_one_item(client: FlaskClient, archive: Archive, login) -> None:
    login("archivist")

    body = upload(client, [(jpeg("teal"), "a.jpg"), (jpeg("teal"), "a.jpg")], json=True).get_json()

    assert [e["name"] for e in body["ingested"]] == [e["name"] for e in body["duplicates"]] == ["a.jpg"]
    assert body["duplicates"][0]["item_id"] == body["ingested"][0]["item_id"]


def test_upload_without_files_is_refused_beside_the_field(client: FlaskClient, archive: Archive, login) -> None:
    login("archivist")

    response = upload(client, [], new_collection="Kept name")
    as_json = upload(client, [], json=True, access="secret")

    assert response.status_code == as_json.status_code == 400
    assert "Choose one or more files to upload." in field_html(text(response), "files")
    assert 'value="Kept name"' in field_html(text(response), "new_collection")
    assert as_json.get_json() == {"errors": {"files": "Choose one or more files to upload.",
                                             "access": "Access must be one of public, restricted, confidential, "
                                                       "not 'secret'."}}


def test_upload_into_a_collection_hidden_from_the_archivist_is_refused(client: FlaskClient, archive: Archive,
                                                                        login) -> None:
    add_item(archive, "Hidden", access=AccessLevel.confidential, collection="Secret network")
    login("archivist")

    response = upload(client, [(jpeg("teal"), "a.jpg")], collection_id="1")

    assert response.status_code == 400
    assert "There is no collection 1." in field_html(text(response), "collection_id")
    assert "Secret network" not in text(response)
    with archive.Session() as session:
        assert session.scalar(select(Item.id).where(Item.title == "a")) is None


def test_a_duplicate_of_an_item_the_uploader_may_not_see_is_not_linked(client: FlaskClient, archive: Archive,
                                                                       login) -> None:
    hidden = add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Secret network",
                      content=jpeg("navy"))
    login("archivist")

    body = upload(client, [(jpeg("navy"), "mine.jpg")], json=True).get_json()

    assert body["duplicates"] == [{"name": "mine.jpg", "item_id": None, "title": None, "url": None,
                                   "edit_url": None}]
    assert str(hidden) not in str(body)


def test_uploads_are_recorded_as_the_uploader(client: FlaskClient, archive: Archive, login) -> None:
    with archive.session() as session:
        session.add(Collection(title="Field uploads"))
    name = login("archivist")

    upload(client, [(jpeg("teal"), "a.jpg")], collection_id="1")

    with archive.Session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "ingest")).all()
    assert [(e.object_type, e.actor) for e in entries] == [("item", name)]


def test_upload_without_csrf_token_is_refused(client: FlaskClient, archive: Archive, login) -> None:
    login("archivist")

    response = client.post("/upload", data={"files": [(io.BytesIO(jpeg("teal")), "a.jpg")], "access": "public"},
                           content_type="multipart/form-data")

    assert response.status_code == 400
    with archive.Session() as session:
        assert session.scalar(select(Item.id)) is None


def test_upload_larger_than_the_limit_is_refused_with_a_message(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archive.app import create_app
    from conftest import log_in
    settings["max_upload_bytes"] = 1000
    app = create_app(settings)
    client = app.test_client()
    with app.app_context():
        from archive.services import accounts
        with app.extensions["crossings"].session() as session:
            accounts.create_user(session, "mina", "correct horse battery", "archivist")
    log_in(client, "mina")
    from conftest import csrf_token
    token = csrf_token(client, "/upload")
    response = client.post("/upload", data={"csrf_token": token, "files": (io.BytesIO(b"x" * 5000), "big.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than this archive accepts" in response.get_data(as_text=True)


def test_uploaded_items_record_who_uploaded_them(client, archive, login) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select
    from archive.models import MediaFile
    from conftest import csrf_token
    name = login("archivist")
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "JPEG")
    response = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"), "access": "public",
                                            "files": (io.BytesIO(buffer.getvalue()), "사진 1.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    with archive.Session() as session:
        media = session.scalars(select(MediaFile)).one()
    assert media.original_path == f"uploaded from a browser by {name}: 사진 1.jpg"
    assert media.original_name == "사진 1.jpg"
