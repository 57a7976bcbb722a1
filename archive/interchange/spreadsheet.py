"""Items as a spreadsheet: the CSV columns, declared once, and the export.

COLUMNS is the one list of what a row holds: the export writes it, the import
(archive.interchange.spreadsheet_import) reads it back, docs/interchange.md documents it (a test
checks the table there against it). What a cell holds is what its viewer may see: places and legs
they may not see are left out, and the original's name and checksum are empty unless
access.may_have_original allows them.

The file is UTF-8 with a byte order mark (Excel reads UTF-8 CSV correctly only with one; the import
accepts files with or without it). A cell that a spreadsheet would run as a formula (one starting
with = + - @, a tab or a carriage return) is written with a ' in front, and the import takes it off
again, so the round trip is exact; a value that really starts with ' before such a character gets
one more ' (''=...), so it survives too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, can_see_journey, can_see_place, may_have_original
from archive.interchange.record import load_items
from archive.models import Item, Leg

#: Items loaded and written at a time: 10,000 items are never held at once.
CHUNK = 500
#: The byte order mark "utf-8-sig" writes, as a character at the start of the text.
BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    """One column of the spreadsheet: its header, what it holds (for the docs), and how it is read
    from an item as `viewer` may see it. `editable` columns are written back by an import; the others
    are there to read (an import reports a change to them and leaves them as they are)."""
    name: str
    help: str
    read: Callable[[Item, Viewer], str]
    editable: bool = True
    #: A list of values separated by "; " (see split_list): compared as a set on import.
    is_list: bool = False


# -- lists in one cell ------------------------------------------------------------------------------

def join_list(values: Iterable[str]) -> str:
    """Values in one cell, separated by "; "; a ; or \\ inside a value is escaped with a \\."""
    return "; ".join(v.replace("\\", "\\\\").replace(";", "\\;") for v in values)


def split_list(cell: str) -> list[str]:
    """The values of a join_list cell, trimmed, blanks dropped ("a\\;b; c" is "a;b" and "c")."""
    values, current, chars = [], [], iter(cell)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == ";":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return [v.strip() for v in values if v.strip()]


def labelled(label: str, object_id: int) -> str:
    """"Hyesan [12]": a name with the id the import reads back."""
    return f"{label} [{object_id}]"


_LABELLED_ID = re.compile(r"\[\s*([0-9]+)\s*\]\s*$")


def labelled_id(value: str) -> int | None:
    """The id at the end of a labelled value ("Hyesan [12]": 12), or None when it has none."""
    found = _LABELLED_ID.search(value)
    return int(found.group(1)) if found else None


# -- formulas -----------------------------------------------------------------------------------

#: What a spreadsheet takes for the start of a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def neutralise(text: str) -> str:
    """The cell as written: a ' before a value that starts like a formula, or like one already quoted."""
    return "'" + text if _QUOTED_FORMULA.match(text) else text


def unneutralise(cell: str) -> str:
    """The value of a cell as neutralise wrote it (one ' taken off a quoted formula)."""
    return cell[1:] if cell.startswith("'") and _QUOTED_FORMULA.match(cell) else cell


# -- the columns ----------------------------------------------------------------------------------

def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def _places(item: Item, viewer: Viewer) -> str:
    return join_list(labelled(p.name, p.id) for p in item.places if can_see_place(viewer, p))


def _leg_label(leg: Leg) -> str:
    return labelled(f"{leg.journey.title}, leg {leg.position}", leg.id)


def _legs(item: Item, viewer: Viewer) -> str:
    shown = sorted((leg for leg in item.legs if can_see_journey(viewer, leg.journey)),
                   key=lambda leg: (leg.journey.title, leg.journey_id, leg.position))
    return join_list(_leg_label(leg) for leg in shown)


def _original(attribute: str) -> Callable[[Item, Viewer], str]:
    def read(item: Item, viewer: Viewer) -> str:
        media = item.media
        return getattr(media, attribute) if media is not None and may_have_original(viewer, item) else ""
    return read


