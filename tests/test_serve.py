"""`crossings serve`: gunicorn over the app factory, and what its processes and web nodes share.

The servers here are real processes on free loopback ports over a temporary data root, started
the way `make demo` starts them.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.app import create_app
from archive.core import Archive
from archive.models import AppSecret
from archive.server import default_web_workers, gunicorn_cmd, usable_cores, web_concurrency
from archive.services import accounts
from conftest import PASSWORD

CROSSINGS = str(Path(sys.executable).with_name("crossings"))
STARTUP_SECONDS = 60  # two workers importing the app on a busy 2-core machine take a few


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (gunicorn's workers, for its master)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the parent comes after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


class Server:
    """One `crossings serve` process, its stderr kept in a file."""

    def __init__(self, data: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}
        full_env.update({"CROSSINGS_DATA": str(data), **(env or {})})
        self.proc = subprocess.Popen([CROSSINGS, "serve", "--port", str(self.port), *args], env=full_env,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until_ready(self, workers: int) -> None:
        """Wait until `workers` workers in all have loaded the app (each logs it)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"crossings serve exited {self.proc.returncode}:\n{self.output()}"
            if self.output().count("archive.app: ready") >= workers:
                return
            time.sleep(0.05)
        pytest.fail(f"crossings serve was not ready within {STARTUP_SECONDS}s:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> float:
        """Send `sig`, wait for the exit; return the seconds it took."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for worker in children(self.proc.pid):  # orphaned by the kill: they would hold the port
            os.kill(worker, signal.SIGKILL)
        self.log.close()


def get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, dict[str, str], str]:
    with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with the newest schema and an account (mina, a researcher), made once: each
    test serves a copy, and its servers need not migrate."""
    root = tmp_path_factory.mktemp("migrated") / "data"
    archive = Archive.open({"data": str(root)})
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "researcher")
    archive.close()
    return root


@pytest.fixture
def data(migrated: Path, tmp_path: Path, database_url: str) -> Path:
    """The test's data root; its catalogue is a copy of `migrated`'s SQLite file, or the test's own
    PostgreSQL database (conftest.database_url) with the same account."""
    root = tmp_path / "data"
    if not database_url:
        shutil.copytree(migrated, root)
        return root
    archive = Archive.open({"data": str(root), "database_url": database_url})
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "researcher")
    archive.close()
    return root


