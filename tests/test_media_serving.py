"""Originals, proxies and thumbnails: HTTP Range, types, caching, and the access policy."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, Derivative, ItemKind
from conftest import PUBLISHED
from test_web import RESEARCHER, add_item, set_viewer

CONTENT = bytes(range(256)) * 8  # 2048 bytes, each position recognisable


@pytest.fixture
def video_id(archive: Archive, store_backend: str) -> int:
    """A video item in the store of `store_backend`: the tests that use it run on both."""
    return add_item(archive, "Clip", kind=ItemKind.video, content=CONTENT, mime_type="video/mp4",
                    original_name="clip.mp4", derivatives=("grid", "page", "storyboard", "proxy"))


def test_original_plain_get_is_200_and_accepts_ranges(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/original")

    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.data == CONTENT
    assert response.headers["Content-Length"] == str(len(CONTENT))
    assert response.mimetype == "video/mp4"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_range_of_the_first_hundred_bytes_is_206(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/original", headers={"Range": "bytes=0-99"})

    assert response.status_code == 206
    assert response.data == CONTENT[:100] and len(response.data) == 100
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(CONTENT)}"
    assert response.headers["Content-Length"] == "100"


def test_open_ended_range_runs_to_the_end(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/original", headers={"Range": "bytes=2000-"})

    assert response.status_code == 206
    assert response.data == CONTENT[2000:]
    assert response.headers["Content-Range"] == f"bytes 2000-2047/{len(CONTENT)}"


def test_suffix_range_gives_the_last_bytes(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/original", headers={"Range": "bytes=-10"})

    assert response.status_code == 206
    assert response.data == CONTENT[-10:]
    assert response.headers["Content-Range"] == f"bytes 2038-2047/{len(CONTENT)}"


def test_unsatisfiable_range_is_416(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/original", headers={"Range": "bytes=5000-6000"})

    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_ranges_work_on_the_proxy_too(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/proxy", headers={"Range": "bytes=0-4"})

    assert response.status_code == 206
    assert response.data == b"proxy"
    assert response.mimetype == "video/mp4"


def test_conditional_get_with_the_etag_is_304(client: FlaskClient, video_id: int) -> None:
    first = client.get(f"/items/{video_id}/original")
    etag = first.headers["ETag"]

    again = client.get(f"/items/{video_id}/original", headers={"If-None-Match": etag})

    assert hashlib.sha256(CONTENT).hexdigest() in etag
    assert again.status_code == 304


@pytest.mark.parametrize("path, mime", [
    ("original", "video/mp4"), ("proxy", "video/mp4"), ("thumbs/grid", "image/png"),
    ("thumbs/page", "image/png"), ("thumbs/storyboard", "image/png"),
])
def test_files_carry_the_recorded_mime_type(client: FlaskClient, video_id: int, path: str, mime: str) -> None:
    response = client.get(f"/items/{video_id}/{path}")

    assert response.status_code == 200
    assert response.mimetype == mime
    response.close()


def test_thumbnail_etags_differ_by_kind(client: FlaskClient, video_id: int) -> None:
    grid = client.get(f"/items/{video_id}/thumbs/grid")
    page = client.get(f"/items/{video_id}/thumbs/page")

    assert grid.headers["ETag"] != page.headers["ETag"]


def test_public_items_may_be_cached_but_are_revalidated(client: FlaskClient, video_id: int) -> None:
    for path in ("original", "proxy", "thumbs/grid"):
        response = client.get(f"/items/{video_id}/{path}")
        assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"], path
        assert not response.cache_control.max_age and not response.cache_control.private, path
        response.close()


def test_restricted_items_are_never_stored(app: Flask, client: FlaskClient, archive: Archive) -> None:
    set_viewer(app, RESEARCHER)
    item_id = add_item(archive, "Restricted", access=AccessLevel.restricted)

    for path in ("original", "thumbs/grid", "thumbs/page"):
        response = client.get(f"/items/{item_id}/{path}")
        assert response.status_code == 200
        assert response.cache_control.private and response.cache_control.no_store
        assert "public" not in response.headers["Cache-Control"]
        response.close()


@pytest.mark.parametrize("access", [AccessLevel.restricted, AccessLevel.confidential])
@pytest.mark.parametrize("path", ["original", "proxy", "thumbs/grid", "thumbs/page", "thumbs/storyboard"])
def test_files_of_hidden_items_are_404(client: FlaskClient, archive: Archive, access: AccessLevel,
                                       path: str) -> None:
    item_id = add_item(archive, "Hidden", access=access, kind=ItemKind.video,
                       derivatives=("grid", "page", "storyboard", "proxy"))

    response = client.get(f"/items/{item_id}/{path}", headers={"Range": "bytes=0-9"})

    assert response.status_code == 404
    assert "Hidden" not in response.get_data(as_text=True)


def test_missing_derivative_file_is_404_not_500(client: FlaskClient, archive: Archive, video_id: int) -> None:
    with archive.Session() as session:
        grid = session.scalar(select(Derivative).where(Derivative.kind == "grid"))
        archive.store.objects.delete(grid.path)

    response = client.get(f"/items/{video_id}/thumbs/grid")

    assert response.status_code == 404


def test_missing_original_file_is_404_not_500(client: FlaskClient, archive: Archive, video_id: int) -> None:
    archive.store.objects.delete_prefix("originals")

    assert client.get(f"/items/{video_id}/original").status_code == 404


def test_derivative_not_made_is_404(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Still", derivatives=("grid",))

    assert client.get(f"/items/{item_id}/thumbs/page").status_code == 404
    assert client.get(f"/items/{item_id}/proxy").status_code == 404


@pytest.mark.parametrize("path", ["thumbs/poster", "thumbs/..%2F..%2Fcrossings.sqlite3", "thumbs/../original",
                                  "original/../../crossings.sqlite3"])
def test_file_names_are_never_taken_from_the_url(client: FlaskClient, video_id: int, path: str) -> None:
    response = client.get(f"/items/{video_id}/{path}")

    assert response.status_code == 404
    assert b"SQLite format" not in response.data


def test_recorded_path_outside_the_data_root_is_refused(client: FlaskClient, archive: Archive,
                                                        video_id: int, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the web")
    with archive.session() as session:
        grid = session.scalar(select(Derivative).where(Derivative.kind == "grid"))
        grid.path = "../outside.txt"

    response = client.get(f"/items/{video_id}/thumbs/grid")

    assert response.status_code == 404
    assert "not for the web" not in response.get_data(as_text=True)
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_original_is_named_by_item_and_detected_type_not_by_its_upload(client: FlaskClient, video_id: int) -> None:
    response = client.get(f"/items/{video_id}/original")

    assert response.headers["Content-Disposition"] == f'inline; filename="item-{video_id}.mp4"'


def test_download_name_ignores_a_unicode_uploaded_name(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Korean", original_name="메콩강 \"밤\".MOV", mime_type="video/quicktime",
                       kind=ItemKind.video)

    disposition = client.get(f"/items/{item_id}/original").headers["Content-Disposition"]

    # The uploaded name could identify the file someone holds; its extension is not trusted.
    assert disposition == f'inline; filename="item-{item_id}.mov"'
    disposition.encode("ascii")


def test_download_extension_comes_from_the_detected_type(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Accents", original_name="café.jpg")

    disposition = client.get(f"/items/{item_id}/original").headers["Content-Disposition"]

    assert disposition == f'inline; filename="item-{item_id}.jpg"'


def test_original_that_browsers_should_not_render_is_a_download(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Drawing", original_name="drawing.svg", mime_type="image/svg+xml",
                       content=b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")

    response = client.get(f"/items/{item_id}/original")

    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


# -- a real video through ingest --------------------------------------------------------------

@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_ingested_video_streams_with_ranges(client: FlaskClient, archive: Archive, tmp_path: Path,
                                           store_backend: str) -> None:
    from archive.services.ingest import IngestOptions, ingest_paths

    source = tmp_path / "Yalu_river.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(source)], check=True, timeout=60)
    report = ingest_paths(archive, [source], IngestOptions(**PUBLISHED))
    assert report.ok, report.failed
    item_id = report.ingested[0]["item_id"]
    data = source.read_bytes()

    whole = client.get(f"/items/{item_id}/original")
    part = client.get(f"/items/{item_id}/original", headers={"Range": "bytes=0-99"})
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    api = client.get(f"/api/items/{item_id}").get_json()

    assert whole.status_code == 200 and whole.data == data and whole.mimetype == "video/mp4"
    assert part.status_code == 206 and part.data == data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert f'src="/items/{item_id}/original"' in page and "0:00:02" in page
    assert api["media"]["duration"] == pytest.approx(2.0, abs=0.1)
    assert api["media"]["video_codec"] == "h264"
    for derivative in api["media"]["derivatives"]:
        response = client.get(derivative["url"])
        assert response.status_code == 200 and response.mimetype == derivative["mime_type"]
        response.close()
