"""Engine and session set-up, and migrations to the newest schema."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Integer, Table, bindparam, create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout (server, worker and CLI share it)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


#: The listeners listen_once has put on each live sessionmaker.
_LISTENING: weakref.WeakKeyDictionary[sessionmaker[Session], set[tuple[str, Callable[..., None]]]] = (
    weakref.WeakKeyDictionary())


def listen_once(sessions: sessionmaker[Session], name: str, listener: Callable[..., None]) -> None:
    """Have the sessions `sessions` makes call `listener` on event `name`; a second call does nothing.

    Not `event.contains`: SQLAlchemy files a sessionmaker's listeners under its id(), so a new
    sessionmaker at the address of one freed before it seems to have them already, and would get
    none (seen as a search index and an audit log that missed the changes of one archive in a run).
    """
    done = _LISTENING.setdefault(sessions, set())
    if (name, listener) not in done:
        event.listen(sessions, name, listener)
        done.add((name, listener))


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "no migrations found"
    return head


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema up to the newest migration; return (revision before, revision after)."""
    before = current_revision(engine)
    head = head_revision()
    if before != head:
        command.upgrade(alembic_config(engine), "head")
    return before, head


# -- moving a catalogue to another database ---------------------------------------------------

#: Tables the migrations fill themselves (ISO 3166 countries): not a sign of an earlier catalogue in a
#: copy's target, and replaced there by the source's rows, which may have been edited.
REFERENCE_TABLES = frozenset({"countries"})
#: Rows sent to the target per INSERT.
COPY_BATCH = 1000
#: Rows of each table compared value by value after a copy, besides every table's count.
SAMPLE_ROWS = 50


class CopyRefused(Exception):
    """The copy cannot start: the target already holds a catalogue, or the source is not migrated."""


class CopyMismatch(Exception):
    """The copied catalogue differs from the source (a count or a sampled row)."""


@dataclass(frozen=True)
class CopyReport:
    #: Rows copied per table, in the order copied.
    rows: dict[str, int]
    #: Rows compared value by value per table (a sample: the first, the last and some between).
    sampled: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copy_catalogue(source: Engine, target: Engine, *,
                   progress: Callable[[str, int, int], None] | None = None) -> CopyReport:
    """Copy every table of the catalogue at `source` into `target`, which must be empty, then check it.

    The target is migrated to the newest schema first and must hold no rows; the source must be at
    the same revision (run `crossings db upgrade` on it first). Tables go in foreign-key order in one
    transaction, so a failed copy leaves the target empty. A column referring to its own table (a
    tag's broader term) is filled in afterwards, so rows may come in any order. Identity sequences
    are moved past the copied ids. Afterwards every table's count is compared, and a sample of rows
    value by value; a difference raises CopyMismatch naming the table and row. `progress(table, done, total)`
    is called as rows go.
    """
    from archive.models import Base

    head = head_revision()
    if current_revision(source) != head:
        raise CopyRefused(f"the source catalogue is at revision {current_revision(source) or 'empty'}, not "
                          f"{head}: run `crossings db upgrade` on it first")
    upgrade(target)
    tables = Base.metadata.sorted_tables
    with target.connect() as conn:
        used = [table.name for table in tables if table.name not in REFERENCE_TABLES
                and conn.execute(select(func.count()).select_from(table)).scalar()]
    if used:
        raise CopyRefused(f"the target database already holds rows in {', '.join(used)}; copy into an empty one")
    rows: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in reversed(tables):
            if table.name in REFERENCE_TABLES:
                dst.execute(table.delete())
        for table in tables:
            later = [c for c in table.columns for fk in c.foreign_keys if fk.column.table is table]
            # Columns set on update (updated_at) keep the source's values, not the copy's time.
            kept = [c for c in table.columns if c.onupdate is not None]
            total = src.execute(select(func.count()).select_from(table)).scalar_one()
            done = 0
            result = src.execution_options(yield_per=COPY_BATCH).execute(
                select(table).order_by(*table.primary_key.columns))
            for batch in result.partitions():
                values = [dict(row._mapping) for row in batch]
                dst.execute(table.insert(), [{**v, **{c.name: None for c in later}} for v in values])
                for column in later:
                    keys = [{"_key_" + k.name: v[k.name] for k in table.primary_key.columns}
                            | {"_" + c.name: v[c.name] for c in (column, *kept)}
                            for v in values if v[column.name] is not None]
                    if keys:
                        where = [k == bindparam("_key_" + k.name) for k in table.primary_key.columns]
                        dst.execute(table.update().where(*where).values(
                            {c.name: bindparam("_" + c.name) for c in (column, *kept)}), keys)
                done += len(values)
                if progress:
                    progress(table.name, done, total)
            rows[table.name] = done
        if dst.dialect.name == "postgresql":
            for table in tables:
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (column.autoincrement == "auto" and len(table.primary_key.columns) == 1
                                                        and isinstance(column.type, Integer)):
                        dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                                         f"coalesce(max({column.name}), 0) + 1, false) FROM {table.name}"))
    return CopyReport(rows, _compare(source, target, tables))


def _compare(source: Engine, target: Engine, tables: list[Table]) -> dict[str, int]:
    sampled: dict[str, int] = {}
    with source.connect() as src, target.connect() as dst:
        for table in tables:
            count = select(func.count()).select_from(table)
            there, here = src.execute(count).scalar_one(), dst.execute(count).scalar_one()
            if there != here:
                raise CopyMismatch(f"{table.name}: {there} rows in the source, {here} in the target")
            order = list(table.primary_key.columns)
            keys = src.execute(select(*order).order_by(*order)).all()
            step = max(1, len(keys) // SAMPLE_ROWS)
            sample = keys[::step][:SAMPLE_ROWS] + keys[-1:]
            for key in sample:
                where = [c == v for c, v in zip(order, key)]
                a = src.execute(select(table).where(*where)).one()._mapping
                b = dst.execute(select(table).where(*where)).one()._mapping
                if dict(a) != dict(b):
                    raise CopyMismatch(f"{table.name} row {tuple(key)}: {dict(a)} in the source, {dict(b)} in the target")
            sampled[table.name] = len(sample)
    return sampled
