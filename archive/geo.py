"""Geometry on the WGS84 sphere, position coarsening and GeoJSON shapes; pure functions, no database.

Positions are (latitude, longitude) in decimal degrees everywhere in Python, as people write
them; only GeoJSON turns them round to [longitude, latitude], and only the builders here do it.

Coarsening (`coarsen`) is the arithmetic behind location safety; who gets a coarsened position
is decided by archive.access.published_position. A coarsened position depends only on the grid
cell, the parent place or the country, never on where in the cell the exact point lies, so it
tells nothing finer even when it happens to fall on the exact point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from archive import geodata
from archive.models import LocationPrecision

#: Mean Earth radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088
#: Grid steps, in degrees, of the coarsened precisions.
KM10_STEP = 0.1
REGION_STEP = 1.0
#: A country position with no representative point known falls back to a cell this coarse.
COUNTRY_FALLBACK_STEP = 5.0
#: Decimals kept in GeoJSON coordinates (about 10 cm).
GEOJSON_DECIMALS = 6

LatLon = tuple[float, float]
K = TypeVar("K", bound=Hashable)


# -- coordinates --------------------------------------------------------------------------------

def parse_coordinate(value: float | int | str | None, axis: str) -> float:
    """A latitude or longitude (`axis`) in decimal degrees from a number or its text; ValueError says why not."""
    limit = 90 if axis == "latitude" else 180
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            raise ValueError(f"{axis} is missing")
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{axis} must be a number of decimal degrees, not {raw!r}") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif value is None:
        raise ValueError(f"{axis} is missing")
    else:
        raise ValueError(f"{axis} must be a number of decimal degrees, not {value!r}")
    if not math.isfinite(number):
        raise ValueError(f"{axis} must be a number of decimal degrees, not {value!r}")
    if not -limit <= number <= limit:
        raise ValueError(f"{axis} {number:g} is out of range (-{limit} to {limit})")
    return number


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def path_km(points: Iterable[LatLon]) -> float:
    """Length in kilometres of the great-circle path through `points` in order."""
    total, previous = 0.0, None
    for point in points:
        if previous is not None:
            total += haversine_km(*previous, *point)
        previous = point
    return total


@dataclass(frozen=True)
class BoundingBox:
    """Latitude and longitude bounds that hold every point within a radius; for a first cut in SQL."""
    min_lat: float
    max_lat: float
    #: One (min, max) range, or two when the box crosses the antimeridian.
    lon_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """The box around (lat, lon) holding every point within `radius_km` (generous near the poles)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if min_lat <= -90 or max_lat >= 90 or dlat >= 90:
        return BoundingBox(min_lat, max_lat, ((-180.0, 180.0),))
    # The widest longitude span is at the latitude in the box furthest from the equator.
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(max(abs(min_lat), abs(max_lat))))))
    if dlon >= 180:
        return BoundingBox(min_lat, max_lat, ((-180.0, 180.0),))
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return BoundingBox(min_lat, max_lat, ((west + 360, 180.0), (-180.0, east)))
    if east > 180:
        return BoundingBox(min_lat, max_lat, ((west, 180.0), (-180.0, east - 360)))
    return BoundingBox(min_lat, max_lat, ((west, east),))


def nearest(candidates: Iterable[tuple[K, float, float]], lat: float, lon: float,
            radius_km: float | None = None) -> tuple[K, float] | None:
    """The (key, distance in km) of the candidate (key, lat, lon) nearest to (lat, lon), within the radius if given."""
    best: tuple[K, float] | None = None
    for key, clat, clon in candidates:
        distance = haversine_km(lat, lon, clat, clon)
        if (radius_km is None or distance <= radius_km) and (best is None or distance < best[1]):
            best = (key, distance)
    return best


# -- coarsening ---------------------------------------------------------------------------------

def snap(lat: float, lon: float, step: float) -> LatLon:
    """The centre of the `step`-degree grid cell holding (lat, lon)."""
    def centre(value: float, low: float, high: float) -> float:
        cells = round((high - low) / step)
        # The epsilon keeps 41.4 (stored as 41.39999...) in the cell a person would expect.
        index = min(cells - 1, max(0, math.floor((value - low) / step + 1e-9)))
        return round(low + (index + 0.5) * step, 6)

    lon = ((lon + 180.0) % 360.0) - 180.0  # 180 is -180
    return centre(lat, -90.0, 90.0), centre(lon, -180.0, 180.0)


def coarsen(lat: float, lon: float, precision: LocationPrecision, *, region: LatLon | None = None,
            country: LatLon | None = None) -> LatLon:
    """The position to publish in place of (lat, lon) at `precision`.

    `region` is the already published position of the parent place, `country` the country's
    representative point; without them a region falls back to its 1° cell and a country to its
    5° cell.
    """
    precision = LocationPrecision(precision)
    if precision is LocationPrecision.exact:
        return lat, lon
    if precision is LocationPrecision.km10:
        return snap(lat, lon, KM10_STEP)
    if precision is LocationPrecision.region:
        return region if region is not None else snap(lat, lon, REGION_STEP)
    return country if country is not None else snap(lat, lon, COUNTRY_FALLBACK_STEP)


def coarsest(*precisions: LocationPrecision) -> LocationPrecision:
    """The coarsest of the given precisions (exact when none is given)."""
    return max((LocationPrecision(p) for p in precisions), key=lambda p: p.rank, default=LocationPrecision.exact)


@dataclass(frozen=True)
class Position:
    """A position as published to one viewer: exact, or coarsened at `precision`."""
    lat: float
    lon: float
    #: What was applied for this viewer: exact when they see the recorded position.
    precision: LocationPrecision = LocationPrecision.exact

    @property
    def coarsened(self) -> bool:
        return self.precision is not LocationPrecision.exact

    @property
    def latlon(self) -> LatLon:
        return self.lat, self.lon

    def geojson(self) -> list[float]:
        """[longitude, latitude], GeoJSON's order."""
        return [round(self.lon, GEOJSON_DECIMALS), round(self.lat, GEOJSON_DECIMALS)]


def country_point(code: str | None) -> LatLon | None:
    """A representative point inside the country (ISO 3166-1 alpha-2), from Natural Earth; None if unknown."""
    return geodata.country_point(code) if code else None


# -- GeoJSON (RFC 7946) -------------------------------------------------------------------------

def point_feature(position: Position, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": position.geojson()},
            "properties": properties}


def line_feature(positions: Sequence[Position], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [p.geojson() for p in positions]},
            "properties": properties}


def feature_collection(features: Iterable[dict[str, Any]], **members: Any) -> dict[str, Any]:
    """A FeatureCollection; `members` are foreign members (e.g. a title) beside the features."""
    return {"type": "FeatureCollection", **members, "features": list(features)}


def dedupe_consecutive(values: Iterable[K], key: Callable[[K], Any] = lambda v: v) -> list[K]:
    """`values` with runs of equal ones (by `key`) collapsed to the first of each run."""
    result: list[K] = []
    for value in values:
        if not result or key(result[-1]) != key(value):
            result.append(value)
    return result
