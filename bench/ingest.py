"""Ingest benchmark: files per second, and what ingest costs per video against the bare ffmpeg work.

    .venv/bin/python bench/ingest.py                 # the issue's corpus: 40 x 60 s clips, 400 stills
    .venv/bin/python bench/ingest.py --quick         # smoke run: 4 x 10 s clips, 40 stills
    .venv/bin/python bench/ingest.py --json          # the figures as JSON too

The corpus is generated once under bench/.corpus/ (one folder per set of generation parameters;
files already there are reused) and its generation time is reported apart from the figures.
Every timed ingest goes into a fresh data root with the archive's own settings (2 workers). The
"bare" work is what the same frames cost the straightforward way: one ffprobe and one fast-seek
ffmpeg per frame, two videos at a time. Progress goes to stderr, figures to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, ImageDraw
from sqlalchemy import select

from archive import mediatools, worker
from archive.core import Archive
from archive.models import Job, JobState
from archive.mediatools.frames import POSTER_FRACTIONS
from archive.services.ingest import IngestOptions, Prepared, display_path, ingest_paths, make_derivatives, record
from archive.settings import load_settings
from archive.store import sha256_file

CORPUS = Path(__file__).resolve().parent / ".corpus"
#: Bump when the generated content changes, so stale corpora are not reused.
GENERATION = 1
CLIP_SIZE = (1280, 720)
STILL_SIZE = (4000, 3000)
GEN_WORKERS = 2
#: The machine is shared: before each timed phase wait up to MAX_WAIT s for it to be under QUIET
#: busy, and measure a phase again (up to TRIES times) when other processes took over DISTURBED of it.
MAX_WAIT = 300.0
QUIET = 0.15
QUIET_WINDOW = 5.0  #: seconds over which QUIET is judged: other sessions' test runs come in bursts
DISTURBED = 0.10
TRIES = 5
TOOL_TIMEOUT = 900.0  # seconds; generous: generation and proxy encodes of minute-long clips

#: The issue's goals.
GOAL_VIDEO_RATIO = 1.3
GOAL_STILLS_PER_S = 50.0
GOAL_PROXY_RATIO = 1.1

# Varied content: a moving test card, a zooming fractal (slow to render, so drawn small and
# scaled up), colour bars with film grain. Hue and tone change per clip so no two are alike.
CLIP_SOURCES = (
    "testsrc2=size=1280x720:rate=25",
    "mandelbrot=size=640x360:rate=25,scale=1280:720",
    "smptebars=size=1280x720:rate=25,noise=alls=6:allf=t",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_tool(args: Sequence[str], *, timeout: float = TOOL_TIMEOUT) -> bytes:
    """Run ffmpeg/ffprobe; fail with its stderr."""
    proc = subprocess.run(list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-1500:]}")
    return proc.stdout


# -- the corpus -------------------------------------------------------------------------------

def clip_cmd(index: int, seconds: float, out: Path) -> list[str]:
    """ffmpeg command for corpus clip `index`: H.264/AAC MP4, 1280x720, 25 fps, a keyframe a second."""
    video = f"{CLIP_SOURCES[index % len(CLIP_SOURCES)]},hue=h={index * 37 % 360},format=yuv420p"
    return ["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", f"sine=frequency={220 + 10 * index}:sample_rate=48000",
            "-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25",
            "-c:a", "aac", "-b:a", "128k", "-map_metadata", "-1", "-fflags", "+bitexact",
            "-flags", "+bitexact", "-f", "mp4", str(out)]


def hevc_cmd(src: Path, out: Path) -> list[str]:
    """ffmpeg command turning a corpus clip into HEVC in Matroska: footage a browser cannot play."""
    return ["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y", "-i", str(src),
            "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=25",
            "-c:a", "copy", "-f", "matroska", str(out)]


def _make_file(out: Path, write: Callable[[Path], None]) -> None:
    """Write `out` through a temporary name, so an interrupted generation leaves nothing it would reuse."""
    part = out.with_name(f".{out.name}.part")
    try:
        write(part)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)


def _ensure(outs: list[Path], make: Callable[[int, Path], None], pool: Any) -> int:
    """Make the missing files of `outs` in `pool`; return how many were made."""
    missing = [(i, p) for i, p in enumerate(outs) if not p.is_file()]
    for future in [pool.submit(make, i, p) for i, p in missing]:
        future.result()
    return len(missing)


def _make_clip(seconds: float) -> Callable[[int, Path], None]:
    return lambda i, out: _make_file(out, lambda part: run_tool(clip_cmd(i, seconds, part)))


_BASE: Image.Image | None = None


def _still_base() -> Image.Image:
    """Photo-like ground shared by every still (built once per process): soft noise over gradients."""
    global _BASE
    if _BASE is None:
        w, h = STILL_SIZE
        noise = Image.effect_noise((w // 4, h // 4), 40).resize((w, h), Image.Resampling.BICUBIC)
        grad = Image.linear_gradient("L").resize((w, h))
        _BASE = Image.merge("RGB", (noise, grad, Image.blend(noise, grad.rotate(180), 0.5)))
    return _BASE


def make_still(index: int, out: Path) -> None:
    """A 4000x3000 EXIF JPEG (date, camera, GPS) with its own patch and number: no two are alike."""
    img = _still_base().copy()
    draw = ImageDraw.Draw(img)
    x, y = 200 + (index * 131) % 2800, 200 + (index * 97) % 1900
    draw.rectangle((x, y, x + 900, y + 700), fill=((index * 53) % 256, (index * 29) % 256, 160))
    draw.text((x + 60, y + 250), f"still {index:04d}", fill=(255, 255, 255), font_size=160)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "BenchCam", f"Model {index % 7}"  # Make, Model
    exif.get_ifd(0x8769)[0x9003] = f"2021:{1 + index % 12:02d}:{1 + index % 28:02d} 12:{index % 60:02d}:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 31.0, float(index % 60)), 3: "E", 4: (13.0, 24.0, 36.0)})
    _make_file(out, lambda part: img.save(part, "JPEG", quality=90, exif=exif.tobytes()))


@dataclass
class Corpus:
    clips: list[Path]
    stills: list[Path]
    hevc: list[Path]


def build_corpus(clips: int, stills: int, seconds: float, hevc: int) -> tuple[Corpus, float]:
    """The corpus files (made if missing) and the seconds spent making them."""
    w, h = CLIP_SIZE
    clip_dir = CORPUS / f"clips-{w}x{h}-25fps-{seconds:g}s-g{GENERATION}"
    still_dir = CORPUS / f"stills-{STILL_SIZE[0]}x{STILL_SIZE[1]}-g{GENERATION}"
    hevc_dir = CORPUS / f"hevc-{w}x{h}-{seconds:g}s-g{GENERATION}"
    for folder in (clip_dir, still_dir, hevc_dir):
        folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus([clip_dir / f"clip-{i:03d}.mp4" for i in range(clips)],
                    [still_dir / f"still-{i:04d}.jpg" for i in range(stills)],
                    [hevc_dir / f"clip-{i:03d}.mkv" for i in range(hevc)])
    started = time.perf_counter()
    with ThreadPoolExecutor(GEN_WORKERS) as threads:
        made = _ensure(corpus.clips, _make_clip(seconds), threads)
        log(f"corpus: {made} clips made, {clips - made} reused ({clip_dir.name})")
        made = _ensure(corpus.hevc,  # transcoded from the first clips
                       lambda i, out: _make_file(out, lambda p: run_tool(hevc_cmd(corpus.clips[i], p))), threads)
        log(f"corpus: {made} HEVC/MKV clips made, {hevc - made} reused")
    with ProcessPoolExecutor(GEN_WORKERS) as processes:
        made = _ensure(corpus.stills, make_still, processes)
    log(f"corpus: {made} stills made, {stills - made} reused ({still_dir.name})")
    return corpus, time.perf_counter() - started


# -- measuring on a shared machine ------------------------------------------------------------

@dataclass
class Timing:
    wall: float = 0.0  #: seconds
    cpu: float = 0.0  #: CPU seconds of this process and its children
    others: float = 0.0  #: CPU seconds other processes of the machine used meanwhile
    tries: int = 1  #: measurements made before this one was kept (see Bench.measure)

    @property
    def disturbance(self) -> float:
        """Share of the machine's CPU that other processes took while this was measured."""
        return self.others / (self.wall * (os.cpu_count() or 1)) if self.wall else 0.0

    def add(self, other: Timing) -> None:
        self.wall, self.cpu, self.others = self.wall + other.wall, self.cpu + other.cpu, self.others + other.others
        self.tries = max(self.tries, other.tries)

    def describe(self) -> str:
        cores = os.cpu_count() or 1
        return (f"{self.wall:.1f} s wall; CPU {self.cpu:.1f} s ({self.cpu / self.wall / cores:.0%} of {cores} cores); "
                f"others {self.disturbance:.0%}" + (f" (try {self.tries})" if self.tries > 1 else ""))

    def as_json(self) -> dict[str, float]:
        return {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 2),
                "others_share": round(self.disturbance, 3), "tries": self.tries}


