"""In a real browser and with no internet, static/map.js draws the country outlines, a route, its
numbered stops, crossings and places over Leaflet served by the app, under the app's strict CSP.

No page of the app has a map yet, so the test app gets a fixture page of its own (test-only).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, send_from_directory
from playwright.sync_api import Page

from browser import ARTIFACTS, served_page, wait_until

pytestmark = pytest.mark.browser

FIXTURE_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Map fixture</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">
  <link rel="stylesheet" href="/static/crossings.css">
  <script src="/static/vendor/leaflet/leaflet.js" defer></script>
  <script src="/static/map_labels.js" defer></script>
  <script src="/static/map.js" defer></script>
</head>
<body>
  <main class="wrap">
    <div id="map" data-map data-base-url="/static/geodata/countries.geojson"
         data-geojson-url="/map-fixture/journey.geojson" aria-label="Route of the journey"></div>
  </main>
</body>
</html>
"""

#: A route from North Korea to Thailand as the journey GeoJSON will have it: [lon, lat].
STOPS = [("Hoeryong", 129.75, 42.44), ("Yanji", 129.51, 42.89), ("Kunming", 102.83, 24.88),
         ("Boten", 101.67, 21.19), ("Vientiane", 102.6, 17.97), ("Nong Khai", 102.74, 17.88)]
CROSSINGS = [("Tumen river", 129.66, 42.6), ("Mohan-Boten", 101.68, 21.18), ("Friendship Bridge", 102.71, 17.88)]


def _journey() -> dict[str, Any]:
    features: list[dict[str, Any]] = [{
        "type": "Feature", "properties": {"kind": "route", "id": "route"},
        "geometry": {"type": "LineString", "coordinates": [[lon, lat] for _, lon, lat in STOPS]},
    }]
    for number, (name, lon, lat) in enumerate(STOPS, start=1):
        features.append({"type": "Feature", "properties": {"kind": "stop", "id": f"leg-{number}", "number": number,
                                                           "name": name},
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    for index, (name, lon, lat) in enumerate(CROSSINGS, start=1):
        features.append({"type": "Feature", "properties": {"kind": "crossing", "id": f"crossing-{index}",
                                                           "name": name},
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    features.append({"type": "Feature", "properties": {"kind": "place", "id": "place-1", "name": "Vientiane",
                                                       "count": 12, "url": "/search?q=place%3AVientiane"},
                     "geometry": {"type": "Point", "coordinates": [102.6, 17.97]}})
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture
def map_page(app: Flask, tmp_path: Path) -> Iterator[tuple[str, Page, list[str], list[str]]]:
    """The fixture page served by the test app; the page, the URLs it asked for and its console errors."""
    fixture = tmp_path / "map-fixture"
    fixture.mkdir()
    (fixture / "index.html").write_text(FIXTURE_PAGE, encoding="utf-8")
    (fixture / "journey.geojson").write_text(json.dumps(_journey()), encoding="utf-8")
    app.add_url_rule("/map-fixture/", "map_fixture", lambda: send_from_directory(fixture, "index.html"))
    app.add_url_rule("/map-fixture/journey.geojson", "map_fixture_journey",
                     lambda: send_from_directory(fixture, "journey.geojson", mimetype="application/geo+json"))
    with served_page(app, width=1100, height=800) as (base, page, requests, errors):
        page.goto(f"{base}/map-fixture/")
        page.evaluate("CrossingsMap.get(document.getElementById('map')).then(() => true)")
        yield base, page, requests, errors


def test_map_draws_outlines_route_stops_crossings_and_places_offline(
        map_page: tuple[str, Page, list[str], list[str]]) -> None:
    base, page, requests, errors = map_page
    overlay = page.locator("#map .leaflet-overlay-pane")
    assert overlay.locator("path.map-country").count() > 200
    assert overlay.locator("path.map-route").count() == 1
    assert overlay.locator("path.map-place").count() == 1
    stops = page.locator("#map .leaflet-marker-pane .map-stop")
    assert stops.all_inner_texts() == [str(n) for n in range(1, len(STOPS) + 1)]
    assert page.locator("#map .leaflet-marker-pane .map-crossing").count() == len(CROSSINGS)

    # The view was fitted to the route: North Korea and Thailand both in sight, the Americas not.
    bounds = page.evaluate("""CrossingsMap.get(document.getElementById('map')).then(h => {
        const b = h.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })""")
    west, south, east, north = bounds
    assert west < 101.67 and east > 129.75 and south < 17.88 and north > 42.89
    assert west > 40 and east < 190  # zoomed in on Asia: not the whole world

    # The route is drawn where its stops are (GeoJSON [lon, lat] read the right way round).
    route_box = overlay.locator("path.map-route").bounding_box()
    first_stop = stops.first.bounding_box()
    assert route_box and first_stop
    centre_x = first_stop["x"] + first_stop["width"] / 2
    assert abs(centre_x - (route_box["x"] + route_box["width"])) < 8  # Hoeryong is the east end

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "map-fixture.png")

    outside = [url for url in requests if not url.startswith(base + "/")]
    assert outside == [], f"the map reached outside the archive: {outside}"
    assert errors == []  # a CSP refusal or a script error shows here


def test_map_highlights_by_id_and_reports_hover_and_select(map_page: tuple[str, Page, list[str], list[str]]) -> None:
    _, page, _, errors = map_page
    # The first fit is over when the map is ready: no zoom animation left to undo a page's own move.
    page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.map.setView([18, 102.6], 7))")
    page.wait_for_timeout(400)
    assert page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.map.getZoom())") == 7
    page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.fit(null, {animate: false}))")

    page.evaluate("""() => {
        window.mapEvents = [];
        const map = document.getElementById('map');
        for (const name of ['hover', 'select']) {
            map.addEventListener('crossingsmap:' + name, event =>
                window.mapEvents.push([name, event.detail.id, event.detail.kind, event.detail.active ?? null]));
        }
    }""")
    stop = page.locator("#map .map-stop", has_text="3")
    stop.hover()
    page.mouse.move(5, 5)
    stop.click()
    events = page.evaluate("window.mapEvents")
    assert ["hover", "leg-3", "stop", True] in events
    assert ["hover", "leg-3", "stop", False] in events
    assert ["select", "leg-3", "stop", None] in events
    assert page.locator("#map .leaflet-popup-content").inner_text() == "Kunming"

    assert page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.highlight('leg-2'))")
    assert page.locator("#map .map-stop.is-highlighted").all_inner_texts() == ["2"]
    page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.highlight('route'))")
    assert page.locator("#map .map-stop.is-highlighted").count() == 0
    assert page.locator("#map path.map-route.is-highlighted").count() == 1
    page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.unhighlight())")
    assert page.locator("#map .is-highlighted").count() == 0
    assert not page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.highlight('no-such'))")

    # A place's popup names its count and links its items.
    page.evaluate("CrossingsMap.get(document.getElementById('map')).then(h => h.layers('place-1')[0].openPopup())")
    popup = page.locator("#map .leaflet-popup-content")
    assert "12 items" in popup.inner_text()
    assert popup.get_by_role("link").get_attribute("href") == "/search?q=place%3AVientiane"
    assert errors == []


