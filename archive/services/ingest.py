"""Ingest: walk paths, store originals by checksum, read metadata, make derivatives, record items.

File work (copying, hashing, ffprobe, ffmpeg, Pillow) runs in a pool of threads, one per core:
it happens in subprocesses or in C code that releases the GIL. ExifTool reads the files in
batches (one call per `exiftool_batch` files) on a thread of its own, ahead of the pool. Only the main thread writes to
the database, one short transaction per file, so that an interruption loses at most the files
in hand, and the next run (after Archive.recover) completes the batch.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from archive import mediatools, transcripts
from archive.access import SYSTEM, Viewer
from archive.dates import parse_date
from archive.models import (AccessLevel, Derivative, Item, ItemKind, Job, LocationPrecision, MediaFile, RecordKey,
                            TranscriptKind)
from archive.services import Invalid, audit, jobs, search_sync
from archive.services.access_copies import queue_access_copy_if_needed
from archive.services.catalogue import get_or_create_collection
from archive.store import Staged

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

PROXY_JOB = "make_proxy"
#: Thumbnails (posters, storyboards, waveforms) left to the worker by an ingest that defers them.
THUMBNAILS_JOB = "make_thumbnails"
#: During a batch the search index is written at most this often (seconds), not after every file:
#: one index commit per file cost more than the rest of recording a still.
INDEX_EVERY = 2.0


def display_path(path: Path | str) -> str:
    """A path as printable text: undecodable bytes as \\x.. escapes, control characters escaped."""
    raw = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in raw)


# -- what a run reports ---------------------------------------------------------------------

@dataclass
class IngestReport:
    ingested: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    #: subtitle and transcript sidecars attached to the item of their media file (issue 4)
    attached: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        return {"ingested": self.ingested, "duplicates": self.duplicates, "failed": self.failed,
                "attached": self.attached}

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class IngestOptions:
    collection: str | None = None
    #: Access level of the new items; None: the default_access setting.
    access: AccessLevel | None = None
    #: Published precision of their GPS positions; None: the default_location_precision setting.
    location_precision: LocationPrecision | None = None
    actor: Viewer = SYSTEM  #: who the audit trail names for the new items
    #: Where the files came from when their path means nothing later (uploads: "uploaded by mina").
    origin: str = ""
    #: Record each file without its thumbnails and queue a job for the worker to make them: decoding
    #: a 12-megapixel JPEG costs more than all the rest of cataloguing it (docs/benchmarks.md).
    defer_thumbnails: bool = False


# -- walking --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    path: Path
    problem: str | None = None  # set when the entry cannot be ingested at all


def walk(paths: list[Path]) -> Iterator[Found]:
    """Every file under `paths` in a stable order; loops, dangling links and oddities as problems."""
    for top in paths:
        try:
            st = os.stat(top)
        except FileNotFoundError:
            yield Found(top, "no such file or directory" if not os.path.islink(top) else "broken symbolic link")
            continue
        except OSError as exc:
            yield Found(top, _os_reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(top, {(st.st_dev, st.st_ino)})
        else:
            yield _classify(top, st)


def _walk_dir(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Found]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        yield Found(folder, _os_reason(exc))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            st = os.stat(path)  # follows links: a link to a file is ingested as that file
        except OSError as exc:
            yield Found(path, _os_reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in seen:
                yield Found(path, "symbolic link loop: this folder was already walked")
                continue
            yield from _walk_dir(path, seen | {key})
        else:
            yield _classify(path, st)


def _classify(path: Path, st: os.stat_result) -> Found:
    if stat.S_ISREG(st.st_mode):
        return Found(path)
    kind = ("named pipe" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode)
            else "device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "special file")
    return Found(path, f"not a regular file ({kind})")


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "broken symbolic link"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: cannot read the file"
    return f"cannot read: {exc.strerror or exc}"


# -- the file work, done in threads -----------------------------------------------------------

@dataclass
class Prepared:
    """Everything about one file that does not need the database."""
    path: Path
    staged: Staged
    info: mediatools.MediaInfo
    work_dir: Path
    derivatives: list[tuple[str, Path, dict[str, Any]]]  # (kind, file in work_dir, info)
    warnings: list[str] = field(default_factory=list)  # what was done without; kept on the media file
    #: Set by record() when the file went to a record catalogued before it: the key that named it.
    attached_to: str = ""


class Duplicate(Exception):
    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256


class Refused(Exception):
    """This file cannot be ingested; the message is the reason shown to the user."""

    sha256: str | None = None  # set once the content was read, so copies of it get the same reason


#: Gives what ExifTool found in one file, waiting for its batch's call; raises MediaToolError if it failed.
EmbeddedFn = Callable[[], "mediatools.Embedded | None"]


def prepare_file(archive: Archive, path: Path, known: Callable[[str], bool], *,
                 defer_thumbnails: bool = False, embedded: EmbeddedFn | None = None) -> Prepared:
    """Copy, hash, identify and (unless deferred) make derivatives for one file; no catalogue work.

    `embedded` adds the position and capture time only ExifTool finds; when its call failed the file
    is ingested all the same, with a warning.
    """
    settings = archive.settings
    try:
        staged = archive.store.stage(path)
    except OSError as exc:
        raise Refused(_os_reason(exc)) from exc
    try:
        if known(staged.sha256):
            raise Duplicate(staged.sha256)
        if staged.size == 0:
            raise Refused("empty file (0 bytes)")
        try:
            info = mediatools.identify(staged.path, ffprobe_timeout=settings["ffprobe_timeout"],
                                       max_image_pixels=settings["max_image_pixels"])
        except mediatools.NotMedia as exc:
            raise Refused(str(exc)) from exc
        except mediatools.MediaToolError as exc:
            raise Refused(f"could not read the file's metadata: {exc}") from exc
        warnings = []
        if embedded is not None:
            try:
                info = mediatools.with_embedded(info, embedded())
            except (mediatools.MediaToolError, OSError) as exc:
                warnings.append(f"XMP, QuickTime and GPS-track metadata were not read (exiftool failed: {exc}); "
                                "the position and capture time are only what ffprobe or Pillow found")
        work_dir = archive.store.staging_dir()
        try:
            derivatives = []
            if not defer_thumbnails:
                made = make_thumbnails(staged.path, info, work_dir, settings)
                info, derivatives = made.info, made.files
                warnings += made.warnings
        except BaseException:
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        return Prepared(path, staged, info, work_dir, derivatives, warnings)
    except BaseException as exc:
        staged.path.unlink(missing_ok=True)
        if isinstance(exc, Refused):
            exc.sha256 = staged.sha256
        raise


def thumbnail_kinds(kind: ItemKind) -> set[str]:
    """The derivatives make_derivatives gives an item of this kind (proxies are another matter)."""
    return {"grid", "page", "storyboard"} if kind is ItemKind.video else {"grid", "page"}


@dataclass
class Thumbnails:
    """What make_thumbnails made, and what it learned about the file doing so."""
    files: list[tuple[str, Path, dict[str, Any]]]  # (kind, file in out_dir, info)
    info: mediatools.MediaInfo  #: as given, or as_audio when no frame of the video decodes
    warnings: list[str] = field(default_factory=list)


#: The warning of a video catalogued as the sound it still is.
AS_AUDIO_WARNING = ("no frame of the video decodes (the picture is damaged or missing): catalogued as a sound "
                    "recording, with a waveform")


def make_thumbnails(src: Path, info: mediatools.MediaInfo, out_dir: Path, settings: dict[str, Any]) -> Thumbnails:
    """Thumbnails of one file; a video with not one decodable frame but decodable sound becomes an audio item."""
    try:
        made = _derivatives(src, info, out_dir, settings)
    except mediatools.NoVideoFrames as exc:
        if not info.audio_codec:
            raise Refused(f"could not make thumbnails: {exc}, and it has no sound") from exc
        info = mediatools.as_audio(info)
        made = _derivatives(src, info, out_dir, settings)
        return Thumbnails(_files(made, settings), info, [AS_AUDIO_WARNING])
    return Thumbnails(_files(made, settings), info, list(made.warnings))


def make_derivatives(src: Path, info: mediatools.MediaInfo, out_dir: Path,
                     settings: dict[str, Any]) -> list[tuple[str, Path, dict[str, Any]]]:
    """Thumbnails (and for video a storyboard) of one file, written into `out_dir`."""
    return make_thumbnails(src, info, out_dir, settings).files


def _derivatives(src: Path, info: mediatools.MediaInfo, out_dir: Path,
                 settings: dict[str, Any]) -> mediatools.Derivatives:
    common = dict(grid_width=settings["thumb_grid_width"], page_width=settings["thumb_page_width"],
                  fmt=settings["thumb_format"])
    try:
        if info.kind == "video":
            made = mediatools.video_derivatives(
                src, info, out_dir, storyboard_frames=settings["storyboard_frames"],
                storyboard_frame_width=settings["storyboard_frame_width"],
                timeout=settings["ffmpeg_timeout"], **common)
        elif info.kind == "audio":
            made = mediatools.audio_derivatives(src, info, out_dir, timeout=settings["ffmpeg_timeout"], **common)
        else:
            made = mediatools.still_derivatives(src, info, out_dir, max_image_pixels=settings["max_image_pixels"],
                                                **common)
    except mediatools.NoVideoFrames:
        raise
    except mediatools.MediaToolError as exc:
        raise Refused(f"could not make thumbnails ({info.kind} looks corrupt or truncated): {exc}") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Refused(f"could not make thumbnails: {exc}") from exc
    return made


def _files(made: mediatools.Derivatives, settings: dict[str, Any]) -> list[tuple[str, Path, dict[str, Any]]]:
    out: list[tuple[str, Path, dict[str, Any]]] = [("grid", made.grid, {}), ("page", made.page, {})]
    if made.storyboard is not None:
        out.append(("storyboard", made.storyboard, {"frame_times": list(made.frame_times),
                                                    "frame_width": settings["storyboard_frame_width"]}))
    return out


# -- recording, on the main thread ----------------------------------------------------------

def title_from_name(path: Path) -> str:
    stem = display_path(path.name).rsplit(".", 1)[0] if "." in path.name else display_path(path.name)
    title = " ".join(stem.replace("_", " ").split())
    return title[:500] or "Untitled"


def new_item_levels(settings: dict[str, Any], access: AccessLevel | str | None = None,
                    precision: LocationPrecision | str | None = None) -> tuple[AccessLevel, LocationPrecision]:
    """The access level and published GPS precision of an item added now: those asked for, else the
    default_access and default_location_precision settings (restricted, about 10 km unless changed)."""
    return (AccessLevel(access or settings["default_access"]),
            LocationPrecision(precision or settings["default_location_precision"]))


def record(session: Session, archive: Archive, prepared: Prepared, options: IngestOptions) -> Item:
    """Create the item, its media file and derivative records; place the files; flush, no commit."""
    info = prepared.info
    collection = get_or_create_collection(session, options.collection)[0] if options.collection else None
    date_shot = parse_date(info.creation_time.date().isoformat()) if info.creation_time else parse_date("")
    catalogued = catalogued_record_of(session, prepared)
    if catalogued is not None:
        # The file of a record catalogued before it (a PBCore import): the record's metadata stays; the
        # item takes the file's kind, and the file's date and the collection only where it has none.
        item, prepared.attached_to = catalogued
        item.kind = ItemKind(info.kind)
        if not item.date_shot and date_shot.text:
            item.date_shot, item.date_lower, item.date_upper = date_shot.text, date_shot.lower, date_shot.upper
        if item.collection is None and collection is not None:
            item.collection = collection
    else:
        access, precision = new_item_levels(archive.settings, options.access, options.location_precision)
        item = Item(title=title_from_name(prepared.path), kind=ItemKind(info.kind), access=access,
                    location_precision=precision, collection=collection, date_shot=date_shot.text,
                    date_lower=date_shot.lower, date_upper=date_shot.upper, creator="", language="", rights="",
                    source="", description="")
    sha = prepared.staged.sha256
    media = MediaFile(
        sha256=sha, original_name=display_path(prepared.path.name)[:1000],
        original_path=(f"{options.origin}: {display_path(prepared.path.name)}" if options.origin
                       else display_path(prepared.path.absolute())), size=prepared.staged.size,
        mime_type=info.mime_type, container=info.container or "", duration=info.duration,
        width=info.width, height=info.height, frame_rate=info.frame_rate,
        video_codec=info.video_codec or "", audio_codec=info.audio_codec or "",
        pixel_format=info.pixel_format or "", bit_rate=info.bit_rate, audio_channels=info.audio_channels,
        audio_sample_rate=info.audio_sample_rate, rotation=info.rotation or 0,
        creation_time=info.creation_time, latitude=info.latitude, longitude=info.longitude,
        altitude=info.altitude, camera_make=info.camera_make or "", camera_model=info.camera_model or "",
        web_ready=info.web_ready, warnings=list(prepared.warnings))
    item.media_files.append(media)
    session.add(item)
    session.flush()
    archive.store.place_original(prepared.staged)
    if prepared.derivatives:
        store_derivatives(session, archive, media, prepared.work_dir, prepared.derivatives)
    else:  # deferred: queued before any proxy, so the worker makes the thumbnails first
        jobs.enqueue(session, THUMBNAILS_JOB, item_id=item.id, payload={"sha256": sha})
    if needs_proxy(item, web_ready=info.web_ready):
        jobs.enqueue(session, PROXY_JOB, item_id=item.id, payload={"sha256": sha})
    queue_access_copy_if_needed(session, item)
    return item


def catalogued_record_of(session: Session, prepared: Prepared) -> tuple[Item, str] | None:
    """The item catalogued before its media (kind `catalogued`, not in the trash) whose record names this
    file by its name, its name without the extension, or its checksum (see RecordKey), with the key that
    matched; None when no record or several do (then a warning says so, and the file is a new item)."""
    name = display_path(prepared.path.name)
    keys = {f"name:{name}", f"name:{name.rsplit('.', 1)[0]}", f"sha256:{prepared.staged.sha256}"}
    waiting = select(Item.id).where(Item.kind == ItemKind.catalogued, Item.deleted_at.is_(None))
    if session.scalar(select(RecordKey.id).where(RecordKey.key.startswith("md5:"), RecordKey.item_id.in_(waiting))
                      .limit(1)) is not None:  # MD5 is read only when some record gives one
        with prepared.staged.path.open("rb") as file:
            keys.add(f"md5:{hashlib.file_digest(file, 'md5').hexdigest()}")
    rows = session.execute(select(RecordKey.item_id, RecordKey.key).where(RecordKey.key.in_(sorted(keys)),
                                                                          RecordKey.item_id.in_(waiting))).all()
    ids = sorted({row.item_id for row in rows})
    if len(ids) > 1:
        prepared.warnings.append(f"its name or checksum is named by {len(ids)} catalogued records (items "
                                 f"{', '.join(map(str, ids))}): recorded as an item of its own, not attached")
    if len(ids) != 1:
        return None
    item = session.get(Item, ids[0])
    return (item, rows[0].key) if item is not None else None


def needs_proxy(item: Item, *, web_ready: bool) -> bool:
    """Does this item need a web proxy? Footage when browsers cannot play the original, and footage and
    recordings when viewers who may not have the original (archive.access.may_have_original) may play
    them: the proxy is then their metadata-free copy, even of a web-ready original."""
    withheld = item.location_precision is not LocationPrecision.exact
    if item.kind is ItemKind.audio:
        return withheld
    return item.kind is ItemKind.video and (not web_ready or withheld)


def queue_proxy_if_needed(session: Session, item: Item) -> bool:
    """Queue the item's proxy when it needs one and has none (made or queued); True when queued."""
    media = item.media
    if media is None or media.derivative("proxy") is not None or not needs_proxy(item, web_ready=media.web_ready):
        return False
    jobs.enqueue(session, PROXY_JOB, item_id=item.id, payload={"sha256": media.sha256})
    return True


