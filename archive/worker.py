"""The worker: takes queued jobs from the database and runs them, a few at a time (worker_threads).

Jobs run in threads of one process: their heavy work is ffmpeg (a subprocess) or Pillow (C code
that releases the GIL), and each thread claims its jobs with the same atomic UPDATE that keeps
two worker processes apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import update

from archive.models import Job, JobState
from archive.services import jobs
from archive.services.access_copies import ACCESS_JOB, make_access_copy_for
from archive.services.ingest import PROXY_JOB, THUMBNAILS_JOB, make_thumbnails_for
from archive.services.jobs import JobFailed
from archive.services.proxies import make_proxy_for

if TYPE_CHECKING:
    from archive.core import Archive

HANDLERS: dict[str, Callable[[Archive, Job], None]] = {
    PROXY_JOB: make_proxy_for,
    THUMBNAILS_JOB: make_thumbnails_for,
    ACCESS_JOB: make_access_copy_for,
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
        with archive.store.working():  # an ingest starting meanwhile must not clear this job's tmp/ folder
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
        log: Callable[[str], None] = print, threads: int | None = None) -> int:
    """Work jobs until stopped (or, with `once`, until the queue is empty); return how many ran.

    `threads` (default: the worker_threads setting) jobs run at once, each thread taking the next
    queued job as it finishes one.
    """
    name = jobs.worker_name()
    stop = stop or threading.Event()
    threads = max(1, threads or archive.settings["worker_threads"])
    ran = [0] * threads
    archive.recover()

    def loop(slot: int) -> None:
        while not stop.is_set():
            job = work_one(archive, name if threads == 1 else f"{name}/{slot + 1}")
            if job is None:
                if once:
                    return
                stop.wait(archive.settings["worker_poll_seconds"])
                continue
            ran[slot] += 1
            outcome = "done" if job.state is JobState.done else f"failed: {(job.error.splitlines() or [''])[-1]}"
            log(f"job {job.id} ({job.kind}, item {job.item_id}) {outcome}")

    if threads == 1:
        loop(0)
        return ran[0]
    # Daemon threads: Ctrl-C ends the process at once, as with one thread; a job cut short stays
    # "running" until job_stale_seconds pass and is then queued again.
    pool = [threading.Thread(target=loop, args=(slot,), name=f"worker-{slot + 1}", daemon=True)
            for slot in range(threads)]
    for thread in pool:
        thread.start()
    try:
        for thread in pool:
            while thread.is_alive():
                thread.join(0.5)  # in slices: a plain join() would not let Ctrl-C through
    finally:
        stop.set()
    return sum(ran)
