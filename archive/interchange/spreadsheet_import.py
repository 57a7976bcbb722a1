"""A spreadsheet back into the catalogue: a dry run first (plan_csv_import), then the changes
(apply_csv_import), through the same checks and edit services as the item's edit page.

A row with an id updates that item; a row without one (and with a title) creates an item of kind
`catalogued`. Only the columns in the header are touched, so a sheet of just id and title works.
Bad input never stops the rest: each problem names its line (the physical line of the file, the
header being line 1) and its column (header name and letter), and the other rows still apply.
- A bad value in an editable cell (a date that is not EDTF, an unknown access level, a collection,
  place or leg that does not exist or the importer may not see...) refuses that row: none of its
  cells is applied, since a half-applied row is harder to review than a refused one.
- A change to a read-only column (id, pid, kind, date bounds, duration, checksum...) is reported
  and left as it is; the row's editable cells still apply.
- A row whose version is not the item's any more (it was saved after the export) is a conflict:
  reported, not applied.
- A collection must already exist: a mistyped title would otherwise make a new one unnoticed.
- Unknown columns are reported and ignored.
The whole import is one audit batch (action "csv_import"), so it can be reviewed and found again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from sqlalchemy.orm import Session

from archive.access import Viewer, may_edit
from archive.interchange.record import load_items
from archive.interchange.spreadsheet import BOM, BY_NAME, CHUNK, COLUMN_NAMES, ROW_LOAD, column_letter, unneutralise
from archive.interchange.spreadsheet_cells import CHECKS, TEXT_FIELDS, same
from archive.models import Item, ItemKind, Leg, Place, SourceRecord
from archive.services import Invalid, NotFound, Stale, audit, counted, locations
from archive.services.editing import edit_item, set_item_tags, update_item
from archive.services.editing import fields as f
from archive.services.ingest import new_item_levels


@dataclass(frozen=True)
class Problem:
    """Something refused or left out: "line 4, column date_shot (E): ...", or "line 4: ..."."""
    line: int
    message: str
    column: str = ""
    letter: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column} ({self.letter})" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class FieldChange:
    column: str
    old: str
    new: str


@dataclass
class PlannedRow:
    """One row that will change an item (item_id) or create one (item_id None)."""
    line: int
    item_id: int | None
    title: str  #: the item's title now, or the new item's
    version: int | None  #: the item's version when planned: an apply finds it saved since (Stale)
    changes: list[FieldChange]
    #: What the services get, by column: text, a collection id, tag names, place or leg ids.
    values: dict[str, Any] = field(default_factory=dict)
    record: str = ""  #: the row as CSV, kept with a created item as its source record


@dataclass
class ImportPlan:
    """What an import would do: the items that would change (field by field), those it would create,
    how many rows are already as they say, and every problem."""
    source_name: str
    columns: list[str]  #: the known columns the file gives
    header: list[str] = field(default_factory=list)  #: its first line as it came
    updates: list[PlannedRow] = field(default_factory=list)
    creates: list[PlannedRow] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: The version of every item the file names, as planned: give it to a later plan_csv_import of the
    #: same file (its apply) to treat an item saved in between as a conflict.
    versions: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        """"3 items would change, 1 would be created, 2 problems"."""
        return (f"{counted(len(self.updates), 'item')} would change, {len(self.creates)} would be created, "
                f"{counted(len(self.problems), 'problem')}")

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source_name, "columns": self.columns,
                "updates": [_row_json(r) for r in self.updates], "creates": [_row_json(r) for r in self.creates],
                "unchanged": self.unchanged, "problems": [_problem_json(p) for p in self.problems],
                "summary": self.summary()}


@dataclass
class ImportResult:
    """What an apply did; `batch` finds its entries in the audit log."""
    batch: str
    updated: list[PlannedRow] = field(default_factory=list)
    created: list[PlannedRow] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{counted(len(self.updated), 'item')} changed, {len(self.created)} created, "
                f"{counted(len(self.problems), 'problem')}")

    def as_json(self) -> dict[str, Any]:
        return {"batch": self.batch, "updated": [_row_json(r) for r in self.updated],
                "created": [_row_json(r) for r in self.created], "unchanged": self.unchanged,
                "problems": [_problem_json(p) for p in self.problems], "summary": self.summary()}


def _row_json(row: PlannedRow) -> dict[str, Any]:
    return {"line": row.line, "id": row.item_id, "title": row.title,
            "changes": [asdict(change) for change in row.changes]}


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {**asdict(problem), "text": str(problem)}


# -- reading the file ---------------------------------------------------------------------------

def read_text(source: str | bytes | IO[str] | IO[bytes]) -> str:
    """The text of an uploaded or opened CSV, UTF-8 with or without a byte order mark; Invalid if not UTF-8."""
    data = source.read() if hasattr(source, "read") else source
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid(f"the file is not UTF-8 text (byte {exc.start + 1}); save it as \"CSV UTF-8\"",
                          "file") from None
    return data.removeprefix(BOM)


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and (first physical line, cells) of each row; quoted line breaks stay in their cell."""
    first = text.split("\n", 1)[0]
    # Spreadsheets set to a decimal comma (much of Europe) save "CSV" with semicolons, some with tabs.
    delimiter = next((d for d in (",", ";", "\t") if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, [])
        rows: list[tuple[int, list[str]]] = []
        line = reader.line_num
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line + 1, cells))
            line = reader.line_num
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num}: not CSV as a spreadsheet writes it ({exc})", "file") from None
    return header, rows


