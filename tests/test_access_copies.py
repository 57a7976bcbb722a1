"""The one rule for what a non-editor receives (archive.access.may_have_original), end to end.

Every file a viewer who may not have the original can download (media, proxy, access copy,
thumbnails, storyboard) is read with ExifTool and, for audio and video, listed with ffprobe: no
position in any carrier, and no stream but audio and video.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from PIL import Image
from sqlalchemy import select

from archive import mediatools, worker
from archive.access import SYSTEM
from archive.core import Archive
from archive.models import AccessLevel, Collection, Item, Job, LocationPrecision
from archive.services.access_copies import ACCESS_JOB
from archive.services.editing.items import bulk_edit, edit_item
from archive.services.fixity import verify_store
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.locations import set_item_location_precision
from archive.web.pages import DOWNLOAD_PREPARING_NOTE, NO_DOWNLOAD_NOTE
from conftest import PUBLISHED, log_in
from mediagen import (ACCESS_POSITION_TEXT, EXIFTOOL, FFPROBE, access_gps_footage, access_gps_jpeg, access_gps_png,
                      access_gps_recording, ffmpeg, make_video, mean_luma)


@pytest.fixture
def settings(settings: dict[str, object]) -> dict[str, object]:
    """These tests offer access copies to download unless they say otherwise (archive.settings[...] = False)."""
    return {**settings, "offer_access_copy_downloads": True}


def _gps_video(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-f", "lavfi", "-i",
           "sine=frequency=440:duration=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-metadata", "location=+40.1234+124.3951/", "-movflags", "+faststart", str(path))
    return path


def _exiftool(data: bytes, tmp: Path) -> dict[str, object]:
    body = tmp / "body.bin"
    body.write_bytes(data)
    out = subprocess.run([EXIFTOOL, "-j", "-n", "-G1", "-ee", str(body)], capture_output=True, check=True)
    return json.loads(out.stdout)[0]


def _positions(data: bytes, tmp: Path) -> list[str]:
    """Every trace of where the access_* carriers were made that ExifTool reads, or that is in the bytes."""
    tags = _exiftool(data, tmp)
    found = [f"{name}={value}" for name, value in tags.items()
             if any(word in name.lower() for word in ("gps", "location", "xyz", "chapter", "comment"))
             or any(text in str(value) for text in ACCESS_POSITION_TEXT)]
    found += [text for text in ACCESS_POSITION_TEXT if text.encode() in data]
    return found


def _streams(data: bytes, tmp: Path) -> list[str]:
    """The streams of an audio or video file as ffprobe lists them: "audio", "video", "video (cover)"..."""
    body = tmp / "streams.bin"
    body.write_bytes(data)
    out = subprocess.run([FFPROBE, "-v", "error", "-show_entries", "stream=codec_type:stream_disposition=attached_pic",
                          "-of", "json", str(body)], capture_output=True, check=True)
    return [s["codec_type"] + (" (cover)" if s.get("disposition", {}).get("attached_pic") else "")
            for s in json.loads(out.stdout)["streams"]]


def _ingest(archive: Archive, path: Path, **options: object) -> int:
    """Ingest public at exact precision unless told otherwise, so that each test chooses the levels
    its item is published at (and so whether it needs an access copy) itself."""
    report = ingest_paths(archive, [path], IngestOptions(**{**PUBLISHED, **options}))
    assert report.ok, report.failed
    return report.ingested[0]["item_id"]


def _publish(archive: Archive, item_id: int, access: AccessLevel,
             precision: LocationPrecision = LocationPrecision.km10) -> None:
    """Set access and precision explicitly, through the service an editor's form uses for precision."""
    with archive.session() as session:
        session.get(Item, item_id).access = access
        set_item_location_precision(session, SYSTEM, item_id, LocationPrecision.exact)
        set_item_location_precision(session, SYSTEM, item_id, precision)


def _jobs(archive: Archive, item_id: int, kind: str) -> list[Job]:
    with archive.Session() as session:
        return list(session.scalars(select(Job).where(Job.item_id == item_id, Job.kind == kind)))


def _offered_urls(client: FlaskClient, item_id: int) -> tuple[str, set[str]]:
    """The item page, and every URL of the item's files that the page and the API offer."""
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    api = client.get(f"/api/items/{item_id}").get_data(as_text=True)
    urls = set(re.findall(r'(?:src|href)="(/items/%d/[^"]+)"' % item_id, page))
    urls |= {u.split("localhost", 1)[1] for u in re.findall(r'"(http://localhost/items/%d/[^"]+)"' % item_id, api)}
    return page, urls


def _log(line: str) -> None:
    pass


