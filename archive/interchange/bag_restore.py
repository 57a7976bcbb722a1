"""The catalogue half of a bag import: a full restore into an empty archive, or a merge.

Both run inside the caller's transaction (bag_import owns it) and insert with Core statements, so
every value comes back as the bag has it (versions, timestamps, pids), not as the ORM would set it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Integer, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from archive.interchange import catalogue_json
from archive.interchange.catalogue_json import ACCOUNT_TABLES, REFERENCE_TABLES, T, decode_row
from archive.models import Base, Item, ItemKind
from archive.services import harvest_log, jobs
from archive.services.access_copies import queue_access_copy_if_needed
from archive.services.ingest import THUMBNAILS_JOB, queue_proxy_if_needed

#: How a merge recognises a record the archive already has (after its links are remapped). A table
#: missing here is not merged and the test of bags fails on it.
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "countries": ("code",),
    "collections": ("title",),
    "people": ("name",),
    "tags": ("name",),
    "places": ("name", "country_code"),
    "items": ("pid",),
    "media_files": ("sha256",),
    "border_crossings": ("place_id", "from_country", "to_country", "kind"),
    "journeys": ("title", "collection_id"),
    "legs": ("journey_id", "position"),
    "credits": ("person_id", "role", "collection_id", "item_id"),
    "transcripts": ("item_id", "language", "kind"),
    "segments": ("transcript_id", "position"),
    "time_ranges": ("item_id", "tag_id", "start_sec", "end_sec"),
    "derivatives": ("media_file_id", "kind"),
    "source_records": ("item_id", "format", "content"),
    "record_keys": ("item_id", "key"),
    "fixity_checks": ("media_file_id",),
    "audit_log": ("at", "actor", "action", "object_type", "object_id"),
    "item_tags": ("item_id", "tag_id"),
    "item_places": ("item_id", "place_id"),
    "item_legs": ("item_id", "leg_id"),
    "journey_people": ("journey_id", "person_id"),
}
#: Tables of a backup a merge leaves out: what the other archive's harvesters were told is its own
#: history (the merged items enter this archive's harvest log as they are: see the end of merge_rows);
#: and what accounts made for themselves (clip lists, the transcripts each reads side by side), since a
#: merge brings no accounts (ACCOUNT_TABLES). A full restore keeps them all.
NOT_MERGED = frozenset({"harvest_records", "clip_lists", "clips", "clip_shares", "transcript_pairs"})
#: Fields a merge does not compare: counters and clocks of the copy, not what the record says.
NOT_COMPARED = {"id", "version", "created_at", "updated_at", "ingested_at", "imported_at", "at"}
#: audit_log.object_type -> the table its object_id is an id of (archive.services.audit.AUDITED).
AUDITED_TABLES = {"item": "items", "collection": "collections", "person": "people", "credit": "credits",
                  "tag": "tags", "range": "time_ranges", "user": "users", "place": "places",
                  "crossing": "border_crossings", "journey": "journeys", "leg": "legs", "transcript": "transcripts"}


class RestoreRefused(Exception):
    """The archive holds rows a full restore would collide with (named)."""


def _rows(tables: dict[str, Any], table: Table) -> Iterator[dict[str, Any]]:
    data = tables.get(table.name)
    if not data:
        return
    columns = data["columns"]
    for row in data["rows"]:
        yield decode_row(table, columns, row)


def _serial(table: Table) -> str | None:
    """The name of the table's integer id column the database numbers itself, if it has one."""
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto") \
            and not pk[0].foreign_keys:
        return pk[0].name
    return None


def _record(report: Any, table: str, key: Any, outcome: str, **more: Any) -> None:
    report.records.append({"table": table, "key": key, "outcome": outcome, **more})


def _withheld_media(payload: dict[str, Any], row: dict[str, Any]) -> bool:
    return not row["sha256"] or str(row["id"]) not in payload.get("originals", {})


# -- a full restore --------------------------------------------------------------------------------

def check_restore(session: Session, tables: dict[str, Any]) -> None:
    """RestoreRefused, naming the table, when the archive holds rows the bag's would collide with: asked
    before any file is placed, so that a refused restore leaves nothing behind."""
    conn = session.connection()
    for table in Base.metadata.sorted_tables:
        if table.name not in tables or table.name in REFERENCE_TABLES or table.name == "audit_log":
            continue
        if not tables[table.name]["rows"] or not conn.scalar(select(func.count()).select_from(table)):
            continue
        if table.name in ACCOUNT_TABLES:
            raise RestoreRefused(f"the archive already has accounts ({table.name}); restore a bag with accounts "
                                 f"into an archive without any")
        raise RestoreRefused(f"the archive already holds rows in {table.name}")


