"""A BagIt package (RFC 8493) of a selection of the archive, made with the `bagit` library.

    OUT/
      bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sha512.txt  tagmanifest-*.txt  [fetch.txt]
      data/catalogue.json                          the catalogue (archive.interchange.catalogue_json)
      data/journeys.geojson                        every journey of the bag, at the viewer's precision
      data/originals/ab/<sha256>.<ext>             originals the viewer may have (access.may_have_original)
      data/access-copies/<item id>/<media id>.<ext>   else the access copy, when one has been made
      data/derivatives/ab/<sha256>/<file>          backups only: thumbnails, proxies... as in the store
      data/transcripts/<item id>/<transcript id>.<lang>.vtt

The bag is built in OUT.partial-<random> beside OUT and renamed to OUT when it is complete, so an
interrupted export leaves no half bag at OUT (only the .partial folder, to be removed). On a local
store originals are hard-linked into the bag where the file system allows (else copied); from S3
they are streamed down. Nothing reads a whole file into memory.

--holey: the originals are not copied but listed in fetch.txt with their size and a URL (a URL under
--fetch-base, e.g. of an earlier full bag holding the same data/originals/ paths; else file:// of the
stored file on a local store, s3://bucket/key on S3); the manifests and Payload-Oxum still list
them, as BagIt requires, so the bag validates once they are fetched (bag_import does that).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import __version__
from archive.access import Role, Viewer, may_have_original
from archive.identity import Identity
from archive.interchange import catalogue_json, record
from archive.interchange.dublin_core import dc_document
from archive.interchange.pbcore import pbcore_document
from archive.interchange.selection import Selection, selected_item_ids
from archive.models import Item, Transcript
from archive.objects import LocalObjects, S3Objects
from archive.search import SearchIndex
from archive.services import Invalid
from archive.services.journeys import journey_geojson, journey_view
from archive.services.transcripts import export_transcript
from archive.store import CHUNK, Store

CHECKSUMS = ["sha256", "sha512"]
#: Why a bag refuses its folder, or what a confidential one says of itself.
CONFIDENTIAL = "this bag holds account password hashes"

#: progress(files done, files in all, bytes done, bytes in all)
Progress = Callable[[int, int, int, int], None]


@dataclass
class BagReport:
    path: Path
    backup: bool
    items: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0  #: payload files, fetched ones included
    bytes: int = 0
    linked: int = 0  #: originals hard-linked from the store
    copied: int = 0  #: files copied or streamed
    fetched: int = 0  #: originals listed in fetch.txt instead
    withheld: dict[int, str] = field(default_factory=dict)  #: media id: why neither original nor copy is in


@dataclass(frozen=True)
class _File:
    payload: str  #: path under data/
    store_key: str  #: where it is in the store
    size: int
    sha256: str = ""  #: known already (originals): lets a holey bag skip reading it twice
    original: bool = False


def is_backup(viewer: Viewer, selection: Selection, public: bool) -> bool:
    """A whole-archive bag by an admin, not --public: every table, whole."""
    whole = selection == Selection()
    return whole and not public and viewer.role is Role.admin


def export_bag(session: Session, viewer: Viewer, store: Store, index: SearchIndex, selection: Selection,
               out_dir: Path, *, identity: Identity, public: bool, with_accounts: bool = False,
               holey: bool = False, fetch_base: str | None = None, progress: Progress | None = None) -> BagReport:
    """Write the bag of `selection` as `viewer` may see it at `out_dir` (which must not exist or be empty)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise Invalid(f"{out_dir}: already exists and is not an empty folder", "out")
    backup = is_backup(viewer, selection, public)
    if with_accounts and not backup:
        raise Invalid("--with-accounts needs a backup: the whole archive, as an admin, without --public",
                      "with_accounts")
    if fetch_base is not None and not holey:
        raise Invalid("--fetch-base names where a holey bag's originals are: give --holey too", "fetch_base")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f"{out_dir.name}.partial-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        report = _build(session, viewer, store, index, selection, partial, identity=identity, backup=backup,
                        public=public, with_accounts=with_accounts, holey=holey, fetch_base=fetch_base,
                        progress=progress)
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    report.path = out_dir
    return report