CARRIERS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "jpeg-exif-xmp": (access_gps_jpeg, "Hyesan-riverbank.jpg"),
    "png-exif": (access_gps_png, "Hyesan-map.png"),
    "footage-xyz-gpmf-subtitles": (access_gps_footage, "Hyesan-crossing.mov"),
    "recording-xyz-cover": (access_gps_recording, "Hyesan-interview.m4a"),
}


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_nothing_a_non_editor_downloads_says_where_it_was_made(carrier: str, archive: Archive, client: FlaskClient,
                                                               make_user, tmp_path: Path, store_backend: str) -> None:
    """On either store: the access copy is made from a fetched copy of the original and served back."""
    make, name = CARRIERS[carrier]
    src = make(tmp_path / name)
    assert _positions(src.read_bytes(), tmp_path), "the test file carries no position"
    original = src.read_bytes()
    item_id = _ingest(archive, src)
    _publish(archive, item_id, AccessLevel.public)
    assert _jobs(archive, item_id, ACCESS_JOB), "published coarser: the access copy is queued"
    worker.run(archive, once=True, log=_log)
    with archive.Session() as session:
        item = session.get(Item, item_id)
        sha, kind = item.media.sha256, item.kind.value
        assert item.media.derivative("access") is not None, [j.error for j in item.jobs]
    for viewer in ("anonymous", "researcher"):
        if viewer == "researcher":
            with archive.session() as session:
                session.get(Item, item_id).access = AccessLevel.restricted
            log_in(client, make_user("researcher"))
        page, urls = _offered_urls(client, item_id)
        assert sha not in page and name not in page
        assert f"/items/{item_id}/access" in urls and "Download (access copy)" in page, viewer
        assert client.get(f"/items/{item_id}/original").status_code == 404
        if kind != "still":  # footage and recordings play from their proxy, a copy without metadata
            assert f'src="/items/{item_id}/proxy"' in page
        checked = 0
        for url in sorted(urls):
            response = client.get(url)
            if response.mimetype == "text/html":
                continue
            where = f"{viewer} {url}"
            assert response.status_code == 200, where
            assert response.data != original, where
            assert sha not in response.headers.get("ETag", ""), where
            assert _positions(response.data, tmp_path) == [], where
            if response.mimetype.startswith(("audio/", "video/")):
                expected = {"audio"} if kind == "audio" else {"audio", "video"}
                assert set(_streams(response.data, tmp_path)) == expected, where
            checked += 1
        assert checked >= 3, urls  # at least the access copy and the two thumbnails
        copy = client.get(f"/items/{item_id}/access")
        assert copy.headers["ETag"].strip('"') == hashlib.sha256(copy.data).hexdigest()
        disposition = copy.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and re.search(r'filename="item-%d\.\w+"' % item_id, disposition)


def test_an_editor_still_gets_the_original(archive: Archive, client: FlaskClient, make_user, tmp_path: Path) -> None:
    clip = _gps_video(tmp_path / "Hyesan-crossing.mp4")
    item_id = _ingest(archive, clip)
    _publish(archive, item_id, AccessLevel.public)
    worker.run(archive, once=True, log=_log)
    log_in(client, make_user("archivist"))
    response = client.get(f"/items/{item_id}/original")
    assert response.data == clip.read_bytes()
    assert 'filename="item-%d.mp4"' % item_id in response.headers["Content-Disposition"]
    assert "Original file" in client.get(f"/items/{item_id}").get_data(as_text=True)


def test_a_still_access_copy_is_upright_pixels_without_any_metadata(tmp_path: Path) -> None:
    src = access_gps_jpeg(tmp_path / "turned.jpg", size=(320, 240), orientation=6)  # a phone held upright
    made = mediatools.make_still_access_copy(src, tmp_path, max_image_pixels=10**8)
    assert made.mime_type == "image/jpeg"
    with Image.open(made.path) as copy, Image.open(src) as original:
        assert copy.size == (240, 320)  # turned as the EXIF said, since the EXIF is gone
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(copy.info), copy.info
        upright = original.transpose(Image.Transpose.ROTATE_270)
        assert abs(mean_luma(copy) - mean_luma(upright)) < 2
    (tmp_path / "png").mkdir()
    png = mediatools.make_still_access_copy(access_gps_png(tmp_path / "map.png"), tmp_path / "png",
                                            max_image_pixels=10**8)
    assert png.mime_type == "image/png"
    with Image.open(png.path) as copy:
        assert copy.text == {} and "exif" not in copy.info and "xmp" not in copy.info


def test_the_access_copy_command_keeps_only_audio_and_video() -> None:
    cmd = mediatools.access_copy_cmd(Path("in.mov"), Path("out.mov"), muxer="mov")
    joined = " ".join(cmd)
    assert "-map 0:V? -map 0:a?" in joined and "-c copy" in joined  # no cover pictures, data or subtitles
    assert "-map_metadata -1 -map_metadata:s -1 -map_chapters -1" in joined and "-fflags +bitexact" in joined
    assert cmd.count("-map") == 2 and cmd[-1].startswith("file:")


