"""Thumbnails left to the worker: `crossings ingest --defer-thumbnails` and the make_thumbnails job."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from archive import worker
from archive.core import Archive
from archive.models import Item, Job, JobState, MediaFile
from archive.services.fixity import verify_store
from archive.services.ingest import PROXY_JOB, THUMBNAILS_JOB, IngestOptions, ingest_paths, thumbnail_kinds
from archive.web.pages import THUMBNAILS_NOTE
from conftest import PUBLISHED
from mediagen import make_audio, make_jpeg, make_tiff, make_video
from test_ingest import crossings, ingest_json


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("incoming")
    # Orientation 6: the picture must come out upright (480 wide) from the worker as from ingest.
    make_jpeg(folder / "portrait.jpg", size=(640, 480), orientation=6, gps=(41.4, 128.18))
    make_tiff(folder / "scan.tif")
    make_video(folder / "clip.mp4", duration=3.0, black_seconds=1.0)
    make_video(folder / "tape.mkv", codec="libx265", duration=2.0)
    make_audio(folder / "voice.opus", duration=2.0)
    return folder


def derivative_shapes(archive: Archive) -> dict[str, dict[str, tuple[str, int | None, int | None]]]:
    """{original name: {kind: (mime, width, height)}} of every thumbnail-like derivative."""
    with archive.Session() as session:
        return {m.original_name: {d.kind: (d.mime_type, d.width, d.height) for d in m.derivatives if d.kind != "proxy"}
                for m in session.scalars(select(MediaFile))}


def item_ids(archive: Archive) -> dict[str, int]:
    with archive.Session() as session:
        return {m.original_name: m.item_id for m in session.scalars(select(MediaFile))}


def test_deferred_ingest_records_items_and_the_worker_makes_the_same_thumbnails(
        files: Path, archive: Archive, client: Any, tmp_path: Path, store_backend: str) -> None:
    report = ingest_paths(archive, [files], IngestOptions(defer_thumbnails=True, **PUBLISHED))
    assert report.ok and len(report.ingested) == 5
    ids = item_ids(archive)
    with archive.Session() as session:
        assert session.scalars(select(MediaFile).where(MediaFile.derivatives.any())).all() == []
        queued = [(job.kind, job.item_id, job.state) for job in session.scalars(select(Job).order_by(Job.id))]
    thumbnail_jobs = [(item, state) for kind, item, state in queued if kind == THUMBNAILS_JOB]
    assert sorted(thumbnail_jobs) == sorted((i, JobState.queued) for i in ids.values())
    # The HEVC clip's proxy is queued after its thumbnails, so one worker makes the thumbnails first.
    assert [k for k, item, _ in queued if item == ids["tape.mkv"]] == [THUMBNAILS_JOB, PROXY_JOB]
    assert list(archive.store.objects.keys("derivatives")) == []

    # Meanwhile the pages work: the grid shows the kind, the item page says what is pending.
    browse = client.get("/items").get_data(as_text=True)
    assert browse.count('class="card__placeholder"') == 5
    page = client.get(f"/items/{ids['portrait.jpg']}").get_data(as_text=True)
    assert THUMBNAILS_NOTE in page and "Thumbnails" in page
    # A JPEG shows as it is; a TIFF, which browsers cannot show, waits for its page image.
    assert f'src="/items/{ids["portrait.jpg"]}/original' in page
    scan = client.get(f"/items/{ids['scan.tif']}").get_data(as_text=True)
    assert THUMBNAILS_NOTE in scan and "<img" not in scan.split('id="player"', 1)[1].split("</section>", 1)[0]
    assert client.get(f"/items/{ids['clip.mp4']}/thumbs/grid").status_code == 404

    assert worker.run(archive, once=True, log=lambda line: None) == 6  # 5 thumbnails, 1 proxy
    with archive.Session() as session:
        assert {job.state for job in session.scalars(select(Job))} == {JobState.done}
        kinds = {m.original_name: (m.item.kind, {d.kind for d in m.derivatives} - {"proxy"})
                 for m in session.scalars(select(MediaFile))}
    assert all(made == thumbnail_kinds(kind) for kind, made in kinds.values()), kinds

    # The same files ingested the usual way get derivatives of the same format and size.
    inline = Archive.open({"data": str(tmp_path / "inline")})
    try:
        assert ingest_paths(inline, [files], IngestOptions(**PUBLISHED)).ok
        assert derivative_shapes(archive) == derivative_shapes(inline)
    finally:
        inline.close()
    portrait = derivative_shapes(archive)["portrait.jpg"]
    assert portrait["page"][1:] == (480, 640)  # upright
    with archive.Session() as session:
        grid = session.scalars(select(MediaFile).where(MediaFile.original_name == "portrait.jpg")).one().derivative("grid")
        with archive.store.fetch(grid.path) as local, Image.open(local) as img:
            assert "exif" not in img.info and not img.getexif()

    page = client.get(f"/items/{ids['portrait.jpg']}").get_data(as_text=True)
    assert THUMBNAILS_NOTE not in page
    assert client.get(f"/items/{ids['clip.mp4']}/thumbs/grid").status_code == 200
    assert client.get("/items").get_data(as_text=True).count('class="card__placeholder"') == 0
    assert verify_store(archive, archive.Session()).intact


def test_a_failed_thumbnails_job_keeps_its_reason_and_verify_queues_it_again(files: Path, archive: Archive) -> None:
    report = ingest_paths(archive, [files / "portrait.jpg"], IngestOptions(defer_thumbnails=True))
    item_id = report.ingested[0]["item_id"]
    with archive.Session() as session:
        sha = session.scalars(select(MediaFile)).one().sha256
    original = archive.store.root / archive.store.original_relpath(sha)
    kept = original.read_bytes()
    original.chmod(0o644)
    original.write_bytes(kept[:len(kept) // 3])  # cut short, as a disk error would

    archive.settings["job_max_attempts"] = 1  # its last attempt: it stays failed rather than waiting to retry
    worker.run(archive, once=True, log=lambda line: None)
    with archive.Session() as session:
        job = session.scalars(select(Job)).one()
        assert job.state is JobState.failed and job.kind == THUMBNAILS_JOB
        assert "portrait.jpg" not in job.error and job.error  # the stored copy's reason, not a crash
        assert "unexpected error" not in job.error

    with archive.session() as session:  # fixity sees the changed original and the thumbnails never made
        report = verify_store(archive, session, repair=True)
    assert not report.intact
    assert [c["item_id"] for c in report.changed] == [item_id]
    assert sorted(m["kind"] for m in report.missing_derivatives) == ["grid", "page"]
    assert report.repaired == []  # a changed original is no source for thumbnails

    original.write_bytes(kept)  # restored from a good copy
    with archive.session() as session:
        report = verify_store(archive, session, repair=True)
    assert sorted((r["kind"], r["how"]) for r in report.repaired) == [("grid", "queued for the worker"),
                                                                       ("page", "queued for the worker")]
    with archive.session() as session:
        assert verify_store(archive, session).intact  # queued again: pending, not missing
    worker.run(archive, once=True, log=lambda line: None)
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert {d.kind for d in item.media.derivatives} == {"grid", "page"}
        assert [j.state for j in session.scalars(select(Job).order_by(Job.id))] == [JobState.failed, JobState.done]


def test_worker_threads_run_every_job_once(files: Path, archive: Archive) -> None:
    ingest_paths(archive, [files / "portrait.jpg", files / "scan.tif", files / "voice.opus"],
                 IngestOptions(defer_thumbnails=True))
    names: list[str] = []
    lock = threading.Lock()

    def seen(line: str) -> None:
        with lock:
            names.append(threading.current_thread().name)

    # three thumbnail jobs, and the recording's metadata-free proxy: at the default precision
    # (about 10 km) nobody but editors gets its original
    assert worker.run(archive, once=True, threads=2, log=seen) == 4
    with archive.Session() as session:
        jobs = session.scalars(select(Job)).all()
        assert [(j.state, j.attempts) for j in jobs] == [(JobState.done, 1)] * 4
        assert all(j.worker.rsplit("/", 1)[-1] in ("1", "2") for j in jobs)
    assert set(names) <= {"worker-1", "worker-2"} and len(names) == 4


def test_a_running_job_keeps_its_work_folder_when_an_ingest_starts(archive: Archive, monkeypatch: Any) -> None:
    survived: list[bool] = []

    def handler(archive: Archive, job: Job) -> None:
        work = archive.store.staging_dir()
        (work / "half-made.webp").write_bytes(b"...")
        archive.recover()  # what `crossings ingest` does first, from another process
        survived.append((work / "half-made.webp").is_file())

    monkeypatch.setitem(worker.HANDLERS, "test_job", handler)
    with archive.session() as session:
        session.add(Job(kind="test_job", payload={}, state=JobState.queued))
    job = worker.work_one(archive, "test")
    assert job is not None and job.state is JobState.done, job.error if job else None
    assert survived == [True]


def test_cli_defers_by_flag_or_setting_and_says_what_is_left(files: Path, tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "d"
    code, summary, stderr = ingest_json(data, "--defer-thumbnails", str(files / "portrait.jpg"), database_url=database_url)
    assert code == 0 and len(summary["ingested"]) == 1
    assert "thumbnails of 1 item are left to the worker" in stderr
    code, summary, stderr = ingest_json(data, str(files / "voice.opus"), env={"CROSSINGS_DEFER_THUMBNAILS": "true"}, database_url=database_url)
    assert code == 0 and "left to the worker" in stderr
    code, summary, stderr = ingest_json(data, "--thumbnails-now", str(files / "scan.tif"),
                                        env={"CROSSINGS_DEFER_THUMBNAILS": "true"}, database_url=database_url)
    assert code == 0 and "left to the worker" not in stderr
    archive = Archive.open({"data": str(data), "database_url": database_url})
    try:
        shapes = derivative_shapes(archive)
        assert shapes["portrait.jpg"] == {} and shapes["voice.opus"] == {}
        assert set(shapes["scan.tif"]) == {"grid", "page"}
        result = crossings(data, "verify", database_url=database_url)
        assert result.returncode == 0, result.stderr  # pending thumbnails are not missing ones
        result = crossings(data, "worker", "--once", database_url=database_url)
        # the two deferred thumbnails, and the recording's proxy (withheld at the default precision)
        assert result.returncode == 0 and "3 job(s) run" in result.stderr
        assert "(make_proxy, item 2) done" in result.stderr
        assert set(derivative_shapes(archive)["voice.opus"]) == {"grid", "page"}
    finally:
        archive.close()
