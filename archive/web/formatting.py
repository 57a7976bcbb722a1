"""Template filters: durations, sizes, rates and places as people read them."""

from __future__ import annotations

from datetime import datetime

from archive.web.context import current_archive
from archive.dates import describe


def duration(seconds: float | None) -> str:
    """H:MM:SS (seconds rounded down), the way players show time; empty when unknown."""
    if seconds is None or seconds < 0:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def filesize(size: int | None) -> str:
    """Bytes in SI units ("1.4 MB"), as file managers show them."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} bytes" if size != 1 else "1 byte"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def bitrate(bits_per_second: int | None) -> str:
    if not bits_per_second:
        return ""
    if bits_per_second >= 1_000_000:
        return f"{bits_per_second / 1_000_000:.1f} Mb/s"
    return f"{bits_per_second / 1000:.0f} kb/s"


def frame_rate(fps: float | None) -> str:
    if not fps:
        return ""
    return f"{fps:.3f}".rstrip("0").rstrip(".") + " fps"


def coordinates(latitude: float | None, longitude: float | None) -> str:
    """Decimal degrees, latitude first (WGS84), to about a metre."""
    if latitude is None or longitude is None:
        return ""
    return f"{latitude:.5f}, {longitude:.5f}"


def timestamp(value: datetime | None) -> str:
    """A stored (UTC) time as ISO-like text a person can read."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def date_shot(text: str) -> str:
    return describe(text)


def job_error(text: str) -> str:
    """A job's error as visitors see it: paths inside the data root shortened to store-relative ones.

    ffmpeg's stderr names the files it read; where the archive keeps them is nobody else's business.
    """
    root = str(current_archive().data_root)
    return text.replace(root + "/", "").replace(root, ".")


FILTERS = {
    "duration": duration,
    "filesize": filesize,
    "bitrate": bitrate,
    "frame_rate": frame_rate,
    "timestamp": timestamp,
    "date_shot": date_shot,
    "job_error": job_error,
}
