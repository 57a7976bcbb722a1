"""Jobs shared by several workers: leases, retries with backoff, periodic runs, the nightly fixity check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from archive import worker
from archive.core import Archive
from archive.models import FixityCheck, FixityResult, Job, JobState, MediaFile, PeriodicRun
from archive.services import jobs, periodic
from archive.services.fixity import FIXITY_JOB, check_original, run_nightly_check
from archive.services.jobs import JobFailed
from conftest import log_in
from test_ingest import CROSSINGS
from test_web import add_item

HERE = Path(__file__).resolve().parent
LEASE = 2.0  #: seconds: short, so that a killed worker's job is free again soon


def _env(archive: Archive, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}
    env.update({"CROSSINGS_DATA": str(archive.data_root), "CROSSINGS_DATABASE_URL": archive.settings["database_url"],
                "CROSSINGS_JOB_LEASE_SECONDS": str(LEASE), "CROSSINGS_WORKER_POLL_SECONDS": "0.2", **extra})
    return env


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Worker processes a test starts; any still running at the end are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_for(condition: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _events(log: Path) -> list[tuple[str, int, float]]:
    if not log.exists():
        return []
    return [(kind, int(pid), float(at)) for kind, pid, at in (line.split() for line in log.read_text().splitlines())]


# -- leases -----------------------------------------------------------------------------------

def test_a_killed_workers_job_is_run_again_after_its_lease_and_never_twice_at_once(
        archive: Archive, tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    log = tmp_path / "runs.log"
    with archive.session() as session:
        job_id = jobs.enqueue(session, "test_block", payload={"log": str(log)}).id

    def start(hold: float) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, str(HERE / "blocking_worker.py")], text=True,
                                   env=_env(archive, HOLD_SECONDS=str(hold), CROSSINGS_FIXITY_DAYS="0"), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        processes.append(process)
        return process

    first = start(hold=600)
    _wait_for(lambda: len(_events(log)) == 1, what="the first worker to start the job")
    second = start(hold=0.5)
    # Longer than the lease: the first worker's heartbeat keeps renewing it, so the second waits.
    time.sleep(3 * LEASE)
    assert [(kind, pid) for kind, pid, _ in _events(log)] == [("start", first.pid)]

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.time()
    _wait_for(lambda: len(_events(log)) == 3, what="the second worker to run the job")
    (_, _, _), (kind, pid, started_again), (end, end_pid, _) = _events(log)
    assert (kind, pid, end, end_pid) == ("start", second.pid, "end", second.pid)
    # Not before the lease had run out: at most a quarter of it had passed since its last renewal.
    assert started_again > killed_at + LEASE * 0.75 - 0.2

    def state() -> JobState:
        with archive.Session() as session:
            return session.get(Job, job_id).state
    _wait_for(lambda: state() is JobState.done, timeout=10, what="the second worker to record the job done")
    with archive.Session() as session:
        job = session.get(Job, job_id)
        assert job.attempts == 2
        assert job.worker.endswith(f":{second.pid}")
        [lost] = job.failures
        assert lost["attempt"] == 1 and lost["worker"].endswith(f":{first.pid}")
        assert "stopped renewing its lease" in lost["error"]


def test_a_job_whose_workers_keep_dying_is_failed_after_its_last_attempt(archive: Archive) -> None:
    with archive.session() as session:
        job = jobs.enqueue(session, "test_block", payload={})
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    with archive.session() as session:
        session.execute(update(Job).where(Job.id == job.id).values(state=JobState.running, attempts=3,
                                                                   worker="gone:1", lease_until=past))
    assert worker.work_one(archive, "w") is None
    with archive.Session() as session:
        job = session.get(Job, job.id)
        assert job.state is JobState.failed and job.attempts == 3
        assert "stopped renewing its lease" in job.error and job.failures[-1]["worker"] == "gone:1"


def test_a_worker_that_lost_its_lease_does_not_record_over_the_new_attempt(archive: Archive) -> None:
    with archive.session() as session:
        jobs.enqueue(session, "test_block", payload={})
    with archive.session() as session:
        stalled = jobs.claim_next(session, worker="stalled", lease_seconds=60, max_attempts=3)
        session.expunge(stalled)
    with archive.session() as session:  # the lease runs out while the first worker is stalled
        session.execute(update(Job).values(lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
    with archive.session() as session:
        taker = jobs.claim_next(session, worker="taker", lease_seconds=60, max_attempts=3)
        session.expunge(taker)
    with archive.session() as session:
        assert not jobs.renew_lease(session, stalled, 60)
        assert not jobs.complete(session, stalled)
    with archive.session() as session:
        assert jobs.complete(session, taker)
    with archive.Session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.worker, job.attempts) == (JobState.done, "taker", 2)


def test_workers_claiming_at_once_take_different_jobs(archive: Archive) -> None:
    """On PostgreSQL each skips the row the other has locked; on SQLite they take turns."""
    with archive.session() as session:
        for n in range(20):
            jobs.enqueue(session, "test_block", payload={"n": n})
    barrier = threading.Barrier(2)
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def claim(name: str) -> None:
        barrier.wait()
        while True:
            with archive.session() as session:
                job = jobs.claim_next(session, worker=name, lease_seconds=60, max_attempts=3)
                if job is None:
                    return
                taken[name].append(job.id)

    threads = [threading.Thread(target=claim, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken["a"] + taken["b"]) == list(range(1, 21))  # every job once, none twice


# -- retries ----------------------------------------------------------------------------------

def test_a_failing_job_is_retried_after_a_doubling_wait_and_keeps_each_reason(
        archive: Archive, client: FlaskClient, runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    item_id = add_item(archive, "Harbour at night")
    calls: list[int] = []

    def flaky(archive: Archive, job: Job) -> None:
        calls.append(job.attempts)
        if len(calls) <= 3:
            raise JobFailed(f"disk full on attempt {job.attempts}")

    monkeypatch.setitem(worker.HANDLERS, "test_flaky", flaky)
    archive.settings.update(job_retry_seconds=10.0, job_max_attempts=3)
    with archive.session() as session:
        job_id = jobs.enqueue(session, "test_flaky", item_id=item_id).id

    waits = []
    for attempt in (1, 2):
        before = datetime.now(timezone.utc)
        job = worker.work_one(archive, "w")
        assert job.state is JobState.queued and job.error == f"disk full on attempt {attempt}"
        waits.append((job.not_before - before).total_seconds())
        assert worker.work_one(archive, "w") is None  # not before its time
        with archive.session() as session:  # the wait passes
            session.execute(update(Job).values(not_before=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert 10 <= waits[0] < 12 and 20 <= waits[1] < 22
    job = worker.work_one(archive, "w")
    assert job.state is JobState.failed and job.attempts == 3  # the last attempt: no more waiting
    assert [f["error"] for f in job.failures] == [f"disk full on attempt {n}" for n in (1, 2, 3)]

    listing = runner.invoke(args=["jobs", "list"]).output
    assert all(f"disk full on attempt {n}" in listing for n in (1, 2, 3)), listing
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "disk full on attempt 3" in page and "Earlier failed attempts (2)" in page
    assert "disk full on attempt 1" in page

    assert runner.invoke(args=["jobs", "retry", str(job_id)]).exit_code == 0
    job = worker.work_one(archive, "w")
    assert job.state is JobState.done and job.attempts == 4 and calls == [1, 2, 3, 4]
    assert len(job.failures) == 3  # the reasons stay after it succeeded


# -- periodic jobs ----------------------------------------------------------------------------

def test_racing_workers_queue_a_periodic_job_once_per_period(archive: Archive) -> None:
    nights = [datetime(2030, 5, 1, 3, tzinfo=timezone.utc) + timedelta(days=n, minutes=n) for n in range(8)]
    started: list[tuple[str, datetime]] = []
    lock = threading.Lock()
    barriers = [threading.Barrier(2) for _ in nights]

    def race(name: str) -> None:
        for night, barrier in zip(nights, barriers):
            barrier.wait()  # both look at the same moment, each with its own connection
            for job in worker.start_periodic(archive, name, now=night):
                with lock:
                    started.append((name, night))

    threads = [threading.Thread(target=race, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(night for _, night in started) == nights  # one winner per night
    with archive.Session() as session:
        runs = session.scalars(select(PeriodicRun).order_by(PeriodicRun.period_start)).all()
        assert [r.period_start for r in runs] == [n.replace(hour=2, minute=0) for n in nights]  # fixity_hour 2
        assert [r.worker for r in runs] == [name for name, _ in sorted(started, key=lambda s: s[1])]
        assert len(session.scalars(select(Job).where(Job.kind == FIXITY_JOB)).all()) == len(nights)


def test_two_worker_processes_run_the_nightly_check_once(archive: Archive,
                                                         processes: list[subprocess.Popen[str]]) -> None:
    for n in range(3):
        add_item(archive, f"Tape {n}")
    # The night's period began hours ago and the next begins hours from now: both workers are in it.
    hour = (datetime.now(timezone.utc).hour + 12) % 24
    for _ in range(2):
        processes.append(subprocess.Popen([CROSSINGS, "worker"], env=_env(archive, CROSSINGS_FIXITY_HOUR=str(hour)),
                                          text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                          stdin=subprocess.DEVNULL))

    def checked() -> int:
        with archive.Session() as session:
            return len(session.scalars(select(FixityCheck)).all())

    _wait_for(lambda: checked() == 1, what="the nightly check (1 of 3 originals, fixity_days 30)")
    time.sleep(2)  # both keep polling: neither queues the night again
    for process in processes:
        process.send_signal(signal.SIGTERM)
    logs = [process.communicate(timeout=30)[1] for process in processes]
    with archive.Session() as session:
        [run] = session.scalars(select(PeriodicRun)).all()
        [job] = session.scalars(select(Job).where(Job.kind == FIXITY_JOB)).all()
        assert run.job_id == job.id and job.state is JobState.done and job.attempts == 1
    assert sum("queued for this period" in log for log in logs) == 1, logs


# -- the nightly fixity check -----------------------------------------------------------------

def _night(archive: Archive, night: datetime) -> Job:
    """Queue that night's check as the first worker to look would, and run it."""
    [queued] = worker.start_periodic(archive, "w", now=night)
    job = worker.work_one(archive, "w")
    assert job is not None and job.id == queued.id and job.state is JobState.done, job.error if job else None
    return job


