"""Background jobs kept in the database: enqueue, claim, finish, fail, retry.

The interface is deliberately small (enqueue / claim_next / renew_lease / complete / fail / retry).
Workers on several machines share the table: a claimed job is leased to its worker, which renews
the lease while it works; see docs/architecture.md ("Jobs") for why this table rather than a
queue server.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from archive.models import Job, JobState, MediaFile
from archive.services import Invalid, NotFound


class JobFailed(Exception):
    """A job could not be done; the message (with ffmpeg's stderr) is kept on the job."""


def enqueue(session: Session, kind: str, *, item_id: int | None = None,
            payload: dict[str, Any] | None = None) -> Job:
    """Queue a job unless an identical one is already queued or running."""
    payload = payload or {}
    existing = session.scalars(select(Job).where(
        Job.kind == kind, Job.item_id == item_id,
        Job.state.in_([JobState.queued, JobState.running]))).all()
    for job in existing:
        if job.payload == payload:
            return job
    job = Job(kind=kind, item_id=item_id, payload=payload, state=JobState.queued)
    session.add(job)
    session.flush()
    return job


def media_file_of(session: Session, job: Job) -> MediaFile:
    """The stored file a job works on (its payload names the checksum); JobFailed when it is gone."""
    sha = job.payload.get("sha256", "")
    media = session.scalar(select(MediaFile).where(MediaFile.sha256 == sha))
    if media is None:
        raise JobFailed(f"no stored file with checksum {sha!r} (was its item deleted?)")
    return media


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


#: Rounds of picking before claim_next gives up for now: each round may lose every candidate to
#: other workers (SQLite) or give up on jobs whose workers kept dying.
CLAIM_ROUNDS = 10


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Queued and due, or running under a lease that has run out (its worker was killed or cut off)."""
    due = (Job.state == JobState.queued) & or_(Job.not_before.is_(None), Job.not_before <= now)
    return or_(due, (Job.state == JobState.running) & (Job.lease_until < now))


def _failure(attempt: int, worker: str, error: str, at: datetime) -> dict[str, Any]:
    return {"attempt": attempt, "at": at.isoformat(timespec="seconds"), "worker": worker, "error": error}


def _lost_reason(lease_until: datetime | None) -> str:
    # Without the worker's name: reasons are shown on item pages, the failure record keeps it.
    until = f" at {lease_until:%Y-%m-%d %H:%M:%S} UTC" if lease_until else ""
    return f"the worker stopped renewing its lease (killed, or cut off from the database); it ran out{until}"


def claim_next(session: Session, *, worker: str, lease_seconds: float, max_attempts: int) -> Job | None:
    """Take the oldest due job, or one whose lease ran out; None when there is none.

    On PostgreSQL the row is picked with SELECT ... FOR UPDATE SKIP LOCKED, so workers on many
    machines each lock a different row instead of queueing behind one; SQLite (one machine, one
    writer at a time) picks candidates and takes one with a conditional UPDATE. Either way a job
    is held by one worker at a time: it is only claimable again once its lease has passed.
    A job whose lease ran out is a failed attempt (its worker is gone); after max_attempts it
    stays failed instead of killing one worker after another.
    """
    now = _now()
    locking = session.get_bind().dialect.name == "postgresql"
    pick = select(Job.id, Job.state, Job.worker, Job.lease_until, Job.attempts, Job.failures) \
        .where(_claimable(now)).order_by(Job.id)
    pick = pick.limit(1).with_for_update(skip_locked=True) if locking else pick.limit(5)
    for _ in range(CLAIM_ROUNDS):
        rows = session.execute(pick).all()
        if not rows:
            return None
        for job_id, state, previous, lease_until, attempts, failures in rows:
            values: dict[str, Any] = {"state": JobState.running, "worker": worker, "started_at": now,
                                      "heartbeat_at": now, "lease_until": now + timedelta(seconds=lease_seconds),
                                      "attempts": attempts + 1, "not_before": None}
            if state is JobState.running:
                reason = _lost_reason(lease_until)
                values.update(error=reason, failures=[*failures, _failure(attempts, previous, reason, now)])
                if attempts >= max_attempts:
                    values.update(state=JobState.failed, finished_at=now, lease_until=None, attempts=attempts,
                                  worker=previous)
            # The same condition again, and the attempt seen: on SQLite another worker may have taken
            # the row since it was read; on PostgreSQL the row lock makes this always succeed.
            taken = session.execute(update(Job).where(Job.id == job_id, Job.attempts == attempts, _claimable(now))
                                    .values(**values).execution_options(synchronize_session=False))
            if taken.rowcount != 1 or values["state"] is JobState.failed:
                continue
            job = session.get(Job, job_id)
            assert job is not None
            session.refresh(job)
            return job
    return None


def _held(job: Job) -> ColumnElement[bool]:
    """The job is still this worker's, on this attempt: a worker that lost its lease (and whose
    job another worker has taken since) must not record the outcome over the new attempt."""
    return (Job.id == job.id) & (Job.state == JobState.running) & (Job.worker == job.worker) \
        & (Job.attempts == job.attempts)


def _expire(session: Session, job: Job) -> None:
    # The worker passes the job it claimed in another session (detached); a job of this session
    # must not keep the values from before the UPDATE.
    if job in session:
        session.expire(job)


def renew_lease(session: Session, job: Job, lease_seconds: float) -> bool:
    """Move the job's lease on; False when it is no longer this worker's."""
    now = _now()
    renewed = session.execute(update(Job).where(_held(job))
                              .values(heartbeat_at=now, lease_until=now + timedelta(seconds=lease_seconds))
                              .execution_options(synchronize_session=False))
    return renewed.rowcount == 1


def complete(session: Session, job: Job) -> bool:
    """Record the job as done; False (and nothing recorded) when its lease was lost meanwhile."""
    now = _now()
    done = session.execute(update(Job).where(_held(job))
                           .values(state=JobState.done, finished_at=now, lease_until=None, error="")
                           .execution_options(synchronize_session=False))
    _expire(session, job)
    return done.rowcount == 1


def fail(session: Session, job: Job, error: str, *, max_attempts: int, retry_seconds: float) -> bool:
    """Record a failed attempt with its reason (ffmpeg's stderr included).

    Before the last attempt the job is queued again after a wait that doubles with each failure
    (retry_seconds, 2x, 4x...), so a passing trouble (a full disk, a database restart) has time to
    pass; after it, the job stays failed until someone retries it. False when the lease was lost.
    """
    now = _now()
    failures = [*job.failures, _failure(job.attempts, job.worker, error, now)]
    values: dict[str, Any] = {"error": error, "failures": failures, "lease_until": None}
    if job.attempts < max_attempts:
        wait = retry_seconds * 2 ** (len(failures) - 1)
        values.update(state=JobState.queued, not_before=now + timedelta(seconds=wait))
    else:
        values.update(state=JobState.failed, finished_at=now)
    recorded = session.execute(update(Job).where(_held(job)).values(**values)
                               .execution_options(synchronize_session=False))
    _expire(session, job)
    return recorded.rowcount == 1


def retry(session: Session, job_id: int) -> Job:
    """Queue a failed job again, at once, for one more attempt; its earlier reasons are kept."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id}")
    if job.state is not JobState.failed:
        raise Invalid(f"job {job_id} is {job.state.value}; only failed jobs can be retried", "job")
    job.state = JobState.queued
    job.not_before = None
    job.finished_at = None
    session.flush()
    return job


def list_jobs(session: Session, *, state: JobState | None = None, limit: int = 200) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(Job.state == state)
    return list(session.scalars(stmt))


