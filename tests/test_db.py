"""Schema and migrations: the models and the Alembic history agree, and upgrades keep data."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from archive import db
from archive.core import Archive
from archive.models import AccessLevel, Base, Item, ItemKind


def test_migrations_match_the_models(tmp_path: Path) -> None:
    archive = Archive.open({"data": str(tmp_path / "d")})
    with archive.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_every_command_creates_a_missing_data_root(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    archive = Archive.open({"data": str(root)})
    assert (root / "crossings.sqlite3").is_file()
    assert (root / "originals").is_dir() and (root / "tmp").is_dir()
    assert db.current_revision(archive.engine) == db.head_revision()


def test_upgrade_keeps_existing_data(tmp_path: Path) -> None:
    archive = Archive.open({"data": str(tmp_path / "d")})
    with archive.session() as session:
        session.add(Item(title="Night crossing", kind=ItemKind.video, access=AccessLevel.public))
    archive.close()
    again = Archive.open({"data": str(tmp_path / "d")})
    assert again.migration == (db.head_revision(), db.head_revision())
    with again.Session() as session:
        assert session.scalars(select(Item.title)).all() == ["Night crossing"]


def test_db_upgrade_command_reports_the_revision(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert db.head_revision() in result.output


def test_relative_data_root_is_taken_from_the_current_directory(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    archive = Archive.open({"data": "rel"})
    assert archive.data_root == tmp_path / "rel"


def test_upgrade_from_the_first_revision_keeps_items(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    archive = Archive.open({"data": str(tmp_path / "d")}, migrate=False)
    command.upgrade(db.alembic_config(archive.engine), "0001")
    with archive.engine.begin() as conn:
        conn.execute(text("INSERT INTO items (title, description, kind, date_shot, creator, language, rights, "
                          "source, access, created_at, updated_at) VALUES ('Yalu at dusk', '', 'video', '', '', "
                          "'', '', '', 'public', '2019-04-01 00:00:00', '2019-04-01 00:00:00')"))
    assert db.upgrade(archive.engine) == ("0001", db.head_revision())
    with archive.Session() as session:
        item = session.scalars(select(Item)).one()
        assert item.title == "Yalu at dusk" and item.deleted_at is None
