"""Bag benchmark: a backup of a whole archive out (`export_bag`) and back into a fresh data root
(`import_bag`, a full restore), timed, with items per second and the peak memory of each half.

    PYTHONPATH=. .venv/bin/python bench/bags.py --data /tmp/demo-root              # an archive you have (the demo)
    PYTHONPATH=. .venv/bin/python bench/bags.py --generate /tmp/bags-10k --items 10000 --segments 100000

--generate makes bench/load.py's catalogue (media files as rows only, no files in the store: the bag then
measures the catalogue, and its media come back as "catalogued" items); --data takes an existing data
root as it is (read only: the bag goes into a temporary folder, hard-linked where it can be). Peak
memory is the process's peak resident set (ru_maxrss) after each half: it only grows, so the import's
figure is the larger of the two halves.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import resource
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", type=Path, help="an archive's data root (SQLite), bagged as it is")
    where.add_argument("--generate", type=Path, help="make bench/load.py's catalogue here (kept) and bag it")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=100_000)
    args = parser.parse_args()
    root = args.data
    if args.generate:
        import load
        load.ensure_catalogue(args.generate, SimpleNamespace(items=args.items, segments=args.segments,
                                                            long_segments=0))
        root = args.generate

    from archive.access import SYSTEM
    from archive.core import Archive
    from archive.interchange.bag_export import export_bag
    from archive.interchange.bag_import import import_bag
    from archive.interchange.selection import Selection
    from archive.services import search_sync

    work = Path(tempfile.mkdtemp(prefix="bags-bench-"))
    try:
        source = Archive.open({"data": str(root), "secret_key": "bench"})
        started = time.perf_counter()
        with source.Session() as session:
            report = export_bag(session, SYSTEM, source.store, source.index, Selection(), work / "bag",
                                identity=source.identity, public=False, with_accounts=True)
        out_s = time.perf_counter() - started
        out_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        source.close()
        target = Archive.open({"data": str(work / "restored"), "secret_key": "bench"})
        started = time.perf_counter()
        result = import_bag(target, work / "bag", rebuild_index=False)
        in_s = time.perf_counter() - started
        started = time.perf_counter()
        search_sync.rebuild_index(target)
        index_s = time.perf_counter() - started
        in_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        target.close()
        rows = sum(report.rows.values())
        print(f"{report.items:,} items, {rows:,} rows, {report.files:,} payload files, {report.bytes:,} bytes "
              f"({report.linked} hard-linked)")
        print(f"export: {out_s:.1f} s, {report.items / out_s:,.0f} items/s, peak RSS {out_peak / 2**20:,.0f} MiB")
        print(f"import ({result.mode}, validation included): {in_s:.1f} s, {report.items / in_s:,.0f} items/s, "
              f"peak RSS {in_peak / 2**20:,.0f} MiB; then the search index rebuilt in {index_s:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
