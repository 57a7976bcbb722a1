"""Location and capture time from every carrier ExifTool reads, one exiftool call per batch of files.

ffprobe and Pillow read the EXIF GPS block of stills and the ISO 6709 tags of containers. A position
also travels in XMP, in an eXIf chunk after a PNG's pixels, in QuickTime Keys and UserData, in a
GoPro GPMF timed-metadata track or as the text of a drone's subtitle track; ExifTool, the reference
reader, finds those (timed tracks with -ee), and this module turns its JSON into `Embedded` values.
`with_embedded` adds to a MediaInfo what only ExifTool found, keeping what ffprobe and Pillow read.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .metadata import exif_datetime, number, parse_iso6709, plausible_position, text_value
from .probe import MediaInfo
from .runner import EXIFTOOL, MediaToolError, run

#: Tags asked for: every GPS tag, every date, subtitle text (drones write their GPS there), and the
#: per-file complaints. Asking for these only keeps the JSON of a batch small.
TAGS = ("-GPS*", "-*Date*", "-OffsetTime*", "-Text", "-Error", "-Warning")
#: Groups about the file on disk (its modification date, ...), not about what was filmed.
_FILE_GROUPS = {"System", "File", "ExifTool"}
_PLAIN_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclass(frozen=True)
class Embedded:
    """What ExifTool found in one file; positions in WGS84 degrees (north and east positive), metres."""

    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    creation_time: datetime | None = None  #: aware, UTC
    #: ExifTool group the position came from ("XMP-exif", "GPS", "Track2", "UserData", ...).
    carrier: str = ""
    #: ExifTool could not read the file (its "Error" tag); ffprobe or Pillow may still have.
    error: str = ""


def exiftool_cmd(argfile: Path) -> list[str]:
    """The exiftool command reading every file named (one a line) in `argfile`, as JSON.

    -n gives numbers (signed degrees where the carrier has them), -G1 names each tag's group
    (which EXIF block, XMP namespace or track), -ee reads timed metadata (GPMF, subtitle tracks).
    """
    return [EXIFTOOL, "-j", "-n", "-G1", "-ee", "-q", "-api", "LargeFileSupport=1", *TAGS,
            "-@", str(argfile)]


def read_embedded(paths: Sequence[Path], *, timeout: float) -> list[Embedded]:
    """Read location and capture time of every file in `paths` with one exiftool call; lined up with paths.

    Raises MediaToolError (ToolTimeout, ToolError) when the call as a whole fails; a file ExifTool
    cannot read gets an Embedded with `error` set.
    """
    if not paths:
        return []
    with tempfile.TemporaryDirectory(prefix="exiftool-") as tmp:
        # Files are named through links 0.jpg, 1.mp4, ...: an argfile cannot hold a name with a
        # newline, and the JSON names files in UTF-8, which not every file name is.
        names = []
        for i, path in enumerate(paths):
            suffix = Path(path).suffix
            name = f"{i}{suffix if _PLAIN_SUFFIX.fullmatch(suffix) else ''}"  # the suffix helps ExifTool guess
            os.symlink(Path(path).resolve(), Path(tmp) / name)
            names.append(name)
        argfile = Path(tmp) / "files.args"
        argfile.write_text("".join(f"{tmp}/{name}\n" for name in names), encoding="utf-8")
        # Exit status 1: some file could not be read; the others are in the JSON all the same.
        out = run(exiftool_cmd(argfile), timeout=timeout, ok_returncodes=(0, 1))
        try:
            records = json.loads(out.decode("utf-8", "replace") or "[]")
        except ValueError as exc:
            raise MediaToolError(f"exiftool gave unreadable output: {exc}", args_list=exiftool_cmd(argfile)) from exc
        by_name = {Path(str(r.get("SourceFile", ""))).name: r for r in records if isinstance(r, dict)}
    return [embedded_from_json(by_name[name]) if name in by_name else Embedded(error="exiftool said nothing about it")
            for name in names]


def embedded_from_json(record: dict[str, Any]) -> Embedded:
    """Location and capture time from one file's record of `exiftool -j -n -G1 -ee` output."""
    tags: dict[str, dict[str, Any]] = {}
    for key, value in record.items():
        group, _, name = key.rpartition(":")
        if group and group not in _FILE_GROUPS:
            tags.setdefault(group, {})[name] = value
    (lat, lon, alt), carrier = _position(tags)
    return Embedded(latitude=lat, longitude=lon, altitude=alt, creation_time=_capture_time(tags), carrier=carrier,
                    error=text_value(record.get("ExifTool:Error")) or "")


Position = tuple[float | None, float | None, float | None]


def _position(tags: dict[str, dict[str, Any]]) -> tuple[Position, str]:
    """The first plausible position: ExifTool's own composite, then each group's tags, then drone text."""
    composite = tags.get("Composite", {})
    found = plausible_position(number(composite.get("GPSLatitude")), number(composite.get("GPSLongitude")),
                               number(composite.get("GPSAltitude")))
    if found[0] is not None:
        return found, _source_group(tags) or "Composite"
    for group, values in tags.items():
        if "GPSLatitude" in values and "GPSLongitude" in values:
            found = plausible_position(_signed(values, "GPSLatitude", "S"), _signed(values, "GPSLongitude", "W"),
                                       _altitude(values))
            if found[0] is not None:
                return found, group
    for group, values in tags.items():
        for name in ("GPSCoordinates", "GPSPosition"):
            if name in values:
                found = _coordinates(values[name])
                if found[0] is not None:
                    return found, group
    for group, values in tags.items():
        for value in values.values():
            if isinstance(value, str):
                found = drone_text_position(value)
                if found[0] is not None:
                    return found, group
    return (None, None, None), ""


