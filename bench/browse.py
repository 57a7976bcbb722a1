"""Browse with filters on a 10,000-item catalogue: the page's time per role and filter set.

    PYTHONPATH=. .venv/bin/python bench/browse.py --data /tmp/crossings-browse            # 10k items
    PYTHONPATH=. .venv/bin/python bench/browse.py --data /tmp/crossings-browse --items 1000 --runs 3

The catalogue (SQLite, made once into --data and reused while --items is the same): items of the
three kinds and levels, a third with a transcript row in Korean, English or Chinese (no segments:
the facets read transcripts, not their text), two thirds linked to one of 60 places in the six
route countries (a tenth of the places restricted, a twentieth confidential), a fifth to one of
the eight legs of a public journey. Each measured request is GET /items through the app's test
client (the whole view: parsing, the listing, every facet's count, the template), --runs times
after one unmeasured; reported: the median and the slowest, in ms.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert

from archive.access import SYSTEM
from archive.app import create_app
from archive.core import Archive
from archive.models import Item, Transcript, item_legs, item_places
from archive.services import NotFound, accounts
from archive.services.journeys import create_journey
from archive.services.legs import add_leg
from archive.services.places import create_place

COUNTRIES = ("KP", "CN", "VN", "LA", "TH", "KR")
PASSWORD = "bench password 123"
QUERIES = ("", "kind=video", "country=CN", "country=CN&has_transcript=yes", "language=ko&kind=video",
           "journey=The+route+south&from=2015&to=2020", "leg=3", "place=Place+7&kind=still&has_transcript=no",
           "access=restricted")


def generate(root: Path, items: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    archive = Archive.open({"data": str(root)})
    archive.index_on_commit = False
    rng = random.Random(14)
    with archive.session() as session:
        places = [create_place(session, SYSTEM, name=f"Place {n}", latitude=20.0 + n / 10, longitude=100.0 + n / 10,
                               country=COUNTRIES[n % 6],
                               access="confidential" if n % 20 == 0 else "restricted" if n % 10 == 0 else "public").id
                  for n in range(60)]
        journey = create_journey(session, SYSTEM, title="The route south")
        legs = [add_leg(session, SYSTEM, journey.id, from_place_id=places[n + 1], to_place_id=places[n + 2]).id
                for n in range(8)]
    with archive.Session() as session:
        rows, links, on_legs, transcripts = [], [], [], []
        for item_id in range(1, items + 1):
            roll, year = rng.random(), rng.randint(1995, 2024)
            rows.append({"id": item_id, "title": f"Item {item_id}", "kind": rng.choice(("video", "still", "audio")),
                         "access": "public" if roll < 0.7 else "restricted" if roll < 0.9 else "confidential",
                         "date_shot": str(year), "date_lower": date(year, 1, 1), "date_upper": date(year, 12, 31),
                         "language": rng.choice(("", "ko", "en"))})
            if rng.random() < 0.66:
                links.append({"item_id": item_id, "place_id": rng.choice(places)})
            if rng.random() < 0.2:
                on_legs.append({"item_id": item_id, "leg_id": rng.choice(legs)})
            if rng.random() < 0.33:
                transcripts.append({"item_id": item_id, "language": rng.choice(("ko", "en", "zh-Hans")),
                                    "kind": "transcript", "source_name": "t.vtt"})
        session.execute(insert(Item), rows)
        session.execute(item_places.insert(), links)
        session.execute(item_legs.insert(), on_legs)
        session.execute(insert(Transcript), transcripts)
        session.commit()
    archive.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    marker = args.data / "browse-bench.json"
    if not (marker.is_file() and json.loads(marker.read_text()) == {"items": args.items}):
        started = time.perf_counter()
        generate(args.data, args.items)
        marker.write_text(json.dumps({"items": args.items}))
        print(f"catalogue of {args.items:,} items written in {time.perf_counter() - started:.1f} s")
    app = create_app({"data": str(args.data)})
    core: Archive = app.extensions["crossings"]
    for role in ("researcher", "admin"):
        with core.session() as session:
            try:
                accounts.get_user(session, f"bench-{role}")
            except NotFound:
                accounts.create_user(session, f"bench-{role}", PASSWORD, role)
    print("| viewer | query | median ms | slowest ms | items |")
    print("|---|---|---|---|---|")
    for role in ("anonymous", "researcher", "admin"):
        client = app.test_client()
        if role != "anonymous":
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
            client.post("/login", data={"username": f"bench-{role}", "password": PASSWORD,
                                        "csrf_token": token.group(1) if token else ""})
        for query in QUERIES:
            client.get(f"/items?{query}")
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(f"/items?{query}")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (query, response.status_code)
            shown = re.search(r"of ([\d,]+) items?", response.get_data(as_text=True))
            print(f"| {role} | `{query or '(none)'}` | {statistics.median(times):.0f} | {max(times):.0f} | "
                  f"{shown.group(1) if shown else 0} |")


if __name__ == "__main__":
    main()
