"""The content-addressed store of originals and their derivatives, on the local disk or in S3.

Layout (relative to the data root):
    originals/ab/cd/<sha256>          the original, byte for byte, never modified
    derivatives/ab/<sha256>/<file>    thumbnails, storyboard, waveform, proxy
    tmp/                              staging; anything left here is from an interrupted run

The files live in a backend (archive.objects): the data root itself, or an S3-compatible bucket
holding the same keys. tmp/ is always local: staging, and the work folders ffmpeg needs real
files in; fetch() gives a stored file as a local path (a download into tmp/ for S3, removed after).

A file enters a local store by rename from tmp/ (atomic on one filesystem), an object store by
upload. Before that an intent is committed to the database (store_intents); the caller commits the
catalogue record and then clears the intent. A run killed in between leaves the intent behind, and
recover(), on any node, removes stored files whose record never arrived once the intent is older
than the lease, so the store never holds a file the catalogue does not know. The intents are in
the database, not in tmp/, because with an object store each node has its own local folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, delete, insert, select

from archive.objects import LocalObjects, Objects, sha256_object

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Staged:
    """A copy of an incoming file in tmp/, with its checksum."""
    path: Path
    sha256: str
    size: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Store:
    def __init__(self, root: Path, objects: Objects | None = None, engine: Engine | None = None, *,
                 intent_lease_seconds: float = 3600.0) -> None:
        self.root = root
        #: Where originals and derivatives live; tmp/ stays under `root` on every node.
        self.objects: Objects = objects if objects is not None else LocalObjects(root)
        #: The catalogue's engine, which keeps the intents (store_intents).
        self.engine = engine
        self.intent_lease = timedelta(seconds=intent_lease_seconds)
        self.originals = root / "originals"
        self.derivatives = root / "derivatives"
        self.tmp = root / "tmp"
        #: Marker files of versions before the intents moved into the database; recover() honours them.
        self.legacy_intents = self.tmp / "intents"

    def create(self) -> None:
        folders = (self.tmp,) if self.local_path("originals") is None else (self.originals, self.derivatives, self.tmp)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)

    # -- paths -------------------------------------------------------------------------------

    def original_relpath(self, sha256: str) -> str:
        return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def derivative_reldir(self, sha256: str) -> str:
        return f"derivatives/{sha256[:2]}/{sha256}"

    # -- reading -----------------------------------------------------------------------------

    def size(self, relpath: str) -> int | None:
        """The stored file's size in bytes, or None when it is not in the store."""
        return self.objects.size(relpath)

    def is_stored(self, relpath: str) -> bool:
        return self.size(relpath) is not None

    def open(self, relpath: str) -> BinaryIO:
        """A seekable stream of a stored file (FileNotFoundError when it is not there)."""
        return self.objects.open(relpath)

    def local_path(self, relpath: str) -> Path | None:
        """The stored file itself on the local disk, or None for a remote backend."""
        return self.objects.local_path(relpath)

    def hash(self, relpath: str) -> str | None:
        """The SHA-256 of a stored file, read as a stream; None when it is not in the store."""
        return sha256_object(self.objects, relpath)

    @contextmanager
    def fetch(self, relpath: str) -> Iterator[Path]:
        """A stored file as a local path for the block (ffmpeg and Pillow need one): the file itself when
        the store is local, else a copy downloaded into tmp/ and removed when the block ends."""
        local = self.local_path(relpath)
        if local is not None:
            if not local.is_file():
                raise FileNotFoundError(f"{relpath} is not in the store")
            yield local
            return
        fd, name = tempfile.mkstemp(prefix="fetch-", dir=self.tmp)
        try:
            with self.open(relpath) as src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    # -- staging -----------------------------------------------------------------------------

    def stage(self, source: Path) -> Staged:
        """Copy `source` into tmp/ while hashing it, in one read; the original is only read."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix="in-", dir=self.tmp)
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Staged(Path(tmp_name), digest.hexdigest(), size)

    def staging_dir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="work-", dir=self.tmp))

    # -- entering the store ------------------------------------------------------------------

    def _intents(self):  # type: ignore[no-untyped-def]
        from archive.models import StoreIntent  # the store is below the models; only the table is needed
        if self.engine is None:
            raise RuntimeError("this store has no catalogue to keep its intents in")
        return StoreIntent.__table__

    @contextmanager
    def intent(self, sha256: str) -> Iterator[None]:
        """Mark `sha256` as entering the store until the block (and the caller's commit) ends.

        Committed in a transaction of its own before the block, so other nodes see it at once; Core
        statements, so the audit trail does not record it.
        """
        table = self._intents()
        with self.engine.begin() as conn:  # type: ignore[union-attr]
            intent_id = conn.execute(insert(table).values(sha256=sha256, created_at=datetime.now(timezone.utc))
                                     .returning(table.c.id)).scalar_one()
        yield
        with self.engine.begin() as conn:  # type: ignore[union-attr]
            conn.execute(delete(table).where(table.c.id == intent_id))

    def has_intent(self, sha256: str) -> bool:
        """Is a file of this checksum entering the store right now (by any node)?"""
        if (self.legacy_intents / sha256).exists():
            return True
        table = self._intents()
        with self.engine.connect() as conn:  # type: ignore[union-attr]
            return conn.scalar(select(table.c.id).where(table.c.sha256 == sha256).limit(1)) is not None

    def place_original(self, staged: Staged) -> str:
        """Move a staged file to its content address (read-only); return its relative path."""
        rel = self.original_relpath(staged.sha256)
        os.chmod(staged.path, 0o444)
        self.objects.put(rel, staged.path, sha256=staged.sha256)
        staged.path.unlink(missing_ok=True)  # uploaded, or already renamed away
        return rel

    def place_derivatives(self, sha256: str, work_dir: Path, names: list[str]) -> str:
        """Move finished derivative files from `work_dir` into the item's derivative folder."""
        rel = self.derivative_reldir(sha256)
        for name in names:
            self.objects.put(f"{rel}/{name}", work_dir / name)
            (work_dir / name).unlink(missing_ok=True)
        return rel

    def remove_sha(self, sha256: str) -> None:
        self.objects.delete(self.original_relpath(sha256))
        self.objects.delete_prefix(self.derivative_reldir(sha256))

    # -- after an interruption ---------------------------------------------------------------

    @contextmanager
    def working(self) -> Iterator[None]:
        """Hold a shared lock while writing into the store, so recover() leaves this run alone."""
        with open(self.tmp / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def recover(self, is_recorded: Callable[[str], bool], now: datetime | None = None) -> list[str]:
        """Finish what interrupted runs left: drop unrecorded stored files and this node's stale staging.

        Returns the checksums whose files were removed. Intents (of any node) older than the lease are
        abandoned: their files go unless recorded. This node's tmp/ is emptied only while no process
        here is writing into the store (they hold working(), a lock on the local folder alone).
        """
        removed = self._recover_intents(is_recorded, now or datetime.now(timezone.utc))
        with open(self.tmp / ".lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return removed
            try:
                removed += self._recover_local(is_recorded)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return removed

    def _recover_intents(self, is_recorded: Callable[[str], bool], now: datetime) -> list[str]:
        table = self._intents()
        cutoff = now - self.intent_lease
        with self.engine.connect() as conn:  # type: ignore[union-attr]
            stale = conn.execute(select(table.c.id, table.c.sha256).where(table.c.created_at < cutoff)).all()
            live = set(conn.scalars(select(table.c.sha256).where(table.c.created_at >= cutoff)))
        removed = []
        for intent_id, sha in stale:
            if sha not in live and sha not in removed and not is_recorded(sha):
                self.remove_sha(sha)
                removed.append(sha)
            with self.engine.begin() as conn:  # type: ignore[union-attr]
                conn.execute(delete(table).where(table.c.id == intent_id))
        return removed

    def _recover_local(self, is_recorded: Callable[[str], bool]) -> list[str]:
        removed = []
        for marker in sorted(self.legacy_intents.glob("*")):
            sha = marker.name
            if not is_recorded(sha):
                self.remove_sha(sha)
                removed.append(sha)
            marker.unlink(missing_ok=True)
        for leftover in self.tmp.iterdir():
            if leftover.name == ".lock":
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        return removed