def _source_group(tags: dict[str, dict[str, Any]]) -> str:
    """The group ExifTool made its composite position from."""
    return next((g for g, values in tags.items() if g != "Composite"
                 and ("GPSLatitude" in values or "GPSCoordinates" in values)), "")


def _signed(values: dict[str, Any], name: str, negative_ref: str) -> float | None:
    value = number(values.get(name))
    ref = (text_value(values.get(f"{name}Ref")) or "").upper()
    if value is not None and ref.startswith(negative_ref):
        value = -abs(value)
    return value


def _altitude(values: dict[str, Any]) -> float | None:
    alt = number(values.get("GPSAltitude"))
    if alt is not None and number(values.get("GPSAltitudeRef")) == 1:  # below sea level
        alt = -abs(alt)
    return alt


def _coordinates(value: Any) -> Position:
    """ "41.5 -128.25 10" (or "41.5, -128.25"), as ExifTool prints GPSCoordinates with -n; or ISO 6709."""
    text = text_value(value) if not isinstance(value, (int, float)) else None
    if not text:
        return None, None, None
    if text.startswith(("+", "-")) and parse_iso6709(text)[0] is not None:
        return parse_iso6709(text)
    parts = [number(p) for p in re.split(r"[\s,]+", text.strip()) if p]
    if len(parts) < 2 or parts[0] is None or parts[1] is None:
        return None, None, None
    return plausible_position(parts[0], parts[1], parts[2] if len(parts) > 2 else None)


_NUM = r"([+-]?\d+(?:\.\d+)?)"
# DJI subtitle lines: "GPS(-128.2500,41.5000,10)" (longitude first) on older drones,
# "[latitude: 41.500000] [longitude: -128.250000] [rel_alt: 10.000 abs_alt: 120.500]" on newer ones.
_DJI_GPS = re.compile(rf"GPS\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*(?:,\s*{_NUM})?")
_DJI_LAT = re.compile(rf"\blatitude\s*:\s*{_NUM}", re.IGNORECASE)
_DJI_LON = re.compile(rf"\blongitude\s*:\s*{_NUM}", re.IGNORECASE)
_DJI_ALT = re.compile(rf"\b(?:abs_alt|altitude)\s*:\s*{_NUM}", re.IGNORECASE)


def drone_text_position(text: str) -> Position:
    """A position from a drone's subtitle text (DJI's two styles); (None, None, None) if it has none."""
    match = _DJI_GPS.search(text)
    if match:
        lon, lat = number(match.group(1)), number(match.group(2))
        return plausible_position(lat, lon, number(match.group(3)) if match.group(3) else None)
    lat_match, lon_match = _DJI_LAT.search(text), _DJI_LON.search(text)
    if lat_match and lon_match:
        alt_match = _DJI_ALT.search(text)
        return plausible_position(number(lat_match.group(1)), number(lon_match.group(1)),
                                  number(alt_match.group(1)) if alt_match else None)
    return None, None, None


# Capture times, most telling first: when the picture was taken, then when the file was made, then
# the GPS clock (always UTC).
_TIME_TAGS = ("DateTimeOriginal", "CreationDate", "DateCreated", "CreateDate", "GPSDateTime")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_TEXT_TIME = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


def _capture_time(tags: dict[str, dict[str, Any]]) -> datetime | None:
    for name in _TIME_TAGS:
        for group, values in tags.items():
            if name in values:
                when = exiftool_datetime(values[name], values.get("OffsetTimeOriginal") if name == "DateTimeOriginal"
                                         else None)
                if when is not None:
                    return when
    for values in tags.values():  # a drone's subtitle text: "2021-05-06 07:08:09.123", its local time
        text = values.get("Text")
        match = _TEXT_TIME.search(text) if isinstance(text, str) else None
        if match:
            when = exif_datetime(match.group(1))
            if when is not None:
                return when
    return None


def exiftool_datetime(value: Any, offset: Any = None) -> datetime | None:
    """ExifTool's "YYYY:MM:DD HH:MM:SS[.sss][+HH:MM|Z]" as aware UTC; a zone in the value beats `offset`."""
    text = text_value(value) if not isinstance(value, (int, float)) else None
    if not text:
        return None
    zone = _ZONE.search(text)
    if zone:
        offset = "+00:00" if zone.group(1) == "Z" else zone.group(1)
    return exif_datetime(text, offset)


def with_embedded(info: MediaInfo, embedded: Embedded | None) -> MediaInfo:
    """`info` with the position and capture time that only ExifTool found added; what it had is kept."""
    if embedded is None:
        return info
    changes: dict[str, Any] = {}
    if info.latitude is None and embedded.latitude is not None:
        changes.update(latitude=embedded.latitude, longitude=embedded.longitude, altitude=embedded.altitude)
    if info.creation_time is None and embedded.creation_time is not None:
        changes["creation_time"] = embedded.creation_time
    return replace(info, **changes) if changes else info
