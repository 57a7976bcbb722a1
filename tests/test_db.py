"""Schema and migrations: the models and the Alembic history agree, and upgrades keep data."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, select

from archive import db
from archive.core import Archive
from archive.models import AccessLevel, Base, Item, ItemKind
from archive.search import pg_tables


def test_migrations_match_the_models(tmp_path: Path, unmigrated_database_url: str) -> None:
    archive = Archive.open({"data": str(tmp_path / "d"), "database_url": unmigrated_database_url})
    expected = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(expected)
    if archive.engine.dialect.name == "postgresql":  # the PostgreSQL search engine's tables (0013)
        for table in pg_tables.metadata.tables.values():
            table.to_metadata(expected)
    with archive.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), expected)
    assert diff == []


def test_every_command_creates_a_missing_data_root(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    archive = Archive.open({"data": str(root)})
    assert (root / "crossings.sqlite3").is_file()
    assert (root / "originals").is_dir() and (root / "tmp").is_dir()
    assert db.current_revision(archive.engine) == db.head_revision()


def test_upgrade_keeps_existing_data(settings: dict[str, object]) -> None:
    archive = Archive.open(settings)
    with archive.session() as session:
        session.add(Item(title="Night crossing", kind=ItemKind.video, access=AccessLevel.public))
    archive.close()
    again = Archive.open(settings)
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


def test_upgrade_from_the_first_revision_keeps_every_row(tmp_path: Path, unmigrated_database_url: str) -> None:
    """Later migrations rebuild the items table (SQLite's way to alter it): nothing may cascade away."""
    from alembic import command
    from sqlalchemy import text

    archive = Archive.open({"data": str(tmp_path / "d"), "database_url": unmigrated_database_url}, migrate=False)
    command.upgrade(db.alembic_config(archive.engine), "0001")
    with archive.engine.begin() as conn:
        conn.execute(text("INSERT INTO collections (id, title, kind, synopsis, description, rights, created_at, "
                          "updated_at) VALUES (1, 'Field tapes', '', '', '', '', '2019-04-01', '2019-04-01')"))
        conn.execute(text("INSERT INTO items (id, title, description, kind, date_shot, creator, language, rights, "
                          "source, access, collection_id, created_at, updated_at) VALUES (1, 'Yalu at dusk', '', "
                          "'video', '', '', '', '', '', 'public', 1, '2019-04-01 00:00:00', '2019-04-01 00:00:00')"))
        conn.execute(text("INSERT INTO media_files (id, item_id, sha256, original_name, original_path, size, "
                          "mime_type, container, video_codec, audio_codec, pixel_format, rotation, camera_make, "
                          "camera_model, web_ready, ingested_at) VALUES (1, 1, 'ab', 'a.mp4', '/a.mp4', 10, "
                          "'video/mp4', '', '', '', '', 0, '', '', TRUE, '2019-04-01')"))
        conn.execute(text("INSERT INTO derivatives (id, media_file_id, kind, path, mime_type, size, info, "
                          "created_at) VALUES (1, 1, 'grid', 'derivatives/ab/ab/grid.webp', 'image/webp', 5, '{}', "
                          "'2019-04-01')"))
        conn.execute(text("INSERT INTO people (id, name, note) VALUES (1, 'Noi', '')"))
        conn.execute(text("INSERT INTO credits (id, person_id, role, item_id, position) VALUES (1, 1, 'camera', 1, 0)"))
        conn.execute(text("INSERT INTO tags (id, name) VALUES (1, 'night')"))
        conn.execute(text("INSERT INTO item_tags (item_id, tag_id) VALUES (1, 1)"))
        conn.execute(text("INSERT INTO jobs (id, kind, item_id, payload, state, attempts, error, worker, created_at) "
                          "VALUES (1, 'make_proxy', 1, '{}', 'queued', 0, '', '', '2019-04-01')"))
    counts_before = _counts(archive)
    assert db.upgrade(archive.engine) == ("0001", db.head_revision())
    assert _counts(archive) == counts_before
    with archive.Session() as session:
        item = session.scalars(select(Item)).one()
        assert item.title == "Yalu at dusk" and item.deleted_at is None
        assert item.media.original_name == "a.mp4" and [t.name for t in item.tags] == ["night"]
    if archive.engine.dialect.name == "sqlite":
        with archive.engine.connect() as conn:  # foreign keys are enforced again afterwards
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _counts(archive: Archive) -> dict[str, int]:
    from sqlalchemy import text
    with archive.engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("collections", "items", "media_files", "derivatives", "people", "credits", "tags",
                              "item_tags", "jobs")}


def test_listen_once_wires_each_new_sessionmaker_exactly_once() -> None:
    """Archives come and go in one process (the tests, a worker reopening): each new sessionmaker gets
    its listeners, even at the address of one freed before it, and never twice."""
    commits: list[object] = []

    def on_commit(session: object) -> None:
        commits.append(session)

    engine = db.make_engine("sqlite://")
    for _ in range(50):
        sessions = db.make_sessionmaker(engine)
        db.listen_once(sessions, "before_commit", on_commit)
        db.listen_once(sessions, "before_commit", on_commit)
        with sessions() as session, session.begin():
            pass
        del sessions
    engine.dispose()
    assert len(commits) == 50