def own_cpu() -> float:
    """CPU seconds of this process and its waited-for children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat; zeros elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0, 0.0
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    tick = os.sysconf("SC_CLK_TCK")
    return busy / tick, (busy + idle + iowait) / tick


@contextmanager
def timed() -> Iterator[Timing]:
    """Wall and CPU seconds of the block, ours and other processes'."""
    result = Timing()
    wall, used, busy = time.perf_counter(), own_cpu(), machine_cpu()[0]
    yield result
    result.wall, result.cpu = time.perf_counter() - wall, own_cpu() - used
    result.others = max(0.0, machine_cpu()[0] - busy - result.cpu)


def wait_quiet(max_wait: float) -> None:
    """Wait (up to max_wait s) until other processes leave the machine nearly idle."""
    started = time.monotonic()
    said = -1.0
    while True:
        busy0, total0 = machine_cpu()
        time.sleep(QUIET_WINDOW)
        busy1, total1 = machine_cpu()
        share = (busy1 - busy0) / max(total1 - total0, 1e-9)
        waited = time.monotonic() - started
        if share < QUIET or total1 == 0:
            return
        if waited > max_wait:
            log(f"  machine still {share:.0%} busy after {max_wait:g} s; measuring anyway")
            return
        if said < 0 or waited - said >= 30:
            log(f"  machine {share:.0%} busy with other work; waiting (up to {max_wait:g} s)")
            said = waited