COLUMNS: tuple[Column, ...] = (
    Column("id", "The item's number in this archive. Empty in a row that creates a new item.",
           lambda i, v: str(i.id), editable=False),
    Column("pid", "Persistent identifier (an ARK or urn:uuid), given when the item was created.",
           lambda i, v: i.pid, editable=False),
    Column("title", "Title (required).", lambda i, v: i.title),
    Column("kind", "video, still, audio, or catalogued (a record whose media are not yet attached; "
           "the kind of every item an import creates).", lambda i, v: i.kind.value, editable=False),
    Column("date_shot", "When it was shot, in EDTF: 2019-04-12, 2019-04, 2019?, 2019-03/2019-05, 201X...",
           lambda i, v: i.date_shot),
    Column("date_lower", "The earliest day date_shot allows (YYYY-MM-DD), worked out from it.",
           lambda i, v: i.date_lower.isoformat() if i.date_lower else "", editable=False),
    Column("date_upper", "The latest day date_shot allows (YYYY-MM-DD), worked out from it.",
           lambda i, v: i.date_upper.isoformat() if i.date_upper else "", editable=False),
    Column("access", "public, restricted or confidential.", lambda i, v: i.access.value),
    Column("location_precision", "How precisely its GPS position is published to non-editors: exact, km10, "
           "region or country.", lambda i, v: i.location_precision.value),
    Column("collection", "The title of its collection (which must exist); empty for none.",
           lambda i, v: i.collection.title if i.collection is not None else ""),
    Column("tags", "Tags separated by \"; \" (a ; or \\ inside a tag is written \\; or \\\\); new tags are "
           "created.", lambda i, v: join_list(t.name for t in i.tags), is_list=True),
    Column("places", "Places it was filmed at, as \"Name [place id]\" separated by \"; \" (only places the "
           "viewer may see; on import the id in brackets decides, a name alone is looked up).", _places,
           is_list=True),
    Column("legs", "Legs of journeys it was filmed on, as \"Journey title, leg 2 [leg id]\" separated by "
           "\"; \" (only journeys the viewer may see; on import the id in brackets decides).", _legs,
           is_list=True),
    Column("creator", "Who made it.", lambda i, v: i.creator),
    Column("description", "Description; line breaks are kept (the cell is quoted).", lambda i, v: i.description),
    Column("language", "Languages spoken or written, BCP 47 tags separated by commas (ko, en).",
           lambda i, v: i.language),
    Column("rights", "Rights statement.", lambda i, v: i.rights),
    Column("source", "Where it came from.", lambda i, v: i.source),
    Column("duration", "Length of its media in seconds.",
           lambda i, v: _seconds(i.media.duration) if i.media is not None else "", editable=False),
    Column("original_name", "The original file's name: only where the viewer may have the original "
           "(editors, or an item published at exact precision); else empty.", _original("original_name"),
           editable=False),
    Column("sha256", "The original's SHA-256 checksum, under the same rule as original_name.",
           _original("sha256"), editable=False),
    Column("updated_at", "When the item was last changed (UTC, ISO 8601).",
           lambda i, v: i.updated_at.isoformat(timespec="seconds"), editable=False),
    Column("version", "How many times the item has been saved. An import refuses a row whose version is "
           "not the item's any more (someone changed it after the export) and reports it as a conflict.",
           lambda i, v: str(i.version), editable=False),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
BY_NAME = {c.name: c for c in COLUMNS}


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at `index` (from 0): A, B... Z, AA..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# -- writing --------------------------------------------------------------------------------------

def item_row(item: Item, viewer: Viewer) -> list[str]:
    """The cells of one item, as written (formulas neutralised)."""
    return [neutralise(column.read(item, viewer)) for column in COLUMNS]


#: What a row reads of an item, loaded with it (record.load_items).
ROW_LOAD = (selectinload(Item.collection), selectinload(Item.tags), selectinload(Item.places),
            selectinload(Item.legs).selectinload(Leg.journey), selectinload(Item.media_files))


def _pieces(session: Session, viewer: Viewer, item_ids: Iterable[int]) -> Iterator[tuple[str, int]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(COLUMN_NAMES)
    ids = list(item_ids)
    for start in range(0, len(ids), CHUNK):
        # Each chunk is loaded, written and let go: the session's identity map holds items weakly.
        items = load_items(session, viewer, ids[start:start + CHUNK], ROW_LOAD)
        for item in items:
            writer.writerow(item_row(item, viewer))
        yield buffer.getvalue(), len(items)
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue(), 0


def iter_items_csv(session: Session, viewer: Viewer, item_ids: Iterable[int]) -> Iterator[str]:
    """The CSV text of these items (those `viewer` may see, in the order given), in pieces of CHUNK rows:
    the byte order mark and the header first. For a streamed download."""
    for piece, _ in _pieces(session, viewer, item_ids):
        yield piece


def write_items_csv(out: TextIO, session: Session, viewer: Viewer, item_ids: Iterable[int]) -> int:
    """Write the CSV of these items to `out` (a text stream opened with newline=""); return the rows written."""
    rows = 0
    for piece, count in _pieces(session, viewer, item_ids):
        out.write(piece)
        rows += count
    return rows


def markdown_table() -> str:
    """The columns as the table of docs/interchange.md ("## CSV"), which a test keeps equal to COLUMNS."""
    lines = ["| column | editable | what it holds |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {'yes' if c.editable else 'no'} | {c.help.replace('|', chr(92) + '|')} |"
              for c in COLUMNS]
    return "\n".join(lines)
