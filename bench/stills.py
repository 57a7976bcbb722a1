"""Still-image derivatives: CPU per still by stage, what each setting costs, and what it does to quality.

    .venv/bin/python bench/stills.py                 # 30 stills of the ingest corpus, one thread
    .venv/bin/python bench/stills.py --count 10      # fewer stills, quicker
    .venv/bin/python bench/stills.py --ingest 400    # also a stills-only ingest of 400 into a fresh data root
    .venv/bin/python bench/stills.py --ingest 400 --ceilings  # and the same with thumbnails cut down

CPU is measured with time.process_time around the real pieces of `mediatools.still_derivatives`, one
still at a time in one thread, so other work on a shared machine barely moves it (wall clock does).
Stills come from bench/ingest.py's corpus (4000x3000 EXIF JPEGs, made there if missing). Quality is
the PSNR of a page thumbnail against LANCZOS from the fully decoded original, on the first few stills.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ingest.py, for its corpus and ingest run
import ingest as ingest_bench  # noqa: E402

from archive import mediatools  # noqa: E402
from archive.dates import _parse_by_grammar, parse_date  # noqa: E402
from archive.mediatools import frames  # noqa: E402
from archive.services import ingest as ingest_module  # noqa: E402
from archive.settings import load_settings  # noqa: E402

LIMIT = 200_000_000  # pixels; the archive's own limit is a setting, far above 12 MP
FILTERS = ("BILINEAR", "HAMMING", "BICUBIC", "LANCZOS")
WEBP_METHODS = (0, 1, 2, 4)


def stills_corpus(count: int) -> list[Path]:
    """The first `count` stills of the ingest benchmark's corpus, made (on both cores) if missing."""
    folder = ingest_bench.CORPUS / f"stills-{ingest_bench.STILL_SIZE[0]}x{ingest_bench.STILL_SIZE[1]}-g{ingest_bench.GENERATION}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"still-{i:04d}.jpg" for i in range(count)]
    with ProcessPoolExecutor(ingest_bench.GEN_WORKERS) as pool:
        made = ingest_bench._ensure(paths, ingest_bench.make_still, pool)
    if made:
        ingest_bench.log(f"corpus: {made} stills made in {folder}")
    for path in paths:
        ingest_bench.read_through(path)  # into the page cache: the figures are CPU, not disk
    return paths