def read_through(path: Path) -> int:
    """Read a file once (into the page cache); return its size."""
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            size += len(chunk)
    return size


def sync() -> None:
    """Flush earlier writes, so they are not written back while the next thing is timed."""
    subprocess.run(["sync"], check=False)


R = TypeVar("R")


@dataclass
class Bench:
    """Scratch space, the archive's settings and how patient to be with a busy machine."""
    work: Path
    settings: dict[str, Any]
    max_wait: float
    tries: int

    def measure(self, name: str, run: Callable[[], tuple[Timing, R]]) -> tuple[Timing, R]:
        """Run a timed phase after a quiet spell; again (up to `tries`) if other work disturbed it.

        `run` times its own work, so that set-up (a fresh data root) stays out of the figure.
        The least disturbed measurement is kept.
        """
        best: tuple[Timing, R] | None = None
        for attempt in range(1, self.tries + 1):
            sync()
            if self.max_wait > 0:
                wait_quiet(self.max_wait)
            timing, result = run()
            timing.tries = attempt
            if best is None or timing.disturbance < best[0].disturbance:
                best = (timing, result)
            if timing.disturbance <= DISTURBED:
                break
            log(f"  {name}: other processes took {timing.disturbance:.0%} of the machine meanwhile"
                + ("; measuring again" if attempt < self.tries else "; keeping the least disturbed try"))
        assert best is not None
        return best

    @contextmanager
    def fresh_archive(self, name: str) -> Iterator[Archive]:
        """An archive in a new data root, removed afterwards."""
        archive = Archive.open({"data": str(self.work / name)})
        try:
            yield archive
        finally:
            archive.close()
            shutil.rmtree(self.work / name, ignore_errors=True)

    def ingest(self, name: str, paths: list[Path], options: IngestOptions | None = None) -> Timing:
        """Ingest `paths` into a fresh data root (every file must go in); the run is timed, set-up not."""
        return self.ingest_then_work(name, paths, options)[0]

    def ingest_then_work(self, name: str, paths: list[Path], options: IngestOptions | None = None,
                         *, work: bool = False) -> tuple[Timing, Timing | None]:
        """Ingest as above; with `work`, then time the worker running the jobs the ingest queued."""
        step = max(1, len(paths) // 5)

        def progress(outcome: str, path: Path, detail: str) -> None:
            progress.done += 1  # type: ignore[attr-defined]
            if progress.done % step == 0 or outcome == "failed":  # type: ignore[attr-defined]
                log(f"  {name}: {progress.done}/{len(paths)} ({outcome} {display_path(path.name)} {detail})")  # type: ignore[attr-defined]

        def run() -> tuple[Timing, Timing | None]:
            progress.done = 0  # type: ignore[attr-defined]
            worked = None
            with self.fresh_archive(name) as archive:
                with timed() as timing:
                    report = ingest_paths(archive, paths, options or IngestOptions(), progress)
                if work:
                    with timed() as worked:
                        ran = worker.run(archive, once=True, log=lambda line: None)
                    with archive.Session() as session:
                        failed = session.scalars(select(Job).where(Job.state != JobState.done)).all()
                    if failed:
                        raise SystemExit(f"{name}: {len(failed)} of {ran} jobs failed: {failed[0].error}")
            if report.failed or len(report.ingested) != len(paths):
                raise SystemExit(f"{name}: {len(report.ingested)} of {len(paths)} ingested; "
                                 f"failed: {report.failed[:3]}")
            return timing, worked

        timing, worked = self.measure(name, run)
        log(f"{name}: {len(paths)} files, {timing.describe()}"
            + (f"; then the worker: {worked.describe()}" if worked else ""))
        return timing, worked

    def bare(self, clips: list[Path], workers: int) -> Timing:
        """The bare ffmpeg work of every clip, `workers` clips at a time."""
        def run() -> tuple[Timing, None]:
            out = Path(tempfile.mkdtemp(prefix="bare-", dir=self.work))
            try:
                with timed() as timing, ThreadPoolExecutor(workers) as pool:
                    list(pool.map(lambda p: bare_video(p, out, self.settings), clips))
            finally:
                shutil.rmtree(out, ignore_errors=True)
            return timing, None

        timing = self.measure("bare", run)[0]
        log(f"bare ffmpeg: {len(clips)} videos, {timing.describe()}")
        return timing

    def breakdown(self, paths: list[Path]) -> tuple[Timing, dict[str, float]]:
        """Mean seconds of each step of one file's ingest: the real pieces, one file at a time.

        The first file warms up (first queries, codec set-up) and is left out of the means.
        """
        return self.measure("breakdown", lambda: self._breakdown(paths))

    def _breakdown(self, paths: list[Path]) -> tuple[Timing, dict[str, float]]:
        steps: dict[str, float] = {}
        settings = self.settings
        counted = max(1, len(paths) - 1)
        counting = len(paths) == 1  # from the second file on (step reads it when it runs)

        @contextmanager
        def step(name: str) -> Iterator[None]:
            t0 = time.perf_counter()
            yield
            if counting:
                steps[name] = steps.get(name, 0.0) + (time.perf_counter() - t0) / counted

        with self.fresh_archive("breakdown") as archive, timed() as timing:
            archive.index_on_commit = False  # a batch writes the search index every few seconds, not per file
            for path in paths:
                sync()  # each file's writes are its own
                with step("hash only (read + sha256, for scale)"):
                    sha256_file(path)
                with step("stage: copy + sha256 + fsync"):
                    staged = archive.store.stage(path)
                with step("identify"):
                    info = mediatools.identify(staged.path, ffprobe_timeout=settings["ffprobe_timeout"],
                                               max_image_pixels=settings["max_image_pixels"])
                work_dir = archive.store.staging_dir()
                if info.kind == "video":
                    # The frame grab alone, called as video_derivatives calls it, to split ffmpeg from Python.
                    shown_w, shown_h = info.display_size or CLIP_SIZE
                    times, width = ingest_frames(info.duration or 0.0, shown_w, settings)
                    with tempfile.TemporaryDirectory(dir=work_dir) as tmp, step("frame grab"):
                        mediatools.extract_frames(staged.path, times, width, Path(tmp),
                                                  height=even(width * shown_h / shown_w),
                                                  timeout=settings["ffmpeg_timeout"], deinterlace=info.interlaced,
                                                  per_call=mediatools.seeks_per_call(info))
                with step("derivatives"):
                    derivatives = make_derivatives(staged.path, info, work_dir, settings)
                with step("record: DB transaction + move into store"):
                    with archive.store.intent(staged.sha256), archive.session() as session:
                        record(session, archive, Prepared(path, staged, info, work_dir, derivatives),
                               IngestOptions())
                staged.path.unlink(missing_ok=True)
                shutil.rmtree(work_dir, ignore_errors=True)
                counting = True
        grab = steps.pop("frame grab", None)
        ordered: dict[str, float] = {}
        for name, seconds in steps.items():
            ordered[name] = seconds
            if name == "derivatives" and grab is not None:  # its split right under it
                ordered["  of which: the one ffmpeg frame grab"] = grab
                ordered["  of which: Python (read BMPs, pick, resize, WebP)"] = seconds - grab
        return timing, ordered

    def proxies(self, clips: list[Path]) -> dict[str, Timing]:
        """Total time of make_proxy, its own command run directly, and a hand-written plain encode."""
        settings = self.settings
        kw = dict(max_height=settings["proxy_max_height"], crf=settings["proxy_crf"],
                  preset=settings["proxy_preset"])

        def make_proxy(src: Path, dest: Path) -> None:
            mediatools.make_proxy(src, dest, timeout=settings["proxy_timeout"], **kw)

        def direct(src: Path, dest: Path) -> None:
            run_tool(mediatools.proxy_cmd(src, dest, **kw), timeout=settings["proxy_timeout"])

        def plain(src: Path, dest: Path) -> None:
            run_tool(["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y", "-i", str(src),
                      "-c:v", "libx264", "-preset", settings["proxy_preset"], "-crf", str(settings["proxy_crf"]),
                      "-vf", f"scale=-2:{settings['proxy_max_height']}", "-c:a", "aac", "-b:a", "128k",
                      "-movflags", "+faststart", str(dest)], timeout=settings["proxy_timeout"])

        ways = {"make_proxy": make_proxy, "proxy_cmd direct": direct, "plain ffmpeg": plain}
        totals = {name: Timing() for name in ways}
        for n, src in enumerate(clips):
            names = list(ways)
            for name in names[n % 3:] + names[:n % 3]:  # rotate the order: none always goes first
                def run(way: Callable[[Path, Path], None] = ways[name]) -> tuple[Timing, int]:
                    out = Path(tempfile.mkdtemp(prefix="proxy-", dir=self.work))
                    try:
                        with timed() as timing:
                            way(src, out / "proxy.mp4")
                        return timing, (out / "proxy.mp4").stat().st_size
                    finally:
                        shutil.rmtree(out, ignore_errors=True)

                timing, size = self.measure(f"proxy {name}", run)
                totals[name].add(timing)
                log(f"proxy {src.name}: {name}, {size / 2**20:.1f} MiB, {timing.describe()}")
        return totals


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def ingest_frames(duration: float, display_width: int, settings: dict[str, Any]) -> tuple[list[float], int]:
    """The frame times and width video_derivatives grabs for a video (see mediatools.frames)."""
    poster = [round(duration * f, 3) for f in POSTER_FRACTIONS]
    board = mediatools.storyboard_times(duration, settings["storyboard_frames"])
    return list(dict.fromkeys(poster + board)), even(min(settings["thumb_page_width"], display_width))


def bare_video(src: Path, out_dir: Path, settings: dict[str, Any]) -> int:
    """One ffprobe, then one plain fast-seek ffmpeg per frame ingest would grab; returns the frame count."""
    probe = json.loads(run_tool(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                                 "-show_streams", str(src)], timeout=60))
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    times, width = ingest_frames(float(probe["format"]["duration"]), int(video["width"]), settings)
    for i, t in enumerate(times):
        run_tool(["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y", "-ss", f"{t:.3f}", "-i", str(src),
                  "-frames:v", "1", "-vf", f"scale={width}:-2", str(out_dir / f"{src.stem}-{i:02d}.png")],
                 timeout=120)
    return len(times)


