"""The catalogue's tables as SQLAlchemy 2 typed models.

The database is the source of truth; files in the store and the search index follow it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timezone
from collections.abc import Iterable
from typing import Annotated, Any

from sqlalchemy import (JSON, Column, Date, DateTime, Enum, Float, ForeignKey, Index, MetaData, String, Subquery,
                        Table, Text, TypeDecorator, UniqueConstraint, CheckConstraint, select, union)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it stores naive UTC)."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a zone")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


# Shared column shapes, as in Warehouse.
intpk = Annotated[int, mapped_column(primary_key=True)]
title_str = Annotated[str, mapped_column(String(500))]
short_str = Annotated[str, mapped_column(String(200))]
long_text = Annotated[str, mapped_column(Text, default="")]
created_ts = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
updated_ts = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)]
# VERSIONED: an edited record's `version` counts its saves. Forms carry it, and SQLAlchemy's
# version_id_col makes every UPDATE say "... WHERE version = the one loaded", so a save made from
# a stale copy is refused atomically (StaleDataError) and two saves at once cannot both win.

# Constraint names are deterministic so that Alembic migrations can refer to them on any backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AccessLevel(str, enum.Enum):
    """Who may know an item exists; see archive.access for the one policy that applies it."""
    public = "public"
    restricted = "restricted"
    confidential = "confidential"


class Role(str, enum.Enum):
    """What a viewer may do; `public` is the anonymous visitor and no account has it."""
    public = "public"          # anonymous visitors: public material only
    researcher = "researcher"  # reads restricted material
    archivist = "archivist"    # reads restricted material, edits the catalogue
    admin = "admin"            # sees everything, manages users, trash and the audit log


class LocationPrecision(str, enum.Enum):
    """How precisely a sensitive position is published to viewers who may not see it exactly.

    Editors always see the exact position; archive.access.published_position applies the rest.
    """
    exact = "exact"      # published as it is
    km10 = "km10"        # the centre of its 0.1° grid cell (about 10 km)
    region = "region"    # the parent place's published position, else the centre of its 1° cell
    country = "country"  # the country's representative point

    @property
    def label(self) -> str:
        return _PRECISION_LABELS[self]

    @property
    def shown_as(self) -> str:
        """How a position published at this precision is described beside it ("" when exact)."""
        return _PRECISION_SHOWN_AS[self]

    @property
    def rank(self) -> int:
        """0 for exact, growing as the position gets coarser."""
        return list(LocationPrecision).index(self)


_PRECISION_LABELS = {LocationPrecision.exact: "exact", LocationPrecision.km10: "about 10 km",
                     LocationPrecision.region: "region", LocationPrecision.country: "country only"}
_PRECISION_SHOWN_AS = {LocationPrecision.exact: "", LocationPrecision.km10: "shown to about 10 km",
                       LocationPrecision.region: "shown only to the region",
                       LocationPrecision.country: "shown only to the country"}


class ItemKind(str, enum.Enum):
    video = "video"
    still = "still"
    audio = "audio"
    #: A record catalogued before its media exist (imported from PBCore or a spreadsheet); ingesting
    #: its file later attaches the file and gives the item the file's kind.
    catalogued = "catalogued"

    @property
    def label(self) -> str:
        return "catalogued, media not yet attached" if self is ItemKind.catalogued else self.value


class JobState(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings with a CHECK, so a new value is a small migration on every backend.
    return Enum(cls, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e], name=cls.__name__.lower())


item_tags = Table(
    "item_tags", Base.metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Collection(Base):
    """A film, a series or a donated body of footage."""
    __tablename__ = "collections"

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    title: Mapped[title_str] = mapped_column(unique=True)
    year: Mapped[int | None]
    kind: Mapped[short_str] = mapped_column(default="")  #: documentary, feature film, donation...
    synopsis: Mapped[long_text]
    description: Mapped[long_text]
    rights: Mapped[long_text]
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    items: Mapped[list[Item]] = relationship(back_populates="collection")
    credits: Mapped[list[Credit]] = relationship(back_populates="collection", order_by="Credit.position",
                                                 cascade="all, delete-orphan")


class Item(Base):
    """One piece of footage, a still or an audio recording."""
    __tablename__ = "items"
    #: Browse pages and the home page list the items a visitor may see newest first: with this index
    #: a page is read in order from it, and counted from it alone, instead of sorting every visible
    #: item (at 10,000 items: 15 ms for a page, 6 ms with it).
    __table_args__ = (Index("ix_items_access_created_at", "access", "deleted_at", "created_at", "id"),)

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    #: Persistent identifier, given when the item is created and kept by every export and restore: an
    #: ARK under the archive's NAAN, else urn:uuid (archive.identity).
    pid: Mapped[str] = mapped_column(String(200), unique=True, default=lambda: f"urn:uuid:{uuid.uuid4()}")
    title: Mapped[title_str]
    description: Mapped[long_text]
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind), index=True)
    #: Extended Date/Time Format text (e.g. "2019-04", "2019-04-12~", "2019-03/2019-05"); empty if unknown.
    date_shot: Mapped[short_str] = mapped_column(default="")
    #: Earliest and latest calendar days that date_shot allows, for sorting and year filters.
    date_lower: Mapped[date | None] = mapped_column(Date, index=True)
    date_upper: Mapped[date | None] = mapped_column(Date)
    creator: Mapped[short_str] = mapped_column(default="")
    language: Mapped[short_str] = mapped_column(default="")  #: BCP 47 tags, comma-separated
    rights: Mapped[long_text]
    source: Mapped[long_text]
    access: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel), index=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="SET NULL"),
                                                      index=True)
    created_at: Mapped[created_ts] = mapped_column(index=True)
    updated_at: Mapped[updated_ts]
    #: Set when the item is in the trash: hidden everywhere but the trash, restorable until emptied.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    collection: Mapped[Collection | None] = relationship(back_populates="items")
    tags: Mapped[list[Tag]] = relationship(secondary=item_tags, back_populates="items", order_by="Tag.name")
    media_files: Mapped[list[MediaFile]] = relationship(back_populates="item", order_by="MediaFile.id",
                                                        cascade="all, delete-orphan")
    credits: Mapped[list[Credit]] = relationship(back_populates="item", order_by="Credit.position",
                                                 cascade="all, delete-orphan")
    jobs: Mapped[list[Job]] = relationship(back_populates="item", order_by="Job.id")
    ranges: Mapped[list[TimeRange]] = relationship(back_populates="item", order_by="TimeRange.start_sec",
                                                   cascade="all, delete-orphan")
    transcripts: Mapped[list[Transcript]] = relationship(back_populates="item", order_by="Transcript.id",
                                                         cascade="all, delete-orphan")
    #: How precisely the GPS position of its media is published (see archive.access.published_position).
    location_precision: Mapped[LocationPrecision] = mapped_column(
        _enum(LocationPrecision), default=LocationPrecision.exact, server_default=LocationPrecision.exact.value)
    places: Mapped[list[Place]] = relationship(secondary="item_places", back_populates="items",
                                               order_by="Place.name")
    legs: Mapped[list[Leg]] = relationship(secondary="item_legs", back_populates="items", order_by="Leg.id")
    source_records: Mapped[list[SourceRecord]] = relationship(back_populates="item", order_by="SourceRecord.id",
                                                              cascade="all, delete-orphan")
    record_keys: Mapped[list[RecordKey]] = relationship(order_by="RecordKey.id", cascade="all, delete-orphan")

    @property
    def media(self) -> MediaFile | None:
        """The item's original file (items hold one; the list leaves room for versions)."""
        return self.media_files[0] if self.media_files else None


