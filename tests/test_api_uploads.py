"""Resumable uploads through /api/v1: chunks kept in the shared store, so that an upload interrupted on
one node is resumed and finished on another."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from archive.app import create_app
from archive.core import Archive
from browser import live_server
from conftest import csrf_token, log_in
from mediagen import make_video


def _interrupted_patch(base: str, path: str, cookie: str, token: str, offset: int, body: bytes, sent: int) -> None:
    """A PATCH announcing all of `body` whose connection is closed after `sent` bytes of it."""
    where = urlsplit(base)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        head = (f"PATCH {path} HTTP/1.1\r\nHost: {where.netloc}\r\nCookie: {cookie}\r\nX-CSRFToken: {token}\r\n"
                f"Upload-Offset: {offset}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        conn.sendall(head.encode() + body[:sent])
        conn.shutdown(socket.SHUT_WR)
        conn.recv(65536)  # the server's answer, or nothing: either way the chunk is short


def test_an_interrupted_upload_is_resumed_on_another_node(app: Flask, client: FlaskClient, archive: Archive,
                                                          login: Any, settings: dict[str, Any], tmp_path: Path,
                                                          store_backend: str) -> None:
    video = make_video(tmp_path / "mekong.mp4", duration=2.0).read_bytes()
    half = len(video) // 2
    login("archivist")
    token = csrf_token(client, "/")
    headers = {"X-CSRFToken": token}
    started = client.post("/api/v1/uploads", json={"filename": "mekong.mp4", "size": len(video),
                                                   "access": "public"}, headers=headers)
    assert started.status_code == 201, started.get_json()
    upload = started.get_json()["token"]
    first = client.patch(f"/api/v1/uploads/{upload}", data=video[:half // 2],
                         headers={**headers, "Upload-Offset": "0"})
    assert first.get_json()["received"] == half // 2

    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    with live_server(app) as base:  # the second chunk breaks off halfway through
        _interrupted_patch(base, f"/api/v1/uploads/{upload}", cookie, token, half // 2, video[half // 2:half],
                           sent=(half - half // 2) // 2)

    other = create_app(settings)  # another node on the same catalogue and store
    other.config.update(TESTING=True)
    try:
        node = other.test_client()
        log_in(node, "archivist-1")
        node_headers = {"X-CSRFToken": csrf_token(node, "/")}
        status = node.get(f"/api/v1/uploads/{upload}").get_json()
        wrong = node.patch(f"/api/v1/uploads/{upload}", data=video[half:], headers={**node_headers,
                                                                                     "Upload-Offset": str(half)})
        early = node.post(f"/api/v1/uploads/{upload}/finish", headers=node_headers)
        rest = node.patch(f"/api/v1/uploads/{upload}", data=video[status["received"]:],
                          headers={**node_headers, "Upload-Offset": str(status["received"])})
        done = node.post(f"/api/v1/uploads/{upload}/finish", headers=node_headers)
        gone = node.get(f"/api/v1/uploads/{upload}")
    finally:
        other.extensions["crossings"].close()

    assert status["received"] == half // 2 and status["complete"] is False  # nothing of the broken chunk
    assert wrong.status_code == 409 and wrong.get_json()["error"]["code"] == "offset_mismatch"
    assert early.status_code == 400
    assert rest.get_json()["complete"] is True
    assert done.status_code == 200, done.get_json()
    [made] = done.get_json()["ingested"]
    record = client.get(f"/api/v1/items/{made['item_id']}").get_json()
    assert record["kind"] == "video" and record["media"]["sha256"] == hashlib.sha256(video).hexdigest()
    assert gone.status_code == 404
    assert list(archive.store.objects.keys("uploads")) == []


def test_an_upload_is_its_owners_alone(client: FlaskClient, make_user: Any) -> None:
    first, second = make_user("archivist"), make_user("archivist")
    log_in(client, first)
    started = client.post("/api/v1/uploads", json={"filename": "a.mp4", "size": 10},
                          headers={"X-CSRFToken": csrf_token(client, "/")}).get_json()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    log_in(client, second)

    assert client.get(f"/api/v1/uploads/{started['token']}").status_code == 404


def _token(archive: Archive, username: str, scope: str) -> str:
    from sqlalchemy import select

    from archive.access import SYSTEM
    from archive.models import TokenScope, User
    from archive.services.api_tokens import create_token
    with archive.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return create_token(session, SYSTEM, user_id, name="test", scope=TokenScope(scope), expires_at=None)[1]


def test_a_read_token_may_not_write(client: FlaskClient, archive: Archive, make_user: Any) -> None:
    secret = _token(archive, make_user("archivist"), "read")

    answer = client.post("/api/v1/uploads", json={"filename": "a.mp4", "size": 10},
                         headers={"Authorization": f"Bearer {secret}"})

    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"


def test_the_readme_script_uploads_a_folder_and_its_transcripts(app: Flask, client: FlaskClient,
                                                               archive: Archive, make_user: Any,
                                                               tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys
    script = re.search(r"```python\n(.*?)```", (Path(__file__).parents[1] / "README.md").read_text(), re.S)
    assert script, "no Python example in the README"
    folder = tmp_path / "shoot"
    folder.mkdir()
    make_video(folder / "crossing.mp4", duration=2.0)
    (folder / "crossing.en.vtt").write_text("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nSynthetic demo line.\n")
    secret = _token(archive, make_user("archivist"), "read_write")

    with live_server(app) as base:
        run = subprocess.run([sys.executable, "-c", script.group(1), base, str(folder)], capture_output=True,
                             text=True, timeout=120, env={**os.environ, "CROSSINGS_TOKEN": secret})

    assert run.returncode == 0, run.stderr
    item_id = int(re.search(r"crossing\.mp4 → item (\d+)", run.stdout).group(1))
    # restricted, as anything added is by default (README, Safe defaults): read with the token
    [transcript] = client.get(f"/api/v1/items/{item_id}/transcripts",
                              headers={"Authorization": f"Bearer {secret}"}).get_json()["items"]
    assert transcript["language"] == "en" and transcript["segments"][0]["text"] == "Synthetic demo line."


def test_an_upload_left_a_week_is_removed_when_another_starts(client: FlaskClient, archive: Archive,
                                                             login: Any, store_backend: str) -> None:
    from datetime import datetime, timedelta, timezone

    from archive.services import resumable
    login("archivist")
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    old = client.post("/api/v1/uploads", json={"filename": "old.mp4", "size": 4}, headers=headers).get_json()
    client.patch(f"/api/v1/uploads/{old['token']}", data=b"ab", headers={**headers, "Upload-Offset": "0"})

    eight_days_on = datetime.now(timezone.utc) + timedelta(days=8)
    assert resumable.sweep_abandoned(archive.store, now=datetime.now(timezone.utc)) == []
    assert resumable.sweep_abandoned(archive.store, now=eight_days_on) == [old["token"]]
    assert client.get(f"/api/v1/uploads/{old['token']}").status_code == 404
    assert list(archive.store.objects.keys("uploads")) == []
