"""Ingest end to end: formats, bad input, duplicates, interruption, fixity and proxies."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from archive.core import Archive
from archive.db import make_engine
from archive.models import AccessLevel, Derivative, Item, Job, JobState, MediaFile
from archive.services.ingest import AS_AUDIO_WARNING, IngestOptions, display_path, ingest_paths
from archive.store import Store
from conftest import BACKENDS, PUBLISHED, new_catalogue
from test_web import put_bytes
from mediagen import (make_audio, make_heic, make_jpeg, make_one_picture_recording, make_pictureless_video,
                      make_png_bomb, make_text, make_tiff, make_video, probe, truncate)

CROSSINGS = str(Path(sys.executable).with_name("crossings"))


def crossings(data: Path, *args: str, env: dict[str, str] | None = None, database_url: str = "",
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `crossings` command against the data root `data` and its catalogue (conftest.database_url)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}
    full_env.update({"CROSSINGS_DATA": str(data), "CROSSINGS_DATABASE_URL": database_url, **(env or {})})
    return subprocess.run([CROSSINGS, *args], capture_output=True, text=True, env=full_env, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def ingest_json(data: Path, *args: str, **kw: Any) -> tuple[int, dict[str, Any], str]:
    result = crossings(data, "ingest", "--json", *args, **kw)
    return result.returncode, json.loads(result.stdout), result.stderr


def open_archive(data: Path, database_url: str, store_env: dict[str, str] | None = None) -> Archive:
    store = {name.removeprefix("CROSSINGS_").lower(): value for name, value in (store_env or {}).items()}
    return Archive.open({"data": str(data), "database_url": database_url, **store})


def stored_originals(archive: Archive) -> list[str]:
    """The checksums of the originals in the archive's store, whichever its backend."""
    return [key.rsplit("/", 1)[-1] for key in archive.store.objects.keys("originals")]


def tamper(archive: Archive, relpath: str, extra: bytes) -> None:
    """Append `extra` to a stored file, as bit rot would change it, in either backend."""
    with archive.store.open(relpath) as fh:
        data = fh.read()
    put_bytes(archive, relpath, data + extra)


