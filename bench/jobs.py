"""Job queue benchmark: how fast workers claim and finish jobs from the jobs table, per database.

    PYTHONPATH=. .venv/bin/python bench/jobs.py              # 2000 no-op jobs, 1, 2 and 4 worker processes
    PYTHONPATH=. .venv/bin/python bench/jobs.py --jobs 500   # smaller
    PYTHONPATH=. .venv/bin/python bench/jobs.py --json

Each run queues N jobs whose handler does nothing, then starts W worker processes (one thread
each, `worker.run(once=True)`) at once and times until all have exited: what is measured is the
queue itself (claim, lease, heartbeat thread, outcome), not any job's work. Afterwards every job
must be done exactly once (attempts == 1). SQLite is a file in a temporary data root; PostgreSQL is
a throwaway cluster started by tests/databases.py (or CROSSINGS_TEST_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from archive import worker  # noqa: E402
from archive.core import Archive  # noqa: E402
from archive.models import Job, JobState  # noqa: E402

KIND = "bench_noop"


def _work(settings: dict[str, Any], start: Any) -> None:
    worker.HANDLERS[KIND] = lambda archive, job: None
    archive = Archive.open(settings, migrate=False)
    start.wait()
    worker.run(archive, once=True, threads=1, log=lambda line: None)
    archive.close()


def measure(settings: dict[str, Any], jobs: int, workers: int) -> dict[str, Any]:
    archive = Archive.open(settings)
    with archive.session() as session:
        session.execute(insert(Job), [{"kind": KIND, "payload": {"n": n}, "state": JobState.queued,
                                       "error": "", "worker": "", "failures": []} for n in range(jobs)])
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    pool = [context.Process(target=_work, args=(settings, start)) for _ in range(workers)]
    for process in pool:
        process.start()
    time.sleep(3)  # let every process import and connect before the clock starts
    began = time.perf_counter()
    start.set()
    for process in pool:
        process.join()
    seconds = time.perf_counter() - began
    with archive.Session() as session:
        done = session.scalar(select(func.count()).where(Job.state == JobState.done, Job.attempts == 1))
        session.execute(Job.__table__.delete())
        session.commit()
    archive.close()
    assert done == jobs, f"{done} of {jobs} jobs done exactly once"
    return {"workers": workers, "jobs": jobs, "seconds": round(seconds, 2), "jobs_per_second": round(jobs / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from databases import PostgresServer
    server = PostgresServer()
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for backend, url in (("sqlite", ""), ("postgresql", server.new_database(migrated=False))):
                settings = {"data": str(Path(tmp) / backend), "database_url": url, "fixity_days": 0,
                            "job_lease_seconds": 60.0}
                results[backend] = []
                for workers in args.workers:
                    row = measure(settings, args.jobs, workers)
                    results[backend].append(row)
                    print(f"{backend:10} {workers} worker(s): {row['jobs']} jobs in {row['seconds']} s, "
                          f"{row['jobs_per_second']} jobs/s", file=sys.stderr)
    finally:
        server.stop()
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
