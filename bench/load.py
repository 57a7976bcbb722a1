"""Load benchmark: the page mix under concurrent clients, against `crossings serve` (gunicorn).

    PYTHONPATH=. .venv/bin/python bench/load.py --data /tmp/crossings-load          # 10k items, 1M segments
    PYTHONPATH=. .venv/bin/python bench/load.py --data /tmp/load-small --items 1000 --segments 100000 --duration 10
    PYTHONPATH=. .venv/bin/python bench/load.py --data /tmp/crossings-load --stack postgresql-whoosh
    PYTHONPATH=. .venv/bin/python bench/load.py --data /tmp/crossings-load --stack postgresql-postgresql

The catalogue is generated once into the data root given by --data (a marker file names the
parameters; a root made with other ones is made again): collections, tags, items (each with one
media file and its grid and page thumbnails as rows only), and transcripts whose text is
bench/search.py's seeded corpus, about 300 segments each, written with bulk inserts; then the
search index is built from the database (`search_sync.rebuild_index`). Items past the corpus have
no transcript; the last item is public with one long transcript (--long-segments).

Stacks: `sqlite-whoosh` serves that data root as it is. `postgresql-*` start a throwaway cluster
(tests/databases.py, or --database-url for an empty database of your own), copy the SQLite
catalogue into it (`db.copy_catalogue`), and serve the same data root with CROSSINGS_DATABASE_URL
set and CROSSINGS_SEARCH_ENGINE the part after the dash (an engine other than whoosh gets its
index rebuilt from the PostgreSQL catalogue first).

The load: --clients threads in this process, each with one keep-alive HTTP/1.1 connection,
anonymous (who sees the public items), requests back to back with a page type drawn at random
from the mix (PAGES); --warmup seconds unmeasured, then --duration seconds measured. Reported:
requests/s, p50 and p95 per page type, the server's CPU per request (utime + stime of gunicorn's
master and workers from /proc over the measured window, divided by the requests answered), the
load generator's own CPU share (os.times of this process) and the load average before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from sqlalchemy import insert, select  # noqa: E402

from proctree import tree_cpu  # noqa: E402  (bench/proctree.py)
from search import COLLECTIONS, PLACES, TAGS, Corpus, percentile  # noqa: E402  (bench/search.py)

STACKS = ("sqlite-whoosh", "postgresql-whoosh", "postgresql-postgresql")
#: The page types of the mix, drawn with equal weight.
PAGES = ("home", "browse", "browse_p50", "item", "item_long", "search", "search_facets",
         "api_items", "api_item", "api_search")
BATCH = 20_000  #: rows per bulk insert
MIME = {"video": "video/mp4", "audio": "audio/mpeg", "still": "image/jpeg"}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the catalogue ---------------------------------------------------------------------------------

def _params(args: argparse.Namespace) -> dict[str, int]:
    return {"items": args.items, "segments": args.segments, "long_segments": args.long_segments, "version": 1}


def generate(root: Path, items: int, segments: int, long_segments: int) -> None:
    """Write the catalogue and its index into `root` (made anew)."""
    from archive.core import Archive
    from archive.models import Collection, Derivative, Item, MediaFile, Segment, Tag, Transcript, item_tags
    from archive.services import search_sync

    if root.exists():
        shutil.rmtree(root)
    archive = Archive.open({"data": str(root)})
    archive.index_on_commit = False
    rng = random.Random(11)
    pending: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    started = time.perf_counter()

    def flush(session: Any, force: bool = False) -> None:
        if not force and max(map(len, pending.values()), default=0) < BATCH:
            return
        for model in (Item, item_tags, MediaFile, Derivative, Transcript, Segment):  # foreign keys' order
            if rows := pending[model]:
                session.execute(item_tags.insert() if model is item_tags else insert(model), rows)
                rows.clear()

    def add_item(item_id: int, title: str, kind: str, access: str, description: str, collection_id: int,
                 tags: list[int], year: int, languages: str) -> None:
        pending[Item].append({"id": item_id, "title": title, "description": description, "kind": kind,
                              "access": access, "date_shot": str(year), "date_lower": date(year, 1, 1),
                              "date_upper": date(year, 12, 31), "collection_id": collection_id,
                              "language": languages})
        pending[item_tags] += [{"item_id": item_id, "tag_id": t} for t in tags]
        digest = hashlib.sha256(str(item_id).encode()).hexdigest()
        ext = MIME[kind].split("/")[1]
        pending[MediaFile].append({"id": item_id, "item_id": item_id, "sha256": digest,
                                   "original_name": f"{item_id}.{ext}", "original_path": f"/ingest/{item_id}.{ext}",
                                   "size": 10_000_000, "mime_type": MIME[kind], "web_ready": True,
                                   "duration": None if kind == "still" else 600.0, "width": 1280, "height": 720})
        for n, (dkind, width) in enumerate((("grid", 320), ("page", 960))):
            pending[Derivative].append({"id": item_id * 2 + n, "media_file_id": item_id, "kind": dkind,
                                        "path": f"derivatives/{digest[:2]}/{digest}-{dkind}.webp",
                                        "mime_type": "image/webp", "width": width, "height": width * 9 // 16,
                                        "size": 20_000, "info": {}})

    def add_transcript(transcript_id: int, item_id: int, language: str, segs: list[Any], first: int) -> int:
        pending[Transcript].append({"id": transcript_id, "item_id": item_id, "language": language,
                                    "kind": "transcript", "source_name": f"{transcript_id}.vtt"})
        for position, s in enumerate(segs):
            pending[Segment].append({"id": first + position, "transcript_id": transcript_id, "position": position,
                                     "start_sec": s.start, "end_sec": s.end, "speaker": s.speaker, "text": s.text})
        return first + len(segs)

    with archive.Session() as session:
        session.execute(insert(Collection), [{"id": i + 1, "title": t, "synopsis": f"Footage about {PLACES[i]}."}
                                             for i, t in enumerate(COLLECTIONS)])
        session.execute(insert(Tag), [{"id": i + 1, "name": t} for i, t in enumerate(TAGS)])
        next_segment = 1
        last = 0
        for doc in Corpus(segments - long_segments).items():
            if doc.id >= items:
                raise SystemExit(f"--items {items} is too few for {segments:,} segments (300 to a transcript)")
            add_item(doc.id, doc.title, doc.kind if doc.kind != "still" else "video", doc.access, doc.description,
                     doc.collection_id, [TAGS.index(t) + 1 for t in doc.tags], doc.date_lower.year,
                     ",".join(t.language for t in doc.transcripts))
            for t in doc.transcripts:
                next_segment = add_transcript(t.id, doc.id, t.language, t.segments, next_segment)
            last = doc.id
            flush(session)
        for item_id in range(last + 1, items):
            roll = rng.random()
            add_item(item_id, f"{rng.choice(PLACES)} still {item_id}", "still",
                     "public" if roll < 0.7 else "restricted" if roll < 0.9 else "confidential",
                     "A photograph.", rng.randrange(len(COLLECTIONS)) + 1, rng.sample(range(1, len(TAGS) + 1), 3),
                     rng.randint(1995, 2024), "")
            flush(session)
        long_doc, clock = [], 0.0
        for d in Corpus(long_segments, seed=99).items():
            for s in (s for t in d.transcripts for s in t.segments):  # one continuous timeline
                long_doc.append(dataclasses.replace(s, start=clock, end=clock + s.end - s.start))
                clock += s.end - s.start + 0.2
        add_item(items, "The long interview", "video", "public", "An interview of several hours.", 1, [1], 2010, "en")
        add_transcript(items * 10, items, "en", long_doc, next_segment)
        flush(session, force=True)
        session.commit()
    say(f"catalogue written in {time.perf_counter() - started:.0f} s; building the search index...")
    started = time.perf_counter()
    search_sync.rebuild_index(archive)
    say(f"index built in {time.perf_counter() - started:.0f} s")
    archive.close()


def ensure_catalogue(root: Path, args: argparse.Namespace) -> None:
    marker = root / "load-bench.json"
    if marker.is_file() and json.loads(marker.read_text()) == _params(args):
        say(f"reusing the catalogue in {root}")
        from archive import db
        engine = db.make_engine(f"sqlite:///{root / 'crossings.sqlite3'}")
        db.upgrade(engine)  # made by older code: brought up to this code's schema, as a deployment would
        engine.dispose()
        return
    say(f"generating {args.items:,} items and {args.segments:,} segments in {root}...")
    generate(root, args.items, args.segments, args.long_segments)
    marker.write_text(json.dumps(_params(args)))


def postgresql_catalogue(root: Path, url: str, engine: str) -> None:
    """Copy the SQLite catalogue of `root` into the empty database at `url`; index it if the engine is not whoosh."""
    from archive import db
    source, target = db.make_engine(f"sqlite:///{root / 'crossings.sqlite3'}"), db.make_engine(url)
    started = time.perf_counter()
    db.copy_catalogue(source, target)
    source.dispose()
    target.dispose()
    say(f"copied into PostgreSQL in {time.perf_counter() - started:.0f} s")
    if engine != "whoosh":
        from archive.core import Archive
        started = time.perf_counter()
        # Opening builds the missing index (search_sync.recover), as a node's first start would.
        Archive.open({"data": str(root), "database_url": url, "search_engine": engine}).close()
        say(f"{engine} index built in {time.perf_counter() - started:.0f} s")


# -- the server ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_between(before: dict[int, float], after: dict[int, float]) -> tuple[float, int]:
    """CPU seconds the tree spent between two readings, and how many of its processes ended meanwhile
    (whose CPU since `before` is lost: /proc no longer has it)."""
    spent = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
    return spent, len(before.keys() - after.keys())


def postmaster_pid(postgres: Any) -> int | None:
    """The throwaway cluster's postmaster (its first line of postmaster.pid), whose tree is the database's CPU."""
    if postgres is None or postgres.folder is None:
        return None
    return int((postgres.folder / "data" / "postmaster.pid").read_text().split()[0])


def serve(root: Path, env: dict[str, str], port: int, workers: int | None, threads: int | None,
          log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from archive.cli import main; main()", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers)] if workers else []
    cmd += ["--threads", str(threads)] if threads else []
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer in 180 s; see {log}")


# -- the load --------------------------------------------------------------------------------------

class Plan:
    """What each page type asks for, drawn from what an anonymous visitor may see."""

    def __init__(self, public_ids: list[int], long_id: int, queries: dict[str, list[str]]) -> None:
        self.public_ids, self.long_id = public_ids, long_id
        self.words = queries["common"] + queries["rare"] + queries["and"] + [f'"{q}"' for q in queries["phrase"]]
        self.common = queries["common"]

    def path(self, page: str, rng: random.Random) -> str:
        if page == "home":
            return "/"
        if page == "browse":
            return "/items"
        if page == "browse_p50":
            return "/items?page=50"
        if page == "item":
            return f"/items/{rng.choice(self.public_ids)}"
        if page == "item_long":
            return f"/items/{self.long_id}"
        if page == "search":
            return "/search?" + urlencode({"q": rng.choice(self.words)})
        if page == "search_facets":
            return "/search?" + urlencode({"q": rng.choice(self.common), "collection": rng.choice(COLLECTIONS),
                                           "kind": "video"})
        if page == "api_items":
            return f"/api/items?page={rng.randint(1, 50)}"
        if page == "api_item":
            return f"/api/items/{rng.choice(self.public_ids)}"
        if page == "api_search":
            return "/api/search?" + urlencode({"q": rng.choice(self.words)})
        raise ValueError(page)


def client(n: int, port: int, plan: Plan, measure_from: float, stop_at: float,
           out: list[tuple[str, float, int]]) -> None:
    rng = random.Random(n)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        started = time.perf_counter()
        if started >= stop_at:
            break
        page = rng.choice(PAGES)
        try:
            conn.request("GET", plan.path(page, rng))
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                conn.close()
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
        if started >= measure_from:
            out.append((page, time.perf_counter() - started, status))
    conn.close()


def run_load(port: int, server_pid: int, plan: Plan, clients: int, warmup: float, duration: float,
             database_pid: int | None = None) -> dict[str, Any]:
    results: list[tuple[str, float, int]] = []
    begin = time.perf_counter()
    measure_from, stop_at = begin + warmup, begin + warmup + duration
    threads = [threading.Thread(target=client, args=(n, port, plan, measure_from, stop_at, results), daemon=True)
               for n in range(clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu0, own0, load0 = tree_cpu(server_pid), os.times(), os.getloadavg()
    db0 = tree_cpu(database_pid) if database_pid else {}
    time.sleep(max(0.0, stop_at - time.perf_counter()))
    cpu1, own1, load1 = tree_cpu(server_pid), os.times(), os.getloadavg()
    db1 = tree_cpu(database_pid) if database_pid else {}
    for t in threads:
        t.join()
    server_cpu, ended = cpu_between(cpu0, cpu1)
    by_page: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for page, seconds, status in results:
        by_page[page].append(seconds * 1000)
        if status != 200:
            errors[page] += 1
    total = len(results)
    own = (own1.user - own0.user) + (own1.system - own0.system)
    return {
        "requests": total, "seconds": duration, "requests_per_s": total / duration,
        "errors": sum(errors.values()),
        "server_cpu_s": server_cpu, "server_cpu_ms_per_request": server_cpu * 1000 / max(total, 1),
        "server_cores_busy": server_cpu / duration, "server_processes_ended": ended,
        # PostgreSQL's own processes (the throwaway cluster's postmaster and its backends), apart.
        "database_cpu_ms_per_request": cpu_between(db0, db1)[0] * 1000 / max(total, 1) if database_pid else None,
        "generator_cpu_s": own, "generator_cores_busy": own / duration,
        "load_before": load0, "load_after": load1,
        "pages": {page: {"count": len(v), "errors": errors[page], "p50": percentile(v, 0.5),
                         "p95": percentile(v, 0.95), "max": max(v)}
                  for page in PAGES if (v := by_page[page])},
    }


def report(stack: str, args: argparse.Namespace, r: dict[str, Any], concurrency: str) -> str:
    lines = [f"stack {stack}: {args.items:,} items, {args.segments:,} segments; {args.clients} clients, "
             f"{args.warmup:.0f} s warm-up, {args.duration:.0f} s measured; server {concurrency}",
             "", "| page | requests | errors | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|---|"]
    for page, p in r["pages"].items():
        lines.append(f"| {page} | {p['count']} | {p['errors']} | {p['p50']:.0f} | {p['p95']:.0f} | {p['max']:.0f} |")
    lines += ["", f"total: {r['requests']} requests, {r['requests_per_s']:.1f} req/s, {r['errors']} errors; "
              f"server CPU {r['server_cpu_ms_per_request']:.1f} ms a request ({r['server_cores_busy']:.2f} cores busy"
              f"{'; %d server processes ended, their CPU not counted' % r['server_processes_ended'] if r['server_processes_ended'] else ''}); "
              + (f"PostgreSQL's processes {r['database_cpu_ms_per_request']:.1f} ms a request; "
                 if r['database_cpu_ms_per_request'] is not None else "")
              + f"load generator {r['generator_cores_busy']:.2f} cores ({r['generator_cpu_s']:.1f} CPU s); "
              f"load average {r['load_before'][0]:.2f} before, {r['load_after'][0]:.2f} after "
              f"(1 min; 5 min {r['load_before'][1]:.2f} / {r['load_after'][1]:.2f})"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="data root of the generated catalogue (kept)")
    parser.add_argument("--stack", choices=STACKS, default="sqlite-whoosh")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--long-segments", type=int, default=3_000, help="segments of the long transcript")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: the web_workers setting)")
    parser.add_argument("--threads", type=int, help="threads per process (default: the web_threads setting)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead of a throwaway cluster")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON too")
    args = parser.parse_args()

    root = args.data.resolve()
    ensure_catalogue(root, args)
    database, engine = args.stack.split("-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}
    env.update({"CROSSINGS_DATA": str(root), "CROSSINGS_SEARCH_ENGINE": engine,
                "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"})  # a crash prints its traceback to the log
    postgres = None
    try:
        if database == "postgresql":
            url = args.database_url
            if not url:
                from databases import PostgresServer
                postgres = PostgresServer()
                url = postgres.new_database(migrated=False)
            postgresql_catalogue(root, url, engine)
            env["CROSSINGS_DATABASE_URL"] = url

        from archive.core import Archive
        from archive.models import AccessLevel, Item
        from archive.server import web_concurrency
        archive = Archive.open({"data": str(root), "database_url": env.get("CROSSINGS_DATABASE_URL", "")},
                               migrate=False)
        with archive.Session() as session:
            public = list(session.scalars(select(Item.id).where(Item.access == AccessLevel.public)))
        workers, threads = web_concurrency(archive.settings, args.workers, args.threads)
        archive.close()
        plan = Plan(public, args.items, Corpus(args.segments - args.long_segments).queries())

        port = free_port()
        log = root / f"serve-{args.stack}.log"
        say(f"serving on port {port} ({workers} processes x {threads} threads), log in {log}...")
        server = serve(root, env, port, args.workers, args.threads, log)
        try:
            say(f"load: {args.clients} clients, {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured...")
            result = run_load(port, server.pid, plan, args.clients, args.warmup, args.duration,
                              postmaster_pid(postgres))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    finally:
        if postgres is not None:
            postgres.stop()
    print(report(args.stack, args, result, f"{workers} processes x {threads} threads"))
    if args.json:
        args.json.write_text(json.dumps({"stack": args.stack, "params": _params(args), "workers": workers,
                                         "threads": threads, **result}, indent=2))


if __name__ == "__main__":
    main()