class Stages:
    """CPU milliseconds per still, by stage name, summed over stills."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.stills = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.process_time()
        yield
        self.cpu[name] = self.cpu.get(name, 0.0) + (time.process_time() - t0) * 1000

    def per_still(self) -> dict[str, float]:
        return {name: ms / max(1, self.stills) for name, ms in self.cpu.items()}


def time_stages(stages: Stages, path: Path, out: Path, *, page_width: int, grid_width: int, draft: bool,
                resample: Image.Resampling, page_method: int, grid_method: int) -> None:
    """The pieces of still_derivatives (WebP) for one still, each timed; draft=False decodes it whole."""
    with stages.stage("open: header, EXIF, draft"):
        img = (frames.open_still(path, width=page_width, max_image_pixels=LIMIT) if draft
               else mediatools.open_image(path, max_image_pixels=LIMIT))
    with img:
        with stages.stage("JPEG decode"):
            img.load()
        with stages.stage("upright + display mode"):
            upright = frames.upright_pixels(img)
        with stages.stage("resize to page"):
            page = frames._resize_to_width(upright, min(page_width, upright.width), resample=resample)
        with stages.stage("resize page to grid"):
            grid = frames._resize_to_width(page, min(grid_width, page.width), reducing_gap=1.0)
    with stages.stage("WebP save, page"):
        page.save(out / "page.webp", "WEBP", quality=80, method=page_method)
    with stages.stage("WebP save, grid"):
        grid.save(out / "grid.webp", "WEBP", quality=80, method=grid_method)
    stages.stills += 1


def compare(paths: list[Path], out: Path, configs: dict[str, dict[str, Any]], **sizes: int) -> dict[str, Stages]:
    """Stages of every configuration, taken in turn on each still, each going first as often as the others.

    Taking turns spreads drift in the machine evenly; rotating who goes first spreads the cost of
    the caches the previous configuration left cold (a full decode evicts most of them).
    """
    columns = {name: Stages() for name in configs}
    names = list(configs)
    for i, path in enumerate(paths):
        for name in names[i % len(names):] + names[:i % len(names)]:
            time_stages(columns[name], path, out, **configs[name], **sizes)
    return columns


def run_real(paths: list[Path], out: Path, settings: dict[str, Any]) -> float:
    """CPU ms per still of the shipped still_derivatives itself, as ingest calls it."""
    infos = [mediatools.identify(path, ffprobe_timeout=60, max_image_pixels=LIMIT) for path in paths]
    t0 = time.process_time()
    for path, info in zip(paths, infos, strict=True):
        mediatools.still_derivatives(path, info, out, grid_width=settings["thumb_grid_width"],
                                     page_width=settings["thumb_page_width"], fmt="webp", max_image_pixels=LIMIT)
    return (time.process_time() - t0) * 1000 / len(paths)


def date_ms(paths: list[Path], parse: Callable[[str], object], repeat: int = 1) -> float:
    """CPU ms of one date parse of each still's EXIF day, as ingest makes it (identify, then isoformat)."""
    days = []
    for path in paths:
        info = mediatools.identify(path, ffprobe_timeout=60, max_image_pixels=LIMIT)
        assert info.creation_time is not None, f"{path.name}: no EXIF date"
        days.append(info.creation_time.date().isoformat())
    t0 = time.process_time()
    for _ in range(repeat):
        for day in days:
            parse(day)
    return (time.process_time() - t0) * 1000 / (len(days) * repeat)


def psnr(a: Image.Image, b: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).rms
    mse = sum(r * r for r in rms) / len(rms)
    return 10 * math.log10(255 ** 2 / mse) if mse else float("inf")


def webp_round_trip(img: Image.Image, method: int) -> tuple[Image.Image, int]:
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=80, method=method)
    decoded = Image.open(io.BytesIO(buf.getvalue()))
    decoded.load()
    return decoded, len(buf.getvalue())


def quality(paths: list[Path], page_width: int) -> dict[str, dict[str, float]]:
    """Page PSNR (before and after WebP q80, method 1) to LANCZOS from the full decode, per way of making it."""
    ways: dict[str, Callable[[Path], Image.Image]] = {}
    for name in FILTERS:
        def drafted(path: Path, resample: Image.Resampling = Image.Resampling[name]) -> Image.Image:
            with frames.open_still(path, width=page_width, max_image_pixels=LIMIT) as img:
                upright = frames.upright_pixels(img)
                return frames._resize_to_width(upright, page_width, resample=resample)
        ways[f"draft + {name}"] = drafted

    def full_bicubic(path: Path) -> Image.Image:
        with mediatools.open_image(path, max_image_pixels=LIMIT) as img:
            return frames._resize_to_width(frames.upright_pixels(img), page_width)
    ways["full decode + BICUBIC (reducing_gap 2)"] = full_bicubic

    scores: dict[str, dict[str, float]] = {name: {"pixels_db": 0.0, "webp_db": 0.0} for name in ways}
    for path in paths:
        with mediatools.open_image(path, max_image_pixels=LIMIT) as img:
            full = frames.upright_pixels(img)
            reference = full.resize((page_width, round(full.height * page_width / full.width)),
                                    Image.Resampling.LANCZOS)
        for name, make in ways.items():
            page = make(path)
            scores[name]["pixels_db"] += psnr(page, reference) / len(paths)
            scores[name]["webp_db"] += psnr(webp_round_trip(page, 1)[0], reference) / len(paths)
    return scores


