"""ExifTool benchmark: one `exiftool -j -n -G1 -ee -@ ARGFILE` call for a batch against one call per file.

    PYTHONPATH=. .venv/bin/python bench/exiftool.py              # 32 small JPEGs with XMP positions
    PYTHONPATH=. .venv/bin/python bench/exiftool.py --files 200

Ingest reads every file's location and capture time with ExifTool; starting perl is most of a
call on a small file, so the reader makes one call per batch (archive/mediatools/exiftool.py).
Prints both times, the ratio, and checks that both ways read the same.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from archive import mediatools  # noqa: E402
from mediagen import exiftool_write_each, make_jpeg, xmp_gps_tags  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = exiftool_write_each([(make_jpeg(Path(folder) / f"{i:04d}.jpg", size=(32, 24)),
                                      xmp_gps_tags(41.4 + i / 1000, 128.18)) for i in range(args.files)])
        start = time.perf_counter()
        batched = mediatools.read_embedded(paths, timeout=600)
        one_call = time.perf_counter() - start
        start = time.perf_counter()
        single = [mediatools.read_embedded([p], timeout=60)[0] for p in paths]
        per_file = time.perf_counter() - start
    if batched != single:
        raise SystemExit("the batched call read something else than the calls one by one")
    print(f"{args.files} files: one exiftool call {one_call:.2f} s, one call each {per_file:.2f} s "
          f"({per_file / one_call:.1f}x)")


if __name__ == "__main__":
    main()