def store_derivatives(session: Session, archive: Archive, media: MediaFile, work_dir: Path,
                      made: list[tuple[str, Path, dict[str, Any]]]) -> None:
    """Record derivatives make_derivatives made in `work_dir` and move them into the store (flushed, no commit).

    Records of the same kinds are replaced: a re-made thumbnail may have another format's name.
    """
    reldir = archive.store.derivative_reldir(media.sha256)
    kinds = {kind for kind, _, _ in made}
    for old in [d for d in media.derivatives if d.kind in kinds]:
        media.derivatives.remove(old)
    session.flush()  # the old rows go before the new ones take their (media file, kind)
    for kind, path, extra in made:
        with Image.open(path) as img:
            width, height = img.size
            mime = Image.MIME.get(img.format or "", "application/octet-stream")
        media.derivatives.append(Derivative(kind=kind, path=f"{reldir}/{path.name}", mime_type=mime, width=width,
                                            height=height, size=path.stat().st_size, info=extra))
    session.flush()
    archive.store.place_derivatives(media.sha256, work_dir, [path.name for _, path, _ in made])


def make_thumbnails_for(archive: Archive, job: Job) -> None:
    """The worker's half of a deferred ingest: make and record the job's media file's thumbnails."""
    with archive.Session() as session:
        media = jobs.media_file_of(session, job)
        media_id, sha = media.id, media.sha256
    settings = archive.settings
    work_dir = archive.store.staging_dir()
    try:
        try:
            with archive.store.fetch(archive.store.original_relpath(sha)) as original:
                info = mediatools.identify(original, ffprobe_timeout=settings["ffprobe_timeout"],
                                           max_image_pixels=settings["max_image_pixels"])
                made = make_thumbnails(original, info, work_dir, settings)
        except (Refused, mediatools.NotMedia, mediatools.MediaToolError, OSError) as exc:
            raise jobs.JobFailed(str(exc)) from exc
        with archive.session() as session:
            media = session.get(MediaFile, media_id)
            if media is None:
                raise jobs.JobFailed(f"the item of {sha} was deleted while its thumbnails were made")
            if made.info.kind != media.item.kind.value:  # a video without one decodable frame: its sound
                media.item.kind = ItemKind(made.info.kind)
                media.mime_type, media.web_ready = made.info.mime_type, made.info.web_ready
                media.width = media.height = media.frame_rate = None
                media.video_codec = media.pixel_format = ""
            new = [w for w in made.warnings if w not in media.warnings]
            if new:
                media.warnings = [*media.warnings, *new]
            store_derivatives(session, archive, media, work_dir, made.files)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