#: How pages name the formats of source records.
SOURCE_FORMAT_NAMES = {"pbcore": "PBCore", "csv": "CSV"}


class SourceRecord(Base):
    """A record an item was imported from, kept whole: what has no place in the model is not lost, editors
    can read it, and an item left untouched since its import is exported again as it came."""
    __tablename__ = "source_records"

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(20))  #: "pbcore", "csv"... (SOURCE_FORMAT_NAMES names them)
    source_name: Mapped[str] = mapped_column(String(1000), default="")  #: the imported file's name
    content: Mapped[str] = mapped_column(Text)  #: the record as it came (XML text for PBCore)
    #: The item's version right after the import: while it still has it, the item is untouched.
    item_version: Mapped[int]
    imported_at: Mapped[created_ts]

    item: Mapped[Item] = relationship(back_populates="source_records")

    @property
    def format_name(self) -> str:
        return SOURCE_FORMAT_NAMES.get(self.format, self.format)


class RecordKey(Base):
    """A name by which ingest knows the file of a record catalogued before its media: an identifier or a
    file name ("name:cpb-aacip-15-70msck27", "name:tape_12.mov") or a checksum ("sha256:...", "md5:...").

    A table rather than a search through the kept XML, so that each ingested file costs one indexed look-up.
    """
    __tablename__ = "record_keys"
    __table_args__ = (UniqueConstraint("item_id", "key"),)

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(1000), index=True)


