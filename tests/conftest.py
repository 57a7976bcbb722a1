"""Fixtures shared by the whole suite: an archive, an app and clients over a fresh data root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from archive.app import create_app
from archive.core import Archive
from archive.models import AccessLevel, LocationPrecision
from databases import PostgresServer
from objectstores import SeaweedServer

# Keep the developer's own settings out of the tests.
_ENV_PREFIX = "CROSSINGS_"

#: What a test that needs published material ingests with, IngestOptions(**PUBLISHED): public, its GPS
#: exact (so its original is downloadable by anyone). The archive's defaults are restricted and km10.
PUBLISHED = {"access": AccessLevel.public, "location_precision": LocationPrecision.exact}
#: The same as settings, for tests that upload or ingest from the command line: settings.update(PUBLISHED_SETTINGS).
PUBLISHED_SETTINGS = {"default_access": "public", "default_location_precision": "exact"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "data"


#: The catalogues every test that touches the database runs on (browser tests: the first only).
BACKENDS = ("sqlite", "postgresql")
#: (catalogue, search engine) pairs a test taking `search_engine` runs on: the postgresql engine
#: keeps its index in the catalogue, so it exists only over PostgreSQL.
STACKS = (("sqlite", "whoosh"), ("postgresql", "whoosh"), ("postgresql", "postgresql"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses the database once per backend, and a browser test once: what it
    checks is the page, and the pages' queries are the same on both. A test that takes
    `search_engine` runs once per stack instead (those of its engines marker, if any)."""
    if "search_engine" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("engines")
        stacks = [s for s in STACKS if marker is None or s[1] in marker.args]
        metafunc.parametrize(("database_backend", "search_engine"), stacks, indirect=["database_backend"],
                             ids=[f"{backend}-{engine}" for backend, engine in stacks])
    elif "database_backend" in metafunc.fixturenames:
        browser = metafunc.definition.get_closest_marker("browser") is not None
        metafunc.parametrize("database_backend", BACKENDS[:1] if browser else BACKENDS, indirect=True)
    if "store_backend" in metafunc.fixturenames:
        metafunc.parametrize("store_backend", STORE_BACKENDS, indirect=True)


#: Where the store keeps its files in the tests that ask for `store_backend`: those that touch the
#: store (ingest, serving, verify, the worker's derivatives), not the whole suite.
STORE_BACKENDS = ("local", "s3")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedServer]:
    """This test process's S3 server (tests/objectstores.py), started on first use."""
    server = SeaweedServer()
    yield server
    server.stop()


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The store settings of the test's `store_backend` (none: local), with an S3 bucket of its own.

    The credentials go into the environment, as in production, so CLI subprocesses get them too.
    """
    if "store_backend" not in request.fixturenames or request.getfixturevalue("store_backend") == "local":
        return {}
    server: SeaweedServer = request.getfixturevalue("s3_server")
    for name, value in server.environment.items():
        monkeypatch.setenv(name, value)
    return server.settings(server.new_bucket())


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """This test process's PostgreSQL (tests/databases.py), started on first use."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def database_backend(request: pytest.FixtureRequest) -> str:
    return request.param


def new_catalogue(request: pytest.FixtureRequest, backend: str, *, migrated: bool = True) -> str:
    """A database URL of its own on `backend` for the requesting fixture ("" for SQLite: the archive's
    own file in its data root), dropped when that fixture ends. For fixtures of a wider scope than a
    test, which parametrize themselves with params=BACKENDS."""
    if backend == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database(migrated=migrated)
    request.addfinalizer(lambda: server.drop_database(url))
    return url


@pytest.fixture
def database_url(database_backend: str, request: pytest.FixtureRequest) -> str:
    """The catalogue of the test's archive: "" for SQLite, else a fresh migrated PostgreSQL database."""
    return new_catalogue(request, database_backend)


@pytest.fixture
def unmigrated_database_url(database_backend: str, request: pytest.FixtureRequest) -> str:
    """As database_url, with no schema at all: for tests of the migrations themselves."""
    return new_catalogue(request, database_backend, migrated=False)


@pytest.fixture
def store_env(store_settings: dict[str, object]) -> dict[str, str]:
    """store_settings as the CROSSINGS_* variables of a `crossings` subprocess (a test that wants S3 too
    asks for `store_backend` as well)."""
    return {f"CROSSINGS_{name.upper()}": str(value) for name, value in store_settings.items()}


@pytest.fixture
def settings(data_root: Path, database_url: str, store_settings: dict[str, object]) -> dict[str, object]:
    """Overrides for the archive under test; tests may add to it before `app`/`archive` are made."""
    return {"data": str(data_root), "secret_key": "test", "database_url": database_url, **store_settings}


@pytest.fixture
def app(settings: dict[str, object]) -> Iterator[Flask]:
    app = create_app(settings)
    app.config.update(TESTING=True)
    yield app
    app.extensions["crossings"].close()


@pytest.fixture
def archive(app: Flask) -> Archive:
    return app.extensions["crossings"]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> CliRunner:
    return app.test_cli_runner()


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(archive: Archive):  # type: ignore[no-untyped-def]
    """A factory: make_user("archivist", grants=[collection_id]) creates an account and returns its name."""
    from archive.services import accounts

    def make(role: str, username: str | None = None, *, grants: tuple[int, ...] = (),
             password: str = PASSWORD) -> str:
        username = username or f"{role}-{len(made) + 1}"
        with archive.session() as session:
            accounts.create_user(session, username, password, role)
            for collection_id in grants:
                accounts.grant(session, username, collection_id)
        made.append(username)
        return username

    made: list[str] = []
    return make


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path`, read as a browser would."""
    import re
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token in {path}"
    return match.group(1)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def login(client: FlaskClient, make_user):  # type: ignore[no-untyped-def]
    """login("archivist") makes an account with that role and logs the test client in; returns its name."""
    def do(role: str, *, grants: tuple[int, ...] = ()) -> str:
        username = make_user(role, grants=grants)
        log_in(client, username)
        return username
    return do