def regular_files(folder: Path) -> set[str]:
    return {display_path(p) for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


# -- a corpus of every format the archive must take ------------------------------------------

FORMATS = {
    # name: (factory, expected kind, expects a proxy job)
    "hevc.mkv": (lambda p: make_video(p, codec="libx265"), "video", True),
    "mpeg4.avi": (lambda p: make_video(p, codec="mpeg4"), "video", True),
    "mpeg2.mxf": (lambda p: make_video(p, codec="mpeg2video"), "video", True),
    "pal.dv": (lambda p: make_video(p, codec="dvvideo", size=(720, 576)), "video", True),
    "broadcast.ts": (lambda p: make_video(p), "video", True),
    "vp9.webm": (lambda p: make_video(p, codec="libvpx-vp9"), "video", False),
    "prores.mov": (lambda p: make_video(p, codec="prores_ks"), "video", True),
    "h264.mp4": (lambda p: make_video(p), "video", False),
    "phone.mov": (lambda p: make_video(p, rotate=90, location="+41.4000+128.1800/",
                                       creation_time="2019-04-12T21:30:00Z"), "video", False),
    "voice.opus": (lambda p: make_audio(p), "audio", False),
    "book.m4b": (lambda p: make_audio(p), "audio", False),
    "gps.jpg": (lambda p: make_jpeg(p, gps=(20.27, 100.09), date="2019:05:02 23:10:00", make="Canon",
                                    model="PowerShot"), "still", False),
    "iphone.heic": (lambda p: make_heic(p), "still", False),
    "scan.tif": (lambda p: make_tiff(p, mode="I;16"), "still", False),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, (factory, _, _) in FORMATS.items():
        factory(folder / name)
    return folder


@dataclass(frozen=True)
class Ingested:
    """The corpus ingested once per catalogue backend: its data root, catalogue, exit code and summary."""
    data: Path
    database_url: str
    code: int
    summary: dict[str, Any]

    def open(self) -> Archive:
        return open_archive(self.data, self.database_url)


@pytest.fixture(scope="module", params=BACKENDS)
def ingested(corpus: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Ingested:
    data = tmp_path_factory.mktemp("data")
    url = new_catalogue(request, request.param)
    code, summary, _ = ingest_json(data, str(corpus), "--collection", "Field tapes", "--access", "restricted",
                                   "--location-precision", "exact",  # exact: proxies only where browsers need them
                                   database_url=url)
    return Ingested(data, url, code, summary)


def test_ingest_catalogues_every_format(ingested: Ingested) -> None:
    data, code, summary = ingested.data, ingested.code, ingested.summary
    assert code == 0, summary["failed"]
    assert summary["failed"] == [] and summary["duplicates"] == []
    assert len(summary["ingested"]) == len(FORMATS)
    archive = ingested.open()
    with archive.Session() as session:
        for entry in summary["ingested"]:
            name = Path(entry["path"]).name
            _, kind, wants_proxy = FORMATS[name]
            item = session.get(Item, entry["item_id"])
            assert item is not None and item.kind.value == kind, name
            assert item.access is AccessLevel.restricted
            assert item.collection is not None and item.collection.title == "Field tapes"
            media = item.media
            assert media is not None and media.original_name == name
            stored = data / archive.store.original_relpath(media.sha256)
            assert stored.read_bytes() == (Path(entry["path"])).read_bytes()
            kinds = {d.kind for d in media.derivatives}
            assert {"grid", "page"} <= kinds, name
            assert ("storyboard" in kinds) == (kind == "video"), name
            for d in media.derivatives:
                assert (data / d.path).is_file(), (name, d.kind)
            proxy_jobs = [j for j in item.jobs if j.kind == "make_proxy"]
            assert bool(proxy_jobs) == wants_proxy, name


def test_ingest_reads_gps_rotation_and_dates(ingested: Ingested) -> None:
    data, summary = ingested.data, ingested.summary
    archive = ingested.open()
    by_name = {Path(e["path"]).name: e["item_id"] for e in summary["ingested"]}
    with archive.Session() as session:
        phone = session.get(Item, by_name["phone.mov"])
        assert phone.media.rotation == 90
        assert phone.media.latitude == pytest.approx(41.4) and phone.media.longitude == pytest.approx(128.18)
        assert phone.date_shot == "2019-04-12"
        jpeg = session.get(Item, by_name["gps.jpg"])
        assert jpeg.media.latitude == pytest.approx(20.27, abs=1e-4)
        assert jpeg.media.longitude == pytest.approx(100.09, abs=1e-4)
        assert jpeg.media.camera_make == "Canon"
        assert jpeg.date_shot == "2019-05-02"


def test_derivatives_carry_no_gps(ingested: Ingested) -> None:
    data = ingested.data
    thumbs = list((data / "derivatives").rglob("*.webp"))
    assert thumbs
    for thumb in thumbs:
        with Image.open(thumb) as img:
            assert not img.getexif(), thumb
            assert "exif" not in img.info and "xmp" not in img.info, thumb


def test_ingest_twice_adds_nothing(ingested: Ingested, corpus: Path) -> None:
    data, first = ingested.data, ingested.summary
    code, again, stderr = ingest_json(data, str(corpus), database_url=ingested.database_url)
    assert code == 0
    assert again["ingested"] == [] and again["failed"] == []
    assert sorted((d["path"], d["item_id"]) for d in again["duplicates"]) == \
        sorted((i["path"], i["item_id"]) for i in first["ingested"])
    assert f"{len(FORMATS)} already in the archive" in stderr


def test_ingest_never_changes_originals(corpus: Path, tmp_path: Path, database_url: str) -> None:
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in corpus.iterdir()}
    source = corpus / "gps.jpg"
    code, summary, _ = ingest_json(tmp_path / "data", str(source), database_url=database_url)
    assert code == 0 and len(summary["ingested"]) == 1
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in corpus.iterdir()} == before


def test_proxy_job_makes_web_mp4_and_h264_gets_none(ingested: Ingested, tmp_path: Path, database_url: str,
                                                    store_backend: str, store_env: dict[str, str]) -> None:
    # Work on a copy of the module's archive so other tests see it unchanged.
    data, summary = ingested.data, ingested.summary
    code, one, _ = ingest_json(tmp_path / "d", str(Path(next(e["path"] for e in summary["ingested"]
                                                               if e["path"].endswith("hevc.mkv")))),
                                   database_url=database_url, env=store_env)
    assert code == 0
    result = crossings(tmp_path / "d", "worker", "--once", database_url=database_url, env=store_env)
    assert result.returncode == 0, result.stderr
    archive = open_archive(tmp_path / "d", database_url, store_env)
    with archive.Session() as session:
        job = session.scalars(select(Job)).one()
        assert job.state is JobState.done, job.error
        proxy = session.scalars(select(Derivative).where(Derivative.kind == "proxy")).one()
        with archive.store.fetch(proxy.path) as local:
            streams = probe(local)["streams"]
        video = next(s for s in streams if s["codec_type"] == "video")
        audio = next(s for s in streams if s["codec_type"] == "audio")
        assert video["codec_name"] == "h264" and audio["codec_name"] == "aac"
        assert int(video["height"]) <= 720


def test_failed_job_keeps_stderr_and_can_be_retried(corpus: Path, tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "d"
    code, _, _ = ingest_json(data, str(corpus / "mpeg4.avi"), database_url=database_url)
    assert code == 0
    # An unknown x264 preset makes ffmpeg fail with a message on stderr; one attempt only, so it stays failed.
    result = crossings(data, "worker", "--once", env={"CROSSINGS_PROXY_PRESET": "no-such-preset",
                                                      "CROSSINGS_JOB_MAX_ATTEMPTS": "1"}, database_url=database_url)
    assert result.returncode == 0
    archive = open_archive(data, database_url)
    with archive.Session() as session:
        job = session.scalars(select(Job)).one()
        assert job.state is JobState.failed
        assert "preset" in job.error.lower()
        job_id = job.id
    assert "failed" in crossings(data, "jobs", "list", database_url=database_url).stdout
    assert crossings(data, "jobs", "retry", str(job_id), database_url=database_url).returncode == 0
    assert crossings(data, "worker", "--once", database_url=database_url).returncode == 0
    with archive.Session() as session:
        job = session.get(Job, job_id)
        assert job.state is JobState.done and job.attempts == 2


# -- bad input -------------------------------------------------------------------------------

@pytest.fixture
def bad_folder(tmp_path: Path, corpus: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "empty.mp4").write_bytes(b"")
    truncate(corpus / "h264.mp4", folder / "cut short.mp4")
    make_text(folder / "minutes.mp4")
    make_text(folder / "notes.txt")
    make_png_bomb(folder / "bomb.png")
    (folder / "dangling.mov").symlink_to(folder / "gone.mov")
    (folder / "loop.mov").symlink_to(folder / "loop.mov")
    (folder / "again").symlink_to(folder)  # a folder loop
    os.mkfifo(folder / "pipe.mp4")
    odd = folder / "odd names"
    odd.mkdir()
    make_jpeg(odd / "한국어 사진.jpg", image=Image.new("RGB", (64, 48), "teal"))
    make_jpeg(odd / "new\nline.jpg", image=Image.new("RGB", (64, 48), "olive"))
    make_jpeg(Path(os.fsdecode(bytes(odd) + b"/latin1-\xe9t\xe9.jpg")), image=Image.new("RGB", (64, 48), "navy"))
    (folder / "good.jpg").write_bytes((corpus / "gps.jpg").read_bytes())
    return folder


def test_ingest_reports_each_bad_file_and_carries_on(bad_folder: Path, tmp_path: Path, database_url: str) -> None:
    code, summary, stderr = ingest_json(tmp_path / "data", str(bad_folder),
                                        env={"CROSSINGS_MAX_IMAGE_PIXELS": "50000000"}, database_url=database_url)
    assert code == 1
    failed = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert failed["empty.mp4"] == "empty file (0 bytes)"
    assert "truncated" in failed["cut short.mp4"] or "corrupt" in failed["cut short.mp4"]
    assert failed["minutes.mp4"] == "not a media file"
    assert failed["notes.txt"] == "not a media file"
    assert "decompression bomb" in failed["bomb.png"]
    assert failed["dangling.mov"] == "broken symbolic link"
    assert failed["loop.mov"] == "symbolic link loop"
    assert "symbolic link loop" in failed["again"]
    assert failed["pipe.mp4"] == "not a regular file (named pipe)"
    ingested = {Path(i["path"]).name for i in summary["ingested"]}
    assert ingested == {"good.jpg", "한국어 사진.jpg", "new\\nline.jpg", "latin1-\\xe9t\\xe9.jpg"}
    # Every regular file appears in exactly one list.
    listed = [e["path"] for key in ("ingested", "duplicates", "failed") for e in summary[key]]
    assert len(listed) == len(set(listed))
    assert regular_files(bad_folder) - set(listed) == set()
    assert "failed" in stderr and "bomb.png" in stderr


def test_ingest_reports_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        corpus: Path, database_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    secret = make_jpeg(folder / "locked.jpg", image=Image.new("RGB", (32, 32), "red"))
    make_jpeg(folder / "open.jpg", image=Image.new("RGB", (32, 32), "blue"))
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the store's read fail as it would for anyone else
        real_stage = Store.stage

        def stage(self: Store, source: Path) -> Any:
            if source.name == "locked.jpg":
                raise PermissionError(errno.EACCES, "Permission denied", str(source))
            return real_stage(self, source)
        monkeypatch.setattr(Store, "stage", stage)
    archive = open_archive(tmp_path / "data", database_url)
    report = ingest_paths(archive, [folder], IngestOptions())
    assert [Path(f["path"]).name for f in report.failed] == ["locked.jpg"]
    assert report.failed[0]["reason"] == "permission denied: cannot read the file"
    assert [Path(i["path"]).name for i in report.ingested] == ["open.jpg"]


def test_ingest_times_out_a_hanging_ffprobe(corpus: Path, tmp_path: Path, database_url: str) -> None:
    code, summary, _ = ingest_json(tmp_path / "data", str(corpus / "h264.mp4"), str(corpus / "gps.jpg"),
                                   env={"CROSSINGS_FFPROBE_TIMEOUT": "0.001"}, database_url=database_url)
    assert code == 1
    assert [Path(i["path"]).name for i in summary["ingested"]] == ["gps.jpg"]  # Pillow needs no ffprobe
    assert "timed out" in summary["failed"][0]["reason"]


def test_ingest_same_content_twice_in_one_batch(corpus: Path, tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (folder / name).write_bytes((corpus / "gps.jpg").read_bytes())
    code, summary, _ = ingest_json(tmp_path / "data", str(folder), database_url=database_url)
    assert code == 0
    assert len(summary["ingested"]) == 1 and len(summary["duplicates"]) == 2
    assert {d["item_id"] for d in summary["duplicates"]} == {summary["ingested"][0]["item_id"]}


def test_ingest_of_missing_path_fails_cleanly(tmp_path: Path, database_url: str) -> None:
    code, summary, _ = ingest_json(tmp_path / "data", str(tmp_path / "nowhere"), database_url=database_url)
    assert code == 1
    assert summary["failed"] == [{"path": str(tmp_path / "nowhere"), "reason": "no such file or directory"}]


# -- interruption ----------------------------------------------------------------------------

def test_killed_ingest_leaves_no_orphans_and_rerun_finishes(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for n in range(40):
        img = Image.effect_noise((1600, 1200), 60 + n).convert("RGB")
        img.save(folder / f"still-{n:02}.jpg", quality=95)
    for n in range(3):
        make_video(folder / f"clip-{n}.mkv", codec="libx265", duration=3, size=(640, 360))
    data = tmp_path / "data"
    env = {**os.environ, "CROSSINGS_DATA": str(data), "CROSSINGS_DATABASE_URL": database_url}
    said = tmp_path / "ingest.log"
    with open(said, "wb") as log:
        proc = subprocess.Popen([CROSSINGS, "ingest", str(folder)], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    # Watched through its own engine, without migrating: the ingest makes the schema itself.
    catalogue = make_engine(database_url or f"sqlite:///{data / 'crossings.sqlite3'}")
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with catalogue.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM media_files")).scalar_one()
        except DBAPIError:  # no database file or no table yet
            count = 0
        if count >= 5:
            break
        time.sleep(0.02)
    assert proc.poll() is None, ("the batch finished before it could be interrupted (make it bigger?); it said:\n"
                                 + said.read_text(errors="replace")[-3000:])
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    store = Store(data)
    with catalogue.connect() as conn:
        recorded = set(conn.execute(text("SELECT sha256 FROM media_files")).scalars())
        derived = list(conn.execute(text("SELECT path FROM derivatives")).scalars())
        in_flight = set(conn.execute(text("SELECT sha256 FROM store_intents")).scalars())
    catalogue.dispose()
    stored = {p.name for p in (data / "originals").rglob("*") if p.is_file()}
    assert 0 < len(recorded) < 43
    # No record without its file...
    assert all((data / store.original_relpath(sha)).is_file() for sha in recorded)
    assert all((data / path).is_file() for path in derived)
    # ...and a stored file without a record only while its intent says it was in flight, which
    # recovery clears once the intent is older than the lease (here at once).
    assert stored - recorded <= in_flight
    young = open_archive(data, database_url)
    young.recover()
    assert stored - recorded <= {p.name for p in (data / "originals").rglob("*") if p.is_file()}  # within its lease
    young.close()
    archive = Archive.open({"data": str(data), "database_url": database_url, "store_intent_lease_seconds": 0})
    archive.recover()
    assert {p.name for p in (data / "originals").rglob("*") if p.is_file()} == recorded
    assert [p for p in (data / "tmp").iterdir() if p.name != ".lock"] == []
    with archive.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM store_intents")).scalar_one() == 0

    code, summary, _ = ingest_json(data, str(folder), database_url=database_url)
    assert code == 0, summary["failed"]
    assert len(summary["ingested"]) + len(summary["duplicates"]) == 43
    assert len(summary["duplicates"]) == len(recorded)
    result = crossings(data, "verify", database_url=database_url)
    assert result.returncode == 0, result.stderr


def test_two_ingests_of_the_same_files_at_once_store_and_catalogue_each_once(corpus: Path, tmp_path: Path,
                                                                              database_url: str,
                                                                              store_backend: str, store_env: dict[str, str]) -> None:
    """Two machines ingesting overlapping folders: each content is one item and one stored file, and
    every file is in one of the two summaries as ingested and in the other as a duplicate."""
    data = tmp_path / "data"
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, names in ((first, ("gps.jpg", "h264.mp4", "voice.opus")), (second, ("gps.jpg", "h264.mp4", "scan.tif"))):
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes((corpus / name).read_bytes())
    assert crossings(data, "db", "upgrade", database_url=database_url, env=store_env).returncode == 0
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")},
           "CROSSINGS_DATA": str(data), "CROSSINGS_DATABASE_URL": database_url, **store_env}
    runs = [subprocess.Popen([CROSSINGS, "ingest", "--json", str(folder)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True) for folder in (first, second)]
    summaries = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        summaries.append(json.loads(out))

    ingested = [entry for summary in summaries for entry in summary["ingested"]]
    duplicates = [entry for summary in summaries for entry in summary["duplicates"]]
    assert sorted(Path(e["path"]).name for e in ingested) == ["gps.jpg", "h264.mp4", "scan.tif", "voice.opus"]
    assert sorted(Path(e["path"]).name for e in duplicates) == ["gps.jpg", "h264.mp4"]
    archive = open_archive(data, database_url, store_env)
    with archive.Session() as session:
        hashes = session.scalars(select(MediaFile.sha256)).all()
        assert len(hashes) == len(set(hashes)) == 4
        assert len(session.scalars(select(Item.id)).all()) == 4
    assert sorted(stored_originals(archive)) == sorted(hashes)
    assert crossings(data, "verify", database_url=database_url, env=store_env).returncode == 0


# -- fixity ----------------------------------------------------------------------------------

def test_verify_finds_missing_and_changed_files_and_repairs_derivatives(corpus: Path, tmp_path: Path, database_url: str,
                                                                       store_backend: str, store_env: dict[str, str]) -> None:
    data = tmp_path / "data"
    code, summary, _ = ingest_json(data, str(corpus / "h264.mp4"), str(corpus / "gps.jpg"),
                                   str(corpus / "voice.opus"), database_url=database_url, env=store_env)
    assert code == 0
    assert crossings(data, "verify", database_url=database_url, env=store_env).returncode == 0

    archive = open_archive(data, database_url, store_env)
    store = archive.store
    with archive.Session() as session:
        medias = {m.original_name: m for m in session.scalars(select(MediaFile))}
        video_story = medias["h264.mp4"].derivative("storyboard").path
        still_grid = medias["gps.jpg"].derivative("grid").path
    store.objects.delete(video_story)
    store.objects.delete(still_grid)
    result = crossings(data, "verify", database_url=database_url, env=store_env)
    assert result.returncode == 1
    assert "missing storyboard" in result.stderr and "missing grid" in result.stderr

    result = crossings(data, "verify", "--repair", database_url=database_url, env=store_env)
    assert result.returncode == 0, result.stderr
    assert store.is_stored(video_story) and store.is_stored(still_grid)
    assert crossings(data, "verify", database_url=database_url, env=store_env).returncode == 0
    # ffmpeg's local copies of the originals and its work folders are gone
    assert [p.name for p in (data / "tmp").iterdir() if p.name != ".lock"] == []

    tamper(archive, store.original_relpath(medias["voice.opus"].sha256), b"bit rot")
    other = store.original_relpath(medias["gps.jpg"].sha256)
    store.objects.delete(other)
    result = crossings(data, "verify", "--repair", "--json", database_url=database_url, env=store_env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [c["original_name"] for c in report["changed"]] == ["voice.opus"]
    assert [m["original_name"] for m in report["missing"]] == ["gps.jpg"]
    assert "CHANGED original" in result.stderr and "MISSING original" in result.stderr
    assert not store.is_stored(other)  # originals are never "repaired"


def test_ingest_writes_the_search_index_once_per_batch_and_leaves_nothing_behind(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from archive.access import SYSTEM
    from archive.models import SearchOutbox
    from archive.search import SearchRequest
    from archive.services import search_sync

    folder = tmp_path / "in"
    folder.mkdir()
    for n, colour in enumerate(("teal", "olive", "navy")):
        Image.new("RGB", (64, 48), colour).save(folder / f"mekong_{colour}_{n}.jpg")
    archive = open_archive(tmp_path / "data", database_url)
    syncs = []
    real_sync = search_sync.sync_index
    monkeypatch.setattr(search_sync, "sync_index", lambda a, **kw: syncs.append(1) or real_sync(a, **kw))
    report = ingest_paths(archive, [folder], IngestOptions())
    assert len(report.ingested) == 3
    assert len(syncs) == 1  # not one index commit per file
    with archive.Session() as session:
        assert session.scalars(select(SearchOutbox)).all() == []
    found = archive.index.search(SearchRequest(q="mekong"), SYSTEM)
    assert found.total_items == 3


# -- files with few or no decodable frames (issue 10 §4) -------------------------------------------

def _only(archive: Archive) -> tuple[Item, MediaFile, dict[str, Derivative], list[str]]:
    with archive.Session() as session:
        item = session.scalars(select(Item)).one()
        media = item.media
        derivatives = {d.kind: d for d in media.derivatives}
        job_kinds = [j.kind for j in session.scalars(select(Job))]
        session.expunge_all()
    return item, media, derivatives, job_kinds


@pytest.mark.parametrize("make", [
    lambda p: make_one_picture_recording(p.with_suffix(".mp4"), duration=3.0),
    lambda p: make_video(p.with_suffix(".webm"), codec="libvpx-vp9", duration=0.04, audio=False),
], ids=["sound-with-one-picture", "one-frame-webm"])
def test_ingest_takes_a_video_with_one_decodable_frame_with_a_warning(tmp_path: Path, archive: Archive,
                                                                      make: Any) -> None:
    src = make(tmp_path / "clip")
    report = ingest_paths(archive, [src], IngestOptions())
    assert not report.failed, report.failed
    [entry] = report.ingested
    item, media, derivatives, _ = _only(archive)
    assert item.kind.value == "video"
    assert derivatives["storyboard"].info["frame_times"] == [0.0]
    assert {"grid", "page"} <= set(derivatives)
    assert media.warnings == entry["warnings"] and "only 1 frame" in media.warnings[0]


def test_ingest_catalogues_a_video_whose_picture_never_decodes_as_sound(tmp_path: Path, archive: Archive) -> None:
    src = make_pictureless_video(tmp_path / "blind.mp4")
    report = ingest_paths(archive, [src], IngestOptions(**PUBLISHED))  # exact: no metadata-free proxy either
    assert not report.failed, report.failed
    item, media, derivatives, jobs = _only(archive)
    assert (item.kind.value, media.mime_type, media.audio_codec, media.video_codec) == ("audio", "audio/mp4", "aac", "")
    assert set(derivatives) == {"grid", "page"}  # a waveform, no storyboard
    assert media.warnings == [AS_AUDIO_WARNING]
    assert jobs == []  # sound needs no video proxy


def test_worker_turns_a_deferred_video_without_pictures_into_sound(tmp_path: Path, archive: Archive) -> None:
    from archive import worker
    src = make_pictureless_video(tmp_path / "blind.mp4")
    ingest_paths(archive, [src], IngestOptions(defer_thumbnails=True))
    worker.run(archive, once=True, log=lambda line: None)
    item, media, derivatives, _ = _only(archive)
    assert (item.kind.value, media.mime_type) == ("audio", "audio/mp4")
    assert set(derivatives) == {"grid", "page"}
    assert media.warnings == [AS_AUDIO_WARNING]