def test_footage_in_another_container_is_copied_into_matroska(tmp_path: Path) -> None:
    src = make_video(tmp_path / "tape.avi", duration=1.0, location="+40.1234+124.3951/")
    made = mediatools.make_av_access_copy(src, tmp_path, mime_type="video/x-msvideo", kind="video", timeout=60)
    assert made.path.suffix == ".mkv" and made.mime_type == "video/x-matroska"
    assert sorted(_streams(made.path.read_bytes(), tmp_path)) == ["audio", "video"]
    assert _positions(made.path.read_bytes(), tmp_path) == []


def test_no_download_is_offered_without_the_setting(archive: Archive, client: FlaskClient, tmp_path: Path) -> None:
    archive.settings["offer_access_copy_downloads"] = False
    item_id = _ingest(archive, access_gps_jpeg(tmp_path / "riverbank.jpg"))
    _publish(archive, item_id, AccessLevel.public)
    assert _jobs(archive, item_id, ACCESS_JOB) == []  # the store does not double for nothing
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert str(escape(NO_DOWNLOAD_NOTE)) in page and "Download (access copy)" not in page
    assert client.get(f"/items/{item_id}/access").status_code == 404
    # Made while offered, then the offer withdrawn: no longer given, nor named by the API.
    archive.settings["offer_access_copy_downloads"] = True
    with archive.session() as session:
        verify_store(archive, session, repair=True)  # queues what an item published coarser lacks
    worker.run(archive, once=True, log=_log)
    assert client.get(f"/items/{item_id}/access").status_code == 200
    archive.settings["offer_access_copy_downloads"] = False
    assert client.get(f"/items/{item_id}/access").status_code == 404
    api = client.get(f"/api/items/{item_id}").get_json()
    assert api["media"]["access_copy_url"] is None
    assert "access" not in {d["kind"] for d in api["media"]["derivatives"]}


def test_until_the_copy_is_made_the_page_says_so_and_the_route_is_absent(archive: Archive, client: FlaskClient,
                                                                          tmp_path: Path) -> None:
    item_id = _ingest(archive, access_gps_png(tmp_path / "map.png"))
    _publish(archive, item_id, AccessLevel.public)
    assert str(escape(DOWNLOAD_PREPARING_NOTE)) in client.get(f"/items/{item_id}").get_data(as_text=True)
    assert client.get(f"/items/{item_id}/access").status_code == 404
    assert client.get(f"/items/{item_id}/original").status_code == 404  # never the original meanwhile


def test_an_item_exact_or_seen_only_by_editors_needs_no_access_copy(archive: Archive, tmp_path: Path) -> None:
    exact = _ingest(archive, access_gps_jpeg(tmp_path / "a.jpg"))
    _publish(archive, exact, AccessLevel.public, LocationPrecision.exact)
    hidden = _ingest(archive, access_gps_png(tmp_path / "b.png"))
    _publish(archive, hidden, AccessLevel.confidential)  # no collection: admins alone see it
    assert _jobs(archive, exact, ACCESS_JOB) == [] and _jobs(archive, hidden, ACCESS_JOB) == []
    with archive.session() as session:
        session.add(Collection(title="Donated tapes"))
        session.flush()
        collection_id = session.scalar(select(Collection.id))
        edit_item(session, SYSTEM, hidden, collection_id=collection_id)  # now a researcher can be granted it
    assert len(_jobs(archive, hidden, ACCESS_JOB)) == 1
    other = _ingest(archive, access_gps_jpeg(tmp_path / "c.jpg", size=(240, 180)))  # not a duplicate of a.jpg
    _publish(archive, other, AccessLevel.confidential)
    with archive.session() as session:
        bulk_edit(session, SYSTEM, [other], access=AccessLevel.restricted)
    assert len(_jobs(archive, other, ACCESS_JOB)) == 1
    # The safe defaults (restricted, about 10 km) withhold the original: ingest queues its copy.
    by_default = _ingest(archive, access_gps_jpeg(tmp_path / "d.jpg", size=(200, 150)),  # not a duplicate of a.jpg
                         access=None, location_precision=None)
    assert len(_jobs(archive, by_default, ACCESS_JOB)) == 1


def test_an_item_restored_from_the_trash_gets_its_access_copy(archive: Archive, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from archive.services.trash import restore
    item_id = _ingest(archive, access_gps_jpeg(tmp_path / "a.jpg"))
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.access, item.location_precision = AccessLevel.public, LocationPrecision.km10
        item.deleted_at = datetime.now(timezone.utc)  # trashed before it was ever published coarser
    with archive.session() as session:
        restore(session, SYSTEM, [item_id])
    assert len(_jobs(archive, item_id, ACCESS_JOB)) == 1
