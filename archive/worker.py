"""The worker: takes queued jobs from the database and runs them, a few at a time (worker_threads).

Jobs run in threads of one process: their heavy work is ffmpeg (a subprocess) or Pillow (C code
that releases the GIL). Workers on several machines share the jobs table: each claimed job is
leased to its worker, a heartbeat thread renews the lease while the job runs, and a job whose
worker died is taken again by another once the lease has run out (archive.services.jobs). Between
jobs each worker also queues the periodic jobs whose period has begun (archive.services.periodic).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from archive.interchange.bag_jobs import EXPORT_JOB, run_export
from archive.models import Job, JobState
from archive.services import jobs, periodic
from archive.services.access_copies import ACCESS_JOB, make_access_copy_for
from archive.services.fixity import FIXITY_JOB, run_nightly_check
from archive.services.ingest import PROXY_JOB, THUMBNAILS_JOB, make_thumbnails_for
from archive.services.jobs import JobFailed
from archive.services.proxies import make_proxy_for

if TYPE_CHECKING:
    from archive.core import Archive

HANDLERS: dict[str, Callable[[Archive, Job], None]] = {
    PROXY_JOB: make_proxy_for,
    THUMBNAILS_JOB: make_thumbnails_for,
    ACCESS_JOB: make_access_copy_for,
    FIXITY_JOB: run_nightly_check,
    EXPORT_JOB: run_export,  # bags admins ask for on /admin/exports
}


def schedules(settings: dict[str, Any]) -> list[periodic.Schedule]:
    """The periodic jobs these settings ask for."""
    if settings["fixity_days"] <= 0:
        return []
    return [periodic.Schedule(FIXITY_JOB, timedelta(days=1), timedelta(hours=settings["fixity_hour"] % 24))]


def start_periodic(archive: Archive, worker: str, now: datetime | None = None) -> list[Job]:
    """Queue the periodic jobs whose period has begun and has no run yet; return those this worker queued."""
    now = now or datetime.now(timezone.utc)
    started = []
    for schedule in schedules(archive.settings):
        with archive.Session() as session:
            if periodic.is_started(session, schedule, now):
                continue
        try:
            with archive.session() as session:
                started.append(periodic.start_period(session, schedule, now, worker=worker))
        except IntegrityError:
            continue  # another worker recorded this period first: it is that worker's to queue
    return started


def _heartbeat(archive: Archive, job: Job, stop: threading.Event, lost: threading.Event) -> None:
    lease = archive.settings["job_lease_seconds"]
    while not stop.wait(lease / 4):
        try:
            with archive.session() as session:
                if not jobs.renew_lease(session, job, lease):
                    lost.set()
                    return
        except Exception:  # a database hiccup: try again next beat, while the lease still holds
            continue


def work_one(archive: Archive, worker: str) -> Job | None:
    """Claim and run one job; return it as recorded afterwards, or None when nothing is due."""
    settings = archive.settings
    with archive.session() as session:
        job = jobs.claim_next(session, worker=worker, lease_seconds=settings["job_lease_seconds"],
                              max_attempts=settings["job_max_attempts"])
        if job is None:
            return None
        session.expunge(job)
    stop, lost = threading.Event(), threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(archive, job, stop, lost), daemon=True)
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
    # When the lease was lost (this process stalled past it and another worker took the job), the
    # guarded UPDATEs below change nothing: the other worker's attempt is the one that counts.
    with archive.session() as session:
        if error is None:
            jobs.complete(session, job)
        else:
            jobs.fail(session, job, error, max_attempts=settings["job_max_attempts"],
                      retry_seconds=settings["job_retry_seconds"])
    with archive.Session() as session:
        recorded = session.get(Job, job.id)
        if recorded is None:  # its item was deleted meanwhile
            return job
        session.expunge(recorded)
    return recorded


def outcome(job: Job) -> str:
    """One line on how a job's attempt ended, for the worker's log."""
    if job.state is JobState.running:
        return f"was taken over by {job.worker}: this worker's lease ran out before the job ended"
    last = (job.error.strip().splitlines() or [""])[-1]
    if job.state is JobState.done:
        return "done"
    if job.state is JobState.queued and job.not_before:
        return f"failed (attempt {job.attempts}), tried again from {job.not_before:%H:%M:%S} UTC: {last}"
    return f"failed: {last}"


def run(archive: Archive, *, once: bool = False, stop: threading.Event | None = None,
        log: Callable[[str], None] = print, threads: int | None = None, periodic: bool | None = None) -> int:
    """Work jobs until stopped (or, with `once`, until nothing is due); return how many ran.

    `threads` (default: the worker_threads setting) jobs run at once, each thread taking the next
    queued job as it finishes one. `periodic` (default: unless `once`) also queues the periodic
    jobs as their periods begin: a worker draining the queue once is no scheduler.
    """
    periodic = not once if periodic is None else periodic
    name = jobs.worker_name()
    stop = stop or threading.Event()
    threads = max(1, threads or archive.settings["worker_threads"])
    ran = [0] * threads
    archive.recover()

    def loop(slot: int) -> None:
        me = name if threads == 1 else f"{name}/{slot + 1}"
        while not stop.is_set():
            for started in start_periodic(archive, me) if periodic else ():
                log(f"job {started.id} ({started.kind}) queued for this period")
            job = work_one(archive, me)
            if job is None:
                if once:
                    return
                stop.wait(archive.settings["worker_poll_seconds"])
                continue
            ran[slot] += 1
            log(f"job {job.id} ({job.kind}, item {job.item_id}) {outcome(job)}")

    if threads == 1:
        loop(0)
        return ran[0]
    # Daemon threads: Ctrl-C ends the process at once, as with one thread; a job cut short stays
    # "running" until its lease runs out (job_lease_seconds) and is then taken again.
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