# -- the batch ------------------------------------------------------------------------------

ProgressFn = Callable[[str, Path, str], None]  # (outcome, path, detail)


class _Batch:
    """The state of one ingest run: what was claimed, what failed, what waits to be resolved."""

    def __init__(self, archive: Archive, options: IngestOptions, note: ProgressFn) -> None:
        self.archive = archive
        self.options = options
        self.note = note
        self.report = IngestReport()
        self.claimed: set[str] = set()
        self.claimed_lock = threading.Lock()
        self.failed_content: dict[str, str] = {}  # sha256 -> reason, for later copies of that content
        self.copies: list[tuple[Path, str]] = []  # files whose content another file brought first
        self.sidecars: dict[Path, list[Path]] = {}  # media file -> its subtitle/transcript sidecars
        self.indexed_at = time.monotonic()

    def known(self, sha: str) -> bool:
        """Called from the pool: is this content archived already, or taken by another file of the batch?"""
        with self.claimed_lock:
            if sha in self.claimed:
                return True
            self.claimed.add(sha)
        return self._recorded(sha)

    def _recorded(self, sha: str) -> bool:
        with self.archive.Session() as session:
            return session.scalar(select(MediaFile.id).where(MediaFile.sha256 == sha)) is not None

    def fail(self, path: Path, reason: str) -> None:
        self.report.failed.append({"path": display_path(path), "reason": reason})
        self.note("failed", path, reason)
        for sidecar in self.sidecars.pop(path, ()):
            self.fail(sidecar, f"its media file {display_path(path.name)} failed: {reason}")

    # -- sidecars (issue 4): clip.vtt, clip.en.srt, clip.ko.vtt beside clip.mp4 ---------------

    def find_sidecars(self, found: list[Found]) -> list[Found]:
        """Take the sidecars out of `found`; each goes with the media file of its name, or fails."""
        media: dict[tuple[Path, str], Path] = {}
        sidecars: list[Path] = []
        for entry in found:
            if entry.path.suffix.lower() in transcripts.SIDECAR_SUFFIXES:
                if entry.problem is None:
                    sidecars.append(entry.path)
            else:  # a media file that fails takes its sidecars with it (see fail)
                media.setdefault((entry.path.parent, entry.path.stem), entry.path)
        for sidecar in sidecars:
            owner = media.get((sidecar.parent, transcripts.sidecar_base(sidecar.name)))
            if owner is None:
                self.fail(sidecar, "a subtitle or transcript file is attached to the media file of the same "
                                   "name beside it (clip.mp4 for clip.vtt or clip.ko.vtt), and there is none")
            else:
                self.sidecars.setdefault(owner, []).append(sidecar)
        taken = set(sidecars)
        return [entry for entry in found if entry.path not in taken]

    def attach_sidecars(self, media: Path, item_id: int) -> None:
        """Import the sidecars of `media` into item `item_id`, one transaction each."""
        from archive.services.transcripts import import_transcript
        for sidecar in self.sidecars.pop(media, ()):
            try:
                data = sidecar.read_bytes()
                with self.archive.session(self.options.actor) as session:
                    item = session.get(Item, item_id)
                    result = import_transcript(session, item, data, sidecar.name, kind=TranscriptKind.subtitles)
                    entry = {"path": display_path(sidecar), "item_id": item_id,
                             "transcript_id": result.transcript.id, "language": result.transcript.language}
            except OSError as exc:
                self.fail(sidecar, _os_reason(exc))
                continue
            except Invalid as exc:
                self.fail(sidecar, str(exc))
                continue
            if result.problems:
                entry["problems"] = [str(p) for p in result.problems]
            self.report.attached.append(entry)
            self.note("attached", sidecar, f"item {item_id}")

    def finish(self, future: Future[Prepared], path: Path) -> None:
        """Record one file whose file work is done (main thread, one transaction)."""
        try:
            prepared = future.result()
        except Duplicate as dup:
            self.copies.append((path, dup.sha256))
            return
        except Refused as exc:
            if exc.sha256:
                self.failed_content[exc.sha256] = str(exc)
            self.fail(path, str(exc))
            return
        except Exception as exc:  # a bug or an unforeseen library error must not stop the batch
            self.fail(path, f"unexpected error: {type(exc).__name__}: {exc}")
            return
        try:
            with self.archive.store.intent(prepared.staged.sha256):
                with self.archive.session(self.options.actor) as session, audit.labelled(session, "ingest"):
                    session.info["defer_index"] = True
                    item_id = record(session, self.archive, prepared, self.options).id
        except Invalid as exc:
            self.fail(path, str(exc))
            return
        except StaleDataError:  # an edit of the catalogued item it was being attached to was saved first
            self.fail(path, "its catalogued record was changed while the file was being attached to it; "
                            "nothing was kept: ingest it again")
            return
        except IntegrityError as exc:
            # Another ingest (another process or machine) recorded the same content between our
            # look-up and our commit: the unique checksum kept it to one item, and this file is a
            # copy of it. The bytes we placed are the same content, at the same address.
            if not self._recorded(prepared.staged.sha256):
                self.fail(path, f"the catalogue refused the record: {exc.orig}")
                return
            self.copies.append((path, prepared.staged.sha256))
            return
        finally:
            prepared.staged.path.unlink(missing_ok=True)
            shutil.rmtree(prepared.work_dir, ignore_errors=True)
        entry: dict[str, Any] = {"path": display_path(path), "item_id": item_id}
        if prepared.warnings:
            entry["warnings"] = list(prepared.warnings)
        if prepared.attached_to:
            entry["catalogued_record"] = prepared.attached_to
        self.report.ingested.append(entry)
        self.note("ingested", path, f"attached to item {item_id} (catalogued record {prepared.attached_to})"
                  if prepared.attached_to else f"item {item_id}")
        self.attach_sidecars(path, item_id)
        if time.monotonic() - self.indexed_at > INDEX_EVERY:
            self.index()

    def index(self) -> None:
        """Write what the batch recorded so far into the search index (the outbox holds it meanwhile)."""
        self.indexed_at = time.monotonic()
        try:
            search_sync.sync_index(self.archive)
        except Exception:  # committed and kept in the outbox: the next sync or start-up writes it
            log.exception("could not update the search index during ingest; the outbox keeps the changes")

    def resolve_copies(self) -> None:
        """Copies are reported once the first file with their content is recorded or refused."""
        for path, sha in self.copies:
            with self.archive.Session() as session:
                item_id = session.scalar(select(MediaFile.item_id).where(MediaFile.sha256 == sha))
            if item_id is not None:
                self.report.duplicates.append({"path": display_path(path), "item_id": item_id})
                self.note("duplicate", path, f"already item {item_id}")
                self.attach_sidecars(path, item_id)  # the item gets them (same language: replaced)
            else:
                self.fail(path, self.failed_content.get(sha, "same content as another file of this batch, "
                                                              "which failed"))


