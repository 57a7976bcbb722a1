"""The trash: items moved out of sight, restorable until the trash is emptied.

Moving to the trash only sets `Item.deleted_at`; the access policy then hides the item from every
page, answer, file and count. Emptying deletes the rows; the stored files go afterwards, once the
caller has committed (`remove_unused_files`), so a failed commit never loses an original.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from archive.access import EDITORS, Viewer, item_filter
from archive.models import AuditEntry, Item, Job, JobState, MediaFile, Role, User
from archive.services import NotFound, Paginated, audit
from archive.services.access_copies import queue_access_copy_if_needed
from archive.store import Store

log = logging.getLogger(__name__)

#: Who may move items to the trash; restoring and emptying are for admins alone.


@dataclass(frozen=True)
class TrashedItem:
    item: Item
    deleted_by: str  #: username, or the audit trail's actor when the account is gone or was the CLI


@dataclass(frozen=True)
class TrashPage(Paginated):
    entries: list[TrashedItem]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class PurgePlan:
    """What emptying would remove: the items, and their stored files with their total size."""
    items: list[Item]
    files: int
    size: int  #: bytes of the originals

    @property
    def item_ids(self) -> list[int]:
        return [item.id for item in self.items]


@dataclass(frozen=True)
class Purged:
    item_ids: list[int]
    #: Checksums of the purged originals; pass them to remove_unused_files after the commit.
    checksums: list[str]


def _require(viewer: Viewer, roles: Iterable[Role]) -> None:
    # Same answer as for an absent item: a viewer without the role learns nothing.
    if viewer.role not in tuple(roles):
        raise NotFound("the trash")


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in ids))


def _load(session: Session, viewer: Viewer, item_ids: Iterable[int], *, in_trash: bool) -> list[Item]:
    """Exactly the items asked for, or NotFound naming those that are absent or not `viewer`'s to see."""
    ids = _unique(item_ids)
    if not ids:
        return []
    items = session.scalars(select(Item).where(Item.id.in_(ids), item_filter(viewer, in_trash=in_trash))
                            .options(selectinload(Item.media_files))).all()
    missing = sorted(set(ids) - {item.id for item in items})
    if missing:
        where = "in the trash" if in_trash else "outside the trash"
        raise NotFound(f"item{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} {where}")
    order = {item_id: n for n, item_id in enumerate(ids)}
    return sorted(items, key=lambda item: order[item.id])


def move_to_trash(session: Session, viewer: Viewer, item_ids: Iterable[int]) -> list[Item]:
    """Put the items in the trash (all or none); each must be visible to `viewer`, an archivist or admin."""
    _require(viewer, EDITORS)
    items = _load(session, viewer, item_ids, in_trash=False)
    now = datetime.now(timezone.utc)
    with audit.labelled(session, "delete", batch=len(items) > 1):
        for item in items:
            item.deleted_at = now
            item.deleted_by_id = viewer.user_id
    return items


def restore(session: Session, viewer: Viewer, item_ids: Iterable[int]) -> list[Item]:
    """Take the items out of the trash (all or none); admins only."""
    _require(viewer, (Role.admin,))
    items = _load(session, viewer, item_ids, in_trash=True)
    with audit.labelled(session, "restore", batch=len(items) > 1):
        for item in items:
            item.deleted_at = None
            item.deleted_by_id = None
            queue_access_copy_if_needed(session, item)  # seen by non-editors again: they may need one
    return items


def _deleters(session: Session, items: list[Item]) -> dict[int, str]:
    """Who put each item in the trash: the account, else the last "delete" entry of the audit trail."""
    names: dict[int, str] = {}
    user_ids = {item.deleted_by_id for item in items if item.deleted_by_id is not None}
    if user_ids:
        users = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
        names = {item.id: users[item.deleted_by_id] for item in items if item.deleted_by_id in users}
    rest = [item.id for item in items if item.id not in names]
    if rest:
        for object_id, actor in session.execute(
                select(AuditEntry.object_id, AuditEntry.actor)
                .where(AuditEntry.object_type == "item", AuditEntry.action == "delete",
                       AuditEntry.object_id.in_(rest)).order_by(AuditEntry.id)):
            names[object_id] = actor  # later entries win: the most recent deletion
    return names


def list_trash(session: Session, viewer: Viewer, *, page: int = 1, per_page: int = 50) -> TrashPage:
    """One page of the trash, most recently deleted first; admins only."""
    _require(viewer, (Role.admin,))
    where = item_filter(viewer, in_trash=True)
    total = session.scalar(select(func.count(Item.id)).where(where)) or 0
    items = list(session.scalars(
        select(Item).where(where).options(selectinload(Item.media_files), selectinload(Item.collection))
        .order_by(Item.deleted_at.desc(), Item.id.desc()).limit(per_page).offset((page - 1) * per_page)))
    names = _deleters(session, items)
    return TrashPage([TrashedItem(item, names.get(item.id, "unknown")) for item in items], total, page, per_page)


def plan_purge(session: Session, viewer: Viewer, item_ids: Iterable[int] | None = None) -> PurgePlan:
    """What emptying the trash (or only `item_ids` of it) would remove; changes nothing. Admins only."""
    _require(viewer, (Role.admin,))
    if item_ids is None:
        items = list(session.scalars(select(Item).where(item_filter(viewer, in_trash=True))
                                     .options(selectinload(Item.media_files))
                                     .order_by(Item.deleted_at.desc(), Item.id.desc())))
    else:
        items = _load(session, viewer, item_ids, in_trash=True)
    media = [m for item in items for m in item.media_files]
    return PurgePlan(items, len(media), sum(m.size for m in media))


def empty_trash(session: Session, viewer: Viewer, item_ids: Iterable[int]) -> Purged:
    """Delete these trashed items for good (all or none); admins only.

    Only the rows go here. The caller commits, then calls remove_unused_files with the result's
    checksums: removing files before the commit would lose them if the commit failed.
    """
    _require(viewer, (Role.admin,))
    items = _load(session, viewer, item_ids, in_trash=True)
    if not items:
        return Purged([], [])
    ids = [item.id for item in items]
    checksums = sorted({m.sha256 for item in items for m in item.media_files})
    with audit.labelled(session, "purge", batch=len(items) > 1):
        # Finished and waiting jobs go with the item; a running one is left to its worker, which
        # finds the file gone and fails it (the ORM unlinks it from the item below).
        session.execute(delete(Job).where(Job.item_id.in_(ids), Job.state != JobState.running)
                        .execution_options(synchronize_session=False))
        for item in items:
            session.expire(item, ["jobs"])
            session.delete(item)
    return Purged(ids, checksums)


def remove_unused_files(session: Session, store: Store, checksums: Iterable[str]) -> list[str]:
    """Remove the originals and derivatives of `checksums` that no record uses; return those removed.

    Call it after the commit that purged their records. A checksum recorded again meanwhile (the
    same file ingested anew) or being ingested right now (an intent marker) keeps its files.
    """
    wanted = sorted(set(checksums))
    if not wanted:
        return []
    used = set(session.scalars(select(MediaFile.sha256).where(MediaFile.sha256.in_(wanted))))
    removed = []
    for sha in wanted:
        if sha in used or store.has_intent(sha):
            continue
        try:
            store.remove_sha(sha)
        except OSError as exc:  # the rows are gone already; say which file stays behind
            log.error("could not remove the stored files of %s: %s", sha, exc)
            continue
        removed.append(sha)
    return removed
