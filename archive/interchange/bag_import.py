"""`crossings import bag BAG`: validate a bag, complete it from fetch.txt, then restore or merge it.

1. Validation first (bagit): a holey bag's missing files are fetched from their fetch.txt URLs
   (file://, http://, https://) into the bag; an unreachable URL, a missing, unexpected or altered
   file, or a catalogue.json this Crossings cannot read is named and nothing is imported (BagRefused).
2. Into an archive with no items, collections, places, journeys, people or tags: a FULL RESTORE,
   row by row with the bag's own ids (archive.interchange.bag_restore.restore_rows).
3. Into any other archive: a MERGE, records matched by their natural keys (items by pid, media by
   checksum...), new ones given new ids and their links remapped (bag_restore.merge_rows), each
   record reported new, same or conflicted (the archive's record is kept, the difference reported).

Crash safety is ingest's: each original enters the store under a store intent committed first and
verified against its sha256 on the way in; then the catalogue goes in in one transaction; only after
its commit are the intents cleared. A run killed in between leaves intents whose files the next
recover() removes, and no catalogue row without its file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
from sqlalchemy import select

from archive.access import SYSTEM
from archive.interchange import bag_restore, catalogue_json
from archive.models import AuditEntry, MediaFile
from archive.services import search_sync
from archive.store import CHUNK, Store

#: Tables whose rows make an archive "not empty": a bag goes into one with none as a full restore.
CATALOGUE_TABLES = ("items", "collections", "places", "journeys", "people", "tags")


class BagRefused(Exception):
    """The bag is not imported; `problems` name the files (relative to the bag) and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    mode: str  #: "restore" or "merge"
    records: list[dict[str, Any]] = field(default_factory=list)  #: one per record: table, key, outcome...
    files_placed: int = 0
    fetched: int = 0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """{table: {outcome: n}}"""
        out: dict[str, dict[str, int]] = {}
        for record in self.records:
            per = out.setdefault(record["table"], {})
            per[record["outcome"]] = per.get(record["outcome"], 0) + 1
        return out

    def total(self, outcome: str) -> int:
        return sum(1 for r in self.records if r["outcome"] == outcome)


# -- 1. validation -------------------------------------------------------------------------------

def fetch_missing(bag_path: Path) -> int:
    """Fetch the files of fetch.txt that are not in the bag yet; return how many. Unreachable ones are
    BagRefused, each named with its URL."""
    try:
        bag = bagit.Bag(str(bag_path))
        entries = list(bag.fetch_entries())
    except bagit.BagError as exc:
        raise BagRefused([f"{bag_path}: {exc}"]) from exc
    problems, fetched = [], 0
    for url, size, name in entries:
        dest = bag_path / name
        if dest.is_file():
            continue
        try:
            _fetch(url, dest)
            fetched += 1
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: cannot fetch {url}: {exc}")
            continue
        if size not in ("-", "") and dest.stat().st_size != int(size):
            problems.append(f"{name}: fetched {dest.stat().st_size} bytes from {url}, fetch.txt says {size}")
    if problems:
        raise BagRefused(problems)
    return fetched