class MediaFile(Base):
    """A stored original, content-addressed by SHA-256, with its technical metadata."""
    __tablename__ = "media_files"

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(1000))
    original_path: Mapped[str] = mapped_column(Text)  #: where it was found at ingest, escaped if not UTF-8
    size: Mapped[int]  #: bytes
    mime_type: Mapped[short_str]
    container: Mapped[short_str] = mapped_column(default="")
    duration: Mapped[float | None] = mapped_column(Float)  #: seconds
    width: Mapped[int | None]  #: coded pixels, before rotation
    height: Mapped[int | None]
    frame_rate: Mapped[float | None] = mapped_column(Float)  #: frames per second
    video_codec: Mapped[short_str] = mapped_column(default="")
    audio_codec: Mapped[short_str] = mapped_column(default="")
    pixel_format: Mapped[short_str] = mapped_column(default="")
    bit_rate: Mapped[int | None]  #: bits per second
    audio_channels: Mapped[int | None]
    audio_sample_rate: Mapped[int | None]  #: Hz
    rotation: Mapped[int] = mapped_column(default=0)  #: degrees clockwise to display upright
    creation_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    latitude: Mapped[float | None] = mapped_column(Float)  #: WGS84 decimal degrees
    longitude: Mapped[float | None] = mapped_column(Float)  #: WGS84 decimal degrees
    altitude: Mapped[float | None] = mapped_column(Float)  #: metres
    camera_make: Mapped[short_str] = mapped_column(default="")
    camera_model: Mapped[short_str] = mapped_column(default="")
    #: True when browsers play the original as it is (no proxy is made).
    web_ready: Mapped[bool] = mapped_column(default=False)
    #: What ingest could not do with the file and went on without (fewer frames decoded than a
    #: storyboard wants, exiftool unreadable, ...): sentences for editors, oldest first.
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    ingested_at: Mapped[created_ts]

    item: Mapped[Item] = relationship(back_populates="media_files")
    derivatives: Mapped[list[Derivative]] = relationship(back_populates="media_file",
                                                         cascade="all, delete-orphan",
                                                         order_by="Derivative.kind")

    def derivative(self, kind: str) -> Derivative | None:
        return next((d for d in self.derivatives if d.kind == kind), None)

    @property
    def display_size(self) -> tuple[int, int] | None:
        if not (self.width and self.height):
            return None
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)


class Derivative(Base):
    """A file made from an original: grid and page thumbnails, storyboard, waveform, web proxy, and the
    access copy downloaded by viewers who may not have the original (archive.services.access_copies)."""
    __tablename__ = "derivatives"
    __table_args__ = (UniqueConstraint("media_file_id", "kind"),)

    KINDS = ("grid", "page", "storyboard", "proxy", "access")

    id: Mapped[intpk]
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text)  #: relative to the data root
    mime_type: Mapped[short_str]
    width: Mapped[int | None]
    height: Mapped[int | None]
    size: Mapped[int]  #: bytes
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  #: e.g. storyboard frame times
    created_at: Mapped[created_ts]

    media_file: Mapped[MediaFile] = relationship(back_populates="derivatives")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[short_str] = mapped_column(unique=True)
    note: Mapped[long_text]

    credits: Mapped[list[Credit]] = relationship(back_populates="person")