class _EmbeddedReads:
    """ExifTool's reading of a run's files: one call per `size` files, made when the first of them is taken up."""

    def __init__(self, pool: ThreadPoolExecutor, paths: list[Path], *, size: int, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self.batches = [paths[i:i + max(1, size)] for i in range(0, len(paths), max(1, size))]
        self.where = {path: (b, i) for b, batch in enumerate(self.batches) for i, path in enumerate(batch)}
        self.calls: dict[int, Future[list[mediatools.Embedded]]] = {}

    def reader(self, path: Path) -> EmbeddedFn:
        """The function prepare_file calls for `path`'s reading (the batch's call is made now if not yet)."""
        b, i = self.where[path]
        if b not in self.calls:
            self.calls[b] = self.pool.submit(mediatools.read_embedded, self.batches[b], timeout=self.timeout)
        call = self.calls[b]
        return lambda: call.result()[i]

    def cancel(self) -> None:
        for call in self.calls.values():
            call.cancel()


def ingest_paths(archive: Archive, paths: list[Path], options: IngestOptions,
                 on_progress: ProgressFn | None = None, *, on_total: Callable[[int], None] | None = None,
                 ) -> IngestReport:
    """Ingest every file under `paths`; one transaction per file (see the module docstring)."""
    archive.recover()
    found = list(walk(paths))
    if on_total:
        on_total(len(found))
    batch = _Batch(archive, options, on_progress or (lambda outcome, path, detail: None))
    found = batch.find_sidecars(found)  # sidecars are attached to their media's item, not ingested
    workers = archive.settings["ingest_workers"]
    with (archive.store.working(), ThreadPoolExecutor(max_workers=workers) as pool,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="exiftool") as exiftool_pool):
        pending: dict[Future[Prepared], Path] = {}
        queue = iter(found)
        embedded = _EmbeddedReads(exiftool_pool, [entry.path for entry in found if not entry.problem],
                                  size=archive.settings["exiftool_batch"], timeout=archive.settings["exiftool_timeout"])

        def top_up() -> None:
            # A small window of files in flight keeps staging space and memory bounded.
            for entry in queue:
                if entry.problem:
                    batch.fail(entry.path, entry.problem)
                    continue
                pending[pool.submit(prepare_file, archive, entry.path, batch.known,
                                    defer_thumbnails=options.defer_thumbnails,
                                    embedded=embedded.reader(entry.path))] = entry.path
                if len(pending) >= workers * 2:
                    return

        try:
            top_up()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    batch.finish(future, pending.pop(future))
                top_up()
        except BaseException:
            for future in pending:
                future.cancel()
            embedded.cancel()
            raise
    batch.resolve_copies()
    batch.index()
    return batch.report
