"""What files say about themselves, parsed: EXIF dates and GPS, ISO 6709 positions, container times.

Pure functions of plain values; the values found in the wild include placeholders (clocks never set,
GPS without a fix), which come back as None rather than as a wrong answer.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any


def text_value(value: Any) -> str | None:
    """A clean string from an EXIF or tag value (bytes, NUL-padded, blank): None if there is none."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def number(value: Any) -> float | None:
    """A finite float from a number, rational or numeric string; None otherwise (0/0 rationals too)."""
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _dms(value: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals (or fewer parts)."""
    parts = value if isinstance(value, (tuple, list)) else (value,)
    numbers = [number(p) for p in parts[:3]]
    if not numbers or any(n is None for n in numbers):
        return None
    return sum(n / 60 ** i for i, n in enumerate(numbers))  # type: ignore[operator]


def gps_from_exif(gps: dict[int, Any]) -> tuple[float | None, float | None, float | None]:
    """(latitude, longitude, altitude) from an EXIF GPS IFD; None for what is missing or implausible."""
    lat, lon = _dms(gps.get(2)), _dms(gps.get(4))
    lat_ref, lon_ref = (text_value(gps.get(1)) or "").upper(), (text_value(gps.get(3)) or "").upper()
    if lat is None or lon is None:
        return None, None, None
    # Cameras without a fix write 0/0 and no hemisphere; that is "unknown", not the Gulf of Guinea.
    if lat == 0 and lon == 0 and not lat_ref and not lon_ref:
        return None, None, None
    lat = -abs(lat) if lat_ref.startswith("S") else lat
    lon = -abs(lon) if lon_ref.startswith("W") else lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None, None
    alt = number(gps.get(6))
    if alt is not None and gps.get(5) in (1, b"\x01", "\x01"):  # AltitudeRef 1: below sea level
        alt = -alt
    return round(lat, 7), round(lon, 7), alt


_EXIF_DATE = re.compile(r"^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


def exif_datetime(value: Any, offset: Any = None) -> datetime | None:
    """An EXIF "YYYY:MM:DD HH:MM:SS" (plus optional "+HH:MM" offset) as aware UTC; None for placeholders.

    Without an offset the camera's zone is unknown and the time is taken as UTC.
    """
    match = _EXIF_DATE.match(text_value(value) or "")
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        when = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:  # "0000:00:00 00:00:00" and other blanks
        return None
    off = _OFFSET.match(text_value(offset) or "")
    if off:
        sign = -1 if off.group(1) == "-" else 1
        when -= sign * timedelta(hours=int(off.group(2)), minutes=int(off.group(3)))
    return plausible_time(when)


# Values written by devices whose clock was never set: the Unix and QuickTime epochs (give or take
# a day of time-zone shifting) and the FAT epoch.
_EPOCHS = (datetime(1904, 1, 1, tzinfo=timezone.utc), datetime(1970, 1, 1, tzinfo=timezone.utc))
_FAT_EPOCH = datetime(1980, 1, 1, tzinfo=timezone.utc)


def plausible_time(when: datetime | None) -> datetime | None:
    """`when` in UTC, or None if it is a placeholder or lies in the future."""
    if when is None:
        return None
    when = when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if when <= _EPOCHS[0] + timedelta(days=1) or abs(when - _EPOCHS[1]) <= timedelta(days=1):
        return None
    if when == _FAT_EPOCH or when > datetime.now(timezone.utc) + timedelta(days=1):
        return None
    return when


def iso_datetime(value: str | None) -> datetime | None:
    """A container's ISO 8601 time ("2021-05-06T07:08:09.000000Z", "...+0200") as aware UTC, or None."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # "+0200" -> "+02:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return plausible_time(when)


_ISO6709 = re.compile(r"^\s*([+-][\d.]+)([+-][\d.]+)([+-][\d.]+)?\s*(?:CRS[^/]*)?/?\s*$")


def _iso6709_angle(text: str, degree_digits: int) -> float | None:
    """One ISO 6709 angle: ±DD.D, ±DDMM.M or ±DDMMSS.S (three degree digits for longitude)."""
    sign = -1 if text[0] == "-" else 1
    whole, _, frac = text[1:].partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return None
    value = float(f"{whole}.{frac or 0}")
    if len(whole) <= degree_digits:
        return sign * value
    if len(whole) == degree_digits + 2:  # degrees and minutes
        return sign * (int(whole[:-2]) + float(f"{whole[-2:]}.{frac or 0}") / 60)
    if len(whole) == degree_digits + 4:  # degrees, minutes and seconds
        return sign * (int(whole[:-4]) + int(whole[-4:-2]) / 60 + float(f"{whole[-2:]}.{frac or 0}") / 3600)
    return None


def parse_iso6709(text: str | None) -> tuple[float | None, float | None, float | None]:
    """(latitude, longitude, altitude) from an ISO 6709 string such as "+41.4000+128.1800+010.000/"."""
    match = _ISO6709.match(text or "")
    if not match:
        return None, None, None
    lat, lon = _iso6709_angle(match.group(1), 2), _iso6709_angle(match.group(2), 3)
    return plausible_position(lat, lon, number(match.group(3)) if match.group(3) else None)


def plausible_position(lat: float | None, lon: float | None,
                       alt: float | None = None) -> tuple[float | None, float | None, float | None]:
    """(latitude, longitude, altitude) rounded to 7 places, or all None when out of range or unset (0, 0)."""
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None, None
    if lat == 0 and lon == 0:  # an unset position, as with EXIF
        return None, None, None
    return round(lat, 7), round(lon, 7), alt
