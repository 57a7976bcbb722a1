"""Search benchmark: the whoosh and PostgreSQL engines of archive.search against SQLite FTS5 on one synthetic corpus.

    .venv/bin/python bench/search.py                  # 100k and 1M segments (the 1M run takes a while)
    .venv/bin/python bench/search.py --quick          # smoke run: 20k segments
    .venv/bin/python bench/search.py --sizes 100000   # one size
    .venv/bin/python bench/search.py --json out.json  # the figures as JSON too
    .venv/bin/python bench/search.py --engines postgresql fts   # some of the engines only
    .venv/bin/python bench/search.py --pg-url postgresql+psycopg://u@host/postgres  # else a throwaway cluster

The PostgreSQL engine gets a database of its own, migrated, on the server of --pg-url (which must
let the user create databases), or on a throwaway PostgreSQL cluster started as the tests start
theirs (tests/databases.py); its build's peak memory is the builder's only, not the server's.

For each size, in one run:
* build: each engine builds its index in a subprocess of its own, so that its peak memory (the
  summed RSS of the process and its children, sampled every 50 ms) and time are its own;
  segments per second, index size on disk;
* queries: a fixed mix (common word, rare word, two-word AND, phrase, prefix of 3-4 letters), each
  also with a facet filter (a collection), 20 distinct queries per type, each run twice, top 20
  items with snippets and facet counts; latency p50/p95 per type. FTS5 answers the same queries
  with bm25 and snippet(), top 20 (the issue's reference), and also with its facet counts
  (GROUP BY over the matches, as our results include), reported apart;
* updates: one 300-segment transcript added (an item's documents rewritten) 40 times while a
  thread keeps searching; latency p50/p95/max of the adds and how many searches were answered.

The corpus is seeded: a Zipf-like vocabulary of made-up words with English stop words among the
most frequent and place names of the demo route, about 300 segments per transcript, 10% of
items with a second transcript in Korean words, and fixed phrases ("crossed the river",
"crossed a river") in some segments. Progress goes to stderr, figures to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import db  # noqa: E402
from archive.access import ANONYMOUS, SYSTEM  # noqa: E402
from archive.search import (CollectionDoc, ItemDoc, SearchIndex, WhooshIndex, SearchRequest, SegmentDoc,  # noqa: E402
                            TranscriptDoc)
from archive.search.pg_index import PostgresIndex  # noqa: E402
from proctree import tree_rss  # noqa: E402  (bench/proctree.py)

ENGINES = ("whoosh", "postgresql", "fts")

SEED = 20260412
SEGMENTS_PER_TRANSCRIPT = 300
PLACES = ["Hyesan", "Yalu", "Changbai", "Shenyang", "Dandong", "Yanji", "Kunming", "Mekong", "Vientiane",
          "Chiang Saen", "Chiang Rai", "Bangkok", "Seoul", "Incheon", "Boten", "Luang Namtha", "Tumen", "Musan"]
STOP = ["the", "a", "and", "of", "to", "in", "we", "was", "it", "that", "on", "at", "for", "with", "they",
        "there", "by", "from", "our", "were"]
SPEAKERS = ["Kim Soon-ja", "Lee Min-ho", "Park Ji-woo", "Choi", "Interviewer", "Narrator", "Guide", "Driver"]
HANGUL = ["압록강", "건넜어요", "밤에", "우리는", "국경", "서울", "기차", "엄마", "배를", "타고"]
COLLECTIONS = [f"Collection {name}" for name in ("Yalu", "Mekong", "Border", "Arrival", "Station", "Market",
                                                 "Family", "School", "River", "Road", "Night", "Letters")]
TAGS = [f"tag{n}" for n in range(40)]
SYLLABLES = ["ka", "ri", "mo", "sen", "ta", "lu", "no", "pa", "vi", "dor", "el", "an", "ko", "rim", "sa", "tu",
             "bel", "gi", "ha", "jo", "mar", "ne", "os", "pre", "qu", "ras", "sil", "tor", "um", "ve", "wen", "yo"]
VOCABULARY = 30_000


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    words: list[str] = []
    seen = set(STOP)
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if word not in seen and len(word) > 2:
            seen.add(word)
            words.append(word)
    # Stop words take the top ranks (as in real speech), place names sit among the mid ranks.
    ranked = STOP + words[:40] + [p for p in PLACES for _ in range(1)] + words[40:]
    weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(ranked))]
    total = 0.0
    cumulative = []
    for w in weights:
        total += w
        cumulative.append(total)
    return ranked, cumulative


@dataclass
class Corpus:
    size: int
    seed: int = SEED

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.words, self.cumulative = _vocabulary(rng)

    def items(self) -> Iterator[ItemDoc]:
        """The same items on every call (seeded), about SEGMENTS_PER_TRANSCRIPT segments each."""
        rng = random.Random(self.seed + 1)
        made = 0
        item_id = 0
        seg_id = 0
        while made < self.size:
            item_id += 1
            transcripts = []
            for t in range(2 if rng.random() < 0.1 else 1):
                n = min(SEGMENTS_PER_TRANSCRIPT, self.size - made)
                if n <= 0:
                    break
                korean = t == 1
                segments = []
                clock = 0.0
                speakers = rng.sample(SPEAKERS, 3)
                for _ in range(n):
                    seg_id += 1
                    length = rng.randint(6, 18)
                    if korean:
                        text = " ".join(rng.choice(HANGUL) for _ in range(length // 2))
                    else:
                        words = rng.choices(self.words, cum_weights=self.cumulative, k=length)
                        roll = rng.random()
                        if roll < 0.003:
                            words[2:2] = ["crossed", "the", "river"]
                        elif roll < 0.006:
                            words[2:2] = ["crossed", "a", "river"]
                        text = " ".join(words).capitalize() + "."
                    duration = 1.5 + length * 0.35
                    segments.append(SegmentDoc(seg_id, round(clock, 3), round(clock + duration, 3), text,
                                               rng.choice(speakers)))
                    clock += duration + 0.2
                made += n
                transcripts.append(TranscriptDoc(item_id * 10 + t, "ko" if korean else "en", "transcript", segments))
            collection = rng.randrange(len(COLLECTIONS))
            year = rng.randint(1995, 2024)
            roll = rng.random()
            access = "public" if roll < 0.7 else "restricted" if roll < 0.9 else "confidential"
            yield ItemDoc(item_id, f"{rng.choice(PLACES)} {rng.choice(self.words[60:2000])} {item_id}",
                          rng.choice(("video", "video", "audio", "still")), access, "v1",
                          description=" ".join(rng.choices(self.words, cum_weights=self.cumulative, k=30)),
                          collection_id=collection + 1, collection=COLLECTIONS[collection],
                          tags=tuple(rng.sample(TAGS, 3)), date_lower=date(year, 1, 1), date_upper=date(year, 12, 31),
                          transcripts=transcripts)

    def collections(self) -> list[CollectionDoc]:
        return [CollectionDoc(i + 1, title, "v1", synopsis=f"Footage about {PLACES[i % len(PLACES)]}.")
                for i, title in enumerate(COLLECTIONS)]

    def queries(self) -> dict[str, list[str]]:
        """20 queries of each type, the same for both engines."""
        rng = random.Random(self.seed + 2)
        content = [w for w in self.words if w not in STOP]
        common = content[:40]
        middle = content[200:3000]
        rare = content[8000:20000]
        pairs = []
        sample = Corpus(min(self.size, 20_000), self.seed).items()
        for item in sample:
            for seg in item.transcripts[0].segments[::37]:
                ws = seg.text.rstrip(".").lower().split()
                i = rng.randrange(len(ws) - 1)
                if ws[i] not in STOP or ws[i + 1] not in STOP:
                    pairs.append(f"{ws[i]} {ws[i + 1]}")
            if len(pairs) > 200:
                break
        phrases = ["crossed the river", "crossed a river"] + rng.sample(pairs, 18)
        return {
            "common": rng.sample(common, 20),
            "rare": rng.sample(rare, 20),
            "and": [f"{rng.choice(common)} {rng.choice(middle)}" for _ in range(20)],
            "phrase": phrases,
            "prefix": [w[:rng.choice((3, 4))] for w in rng.sample(middle, 20)],
        }


# -- builds, each in a subprocess --------------------------------------------------------------------

def build_whoosh(size: int, path: Path, procs: int) -> dict[str, Any]:
    corpus = Corpus(size)
    index = WhooshIndex(path)
    started = time.perf_counter()
    items = index.rebuild(corpus.items(), corpus.collections(), procs=procs)
    seconds = time.perf_counter() - started
    index.close()
    return {"seconds": seconds, "items": items}


def build_postgresql(size: int, path: Path) -> dict[str, Any]:
    """`path` holds the database URL."""
    corpus = Corpus(size)
    engine = db.make_engine(path.read_text().strip())
    index = PostgresIndex(engine)
    started = time.perf_counter()
    items = index.rebuild(corpus.items(), corpus.collections())
    seconds = time.perf_counter() - started
    size_bytes = index.stats()["bytes"]
    engine.dispose()
    return {"seconds": seconds, "items": items, "bytes": size_bytes}


def _fts_text(text: str) -> str:
    return text


def build_fts(size: int, path: Path) -> dict[str, Any]:
    corpus = Corpus(size)
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.executescript("""
        PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
        CREATE TABLE items(id INTEGER PRIMARY KEY, title TEXT, kind TEXT, access TEXT, collection TEXT, year INT);
        CREATE TABLE segs(id INTEGER PRIMARY KEY, item_id INT, start REAL, end REAL, speaker TEXT, language TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(text, tokenize='porter unicode61');
    """)
    items = 0
    with db:
        for item in corpus.items():
            items += 1
            db.execute("INSERT INTO items VALUES (?,?,?,?,?,?)", (item.id, item.title, item.kind, item.access,
                                                                  item.collection, item.date_lower.year))
            rows = [(s.id, item.id, s.start, s.end, s.speaker, t.language) for t in item.transcripts
                    for s in t.segments]
            db.executemany("INSERT INTO segs VALUES (?,?,?,?,?,?)", rows)
            db.executemany("INSERT INTO fts(rowid, text) VALUES (?,?)",
                           [(s.id, s.text) for t in item.transcripts for s in t.segments])
        db.execute("CREATE INDEX segs_item ON segs(item_id)")
    db.execute("INSERT INTO fts(fts) VALUES('optimize')")
    db.commit()
    db.close()
    return {"seconds": time.perf_counter() - started, "items": items}


def run_build(kind: str, size: int, path: Path, procs: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--build", kind, "--sizes", str(size), "--path", str(path),
           "--procs", str(procs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} build failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 2**20
    result["segments_per_s"] = size / result["seconds"]
    # CPU seconds of the build and its processes; the machine may be shared, so wall time alone misleads.
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["segments_per_cpu_s"] = size / max(result["cpu_seconds"], 1e-9)
    result["load_average"] = (load_before, os.getloadavg()[0])
    if "bytes" in result:  # in the database
        result["size_mb"] = result["bytes"] / 2**20
    else:
        target = path.resolve()
        files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]
        result["size_mb"] = sum(p.stat().st_size for p in files) / 2**20
    return result


# -- queries -----------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def whoosh_query(q: str, kind: str) -> str:
    """The query as typed in the search box (phrases quoted, prefixes starred)."""
    if kind == "phrase":
        return f'"{q}"'
    if kind == "prefix":
        return f"{q}*"
    return q


def time_engine(index: SearchIndex, queries: dict[str, list[str]], repeat: int = 2) -> dict[str, Any]:
    out: dict[str, Any] = {}
    index.search(SearchRequest(q="warm up"), SYSTEM)
    for name, qs in queries.items():
        for filtered in (False, True):
            times, totals = [], []
            for _ in range(repeat):
                for q in qs:
                    filters = {"collection": [COLLECTIONS[1]]} if filtered else {}
                    started = time.perf_counter()
                    response = index.search(SearchRequest(q=whoosh_query(q, name), per_page=20, filters=filters),
                                            ANONYMOUS)
                    times.append((time.perf_counter() - started) * 1000)
                    totals.append(response.total_items)
            out[name + (" + facet" if filtered else "")] = {
                "p50": percentile(times, 0.5), "p95": percentile(times, 0.95),
                "mean_items": statistics.mean(totals)}
    return out


def _fts_query(q: str, kind: str) -> str:
    if kind == "phrase":
        return f'"{q}"'
    if kind == "prefix":
        return f"{q}*"
    return " AND ".join(q.split())


def time_fts(path: Path, queries: dict[str, list[str]], *, facets: bool, repeat: int = 2) -> dict[str, Any]:
    db = sqlite3.connect(path)
    out: dict[str, Any] = {}
    top = ("SELECT f.rowid, s.item_id, s.start, snippet(fts, 0, '<mark>', '</mark>', '…', 12) FROM fts f "
           "JOIN segs s ON s.id = f.rowid JOIN items i ON i.id = s.item_id WHERE fts MATCH ? AND i.access = 'public' "
           "{extra} ORDER BY rank LIMIT 20")
    count = ("SELECT {col}, count(DISTINCT i.id) FROM fts f JOIN segs s ON s.id = f.rowid JOIN items i "
             "ON i.id = s.item_id WHERE fts MATCH ? AND i.access = 'public' {extra} GROUP BY {col}")
    for name, qs in queries.items():
        for filtered in (False, True):
            extra = "AND i.collection = ?" if filtered else ""
            args_extra = (COLLECTIONS[1],) if filtered else ()
            times = []
            for _ in range(repeat):
                for q in qs:
                    match = _fts_query(q, name)
                    started = time.perf_counter()
                    db.execute(top.format(extra=extra), (match, *args_extra)).fetchall()
                    if facets:
                        for col in ("i.kind", "i.collection", "i.year", "s.speaker", "s.language"):
                            db.execute(count.format(col=col, extra=extra), (match, *args_extra)).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
            out[name + (" + facet" if filtered else "")] = {"p50": percentile(times, 0.5),
                                                            "p95": percentile(times, 0.95)}
    db.close()
    return out


def time_updates(index: SearchIndex, corpus: Corpus, queries: dict[str, list[str]], adds: int = 40,
                 pause: float = 0.0, first_id: int = 10**7) -> dict[str, Any]:
    """Add 300-segment transcripts (rewriting an item's documents) while a thread keeps searching,
    back to back (`pause` 0: one core busy searching all the time) or every `pause` seconds."""
    rng = random.Random(7)
    template = next(corpus.items())
    stop = threading.Event()
    search_times: list[float] = []
    mix = [whoosh_query(q, kind) for kind, qs in queries.items() for q in qs]

    def searcher() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            index.search(SearchRequest(q=rng.choice(mix)), ANONYMOUS)
            search_times.append((time.perf_counter() - started) * 1000)
            if pause:
                stop.wait(pause)

    thread = threading.Thread(target=searcher, daemon=True)
    thread.start()
    time.sleep(0.5)
    add_times = []
    for n in range(adds):
        segs = [SegmentDoc(10**9 + n * 1000 + i, s.start, s.end, s.text, s.speaker)
                for i, s in enumerate(template.transcripts[0].segments)]
        doc = ItemDoc(first_id + n, f"Added {n}", "video", "public", "v1", collection_id=1, collection=COLLECTIONS[0],
                      transcripts=[TranscriptDoc(10**8 + n, "en", "transcript", segs)])
        started = time.perf_counter()
        index.update([doc])
        add_times.append((time.perf_counter() - started) * 1000)
    stop.set()
    thread.join()
    return {"adds": adds, "p50": percentile(add_times, 0.5), "p95": percentile(add_times, 0.95),
            "max": max(add_times), "searches_answered": len(search_times),
            "search_p50": percentile(search_times, 0.5), "search_p95": percentile(search_times, 0.95)}


# -- the run -------------------------------------------------------------------------------------------

def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def bench_size(size: int, work: Path, procs: int, engines: list[str], pg_url: str | None) -> dict[str, Any]:
    def say(text: str) -> None:
        print(f"[{size:,}] {text}", file=sys.stderr, flush=True)

    corpus = Corpus(size)
    queries = corpus.queries()
    out: dict[str, Any] = {"size": size, "queries": queries, "builds": {}, "engines": {}, "updates": {},
                           "updates_paced": {}}
    if "fts" in engines:
        fts_path = work / f"fts-{size}.sqlite3"
        say("building the FTS5 index...")
        out["builds"]["fts"] = run_build("fts", size, fts_path, 1)
        say("timing FTS5 queries...")
        out["fts"] = time_fts(fts_path, queries, facets=False)
        out["fts_facets"] = time_fts(fts_path, queries, facets=True)
    if "whoosh" in engines:
        whoosh_path = work / f"whoosh-{size}" / "index"
        say(f"building the whoosh index ({procs} process(es))...")
        out["builds"]["whoosh"] = run_build("whoosh", size, whoosh_path, procs)
        pristine = whoosh_path.with_name("pristine")
        shutil.copytree(whoosh_path.resolve(), pristine)  # each update run starts from the built index
        index = WhooshIndex(whoosh_path)
        say("timing whoosh queries...")
        out["engines"]["whoosh"] = time_engine(index, queries)
        say("timing whoosh transcript adds under search load...")
        out["updates"]["whoosh"] = time_updates(index, corpus, queries)
        index.close()
        shutil.rmtree(whoosh_path.resolve())
        shutil.copytree(pristine, whoosh_path.resolve())
        index = WhooshIndex(whoosh_path)
        out["updates_paced"]["whoosh"] = time_updates(index, corpus, queries, pause=0.1)
        index.close()
    if "postgresql" in engines:
        url_file = work / f"postgresql-{size}.url"
        url_file.write_text(pg_url or "")
        say("building the PostgreSQL engine's index...")
        out["builds"]["postgresql"] = run_build("postgresql", size, url_file, 1)
        engine = db.make_engine(url_file.read_text())
        index = PostgresIndex(engine)
        say("timing PostgreSQL engine queries...")
        out["engines"]["postgresql"] = time_engine(index, queries)
        say("timing PostgreSQL transcript adds under search load...")
        out["updates"]["postgresql"] = time_updates(index, corpus, queries)
        index.update(delete_items=range(10**7, 10**7 + 40))
        out["updates_paced"]["postgresql"] = time_updates(index, corpus, queries, pause=0.1)
        engine.dispose()
    for name, build in out["builds"].items():
        say(f"  {name} build: {build['segments_per_s']:,.0f} segments/s, {build['size_mb']:.0f} MB, "
            f"peak {build['peak_rss_mb']:.0f} MB")
    return out


LABELS = {"whoosh": "whoosh (archive.search)", "postgresql": "PostgreSQL engine (archive.search)", "fts": "FTS5"}


def report(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        lines += [f"## {r['size']:,} segments", "",
                  "| build | segments/s (wall) | seconds | CPU seconds (segments per CPU-second) | index size | "
                  "peak memory | load average before / after |", "|---|---|---|---|---|---|---|"]
        for name, b in r["builds"].items():
            lines.append(f"| {LABELS[name]} | {b['segments_per_s']:,.0f} | {b['seconds']:.0f} | "
                         f"{b['cpu_seconds']:.0f} ({b['segments_per_cpu_s']:,.0f}) | {b['size_mb']:.0f} MB | "
                         f"{b['peak_rss_mb']:.0f} MB | {b['load_average'][0]:.1f} / {b['load_average'][1]:.1f} |")
        engines = list(r["engines"])
        head = "".join(f" {LABELS[e]} p50 / p95 ms |" for e in engines)
        fts = "fts" in r
        head += " FTS5 p50 / p95 ms | FTS5 + facet counts p50 / p95 ms |" if fts else ""
        head += "".join(f" {e} items found (mean) |" for e in engines)
        columns = len(engines) * 2 + (2 if fts else 0)
        lines += ["", "| query (top 20, snippets) |" + head, "|---" * (columns + 1) + "|"]
        names = list(r["engines"][engines[0]]) if engines else list(r.get("fts", {}))
        for name in names:
            row = f"| {name} |" + "".join(f" {r['engines'][e][name]['p50']:.1f} / {r['engines'][e][name]['p95']:.1f} |"
                                          for e in engines)
            if fts:
                f, ff = r["fts"][name], r["fts_facets"][name]
                row += f" {f['p50']:.1f} / {f['p95']:.1f} | {ff['p50']:.1f} / {ff['p95']:.1f} |"
            row += "".join(f" {r['engines'][e][name]['mean_items']:.0f} |" for e in engines)
            lines.append(row)
        if r["updates"]:
            lines += ["", "| adding a 300-segment transcript | p50 ms | p95 ms | max ms | "
                          "searches answered meanwhile | their p50 / p95 ms |", "|---|---|---|---|---|---|"]
            for e in r["updates"]:
                for label, u in (("a thread searching back to back", r["updates"][e]),
                                 ("a thread searching 10 times a second", r["updates_paced"][e])):
                    lines.append(f"| {LABELS[e]}: {u['adds']} adds, {label} | {u['p50']:.0f} | {u['p95']:.0f} | "
                                 f"{u['max']:.0f} | {u['searches_answered']} | {u['search_p50']:.0f} / "
                                 f"{u['search_p95']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k segments only")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--procs", type=int, default=2, help="processes for the whoosh build")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--work", type=Path, help="where to build (default: a temporary folder, removed)")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--pg-url", help="a PostgreSQL server (URL) on which the bench may create a database")
    parser.add_argument("--build", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        if args.build == "whoosh":
            result = build_whoosh(args.sizes[0], args.path, args.procs)
        elif args.build == "postgresql":
            result = build_postgresql(args.sizes[0], args.path)
        else:
            result = build_fts(args.sizes[0], args.path)
        print(json.dumps(result))
        return
    sizes = [20_000] if args.quick else args.sizes
    work = args.work or Path(tempfile.mkdtemp(prefix="crossings-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        pg_urls: dict[int, str] = {}
        if "postgresql" in args.engines:
            sys.path.insert(0, str(ROOT / "tests"))
            from databases import URL_VARIABLE, PostgresServer  # the suite's throwaway cluster, or --pg-url's
            if args.pg_url:
                os.environ[URL_VARIABLE] = args.pg_url
            server = PostgresServer()
            pg_urls = {size: server.new_database(migrated=True) for size in sizes}
        results = [bench_size(size, work, args.procs, args.engines, pg_urls.get(size)) for size in sizes]
    finally:
        if server is not None:
            for url in pg_urls.values():
                server.drop_database(url)
            server.stop()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {machine()}; load average at the end {os.getloadavg()[0]:.1f} (the machine is shared)\n")
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