def _checked(archive: Archive) -> dict[int, tuple[datetime, FixityResult]]:
    with archive.Session() as session:
        return {media.item_id: (check.checked_at, check.result)
                for check, media in session.execute(select(FixityCheck, MediaFile).join(MediaFile))}


def test_the_nightly_check_takes_the_least_recently_checked_share_and_reports_a_changed_file(
        archive: Archive, client: FlaskClient, runner: Any, make_user: Any) -> None:
    ids = [add_item(archive, f"Tape {n}") for n in range(6)]
    archive.settings["fixity_days"] = 3  # six originals: two a night
    first = datetime.now(timezone.utc) + timedelta(days=1)
    nights = [first + timedelta(days=n) for n in range(4)]

    _night(archive, nights[0])
    assert set(_checked(archive)) == set(ids[:2])  # never checked first, oldest first
    _night(archive, nights[1])
    assert set(_checked(archive)) == set(ids[:4])
    with archive.Session() as session:
        media = session.scalars(select(MediaFile).where(MediaFile.item_id == ids[4])).one()
        changed = archive.store.root / archive.store.original_relpath(media.sha256)
        name, sha = media.original_name, media.sha256
    good = changed.read_bytes()
    changed.chmod(0o644)
    changed.write_bytes(b"bit rot")
    _night(archive, nights[2])
    checked = _checked(archive)
    assert set(checked) == set(ids)  # all six within fixity_days nights
    assert [r for _, r in checked.values()].count(FixityResult.changed) == 1
    assert checked[ids[4]][1] is FixityResult.changed
    before = _checked(archive)
    _night(archive, nights[3])  # round again: the two checked longest ago
    after = _checked(archive)
    assert {i for i in ids if after[i][0] != before[i][0]} == set(ids[:2])

    result = runner.invoke(args=["verify", "--report", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout.splitlines()[0])
    assert [(f["item_id"], f["result"], f["sha256"]) for f in report["failures"]] == [(ids[4], "changed", sha)]
    assert report["originals"] == 6 and report["never_checked"] == 0
    assert f"CHANGED original of item {ids[4]} ({name})" in result.output

    log_in(client, make_user("admin"))
    page = client.get("/admin/fixity").get_data(as_text=True)
    assert name in page and sha in page and "changed" in page and "1 failing" in page

    # Restored from a good copy: the next check clears it.
    changed.write_bytes(good)
    with archive.session() as session:
        check_original(archive, session, session.scalars(select(MediaFile).where(MediaFile.item_id == ids[4])).one())
    assert runner.invoke(args=["verify", "--report"]).exit_code == 0
    assert "No original has failed its latest check" in client.get("/admin/fixity").get_data(as_text=True)


def test_a_second_attempt_of_a_nights_check_checks_only_the_rest_of_its_share(archive: Archive) -> None:
    ids = [add_item(archive, f"Reel {n}") for n in range(6)]
    archive.settings["fixity_days"] = 2  # three a night
    with archive.session() as session:
        job = periodic.start_period(session, worker.schedules(archive.settings)[0], datetime.now(timezone.utc),
                                    worker="w")
    with archive.session() as session:  # the first attempt got through one original, then was killed
        check_original(archive, session, session.scalars(select(MediaFile).where(MediaFile.item_id == ids[0])).one())
    run_nightly_check(archive, job)
    assert set(_checked(archive)) == set(ids[:3])
