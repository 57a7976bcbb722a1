"""Fixity: re-hash stored originals and check every derivative is present.

`crossings verify` checks everything at once; the nightly job (FIXITY_JOB, queued once a night by
whichever worker looks first) checks the least recently checked share of the originals, so that
each is checked within fixity_days. Both record each original's latest check (FixityCheck), which
`crossings verify --report` and /admin/fixity show without hashing anything.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive import mediatools
from archive.models import Derivative, FixityCheck, FixityResult, Job, JobState, MediaFile, PeriodicRun
from archive.services import jobs
from archive.services.access_copies import ACCESS, ACCESS_JOB, needs_access_copy
from archive.services.ingest import (PROXY_JOB, THUMBNAILS_JOB, Refused, make_derivatives, needs_proxy,
                                     store_derivatives, thumbnail_kinds)

if TYPE_CHECKING:
    from archive.core import Archive

#: The nightly re-check's job kind (and periodic schedule name).
FIXITY_JOB = "fixity_check"


def check_original(archive: Archive, session: Session, media: MediaFile,
                   now: datetime | None = None) -> FixityCheck:
    """Hash one stored original against its checksum and record the outcome as its latest check."""
    now = now or datetime.now(timezone.utc)
    hashed = archive.store.hash(archive.store.original_relpath(media.sha256))
    actual = ""
    if hashed is None:
        result = FixityResult.missing
    else:
        actual = hashed
        result = FixityResult.ok if actual == media.sha256 else FixityResult.changed
    check = session.get(FixityCheck, media.id) or FixityCheck(media_file_id=media.id)
    was_failing = check.result not in (None, FixityResult.ok)
    check.checked_at = now
    check.result = result
    check.actual_sha256 = "" if result is FixityResult.ok else actual
    check.failing_since = None if result is FixityResult.ok else (check.failing_since if was_failing else now)
    session.add(check)
    session.flush()
    return check


def nightly_share(total: int, days: int) -> int:
    """Originals one night checks so that all `total` are checked within `days` nights."""
    return math.ceil(total / days) if total and days > 0 else 0


def least_recently_checked(session: Session, limit: int, *, before: datetime | None = None) -> list[int]:
    """Ids of the `limit` originals checked longest ago (never-checked ones first), leaving out those
    checked since `before`."""
    stmt = select(MediaFile.id).outerjoin(FixityCheck)
    if before is not None:
        stmt = stmt.where((FixityCheck.checked_at.is_(None)) | (FixityCheck.checked_at < before))
    return list(session.scalars(stmt.order_by(FixityCheck.checked_at.asc().nulls_first(), MediaFile.id)
                                .limit(max(limit, 0))))


def run_nightly_check(archive: Archive, job: Job) -> None:
    """The nightly job: re-hash the least recently checked 1/fixity_days of the originals.

    Each check is committed on its own, so a worker killed halfway loses only the file it was
    hashing, and the job's next attempt (after the lease runs out) checks only the rest of the
    night's share: what was checked since the period began counts towards it.
    """
    began = datetime.fromisoformat(job.payload.get("period_start") or job.created_at.isoformat())
    with archive.Session() as session:
        total = session.scalar(select(func.count(MediaFile.id))) or 0
        done = session.scalar(select(func.count(FixityCheck.media_file_id))
                              .where(FixityCheck.checked_at >= began)) or 0
        ids = least_recently_checked(session, nightly_share(total, archive.settings["fixity_days"]) - done,
                                     before=began)
    for media_id in ids:
        with archive.session() as session:
            media = session.get(MediaFile, media_id)
            if media is not None:  # else purged since the list was made
                check_original(archive, session, media)


@dataclass
class FixityStatus:
    """What the recorded checks say, without hashing anything (verify --report, /admin/fixity)."""
    originals: int
    never_checked: int
    overdue: int  #: not checked within fixity_days (the never checked included)
    failures: list[dict[str, Any]]
    last_runs: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"originals": self.originals, "never_checked": self.never_checked, "overdue": self.overdue,
                "failures": self.failures, "last_runs": self.last_runs}


def fixity_status(session: Session, *, days: int, now: datetime | None = None) -> FixityStatus:
    now = now or datetime.now(timezone.utc)
    originals = session.scalar(select(func.count(MediaFile.id))) or 0
    checked = session.scalar(select(func.count(FixityCheck.media_file_id))) or 0
    recent = session.scalar(select(func.count(FixityCheck.media_file_id))
                            .where(FixityCheck.checked_at >= now - timedelta(days=max(days, 1)))) or 0
    rows = session.execute(select(FixityCheck, MediaFile).join(MediaFile)
                           .where(FixityCheck.result != FixityResult.ok)
                           .order_by(FixityCheck.failing_since, MediaFile.id)).all()
    failures = [{"item_id": media.item_id, "original_name": media.original_name, "sha256": media.sha256,
                 "result": check.result.value, "actual_sha256": check.actual_sha256,
                 "checked_at": check.checked_at.isoformat(timespec="seconds"),
                 "failing_since": check.failing_since.isoformat(timespec="seconds") if check.failing_since else None}
                for check, media in rows]
    runs = session.execute(select(PeriodicRun, Job).outerjoin(Job, PeriodicRun.job_id == Job.id)
                           .where(PeriodicRun.name == FIXITY_JOB)
                           .order_by(PeriodicRun.period_start.desc()).limit(7)).all()
    last_runs = [{"period_start": run.period_start.isoformat(timespec="seconds"), "worker": run.worker,
                  "job_id": run.job_id, "state": job.state.value if job else "gone",
                  "error": job.error if job else ""}
                 for run, job in runs]
    return FixityStatus(originals, originals - checked, originals - recent, failures, last_runs)


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
        check = check_original(archive, session, media)
        original_ok = check.result is FixityResult.ok
        if check.result is FixityResult.missing:
            report.missing.append(where)
        elif check.result is FixityResult.changed:
            report.changed.append({**where, "actual_sha256": check.actual_sha256})
        gone = [d for d in media.derivatives if not archive.store.is_stored(d.path)]
        for d in gone:
            report.missing_derivatives.append({**where, "kind": d.kind, "path": d.path})
        if repair and gone and original_ok:
            _repair(archive, session, media, gone, report)
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


def _repair(archive: Archive, session: Session, media: MediaFile, gone: list[Derivative],
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
        with archive.store.fetch(archive.store.original_relpath(media.sha256)) as original:
            info = mediatools.identify(original, ffprobe_timeout=archive.settings["ffprobe_timeout"],
                                       max_image_pixels=archive.settings["max_image_pixels"])
            made = [entry for entry in make_derivatives(original, info, work_dir, archive.settings)
                    if entry[0] in kinds]
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
