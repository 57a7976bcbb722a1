"""The databases the suite runs on: SQLite files, and a PostgreSQL the tests start themselves.

A throwaway PostgreSQL cluster is made once per test process (each xdist worker has its own):
Debian's binaries from /usr/lib/postgresql/<version>/bin, in a folder made with mkdtemp outside
pytest's mode-0700 temporary root, owned by the `postgres` user when the suite runs as root
(PostgreSQL refuses to run as root), listening on a free loopback port, with trust auth for
loopback only. The schema is migrated once into a template database; each test gets its own
database copied from it (CREATE DATABASE ... TEMPLATE), dropped afterwards. With
CROSSINGS_TEST_DATABASE_URL set (a server URL whose user may create databases), that server is
used instead of a cluster of our own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

#: Set to use an existing server, e.g. postgresql+psycopg://crossings@db.example:5432/postgres
URL_VARIABLE = "CROSSINGS_TEST_DATABASE_URL"
TEMPLATE = "crossings_template"
STARTUP_SECONDS = 30


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: `make setup` installs Debian's postgresql package")
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server for the tests: started here and stopped at the end, or given by URL."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self._numbers = itertools.count(1)
        given = os.environ.get(URL_VARIABLE, "").strip()
        self.url = make_url(given) if given else self._start()
        self._template_ready = False

    def _as_owner(self, args: list[str]) -> list[str]:
        # PostgreSQL will not run as root; CI runs as root.
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def _start(self) -> URL:
        binaries = _postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="crossings-pg-"))
        data, sockets = self.folder / "data", self.folder / "run"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            shutil.chown(sockets, "postgres")
        port = _free_port()
        subprocess.run(self._as_owner([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                       "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        # fsync off and a small shared_buffers: a throwaway cluster that must start fast and need not survive a crash.
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                   "-c shared_buffers=64MB")
        subprocess.run(self._as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                                       "-t", str(STARTUP_SECONDS), "-l", str(self.folder / "server.log"), "start"]),
                       check=True, capture_output=True, timeout=STARTUP_SECONDS + 10)
        return URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", port=port, database="postgres")

    def _admin(self):  # type: ignore[no-untyped-def]
        return create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=None)

    def _ensure_template(self) -> None:
        """Migrate the schema once, into the database every test's database is copied from."""
        if self._template_ready:
            return
        from archive import db
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
        admin.dispose()
        engine = db.make_engine(self.url.set(database=TEMPLATE).render_as_string(hide_password=False))
        db.upgrade(engine)
        engine.dispose()
        self._template_ready = True

    def new_database(self, *, migrated: bool = True) -> str:
        """The URL of a new, empty database of its own: with the schema (copied from the template) or without."""
        if migrated:
            self._ensure_template()
        name = f"crossings_test_{os.getpid()}_{next(self._numbers)}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{TEMPLATE}"' if migrated else "")))
        admin.dispose()
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()

    def stop(self) -> None:
        if self.folder is None:
            return
        # Immediate: nothing in a throwaway cluster needs a clean shutdown.
        subprocess.run(self._as_owner([str(_postgres_bin() / "pg_ctl"), "-D", str(self.folder / "data"),
                                       "-m", "immediate", "-w", "stop"]), capture_output=True, timeout=60)
        for _ in range(50):
            try:
                shutil.rmtree(self.folder)
                break
            except OSError:
                time.sleep(0.1)
