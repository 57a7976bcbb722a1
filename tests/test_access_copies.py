"""The one rule for what a non-editor receives (archive.access.may_have_original), end to end."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from archive import worker
from archive.core import Archive
from archive.models import AccessLevel, Item, LocationPrecision
from archive.services.ingest import IngestOptions, ingest_paths
from conftest import log_in
from mediagen import ffmpeg


def _gps_video(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-f", "lavfi", "-i",
           "sine=frequency=440:duration=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-metadata", "location=+40.1234+124.3951/", "-movflags", "+faststart", str(path))
    return path


def _exiftool(data: bytes, tmp: Path) -> dict[str, object]:
    body = tmp / "body.bin"
    body.write_bytes(data)
    out = subprocess.run(["exiftool", "-j", "-n", "-G1", "-ee", str(body)], capture_output=True, check=True)
    return json.loads(out.stdout)[0]


def test_non_editor_gets_no_original_checksum_name_or_position(archive: Archive, client: FlaskClient,
                                                               make_user, tmp_path: Path) -> None:
    clip = _gps_video(tmp_path / "Hyesan-crossing.mp4")
    assert ingest_paths(archive, [clip], IngestOptions()).ok
    with archive.session() as session:
        item = session.scalar(select(Item))
        item.access, item.location_precision = AccessLevel.public, LocationPrecision.km10
        item_id, sha = item.id, item.media.sha256
        from archive.services.ingest import queue_proxy_if_needed
        queue_proxy_if_needed(session, item)
    worker.run(archive, once=True, log=lambda line: None)
    original = clip.read_bytes()
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    api = client.get(f"/api/items/{item_id}").get_data(as_text=True)
    for text in (page, api):
        assert sha not in text and "Hyesan-crossing.mp4" not in text  # the title is the archivist's to change
    urls = set(re.findall(r'(?:src|href)="(/items/%d/[^"]+)"' % item_id, page))
    urls |= {u.split("localhost", 1)[1] for u in re.findall(r'"(http://localhost/items/[^"]+)"', api)}
    assert f"/items/{item_id}/proxy" in urls
    assert client.get(f"/items/{item_id}/original").status_code == 404
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype == "text/html":
            continue
        assert response.data != original, url
        assert sha not in response.headers.get("ETag", ""), url
        tags = _exiftool(response.data, tmp_path)
        assert not [k for k in tags if "GPS" in k or "Location" in k or "xyz" in k.lower()], (url, tags)
    log_in(client, make_user("archivist"))
    response = client.get(f"/items/{item_id}/original")
    assert response.data == original
    assert 'filename="item-%d.mp4"' % item_id in response.headers["Content-Disposition"]
