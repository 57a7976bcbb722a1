"""Fixity: re-hash every stored original and check every derivative is present."""

from __future__ import annotations

import shutil
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import mediatools
from archive.models import Derivative, Job, JobState, MediaFile
from archive.services import jobs
from archive.services.access_copies import ACCESS, ACCESS_JOB, needs_access_copy
from archive.services.ingest import (PROXY_JOB, THUMBNAILS_JOB, Refused, make_derivatives, needs_proxy,
                                     store_derivatives, thumbnail_kinds)
from archive.store import sha256_file

if TYPE_CHECKING:
    from archive.core import Archive


@dataclass
class FixityReport:
    checked: int = 0
    missing: list[dict[str, object]] = field(default_factory=list)    # originals gone
    changed: list[dict[str, object]] = field(default_factory=list)    # originals whose bytes differ
    missing_derivatives: list[dict[str, object]] = field(default_factory=list)
    repaired: list[dict[str, object]] = field(default_factory=list)
    repair_failed: list[dict[str, object]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when originals are all there and unchanged and no derivative is still missing."""
        unrepaired = len(self.missing_derivatives) - len(self.repaired)
        return not (self.missing or self.changed or unrepaired > 0)

    def as_json(self) -> dict[str, object]:
        return {"checked": self.checked, "intact": self.intact, "missing": self.missing, "changed": self.changed,
                "missing_derivatives": self.missing_derivatives, "repaired": self.repaired,
                "repair_failed": self.repair_failed}


def verify_store(archive: Archive, session: Session, *, repair: bool = False,
                 on_progress: Callable[[MediaFile], None] | None = None) -> FixityReport:
    """Check every stored original against its checksum; with `repair`, re-make missing derivatives.

    Originals are never repaired: a missing or changed original is reported for a person to
    restore from a copy they trust.
    """
    report = FixityReport()
    media_files = session.scalars(select(MediaFile).options(selectinload(MediaFile.derivatives),
                                                            selectinload(MediaFile.item))
                                  .order_by(MediaFile.id)).all()
    for media in media_files:
        report.checked += 1
        where = {"item_id": media.item_id, "sha256": media.sha256, "original_name": media.original_name}
        path = archive.store.root / archive.store.original_relpath(media.sha256)
        original_ok = False
        if not path.is_file():
            report.missing.append(where)
        else:
            actual = sha256_file(path)
            if actual != media.sha256:
                report.changed.append({**where, "actual_sha256": actual})
            else:
                original_ok = True
        gone = [d for d in media.derivatives if not (archive.store.root / d.path).is_file()]
        for d in gone:
            report.missing_derivatives.append({**where, "kind": d.kind, "path": d.path})
        if repair and gone and original_ok:
            _repair(archive, session, media, path, gone, report)
        never_made = thumbnail_kinds(media.item.kind) - {d.kind for d in media.derivatives}
        if never_made and not _thumbnails_pending(session, media.item_id):
            # Deferred at ingest and the job failed or is gone: re-queue rather than make them here.
            for kind in sorted(never_made):
                report.missing_derivatives.append({**where, "kind": kind, "path": ""})
            if repair and original_ok:
                jobs.enqueue(session, THUMBNAILS_JOB, item_id=media.item_id, payload={"sha256": media.sha256})
                report.repaired.extend({**where, "kind": kind, "how": "queued for the worker"}
                                       for kind in sorted(never_made))
        # Copies for viewers without the original, never made: footage and recordings ingested or published
        # coarser before their proxy was queued (or whose job failed), access copies of items that needed
        # one before downloads were offered.
        offered = archive.settings["offer_access_copy_downloads"]
        for kind, job_kind, needed in (("proxy", PROXY_JOB, needs_proxy(media.item, web_ready=media.web_ready)),
                                       (ACCESS, ACCESS_JOB, needs_access_copy(media.item, offered=offered))):
            if media.derivative(kind) is not None or not needed or _pending(session, job_kind, media.item_id):
                continue
            report.missing_derivatives.append({**where, "kind": kind, "path": ""})
            if repair and original_ok:
                jobs.enqueue(session, job_kind, item_id=media.item_id, payload={"sha256": media.sha256})
                report.repaired.append({**where, "kind": kind, "how": "queued for the worker"})
        if on_progress:
            on_progress(media)
    return report


def _thumbnails_pending(session: Session, item_id: int) -> bool:
    """Is a deferred ingest's thumbnails job still to run for this item?"""
    return _pending(session, THUMBNAILS_JOB, item_id)


def _pending(session: Session, kind: str, item_id: int) -> bool:
    """Is a job of this kind queued or running for this item?"""
    return session.scalar(select(Job.id).where(Job.kind == kind, Job.item_id == item_id,
                                               Job.state.in_([JobState.queued, JobState.running]))) is not None


def _repair(archive: Archive, session: Session, media: MediaFile, original: Path, gone: list[Derivative],
            report: FixityReport) -> None:
    kinds = {d.kind for d in gone}
    where = {"item_id": media.item_id, "sha256": media.sha256}
    for kind, job_kind in (("proxy", PROXY_JOB), (ACCESS, ACCESS_JOB)):
        if kind not in kinds:
            continue
        # Proxies and access copies are long work: queue them for the worker like at ingest.
        for d in gone:
            if d.kind == kind:
                session.delete(d)
        jobs.enqueue(session, job_kind, item_id=media.item_id, payload={"sha256": media.sha256})
        report.repaired.append({**where, "kind": kind, "how": "queued for the worker"})
        kinds.discard(kind)
    if not kinds:
        return
    work_dir = archive.store.staging_dir()
    try:
        info = mediatools.identify(original, ffprobe_timeout=archive.settings["ffprobe_timeout"],
                                   max_image_pixels=archive.settings["max_image_pixels"])
        made = [entry for entry in make_derivatives(original, info, work_dir, archive.settings) if entry[0] in kinds]
        if made:
            store_derivatives(session, archive, media, work_dir, made)
        for kind, _, _ in made:
            report.repaired.append({**where, "kind": kind, "how": "re-made"})
        for kind in kinds - {kind for kind, _, _ in made}:
            report.repair_failed.append({**where, "kind": kind, "reason": "not made again"})
    except (Refused, mediatools.MediaToolError, mediatools.NotMedia, OSError) as exc:
        for kind in kinds:
            report.repair_failed.append({**where, "kind": kind, "reason": str(exc)})
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
