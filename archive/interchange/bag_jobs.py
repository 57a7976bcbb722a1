"""Bags made by the worker for admins on the web (/admin/exports): queued as jobs, progress kept on the job's
payload, finished bags kept under <data root>/exports/<job id>/ and downloaded as one streamed .tar."""

from __future__ import annotations

import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.access import ANONYMOUS, SYSTEM, Viewer
from archive.interchange.bag_export import export_bag
from archive.interchange.selection import Selection
from archive.models import AuditEntry, Job, JobState
from archive.services import Invalid, NotFound, jobs
from archive.store import CHUNK

EXPORT_JOB = "export_bag"
SCOPES = ("whole", "collection", "journey")
#: Seconds between two writes of an export's progress to its job.
PROGRESS_EVERY = 1.0


def exports_dir(data_root: Path) -> Path:
    return data_root / "exports"


def bag_path(data_root: Path, job_id: int) -> Path:
    return exports_dir(data_root) / str(job_id) / "bag"


def queue_export(session: Session, viewer: Viewer, *, scope: str, scope_id: int | None, public: bool) -> Job:
    """Queue a bag of the whole archive, a collection or a journey, made as `viewer` (an admin) or, when
    `public`, as anyone would see it."""
    if scope not in SCOPES:
        raise Invalid(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    if scope != "whole" and scope_id is None:
        raise Invalid(f"give the {scope}'s id", "scope_id")
    return jobs.enqueue(session, EXPORT_JOB, payload={
        "scope": scope, "scope_id": scope_id if scope != "whole" else None, "public": public,
        "by": viewer.name, "files_done": 0, "files_total": None, "bytes_done": 0, "bytes_total": None})


def list_exports(session: Session, limit: int = 50) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.kind == EXPORT_JOB).order_by(Job.id.desc()).limit(limit)))


def _selection(payload: dict[str, Any]) -> Selection:
    if payload["scope"] == "collection":
        return Selection(collection_id=payload["scope_id"])
    if payload["scope"] == "journey":
        return Selection(journey_id=payload["scope_id"])
    return Selection()


def run_export(archive: Any, job: Job) -> None:
    """The worker's handler: make the job's bag (as SYSTEM, or ANONYMOUS when public), writing its progress."""
    payload = dict(job.payload)
    out = bag_path(archive.data_root, job.id)
    if out.exists():  # an earlier attempt that finished its rename but not its job: make it again
        shutil.rmtree(out)
    last = 0.0

    def progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_EVERY and done < total:
            return
        last = now
        payload.update(files_done=done, files_total=total, bytes_done=done_bytes, bytes_total=total_bytes)
        with archive.engine.begin() as conn:  # its own transaction, so the page sees it while the bag grows
            conn.execute(update(Job.__table__).where(Job.__table__.c.id == job.id).values(payload=dict(payload)))

    public = bool(payload.get("public"))
    with archive.Session() as session:
        try:
            report = export_bag(session, ANONYMOUS if public else SYSTEM, archive.store, archive.index,
                                _selection(payload), out, identity=archive.identity, public=public, progress=progress)
        except (NotFound, Invalid) as exc:
            raise jobs.JobFailed(str(exc)) from exc
    payload.update(items=report.items, files=report.files, bytes=report.bytes, backup=report.backup)
    with archive.engine.begin() as conn:
        conn.execute(update(Job.__table__).where(Job.__table__.c.id == job.id).values(payload=payload))


def finished_bag(session: Session, data_root: Path, job_id: int) -> Path:
    """The folder of a finished export (NotFound while it is not done, or when it is gone)."""
    job = session.get(Job, job_id)
    if job is None or job.kind != EXPORT_JOB or job.state is not JobState.done:
        raise NotFound(f"export {job_id}")
    path = bag_path(data_root, job_id)
    if not (path / "bagit.txt").is_file():
        raise NotFound(f"export {job_id}")
    return path


def record_download(session: Session, viewer: Viewer, job_id: int) -> None:
    """The audit trail's entry for a bag taken away (it may hold the whole archive)."""
    session.add(AuditEntry(user_id=viewer.user_id, actor=viewer.name, action="download_bag", object_type="bag",
                           object_id=job_id, object_label=f"export {job_id}", changes={}))


def stream_tar(path: Path, name: str) -> Iterator[bytes]:
    """The bag folder as an uncompressed POSIX tar under `name`/, made while it is sent: a header, then the
    file a megabyte at a time, never the whole bag in memory or on disk (hard-linked originals go in as the
    files they are, so the tar stands on its own)."""
    for file in sorted(path.rglob("*")):
        stat = file.stat()
        info = tarfile.TarInfo(f"{name}/{file.relative_to(path).as_posix()}")
        info.mtime = int(stat.st_mtime)
        if file.is_dir():
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        info.size, info.mode = stat.st_size, 0o644
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        sent = 0
        with open(file, "rb") as fh:
            while chunk := fh.read(CHUNK):
                sent += len(chunk)
                yield chunk
        if sent != info.size:
            raise OSError(f"{file}: changed while it was sent")
        yield b"\0" * (-sent % tarfile.BLOCKSIZE)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)  # the end of the archive