def _build(session: Session, viewer: Viewer, store: Store, index: SearchIndex, selection: Selection, root: Path, *,
           identity: Identity, backup: bool, public: bool, with_accounts: bool, holey: bool,
           fetch_base: str | None, progress: Progress | None) -> BagReport:
    report = BagReport(root, backup)
    if backup:
        tables = catalogue_json.backup_tables(session, with_accounts=with_accounts)
    else:
        item_ids = selected_item_ids(session, viewer, index, selection)
        tables = catalogue_json.scoped_tables(
            session, viewer, item_ids, journey_ids=[selection.journey_id] if selection.journey_id else [],
            collection_ids=[selection.collection_id] if selection.collection_id else [],
            audit=viewer.role is Role.admin and not public)
    report.rows = {name: len(t["rows"]) for name, t in tables.items()}
    report.items = report.rows.get("items", 0)

    files, payload = _plan(session, viewer, store, tables, backup, report)
    fetch: list[tuple[str, _File]] = []
    total_bytes = sum(f.size for f in files)
    done_files = done_bytes = 0
    for file in files:
        if holey and file.original:
            fetch.append((_fetch_url(store, file, fetch_base), file))
        else:
            linked = _place(store, file, root / file.payload)
            report.linked += linked
            report.copied += not linked
        done_files += 1
        done_bytes += file.size
        if progress:
            progress(done_files, len(files), done_bytes, total_bytes)

    _write_transcripts(session, tables, root, payload)
    _write_geojson(session, viewer, tables, root)
    _write_item_records(session, viewer, tables, root, identity, payload)
    document = {
        "format": catalogue_json.FORMAT, "version": catalogue_json.VERSION, "crossings_version": __version__,
        "exported_at": datetime.now(timezone.utc).isoformat(), "scope": selection.describe(),
        "viewer": viewer.role.value, "backup": backup, "with_accounts": with_accounts,
        "left_out": catalogue_json.BACKUP_LEFT_OUT if backup else {},
        "tables": tables, "payload": payload,
    }
    catalogue_json.write_catalogue(root / "catalogue.json", document)

    description = f"{selection.describe()} of {identity.name}, as seen by {viewer.role.value}"
    if public:
        description += " (public: what anyone may see)"
    if backup:
        description += "; a backup of every table"
    if with_accounts:
        description += f"; CONFIDENTIAL: {CONFIDENTIAL}"
    info = {"Source-Organization": identity.name, "Bagging-Date": datetime.now(timezone.utc).date().isoformat(),
            "External-Description": description, "External-Identifier": f"urn:uuid:{uuid.uuid4()}",
            "Bag-Software-Agent": f"Crossings {__version__}", "Crossings-Version": __version__}
    if identity.contact_email:
        info["Contact-Email"] = identity.contact_email
    if identity.base_url:
        info["Organization-Address"] = identity.base_url
    if with_accounts:
        info["Crossings-Confidential"] = CONFIDENTIAL
    bag = bagit.make_bag(str(root), info, checksums=CHECKSUMS)
    if fetch:
        _add_fetched(bag, store, fetch)
    report.fetched = len(fetch)
    report.files = len(files) + _count_written(root, files, fetch)
    report.bytes = int(str(bag.info["Payload-Oxum"]).split(".")[0])
    return report


def _count_written(root: Path, files: list[_File], fetch: list[Any]) -> int:
    # Transcripts, the catalogue and the GeoJSON: every payload file not planned from the store.
    on_disk = sum(1 for p in (root / "data").rglob("*") if p.is_file())
    return on_disk - (len(files) - len(fetch))


