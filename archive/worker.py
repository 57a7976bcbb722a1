"""The worker: takes queued jobs from the database and runs them, one at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import update

from archive.models import Job, JobState
from archive.services import jobs
from archive.services.ingest import PROXY_JOB
from archive.services.proxies import JobFailed, make_proxy_for

if TYPE_CHECKING:
    from archive.core import Archive

HANDLERS: dict[str, Callable[[Archive, Job], None]] = {
    PROXY_JOB: make_proxy_for,
}


def _heartbeat(archive: Archive, job_id: int, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        with archive.session() as session:
            session.execute(update(Job).where(Job.id == job_id)
                            .values(heartbeat_at=datetime.now(timezone.utc)))


def work_one(archive: Archive, worker: str) -> Job | None:
    """Claim and run one job; return it (done or failed), or None when the queue is empty."""
    with archive.session() as session:
        job = jobs.claim_next(session, worker=worker, stale_after=archive.settings["job_stale_seconds"])
        if job is None:
            return None
        session.expunge(job)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(archive, job.id, stop,
                                                     max(archive.settings["job_stale_seconds"] / 4, 1.0)),
                            daemon=True)
    beat.start()
    error = None
    try:
        handler = HANDLERS.get(job.kind)
        if handler is None:
            raise JobFailed(f"no handler for jobs of kind {job.kind!r}")
        handler(archive, job)
    except JobFailed as exc:
        error = str(exc)
    except Exception as exc:  # the worker must outlive any one job
        error = f"unexpected error: {type(exc).__name__}: {exc}"
    finally:
        stop.set()
        beat.join()
    with archive.session() as session:
        job = session.merge(job)
        if error is None:
            jobs.complete(session, job)
        else:
            jobs.fail(session, job, error)
    return job


def run(archive: Archive, *, once: bool = False, stop: threading.Event | None = None,
        log: Callable[[str], None] = print) -> int:
    """Work jobs until stopped (or, with `once`, until the queue is empty); return how many ran."""
    name = jobs.worker_name()
    stop = stop or threading.Event()
    count = 0
    archive.recover()
    while not stop.is_set():
        job = work_one(archive, name)
        if job is None:
            if once:
                break
            stop.wait(archive.settings["worker_poll_seconds"])
            continue
        count += 1
        outcome = "done" if job.state is JobState.done else f"failed: {(job.error.splitlines() or [''])[-1]}"
        log(f"job {job.id} ({job.kind}, item {job.item_id}) {outcome}")
    return count