def test_map_picks_a_position_by_click_and_by_typed_coordinates(
        map_page: tuple[str, Page, list[str], list[str]]) -> None:
    _, page, _, errors = map_page
    page.evaluate("""() => {
        for (const name of ['lat', 'lon']) {
            const input = document.createElement('input');
            input.id = name;
            document.querySelector('main').appendChild(input);
        }
        window.picks = [];
        return CrossingsMap.get(document.getElementById('map')).then(h => h.enablePicking(
            position => window.picks.push(position),
            { lat: document.getElementById('lat'), lon: document.getElementById('lon') }));
    }""")
    box = page.locator("#map").bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.8)  # open sea, no marker
    assert page.locator("#map .map-pin").count() == 1
    picked = page.evaluate("window.picks[0]")
    expected = page.evaluate(f"""CrossingsMap.get(document.getElementById('map')).then(h =>
        h.map.containerPointToLatLng([{box["width"] * 0.85}, {box["height"] * 0.8}]))""")
    # Within a couple of pixels (the container's border) at this zoom: where clicked, axes not swapped.
    assert picked["lat"] == pytest.approx(expected["lat"], abs=0.2)
    assert picked["lon"] == pytest.approx(expected["lng"], abs=0.2)
    assert float(page.input_value("#lat")) == picked["lat"]

    page.fill("#lat", "17.97")
    page.fill("#lon", "102.6")
    page.press("#lon", "Tab")  # change fires on leaving the field
    pin = page.evaluate("""CrossingsMap.get(document.getElementById('map')).then(h => {
        const p = h.pin.getLatLng(); return [p.lat, p.lng]; })""")
    assert pin == pytest.approx([17.97, 102.6])
    assert errors == []


def test_map_draws_a_configured_tile_layer(app: Flask, tmp_path: Path) -> None:
    from io import BytesIO

    from PIL import Image

    tile = BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 230)).save(tile, "PNG")
    app.add_url_rule("/map-fixture/tiles/<int:z>/<int:x>/<int:y>.png", "map_fixture_tile",
                     lambda z, x, y: (tile.getvalue(), 200, {"Content-Type": "image/png"}))
    fixture = tmp_path / "tiles-page"
    fixture.mkdir()
    (fixture / "index.html").write_text(FIXTURE_PAGE.replace(
        'data-geojson-url="/map-fixture/journey.geojson"', 'data-tile-url="/map-fixture/tiles/{z}/{x}/{y}.png" '
        'data-tile-attribution="Test tiles" data-center="40,127" data-zoom="5"'), encoding="utf-8")
    app.add_url_rule("/map-fixture/", "map_fixture", lambda: send_from_directory(fixture, "index.html"))
    with served_page(app, width=900, height=700) as (base, page, _, _):
        page.goto(f"{base}/map-fixture/")
        page.evaluate("CrossingsMap.get(document.getElementById('map')).then(() => true)")
        wait_until(page, "document.querySelectorAll('#map .leaflet-tile-loaded').length > 0")
        assert page.locator("#map .leaflet-overlay-pane path.map-country").count() > 200
        assert "Test tiles" in page.locator("#map .leaflet-control-attribution").inner_text()
