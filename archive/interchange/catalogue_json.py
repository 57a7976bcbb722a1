"""The catalogue of a bag as versioned JSON (catalogue.json): every table a bag holds, row by row.

    {"format": "crossings-catalogue", "version": 1, "crossings_version": "0.1.0",
     "exported_at": "2026-12-04T03:30:00+00:00", "scope": "the whole archive", "viewer": "admin",
     "backup": true, "with_accounts": false, "left_out": {"sessions": "why", ...},
     "tables": {"items": {"columns": ["id", "version", ...], "rows": [[1, 3, ...], ...]}, ...},
     "payload": {"originals": {"<media id>": "data/originals/ab/<sha256>.mp4"}, ...}}

Tables are named and laid out as in the database (archive.models), values in JSON: datetimes as ISO 8601
with their zone, days as ISO dates, enums as their values. A reader takes columns by name, so a later
version that adds a column still reads; `version` changes when a value's meaning does.

Two shapes, by who exports what (archive.interchange.bag_export decides which):
- a backup (an admin, the whole archive, not --public): every table of Base.metadata but those of
  BACKUP_LEFT_OUT, every row, trash included, exactly as stored; password hashes only with accounts;
- any other bag: the rows reachable from the selected items, as the viewer may see them: positions at
  the viewer's precision (access.published_position), no original checksum, name or path for an item
  whose original the viewer may not have (access.may_have_original), no derivative paths (they name
  the checksum) for non-editors, source records for editors only, the audit trail for admins only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Table, select
from sqlalchemy.orm import Session

from archive import geo
from archive.access import (ORIGINAL_ONLY_FIELDS, Viewer, can_see_place, collection_filter, journey_filter, may_edit,
                            may_have_original, person_filter, published_position, tag_filter)
from archive.models import (Base, Item, LocationPrecision, Place, UTCDateTime, item_leg_links, item_place_links)
from archive.services.places import place_position

FORMAT = "crossings-catalogue"
VERSION = 1

#: What a backup leaves out of Base.metadata, and why. Everything else is in it, whole.
BACKUP_LEFT_OUT: dict[str, str] = {
    # Logins: restoring them would reopen browsers' sessions on another machine; people log in again.
    "sessions": "login sessions (people log in again after a restore)",
    "login_attempts": "rate-limiting state of logins, worth nothing after a restore",
    # Signing keys stay with their installation: a bag must not carry what forges its cookies.
    "app_secrets": "the key that signs session cookies (a restored archive makes its own)",
    # API tokens, like logins: a restored copy must not open to every script that held a secret.
    "api_tokens": "API tokens (scripts are given new ones after a restore)",
    # Transient machinery: recomputed or re-queued, never the record itself.
    "search_outbox": "the search index's queue (the index is rebuilt after a restore)",
    "store_intents": "files entering the store right now (the restore makes its own)",
    "jobs": "the worker's queue and its history (missing derivatives are queued again)",
    "periodic_runs": "which worker ran which nightly job (refer to jobs, which are left out)",
}
#: Accounts: in a backup; their password hashes only --with-accounts.
ACCOUNT_TABLES = ("users", "user_collections")
#: Rows seeded by the migrations (every ISO country): a restore adds what is missing, never replaces.
REFERENCE_TABLES = ("countries",)
#: Written for hashes left out of a bag made without --with-accounts: no password checks against it.
NO_PASSWORD = "!not-in-bag"

CHUNK = 500  #: ids per IN (...), well under every backend's limit of bound parameters


# -- values -------------------------------------------------------------------------------------

def encode(value: Any) -> Any:
    """A column value as JSON (enums are str subclasses and dump as their values)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def stored_rows(tables: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The rows of table `name` of a catalogue.json's "tables" as they were written (JSON values),
    column name to value; none when the catalogue has no such table."""
    table = tables.get(name) or {}
    return [dict(zip(table.get("columns", []), row)) for row in table.get("rows", [])]


def decode_row(table: Table, columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """A row of catalogue.json back as column values for an INSERT into `table` (unknown columns:
    KeyError naming them, since a bag from a newer Crossings may carry what this one cannot keep)."""
    values: dict[str, Any] = {}
    for name, value in zip(columns, row):
        column = table.columns[name]
        if value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        values[name] = value
    return values


def table_rows(session: Session, table: Table, where: Any = None) -> Iterator[dict[str, Any]]:
    """Every row of `table` (optionally filtered), ordered by primary key, as a dict."""
    stmt = select(table).order_by(*table.primary_key.columns)
    if where is not None:
        stmt = stmt.where(where)
    for row in session.execute(stmt):
        yield dict(row._mapping)


def _dump(table: Table, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    columns = [c.name for c in table.columns]
    return {"columns": columns, "rows": [[encode(row[c]) for c in columns] for row in rows]}


def chunks(ids: Iterable[Any]) -> Iterator[list[Any]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def _rows_in(session: Session, table: Table, column: str, ids: Iterable[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for chunk in chunks(ids):
        rows.extend(table_rows(session, table, table.c[column].in_(chunk)))
    rows.sort(key=lambda r: tuple(r[c.name] for c in table.primary_key.columns))
    return rows


def T(name: str) -> Table:
    return Base.metadata.tables[name]


# -- a backup ------------------------------------------------------------------------------------

def backup_tables(session: Session, *, with_accounts: bool) -> dict[str, Any]:
    """Every table of the catalogue but BACKUP_LEFT_OUT, whole (a table added to the models later is in
    it without a change here)."""
    tables: dict[str, Any] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in BACKUP_LEFT_OUT:
            continue
        rows = list(table_rows(session, table))
        if table.name == "users" and not with_accounts:
            rows = [{**row, "password_hash": NO_PASSWORD} for row in rows]
        tables[table.name] = _dump(table, rows)
    return tables


# -- any other bag: what the viewer may see of the selected items --------------------------------

def scoped_tables(session: Session, viewer: Viewer, item_ids: Sequence[int], *,
                  journey_ids: Iterable[int] = (), collection_ids: Iterable[int] = (),
                  audit: bool) -> dict[str, Any]:
    """The rows a bag of `item_ids` holds for `viewer` (the items already passed access.item_filter),
    plus the journeys and collections the selection named (when the viewer may see them)."""
    editor = may_edit(viewer)
    items = {item.id: item for chunk in chunks(item_ids)
             for item in session.scalars(select(Item).where(Item.id.in_(chunk)))}
    ids = sorted(items)
    out: dict[str, Any] = {}

    item_rows = [{**row, "deleted_by_id": None} for row in _rows_in(session, T("items"), "id", ids)]
    media = _rows_in(session, T("media_files"), "item_id", ids)
    if not editor:
        media = [_published_media(viewer, items[row["item_id"]], row) for row in media]
    derivatives = _rows_in(session, T("derivatives"), "media_file_id", [m["id"] for m in media])
    if not editor:  # a derivative's path names the original's checksum
        derivatives = [{**row, "path": ""} for row in derivatives]

    # Journeys: those the selection named, and those whose legs the items were filmed on.
    leg_links = [tuple(r) for chunk in chunks(ids) for r in session.execute(select(item_leg_links(chunk)))]
    linked_legs = {leg for _, leg in leg_links}
    journey_wanted = set(journey_ids) | {r["journey_id"] for r in _rows_in(session, T("legs"), "id", linked_legs)}
    journey_rows = [r for chunk in chunks(journey_wanted) for r in
                    table_rows(session, T("journeys"), T("journeys").c.id.in_(chunk) & journey_filter(viewer))]
    journey_set = {r["id"] for r in journey_rows}
    legs = _rows_in(session, T("legs"), "journey_id", journey_set)
    leg_set = {r["id"] for r in legs}

    # Collections: of the items and journeys, and the one the selection named.
    wanted_collections = ({r["collection_id"] for r in item_rows} | {r["collection_id"] for r in journey_rows}
                          | set(collection_ids)) - {None}
    collections = _filtered(session, "collections", wanted_collections, collection_filter(viewer))
    collection_set = {r["id"] for r in collections}
    journey_rows = [{**r, "collection_id": r["collection_id"] if r["collection_id"] in collection_set else None}
                    for r in journey_rows]

    credits = [r for r in _rows_in(session, T("credits"), "item_id", ids)] + \
        [r for r in _rows_in(session, T("credits"), "collection_id", collection_set)]
    journey_people = [r for r in _rows_in(session, T("journey_people"), "journey_id", journey_set)]
    people = _filtered(session, "people", {r["person_id"] for r in credits} | {r["person_id"] for r in journey_people},
                       person_filter(viewer))
    person_set = {r["id"] for r in people}
    credits = sorted((r for r in credits if r["person_id"] in person_set), key=lambda r: r["id"])
    journey_people = [r for r in journey_people if r["person_id"] in person_set]

    ranges = _rows_in(session, T("time_ranges"), "item_id", ids)
    item_tags = _rows_in(session, T("item_tags"), "item_id", ids)
    tags = _tag_tree(session, viewer, {r["tag_id"] for r in item_tags} | {r["tag_id"] for r in ranges})
    tag_set = {r["id"] for r in tags}
    item_tags = [r for r in item_tags if r["tag_id"] in tag_set]
    ranges = [r for r in ranges if r["tag_id"] in tag_set]

    crossings = _rows_in(session, T("border_crossings"), "id", {r["crossing_id"] for r in legs} - {None})
    place_links = [tuple(r) for chunk in chunks(ids) for r in session.execute(select(item_place_links(chunk)))]
    places, place_set = _places(session, viewer, {p for _, p in place_links}, legs, crossings)
    item_places = [r for r in _rows_in(session, T("item_places"), "item_id", ids) if r["place_id"] in place_set]
    item_legs = [r for r in _rows_in(session, T("item_legs"), "item_id", ids) if r["leg_id"] in leg_set]
    ranges = [{**r, "place_id": r["place_id"] if r["place_id"] in place_set else None,
               "leg_id": r["leg_id"] if r["leg_id"] in leg_set else None} for r in ranges]
    countries = ({r["country_code"] for r in places} | {r["from_country"] for r in crossings}
                 | {r["to_country"] for r in crossings}) - {None}

    transcripts = _rows_in(session, T("transcripts"), "item_id", ids)
    segments = _rows_in(session, T("segments"), "transcript_id", [r["id"] for r in transcripts])

    chosen: dict[str, list[dict[str, Any]]] = {
        "countries": _rows_in(session, T("countries"), "code", countries),
        "collections": collections, "people": people, "tags": tags, "items": item_rows,
        "journeys": journey_rows, "places": places, "border_crossings": crossings, "credits": credits,
        "item_places": item_places, "item_tags": item_tags, "journey_people": journey_people,
        "media_files": media, "transcripts": transcripts, "derivatives": derivatives, "legs": legs,
        "segments": segments, "item_legs": item_legs, "time_ranges": ranges,
    }
    if editor:  # "kept with the item and shown to editors": they may hold anything the source said
        chosen["source_records"] = _rows_in(session, T("source_records"), "item_id", ids)
        # the names and checksums ingest knows a record's file by come from the same source
        chosen["record_keys"] = _rows_in(session, T("record_keys"), "item_id", ids)
    if audit:
        log = T("audit_log")
        chosen["audit_log"] = [r for chunk in chunks(ids) for r in table_rows(
            session, log, (log.c.object_type == "item") & log.c.object_id.in_(chunk))]
        chosen["audit_log"] = [{**r, "user_id": None} for r in chosen["audit_log"]]  # no accounts in the bag
    for table in Base.metadata.sorted_tables:
        if table.name in chosen:
            out[table.name] = _dump(table, chosen[table.name])
    return out


def _filtered(session: Session, name: str, ids: Iterable[Any], where: Any) -> list[dict[str, Any]]:
    table = T(name)
    rows = [r for chunk in chunks(ids) for r in table_rows(session, table, table.c.id.in_(chunk) & where)]
    return sorted(rows, key=lambda r: r["id"])


def _published_media(viewer: Viewer, item: Item, row: dict[str, Any]) -> dict[str, Any]:
    """A media file's record as a non-editor may have it (as the JSON API gives it): its GPS at the item's
    precision, no ingest path or editors' warnings, and no checksum, name, size or bit rate unless they may
    have the original itself."""
    row = dict(row)
    if row["latitude"] is not None and row["longitude"] is not None:
        position = published_position(viewer, row["latitude"], row["longitude"], item.location_precision)
        row["latitude"], row["longitude"] = position.lat, position.lon
        if position.precision is not None:
            row["altitude"] = None
    if not may_have_original(viewer, item):  # what identifies the original file, as the API withholds it
        row.update({name: "" if isinstance(row[name], str) else None for name in ORIGINAL_ONLY_FIELDS})
    # It names folders on the machine that ingested the file (the API never gives it), and the warnings
    # are sentences for editors.
    row.update(original_path="", warnings=[])
    return row


def _tag_tree(session: Session, viewer: Viewer, used: set[int]) -> list[dict[str, Any]]:
    """The tags used, with their broader terms up to the root, as far as the viewer may know them; a
    broader term it may not know is cut off (the narrower one becomes a root)."""
    table = T("tags")
    known: dict[int, dict[str, Any]] = {}
    frontier = set(used)
    while frontier:
        rows = _rows_in(session, table, "id", frontier - set(known))
        for row in rows:
            known[row["id"]] = row
        frontier = {r["parent_id"] for r in rows if r["parent_id"] is not None} - set(known)
    visible = {r["id"] for r in _filtered(session, "tags", known, tag_filter(viewer))}
    rows = [known[i] for i in sorted(visible)]
    return [{**r, "parent_id": r["parent_id"] if r["parent_id"] in visible else None} for r in rows]


def _places(session: Session, viewer: Viewer, linked: set[int], legs: list[dict[str, Any]],
            crossings: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[int]]:
    """The places of the items, the legs and the crossings (with their broader places), as `viewer` may
    know them: positions published at the coarsest of the place's and its legs' precisions (a place
    shown at two precisions would give the finer away, as on a journey's map), and a place a leg stops
    at that the viewer may not know as "an undisclosed place" at its country's point."""
    at_least: dict[int, LocationPrecision] = {}
    for leg in legs:
        crossing = next((c["place_id"] for c in crossings if c["id"] == leg["crossing_id"]), None)
        for place_id in (leg["from_place_id"], leg["to_place_id"], crossing):
            if place_id is not None:
                at_least[place_id] = geo.coarsest(at_least.get(place_id, LocationPrecision.exact), leg["precision"])
    needed = linked | set(at_least) | {c["place_id"] for c in crossings}
    loaded: dict[int, Place] = {}
    frontier = set(needed)
    while frontier:
        found = [p for chunk in chunks(frontier) for p in session.scalars(select(Place).where(Place.id.in_(chunk)))]
        loaded.update((p.id, p) for p in found)
        frontier = {p.parent_id for p in found if p.parent_id is not None and can_see_place(viewer, p)} - set(loaded)
    editor = may_edit(viewer)
    rows: list[dict[str, Any]] = []
    for place_id in sorted(loaded):
        place = loaded[place_id]
        row = next(table_rows(session, T("places"), T("places").c.id == place_id))
        if can_see_place(viewer, place):
            if not editor:
                precision = geo.coarsest(place.precision, at_least.get(place_id, LocationPrecision.exact))
                position = place_position(viewer, place, at_least=precision)
                row.update(latitude=position.lat, longitude=position.lon, precision=precision)
            parent = loaded.get(place.parent_id) if place.parent_id is not None else None
            row["parent_id"] = parent.id if parent is not None and can_see_place(viewer, parent) else None
        elif place_id in needed - linked:  # a stop of a visible journey: there, but not who or where
            position = published_position(viewer, place.latitude, place.longitude, LocationPrecision.country,
                                          country_code=place.country_code)
            row.update(name=f"an undisclosed place ({place_id})", alt_names=[], description="", parent_id=None,
                       latitude=position.lat, longitude=position.lon, precision=LocationPrecision.country)
        else:
            continue
        rows.append(row)
    return rows, {r["id"] for r in rows}


def write_catalogue(path: Any, document: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=None, separators=(",", ":"))
        fh.write("\n")


class CatalogueError(Exception):
    """catalogue.json is not one this Crossings reads (named in the message)."""


def read_catalogue(path: Any) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"data/catalogue.json: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CatalogueError(f"data/catalogue.json: not a {FORMAT} document")
    if document.get("version") != VERSION:
        raise CatalogueError(f"data/catalogue.json: version {document.get('version')!r}; this Crossings reads "
                             f"version {VERSION}")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise CatalogueError("data/catalogue.json: no \"tables\"")
    unknown = sorted(set(tables) - set(Base.metadata.tables))
    if unknown:
        raise CatalogueError(f"data/catalogue.json: tables this Crossings does not have: {', '.join(unknown)}")
    for name, table in tables.items():
        columns = table.get("columns") if isinstance(table, dict) else None
        if not isinstance(columns, list) or not isinstance(table.get("rows"), list):
            raise CatalogueError(f"data/catalogue.json: table {name}: needs \"columns\" and \"rows\" lists")
        extra = [c for c in columns if c not in Base.metadata.tables[name].columns]
        if extra:
            raise CatalogueError(f"data/catalogue.json: table {name}: columns this Crossings does not have: "
                                 f"{', '.join(map(str, extra))}")
        short = next((i for i, row in enumerate(table["rows"]) if not isinstance(row, list) or len(row) != len(columns)),
                     None)
        if short is not None:
            raise CatalogueError(f"data/catalogue.json: table {name}, row {short + 1}: not {len(columns)} values")
    return document
