"""The store over its backends: presigned redirects for public media only, and intents any node recovers."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from archive.core import Archive
from archive.models import AccessLevel, ItemKind, StoreIntent
from archive.store import Staged
from objectstores import SeaweedServer
from test_web import RESEARCHER, add_item, set_viewer

CONTENT = bytes(range(256)) * 64  # 16 KiB, each position recognisable


@pytest.fixture
def s3_store(s3_server: SeaweedServer, settings: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's archive keeps its files in a new bucket of the test S3 server."""
    for name, value in s3_server.environment.items():
        monkeypatch.setenv(name, value)
    settings.update(s3_server.settings(s3_server.new_bucket()))


@pytest.fixture
def redirecting(s3_store: None, settings: dict[str, object]) -> int:
    """An S3 store whose public files redirect to presigned URLs living 120 s; returns that lifetime."""
    settings["s3_public_redirect_seconds"] = 120
    return 120


def test_a_large_original_goes_up_and_comes_back_in_parts_never_whole(s3_store: None, archive: Archive,
                                                                      tmp_path: Path) -> None:
    import hashlib
    import os
    import tracemalloc
    size = 40 * 1024 * 1024
    source = tmp_path / "big.bin"
    with open(source, "wb") as fh:
        for _ in range(size // (1024 * 1024)):
            fh.write(os.urandom(1024 * 1024))
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    tracemalloc.start()
    try:
        staged = archive.store.stage(source)
        rel = archive.store.place_original(staged)  # a multipart upload from the staged copy
        assert archive.store.hash(rel) == staged.sha256 == expected  # read back as a stream
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert archive.store.size(rel) == size
    assert archive.store.objects.checksum(rel) == staged.sha256
    assert peak < size // 2  # parts of 8 MiB at a time, never the whole file


def test_public_media_redirects_to_a_presigned_url_that_expires_within_minutes(
        redirecting: int, client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video, content=CONTENT, mime_type="video/mp4",
                       original_name="clip.mp4", derivatives=("grid",), access=AccessLevel.public)

    response = client.get(f"/items/{item_id}/original")

    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query["X-Amz-Expires"] == [str(redirecting)]
    with urllib.request.urlopen(location, timeout=30) as answer:  # the bucket answers without credentials
        assert answer.read() == CONTENT
        assert answer.headers["Content-Type"] == "video/mp4"
        assert answer.headers["Content-Disposition"] == f'inline; filename="item-{item_id}.mp4"'
    ranged = urllib.request.Request(location, headers={"Range": "bytes=100-199"})
    with urllib.request.urlopen(ranged, timeout=30) as answer:
        assert answer.status == 206 and answer.read() == CONTENT[100:200]
    assert client.get(f"/items/{item_id}/thumbs/grid").status_code == 302


def test_restricted_media_never_redirects_and_streams_with_ranges(
        redirecting: int, app: Flask, client: FlaskClient, archive: Archive) -> None:
    set_viewer(app, RESEARCHER)
    item_id = add_item(archive, "Restricted", kind=ItemKind.video, content=CONTENT, mime_type="video/mp4",
                       derivatives=("grid",), access=AccessLevel.restricted)

    whole = client.get(f"/items/{item_id}/original")
    part = client.get(f"/items/{item_id}/original", headers={"Range": "bytes=100-199"})
    grid = client.get(f"/items/{item_id}/thumbs/grid")

    assert whole.status_code == 200 and whole.data == CONTENT and "Location" not in whole.headers
    assert whole.cache_control.no_store and whole.cache_control.private
    assert part.status_code == 206 and part.data == CONTENT[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(CONTENT)}"
    assert grid.status_code == 200 and grid.cache_control.no_store


def _place_unrecorded(archive: Archive, tmp_path: Path, content: bytes) -> str:
    """What a killed ingest leaves: an intent committed and the original placed, the record never."""
    import hashlib
    sha = hashlib.sha256(content).hexdigest()
    source = tmp_path / f"{sha}.bin"
    source.write_bytes(content)
    intent = archive.store.intent(sha)
    intent.__enter__()  # never left: the process died inside the block
    archive.store.place_original(Staged(source, sha, len(content)))
    return sha


def test_an_abandoned_intent_is_recovered_by_any_node_after_its_lease(
        store_backend: str, settings: dict[str, object], archive: Archive, tmp_path: Path) -> None:
    sha = _place_unrecorded(archive, tmp_path, b"placed by a node that died")
    rel = archive.store.original_relpath(sha)
    # Another node: its own local folder when the store is in S3 (the same data root when it is local).
    other_root = tmp_path / "node2" if store_backend == "s3" else Path(str(settings["data"]))
    other = Archive.open({**settings, "data": str(other_root), "database_url": archive.database_url})
    try:
        assert other.recover() == [] and other.store.is_stored(rel)  # within its lease: maybe still running
        assert other.store.has_intent(sha)
        later = datetime.now(timezone.utc) + timedelta(seconds=other.settings["store_intent_lease_seconds"] + 1)
        with other.Session() as session:
            removed = other.store.recover(lambda s: False, now=later)
            assert session.scalar(select(func.count(StoreIntent.id))) == 0
        assert removed == [sha]
        assert not other.store.is_stored(rel) and not archive.store.is_stored(rel)
        assert not other.store.has_intent(sha)
    finally:
        other.close()


def test_a_recorded_file_outlives_its_abandoned_intent(store_backend: str, archive: Archive, tmp_path: Path) -> None:
    sha = _place_unrecorded(archive, tmp_path, b"recorded after all")
    later = datetime.now(timezone.utc) + timedelta(hours=2)

    assert archive.store.recover(lambda s: s == sha, now=later) == []
    assert archive.store.is_stored(archive.store.original_relpath(sha))
    assert not archive.store.has_intent(sha)
