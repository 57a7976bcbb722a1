"""`crossings store copy`: a local store into S3, resumable and verified by checksum, against a real S3 server."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from archive.core import Archive, s3_objects
from archive.services.fixity import verify_store
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.store_copy import copy_store, store_keys
from conftest import PUBLISHED
from mediagen import make_jpeg
from objectstores import SeaweedServer


class Interrupted(Exception):
    pass


@pytest.fixture
def bucket_settings(s3_server: SeaweedServer, settings: dict[str, object], monkeypatch: pytest.MonkeyPatch,
                    tmp_path: Path) -> dict[str, object]:
    """A local archive (store_backend stays local) whose s3_* settings name a new, empty bucket."""
    for name, value in s3_server.environment.items():
        monkeypatch.setenv(name, value)
    target = s3_server.settings(s3_server.new_bucket())
    settings.update({k: v for k, v in target.items() if k != "store_backend"})
    return target


def test_store_copy_resumes_an_interrupted_run_and_the_copy_serves_as_the_store(
        bucket_settings: dict[str, object], app: Flask, archive: Archive, tmp_path: Path,
        settings: dict[str, object]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(4):
        make_jpeg(folder / f"still-{n}.jpg", size=(640 + n, 480))  # four contents, not one
    assert ingest_paths(archive, [folder], IngestOptions(**PUBLISHED)).ok
    keys = store_keys(archive.store)
    assert len(keys) >= 4 * 3  # each original and at least its grid and page images
    target = s3_objects(archive.settings)

    done: list[str] = []

    def stop_after_five(key: str, outcome: str) -> None:
        done.append(key)
        if len(done) == 5:
            raise Interrupted
    with pytest.raises(Interrupted):
        copy_store(archive.store, target, on_progress=stop_after_five)
    # A stray object under one of the keys, as a failed tool might leave: not the file, so copied again.
    stray = keys[-1]
    (tmp_path / "stray").write_bytes(b"not the file")
    target.put(stray, tmp_path / "stray")

    result = app.test_cli_runner().invoke(args=["store", "copy"])
    assert result.exit_code == 0, result.output
    output = result.stderr  # the progress bar and the summary; stdout stays clean
    assert result.stdout == ""
    assert f"{len(keys) - 5} files copied and verified, 5 files already there" in output
    assert sorted(target.keys("originals")) + sorted(target.keys("derivatives")) == \
        sorted(k for k in keys if k.startswith("originals/")) + sorted(k for k in keys if k.startswith("derivatives/"))

    again = copy_store(archive.store, target)
    assert again.ok and again.copied == [] and sorted(again.skipped) == sorted(keys)

    # The bucket now works as the archive's store: every original re-hashes right, and files serve.
    moved = Archive.open({**settings, "store_backend": "s3", "data": str(tmp_path / "node2")})
    try:
        with moved.Session() as session:
            assert verify_store(moved, session).intact
        with moved.store.open(keys[0]) as fh, open(archive.store.local_path(keys[0]), "rb") as local:
            assert fh.read() == local.read()
    finally:
        moved.close()


def test_store_copy_reports_a_changed_original_and_does_not_copy_it(bucket_settings: dict[str, object],
                                                                   archive: Archive, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "one.jpg")
    assert ingest_paths(archive, [tmp_path / "one.jpg"], IngestOptions(**PUBLISHED)).ok
    original = next(k for k in store_keys(archive.store) if k.startswith("originals/"))
    path = archive.store.local_path(original)
    path.chmod(0o644)
    with open(path, "ab") as fh:
        fh.write(b"bit rot")
    target = s3_objects(archive.settings)

    report = copy_store(archive.store, target)

    assert [key for key, _ in report.failed] == [original]
    assert "has changed" in report.failed[0][1]
    assert target.size(original) is None