class Credit(Base):
    """A person's role on a collection or on an item (exactly one of the two)."""
    __tablename__ = "credits"
    __table_args__ = (
        CheckConstraint("(collection_id IS NULL) <> (item_id IS NULL)", name="one_target"),
    )

    id: Mapped[intpk]
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[short_str]
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"),
                                                      index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="credits")
    collection: Mapped[Collection | None] = relationship(back_populates="credits")
    item: Mapped[Item | None] = relationship(back_populates="credits")


class Tag(Base):
    """A term of the controlled vocabulary, optionally under a broader one."""
    __tablename__ = "tags"

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[short_str] = mapped_column(unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id", ondelete="SET NULL"))

    parent: Mapped[Tag | None] = relationship(remote_side="Tag.id")
    items: Mapped[list[Item]] = relationship(secondary=item_tags, back_populates="tags")


class Job(Base):
    """Background work recorded in the database, so that it survives restarts."""
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_id", "state", "id"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(50))  #: name of a handler in archive.services.jobs
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(_enum(JobState), default=JobState.queued)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[long_text]  #: the reason of the latest failed attempt
    #: Every failed attempt, oldest first: {"attempt", "at" (ISO 8601 UTC), "worker", "error"}.
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    worker: Mapped[short_str] = mapped_column(default="")
    created_at: Mapped[created_ts]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A running job belongs to its worker until then; the worker's heartbeat moves it on, and once
    #: it has passed (the worker was killed) any worker may take the job again.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A queued retry waits until then (exponential backoff); None: at once.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item: Mapped[Item | None] = relationship(back_populates="jobs")


class PeriodicRun(Base):
    """One period's run of a periodic job (the nightly fixity check). Every worker tries to insert
    the row when the period begins; the unique (name, period_start) lets exactly one succeed, and
    that one queues the job."""
    __tablename__ = "periodic_runs"
    __table_args__ = (UniqueConstraint("name", "period_start"),)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(50))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    worker: Mapped[short_str] = mapped_column(default="")  #: the worker whose insert won
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[created_ts]

    job: Mapped[Job | None] = relationship()


class FixityResult(str, enum.Enum):
    ok = "ok"
    missing = "missing"   # the stored original is gone
    changed = "changed"   # its bytes no longer hash to its checksum


class FixityCheck(Base):
    """The latest fixity check of one stored original; the nightly job takes the least recently checked."""
    __tablename__ = "fixity_checks"

    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    result: Mapped[FixityResult] = mapped_column(_enum(FixityResult))
    actual_sha256: Mapped[str] = mapped_column(String(64), default="")  #: what a changed original hashes to
    #: When the current run of failures began (None while it is ok): how long it has been wrong.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    media: Mapped[MediaFile] = relationship()


class TimeRange(Base):
    """A tagged stretch of an item's footage or sound, from `start` to `end`."""
    __tablename__ = "time_ranges"
    __table_args__ = (CheckConstraint("start_sec >= 0 AND end_sec > start_sec", name="ordered"),)

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    start_sec: Mapped[float] = mapped_column(Float)  #: seconds from the start of the media
    end_sec: Mapped[float] = mapped_column(Float)  #: seconds from the start of the media
    note: Mapped[long_text]
    created_at: Mapped[created_ts]
    #: Where and on which leg of a journey this stretch was filmed, when known.
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"), index=True)
    leg_id: Mapped[int | None] = mapped_column(ForeignKey("legs.id", ondelete="SET NULL"), index=True)

    item: Mapped[Item] = relationship(back_populates="ranges")
    tag: Mapped[Tag] = relationship()
    place: Mapped[Place | None] = relationship()
    leg: Mapped[Leg | None] = relationship()


