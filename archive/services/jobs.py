"""Background jobs kept in the database: enqueue, claim, finish, fail, retry.

The interface is deliberately small (enqueue / claim_next / complete / fail / retry) so that a
real queue such as RQ or Celery can take over the running of jobs without touching callers.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
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


def claim_next(session: Session, *, worker: str, stale_after: float) -> Job | None:
    """Take the oldest queued job (or one whose worker went silent); None when there is none.

    The state change is one conditional UPDATE, so two workers never take the same job.
    """
    now = datetime.now(timezone.utc)
    stale = now - timedelta(seconds=stale_after)
    candidates = session.scalars(
        select(Job.id).where(or_(Job.state == JobState.queued,
                                 (Job.state == JobState.running) & (Job.heartbeat_at < stale)))
        .order_by(Job.id).limit(5)).all()
    for job_id in candidates:
        taken = session.execute(
            update(Job).where(Job.id == job_id, or_(Job.state == JobState.queued,
                                                    (Job.state == JobState.running) & (Job.heartbeat_at < stale)))
            .values(state=JobState.running, worker=worker, started_at=now, heartbeat_at=now,
                    attempts=Job.attempts + 1, error="")
            .execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            job = session.get(Job, job_id)
            assert job is not None
            session.refresh(job)
            return job
    return None


def complete(session: Session, job: Job) -> None:
    job.state = JobState.done
    job.finished_at = datetime.now(timezone.utc)
    session.flush()


def fail(session: Session, job: Job, error: str) -> None:
    """Record the failure with its message (ffmpeg's stderr included), keeping it for retry."""
    job.state = JobState.failed
    job.error = error
    job.finished_at = datetime.now(timezone.utc)
    session.flush()


def retry(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id}")
    if job.state is not JobState.failed:
        raise Invalid(f"job {job_id} is {job.state.value}; only failed jobs can be retried", "job")
    job.state = JobState.queued
    job.finished_at = None
    session.flush()
    return job


def list_jobs(session: Session, *, state: JobState | None = None, limit: int = 200) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(Job.state == state)
    return list(session.scalars(stmt))