def _fetch(url: str, dest: Path) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("file", "http", "https"):
        raise ValueError(f"{parsed.scheme}:// URLs are not fetched here (fetch it into the bag yourself)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".fetch-", dir=dest.parent)
    try:
        if parsed.scheme == "file":
            source = open(urllib.request.url2pathname(parsed.path), "rb")
        else:
            source = urllib.request.urlopen(url, timeout=60)  # noqa: S310 (http(s) only, checked above)
        with source as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def validate_bag(bag_path: Path) -> dict[str, Any]:
    """The bag's catalogue, once bagit has found every file present and unaltered; else BagRefused
    naming each missing, unexpected or altered file."""
    try:
        bag = bagit.Bag(str(bag_path))
        bag.validate()
    except bagit.BagValidationError as exc:
        raise BagRefused(_named(bag_path, exc)) from exc
    except bagit.BagError as exc:
        raise BagRefused([f"{bag_path}: {exc}"]) from exc
    try:
        return catalogue_json.read_catalogue(bag_path / "data" / "catalogue.json")
    except catalogue_json.CatalogueError as exc:
        raise BagRefused([str(exc)]) from exc


def _named(bag_path: Path, exc: bagit.BagValidationError) -> list[str]:
    """Every missing, unexpected and altered file: bagit stops at the first kind it finds (and Payload-Oxum,
    checked first, names none), so completeness and every checksum are asked for one after the other."""
    bag = bagit.Bag(str(bag_path))
    details: list[Any] = []
    for step in (bag._validate_completeness, lambda: bag._validate_entries(1)):
        try:
            step()
        except bagit.BagValidationError as inner:
            details.extend(inner.details or [])
    if not details:
        return [f"{bag_path}: {exc}"]
    problems, missing = [], set()
    for detail in details:
        path = getattr(detail, "path", "")
        if isinstance(detail, bagit.FileMissing):
            missing.add(path)
            problems.append(f"{path}: missing")
        elif isinstance(detail, bagit.ChecksumMismatch):
            if path not in missing:
                missing.add(path)  # one line per file, whichever of its checksums is met first
                problems.append(f"{path}: altered ({detail.algorithm} is {detail.found}, the manifest says "
                                f"{detail.expected})")
        elif isinstance(detail, bagit.UnexpectedFile):
            problems.append(f"{path}: not in the manifests")
        else:
            problems.append(f"{path}: {detail}")
    return list(dict.fromkeys(problems))


# -- 2./3. import --------------------------------------------------------------------------------

def import_bag(archive: Any, bag_path: Path, *, on_file: Callable[[str], None] | None = None,
               rebuild_index: bool = True) -> ImportReport:
    """Validate `bag_path` and restore or merge it into `archive` (BagRefused when it is not imported)."""
    bag_path = Path(bag_path)
    fetched = fetch_missing(bag_path)
    document = validate_bag(bag_path)
    tables = document["tables"]
    with archive.Session() as session:
        empty = all(session.scalar(select(catalogue_json.T(name).c.id).limit(1)) is None for name in CATALOGUE_TABLES)
        known = set() if empty else set(session.scalars(select(MediaFile.sha256)))
        if empty:
            bag_restore.check_restore(session, tables)  # before any file is placed
    report = ImportReport("restore" if empty else "merge", fetched=fetched)
    store: Store = archive.store
    payload = document.get("payload", {})
    wanted = _files_to_place(tables, payload, known)
    with store.working(), ExitStack() as intents:
        for sha, original, derivatives in wanted:
            intents.enter_context(store.intent(sha))
            _place_original(store, bag_path / original, sha)
            if derivatives:
                _place_derivatives(store, bag_path, sha, derivatives)
            report.files_placed += 1 + len(derivatives)
            if on_file:
                on_file(original)
        with archive.session(SYSTEM) as session:
            session.info["action"] = "import bag"
            if empty:
                bag_restore.restore_rows(session, tables, payload, report)
            else:
                bag_restore.merge_rows(session, tables, payload, report)
                # One entry for the whole merge (its rows go in as Core statements, which the trail does
                # not see); a full restore adds none, so that the restored trail is the bag's own.
                session.add(AuditEntry(actor=SYSTEM.name, action="import_bag", object_type="bag",
                                       object_label=bag_path.name[:500],
                                       changes={o: [None, report.total(o)] for o in ("new", "same", "conflicted")}))
        # the catalogue is committed: the intents may go (ExitStack, in reverse order)
    if rebuild_index:
        search_sync.rebuild_index(archive)
    return report


def _files_to_place(tables: dict[str, Any], payload: dict[str, Any],
                    known: set[str]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(sha256, original's path in the bag, [(derivative's path in the bag, its store key)]) of every
    original of the bag the store does not hold yet."""
    rows = catalogue_json.stored_rows(tables, "media_files")
    derivative_rows = catalogue_json.stored_rows(tables, "derivatives")
    by_media: dict[int, list[tuple[str, str]]] = {}
    for d in derivative_rows:
        path = payload.get("derivatives", {}).get(str(d["id"]))
        if path:
            by_media.setdefault(d["media_file_id"], []).append((path, d["path"]))
    out = []
    for row in rows:
        original = payload.get("originals", {}).get(str(row["id"]))
        if original and row["sha256"] and row["sha256"] not in known:
            out.append((row["sha256"], original, by_media.get(row["id"], [])))
    return out


def _place_original(store: Store, source: Path, sha: str) -> None:
    staged = store.stage(source)
    if staged.sha256 != sha:
        staged.path.unlink(missing_ok=True)
        raise BagRefused([f"{source.name}: hashes to {staged.sha256}, its record says {sha}"])
    store.place_original(staged)


def _place_derivatives(store: Store, bag_path: Path, sha: str, files: list[tuple[str, str]]) -> None:
    work = store.staging_dir()
    try:
        names = []
        prefix = store.derivative_reldir(sha) + "/"
        for in_bag, key in files:
            if not key.startswith(prefix):
                continue  # a derivative recorded elsewhere than its original's folder: left to the worker
            name = key[len(prefix):]
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bag_path / PurePosixPath(in_bag), work / name)
            names.append(name)
        store.place_derivatives(sha, work, names)
    finally:
        shutil.rmtree(work, ignore_errors=True)