class CollectionGrant(Base):
    """An account may see a collection's confidential items, through the end of `expires_on`
    (a UTC day, included) when it is set. An expired grant stays, so the accounts page and the
    log can say what it was; it opens nothing."""
    __tablename__ = "user_collections"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    expires_on: Mapped[date | None] = mapped_column(Date)

    collection: Mapped[Collection] = relationship()

    def in_force(self, today: date) -> bool:
        return self.expires_on is None or today <= self.expires_on


class User(Base):
    """An account. Confidential material needs a grant of its collection (admins see all)."""
    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_ts]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    #: In force or expired; an expiry is changed by replacing the grant, so the log records old and new.
    grants: Mapped[list[CollectionGrant]] = relationship(cascade="all, delete-orphan",
                                                         order_by=CollectionGrant.collection_id)


class LoginSession(Base):
    """One logged-in browser. Its cookie carries only a random token; the row keeps the token's
    sha256, so a copy of the database opens no session. Deleting the row logs the browser out."""
    __tablename__ = "sessions"

    id: Mapped[intpk]
    #: sha256 hex of the cookie's token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created_ts]
    #: Last request seen, refreshed at most once a minute; the idle lifetime counts from here.
    last_seen_at: Mapped[created_ts]
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class TokenScope(str, enum.Enum):
    """What an API token may do: read acts as its account on safe requests (GET, HEAD, OPTIONS) only."""
    read = "read"
    read_write = "read_write"


class ApiToken(Base):
    """A secret a script sends as `Authorization: Bearer crs_...` to act as its account.

    As with logins, only the secret's sha256 is kept, so a copy of the database opens nothing;
    `prefix` (the secret's first characters) is what listings show to tell tokens apart. A revoked
    token stays, so the account's page and the audit trail can still say what it was.
    """
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: sha256 hex of the secret.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The secret's first characters (its `crs_` and 8 more), shown in listings.
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[TokenScope] = mapped_column(_enum(TokenScope))
    created_at: Mapped[created_ts]
    #: The token opens nothing from this moment on (None: until revoked).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Last request made with it, refreshed at most once a minute.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One try to log in, kept to rate-limit guessing across processes and web nodes."""
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"))

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80))
    remote_addr: Mapped[str] = mapped_column(String(64))
    #: None while the password is being checked (the attempt is reserved first and counts as a failure).
    succeeded: Mapped[bool | None]
    at: Mapped[created_ts]


class AppSecret(Base):
    """A secret every process of the archive must share, such as the key that signs session cookies.

    Kept in the database rather than a file per node, so that web nodes over one database sign and
    accept the same cookies; made once by whichever process starts first (see Archive.secret_key).
    """
    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_ts]


class AuditEntry(Base):
    """One recorded change: who, when, what object, which fields with old and new values."""
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[intpk]
    at: Mapped[created_ts] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(80))  #: username, or "system" for the CLI and the demo
    action: Mapped[str] = mapped_column(String(30), index=True)  #: create, edit, delete, restore, ingest...
    object_type: Mapped[str] = mapped_column(String(30))  #: item, collection, person, credit, tag, range, user
    object_id: Mapped[int | None]
    object_label: Mapped[str] = mapped_column(String(500), default="")
    #: The object's version after the change, so a stale save can be told what changed since.
    object_version: Mapped[int | None]
    #: {field: [old, new]} in JSON values
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    batch: Mapped[str] = mapped_column(String(40), default="")  #: groups the entries of one bulk edit
    #: The API token the change was made through (its account is `user_id`); None for the web's logins,
    #: the CLI and the worker. No foreign key: the entry keeps the id even if the token's account is purged.
    token_id: Mapped[int | None]

    user: Mapped[User | None] = relationship()


class TranscriptKind(str, enum.Enum):
    transcript = "transcript"
    subtitles = "subtitles"
    description = "description"      # audio description of what is seen
    interview_log = "interview_log"  # a logger's time-coded notes


