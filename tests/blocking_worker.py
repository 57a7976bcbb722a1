"""A worker process for the lease tests: `crossings worker` with one more job kind, whose handler
writes when it starts and ends to a log and holds the job for HOLD_SECONDS in between.

Run as `python tests/blocking_worker.py` with CROSSINGS_DATA and CROSSINGS_DATABASE_URL set; it
works until killed. A real worker process, so SIGKILL stops it as it would stop `crossings worker`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from archive import worker
from archive.core import Archive
from archive.models import Job

KIND = "test_block"


def hold(archive: Archive, job: Job) -> None:
    log = Path(job.payload["log"])
    with log.open("a") as out:
        out.write(f"start {os.getpid()} {time.time()}\n")
    time.sleep(float(os.environ["HOLD_SECONDS"]))
    with log.open("a") as out:
        out.write(f"end {os.getpid()} {time.time()}\n")


if __name__ == "__main__":
    worker.HANDLERS[KIND] = hold
    archive = Archive.open()
    worker.run(archive, threads=1, log=lambda line: print(line, flush=True))