def restore_rows(session: Session, tables: dict[str, Any], payload: dict[str, Any], report: Any) -> None:
    """Insert every row of the bag with its own ids (the archive has no catalogue records)."""
    check_restore(session, tables)
    conn = session.connection()
    has_accounts = bool(tables.get("users", {}).get("rows"))
    skipped_media: set[int] = set()
    derivatives_in_bag = set(payload.get("derivatives", {}))
    for table in Base.metadata.sorted_tables:
        rows = list(_rows(tables, table))
        if table.name not in tables:
            continue
        if table.name in REFERENCE_TABLES:
            there = {tuple(r) for r in conn.execute(select(*table.primary_key.columns))}
            rows = [r for r in rows if tuple(r[c.name] for c in table.primary_key.columns) not in there]
        elif table.name == "media_files":
            kept = []
            for row in rows:
                if _withheld_media(payload, row):
                    skipped_media.add(row["id"])
                    _record(report, "media_files", row["id"], "left out",
                            reason="the bag holds no original of it (an access copy at most)")
                else:
                    kept.append(row)
            rows = kept
        elif table.name == "derivatives":
            # without their files (bags other than backups) they are made again by the worker
            rows = [r for r in rows if str(r["id"]) in derivatives_in_bag and r["media_file_id"] not in skipped_media]
        elif table.name == "fixity_checks":
            rows = [r for r in rows if r["media_file_id"] not in skipped_media]
        elif table.name == "audit_log" and conn.scalar(select(func.count()).select_from(table)):
            # the archive's own log has begun (its accounts were made): the bag's entries follow it
            rows = [{**{k: v for k, v in r.items() if k != "id"},
                     "user_id": r["user_id"] if has_accounts else None} for r in rows]
        later = [c for c in table.columns for fk in c.foreign_keys if fk.column.table is table]
        kept_cols = [c for c in table.columns if c.onupdate is not None]
        if rows:
            conn.execute(table.insert(), [{**r, **{c.name: None for c in later}} for r in rows])
        for column in later:
            keys = [{"_key_" + k.name: r[k.name] for k in table.primary_key.columns}
                    | {"_" + c.name: r[c.name] for c in (column, *kept_cols)} for r in rows if r[column.name] is not None]
            if keys:
                where = [k == bindparam("_key_" + k.name) for k in table.primary_key.columns]
                conn.execute(table.update().where(*where).values(
                    {c.name: bindparam("_" + c.name) for c in (column, *kept_cols)}), keys)
        for row in rows:
            if table.name not in ("audit_log",):
                _record(report, table.name, _key_of(table, row), "new")
    if "harvest_records" not in tables:  # not a backup (or one from before 0017): the log starts from now
        harvest_log.update_records(session, [row["id"] for row in _rows(tables, T("items"))])
    _catalogue_withheld(session, tables, skipped_media, report)
    _queue_missing_derivatives(session, tables, payload, skipped_media)
    if conn.dialect.name == "postgresql":
        for table in Base.metadata.sorted_tables:
            column = _serial(table)
            if column:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                                  f"coalesce(max({column}), 0) + 1, false) FROM {table.name}"))


def _key_of(table: Table, row: dict[str, Any]) -> Any:
    pk = [c.name for c in table.primary_key.columns]
    return row[pk[0]] if len(pk) == 1 else [row[c] for c in pk]


def _catalogue_withheld(session: Session, tables: dict[str, Any], skipped_media: set[int], report: Any,
                        item_map: dict[Any, Any] | None = None) -> None:
    """An item whose media the bag does not hold becomes "catalogued, media not yet attached": its record
    is whole, and ingesting the file later attaches it."""
    media = {r["id"]: r for r in _rows(tables, T("media_files"))}
    item_ids = {media[m]["item_id"] for m in skipped_media}
    if item_map is not None:
        item_ids = {item_map[i] for i in item_ids if i in item_map}
    if item_ids:
        session.execute(update(T("items")).where(T("items").c.id.in_(sorted(item_ids)))
                        .values(kind=ItemKind.catalogued))
        report.notes.append(f"{len(item_ids)} items have no original in the bag: catalogued, media not yet attached")


def _queue_missing_derivatives(session: Session, tables: dict[str, Any], payload: dict[str, Any],
                               skipped_media: set[int], media_map: dict[Any, Any] | None = None) -> None:
    """Queue the worker's jobs for originals restored without their thumbnails (bags other than backups)."""
    with_files = {r["media_file_id"] for r in _rows(tables, T("derivatives")) if str(r["id"]) in payload.get("derivatives", {})}
    for row in _rows(tables, T("media_files")):
        if row["id"] in skipped_media or row["id"] in with_files:
            continue
        if media_map is not None and row["id"] not in media_map.get("new", set()):
            continue
        item_id = row["item_id"] if media_map is None else media_map["items"].get(row["item_id"])
        item = session.get(Item, item_id)
        if item is None:
            continue
        jobs.enqueue(session, THUMBNAILS_JOB, item_id=item.id, payload={"sha256": row["sha256"]})
        queue_proxy_if_needed(session, item)
        queue_access_copy_if_needed(session, item)


# -- a merge -------------------------------------------------------------------------------------

