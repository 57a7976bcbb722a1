"""The offline map's parts: the committed Natural Earth data, its loader, its conversion script,
and Leaflet served from node_modules/."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask.testing import FlaskClient

from archive import geodata
from archive.web import vendor

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ROOT / "static" / "geodata" / "countries.geojson"
POINTS = ROOT / "archive" / "geodata" / "country_points.json"
#: The journey's countries, and its neighbours whose points are easily misplaced.
JOURNEY_COUNTRIES = ("KP", "CN", "VN", "LA", "TH", "KR", "MM", "KH", "RU", "MN")


def _inside(lon: float, lat: float, polygon: list[list[list[float]]]) -> bool:
    """Even-odd ray casting over all rings, so a point in a hole is outside."""
    inside = False
    for ring in polygon:
        for (ax, ay), (bx, by) in zip(ring, ring[1:]):
            if (ay > lat) != (by > lat) and lon < (bx - ax) * (lat - ay) / (by - ay) + ax:
                inside = not inside
    return inside


def _polygons(feature: dict[str, Any]) -> list[list[list[list[float]]]]:
    geometry = feature["geometry"]
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


@pytest.fixture(scope="module")
def countries() -> dict[str, Any]:
    return json.loads(COUNTRIES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def by_code(countries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["iso2"]: f for f in countries["features"] if f["properties"]["iso2"]}


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_geodata", ROOT / "scripts" / "build-geodata.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the committed data ------------------------------------------------------------------------

def test_countries_geojson_is_a_feature_collection_of_named_countries(countries: dict[str, Any],
                                                                      by_code: dict[str, dict[str, Any]]) -> None:
    assert countries["type"] == "FeatureCollection"
    assert len(countries["features"]) > 200
    for feature in countries["features"]:
        assert set(feature["properties"]) == {"iso2", "name", "label_point"}, feature["properties"]
        assert feature["properties"]["name"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert by_code["KP"]["properties"]["name"] == "North Korea"
    assert by_code["LA"]["properties"]["name"] == "Laos"


def test_countries_geojson_is_lon_lat_rounded_and_closed(by_code: dict[str, dict[str, Any]]) -> None:
    # North Korea spans about 124-131°E and 37.5-43°N: swapped axes would put it in the sea.
    lons = [lon for polygon in _polygons(by_code["KP"]) for ring in polygon for lon, _ in ring]
    lats = [lat for polygon in _polygons(by_code["KP"]) for ring in polygon for _, lat in ring]
    assert 123.5 < min(lons) < max(lons) < 131.5
    assert 37.4 < min(lats) < max(lats) < 43.1
    for feature in by_code.values():
        for polygon in _polygons(feature):
            for ring in polygon:
                assert ring[0] == ring[-1] and len(ring) >= 4, feature["properties"]
                for lon, lat in ring:
                    assert -180 <= lon <= 180 and -90 <= lat <= 90
                    assert round(lon, 3) == lon and round(lat, 3) == lat


def test_geodata_files_stay_small_enough_for_a_browser() -> None:
    assert 100_000 < COUNTRIES.stat().st_size < 1_000_000
    assert POINTS.stat().st_size < 40_000


@pytest.mark.parametrize("code", JOURNEY_COUNTRIES)
def test_country_point_lies_inside_its_country(code: str, by_code: dict[str, dict[str, Any]]) -> None:
    point = json.loads(POINTS.read_text(encoding="utf-8"))[code]
    assert any(_inside(point["lon"], point["lat"], polygon) for polygon in _polygons(by_code[code])), point
    # ...and not inside a neighbour as well (an outline drawn twice, or a point on a shared border).
    others = [c for c, f in by_code.items() if c != code
              and any(_inside(point["lon"], point["lat"], p) for p in _polygons(f))]
    assert others == []


def test_every_country_point_is_inside_its_drawn_outline(by_code: dict[str, dict[str, Any]]) -> None:
    points = json.loads(POINTS.read_text(encoding="utf-8"))
    assert set(points) == set(by_code)
    outside = [code for code, p in points.items()
               if not any(_inside(p["lon"], p["lat"], polygon) for polygon in _polygons(by_code[code]))]
    assert outside == []


def test_every_outline_carries_its_label_point_inside_it(countries: dict[str, Any]) -> None:
    """The map writes a country's name at label_point: inside the country (a bounding-box centre is
    not, for Vietnam or Laos), and for a coded country the same point the server uses."""
    points = json.loads(POINTS.read_text(encoding="utf-8"))
    outside = []
    for feature in countries["features"]:
        properties = feature["properties"]
        lon, lat = properties["label_point"]
        if not any(_inside(lon, lat, polygon) for polygon in _polygons(feature)):
            outside.append(properties["name"])
        if properties["iso2"]:
            assert [points[properties["iso2"]]["lon"], points[properties["iso2"]]["lat"]] == [lon, lat]
    assert outside == []


def test_country_point_and_name_read_the_committed_table() -> None:
    table = json.loads(POINTS.read_text(encoding="utf-8"))
    assert geodata.country_point("KP") == (table["KP"]["lat"], table["KP"]["lon"])
    assert geodata.country_point("th") == geodata.country_point("TH")
    assert geodata.country_name("VN") == "Vietnam"
    assert geodata.country_point("ZZ") is None
    assert geodata.country_name("ZZ") is None


# -- the conversion script ---------------------------------------------------------------------

def _tiny_topology() -> dict[str, Any]:
    """Two unit squares sharing one arc, the second walking it backwards (~0), quantised and
    delta-encoded as world-atlas is; plus Australia's split (one id on two geometries)."""
    return {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.25], "translate": [120, 30]},
        "arcs": [
            [[1, 0], [0, 1]],                    # (1,0) -> (1,1): the shared border
            [[1, 1], [-1, 0], [0, -1], [1, 0]],  # (1,1) -> (0,1) -> (0,0) -> (1,0)
            [[1, 0], [1, 0], [0, 1], [-1, 0]],   # (1,0) -> (2,0) -> (2,1) -> (1,1)
            [[4, 4], [1, 0], [0, 1], [-1, 0], [0, -1]],  # a closed arc: the island (4,4)-(5,5)
        ],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "id": "408", "properties": {"name": "N. Korea"}, "arcs": [[0, 1]]},
            {"type": "Polygon", "id": "410", "properties": {"name": "S. Korea"}, "arcs": [[-1, 2]]},
            {"type": "Polygon", "id": "408", "properties": {"name": "N. Korea"}, "arcs": [[3]]},
            {"type": "Polygon", "properties": {"name": "Nowhere"}, "arcs": [[3]]},
        ]}},
    }


