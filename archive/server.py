"""The production web server: gunicorn, started by `crossings serve`.

`crossings serve` opens the archive once (migrations, the shared secret key), then replaces itself
with gunicorn's master (gunicorn_cmd). The master never imports the app: each worker calls
create_app() after it is forked, so a graceful reload (SIGHUP to the master) starts workers that
run the code and read the settings now on disk, while the old ones finish the requests they have.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: gunicorn's entry point: the app factory, called in each worker.
WSGI_APP = "archive.app:create_app()"

#: Where gunicorn's, the app's and the access log's lines go (all to stderr) and how they read.
#: Flask's logger (archive.app, which logs the traceback of every crash) is under "archive": it
#: finds that handler and adds none of its own.
LOGGING = Path(__file__).with_name("server-logging.json")

#: One line a request, after the time and the process: who, what, the answer, its size in bytes
#: and how long it took.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

MAX_DEFAULT_WORKERS = 8


def usable_cores() -> int:
    """Cores this process may run on (a cgroup or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_web_workers(cores: int) -> int:
    """Web processes for `cores` when web_workers is 0: one per core, at least 2, at most 8.

    Threads (web_threads) carry the requests that wait on the disk or the database, so processes
    are needed only for Python's own work, which a process does on one core at a time; more than
    one per core would take the cores the worker's ffmpeg needs. Two at least, so that a reload or
    one slow request never leaves the site with no free process; eight at most, because each
    loads the whole app and SQLite lets one writer in at a time.
    """
    return min(max(2, cores), MAX_DEFAULT_WORKERS)


def web_concurrency(settings: dict[str, Any], workers: int | None = None,
                    threads: int | None = None) -> tuple[int, int]:
    """(processes, threads in each) to serve with: those asked for, else the settings'."""
    return (workers or settings["web_workers"] or default_web_workers(usable_cores()),
            threads or settings["web_threads"])


def gunicorn_cmd(host: str, port: int, workers: int, threads: int, python: str = sys.executable) -> list[str]:
    """gunicorn's command line serving the archive on host:port."""
    return [
        python, "-m", "gunicorn",
        "--bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads),
        # Not --access-logfile: its "-" is stdout, and a path (/dev/stderr) would open stderr a
        # second time, writing over the other lines when stderr is a file.
        "--log-config-json", str(LOGGING), "--access-logformat", ACCESS_LOG_FORMAT,
        # gunicorn 27 otherwise opens one control socket per user (~/.gunicorn/gunicorn.ctl), which
        # a second server on the machine would take over; reloads and stops go by signal instead.
        "--no-control-socket",
        WSGI_APP,
    ]
