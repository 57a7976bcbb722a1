"""archive.geo: great-circle distances, the nearest point, coarsening and GeoJSON shapes (pure functions)."""

from __future__ import annotations

import random

import pytest

from archive import geo
from archive.models import LocationPrecision

HYESAN, CHANGBAI = (41.40, 128.18), (41.42, 128.20)
SEOUL, BANGKOK = (37.57, 126.98), (13.75, 100.50)


@pytest.mark.parametrize(("a", "b", "km"), [
    (HYESAN, CHANGBAI, 2.78),          # across the Yalu: 2.22 km north, 1.67 km east
    (SEOUL, BANGKOK, 3720),            # the flight of the last leg
    ((0.0, 0.0), (0.0, 1.0), 111.195),  # one degree along the equator
    ((0.0, 179.5), (0.0, -179.5), 111.195),  # across the antimeridian, not round the world
])
def test_great_circle_distance_of_known_pairs(a: tuple[float, float], b: tuple[float, float], km: float) -> None:
    assert geo.haversine_km(*a, *b) == pytest.approx(km, rel=0.01)
    assert geo.haversine_km(*b, *a) == pytest.approx(geo.haversine_km(*a, *b))


def test_path_length_sums_its_segments() -> None:
    assert geo.path_km([HYESAN, CHANGBAI, HYESAN]) == pytest.approx(2 * geo.haversine_km(*HYESAN, *CHANGBAI))
    assert geo.path_km([HYESAN]) == 0


def test_nearest_within_a_radius() -> None:
    points = [("Hyesan", *HYESAN), ("Changbai", *CHANGBAI), ("Seoul", *SEOUL)]
    key, distance = geo.nearest(points, 41.419, 128.199)
    assert key == "Changbai" and distance < 0.2
    assert geo.nearest(points, 40.0, 125.0, radius_km=25) is None
    assert geo.nearest([], 0, 0) is None


def test_bounding_box_holds_the_radius_and_splits_at_the_antimeridian() -> None:
    box = geo.bounding_box(*HYESAN, 25)
    assert box.min_lat < HYESAN[0] < box.max_lat and len(box.lon_ranges) == 1
    west, east = box.lon_ranges[0]
    assert geo.haversine_km(HYESAN[0], HYESAN[1], HYESAN[0], west) >= 25
    split = geo.bounding_box(0.0, 179.9, 50)
    assert len(split.lon_ranges) == 2 and (-180.0, pytest.approx(-179.65, abs=0.1)) == split.lon_ranges[1]


@pytest.mark.parametrize(("value", "message"), [
    ("91", "latitude 91 is out of range"), ("north", "not 'north'"), ("", "latitude is missing"),
    (float("nan"), "number of decimal degrees"), (True, "number of decimal degrees"),
])
def test_parse_coordinate_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        geo.parse_coordinate(value, "latitude")  # type: ignore[arg-type]
    assert geo.parse_coordinate(" -179.5 ", "longitude") == -179.5


def test_km10_snaps_to_the_centre_of_a_tenth_of_a_degree() -> None:
    assert geo.coarsen(*CHANGBAI, LocationPrecision.km10) == (41.45, 128.25)
    assert geo.coarsen(41.4123, 128.1934, LocationPrecision.km10) == (41.45, 128.15)
    assert geo.coarsen(-33.8688, 151.2093, LocationPrecision.km10) == (-33.85, 151.25)
    assert geo.snap(90.0, 180.0, 0.1) == (89.95, -179.95)  # the edges stay on the globe


def test_region_takes_the_parent_else_a_degree_cell_and_country_its_point() -> None:
    assert geo.coarsen(*CHANGBAI, LocationPrecision.region, region=(41.42, 128.2)) == (41.42, 128.2)
    assert geo.coarsen(*CHANGBAI, LocationPrecision.region) == (41.5, 128.5)
    assert geo.coarsen(*HYESAN, LocationPrecision.country, country=(40.154, 127.193)) == (40.154, 127.193)
    assert geo.coarsen(*HYESAN, LocationPrecision.country) == (42.5, 127.5)
    assert geo.coarsen(*HYESAN, LocationPrecision.exact) == HYESAN


def test_coarsening_never_returns_the_exact_coordinates() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        lat, lon = rng.uniform(-89.9, 89.9), rng.uniform(-179.9, 179.9)
        for precision, step in ((LocationPrecision.km10, 0.1), (LocationPrecision.region, 1.0),
                                (LocationPrecision.country, 5.0)):
            coarse = geo.coarsen(lat, lon, precision)
            assert coarse != (lat, lon)
            # it depends on the cell only: anywhere else in the cell gives the same answer
            assert abs(coarse[0] - lat) <= step / 2 + 1e-9 and abs(coarse[1] - lon) <= step / 2 + 1e-9
            assert geo.coarsen(coarse[0] + step / 4, coarse[1] - step / 4, precision) == coarse


def test_country_points_come_from_natural_earth() -> None:
    lat, lon = geo.country_point("kp")
    assert 37.5 < lat < 43 and 124 < lon < 131
    assert geo.country_point("XX") is None and geo.country_point(None) is None


def test_coarsest_orders_the_precisions() -> None:
    assert geo.coarsest(LocationPrecision.km10, LocationPrecision.exact) is LocationPrecision.km10
    assert geo.coarsest(LocationPrecision.country, LocationPrecision.region) is LocationPrecision.country
    assert geo.coarsest() is LocationPrecision.exact


def test_geojson_is_longitude_first() -> None:
    position = geo.Position(41.4, 128.18)
    line = geo.line_feature([position, geo.Position(*CHANGBAI)], {"role": "route"})
    assert line["geometry"] == {"type": "LineString", "coordinates": [[128.18, 41.4], [128.2, 41.42]]}
    point = geo.point_feature(position, {"name": "Hyesan"})
    assert point["geometry"]["coordinates"] == [128.18, 41.4] and point["properties"] == {"name": "Hyesan"}
    assert geo.feature_collection([point])["type"] == "FeatureCollection"


def test_dedupe_consecutive_keeps_order_and_returns() -> None:
    assert geo.dedupe_consecutive(["KP", "CN", "CN", "VN", "CN"]) == ["KP", "CN", "VN", "CN"]