# -- the plan -----------------------------------------------------------------------------------

def plan_csv_import(session: Session, viewer: Viewer, source: str | bytes | IO[str] | IO[bytes], *,
                    source_name: str, since: Mapping[int, int] | None = None) -> ImportPlan:
    """The dry run: what importing this CSV would change, item by item and field by field, what it would
    create, and every problem. Changes nothing. Only editors import (NotFound for others); a file that is
    not UTF-8 CSV is Invalid. `since`: the versions of a dry run of the same file shown earlier (its
    plan's `versions`); an item saved after it is a conflict, so that an apply never reverts, from the
    sheet's old values, what someone else changed after the dry run was read."""
    if not may_edit(viewer):
        raise NotFound("csv import")
    header, rows = _rows(read_text(source))
    names = [name.strip() for name in header]
    plan = ImportPlan(source_name=source_name, columns=[], header=header)
    known: dict[int, Column] = {}  # cell index -> column
    for index, name in enumerate(names):
        letter = column_letter(index)
        column = BY_NAME.get(name) or BY_NAME.get(name.lower())
        if not name and not any(index < len(cells) and cells[index].strip() for _, cells in rows):
            continue  # a spreadsheet's empty trailing column: nothing is lost
        if column is None:
            plan.problems.append(Problem(1, f"unknown column {name!r}, not imported (the columns are "
                                            f"{', '.join(COLUMN_NAMES)})", name or "(empty)", letter))
        elif column in known.values():
            plan.problems.append(Problem(1, f"{column.name} is given twice; this one is not imported",
                                         column.name, letter))
        else:
            known[index] = column
            plan.columns.append(column.name)
    if not plan.columns:
        plan.problems.append(Problem(1, "no known column in the header: the first line must name the columns "
                                        "(id, title...)"))
        return plan
    id_index = next((index for index, column in known.items() if column.name == "id"), None)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        # The items of a chunk of rows in one query each (as the export loads them), not one per row.
        wanted = [int(cells[id_index]) for _, cells in chunk
                  if id_index is not None and id_index < len(cells) and cells[id_index].strip().isdigit()
                  and 0 < int(cells[id_index]) < 2**31]
        items = {item.id: item for item in load_items(session, viewer, wanted, ROW_LOAD)}
        for line, cells in chunk:
            given = {column.name: (unneutralise(cells[index]), column_letter(index))
                     for index, column in known.items() if index < len(cells)}
            if len(cells) > len(names):
                plan.problems.append(Problem(line, f"{len(cells)} cells but {len(names)} columns: the cells after "
                                                   f"column {column_letter(len(names) - 1)} are not imported"))
            _plan_row(session, viewer, plan, line, given, cells, items, since)
    return plan


