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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, func, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from archive import db
from archive.access import SYSTEM, Viewer, item_filter
from archive.models import (ApiToken, AuditEntry, BorderCrossing, Collection, CollectionGrant, Credit, Item, Journey, Leg,
                            Person, Place, Role, Tag, TimeRange, Transcript, User)
from archive.services import Invalid, Paginated

AUDITED: dict[type, str] = {Item: "item", Collection: "collection", Person: "person", Credit: "credit",
                            Tag: "tag", TimeRange: "range", User: "user", Place: "place",
                            BorderCrossing: "crossing", Journey: "journey", Leg: "leg", Transcript: "transcript",
                            ApiToken: "token"}
#: Fields that change as a side effect and say nothing a reader needs.
QUIET = {"id", "version", "created_at", "updated_at", "date_lower", "date_upper", "last_login_at", "deleted_by_id",
         "last_used_at"}
#: Fields whose values are never written to the log, only that they changed.
SECRET = {"password_hash", "token_hash"}
#: Many-to-many relationships worth recording, by model.
RELATIONS = {Item: ("tags", "places", "legs"), User: ("grants",), Journey: ("people",)}
#: One-to-many relationships recorded as their length: a transcript's hundreds of cues would swamp
#: the log, and that they were replaced, and how many there are now, is what a reader needs.
COUNTED = {Transcript: ("segments",)}


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


def _named(obj: Any, relation: str, fallback: str) -> str:
    """The label of a row `obj` refers to, or `fallback` (its id) when it cannot be loaded any more (a purge)."""
    try:
        other = getattr(obj, relation)
        if other is None:  # made with the id alone (place_id=...), the relation is not loaded in this flush
            key = getattr(obj, f"{relation}_id")
            session = inspect(obj).session
            if key is not None and session is not None:
                other = session.get(inspect(obj).mapper.relationships[relation].mapper.class_, key)
    except Exception:  # noqa: BLE001 — a deleted row's relations may be unloadable mid-flush; the id will do
        return fallback
    return _label(other) if other is not None else fallback


def _label(obj: Any) -> str:
    """What the log calls a row: by its name, and a dependent row by the names of what it joins."""
    if isinstance(obj, (Item, Collection, Journey)):
        return obj.title
    if isinstance(obj, (Person, Tag, Place)):
        return obj.name
    if isinstance(obj, BorderCrossing):
        return f"{_named(obj, 'place', f'place {obj.place_id}')} ({obj.from_country}→{obj.to_country})"
    if isinstance(obj, Leg):
        return (f"leg {obj.position} of {_named(obj, 'journey', f'journey {obj.journey_id}')}: "
                f"{_named(obj, 'from_place', f'place {obj.from_place_id}')} → "
                f"{_named(obj, 'to_place', f'place {obj.to_place_id}')}")
    if isinstance(obj, User):
        return obj.username
    if isinstance(obj, ApiToken):
        return f"{obj.name} ({obj.prefix}…) of {_named(obj, 'user', f'user {obj.user_id}')}"
    if isinstance(obj, CollectionGrant):
        title = _named(obj, "collection", f"collection {obj.collection_id}")
        return f"{title} (until {obj.expires_on.isoformat()})" if obj.expires_on else title
    if isinstance(obj, Credit):
        work = (_named(obj, "item", f"item {obj.item_id}") if obj.item_id is not None
                else _named(obj, "collection", f"collection {obj.collection_id}"))
        return f"{_named(obj, 'person', f'person {obj.person_id}')}, {obj.role} of {work}"
    if isinstance(obj, TimeRange):
        return (f"{_named(obj, 'tag', f'tag {obj.tag_id}')} {obj.start_sec:g}–{obj.end_sec:g} s of "
                f"{_named(obj, 'item', f'item {obj.item_id}')}")
    if isinstance(obj, Transcript):
        return f"{obj.language or 'undetermined'} {obj.kind.value} of {_named(obj, 'item', f'item {obj.item_id}')}"
    return str(obj)


def _snapshot(obj: Any, *, gone: bool) -> dict[str, list[Any]]:
    """Every set field of a created object as [None, value], or of a purged one as [value, None]."""
    changes: dict[str, list[Any]] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        if attr.key in QUIET or value in (None, "", {}, []):
            continue
        value = "(set)" if attr.key in SECRET else _json(value)
        changes[attr.key] = [value, None] if gone else [None, value]
    if not gone:  # a purged object's collections may already be unloadable
        for name in COUNTED.get(type(obj), ()):
            changes[name] = [None, len(getattr(obj, name))]
    return changes


def _column_changes(obj: Any, *, new: bool) -> dict[str, list[Any]]:
    if new:
        return _snapshot(obj, gone=False)
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in QUIET:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
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
    for name in COUNTED.get(type(obj), ()):
        history = state.attrs[name].history
        if history.added or history.deleted:
            changes[name] = [len(history.unchanged) + len(history.deleted),
                             len(history.unchanged) + len(history.added)]
    return changes


