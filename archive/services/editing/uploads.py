"""Files sent from a browser: saved under the data root, then ingested exactly as the CLI does."""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.models import AccessLevel, LocationPrecision
from archive.services import Invalid, NotFound
from archive.services.editing import fields as f
from archive.services.editing.collections import get_known_collection
from archive.services.ingest import IngestOptions, IngestReport, display_path, ingest_paths
from archive.store import CHUNK

if TYPE_CHECKING:
    from archive.core import Archive

#: Bytes a file name may take on common filesystems (ext4, APFS, NTFS in UTF-16 allow more).
NAME_BYTES = 255
#: Format characters that join letters in some scripts; other format characters are dropped
#: (bidirectional overrides can make "gpj.exe" read as "exe.jpg").
_JOINERS = {"\u200c", "\u200d"}


def safe_filename(name: str, fallback: str = "upload") -> str:
    """A client's file name made safe to create in one folder, keeping its letters, Korean included.

    Only the last path component is kept; control and format characters and leading dots are
    dropped; the text is NFC (macOS sends Hangul decomposed); it fits in NAME_BYTES of UTF-8,
    keeping the extension.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch in _JOINERS or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = " ".join(name.split()).lstrip(". ").rstrip(" ")
    if not name:
        return fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, dot, ext = name, "", ""
    budget = NAME_BYTES - len((dot + ext).encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(" ")
    return (stem + dot + ext) if stem else fallback + dot + ext


@dataclass(frozen=True)
class UploadChoices:
    """What the upload form asks besides the files, checked."""
    collection: str | None  #: title of an existing or new collection, or None for none
    access: AccessLevel
    #: Published precision of the new items' GPS positions.
    location_precision: LocationPrecision


def upload_choices(session: Session, viewer: Viewer, *, file_count: int, collection_id: int | str | None,
                   new_collection: str, access: AccessLevel | str,
                   location_precision: LocationPrecision | str) -> UploadChoices:
    """Check the upload form; every refused field is reported at once (InvalidFields)."""
    def files() -> None:
        if file_count < 1:
            raise Invalid("choose one or more files to upload", "files")

    def collection() -> str | None:
        new = " ".join(new_collection.split())
        chosen = f.whole_number(collection_id, "collection_id")
        if new and chosen is not None:
            raise Invalid("choose an existing collection or name a new one, not both", "new_collection")
        if new:
            return f.text(new, "new_collection", limit=f.TITLE_MAX)
        if chosen is None:
            return None
        try:
            return get_known_collection(session, viewer, chosen).title
        except NotFound:  # one the viewer may not know of is absent
            raise Invalid(f"there is no collection {chosen}", "collection_id") from None

    values = f.validated({"files": files, "collection": collection, "access": partial(f.access, access),
                          "location_precision": partial(f.choice, LocationPrecision, location_precision,
                                                        "location_precision")})
    return UploadChoices(values["collection"], values["access"], values["location_precision"])


def ingest_uploads(archive: Archive, viewer: Viewer, files: Sequence[tuple[str, IO[bytes]]],
                   choices: UploadChoices) -> IngestReport:
    """Save (client name, stream) pairs into a folder under the data root and ingest it as `viewer`.

    The report is the CLI's (ingested, duplicates, failed, with the same reasons), naming each
    file by its saved name instead of a path, in the order sent. The folder is removed afterwards.
    """
    # The shared store lock keeps Archive.recover (which empties tmp/) away from the folder.
    with archive.store.working():
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=archive.store.tmp))
        try:
            # One numbered folder per file: ingest walks them in the order they were sent, and two
            # files of the same name keep it.
            sent: dict[str, tuple[int, str]] = {}  # display path of a saved file -> (index, name)
            for index, (client_name, stream) in enumerate(files):
                name = safe_filename(client_name, fallback=f"upload-{index + 1}")
                path = folder / f"{index:06d}" / name
                path.parent.mkdir()
                with open(path, "wb") as out:
                    shutil.copyfileobj(stream, out, CHUNK)
                sent[display_path(path)] = (index, name)
            options = IngestOptions(collection=choices.collection, access=choices.access,
                                    location_precision=choices.location_precision, actor=viewer, origin=f"uploaded from a browser by {viewer.name}")
            report = ingest_paths(archive, [folder], options)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def named(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries in the order sent, each naming its file instead of the path it had here."""
        def where(entry: dict[str, Any]) -> tuple[int, str]:
            return sent.get(entry["path"], (len(sent), Path(entry["path"]).name))
        return [{**{k: v for k, v in entry.items() if k != "path"}, "name": where(entry)[1]}
                for entry in sorted(entries, key=lambda e: where(e)[0])]

    return IngestReport(ingested=named(report.ingested), duplicates=named(report.duplicates),
                        failed=named(report.failed))
