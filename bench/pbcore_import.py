"""PBCore import benchmark: records per second and peak memory of `import_pbcore` on a generated collection.

    PYTHONPATH=. .venv/bin/python bench/pbcore_import.py                  # 1,000 and 10,000 records, SQLite
    PYTHONPATH=. .venv/bin/python bench/pbcore_import.py --records 500 --json

Each run writes one pbcoreCollection of N AAPB-shaped records (three titles, three identifiers, two
dates, two subjects from a vocabulary of 200, two creators from 500 people, a spatial coverage naming
one of 50 gazetteer places, a physical and a digital instantiation with two essence tracks), imports
it into a fresh SQLite archive in one transaction as `crossings import pbcore` does, and then writes
the search index. Import and indexing are timed apart. Each size runs in a process of its own, whose
maximum resident size is reported before the import (the file generated, the archive open) and at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from archive.access import SYSTEM
from archive.core import Archive
from archive.interchange.pbcore_import import import_pbcore
from archive.models import Item, RecordKey
from archive.services import places, search_sync

NS = "http://www.pbcore.org/PBCore/PBCoreNamespace.html"


def record(n: int) -> str:
    return f"""  <pbcoreDescriptionDocument>
    <pbcoreAssetDate dateType="broadcast">{1980 + n % 40}-0{1 + n % 9}-1{n % 10}</pbcoreAssetDate>
    <pbcoreAssetDate dateType="created">{1980 + n % 40}-0{1 + n % 9}</pbcoreAssetDate>
    <pbcoreIdentifier source="http://americanarchiveinventory.org">cpb-aacip-15-{n:08d}</pbcoreIdentifier>
    <pbcoreIdentifier source="NOLA Code">RVRT {n:06d}</pbcoreIdentifier>
    <pbcoreIdentifier source="Sony Ci">{n:032x}</pbcoreIdentifier>
    <pbcoreTitle titleType="Series">Series {n % 30}</pbcoreTitle>
    <pbcoreTitle titleType="Episode Number">{n}</pbcoreTitle>
    <pbcoreTitle titleType="Episode">Episode {n}: the river at dawn</pbcoreTitle>
    <pbcoreDescription descriptionType="Episode">Record {n}, boats and the far bank, filmed from the other side.</pbcoreDescription>
    <pbcoreGenre source="AAPB Format Genre">Documentary</pbcoreGenre>
    <pbcoreSubject>subject {n % 200}</pbcoreSubject>
    <pbcoreSubject>subject {(n * 7) % 200}</pbcoreSubject>
    <pbcoreCoverage><coverage>Town {n % 50}</coverage><coverageType>Spatial</coverageType></pbcoreCoverage>
    <pbcoreCreator><creator>Person {n % 500}</creator><creatorRole>Producer</creatorRole></pbcoreCreator>
    <pbcoreContributor><contributor>Person {(n * 3) % 500}</contributor><contributorRole>Camera</contributorRole></pbcoreContributor>
    <pbcoreRightsSummary><rightsSummary>Copyright {1980 + n % 40}.</rightsSummary></pbcoreRightsSummary>
    <pbcoreInstantiation>
      <instantiationIdentifier source="Barcode">TAPE-{n}</instantiationIdentifier>
      <instantiationPhysical>Betacam SP</instantiationPhysical>
      <instantiationLocation>shelf {n % 100}</instantiationLocation>
      <instantiationDuration>00:28:30;12</instantiationDuration>
      <instantiationLanguage>eng</instantiationLanguage>
    </pbcoreInstantiation>
    <pbcoreInstantiation>
      <instantiationIdentifier source="File Name">cpb-aacip-15-{n:08d}.mp4</instantiationIdentifier>
      <instantiationDigital>video/mp4</instantiationDigital>
      <instantiationFileSize unitsOfMeasure="byte">{291475523 + n}</instantiationFileSize>
      <instantiationEssenceTrack><essenceTrackType>Video</essenceTrackType><essenceTrackFrameRate>29.97</essenceTrackFrameRate><essenceTrackFrameSize>720x480</essenceTrackFrameSize></instantiationEssenceTrack>
      <instantiationEssenceTrack><essenceTrackType>Audio</essenceTrackType><essenceTrackSamplingRate>48</essenceTrackSamplingRate></instantiationEssenceTrack>
    </pbcoreInstantiation>
  </pbcoreDescriptionDocument>
"""


def collection(records: int) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<pbcoreCollection xmlns="{NS}">\n'
            + "".join(record(n) for n in range(records)) + "</pbcoreCollection>\n").encode()


def measure(records: int) -> dict[str, Any]:
    data = collection(records)
    with tempfile.TemporaryDirectory() as root:
        archive = Archive.open({"data": str(Path(root) / "data")})
        archive.index_on_commit = False  # indexing is timed on its own below
        with archive.session() as session:
            for n in range(50):
                places.create_place(session, SYSTEM, name=f"Town {n}", latitude=40 + n / 10, longitude=125 + n / 10,
                                    country="KP")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        with archive.session() as session:
            report = import_pbcore(session, SYSTEM, data, source_name="bench.xml", access="public")
        imported = time.perf_counter() - began
        began = time.perf_counter()
        search_sync.sync_index(archive)
        indexed = time.perf_counter() - began
        with archive.Session() as session:
            assert session.scalar(select(func.count(Item.id))) == records == report.created
            keys = session.scalar(select(func.count(RecordKey.id)))
        archive.close()
    return {"records": records, "file_mb": round(len(data) / 1e6, 1), "import_seconds": round(imported, 2),
            "records_per_second": round(records / imported), "index_seconds": round(indexed, 2),
            "rss_before_mb": round(rss_before / 1024),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "warned": report.warned, "record_keys": keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, action="append", help="records per run (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:  # a fresh process per size
        results = pool.map(measure, args.records or [1000, 10000], chunksize=1)
    if args.json:
        print(json.dumps(results))
        return
    for r in results:
        print(f"{r['records']:>6} records ({r['file_mb']} MB): import {r['import_seconds']} s "
              f"({r['records_per_second']} records/s), index {r['index_seconds']} s, max RSS {r['rss_before_mb']} MB "
              f"before the import, {r['max_rss_mb']} MB at the end, {r['record_keys']} record keys")


if __name__ == "__main__":
    main()