def test_build_decodes_arcs_merges_ids_and_winds_rings(tmp_path: Path) -> None:
    source = tmp_path / "countries.json"
    source.write_text(json.dumps(_tiny_topology()))
    collection, points = _build_script().build(source, tolerance=0)

    features = {f["properties"]["name"]: f for f in collection["features"]}
    assert set(features) == {"North Korea", "South Korea", "Nowhere"}
    assert features["Nowhere"]["properties"]["iso2"] is None and "Nowhere" not in points
    north, south = features["North Korea"], features["South Korea"]
    assert north["properties"]["iso2"] == "KP" and north["geometry"]["type"] == "MultiPolygon"
    first, island = north["geometry"]["coordinates"]
    assert {tuple(p) for p in first[0]} == {(120, 30), (120.5, 30), (120.5, 30.25), (120, 30.25)}
    assert {tuple(p) for p in island[0]} == {(122, 31), (122.5, 31), (122.5, 31.25), (122, 31.25)}
    assert {tuple(p) for p in south["geometry"]["coordinates"][0]} == \
        {(120.5, 30), (121, 30), (121, 30.25), (120.5, 30.25)}
    # RFC 7946: exterior rings counter-clockwise (positive shoelace area).
    ring = first[0]
    assert sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) > 0
    # The point is in the larger piece (the squares are equal: either square, never the gap).
    assert points["KP"]["name"] == "North Korea"
    assert _inside(points["KR"]["lon"], points["KR"]["lat"], south["geometry"]["coordinates"])
    assert any(_inside(points["KP"]["lon"], points["KP"]["lat"], p) for p in north["geometry"]["coordinates"])


