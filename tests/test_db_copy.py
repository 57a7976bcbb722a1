"""Moving a catalogue: `crossings db copy` takes the demo's SQLite catalogue into an empty PostgreSQL,
and the archive then answers the same from it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.app import create_app
from archive.models import Item, Tag
from archive.services import NotFound, accounts
from conftest import PASSWORD, log_in
from databases import PostgresServer
from test_demo import demo_root  # noqa: F401  (the fixture)


def _cli(data: Path, *args: str) -> tuple[int, str]:
    app = create_app({"data": str(data), "secret_key": "copy"})
    try:
        result = app.test_cli_runner().invoke(args=list(args))
        return result.exit_code, result.output
    finally:
        app.extensions["crossings"].close()


@pytest.fixture
def demo_copy(demo_root: Path, tmp_path: Path) -> Path:  # noqa: F811
    root = tmp_path / "demo"
    shutil.copytree(demo_root, root)
    return root


def _pages(settings: dict[str, object]) -> dict[str, object]:
    """What an admin is shown: item titles in browse order, a search's hits, an item page."""
    app = create_app(settings)
    app.config.update(TESTING=True)
    archive = app.extensions["crossings"]
    with archive.session() as session:
        try:
            accounts.get_user(session, "copy-admin")
        except NotFound:  # made on the first look; the copy brings it along
            accounts.create_user(session, "copy-admin", PASSWORD, "admin")
    client = app.test_client()
    log_in(client, "copy-admin")
    with archive.Session() as session:
        first = session.scalar(select(Item.id).order_by(Item.id))
    shown = {
        "browse": re.findall(r'class="card__title">([^<]+)<', client.get("/items?per_page=100").get_data(as_text=True)),
        "search": re.findall(r'href="/items/(\d+)', client.get("/search?q=river").get_data(as_text=True)),
        "item": client.get(f"/items/{first}").status_code,
    }
    archive.close()
    return shown


def test_the_demo_catalogue_moves_to_postgresql_and_answers_the_same(demo_copy: Path, postgres: PostgresServer) -> None:
    target = postgres.new_database(migrated=False)
    before = _pages({"data": str(demo_copy), "secret_key": "copy"})

    code, output = _cli(demo_copy, "db", "copy", target)

    assert code == 0, output
    assert re.search(r"copied [\d,]+ rows in \d+ tables; counts match and [\d,]+ sampled rows are equal", output)
    after = _pages({"data": str(demo_copy), "secret_key": "copy", "database_url": target})
    assert after == before and before["browse"] and before["search"]
    # New rows on the target get new ids (its sequences were moved past the copied ones).
    app = create_app({"data": str(demo_copy), "secret_key": "copy", "database_url": target})
    archive = app.extensions["crossings"]
    with archive.session() as session:
        top = session.scalar(select(func.max(Tag.id)))
        tag = Tag(name="copied later")
        session.add(tag)
        session.flush()
        assert tag.id == top + 1
    archive.close()

    again, refused = _cli(demo_copy, "db", "copy", target)
    assert again == 1 and "already holds rows in" in refused
    postgres.drop_database(target)
