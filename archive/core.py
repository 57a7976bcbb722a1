"""The Archive: one object built the same way by the web app, the CLI and the tests."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import db, identity
from archive.access import SYSTEM, Viewer
from archive.models import AccessLevel, AppSecret, LocationPrecision, MediaFile
from archive.search import SearchEngine, SearchIndex, WhooshIndex
from archive.search.pg_index import PostgresIndex
from archive.services import audit
from archive.services import harvest_log, search_sync
from archive.settings import SettingsError, load_settings
from archive.objects import LocalObjects, Objects, S3Objects
from archive.store import Store


def _check_choice(settings: dict[str, Any], name: str, choices: type[enum.Enum]) -> None:
    """Refuse a setting that is not one of an enum's values, naming the setting and the choices."""
    try:
        choices(settings[name])
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise SettingsError(f"setting {name!r} must be one of {allowed}, got {settings[name]!r}") from None


def shared_secret(engine: Engine, name: str, make: Callable[[], str]) -> str:
    """The secret `name` from the app_secrets table; the first caller stores `make()` and every other gets that.

    Two processes starting at once may both find no row and both insert: the primary key lets one
    win, the other's insert fails, and both then read the winner's value. Core statements rather
    than the ORM, so the audit listener never records a secret. The read and the insert run in
    separate transactions: SQLite refuses to turn a read transaction whose snapshot another writer
    has moved past into a write one, while a transaction that starts by writing waits its turn.
    """
    table = AppSecret.__table__
    query = select(table.c.value).where(table.c.name == name)
    with engine.connect() as conn:
        value = conn.scalar(query)
    if value is not None:
        return value
    try:
        with engine.begin() as conn:
            conn.execute(insert(table).values(name=name, value=make()))
    except IntegrityError:
        pass  # another process stored it first; theirs is read below
    with engine.connect() as conn:
        return conn.scalars(query).one()


class StoreBackend(enum.Enum):
    local = "local"
    s3 = "s3"


def _objects(settings: dict[str, Any], data_root: Path) -> Objects:
    """The store's backend of the store_backend setting."""
    _check_choice(settings, "store_backend", StoreBackend)
    match StoreBackend(settings["store_backend"]):
        case StoreBackend.local:
            return LocalObjects(data_root)
        case StoreBackend.s3:
            return s3_objects(settings)


def s3_objects(settings: dict[str, Any]) -> S3Objects:
    """The bucket the s3_* settings name (the store's, or the target of `crossings store copy`)."""
    if not settings["s3_bucket"]:
        raise SettingsError("setting 's3_bucket' must name a bucket")
    return S3Objects(endpoint_url=settings["s3_endpoint_url"], bucket=settings["s3_bucket"],
                     region=settings["s3_region"], prefix=settings["s3_prefix"])


class Archive:
    """Settings, the data root, the database and the store of one archive."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.data_root = Path(settings["data"]).expanduser().resolve()
        self.database_url = settings["database_url"] or f"sqlite:///{self.data_root / 'crossings.sqlite3'}"
        self.engine = db.make_engine(self.database_url)
        self.store = Store(self.data_root, _objects(settings, self.data_root), self.engine,
                           intent_lease_seconds=settings["store_intent_lease_seconds"])
        self.Session = db.make_sessionmaker(self.engine)
        #: (revision before, revision after) of the migration run when the archive was opened.
        self.migration: tuple[str | None, str] | None = None
        _check_choice(settings, "default_access", AccessLevel)  # fail early on a misspelt level
        _check_choice(settings, "default_location_precision", LocationPrecision)
        _check_choice(settings, "search_engine", SearchEngine)
        if settings["search_engine"] == SearchEngine.postgresql and self.engine.dialect.name != "postgresql":
            raise SettingsError(f"setting 'search_engine' is 'postgresql', which keeps the index in the catalogue "
                                f"database, but 'database_url' is a {self.engine.dialect.name} database "
                                f"({self.engine.url.render_as_string(hide_password=True)}); use search_engine = \"whoosh\" or a PostgreSQL database_url")
        # Search: sessions know their archive, so that a commit can update the index (search_sync).
        problem = identity.check(settings)
        if problem:
            raise SettingsError(problem)
        self.identity = identity.Identity.from_settings(settings)
        self.Session.configure(info={"archive": self})
        identity.give_identifiers(self.Session)
        search_sync.keep_in_step(self.Session)
        harvest_log.keep_harvest_log(self.Session)  # what OAI-PMH harvesters know, deletions included
        audit.record_changes(self.Session)
        #: Update the search index after each commit that changed what it holds (else: sync_index later).
        self.index_on_commit = True
        self._index: SearchIndex | None = None

    @classmethod
    def open(cls, overrides: dict[str, Any] | None = None, *, migrate: bool = True) -> Archive:
        """Load settings, create a missing data root and bring its database up to date."""
        archive = cls(load_settings(overrides))
        archive.data_root.mkdir(parents=True, exist_ok=True)
        archive.store.create()
        if migrate:
            archive.migration = db.upgrade(archive.engine)
            search_sync.recover(archive)  # changes a crash left unindexed; a missing index is built
        return archive

    @property
    def index_dir(self) -> Path:
        return self.data_root / "index"

    @property
    def index(self) -> SearchIndex:
        """The full-text search index of the `search_engine` setting (a cache of the database, see
        archive.services.search_sync)."""
        if self._index is None:
            self._index = self._open_index()
        return self._index

    def _open_index(self) -> SearchIndex:
        # Adding an engine: a SearchEngine value, a case here, and an entry in tests/test_search_contract.py.
        match SearchEngine(self.settings["search_engine"]):
            case SearchEngine.whoosh:
                return WhooshIndex(self.index_dir, catalogue_language=self.settings["catalogue_language"])
            case SearchEngine.postgresql:
                return PostgresIndex(self.engine, catalogue_language=self.settings["catalogue_language"])

    def secret_key(self) -> str:
        """The configured secret key, else the one kept in the database (made once, by whichever process is first)."""
        if self.settings["secret_key"]:
            return self.settings["secret_key"]
        # A data root from before the key moved into the database keeps its key, and its logins.
        legacy = self.data_root / "secret_key"
        return shared_secret(self.engine, "secret_key",
                             lambda: legacy.read_text().strip() if legacy.is_file() else secrets.token_hex(32))

    @contextmanager
    def session(self, actor: Viewer = SYSTEM) -> Iterator[Session]:
        """A session whose transaction commits when the block ends without error; changes are `actor`'s."""
        with self.Session() as session, session.begin():
            audit.act_as(session, actor)
            yield session

    def recover(self) -> list[str]:
        """Undo what an interrupted ingest left in the store (see Store.recover)."""
        with self.Session() as session:
            def is_recorded(sha: str) -> bool:
                return session.scalar(select(MediaFile.id).where(MediaFile.sha256 == sha)) is not None
            return self.store.recover(is_recorded)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self.engine.dispose()
