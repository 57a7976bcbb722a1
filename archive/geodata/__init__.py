"""Countries on the map: a representative point and a display name per ISO 3166-1 alpha-2 code.

The table is made from Natural Earth outlines by scripts/build-geodata.py and committed, so the
app never needs the npm package it came from.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TypedDict

POINTS_FILE = Path(__file__).with_name("country_points.json")


class CountryPoint(TypedDict):
    name: str
    lat: float  #: WGS84 degrees
    lon: float  #: WGS84 degrees


@functools.cache
def country_points() -> dict[str, CountryPoint]:
    """Every country with an outline, keyed by upper-case alpha-2 code (read once)."""
    return json.loads(POINTS_FILE.read_text(encoding="utf-8"))


def country_point(code: str) -> tuple[float, float] | None:
    """(latitude, longitude) of a point inside the country, or None for a code without an outline
    (unknown codes, and a few territories Natural Earth draws as part of another country)."""
    point = country_points().get(code.upper())
    return (point["lat"], point["lon"]) if point else None


def country_name(code: str) -> str | None:
    """The country's short English name ("North Korea", "Laos"), or None for a code without an outline."""
    point = country_points().get(code.upper())
    return point["name"] if point else None
