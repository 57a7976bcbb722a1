"""Record export benchmark: PBCore collections and Dublin Core records of a synthetic catalogue.

    PYTHONPATH=. .venv/bin/python bench/records.py                 # 1,000 and 10,000 items
    PYTHONPATH=. .venv/bin/python bench/records.py --sizes 2000    # one size
    PYTHONPATH=. .venv/bin/python bench/records.py --json

For each size a fresh SQLite data root gets N items, each with an original's technical metadata
(video and audio streams, GPS), a proxy and an access copy, three tags, two credits, a place at
about 10 km, a tagged range and a transcript (inserted in bulk: what is measured is the export).
Then, as the system and as the public: `write_pbcore_collection` into a file (items per second, the
file's size), and `dc_document` per item; and, in a second run with tracemalloc, the peak of Python
memory during the PBCore export, which should not grow with N (items are loaded 200 at a time and
each document is written as it is made).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from archive.access import ANONYMOUS, SYSTEM, Viewer, item_filter
from archive.core import Archive
from archive.interchange import record
from archive.interchange.dublin_core import dc_document
from archive.interchange.pbcore import write_pbcore_collection
from archive.models import (AccessLevel, Credit, Derivative, Item, ItemKind, LocationPrecision, MediaFile, Person,
                            Place, Tag, TimeRange, Transcript, item_places, item_tags)


def build(archive: Archive, n: int) -> list[int]:
    """N items with what a record carries, inserted in bulk."""
    with archive.Session() as session, session.begin():
        tags = [Tag(name=f"tag {i}") for i in range(50)]
        people = [Person(name=f"Person {i}") for i in range(40)]
        place = Place(name="Riverbank", country_code="KP", latitude=41.3912, longitude=128.1733,
                      precision=LocationPrecision.km10)
        session.add_all([*tags, *people, place])
        session.flush()
        tag_ids, person_ids, place_id = [t.id for t in tags], [p.id for p in people], place.id
        session.execute(insert(Item), [
            {"title": f"강을 건너다 {i}", "description": "Dusk at the river, " * 5, "kind": ItemKind.video,
             "access": AccessLevel.public if i % 3 else AccessLevel.restricted, "date_shot": "2019-04~",
             "language": "ko, en", "rights": "CC BY-NC 4.0", "location_precision": LocationPrecision.km10,
             "pid": f"urn:uuid:{uuid.uuid4()}"} for i in range(n)])
        ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        session.execute(insert(MediaFile), [
            {"item_id": i, "sha256": f"{i:064x}", "original_name": f"clip-{i}.mp4", "original_path": f"/in/clip-{i}.mp4",
             "size": 10_000_000, "mime_type": "video/mp4", "container": "mov,mp4,m4a,3gp,3g2,mj2", "duration": 61.5,
             "width": 1920, "height": 1080, "frame_rate": 29.97, "video_codec": "h264", "audio_codec": "aac",
             "audio_sample_rate": 48000, "audio_channels": 2, "bit_rate": 8_000_000, "latitude": 41.3771,
             "longitude": 128.1877, "warnings": []} for i in ids])
        media = dict(session.execute(select(MediaFile.item_id, MediaFile.id)).all())
        session.execute(insert(Derivative), [
            {"media_file_id": media[i], "kind": kind, "path": f"d/{i}/{kind}", "mime_type": "video/mp4", "width": 640,
             "height": 360, "size": 1_000_000, "info": {"duration": 61.5}} for i in ids for kind in ("proxy", "access")])
        session.execute(insert(item_tags), [{"item_id": i, "tag_id": tag_ids[(i + k) % 50]} for i in ids for k in range(3)])
        session.execute(insert(item_places), [{"item_id": i, "place_id": place_id} for i in ids])
        session.execute(insert(Credit), [{"item_id": i, "person_id": person_ids[(i + k) % 40], "position": k,
                                          "role": ("director", "camera")[k]} for i in ids for k in range(2)])
        session.execute(insert(TimeRange), [{"item_id": i, "tag_id": tag_ids[i % 50], "start_sec": 1.0, "end_sec": 5.0,
                                             "note": "wading", "place_id": place_id} for i in ids])
        session.execute(insert(Transcript), [{"item_id": i, "language": "ko", "source_name": "ko.vtt"} for i in ids])
    return ids


def export_pbcore(archive: Archive, viewer: Viewer, ids: list[int], out: Path) -> tuple[int, float]:
    with archive.Session() as session, out.open("wb") as fh:
        visible = list(session.scalars(select(Item.id).where(Item.id.in_(ids), item_filter(viewer))))
        started = time.perf_counter()
        written = write_pbcore_collection(fh, session, viewer, visible, archive.identity)
        return written, time.perf_counter() - started


def export_dc(archive: Archive, viewer: Viewer, ids: list[int]) -> tuple[int, float, int]:
    started, written, size = time.perf_counter(), 0, 0
    with archive.Session() as session:
        for item in record.iter_items(session, viewer, ids):
            size += len(dc_document(session, viewer, item, archive.identity))
            written += 1
    return written, time.perf_counter() - started, size


def run(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive.open({"data": tmp, "secret_key": "bench", "offer_access_copy_downloads": True})
        try:
            started = time.perf_counter()
            ids = build(archive, n)
            figures: dict[str, Any] = {"items": n, "build_s": round(time.perf_counter() - started, 1)}
            out = Path(tmp) / "records.xml"
            for name, viewer in (("system", SYSTEM), ("public", ANONYMOUS)):
                written, seconds = export_pbcore(archive, viewer, ids, out)
                figures[f"pbcore_{name}"] = {"records": written, "seconds": round(seconds, 2),
                                             "items_per_s": round(written / seconds), "mb": round(out.stat().st_size / 1e6, 1)}
                written, seconds, size = export_dc(archive, viewer, ids)
                figures[f"dc_{name}"] = {"records": written, "seconds": round(seconds, 2),
                                         "items_per_s": round(written / seconds), "mb": round(size / 1e6, 1)}
            tracemalloc.start()
            export_pbcore(archive, SYSTEM, ids, out)
            figures["pbcore_system_peak_python_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
            tracemalloc.stop()
            return figures
        finally:
            archive.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        print(f"{n} items...", file=sys.stderr)
        results.append(run(n))
        if not args.json:
            print(results[-1])
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