def _plan_row(session: Session, viewer: Viewer, plan: ImportPlan, line: int, given: dict[str, tuple[str, str]],
              cells: list[str], items: Mapping[int, Item], since: Mapping[int, int] | None) -> None:
    raw_id, id_letter = given.get("id", ("", "A"))
    item: Item | None = None
    if raw_id.strip():
        try:
            item_id = f.whole_number(raw_id, "id")
        except Invalid as exc:
            plan.problems.append(Problem(line, str(exc), "id", id_letter))
            return
        item = items.get(item_id) if item_id is not None else None
        if item is None:
            plan.problems.append(Problem(line, f"item {item_id} does not exist or you may not see it"))
            return
        raw_version, letter = given.get("version", ("", ""))
        if raw_version.strip() and raw_version.strip() != str(item.version):
            plan.problems.append(Problem(line, f"conflict: item {item.id} was changed after this row was exported "
                                               f"(the row is of version {raw_version.strip()}, the item is at "
                                               f"version {item.version}); not applied: export it again",
                                         "version", letter))
            return
        if item.id in plan.versions:
            plan.problems.append(Problem(line, f"item {item.id} is on an earlier row too; this row is not applied",
                                         "id", id_letter))
            return
        plan.versions[item.id] = item.version
        if since is not None and since.get(item.id) != item.version:
            plan.problems.append(Problem(line, f"conflict: item {item.id} was changed by someone else after the "
                                               "dry run; not applied: check it and import the file again"))
            return
    elif not given.get("title", ("", ""))[0].strip():
        plan.problems.append(Problem(line, "no id and no title: a row without an id creates an item, and needs "
                                           "a title"))
        return
    changes: list[FieldChange] = []
    values: dict[str, Any] = {}
    refused = False
    for name, (cell, letter) in given.items():
        column = BY_NAME[name]
        current = column.read(item, viewer) if item is not None else ("catalogued" if name == "kind" else "")
        if name in ("id", "version") or same(column, cell, current) or (item is None and not cell.strip()):
            continue
        if not column.editable and not cell.strip():
            continue  # empty: not given, or withheld from whoever exported it (an original's checksum)
        if not column.editable:
            plan.problems.append(Problem(line, f"column not editable: left as it is ({current!r})"
                                         if item is not None else "column not editable: left empty", name, letter))
            continue
        try:
            values[name] = CHECKS[name](session, viewer, cell)
        except Invalid as exc:
            plan.problems.append(Problem(line, str(exc), name, letter))
            refused = True
            continue
        changes.append(FieldChange(name, current, cell.replace("\r\n", "\n").strip()))
    if refused:
        plan.problems.append(Problem(line, "row not applied: correct the cells above and import it again"))
        return
    if item is None:
        title = values.get("title", "")
        plan.creates.append(PlannedRow(line, None, title, None, changes, values, _csv_line(cells)))
    elif changes:
        plan.updates.append(PlannedRow(line, item.id, item.title, item.version, changes, values))
    else:
        plan.unchanged += 1


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


# -- applying -----------------------------------------------------------------------------------

def _fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords of edit_item / update_item that a row's values give."""
    out = {name: values[name] for name in TEXT_FIELDS if name in values}
    if "collection" in values:
        out["collection_id"] = values["collection"]
    return out


def _geography(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "places" in values:
        out["place_ids"] = values["places"]
    if "legs" in values:
        out["leg_ids"] = values["legs"]
    if "location_precision" in values:
        out["precision"] = values["location_precision"]
    return out


def apply_csv_import(session: Session, viewer: Viewer, plan: ImportPlan, *,
                     settings: Mapping[str, Any] | None = None) -> ImportResult:
    """Make the changes of `plan` (made by plan_csv_import in this transaction, or just before it) through
    the item edit services, as one audit batch; created items get the default access level and precision
    of `settings` unless the row gives them. An item saved since the plan was made is a conflict, reported
    and left alone. Flushes, never commits."""
    if not may_edit(viewer):
        raise NotFound("csv import")
    with audit.labelled(session, "csv_import", batch=True) as batch:
        result = ImportResult(batch=batch, unchanged=plan.unchanged, problems=list(plan.problems))
        for row in plan.updates:
            assert row.item_id is not None
            try:
                tags = row.values.get("tags")
                edit_item(session, viewer, row.item_id, expected_version=row.version,
                          **({"tags": tags} if tags is not None else {}), **_fields(row.values))
                if geography := _geography(row.values):
                    locations.set_item_geography(session, viewer, row.item_id, **geography)
            except Stale:
                result.problems.append(Problem(row.line, f"conflict: item {row.item_id} was changed by someone "
                                                         "else after the dry run; not applied"))
                continue
            except (Invalid, NotFound) as exc:
                result.problems.append(Problem(row.line, str(exc)))
                continue
            result.updated.append(row)
        for row in plan.creates:
            row.item_id = _create(session, plan, row, settings or {})
            result.created.append(row)
    return result


def _create(session: Session, plan: ImportPlan, row: PlannedRow, settings: Mapping[str, Any]) -> int:
    """A catalogued item from a checked row: the fields through update_item, tags through set_item_tags;
    places and legs were checked against the importer's view when planned."""
    values = row.values
    defaults = {"default_access": "restricted", "default_location_precision": "km10", **settings}
    access, precision = new_item_levels(dict(defaults), values.get("access") or None,
                                        values.get("location_precision") or None)
    item = Item(title=values["title"], kind=ItemKind.catalogued, access=access, location_precision=precision,
                description="", date_shot="", creator="", language="", rights="", source="")
    session.add(item)
    session.flush()
    update_item(session, item, **_fields(values))
    if "tags" in values:
        set_item_tags(session, item, values["tags"])
    if values.get("places"):
        item.places = [session.get_one(Place, place_id) for place_id in values["places"]]
    if values.get("legs"):
        item.legs = [session.get_one(Leg, leg_id) for leg_id in values["legs"]]
    session.flush()
    session.add(SourceRecord(item=item, format="csv", source_name=plan.source_name[:1000],
                             content=_csv_line(plan.header) + row.record,
                             item_version=item.version))
    session.flush()
    return item.id
