"""In a real browser, offline: the demo journey's timeline and map stay in step, and the archive map draws.

The demo archive (`crossings demo`) is built once per run by test_demo's demo_root fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from archive.app import create_app
from archive.demo.journey import JOURNEY_TITLE
from archive.models import Journey
from browser import ARTIFACTS, served_page, wait_until
from test_demo import demo_root  # noqa: F401  (the fixture)

READY = "CrossingsMap.get(document.querySelector('[data-map]')).then(() => true)"


@pytest.fixture(scope="module")
def demo_site(demo_root: Path) -> Iterator[dict[str, Any]]:  # noqa: F811
    """The demo archive served on loopback, a chromium page on it, and what that page asked for."""
    app = create_app({"data": str(demo_root), "secret_key": "browser"})
    with app.extensions["crossings"].Session() as session:
        journey_id = session.scalar(select(Journey.id).where(Journey.title == JOURNEY_TITLE))
    with served_page(app, width=1400, height=950) as (base, page, requests, errors):
        yield {"base": base, "page": page, "journey_id": journey_id, "requests": requests, "errors": errors}


def assert_numbers_apart(page: Page) -> None:
    """No two stop numbers on the journey map cover each other (boxes as drawn, in pixels)."""
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('#journey-map .map-stop span'))
        .map(span => { const r = span.getBoundingClientRect(); return [span.textContent, r.left, r.top, r.width]; })""")
    for i, (a, ax, ay, size) in enumerate(boxes):
        for b, bx, by, _ in boxes[i + 1:]:
            assert abs(ax - bx) >= size or abs(ay - by) >= size, f"stops {a} and {b} overlap: {boxes}"


