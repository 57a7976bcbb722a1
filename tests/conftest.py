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

# Keep the developer's own settings out of the tests.
_ENV_PREFIX = "CROSSINGS_"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_root: Path) -> dict[str, object]:
    """Overrides for the archive under test; tests may add to it before `app`/`archive` are made."""
    return {"data": str(data_root), "secret_key": "test"}


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