def test_representative_point_avoids_a_crescents_empty_middle() -> None:
    script = _build_script()
    # A "C": its centroid falls in the opening, outside the shape.
    crescent = [[(0, 0), (10, 0), (10, 2), (2, 2), (2, 8), (10, 8), (10, 10), (0, 10)]]
    lon, lat = script.representative_point([crescent])
    assert _inside(lon, lat, [[list(p) for p in crescent[0] + [crescent[0][0]]]])


def test_simplified_arcs_keep_their_ends_and_islands_stay_rings() -> None:
    script = _build_script()
    wiggle = [(0.0, 0.0), (1.0, 0.001), (2.0, -0.001), (3.0, 0.0)]
    assert script.simplify_arc(wiggle, 0.01) == [(0.0, 0.0), (3.0, 0.0)]
    island = [(0.0, 0.0), (0.001, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    assert len(script.simplify_arc(island, 0.01)) >= 4


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "node_modules" / "world-atlas").is_dir(), reason="world-atlas not installed")
def test_committed_geodata_is_what_the_script_makes_from_world_atlas() -> None:
    script = _build_script()
    collection, points = script.build(script.SOURCE)
    assert points == json.loads(POINTS.read_text(encoding="utf-8"))
    assert collection == json.loads(COUNTRIES.read_text(encoding="utf-8"))


# -- Leaflet from node_modules -----------------------------------------------------------------

@pytest.mark.parametrize(("filename", "mimetype"), [
    ("leaflet.js", "text/javascript"),
    ("leaflet.css", "text/css"),
    ("images/layers.png", "image/png"),
])
def test_vendor_serves_leaflet_files(client: FlaskClient, filename: str, mimetype: str) -> None:
    response = client.get(f"/static/vendor/leaflet/{filename}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.get_data() == (vendor.LEAFLET_DIST / filename).read_bytes()


@pytest.mark.parametrize("path", [
    "../package.json", "..%2fpackage.json", "%2e%2e/package.json", "images/../../package.json",
    "/etc/passwd", "leaflet-src.js", "LEAFLET.JS", "images", "",
])
def test_vendor_refuses_anything_but_its_files(client: FlaskClient, path: str) -> None:
    response = client.get(f"/static/vendor/leaflet/{path}")
    assert response.status_code == 404
    assert b'"name"' not in response.get_data() and b"root:" not in response.get_data()


def test_vendor_says_when_leaflet_is_not_installed(client: FlaskClient, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "LEAFLET_DIST", tmp_path / "no-leaflet")
    response = client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 404
    assert "make setup" in response.get_data(as_text=True)


def _img_src(response: Any) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return next(d.split()[1:] for d in policy.split(";") if d.split()[0] == "img-src")


def test_pages_load_images_from_nowhere_else_without_a_tile_server(client: FlaskClient) -> None:
    assert _img_src(client.get("/")) == ["'self'", "data:", "blob:"]


def test_a_configured_tile_server_is_allowed_for_images_only(tmp_path: Path) -> None:
    from archive.app import create_app

    app = create_app({"data": str(tmp_path / "data"), "secret_key": "t",
                      "map_tile_url": "https://tiles.example.org:8443/{z}/{x}/{y}.png"})
    try:
        response = app.test_client().get("/")
    finally:
        app.extensions["crossings"].close()
    assert "https://tiles.example.org:8443" in _img_src(response)
    policy = response.headers["Content-Security-Policy"]
    assert policy.count("tiles.example.org") == 1  # not in script-src, connect-src...


def test_tile_origin_ignores_relative_and_odd_urls() -> None:
    assert vendor.tile_origin("") is None
    assert vendor.tile_origin("/tiles/{z}/{x}/{y}.png") is None
    assert vendor.tile_origin("javascript:alert(1)") is None
    assert vendor.tile_origin("http://10.0.0.5/{z}/{x}/{y}.png") == "http://10.0.0.5"