def merge_rows(session: Session, tables: dict[str, Any], payload: dict[str, Any], report: Any) -> None:
    """Add the bag's records the archive lacks (new ids, links remapped); report the others same or
    conflicted, keeping the archive's version."""
    conn = session.connection()
    maps: dict[str, dict[Any, Any]] = {}
    skipped_media: set[int] = set()
    new_media: set[int] = set()
    derivatives_in_bag = set(payload.get("derivatives", {}))
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            continue
        if table.name in ACCOUNT_TABLES:
            count = len(tables[table.name]["rows"])
            if count:
                report.notes.append(f"{table.name}: {count} rows left out (accounts are restored, never merged)")
            continue
        if table.name in NOT_MERGED:
            continue
        if table.name not in MERGE_KEYS:
            raise RuntimeError(f"bag_restore.MERGE_KEYS has no key for the table {table.name}")
        key_cols = MERGE_KEYS[table.name]
        serial = _serial(table)
        mapping = maps.setdefault(table.name, {})
        self_refs = [c for c in table.columns for fk in c.foreign_keys if fk.column.table is table]
        deferred: list[tuple[Any, dict[str, Any]]] = []
        for raw in _rows(tables, table):
            old_key = _key_of(table, raw)
            if table.name == "media_files" and _withheld_media(payload, raw):
                skipped_media.add(raw["id"])
                _record(report, table.name, raw["sha256"] or raw["id"], "left out",
                        reason="the bag holds no original of it (an access copy at most)")
                continue
            if table.name == "derivatives" and str(raw["id"]) not in derivatives_in_bag:
                continue  # its file is not in the bag: the worker makes it again
            row = _remap(table, raw, maps)
            if row is None:
                _record(report, table.name, old_key, "left out", reason="it refers to a record left out")
                continue
            self_values = {c.name: row.pop(c.name) for c in self_refs}
            key = {c: row[c] for c in key_cols}
            existing = conn.execute(select(table).where(*[
                (table.c[c].is_(None) if v is None else table.c[c] == v) for c, v in key.items()])).first()
            shown_key = _shown(key)
            if existing is not None:
                there = dict(existing._mapping)
                if serial:
                    mapping[raw[serial]] = there[serial]
                differences = {c: [_plain(there[c]), _plain(v)] for c, v in row.items()
                               if c not in NOT_COMPARED and c not in key_cols and c != serial
                               and _plain(there[c]) != _plain(v)}
                if table.name == "media_files" and there["item_id"] != row["item_id"]:
                    differences["item_id"] = [there["item_id"], row["item_id"]]
                if differences:
                    _record(report, table.name, shown_key, "conflicted", existing_id=there.get(serial), differences=differences)
                else:
                    _record(report, table.name, shown_key, "same", existing_id=there.get(serial))
                continue
            values = {k: v for k, v in row.items() if k != serial}
            result = conn.execute(table.insert().values(**values, **{c: None for c in self_values}))
            new_id = result.inserted_primary_key[0] if serial else None
            if serial:
                mapping[raw[serial]] = new_id
            if table.name == "media_files":
                new_media.add(raw["id"])
            if any(v is not None for v in self_values.values()):
                deferred.append((new_id, self_values))
            _record(report, table.name, shown_key, "new", id=new_id)
        for new_id, self_values in deferred:
            values = {c: mapping.get(v) for c, v in self_values.items()}
            conn.execute(update(table).where(table.c[serial] == new_id).values(**values))
    item_map = maps.get("items", {})
    new_items = {r["id"] for r in report.records if r["table"] == "items" and r["outcome"] == "new"}
    _catalogue_withheld(session, tables, skipped_media, report,
                        item_map={k: v for k, v in item_map.items() if v in new_items})
    _queue_missing_derivatives(session, tables, payload, skipped_media,
                               media_map={"new": new_media, "items": item_map})
    # Core inserts pass the harvest log's listeners by: the new items' public ones become harvestable here.
    harvest_log.update_records(session, new_items)


def _remap(table: Table, raw: dict[str, Any], maps: dict[str, dict[Any, Any]]) -> dict[str, Any] | None:
    """The row with its links turned into the archive's ids; None when a required link has no target."""
    row = dict(raw)
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table
            if target is table or row[column.name] is None:
                continue
            if target.name in REFERENCE_TABLES:
                continue  # the same codes everywhere
            mapped = maps.get(target.name, {}).get(row[column.name])
            if mapped is None:
                if not column.nullable or column.primary_key:
                    return None
            row[column.name] = mapped
    if table.name == "audit_log" and row.get("object_id") is not None:
        target = AUDITED_TABLES.get(row["object_type"])
        if target in maps:
            row["object_id"] = maps[target].get(row["object_id"], row["object_id"])
    return row


def _plain(value: Any) -> Any:
    return catalogue_json.encode(value.value if hasattr(value, "value") and not isinstance(value, (int, float)) else value)


def _shown(key: dict[str, Any]) -> Any:
    values = [_plain(v) for v in key.values()]
    return values[0] if len(values) == 1 else values
