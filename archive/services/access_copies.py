"""Access copies: the full-quality, metadata-free file a viewer who may not have an item's original
downloads instead (archive.access.may_have_original), where the archive offers such downloads.

They are made by the worker, only for items that need one (archive.access.withheld_from_non_editors)
and only when the offer_access_copy_downloads setting is true, so that the store does not double for
nothing: playing needs none, since the web proxy is already such a copy.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from archive import mediatools
from archive.access import withheld_from_non_editors
from archive.models import Derivative, Item, ItemKind, Job, MediaFile
from archive.services import jobs
from archive.services.jobs import JobFailed, media_file_of
from archive.store import sha256_file

if TYPE_CHECKING:
    from archive.core import Archive

ACCESS_JOB = "make_access_copy"
#: The derivative kind of an access copy.
ACCESS = "access"


def downloads_offered(session: Session) -> bool:
    """The offer_access_copy_downloads setting of the archive this session belongs to (false without one).

    Read from the session, as search_sync finds its archive, so that every edit that can make an item
    need an access copy queues it, whoever calls it (web, CLI, tests) and without a flag to forget.
    """
    archive = session.info.get("archive")
    return bool(archive is not None and archive.settings["offer_access_copy_downloads"])


def needs_access_copy(item: Item, *, offered: bool) -> bool:
    """Should `item` have an access copy? When downloads are `offered` and someone who is not an editor
    may see it but not have its original."""
    return offered and item.media is not None and withheld_from_non_editors(item)


def queue_access_copy_if_needed(session: Session, item: Item) -> bool:
    """Queue the item's access copy when it needs one and has none (made or queued); True when queued.

    Called wherever an item comes in or its access, collection or precision changes.
    """
    media = item.media
    if media is None or media.derivative(ACCESS) is not None \
            or not needs_access_copy(item, offered=downloads_offered(session)):
        return False
    jobs.enqueue(session, ACCESS_JOB, item_id=item.id, payload={"sha256": media.sha256})
    return True


def make_access_copy_for(archive: Archive, job: Job) -> None:
    """The worker's job: make the access copy of the job's media file and record it, with its own checksum."""
    with archive.Session() as session:
        media = media_file_of(session, job)
        existing = media.derivative(ACCESS)
        if existing is not None and archive.store.is_stored(existing.path):
            return
        if not needs_access_copy(media.item, offered=archive.settings["offer_access_copy_downloads"]):
            return  # published exactly again, or downloads no longer offered, since it was queued
        media_id, sha, kind, mime = media.id, media.sha256, media.item.kind, media.mime_type
    settings = archive.settings
    work_dir = archive.store.staging_dir()
    try:
        try:
            with archive.store.fetch(archive.store.original_relpath(sha)) as src:
                if kind is ItemKind.still:
                    made = mediatools.make_still_access_copy(src, work_dir,
                                                             max_image_pixels=settings["max_image_pixels"])
                else:
                    made = mediatools.make_av_access_copy(src, work_dir, mime_type=mime, kind=kind.value,
                                                          timeout=settings["proxy_timeout"])
            info = mediatools.identify(made.path, ffprobe_timeout=settings["ffprobe_timeout"],
                                       max_image_pixels=settings["max_image_pixels"])
        except (mediatools.MediaToolError, mediatools.NotMedia) as exc:
            raise JobFailed(f"could not make the access copy: {exc}") from exc
        except OSError as exc:  # Pillow: a still damaged beyond its header
            raise JobFailed(f"could not make the access copy of the still: {exc}") from exc
        reldir = archive.store.derivative_reldir(sha)
        with archive.session() as session:
            media = session.get(MediaFile, media_id)
            assert media is not None
            old = media.derivative(ACCESS)
            if old is not None:
                session.delete(old)
                session.flush()
            session.add(Derivative(media_file_id=media_id, kind=ACCESS, path=f"{reldir}/{made.path.name}",
                                   mime_type=made.mime_type, width=info.width, height=info.height,
                                   size=made.path.stat().st_size,
                                   # its own checksum: its ETag, and what a recipient may check it against
                                   info={"sha256": sha256_file(made.path), "duration": info.duration}))
            session.flush()
            archive.store.place_derivatives(sha, work_dir, [made.path.name])
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
