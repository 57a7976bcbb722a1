"""Moving an archive's files: `crossings store copy` copies a local store into an object store.

Resumable: an object already in the target whose recorded checksum is the file's own is skipped,
so a run that was interrupted is started again and carries on. Verified: each file is hashed as it
is read for upload, and the uploaded object is read back and hashed before it counts as copied.
An original whose bytes no longer match its name is not copied but reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archive.objects import Objects, sha256_object
from archive.store import Store, sha256_file

#: The store's top-level folders that hold its files.
FOLDERS = ("originals", "derivatives")


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: (key, reason) of files that were not copied or did not read back the same.
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def store_keys(store: Store) -> list[str]:
    """Every file of a store, originals first."""
    return [key for folder in FOLDERS for key in store.objects.keys(folder)]


def copy_store(source: Store, target: Objects, *, keys: list[str] | None = None,
               on_progress: Callable[[str, str], None] | None = None) -> CopyReport:
    """Copy every file of `source` (a local store) into `target`; on_progress(key, outcome) after each."""
    report = CopyReport()
    for key in keys if keys is not None else store_keys(source):
        path = source.local_path(key)
        if path is None:
            raise ValueError("the source of a store copy must be a local store")
        outcome = _copy_one(key, path, target, report)
        if on_progress:
            on_progress(key, outcome)
    return report


def _copy_one(key: str, path: Path, target: Objects, report: CopyReport) -> str:
    sha = sha256_file(path)
    if key.startswith("originals/") and sha != key.rsplit("/", 1)[-1]:
        report.failed.append((key, f"the local original has changed (its sha256 is now {sha}); not copied"))
        return "failed"
    if target.checksum(key) == sha:
        report.skipped.append(key)
        return "skipped"
    target.put(key, path, sha256=sha)
    readback = sha256_object(target, key)
    if readback != sha:
        report.failed.append((key, f"the uploaded object reads back as sha256 {readback}, not {sha}"))
        return "failed"
    report.copied.append(key)
    return "copied"