class Transcript(Base):
    """Time-coded text of one item in one language: a transcript, subtitles, a description or a log."""
    __tablename__ = "transcripts"

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(35), default="")  #: BCP 47, e.g. "ko", "en", "zh-Hans"
    kind: Mapped[TranscriptKind] = mapped_column(_enum(TranscriptKind), default=TranscriptKind.transcript)
    source_name: Mapped[str] = mapped_column(String(1000), default="")  #: the imported file's name
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    item: Mapped[Item] = relationship(back_populates="transcripts")
    segments: Mapped[list[Segment]] = relationship(back_populates="transcript", order_by="Segment.position",
                                                   cascade="all, delete-orphan")


class Segment(Base):
    """One cue of a transcript: what is said (or seen) from start_sec to end_sec, and by whom."""
    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_transcript_position", "transcript_id", "position"),
                      CheckConstraint("start_sec >= 0 AND end_sec >= start_sec", name="ordered"))

    id: Mapped[intpk]
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    position: Mapped[int]  #: order within the transcript, from 0
    start_sec: Mapped[float] = mapped_column(Float)  #: seconds from the start of the media
    end_sec: Mapped[float] = mapped_column(Float)  #: seconds from the start of the media
    speaker: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[long_text]

    transcript: Mapped[Transcript] = relationship(back_populates="segments")


class SearchOutbox(Base):
    """Items whose search documents must be rewritten, written in the same transaction as the change.

    The index is a cache of the database: after a commit the indexer takes rows from here, and a
    crash between the commit and the index write leaves them here for the next start.
    """
    __tablename__ = "search_outbox"

    id: Mapped[intpk]
    object_type: Mapped[str] = mapped_column(String(20))  #: "item" or "collection"
    object_id: Mapped[int]
    queued_at: Mapped[created_ts]



class HarvestRecord(Base):
    """An item as OAI-PMH harvesters know it (archive.services.harvest_log): a row from the first time
    the item was harvestable (public, not in the trash), kept for good, so that an item no longer public
    or trashed is reported as deleted, and an item never public is never named. Written in the same
    transaction as the change, with Core statements (not audited: it is a consequence, not an edit).
    """
    __tablename__ = "harvest_records"
    __table_args__ = (Index("ix_harvest_records_datestamp", "datestamp", "id"),)

    id: Mapped[intpk]  #: the stable order harvests page in
    pid: Mapped[str] = mapped_column(String(200), unique=True)  #: the OAI identifier: the item's pid
    #: The item while it exists; NULL once it is gone from the catalogue (the trash emptied). No foreign
    #: key: the row outlives the item, and a reused id must not inherit its record.
    item_id: Mapped[int | None] = mapped_column(unique=True)
    #: The collection (the OAI set) the item was in when last harvestable; kept when it is deleted.
    collection_id: Mapped[int | None] = mapped_column(index=True)
    #: When the record (or its deletion) last changed, UTC, to the second: OAI-PMH's datestamp.
    datestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted: Mapped[bool] = mapped_column(default=False)

# -- places, border crossings and journeys (issue 5) -------------------------------------------

class PlaceKind(str, enum.Enum):
    city = "city"
    town = "town"
    village = "village"
    region = "region"
    river = "river"
    lake = "lake"
    sea = "sea"
    mountain = "mountain"
    border_post = "border_post"
    crossing_point = "crossing_point"
    camp = "camp"
    airport = "airport"
    building = "building"
    other = "other"


class CrossingKind(str, enum.Enum):
    river = "river"
    land = "land"
    sea = "sea"
    air = "air"


class TravelMode(str, enum.Enum):
    on_foot = "on_foot"
    river_crossing = "river_crossing"
    boat = "boat"
    car = "car"
    bus = "bus"
    train = "train"
    air = "air"
    hidden_transport = "hidden_transport"
    other = "other"


class Country(Base):
    """An ISO 3166-1 country; every one is seeded by the migration from pycountry."""
    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  #: alpha-2, upper case
    name: Mapped[short_str]  #: pycountry's common name where it has one ("North Korea")