# -- reporting --------------------------------------------------------------------------------

def code_version() -> str:
    """The commit measured, with "+changes" when archive/ differs from it (or "unknown")."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "archive"], cwd=repo,
                               capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    ffmpeg_version = run_tool(["ffmpeg", "-version"], timeout=30).decode().splitlines()[0]
    return {"nproc": os.cpu_count(), "cpu": model.group(1).strip() if model else platform.processor(),
            "ffmpeg": ffmpeg_version, "python": platform.python_version(), "date": date.today().isoformat(),
            "code": code_version()}


def table(rows: list[tuple[str, ...]]) -> str:
    head = ("figure", "value", "goal", "met")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=40, help="videos in the corpus (default 40)")
    parser.add_argument("--stills", type=int, default=400, help="12-megapixel JPEGs in the corpus (default 400)")
    parser.add_argument("--clip-seconds", type=float, default=60.0, help="length of each video (default 60)")
    parser.add_argument("--proxy-clips", type=int, default=2, help="HEVC/MKV clips for the proxy figures (default 2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 clips of 10 s, 40 stills, 1 proxy clip")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--max-wait", type=float, default=MAX_WAIT, help="seconds to wait for other work on the "
                        f"machine to stop before each phase; 0: do not wait (default {MAX_WAIT:g})")
    parser.add_argument("--tries", type=int, default=TRIES, help="measurements of a phase at most, when other "
                        f"work took over {DISTURBED:.0%}% of the machine meanwhile (default {TRIES})")
    args = parser.parse_args(argv)
    if args.quick:
        args.clips, args.stills, args.clip_seconds, args.proxy_clips = 4, 40, 10.0, 1
    if min(args.clips, args.stills, args.proxy_clips, args.tries) < 1 or args.proxy_clips > args.clips:
        parser.error("need at least one clip, still, proxy clip and try, and no more proxy clips than clips")
    # A plain kill must still clean up the scratch data roots (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    about = machine()
    log(f"{about['nproc']} cores, {about['cpu']}; {about['ffmpeg']}")
    corpus, generation = build_corpus(args.clips, args.stills, args.clip_seconds, args.proxy_clips)
    t0 = time.perf_counter()
    size = sum(read_through(p) for p in corpus.clips + corpus.stills + corpus.hevc)
    log(f"corpus read once, into the page cache: {size / 2**30:.2f} GiB in {time.perf_counter() - t0:.1f} s")

    settings = load_settings()  # what each fresh archive gets too (defaults, config file, environment)
    workers = settings["ingest_workers"]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-", dir=CORPUS) as tmp:
        bench = Bench(Path(tmp), settings, args.max_wait, args.tries)
        log("stills alone ...")
        stills = bench.ingest("stills", corpus.stills)
        log("stills alone, thumbnails left to the worker, then the worker making them ...")
        deferred, deferred_work = bench.ingest_then_work("stills deferred", corpus.stills,
                                                         IngestOptions(defer_thumbnails=True), work=True)
        assert deferred_work is not None
        log("videos alone ...")
        videos = bench.ingest("videos", corpus.clips)
        log(f"bare ffmpeg work on the same videos, {workers} at a time ...")
        bare = bench.bare(corpus.clips, workers)
        log("mixed corpus ...")
        mixed_paths = corpus.clips + corpus.stills
        mixed = bench.ingest("mixed", mixed_paths)
        log("where the time goes, one file at a time ...")
        video_steps = bench.breakdown(corpus.clips[:4])[1]  # a warm-up, then one of each kind of content
        still_steps = bench.breakdown(corpus.stills[:21])[1]
        log("proxies ...")
        proxies = bench.proxies(corpus.hevc)

    info = mediatools.identify(corpus.clips[0], ffprobe_timeout=60, max_image_pixels=settings["max_image_pixels"])
    frames = len(ingest_frames(info.duration or 0.0, (info.display_size or CLIP_SIZE)[0], settings)[0])
    n_clips, n_stills = len(corpus.clips), len(corpus.stills)
    stills_per_s = n_stills / stills.wall
    deferred_per_s = n_stills / deferred.wall
    worker_per_s = n_stills / deferred_work.wall
    deferred_end_to_end = n_stills / (deferred.wall + deferred_work.wall)
    video_ratio = videos.wall / bare.wall
    proxy_vs_direct = proxies["make_proxy"].wall / proxies["proxy_cmd direct"].wall
    proxy_vs_plain = proxies["make_proxy"].wall / proxies["plain ffmpeg"].wall
    phases = {"stills": stills, "stills deferred": deferred, "worker after it": deferred_work, "videos": videos, "bare": bare, "mixed": mixed, **proxies}
    figures = {
        "machine": about, "generation_s": round(generation, 1),
        "corpus": {"clips": n_clips, "clip_seconds": args.clip_seconds, "stills": n_stills,
                   "proxy_clips": len(corpus.hevc),
                   "clip_mib": round(sum(p.stat().st_size for p in corpus.clips) / 2**20, 1),
                   "still_mib": round(sum(p.stat().st_size for p in corpus.stills) / 2**20, 1)},
        "settings": {k: settings[k] for k in ("ingest_workers", "storyboard_frames", "thumb_page_width",
                                              "thumb_grid_width", "thumb_format", "proxy_preset", "proxy_crf")},
        "stills_per_s": round(stills_per_s, 2),
        "stills_deferred_per_s": round(deferred_per_s, 2), "worker_thumbnails_per_s": round(worker_per_s, 2),
        "stills_deferred_end_to_end_per_s": round(deferred_end_to_end, 2),
        "video_ingest_s_per_video": round(videos.wall / n_clips, 3),
        "video_bare_s_per_video": round(bare.wall / n_clips, 3),
        "video_ratio": round(video_ratio, 3), "frames_per_video": frames,
        "mixed_files_per_s": round(len(mixed_paths) / mixed.wall, 2),
        "proxy_vs_direct": round(proxy_vs_direct, 3), "proxy_vs_plain": round(proxy_vs_plain, 3),
        "goals_met": {"video_ratio": video_ratio <= GOAL_VIDEO_RATIO, "stills_per_s": stills_per_s >= GOAL_STILLS_PER_S,
                      "stills_deferred_per_s": deferred_per_s >= GOAL_STILLS_PER_S,
                      "proxy": max(proxy_vs_direct, proxy_vs_plain) <= GOAL_PROXY_RATIO},
        "phases": {name: t.as_json() for name, t in phases.items()},
        "video_breakdown_s": {k.strip(): round(v, 4) for k, v in video_steps.items()},
        "still_breakdown_s": {k.strip(): round(v, 4) for k, v in still_steps.items()},
    }
    rows = [
        ("stills ingest (alone)", f"{stills_per_s:.1f} files/s", f">= {GOAL_STILLS_PER_S:g}/s",
         yes(stills_per_s >= GOAL_STILLS_PER_S)),
        ("  time", stills.describe(), "", ""),
        ("stills ingest, thumbnails deferred", f"{deferred_per_s:.1f} files/s", f">= {GOAL_STILLS_PER_S:g}/s",
         yes(deferred_per_s >= GOAL_STILLS_PER_S)),
        ("  time", deferred.describe(), "", ""),
        ("  then the worker's thumbnails", f"{worker_per_s:.1f} stills/s ({settings['worker_threads']} threads)", "", ""),
        ("  time", deferred_work.describe(), "", ""),
        ("  ingest + worker, one after the other", f"{deferred_end_to_end:.1f} stills/s", "", ""),
        ("video ingest (alone)", f"{videos.wall / n_clips:.2f} s/video", "", ""),
        ("  time", videos.describe(), "", ""),
        ("bare ffprobe + ffmpeg", f"{bare.wall / n_clips:.2f} s/video ({frames} frames each)", "", ""),
        ("  time", bare.describe(), "", ""),
        ("video ingest / bare", f"{video_ratio:.2f}x", f"<= {GOAL_VIDEO_RATIO:g}x", yes(video_ratio <= GOAL_VIDEO_RATIO)),
        ("mixed corpus ingest", f"{len(mixed_paths) / mixed.wall:.1f} files/s", "", ""),
        ("  time", mixed.describe(), "", ""),
        *[(f"proxy: {name}", t.describe(), "", "") for name, t in proxies.items()],
        ("make_proxy / proxy_cmd direct", f"{proxy_vs_direct:.3f}x", f"<= {GOAL_PROXY_RATIO:g}x",
         yes(proxy_vs_direct <= GOAL_PROXY_RATIO)),
        ("make_proxy / plain ffmpeg", f"{proxy_vs_plain:.3f}x", f"<= {GOAL_PROXY_RATIO:g}x",
         yes(proxy_vs_plain <= GOAL_PROXY_RATIO)),
    ]
    print(f"Ingest benchmark, {about['date']}: {n_clips} clips x {args.clip_seconds:g} s "
          f"({figures['corpus']['clip_mib']:.0f} MiB), {n_stills} stills ({figures['corpus']['still_mib']:.0f} MiB), "
          f"{len(corpus.hevc)} HEVC/MKV clips for proxies; {workers} ingest workers, thumbnails as "
          f"{settings['thumb_format']}")
    print(f"{about['nproc']} cores, {about['cpu']}; {about['ffmpeg']}; code {about['code']}")
    print(f"corpus generation (not in the figures): {generation:.1f} s; page cache warm (corpus read just before); "
          f"'others' = CPU share other processes took meanwhile\n")
    print(table(rows))
    for title, steps in (("one video", video_steps), ("one still", still_steps)):
        print(f"\nwhere the time goes, {title} (mean, one file at a time, after a warm-up file):")
        print("\n".join(f"  {k:<52} {v * 1000:8.1f} ms" for k, v in steps.items()))
    if args.json:
        print("\n" + json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
