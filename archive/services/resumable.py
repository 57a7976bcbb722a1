"""Resumable uploads: a large file sent in chunks, each kept in the shared store, ingested when whole.

Every chunk is its own object (uploads/<token>/part-<offset>) beside the upload's manifest, in the
store's backend (archive.objects): an S3 object cannot be appended to, and any node sharing the
store can take the next chunk or finish the upload. A chunk is written to local tmp/ first and put
into the store only when it arrived whole, so an interrupted request leaves nothing behind: the
client asks for the offset and sends the rest again. The offset is read from the parts themselves,
never kept apart from them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from archive.access import Viewer
from archive.core import Archive
from archive.models import AccessLevel, LocationPrecision
from archive.services import Invalid, NotFound
from archive.services.editing.uploads import UploadChoices, ingest_uploads, safe_filename
from archive.services.ingest import IngestReport
from archive.store import CHUNK, Store

PREFIX = "uploads"
#: The largest file an upload may announce (1 TiB): the size is checked against the parts on finishing.
MAX_SIZE = 2**40
#: An upload not finished this long after it began is abandoned: the next upload to start removes it.
LIFETIME = timedelta(days=7)


class OffsetMismatch(Invalid):
    """A chunk that does not start where the upload stands: `offset` says where it does."""

    def __init__(self, offset: int, given: int) -> None:
        super().__init__(f"the upload stands at byte {offset}, not {given}: send from {offset}", "Upload-Offset")
        self.offset = offset


@dataclass(frozen=True)
class Upload:
    token: str
    filename: str
    size: int  #: bytes announced
    received: int  #: bytes stored, from the start, without a gap
    created_at: datetime
    choices: dict[str, Any]  #: what upload_choices checked: collection title, access, precision

    @property
    def complete(self) -> bool:
        return self.received == self.size


def _manifest_key(token: str) -> str:
    return f"{PREFIX}/{token}/manifest.json"


def _put_bytes(store: Store, key: str, data: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix="upload-", dir=store.tmp)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    try:
        store.objects.put(key, Path(name))
    finally:
        Path(name).unlink(missing_ok=True)


def start_upload(store: Store, viewer: Viewer, filename: str, size: int, choices: UploadChoices) -> Upload:
    """A new, empty upload of `size` bytes, owned by `viewer`."""
    if not 1 <= size <= MAX_SIZE:
        raise Invalid(f"size must be from 1 to {MAX_SIZE} bytes", "size")
    sweep_abandoned(store)
    token = secrets.token_urlsafe(18)
    manifest = {"owner": viewer.user_id, "filename": safe_filename(filename), "size": size,
                "created_at": datetime.now(timezone.utc).isoformat(),
                "choices": {"collection": choices.collection, "access": choices.access.value,
                            "location_precision": choices.location_precision.value}}
    _put_bytes(store, _manifest_key(token), json.dumps(manifest).encode())
    return get_upload(store, viewer, token)


def _parts(store: Store, token: str) -> list[tuple[int, str]]:
    """(offset, key) of the stored parts, in order."""
    found = []
    for key in store.objects.keys(f"{PREFIX}/{token}"):
        name = key.rsplit("/", 1)[1]
        if name.startswith("part-"):
            found.append((int(name.removeprefix("part-")), key))
    return sorted(found)


def get_upload(store: Store, viewer: Viewer, token: str) -> Upload:
    """The upload and how far it has come; NotFound for another account's, or one finished or abandoned."""
    if not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        raise NotFound(f"upload {token}")
    try:
        with store.objects.open(_manifest_key(token)) as fh:
            manifest = json.loads(fh.read())
    except FileNotFoundError:
        raise NotFound(f"upload {token}") from None
    if manifest["owner"] != viewer.user_id:
        raise NotFound(f"upload {token}")
    received = 0
    for offset, key in _parts(store, token):
        if offset != received:  # a gap cannot happen (chunks start at the offset); stop counting at one
            break
        received += store.objects.size(key) or 0
    return Upload(token, manifest["filename"], manifest["size"], received,
                  datetime.fromisoformat(manifest["created_at"]), manifest["choices"])


def receive_chunk(store: Store, viewer: Viewer, token: str, offset: int, stream: IO[bytes],
                  length: int) -> Upload:
    """Store the next `length` bytes of the upload, which must start at its offset (OffsetMismatch
    otherwise). A stream that ends early stores nothing (Invalid)."""
    upload = get_upload(store, viewer, token)
    if offset != upload.received:
        raise OffsetMismatch(upload.received, offset)
    if length < 1 or offset + length > upload.size:
        raise Invalid(f"a chunk at {offset} holds from 1 to {upload.size - offset} bytes, not {length}", "body")
    fd, name = tempfile.mkstemp(prefix="chunk-", dir=store.tmp)
    try:
        written = 0
        with os.fdopen(fd, "wb") as out:
            while written < length and (block := stream.read(min(CHUNK, length - written))):
                out.write(block)
                written += len(block)
        if written != length:
            raise Invalid(f"the chunk ended after {written} of {length} bytes; nothing of it was kept", "body")
        store.objects.put(f"{PREFIX}/{token}/part-{offset:015d}", Path(name))
    finally:
        Path(name).unlink(missing_ok=True)
    return get_upload(store, viewer, token)


def finish_upload(archive: Archive, viewer: Viewer, token: str) -> IngestReport:
    """Join the parts and ingest the file as the upload page would; the upload is gone afterwards."""
    store = archive.store
    upload = get_upload(store, viewer, token)
    if not upload.complete:
        raise Invalid(f"the upload has {upload.received} of its {upload.size} bytes; send the rest first", "size")
    fd, name = tempfile.mkstemp(prefix="joined-", dir=store.tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            for _, key in _parts(store, token):
                with store.objects.open(key) as part:
                    shutil.copyfileobj(part, out, CHUNK)
        choices = UploadChoices(upload.choices["collection"], AccessLevel(upload.choices["access"]),
                                LocationPrecision(upload.choices["location_precision"]))
        with open(name, "rb") as joined:
            report = ingest_uploads(archive, viewer, [(upload.filename, joined)], choices)
    finally:
        Path(name).unlink(missing_ok=True)
    store.objects.delete_prefix(f"{PREFIX}/{token}")
    return report


def abandon_upload(store: Store, viewer: Viewer, token: str) -> None:
    get_upload(store, viewer, token)
    store.objects.delete_prefix(f"{PREFIX}/{token}")


def sweep_abandoned(store: Store, now: datetime | None = None) -> list[str]:
    """Remove the uploads begun more than LIFETIME ago (any account's); return their tokens. Run as
    each upload starts, so the store never keeps parts of old uploads for long, with no job to schedule."""
    now = now or datetime.now(timezone.utc)
    swept = []
    for key in store.objects.keys(PREFIX):
        if not key.endswith("/manifest.json"):
            continue
        try:
            with store.objects.open(key) as fh:
                began = datetime.fromisoformat(json.loads(fh.read())["created_at"])
        except (FileNotFoundError, ValueError, KeyError):  # finished or abandoned meanwhile, or unreadable
            continue
        if now - began > LIFETIME:
            token = key.split("/")[1]
            store.objects.delete_prefix(f"{PREFIX}/{token}")
            swept.append(token)
    return swept