item_places = Table(
    "item_places", Base.metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("place_id", ForeignKey("places.id", ondelete="CASCADE"), primary_key=True, index=True),
)

item_legs = Table(
    "item_legs", Base.metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("leg_id", ForeignKey("legs.id", ondelete="CASCADE"), primary_key=True, index=True),
)

journey_people = Table(
    "journey_people", Base.metadata,
    Column("journey_id", ForeignKey("journeys.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Place(Base):
    """A named point of the gazetteer: a town, a river, a border post, a region..."""
    __tablename__ = "places"
    __table_args__ = (
        UniqueConstraint("name", "country_code"),
        CheckConstraint("latitude >= -90 AND latitude <= 90", name="latitude"),
        CheckConstraint("longitude >= -180 AND longitude <= 180", name="longitude"),
    )

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[short_str]
    #: Other names: other scripts and spellings ("혜산", "惠山").
    alt_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[PlaceKind] = mapped_column(_enum(PlaceKind), default=PlaceKind.other)
    #: None for what lies across borders (a river, a mountain range).
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"), index=True)
    latitude: Mapped[float] = mapped_column(Float)  #: WGS84 decimal degrees, -90 to 90
    longitude: Mapped[float] = mapped_column(Float)  #: WGS84 decimal degrees, -180 to 180
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"), index=True)
    description: Mapped[long_text]
    access: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel), default=AccessLevel.public)
    #: How precisely the position is published to viewers who are not editors.
    precision: Mapped[LocationPrecision] = mapped_column(_enum(LocationPrecision), default=LocationPrecision.exact)
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    country: Mapped[Country | None] = relationship()
    parent: Mapped[Place | None] = relationship(remote_side="Place.id", back_populates="children")
    children: Mapped[list[Place]] = relationship(back_populates="parent", order_by="Place.name")
    items: Mapped[list[Item]] = relationship(secondary=item_places, back_populates="places")


class BorderCrossing(Base):
    """A place where people cross from one country into another."""
    __tablename__ = "border_crossings"
    __table_args__ = (CheckConstraint("from_country <> to_country", name="two_countries"),)

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)  #: the crossing point
    from_country: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    to_country: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    kind: Mapped[CrossingKind] = mapped_column(_enum(CrossingKind))
    notes: Mapped[long_text]
    created_at: Mapped[created_ts]

    place: Mapped[Place] = relationship()

    @property
    def label(self) -> str:
        return f"{self.place.name} ({self.from_country}→{self.to_country}, {self.kind.value})"


class Journey(Base):
    """A journey people travelled, as an ordered list of legs."""
    __tablename__ = "journeys"

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    title: Mapped[title_str]
    #: Who travelled, in words: a person or a group ("A family of five (fictional)").
    travellers: Mapped[long_text]
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="SET NULL"),
                                                      index=True)
    description: Mapped[long_text]
    access: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel), default=AccessLevel.public, index=True)
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    collection: Mapped[Collection | None] = relationship()
    people: Mapped[list[Person]] = relationship(secondary=journey_people, order_by="Person.name")
    legs: Mapped[list[Leg]] = relationship(back_populates="journey", order_by="Leg.position",
                                           cascade="all, delete-orphan")


class Leg(Base):
    """One stretch of a journey, from one place to the next."""
    __tablename__ = "legs"
    __table_args__ = (UniqueConstraint("journey_id", "position"),)

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(default=1, server_default="1")  #: see VERSIONED
    __mapper_args__ = {"version_id_col": version}
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    position: Mapped[int]  #: 1, 2, 3... in the order travelled, without gaps
    from_place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    to_place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    #: Extended Date/Time Format text, as Item.date_shot; empty if unknown.
    date: Mapped[short_str] = mapped_column(default="")
    date_lower: Mapped[date | None] = mapped_column(Date)
    date_upper: Mapped[date | None] = mapped_column(Date)
    mode: Mapped[TravelMode] = mapped_column(_enum(TravelMode), default=TravelMode.other)
    crossing_id: Mapped[int | None] = mapped_column(ForeignKey("border_crossings.id", ondelete="SET NULL"),
                                                    index=True)
    narrative: Mapped[long_text]
    #: Coarsens the published positions of the leg's stops (with the places' own precision).
    precision: Mapped[LocationPrecision] = mapped_column(_enum(LocationPrecision), default=LocationPrecision.exact)

    journey: Mapped[Journey] = relationship(back_populates="legs")
    from_place: Mapped[Place] = relationship(foreign_keys=[from_place_id])
    to_place: Mapped[Place] = relationship(foreign_keys=[to_place_id])
    crossing: Mapped[BorderCrossing | None] = relationship()
    items: Mapped[list[Item]] = relationship(secondary=item_legs, back_populates="legs")


