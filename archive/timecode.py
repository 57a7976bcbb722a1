"""Times within media as people write them: seconds, MM:SS or H:MM:SS, with an optional fraction.

Shared by time-range tags, `?t=` deep links and transcripts; static/item.js reads the same forms.
"""

from __future__ import annotations

import math
import re

_TIMECODE = re.compile(
    r"(?:(?:(?P<hours>\d+):)?(?P<minutes>\d+):)?(?P<seconds>\d+(?:[.,]\d*)?|[.,]\d+)", re.ASCII)

#: What parse_timecode accepts, for messages and form hints.
FORMS = "seconds (75.5), MM:SS (1:15.5) or H:MM:SS (0:01:15.5)"


def parse_timecode(text: str) -> float:
    """Seconds from "75.5", "1:15.5" or "0:01:15.500" (a comma works as the decimal point too, as in SRT).

    Raises ValueError saying which forms are accepted.
    """
    match = _TIMECODE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a time: write {FORMS}")
    hours, minutes = match["hours"], match["minutes"]
    seconds = float(match["seconds"].replace(",", "."))
    if minutes is not None and seconds >= 60:
        raise ValueError(f"{text!r} has {seconds:g} seconds; after a colon there are fewer than 60")
    if hours is not None and int(minutes) >= 60:
        raise ValueError(f"{text!r} has {minutes} minutes; in H:MM:SS there are fewer than 60")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + seconds


def format_timecode(seconds: float, places: int = 1) -> str:
    """H:MM:SS with `places` decimals, trailing zeros dropped down to one ("0:01:15.5", "1:02:03.25")."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a time within media is a finite number of seconds from 0, not {seconds!r}")
    scale = 10 ** places
    # Halves round up, as in the player's script; rounding first carries 59.96 into the minute.
    whole, fraction = divmod(math.floor(seconds * scale + 0.5), scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    decimals = f"{fraction:0{places}d}".rstrip("0") if places else ""
    return f"{hours}:{minutes:02d}:{secs:02d}.{decimals or '0'}"


def seconds_param(seconds: float) -> str:
    """Seconds as a short `?t=` value: "75", "75.5"."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
