"""CSV export and import speed on a large catalogue (issue 12 §3).

    PYTHONPATH=. .venv/bin/python bench/spreadsheet.py                 # 10,000 items, SQLite
    PYTHONPATH=. .venv/bin/python bench/spreadsheet.py --items 1000 --json
    PYTHONPATH=. .venv/bin/python bench/spreadsheet.py --copy-of DATA_ROOT   # a copy of an archive (the demo)

Builds N catalogued items in a fresh SQLite data root (two tags and a place each, an original for every
other one) with plain INSERTs (or copies an existing SQLite data root, --copy-of), then times, as the admin viewer: the export of every item
(write_items_csv to a file), the dry run of that file unchanged (every row compared, none changing),
the dry run of the same file with every tenth title edited, and applying that edit (one transaction,
one audit batch). Peak memory is the peak of Python's allocations during each step (tracemalloc, in
a second run of the step so that its overhead is not in the times).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from archive.access import SYSTEM
from archive.core import Archive
from archive.interchange.spreadsheet import write_items_csv
from archive.interchange.spreadsheet_import import apply_csv_import, plan_csv_import
from archive.models import AccessLevel, Item, ItemKind, LocationPrecision, MediaFile, Place, Tag, item_places, item_tags


def build(archive: Archive, size: int) -> None:
    with archive.session() as session:
        tags = [Tag(name=f"tag {n}") for n in range(50)]
        places = [Place(name=f"Place {n}", latitude=41.0 + n / 100, longitude=128.0) for n in range(20)]
        session.add_all(tags + places)
        session.flush()
        tag_ids, place_ids = [t.id for t in tags], [p.id for p in places]
        session.execute(insert(Item), [
            {"id": n, "pid": f"urn:uuid:{uuid.uuid4()}", "title": f"Item {n}: at the river, frame {n * 7}",
             "description": f"Footage number {n}\nwith a second line.", "kind": ItemKind.catalogued,
             "date_shot": "2019-04", "access": AccessLevel.public if n % 3 else AccessLevel.restricted,
             "location_precision": LocationPrecision.exact if n % 2 else LocationPrecision.km10,
             "creator": "Camera team", "language": "ko", "rights": "", "source": ""}
            for n in range(1, size + 1)])
        session.execute(insert(item_tags), [{"item_id": n, "tag_id": tag_ids[(n + k) % 50]}
                                            for n in range(1, size + 1) for k in (0, 1)])
        session.execute(insert(item_places), [{"item_id": n, "place_id": place_ids[n % 20]}
                                              for n in range(1, size + 1)])
        session.execute(insert(MediaFile), [
            {"item_id": n, "sha256": hashlib.sha256(str(n).encode()).hexdigest(), "original_name": f"clip{n}.mp4",
             "original_path": f"/ingest/clip{n}.mp4", "size": 1000, "mime_type": "video/mp4", "duration": 60.0,
             "warnings": []} for n in range(2, size + 1, 2)])


def timed(step: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak MiB of Python allocations, result): the step is run twice, traced the second time."""
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--copy-of", type=Path, metavar="DATA_ROOT",
                        help="Measure a copy of this SQLite archive's catalogue instead of building one.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        if args.copy_of:
            source = sqlite3.connect(args.copy_of / "crossings.sqlite3")
            with sqlite3.connect(Path(data) / "crossings.sqlite3") as target:
                source.backup(target)
            source.close()
        archive = Archive.open({"data": data, "secret_key": "bench"})
        if not args.copy_of:
            build(archive, args.items)
        with archive.Session() as session:
            args.items = len(list(session.scalars(select(Item.id).where(Item.deleted_at.is_(None)))))
        figures: dict[str, Any] = {"items": args.items}
        sheet = Path(data) / "items.csv"

        def export() -> int:
            with archive.Session() as session, open(sheet, "w", encoding="utf-8", newline="") as out:
                ids = list(session.scalars(select(Item.id).order_by(Item.id)))
                return write_items_csv(out, session, SYSTEM, ids)

        seconds, peak, rows = timed(export)
        figures["export"] = {"rows": rows, "seconds": round(seconds, 2), "items_per_s": round(rows / seconds),
                             "peak_mib": round(peak, 1), "file_mib": round(sheet.stat().st_size / 2**20, 1)}
        text = sheet.read_text(encoding="utf-8-sig")

        def dry_run(source: str) -> Callable[[], Any]:
            def run() -> Any:
                with archive.Session() as session:
                    return plan_csv_import(session, SYSTEM, source, source_name="items.csv")
            return run

        seconds, peak, plan = timed(dry_run(text))
        assert not plan.problems and plan.unchanged == args.items, plan.summary()
        figures["dry_run_unchanged"] = {"seconds": round(seconds, 2), "rows_per_s": round(args.items / seconds),
                                        "peak_mib": round(peak, 1)}
        table = list(csv.reader(io.StringIO(text, newline="")))
        for row in table[1::10]:  # every tenth item, from the first
            row[2] += " (edited)"
        edited = io.StringIO(newline="")
        csv.writer(edited, lineterminator="\r\n").writerows(table)
        seconds, peak, plan = timed(dry_run(edited.getvalue()))
        changed = len(plan.updates)
        figures["dry_run_edited"] = {"changes": changed, "seconds": round(seconds, 2),
                                     "rows_per_s": round(args.items / seconds), "peak_mib": round(peak, 1)}
        start = time.perf_counter()
        with archive.session() as session:
            made = plan_csv_import(session, SYSTEM, edited.getvalue(), source_name="items.csv")
            result = apply_csv_import(session, SYSTEM, made)
        seconds = time.perf_counter() - start
        assert len(result.updated) == changed and not result.problems, result.summary()
        figures["apply_edited"] = {"updated": changed, "seconds": round(seconds, 2),
                                   "items_per_s": round(changed / seconds)}
        archive.close()
    if args.json:
        print(json.dumps(figures))
        return
    for name, values in figures.items():
        print(f"{name}: {values}")


if __name__ == "__main__":
    main()