# -- the two ways an item is linked to a place or a leg ----------------------------------------------

def _item_links(table: Table, other: str, item_ids: Iterable[int] | None) -> Subquery:
    direct = select(table.c.item_id, table.c[other])
    ranged = select(TimeRange.item_id, getattr(TimeRange, other)).where(getattr(TimeRange, other).is_not(None))
    if item_ids is not None:  # inside both halves, where their indexes serve
        wanted = sorted(set(item_ids))
        direct, ranged = direct.where(table.c.item_id.in_(wanted)), ranged.where(TimeRange.item_id.in_(wanted))
    return union(direct, ranged).subquery()


def item_place_links(item_ids: Iterable[int] | None = None) -> Subquery:
    """(item_id, place_id) of items linked to a place directly or through one of their time ranges;
    only of `item_ids` when given."""
    return _item_links(item_places, "place_id", item_ids)


def item_leg_links(item_ids: Iterable[int] | None = None) -> Subquery:
    """(item_id, leg_id) of items linked to a leg directly or through one of their time ranges;
    only of `item_ids` when given."""
    return _item_links(item_legs, "leg_id", item_ids)


class StoreIntent(Base):
    """A file entering the store whose catalogue record is not committed yet (archive.store.Store.intent).

    In the database rather than a marker file, so that with an object store and a local folder per
    node any node's recover() finds what another node's killed ingest left behind. Several ingests of
    the same content may hold one each, so the checksum is not the key.
    """
    __tablename__ = "store_intents"

    id: Mapped[intpk]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: When the ingest began placing the file; recover() treats intents older than the lease as abandoned.
    created_at: Mapped[created_ts]


class ClipList(Base):
    """An account's named list of clips (archive.services.clips), shared read-only with other accounts."""
    __tablename__ = "clip_lists"

    id: Mapped[intpk]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[created_ts]

    owner: Mapped[User] = relationship()
    clips: Mapped[list[Clip]] = relationship(back_populates="clip_list", order_by="Clip.position",
                                             cascade="all, delete-orphan")
    shares: Mapped[list[ClipShare]] = relationship(cascade="all, delete-orphan", order_by="ClipShare.user_id")


class Clip(Base):
    """A span of an item kept in a list, with a note; `position` orders the list (0 first)."""
    __tablename__ = "clips"
    __table_args__ = (CheckConstraint("start_sec >= 0 AND end_sec > start_sec", name="ordered"),)

    id: Mapped[intpk]
    list_id: Mapped[int] = mapped_column(ForeignKey("clip_lists.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    start_sec: Mapped[float] = mapped_column(Float)  #: seconds from the start of the media
    end_sec: Mapped[float] = mapped_column(Float)  #: seconds from the start of the media
    note: Mapped[long_text]
    created_at: Mapped[created_ts]

    clip_list: Mapped[ClipList] = relationship(back_populates="clips")
    item: Mapped[Item] = relationship()


class ClipShare(Base):
    """The account `user_id` may read the list (never change it)."""
    __tablename__ = "clip_shares"

    list_id: Mapped[int] = mapped_column(ForeignKey("clip_lists.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)

    user: Mapped[User] = relationship()


class TranscriptPair(Base):
    """The two transcripts an account reads side by side on one item's page
    (archive.services.transcript_pairs); gone with the account, the item or either transcript."""
    __tablename__ = "transcript_pairs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
