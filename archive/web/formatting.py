"""Template filters: durations, sizes, rates and places as people read them."""

from __future__ import annotations

import math
from datetime import datetime

from archive.web.context import current_archive
from archive.dates import describe
from archive.timecode import format_timecode


def duration(seconds: float | None) -> str:
    """H:MM:SS (seconds rounded down), the way players show time; empty when unknown."""
    if seconds is None or seconds < 0:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def cue_time(seconds: float | None) -> str:
    """A cue's start as H:MM:SS, with tenths where the cue has them ("0:00:03.5"); empty when unknown.

    Cues of a transcript are often less than a second apart: "0:00:03" twice would hide which comes first.
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    text = format_timecode(seconds, 1)
    return text.removesuffix(".0")


#: Scripts that name one language as far as a place's other names go: (first, last code point, BCP 47 tag).
#: Han is written for Chinese here (the gazetteer's other names are Chinese, Korean, Thai and Lao); Latin
#: names (Hà Nội, Krung Thep) are not told apart and take the page's language.
SCRIPT_LANGUAGES = (
    (0x0E00, 0x0E7F, "th"),
    (0x0E80, 0x0EFF, "lo"),
    (0x1100, 0x11FF, "ko"), (0x3130, 0x318F, "ko"), (0xAC00, 0xD7AF, "ko"),
    (0x3040, 0x30FF, "ja"),
    (0x4E00, 0x9FFF, "zh"), (0x3400, 0x4DBF, "zh"),
)


def name_language(name: str) -> str:
    """The language tag a name's script tells (`lang` for screen readers and fonts), "" when it does not.

    Kana before Han: a name with both is Japanese.
    """
    found = {tag for char in name for first, last, tag in SCRIPT_LANGUAGES if first <= ord(char) <= last}
    for tag in ("th", "lo", "ko", "ja", "zh"):
        if tag in found:
            return tag
    return ""


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
    "cue_time": cue_time,
    "name_language": name_language,
    "filesize": filesize,
    "bitrate": bitrate,
    "frame_rate": frame_rate,
    "timestamp": timestamp,
    "date_shot": date_shot,
    "job_error": job_error,
}