def visible_labels(page: Page, kind: str = "") -> list[dict[str, Any]]:
    """The journey map's names as drawn: text and box in pixels, of one kind (country, stop...) or all."""
    return page.evaluate("""kind => Array.from(document.querySelectorAll(
            '#journey-map .map-label' + (kind ? '--' + kind : '') + ':not(.is-hidden)'))
        .map(label => { const r = label.getBoundingClientRect();
                        return {text: label.textContent, box: [r.left, r.top, r.right, r.bottom]}; })""", kind)


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def assert_labels_apart(page: Page) -> None:
    """No two names on the journey map overlap, and none covers a stop's number or a crossing."""
    labels = visible_labels(page)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not _overlap(a["box"], b["box"]), f"{a['text']!r} and {b['text']!r} overlap: {a} {b}"
    marks = page.evaluate("""() => Array.from(document.querySelectorAll(
            '#journey-map .map-stop span, #journey-map .map-crossing span'))
        .map(mark => { const r = mark.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
    covering = [(label["text"], mark) for label in labels for mark in marks if _overlap(label["box"], mark)]
    assert covering == []


def _zoom(page: Page, script: str) -> None:
    """Run `script` on the journey map's handle `h`, then wait for its zoom to end and the names to move."""
    page.evaluate("""script => CrossingsMap.get(document.getElementById('journey-map')).then(h =>
        new Promise(done => { h.map.once('moveend', () => setTimeout(done, 50)); new Function('h', script)(h); }))""",
                  script)


def test_demo_journey_page_draws_the_route_and_keeps_timeline_and_map_in_step(demo_site: dict[str, Any]) -> None:
    page: Page = demo_site["page"]
    base = demo_site["base"]
    assert demo_site["journey_id"] is not None
    page.goto(f"{base}/journeys/{demo_site['journey_id']}")
    page.evaluate(READY)
    overlay = page.locator("#journey-map .leaflet-overlay-pane")
    assert overlay.locator("path.map-route").count() == 1
    assert overlay.locator("path.map-leg").count() == 8
    stops = page.locator("#journey-map .leaflet-marker-pane .map-stop")
    # A stop says the leg that arrives there, so leg 6 and its stop read together; the start says S.
    assert stops.all_inner_texts() == ["S", *[str(n) for n in range(1, 9)]]
    # Hyesan (S) and Changbai (1) are 2.7 km apart: at the route's zoom their numbers must not overlap.
    assert_numbers_apart(page)
    for step in ("zoomOut", "zoomIn"):  # out and back: they are spread again at each zoom
        page.evaluate("""step => CrossingsMap.get(document.getElementById('journey-map')).then(handle =>
            new Promise(done => { handle.map.once('zoomend', () => setTimeout(done, 50));
                                  handle.map[step](1, {animate: false}); }))""", step)
        assert_numbers_apart(page)
    assert page.locator("#journey-map .leaflet-marker-pane .map-crossing").count() == 5
    assert page.locator("[data-timeline] > li").count() == 8

    # Timeline → map: hovering leg 6 marks its line, the stop it reaches (6) and its crossing (the Mekong).
    page.hover("#leg-6 .timeline__route")
    highlighted_leg = page.locator("#journey-map path.map-leg.is-highlighted")
    assert highlighted_leg.count() == 1
    assert page.locator("#journey-map .map-stop.is-highlighted").all_inner_texts() == ["6"]
    assert page.locator("#journey-map .map-crossing.is-highlighted").count() == 1
    # The crossing sits above its stop, beside its number: both can be seen and clicked.
    stop_box, crossing_box = (page.locator(f"#journey-map {kind}.is-highlighted").bounding_box()
                              for kind in (".map-stop", ".map-crossing"))
    assert stop_box and crossing_box
    assert crossing_box["y"] + crossing_box["height"] <= stop_box["y"] + 1 \
        or crossing_box["x"] >= stop_box["x"] + stop_box["width"] - 1
    assert "is-highlighted" in (page.get_attribute("#leg-6", "class") or "")
    page.screenshot(path=ARTIFACTS / "journey-leg6.png")
    # No crossing hides under a stop (the Changbai landing did): the middle of each is the crossing itself.
    hidden = page.evaluate("""() => Array.from(document.querySelectorAll('#journey-map .map-crossing'))
        .filter(marker => { const r = marker.getBoundingClientRect();
                            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                            return !(top && marker.contains(top)); }).map(marker => marker.title)""")
    assert hidden == []

    # Map → timeline: hovering the stop leg 4 reaches marks leg 4.
    page.mouse.move(5, 5)
    page.locator("#journey-map .map-stop", has_text="4").first.dispatch_event("mouseover")
    assert "is-highlighted" in (page.get_attribute("#leg-4", "class") or "")
    assert "is-highlighted" not in (page.get_attribute("#leg-6", "class") or "")
    page.locator("#journey-map .map-stop", has_text="4").first.dispatch_event("mouseout")

    page.evaluate("window.scrollTo(0, 0)")  # a sticky map in a scrolled full-page shot lands mid-page
    page.screenshot(path=ARTIFACTS / "journey.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the map comes before the timeline
    try:
        map_box, timeline_box = page.locator("#journey-map").bounding_box(), page.locator("[data-timeline]").bounding_box()
        assert map_box and timeline_box and map_box["y"] + map_box["height"] <= timeline_box["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # and the header's link takes the reader there from the top of the page.
        page.get_by_role("link", name="Go to the map").click()
        map_top = page.locator("#journey-map").bounding_box()
        assert map_top and 0 <= map_top["y"] < 844 / 2
        page.screenshot(path=ARTIFACTS / "journey-narrow.png")
    finally:
        page.set_viewport_size({"width": 1400, "height": 950})
    outside = [url for url in demo_site["requests"] if not url.startswith("http://127.0.0.1:")]
    assert outside == [], f"the page reached outside the archive: {outside}"
    assert demo_site["errors"] == []


def test_archive_map_draws_places_and_filters_them(demo_site: dict[str, Any]) -> None:
    page: Page = demo_site["page"]
    base = demo_site["base"]
    page.goto(f"{base}/map")
    page.evaluate(READY)
    places = page.locator("#places-map .leaflet-overlay-pane path.map-place")
    everything = places.count()
    assert everything > 9
    page.screenshot(path=ARTIFACTS / "map.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the filters wrap, nothing runs off
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.set_viewport_size({"width": 1400, "height": 950})

    page.select_option("select[name=journey]", str(demo_site["journey_id"]))
    wait_until(page, f"document.querySelectorAll('#places-map path.map-place').length < {everything}")
    assert places.count() >= 9  # the route's stops and crossing points
    # Each place drawn has its name, and only those: the names of the places filtered out went with them.
    wait_until(page, "document.querySelectorAll('#places-map .map-label--place').length"
                     " === document.querySelectorAll('#places-map path.map-place').length")
    named = page.evaluate("""() => Array.from(document.querySelectorAll('#places-map .map-label--place:not(.is-hidden)'))
        .map(label => label.textContent)""")
    assert {"Kunming", "Hanoi", "Seoul"} <= set(named)
    assert f"journey={demo_site['journey_id']}" in page.url

    # The place and country pages, for a person to look at: a place's popup link leads there.
    page.locator("#places-map path.map-place").first.click(force=True)  # circles overlap: any will do
    page.locator("#places-map .map-popup a").click()
    page.wait_for_url("**/places/*")
    page.evaluate(READY)
    page.screenshot(path=ARTIFACTS / "place.png", full_page=True)
    page.goto(f"{base}/countries/la")
    page.evaluate(READY)
    page.screenshot(path=ARTIFACTS / "country.png", full_page=True)
    outside = [url for url in demo_site["requests"] if not url.startswith("http://127.0.0.1:")]
    assert outside == [] and demo_site["errors"] == []


def test_journey_map_names_countries_and_stops_apart_and_keeps_markers_clickable(demo_site: dict[str, Any]) -> None:
    page: Page = demo_site["page"]
    page.goto(f"{demo_site['base']}/journeys/{demo_site['journey_id']}")
    page.evaluate(READY)
    wait_until(page, "document.querySelectorAll('#journey-map .map-label--stop:not(.is-hidden)').length > 0")
    # The whole route: the countries it crosses are named inside them, and most stops beside their numbers.
    assert {"China", "Laos", "Thailand"} <= {label["text"] for label in visible_labels(page, "country")}
    assert {"Shenyang", "Kunming", "Hanoi", "Vientiane", "Bangkok", "Seoul"} <= \
        {label["text"] for label in visible_labels(page, "stop")}
    assert_labels_apart(page)
    page.locator("#journey-map").screenshot(path=ARTIFACTS / "journey-labels.png")

    # A name never takes a click: at its middle the map beneath it answers, not the name.
    under = page.evaluate("""() => Array.from(document.querySelectorAll('#journey-map .map-label:not(.is-hidden)'))
        .filter(label => { const r = label.getBoundingClientRect();
                           const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                           return top && label.contains(top); }).map(label => label.textContent)""")
    assert under == []
    # ...and the stop it names is clicked as before (Playwright refuses a click another element would catch).
    page.locator("#journey-map .map-stop", has_text="5").click()
    assert page.locator("#journey-map .leaflet-popup-content strong").inner_text() == "Vientiane"
    page.evaluate("CrossingsMap.get(document.getElementById('journey-map')).then(h => h.map.closePopup())")

    # At this zoom Changbai (1) gives way to Hyesan (S) beside it; hovering leg 1 in the timeline
    # names the stop it reaches first, and Hyesan moves to make room.
    assert "Changbai" not in {label["text"] for label in visible_labels(page, "stop")}
    page.hover("#leg-1 .timeline__route")
    assert {"Hyesan", "Changbai"} <= {label["text"] for label in visible_labels(page, "stop")}
    assert_labels_apart(page)
    page.locator("#journey-map").screenshot(path=ARTIFACTS / "journey-labels-leg1.png")
    page.mouse.move(5, 5)

    # Hyesan (S) and Changbai (1), 2.7 km apart on the Yalu: zoomed in on them, both named and apart.
    _zoom(page, "h.map.setView(h.layers('leg-1')[0].getBounds().getCenter(), 8, {animate: false})")
    assert {"Hyesan", "Changbai"} <= {label["text"] for label in visible_labels(page, "stop")}
    assert_labels_apart(page)
    page.locator("#journey-map").screenshot(path=ARTIFACTS / "journey-labels-yalu.png")
    page.locator("#journey-map .map-stop", has_text="1").click()
    assert page.locator("#journey-map .leaflet-popup-content strong").inner_text() == "Changbai"
    page.evaluate("CrossingsMap.get(document.getElementById('journey-map')).then(h => h.map.closePopup())")

    for step in ("h.map.zoomOut(2, {animate: false})", "h.map.setZoom(2, {animate: false})",
                 "h.fit(null, {animate: false})"):
        _zoom(page, step)
        assert_labels_apart(page)
    assert demo_site["errors"] == []