def _action(obj: Any, changes: dict[str, list[Any]], default: str) -> str:
    if default != "edit":
        return default
    if "deleted_at" in changes:
        return "delete" if changes["deleted_at"][1] else "restore"
    if default == "edit" and set(changes) == {"access"}:
        return "access"
    return default


def record_changes(sessions: sessionmaker[Session]) -> None:
    """Record every change made through the sessions `sessions` makes in the audit log.

    The Archive calls it on its own sessionmaker, as it calls search_sync.keep_in_step; calling it
    again on the same sessionmaker does nothing.
    """
    db.listen_once(sessions, "after_flush", _record)


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
            changes = _snapshot(obj, gone=True) if kind == "purge" else _column_changes(obj, new=kind == "create")
            if kind == "edit" and not changes:
                continue
            action = _action(obj, changes, kind)
            if label and action in ("create", "edit", "access"):
                action = label
            rows.append({"at": now, "user_id": actor.user_id, "actor": actor.name, "action": action,
                         "object_type": object_type, "object_id": obj.id,
                         "object_label": _label(obj)[:500], "changes": changes,
                         "object_version": getattr(obj, "version", None) if kind != "purge" else None,
                         "batch": session.info.get("batch") or "", "token_id": actor.token_id})
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


# -- reading the trail ------------------------------------------------------------------------