def _extension(name: str, mime: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix and len(suffix) <= 8 and suffix[1:].isalnum():
        return suffix
    return "." + (mime.split("/")[-1] if "/" in mime else "bin")


def _plan(session: Session, viewer: Viewer, store: Store, tables: dict[str, Any], backup: bool,
          report: BagReport) -> tuple[list[_File], dict[str, Any]]:
    """Which files of the store go into the bag, and the catalogue's map from records to payload files."""
    media = catalogue_json.stored_rows(tables, "media_files")
    derivatives = catalogue_json.stored_rows(tables, "derivatives")
    items = {r["id"]: r for r in catalogue_json.stored_rows(tables, "items")}
    files: list[_File] = []
    payload: dict[str, Any] = {"originals": {}, "access_copies": {}, "derivatives": {}, "withheld": {},
                               "transcripts": {}, "records": {}}
    orm_items = {} if backup else {i.id: i for chunk in catalogue_json.chunks(items)
                                   for i in session.scalars(select(Item).where(Item.id.in_(chunk)))}
    for row in media:
        original_allowed = backup or may_have_original(viewer, orm_items[row["item_id"]])
        if original_allowed:
            sha = row["sha256"]
            key = store.original_relpath(sha)
            size = store.size(key)
            if size is None:
                payload["withheld"][str(row["id"])] = "the original is missing from the store"
                report.withheld[row["id"]] = payload["withheld"][str(row["id"])]
                continue
            path = f"originals/{sha[:2]}/{sha}{_extension(row['original_name'], row['mime_type'])}"
            files.append(_File(path, key, size, sha, original=True))
            payload["originals"][str(row["id"])] = f"data/{path}"
            continue
        access = session.execute(select(catalogue_json.T("derivatives")).where(
            catalogue_json.T("derivatives").c.media_file_id == row["id"],
            catalogue_json.T("derivatives").c.kind == "access")).first()
        size = store.size(access.path) if access is not None else None
        if access is None or size is None:
            reason = "no access copy has been made, and this viewer may not have the original"
            payload["withheld"][str(row["id"])] = reason
            report.withheld[row["id"]] = reason
            continue
        path = f"access-copies/{row['item_id']}/{row['id']}{_extension(access.path, access.mime_type)}"
        files.append(_File(path, access.path, size))
        payload["access_copies"][str(row["id"])] = f"data/{path}"
    if backup:  # thumbnails, proxies and access copies come back byte for byte, ready at once
        for row in derivatives:
            size = store.size(row["path"])
            if size is not None:
                files.append(_File(row["path"], row["path"], size))
                payload["derivatives"][str(row["id"])] = f"data/{row['path']}"
    return files, payload


def _place(store: Store, file: _File, dest: Path) -> bool:
    """Put a stored file at `dest`: a hard link where the store is local and the file system allows
    (True), else a streamed copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    local = store.local_path(file.store_key) if isinstance(store.objects, LocalObjects) else None
    if local is not None:
        try:
            os.link(local, dest)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
                raise
    with store.open(file.store_key) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    return False


def _fetch_url(store: Store, file: _File, fetch_base: str | None) -> str:
    if fetch_base:
        return f"{fetch_base.rstrip('/')}/data/{file.payload}"
    local = store.local_path(file.store_key)
    if local is not None:
        return local.resolve().as_uri()
    if isinstance(store.objects, S3Objects):
        return f"s3://{store.objects.bucket}/{store.objects.prefix}{file.store_key}"
    raise Invalid("this store's files have no URL: give --fetch-base", "fetch_base")


def _add_fetched(bag: bagit.Bag, store: Store, fetch: list[tuple[str, _File]]) -> None:
    """List the originals left out of a holey bag in fetch.txt and in both manifests (their sha512 read
    from the store as a stream), count them in Payload-Oxum, and rewrite the tag manifests."""
    root = Path(bag.path)
    lines = {alg: [] for alg in CHECKSUMS}
    fetch_lines = []
    for url, file in fetch:
        digests = {alg: hashlib.new(alg) for alg in CHECKSUMS}
        with store.open(file.store_key) as fh:
            while chunk := fh.read(CHUNK):
                for digest in digests.values():
                    digest.update(chunk)
        for alg, digest in digests.items():
            lines[alg].append(f"{digest.hexdigest()}  data/{file.payload}\n")
        fetch_lines.append(f"{url} {file.size} data/{file.payload}\n")
    for alg in CHECKSUMS:
        with open(root / f"manifest-{alg}.txt", "a", encoding="utf-8") as fh:
            fh.writelines(lines[alg])
    (root / "fetch.txt").write_text("".join(fetch_lines), encoding="utf-8")
    octets, count = (int(x) for x in str(bag.info["Payload-Oxum"]).split("."))
    bag.info["Payload-Oxum"] = f"{octets + sum(f.size for _, f in fetch)}.{count + len(fetch)}"
    old = os.getcwd()
    try:
        bag.save()  # bag-info.txt and the tag manifests, which now cover fetch.txt too
    finally:
        os.chdir(old)


def _write_transcripts(session: Session, tables: dict[str, Any], root: Path, payload: dict[str, Any]) -> None:
    ids = [r["id"] for r in catalogue_json.stored_rows(tables, "transcripts")]
    for chunk in catalogue_json.chunks(ids):
        for transcript in session.scalars(select(Transcript).where(Transcript.id.in_(chunk))
                                          .options(selectinload(Transcript.segments))):
            text, _mime = export_transcript(transcript, "vtt")
            rel = f"transcripts/{transcript.item_id}/{transcript.id}.{transcript.language or 'und'}.vtt"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
            payload["transcripts"][str(transcript.id)] = f"data/{rel}"


def _write_geojson(session: Session, viewer: Viewer, tables: dict[str, Any], root: Path) -> None:
    features: list[dict[str, Any]] = []
    for row in catalogue_json.stored_rows(tables, "journeys"):
        features.extend(journey_geojson(journey_view(session, viewer, row["id"], footage=False))["features"])
    with open(root / "journeys.geojson", "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh, ensure_ascii=False)


def _write_item_records(session: Session, viewer: Viewer, tables: dict[str, Any], root: Path,
                        identity: Identity, payload: dict[str, Any]) -> None:
    """One PBCore 2.1 and one Dublin Core record per item, as `viewer` may see it, for archives that read
    those and not catalogue.json: data/records/<item id>.pbcore.xml and .dc.xml. Items in the trash (a
    backup holds them) have no record: no page shows them."""
    ids = sorted(r["id"] for r in catalogue_json.stored_rows(tables, "items"))
    folder = root / "records"
    folder.mkdir(exist_ok=True)
    for item in record.iter_items(session, viewer, ids):
        (folder / f"{item.id}.pbcore.xml").write_bytes(pbcore_document(session, viewer, item, identity))
        (folder / f"{item.id}.dc.xml").write_bytes(dc_document(session, viewer, item, identity))
        payload["records"][str(item.id)] = {"pbcore": f"data/records/{item.id}.pbcore.xml",
                                            "dc": f"data/records/{item.id}.dc.xml"}