def webp_methods(paths: list[Path], page_width: int, grid_width: int) -> dict[int, dict[str, float]]:
    """CPU ms and bytes of each WebP save per still for each method, and the page's PSNR to its pixels."""
    rows = {m: {"page_ms": 0.0, "grid_ms": 0.0, "page_kb": 0.0, "grid_kb": 0.0, "page_db": 0.0} for m in WEBP_METHODS}
    for path in paths:
        with frames.open_still(path, width=page_width, max_image_pixels=LIMIT) as img:
            page = frames._resize_to_width(frames.upright_pixels(img), page_width)
        grid = frames._resize_to_width(page, grid_width, reducing_gap=1.0)
        for method, row in rows.items():
            for name, picture in (("page", page), ("grid", grid)):
                buf = io.BytesIO()
                t0 = time.process_time()
                picture.save(buf, "WEBP", quality=80, method=method)
                row[f"{name}_ms"] += (time.process_time() - t0) * 1000 / len(paths)
                row[f"{name}_kb"] += len(buf.getvalue()) / 1000 / len(paths)
                if name == "page":
                    with Image.open(buf) as decoded:
                        row["page_db"] += psnr(decoded, page) / len(paths)
    return rows


def show_stages(columns: dict[str, Stages]) -> None:
    names = list(dict.fromkeys(n for s in columns.values() for n in s.cpu))
    head = f"{'stage (CPU ms per still)':32}" + "".join(f"{c:>24}" for c in columns)
    print(head)
    print("-" * len(head))
    for name in names:
        print(f"{name:32}" + "".join(f"{s.per_still().get(name, 0.0):24.1f}" for s in columns.values()))
    print(f"{'sum':32}" + "".join(f"{sum(s.per_still().values()):24.1f}" for s in columns.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=30, help="stills to time (default 30)")
    parser.add_argument("--quality-count", type=int, default=6,
                        help="stills for the PSNR check (each needs a full decode; default 6)")
    parser.add_argument("--ingest", type=int, default=0, metavar="N",
                        help="also ingest N stills into a fresh data root (bench/ingest.py's way); 0: no")
    parser.add_argument("--ceilings", action="store_true",
                        help="with --ingest: also ingest with the thumbnails cut down to the JPEG decode, and "
                        "with none at all (what ingest could reach if thumbnails cost nothing more)")
    parser.add_argument("--max-wait", type=float, default=ingest_bench.MAX_WAIT,
                        help="with --ingest: seconds to wait for other work on the machine to stop first; 0: do not "
                        f"wait (default {ingest_bench.MAX_WAIT:g})")
    args = parser.parse_args(argv)
    if args.count < 1 or args.quality_count < 1 or args.ingest < 0:
        parser.error("--count and --quality-count must be at least 1, --ingest not negative")

    settings = load_settings()
    page_w, grid_w = settings["thumb_page_width"], settings["thumb_grid_width"]
    paths = stills_corpus(max(args.count, args.quality_count, args.ingest))
    timed = paths[:args.count]
    print(f"Still derivatives, {time.strftime('%Y-%m-%d')}: {len(timed)} stills 4000x3000 JPEG; "
          f"page {page_w} px, grid {grid_w} px, WebP q80; code {ingest_bench.code_version()}")
    print(f"shipped: STILL_RESAMPLE={frames.STILL_RESAMPLE.name}, STILL_PAGE_WEBP_METHOD="
          f"{frames.STILL_PAGE_WEBP_METHOD}, WEBP_METHOD={frames.WEBP_METHOD} (grid); CPU by time.process_time, one thread\n")

    with tempfile.TemporaryDirectory(prefix="bench-stills-") as tmp:
        out = Path(tmp)
        bicubic, bilinear = Image.Resampling.BICUBIC, Image.Resampling.BILINEAR
        configs: dict[str, dict[str, Any]] = {
            "before: BICUBIC, m1/m1": dict(draft=True, resample=bicubic, page_method=1, grid_method=1),
            "BILINEAR, m0/m0": dict(draft=True, resample=bilinear, page_method=0, grid_method=0),
            "shipped": dict(draft=True, resample=frames.STILL_RESAMPLE, page_method=frames.STILL_PAGE_WEBP_METHOD,
                            grid_method=frames.WEBP_METHOD),
        }
        sizes = dict(page_width=page_w, grid_width=grid_w)
        compare(timed[:2], out, configs, **sizes)  # warm-up
        columns = compare(timed, out, configs, **sizes)
        # Apart: a full decode leaves the caches cold for whatever runs after it.
        no_draft = dict(draft=False, resample=bicubic, page_method=1, grid_method=1)
        columns = {"no draft, BICUBIC, m1/m1": compare(timed, out, {"": no_draft}, **sizes)[""], **columns}
        print("JPEG draft on unless said; filter of the page resize; WebP method page/grid")
        show_stages(columns)
        real = run_real(timed, out, settings)
        print(f"\nstill_derivatives itself (shipped settings): {real:.1f} ms CPU per still")

    grammar, fast = date_ms(timed, _parse_by_grammar), date_ms(timed, parse_date, repeat=200)
    print(f"date of the still (record, main thread): EDTF grammar {grammar:.2f} ms, parse_date {fast:.3f} ms")

    print(f"\npage resize filter after the draft ({args.quality_count} stills): PSNR of the page to LANCZOS "
          "from the full decode")
    scores = quality(paths[:args.quality_count], page_w)
    print(f"  {'way':40}{'pixels':>10}{'after WebP':>12}")
    for name, score in scores.items():
        print(f"  {name:40}{score['pixels_db']:8.2f} dB{score['webp_db']:10.2f} dB")
    print(f"  resize CPU ms per still ({len(timed)} stills, draft):", end=" ")
    with tempfile.TemporaryDirectory(prefix="bench-stills-") as tmp:
        by_filter = compare(timed, Path(tmp), {name: dict(draft=True, resample=Image.Resampling[name], page_method=1,
                                                          grid_method=1) for name in FILTERS},
                            page_width=page_w, grid_width=grid_w)
    print(" ".join(f"{name} {stages.per_still()['resize to page']:.1f}" for name, stages in by_filter.items()))

    print(f"\nWebP method ({len(timed)} stills, q80): CPU ms per save, mean size, page PSNR to its own pixels")
    print(f"  {'method':>6}{'page ms':>9}{'grid ms':>9}{'page KB':>9}{'grid KB':>9}{'page dB':>9}")
    for method, row in webp_methods(timed, page_w, grid_w).items():
        print(f"  {method:>6}{row['page_ms']:9.1f}{row['grid_ms']:9.1f}{row['page_kb']:9.1f}{row['grid_kb']:9.1f}"
              f"{row['page_db']:9.2f}")

    if args.ingest:
        print(f"\nstills-only ingest of {args.ingest} (fresh data root, {settings['ingest_workers']} workers):")
        ways = {"shipped": ingest_module.make_derivatives}
        if args.ceilings:
            ways.update({"ceiling: only the JPEG decode of each still": decode_only,
                         "ceiling: no derivatives at all": lambda *args, **kwargs: []})
        for way, make in ways.items():
            ingest_module.make_derivatives = make
            try:
                with tempfile.TemporaryDirectory(prefix="bench-stills-", dir=ingest_bench.CORPUS) as tmp:
                    bench = ingest_bench.Bench(Path(tmp), settings, max_wait=args.max_wait, tries=3)
                    timing = bench.ingest("stills", paths[:args.ingest])
            finally:
                ingest_module.make_derivatives = ways["shipped"]
            print(f"  {way}: {args.ingest / timing.wall:.1f} stills/s; {timing.describe()}; "
                  f"CPU per still {timing.cpu * 1000 / args.ingest:.1f} ms")
    return 0


def decode_only(src: Path, info: mediatools.MediaInfo, out_dir: Path,
                settings: dict[str, Any]) -> list[tuple[str, Path, dict[str, Any]]]:
    """What ingest would cost if a still's thumbnails took nothing beyond decoding its pixels."""
    with frames.open_still(src, width=settings["thumb_page_width"], max_image_pixels=LIMIT) as img:
        frames.upright_pixels(img)
    return []


if __name__ == "__main__":
    sys.exit(main())