#: Largest page number accepted in a query (a signed 32-bit integer).
MAX_PAGE = 2**31 - 1


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the global log; dates are whole days in UTC, both ends included."""
    user: str | None = None  # actor name
    since: date | None = None
    until: date | None = None
    object_type: str | None = None
    object_id: int | None = None
    action: str | None = None
    batch: str | None = None  #: the entries of one bulk edit or import
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class EntryPage(Paginated):
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int


def parse_audit_query(args: Mapping[str, str], *, per_page: int = 50) -> AuditQuery:
    """Validate the log's filters (user, from, to, type, id, action, batch, page); raise Invalid naming the field."""
    def text(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    def day(name: str) -> date | None:
        raw = text(name)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise Invalid(f"{raw!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-03-31", name) from None

    def whole(name: str) -> int | None:
        raw = text(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
            raise Invalid(f"{name} must be a whole number from 1, not {raw!r}", name)
        return int(raw)

    batch = text("batch")
    if batch is not None and not (len(batch) <= 40 and batch.isascii() and batch.isalnum()):
        raise Invalid(f"batch must be the id of a batch (letters and digits), not {batch!r}", "batch")
    since, until = day("from"), day("to")
    if since and until and until < since:
        raise Invalid(f"the end date {until.isoformat()} is before the start date {since.isoformat()}", "to")
    object_type = text("type")
    if object_type is not None and object_type not in AUDITED.values():
        raise Invalid(f"type must be one of {', '.join(sorted(AUDITED.values()))}, not {object_type!r}", "type")
    return AuditQuery(user=text("user"), since=since, until=until, object_type=object_type,
                      object_id=whole("id"), action=text("action"), batch=batch, page=whole("page") or 1,
                      per_page=per_page)


def query_args(q: AuditQuery) -> dict[str, str]:
    """The query parameters that give `q` again (page left out), for links and the CSV export."""
    values = {"user": q.user, "from": q.since and q.since.isoformat(), "to": q.until and q.until.isoformat(),
              "type": q.object_type, "id": q.object_id, "action": q.action, "batch": q.batch}
    return {name: str(value) for name, value in values.items() if value not in (None, "")}


def history(session: Session, object_type: str, object_id: int, limit: int = 200) -> list[AuditEntry]:
    """The changes of one object, newest first."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                         AuditEntry.object_id == object_id)
                                .order_by(AuditEntry.id.desc()).limit(limit)))


@dataclass(frozen=True)
class ChangeSince:
    """A field of an object changed since a version: its value now, and who changed it last, when."""
    field: str
    value: Any
    actor: str
    at: datetime


def changes_since(session: Session, object_type: str, object_id: int, version: int) -> list[ChangeSince]:
    """The fields of an object changed after it was at `version`, each with its latest value and who
    changed it: what a save made from a form of that version would have overwritten."""
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
        AuditEntry.object_version > version).order_by(AuditEntry.id))
    latest: dict[str, ChangeSince] = {}
    for entry in entries:
        for field, (_old, new) in entry.changes.items():
            latest[field] = ChangeSince(field, new, entry.actor, entry.at)
    return list(latest.values())


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _filtered(q: AuditQuery) -> Select[tuple[AuditEntry]]:
    stmt = select(AuditEntry)
    if q.user:
        stmt = stmt.where(AuditEntry.actor == q.user)
    if q.since:
        stmt = stmt.where(AuditEntry.at >= _day_start(q.since))
    if q.until and q.until < date.max:  # the whole of the last day
        stmt = stmt.where(AuditEntry.at < _day_start(q.until + timedelta(days=1)))
    if q.object_type:
        stmt = stmt.where(AuditEntry.object_type == q.object_type)
    if q.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == q.object_id)
    if q.action:
        stmt = stmt.where(AuditEntry.action == q.action)
    if q.batch:
        stmt = stmt.where(AuditEntry.batch == q.batch)
    return stmt


def find_entries(session: Session, q: AuditQuery) -> tuple[list[AuditEntry], int]:
    """One page of the global log, newest first, with the total count."""
    stmt = _filtered(q)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(q.per_page)
                           .offset((q.page - 1) * q.per_page)).all()
    return list(rows), total


def entry_page(session: Session, q: AuditQuery) -> EntryPage:
    """find_entries as a page that knows how many pages there are."""
    entries, total = find_entries(session, q)
    return EntryPage(entries, total, q.page, q.per_page)


def actors(session: Session) -> list[str]:
    """Everyone who has changed something, for the log's user filter."""
    return sorted(session.scalars(select(AuditEntry.actor).distinct()))


def actions(session: Session) -> list[str]:
    """The actions recorded so far, for the log's action filter."""
    return sorted(session.scalars(select(AuditEntry.action).distinct()))


#: Columns holding the id of another audited row, and its model; `parent_id` points at the entry's own kind.
REFERENCES: dict[str, type] = {"collection_id": Collection, "item_id": Item, "person_id": Person, "tag_id": Tag,
                               "place_id": Place, "from_place_id": Place, "to_place_id": Place,
                               "journey_id": Journey, "crossing_id": BorderCrossing, "leg_id": Leg}
_PARENTS: dict[str, type] = {"place": Place, "tag": Tag}


def referenced_names(session: Session, entries: Iterable[AuditEntry]) -> dict[str, dict[tuple[str, int], str]]:
    """Names of the rows the entries' `*_id` changes point at, so a log shows "Dandong", not 12:
    by the entry's object type, then (field, id). Rows gone since are left out."""
    wanted: dict[type, set[int]] = {}
    uses: list[tuple[str, str, type, int]] = []
    for entry in entries:
        for field, values in entry.changes.items():
            model = _PARENTS.get(entry.object_type) if field == "parent_id" else REFERENCES.get(field)
            if model is None or not isinstance(values, list):
                continue
            for value in values:
                if isinstance(value, int) and not isinstance(value, bool):
                    wanted.setdefault(model, set()).add(value)
                    uses.append((entry.object_type, field, model, value))
    found = {(model, row.id): _label(row) for model, ids in wanted.items()
             for row in session.scalars(select(model).where(model.id.in_(ids)))}
    names: dict[str, dict[tuple[str, int], str]] = {}
    for object_type, field, model, value in uses:
        if (model, value) in found:
            names.setdefault(object_type, {})[(field, value)] = found[(model, value)]
    return names


def live_objects(session: Session, viewer: Viewer, entries: Iterable[AuditEntry]) -> dict[tuple[str, int], Any]:
    """The entries' objects that still exist and `viewer` may see, by (object_type, object_id).

    Items in the trash count as gone; a collection is visible when it has an item the viewer may
    see (as on its page); a range when its item is. People have no page and are left out.
    """
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.object_id is not None:
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
    found: dict[tuple[str, int], Any] = {}

    def add(object_type: str, rows: Iterable[Any]) -> None:
        found.update(((object_type, row.id), row) for row in rows)

    if ids := wanted.get("item"):
        add("item", session.scalars(select(Item).where(Item.id.in_(ids), item_filter(viewer))))
    if ids := wanted.get("collection"):
        seen = select(Item.id).where(Item.collection_id == Collection.id, item_filter(viewer)).exists()
        add("collection", session.scalars(select(Collection).where(Collection.id.in_(ids), seen)))
    if ids := wanted.get("range"):
        add("range", session.scalars(select(TimeRange).join(Item).where(TimeRange.id.in_(ids),
                                                                         item_filter(viewer))))
    if ids := wanted.get("tag"):
        add("tag", session.scalars(select(Tag).where(Tag.id.in_(ids))))
    if (ids := wanted.get("user")) and viewer.role is Role.admin:
        add("user", session.scalars(select(User).where(User.id.in_(ids))))
    return found


CSV_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "object_label", "field", "old", "new",
               "batch")
#: A cell starting with one of these is a formula to a spreadsheet; titles come from donors' files.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(session: Session, q: AuditQuery) -> Iterator[str]:
    """The filtered log as CSV, oldest first, one row per changed field, streamed in chunks.

    `old` and `new` are JSON values (strings quoted, tags as lists); an entry without fields
    (a purge) has one row with them empty.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for entry in session.scalars(_filtered(q).order_by(AuditEntry.id).execution_options(yield_per=500)):
        fields = entry.changes.items() or [("", [None, None])]
        for field, (old, new) in fields:
            writer.writerow([entry.id, entry.at.isoformat(), _cell(entry.actor), entry.action, entry.object_type,
                             entry.object_id, _cell(entry.object_label), field,
                             "" if old is None else json.dumps(old, ensure_ascii=False),
                             "" if new is None else json.dumps(new, ensure_ascii=False), entry.batch])
        rows += 1
        if rows % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
