"""The audit trail: every committed change to the catalogue, with who, when, and old and new values.

Changes are captured from the session's flushes, not by each service remembering to log, so no
use case can forget: whatever a service changes on an audited model is recorded in the same
transaction. The edge says who acts (`act_as`) and, where it matters, what the change is
called (`labelled`: "bulk_edit", "ingest", "merge"...); otherwise the action is derived.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session

from archive.access import SYSTEM, Viewer
from archive.models import AuditEntry, Collection, Credit, Item, Person, Tag, TimeRange, User

AUDITED: dict[type, str] = {Item: "item", Collection: "collection", Person: "person", Credit: "credit",
                            Tag: "tag", TimeRange: "range", User: "user"}
#: Fields that change as a side effect and say nothing a reader needs.
QUIET = {"id", "created_at", "updated_at", "date_lower", "date_upper", "last_login_at", "deleted_by_id"}
#: Fields whose values are never written to the log, only that they changed.
SECRET = {"password_hash"}
#: Many-to-many relationships worth recording, by model.
RELATIONS = {Item: ("tags",), User: ("granted_collections",)}


def act_as(session: Session, actor: Viewer) -> None:
    """Record the session's changes as made by `actor` (the CLI acts as SYSTEM)."""
    session.info["actor"] = actor


@contextmanager
def labelled(session: Session, action: str, *, batch: bool = False) -> Iterator[str]:
    """Call the changes flushed inside the block `action`; with `batch`, group them under one id."""
    batch_id = uuid.uuid4().hex if batch else ""
    before = session.info.get("action"), session.info.get("batch")
    session.info["action"], session.info["batch"] = action, batch_id
    try:
        yield batch_id
        session.flush()
    finally:
        session.info["action"], session.info["batch"] = before


def _json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if type(value) in AUDITED:
        return _label(value)
    return value


def _label(obj: Any) -> str:
    if isinstance(obj, (Item, Collection)):
        return obj.title
    if isinstance(obj, (Person, Tag)):
        return obj.name
    if isinstance(obj, User):
        return obj.username
    if isinstance(obj, Credit):
        return f"{obj.role} (person {obj.person_id})"
    if isinstance(obj, TimeRange):
        return f"{obj.start_sec:g}–{obj.end_sec:g} s of item {obj.item_id}"
    return str(obj)


def _column_changes(obj: Any, *, new: bool) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in QUIET:
            continue
        history = state.attrs[attr.key].history
        if new:
            value = getattr(obj, attr.key)
            if value not in (None, "", {}, []):
                changes[attr.key] = [None, "(set)" if attr.key in SECRET else _json(value)]
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            value = history.added[0] if history.added else None
            if old != value:
                changes[attr.key] = (["(old)", "(changed)"] if attr.key in SECRET
                                     else [_json(old), _json(value)])
    for name in RELATIONS.get(type(obj), ()):
        history = state.attrs[name].history
        if history.added or history.deleted:
            now = sorted(_label(o) for o in (*history.unchanged, *history.added))
            was = sorted(_label(o) for o in (*history.unchanged, *history.deleted))
            if now != was:
                changes[name] = [was, now]
    return changes


def _action(obj: Any, changes: dict[str, list[Any]], default: str) -> str:
    if "deleted_at" in changes:
        return "delete" if changes["deleted_at"][1] else "restore"
    if default == "edit" and set(changes) == {"access"}:
        return "access"
    return default


@event.listens_for(Session, "after_flush")
def _record(session: Session, _context: Any) -> None:
    actor: Viewer = session.info.get("actor") or SYSTEM
    label = session.info.get("action")
    rows = []
    now = datetime.now(timezone.utc)
    for objects, kind in ((session.new, "create"), (session.dirty, "edit"), (session.deleted, "purge")):
        for obj in objects:
            object_type = AUDITED.get(type(obj))
            if object_type is None:
                continue
            changes = {} if kind == "purge" else _column_changes(obj, new=kind == "create")
            if kind == "edit" and not changes:
                continue
            action = _action(obj, changes, kind)
            if label and action in ("create", "edit", "access"):
                action = label
            rows.append({"at": now, "user_id": actor.user_id, "actor": actor.name, "action": action,
                         "object_type": object_type, "object_id": obj.id,
                         "object_label": _label(obj)[:500], "changes": changes,
                         "batch": session.info.get("batch") or ""})
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


# -- reading the trail ------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditQuery:
    user: str | None = None  # actor name
    since: date | None = None
    until: date | None = None
    object_type: str | None = None
    object_id: int | None = None
    action: str | None = None
    page: int = 1
    per_page: int = 50


def history(session: Session, object_type: str, object_id: int, limit: int = 200) -> list[AuditEntry]:
    """The changes of one object, newest first."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                         AuditEntry.object_id == object_id)
                                .order_by(AuditEntry.id.desc()).limit(limit)))


def _filtered(q: AuditQuery):  # type: ignore[no-untyped-def]
    stmt = select(AuditEntry)
    if q.user:
        stmt = stmt.where(AuditEntry.actor == q.user)
    if q.since:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(q.since, datetime.min.time()))
    if q.until:
        stmt = stmt.where(AuditEntry.at < datetime.combine(q.until, datetime.max.time()))
    if q.object_type:
        stmt = stmt.where(AuditEntry.object_type == q.object_type)
    if q.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == q.object_id)
    if q.action:
        stmt = stmt.where(AuditEntry.action == q.action)
    return stmt


def find_entries(session: Session, q: AuditQuery) -> tuple[list[AuditEntry], int]:
    """One page of the global log, newest first, with the total count."""
    stmt = _filtered(q)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(q.per_page)
                           .offset((q.page - 1) * q.per_page)).all()
    return list(rows), total


CSV_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "object_label", "field", "old", "new",
               "batch")


def export_csv(session: Session, q: AuditQuery) -> Iterator[str]:
    """The filtered log as CSV, one row per changed field, streamed in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in session.scalars(_filtered(q).order_by(AuditEntry.id).execution_options(yield_per=500)):
        fields = entry.changes.items() or [("", [None, None])]
        for field, (old, new) in fields:
            writer.writerow([entry.id, entry.at.isoformat(), entry.actor, entry.action, entry.object_type,
                             entry.object_id, entry.object_label, field,
                             "" if old is None else json.dumps(old, ensure_ascii=False),
                             "" if new is None else json.dumps(new, ensure_ascii=False), entry.batch])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
