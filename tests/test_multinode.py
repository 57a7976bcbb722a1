"""Several machines over one catalogue (issue 11, part 6): two web servers and two workers, each
its own process, over one PostgreSQL, driven at once.

Two ingests of overlapping folders, the same item edited through both web servers, searches on
both, and a worker killed with SIGKILL in the middle of a job. Afterwards every file is stored
once, every job is done once, the search index agrees with the catalogue, the losing edit was
told of the conflict, and `crossings verify` is clean.

Two layouts: the nodes sharing one data root (its files, its whoosh index), and the one for
separate machines, where every process has a local folder of its own and shares nothing but
PostgreSQL (catalogue and search index) and one S3 store.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.core import Archive
from archive.models import Item, Job, JobState, MediaFile
from archive.services import accounts, jobs
from conftest import PASSWORD
from databases import PostgresServer
from mediagen import make_audio, make_jpeg, make_tiff, make_video
from objectstores import SeaweedServer
from test_ingest import CROSSINGS, crossings
from test_serve import Server

BLOCKING_WORKER = Path(__file__).with_name("blocking_worker.py")
LEASE_SECONDS = 4


class _FormFields(HTMLParser):
    """The fields of one form of a page, as a browser would send them unchanged."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside and a.get("form") != self.form_id:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields[self._textarea] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.fields):
            self.fields[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


class Browser:
    """A person at one web server: cookies of their own, the CSRF token of the page last read."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.server.url + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.server.url + path, data=data, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def log_in(self, username: str) -> None:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get("/login")).group(1)
        status, html = self.post("/login", {"username": username, "password": PASSWORD, "csrf_token": token})
        assert status == 200 and "Logged in as" in html, html  # redirects are followed

    def form(self, path: str, form_id: str) -> dict[str, str]:
        parser = _FormFields(form_id)
        parser.feed(self.get(path))
        return parser.fields


def _ingest(data: Path, url: str, folder: Path, node_env: dict[str, str]) -> subprocess.Popen[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")},
           "CROSSINGS_DATA": str(data), "CROSSINGS_DATABASE_URL": url, **node_env}
    return subprocess.Popen([CROSSINGS, "ingest", "--json", "--defer-thumbnails", str(folder)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def _worker(data: Path, url: str, node_env: dict[str, str]) -> subprocess.Popen[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}, **node_env,
           "CROSSINGS_DATA": str(data), "CROSSINGS_DATABASE_URL": url, "HOLD_SECONDS": "3",
           "CROSSINGS_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "CROSSINGS_WORKER_POLL_SECONDS": "0.2",
           "CROSSINGS_FIXITY_DAYS": "0", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, str(BLOCKING_WORKER)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)


def _wait(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {seconds:g} s for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("own_folders", [False, True], ids=["one-data-root", "own-folders-s3-postgresql-search"])
def test_two_web_servers_and_two_workers_share_one_catalogue(postgres: PostgresServer, tmp_path: Path,
                                                             own_folders: bool, request: pytest.FixtureRequest,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    url = postgres.new_database()
    shared: dict[str, object] = {}
    if own_folders:
        s3: SeaweedServer = request.getfixturevalue("s3_server")
        bucket = s3.new_bucket()
        shared = {**s3.settings(bucket), "search_engine": "postgresql"}
        for name, value in s3.environment.items():
            monkeypatch.setenv(name, value)  # this process's archives, and every node through os.environ
    node_env = {f"CROSSINGS_{name.upper()}": str(value) for name, value in shared.items()}
    nodes = itertools.count(1)

    def local_folder() -> Path:
        """The data root of the next process: its own on separate machines, else the one shared."""
        return tmp_path / (f"node{next(nodes)}" if own_folders else "data")

    def open_node() -> Archive:
        return Archive.open({"data": str(local_folder()), "database_url": url, **shared})

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    make_jpeg(first / "river.jpg", gps=(41.4, 128.18))
    make_video(first / "crossing.mp4", duration=2.0)
    make_audio(first / "voice.opus", duration=2.0)
    for name in ("river.jpg", "crossing.mp4"):
        (second / name).write_bytes((first / name).read_bytes())
    make_tiff(second / "scan.tif")
    archive = open_node()
    with archive.session() as session:
        accounts.create_user(session, "boss", PASSWORD, "admin")
    archive.close()

    web = [Server(local_folder(), "--workers", "1", env={"CROSSINGS_DATABASE_URL": url, **node_env})
           for _ in range(2)]
    workers = [_worker(local_folder(), url, node_env) for _ in range(2)]
    try:
        for server in web:
            server.wait_until_ready(1)
        # Two ingests of overlapping folders at once.
        runs = [_ingest(local_folder(), url, folder, node_env) for folder in (first, second)]
        summaries = []
        for run in runs:
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, err
            summaries.append(json.loads(out))
        ingested = sorted(Path(e["path"]).name for s in summaries for e in s["ingested"])
        assert ingested == ["crossing.mp4", "river.jpg", "scan.tif", "voice.opus"]

        # A job held by whichever worker takes it, and that worker killed while it holds it.
        log = tmp_path / "held.log"
        archive = open_node()
        with archive.session() as session:
            held = jobs.enqueue(session, "test_block", payload={"log": str(log)}).id
        _wait(lambda: log.exists() and "start" in log.read_text(), 60, "a worker to take the held job")
        holder = int(log.read_text().split()[1])
        [killed] = [w for w in workers if w.pid == holder]
        killed.send_signal(signal.SIGKILL)
        killed.wait()

        # The same item edited through both web servers, from pages read before either save.
        one, other = Browser(web[0]), Browser(web[1])
        one.log_in("boss")
        other.log_in("boss")
        with archive.Session() as session:
            item_id = session.scalar(select(MediaFile.item_id).where(MediaFile.original_name == "river.jpg"))
        form_one = one.form(f"/items/{item_id}/edit", "item-form")
        form_other = other.form(f"/items/{item_id}/edit", "item-form")
        saved, _ = one.post(f"/items/{item_id}/edit", {**form_one, "title": "River at dusk"})
        refused, page = other.post(f"/items/{item_id}/edit", {**form_other, "title": "River at dawn"})
        assert saved == 200 and refused == 409
        assert "River at dusk" in page and "boss" in page  # the conflict is shown: what changed, and who

        # Searches on both servers agree, and find the edit made through the other.
        for browser in (one, other):
            assert f"/items/{item_id}" in browser.get("/search?q=dusk")

        # Every job done once; the killed worker's job run again by the other, after its lease.
        def settled() -> bool:
            with archive.Session() as session:
                states = session.scalars(select(Job.state)).all()
            return all(state is JobState.done for state in states)
        _wait(settled, 180, "every job to be done")
        with archive.Session() as session:
            job = session.get(Job, held)
            assert job.attempts == 2 and "lease" in json.dumps(job.failures)
            pairs = session.execute(select(Job.kind, Job.item_id)).all()
            assert len(pairs) == len(set(pairs))  # no job queued twice for the same item
            hashes = session.scalars(select(MediaFile.sha256)).all()
            assert len(hashes) == len(set(hashes)) == 4
            assert session.scalar(select(func.count()).select_from(Item)) == 4
        starts = [line.split()[1] for line in log.read_text().splitlines() if line.startswith("start")]
        assert len(starts) == 2 and starts[0] != starts[1]
        archive.close()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        for server in web:
            server.kill()

    stored_locally = [p for p in tmp_path.glob("*/originals/**/*") if p.is_file()]
    if own_folders:
        listed = s3.client().list_objects_v2(Bucket=bucket, Prefix="originals/")
        assert listed["KeyCount"] == 4 and stored_locally == []
    else:
        assert len(stored_locally) == 4
    checked = crossings(local_folder(), "index", "check", database_url=url, env=node_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verified = crossings(local_folder(), "verify", database_url=url, env=node_env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    postgres.drop_database(url)