@pytest.fixture
def serve(data: Path, database_url: str) -> Iterator:  # type: ignore[type-arg]
    """serve("--workers", "3", ready=3) starts `crossings serve` over the test's data root and waits
    until that many workers are ready (0: does not wait); all stop after the test."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None, ready: int = 2) -> Server:
        server = Server(data, *args, env={"CROSSINGS_DATABASE_URL": database_url, **(env or {})})
        started.append(server)
        if ready:
            server.wait_until_ready(ready)
        return server

    yield start
    for server in started:
        server.kill()


# -- the server -----------------------------------------------------------------------------------

def test_serve_answers_from_gunicorn_with_the_configured_workers(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(env={"CROSSINGS_WEB_WORKERS": "3", "CROSSINGS_WEB_THREADS": "5"}, ready=3)

    status, headers, body = get(server.url + "/")

    assert status == 200 and "Crossings" in body
    assert headers["Server"] == "gunicorn"
    assert len(children(server.proc.pid)) == 3
    assert "with 3 processes of 5 threads" in server.output()
    access_line = r'\] \[\d+\] 127\.0\.0\.1 "GET / HTTP/1\.1" 200 \d+ \d+ms'
    deadline = time.monotonic() + 5  # written once the answer has gone
    while not re.search(access_line, server.output()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert re.search(access_line, server.output()), server.output()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_cleanly_on_a_signal(serve, sig: signal.Signals) -> None:  # type: ignore[no-untyped-def]
    server = serve("--workers", "1", ready=1)
    workers = children(server.proc.pid)

    took = server.stop(sig)

    assert server.proc.returncode == 0, server.output()
    assert took < 5, f"took {took:.1f}s to stop"
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    with pytest.raises(OSError):
        get(server.url + "/")


def test_serve_reloads_on_sighup_with_new_settings_and_no_request_refused(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "crossings.toml"
    config.write_text("")
    server = serve("--workers", "2", env={"CROSSINGS_CONFIG": str(config)})
    old_workers = children(server.proc.pid)
    assert len(old_workers) == 2

    # Settings are read by create_app() in each new worker: a changed tile server shows in the CSP.
    config.write_text('map_tile_url = "https://tiles.example.org/{z}/{x}/{y}.png"\n')
    os.kill(server.proc.pid, signal.SIGHUP)
    answers, deadline = [], time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        status, headers, _ = get(server.url + "/")  # raises if, for a moment, nothing listens
        answers.append(status)
        workers = children(server.proc.pid)
        if "tiles.example.org" in headers["Content-Security-Policy"] and not workers & old_workers:
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"no reload within {STARTUP_SECONDS}s:\n{server.output()}")

    assert set(answers) == {200} and len(answers) > 1
    assert len(workers) == 2
    assert server.proc.poll() is None


# -- what web nodes share -----------------------------------------------------------------------

def _logged_in_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _log_in(server: Server, opener: urllib.request.OpenerDirector) -> None:
    _, _, html = get(server.url + "/login", opener)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html
    form = urllib.parse.urlencode({"username": "mina", "password": PASSWORD, "csrf_token": token.group(1)})
    with opener.open(server.url + "/login", data=form.encode(), timeout=10) as response:
        assert response.status == 200 and 'site-account__name">mina' in response.read().decode()


def test_a_login_made_by_one_server_is_accepted_by_another(serve, data: Path) -> None:  # type: ignore[no-untyped-def]
    one, other = serve("--workers", "1", ready=0), serve("--workers", "1", ready=0)
    one.wait_until_ready(1)
    other.wait_until_ready(1)
    browser = _logged_in_opener()

    _log_in(one, browser)
    _, _, html = get(other.url + "/", browser)

    assert 'site-account__name">mina' in html
    assert not (data / "secret_key").exists()  # the key is in the database, not a file per node


def test_a_data_root_secret_key_file_is_taken_over(data: Path, database_url: str) -> None:
    (data / "secret_key").write_text("key-from-an-older-version\n")

    app = create_app({"data": str(data), "database_url": database_url})
    app.extensions["crossings"].close()
    (data / "secret_key").unlink()  # from now on the database has it
    again = create_app({"data": str(data), "database_url": database_url})

    assert app.secret_key == again.secret_key == "key-from-an-older-version"


def test_processes_starting_at_once_make_one_secret_key(data: Path, tmp_path: Path, database_url: str) -> None:
    go = tmp_path / "go"
    # Each opens the archive, then waits for the others, so that all look for the key at once.
    script = ("import sys, time, pathlib\n"
              "from archive.core import Archive\n"
              "from archive.settings import load_settings\n"
              f"archive = Archive(load_settings({{'data': {str(data)!r}, 'database_url': {database_url!r}}}))\n"
              f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.001)\n"
              "print(archive.secret_key())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    time.sleep(1.5)  # the imports
    go.touch()
    keys = {proc.communicate(timeout=60)[0].strip() for proc in procs}

    assert all(proc.returncode == 0 for proc in procs)
    assert len(keys) == 1 and len(keys.pop()) == 64
    archive = Archive.open({"data": str(data), "database_url": database_url})
    with archive.Session() as session:
        assert session.scalar(select(func.count()).select_from(AppSecret)) == 1
    archive.close()


# -- the command line it runs ---------------------------------------------------------------------

def test_default_web_workers_are_one_per_core_from_two_to_eight() -> None:
    assert [default_web_workers(cores) for cores in (1, 2, 4, 64)] == [2, 2, 4, 8]


def test_serve_options_win_over_the_settings() -> None:
    settings = {"web_workers": 3, "web_threads": 5}

    assert web_concurrency(settings) == (3, 5)
    assert web_concurrency(settings, workers=1, threads=2) == (1, 2)
    assert web_concurrency({"web_workers": 0, "web_threads": 4}) == (default_web_workers(usable_cores()), 4)


def test_gunicorn_cmd_serves_the_app_factory_on_the_address() -> None:
    cmd = gunicorn_cmd("::1", 8000, workers=3, threads=2, python="python")

    assert cmd[:3] == ["python", "-m", "gunicorn"] and cmd[-1] == "archive.app:create_app()"
    assert cmd[cmd.index("--bind") + 1] == "[::1]:8000"
    assert cmd[cmd.index("--workers") + 1] == "3" and cmd[cmd.index("--threads") + 1] == "2"
