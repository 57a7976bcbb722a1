"""Periodic jobs: queued once per period, whichever of the workers (on any machine) looks first.

No scheduler process: every worker, as it polls, asks whether a periodic job's current period has
a run yet, and tries to insert one. The unique (name, period_start) of periodic_runs lets exactly
one insert succeed on SQLite and PostgreSQL alike; that transaction also queues the job, so the
run itself is an ordinary job with a lease, retries and its reasons kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Job, PeriodicRun
from archive.services import jobs

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Schedule:
    """A job of kind `name` due once every `period`, periods beginning `offset` after midnight UTC."""
    name: str
    period: timedelta
    offset: timedelta = timedelta(0)

    def period_start(self, now: datetime) -> datetime:
        """When the period that `now` falls in began."""
        origin = EPOCH + self.offset
        return origin + ((now - origin) // self.period) * self.period


def is_started(session: Session, schedule: Schedule, now: datetime) -> bool:
    """Has the current period's run been queued already? (A cheap look before trying to insert.)"""
    start = schedule.period_start(now)
    return session.scalar(select(PeriodicRun.id).where(PeriodicRun.name == schedule.name,
                                                       PeriodicRun.period_start == start)) is not None


def start_period(session: Session, schedule: Schedule, now: datetime, *, worker: str) -> Job:
    """Record this period's run and queue its job.

    Raises sqlalchemy.exc.IntegrityError (at the flush, before the job is queued) when another
    worker recorded it first: the caller rolls back and leaves the period to that worker.
    """
    start = schedule.period_start(now)
    run = PeriodicRun(name=schedule.name, period_start=start, worker=worker)
    session.add(run)
    session.flush()
    job = jobs.enqueue(session, schedule.name, payload={"period_start": start.isoformat()})
    run.job_id = job.id
    session.flush()
    return job


def recent_runs(session: Session, name: str, limit: int = 10) -> list[PeriodicRun]:
    return list(session.scalars(select(PeriodicRun).where(PeriodicRun.name == name)
                                .order_by(PeriodicRun.period_start.desc()).limit(limit)))
