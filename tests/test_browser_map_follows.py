"""In a real browser, the map follows the footage: on the item page of a clip filmed on a journey leg, a marker
moves along the leg as the clip plays and stands at a time range's place while that range plays; on the journey
page, playing a leg's clip there highlights the leg and its crossing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import Item
from archive.services import crossings, journeys, legs, locations, places
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.ranges import add_range
from browser import ARTIFACTS, served_page, wait_until
from conftest import PUBLISHED
from mediagen import make_video

pytestmark = pytest.mark.browser

SECONDS = 8.0


@pytest.fixture
def world(archive: Archive, tmp_path: Path) -> dict[str, Any]:
    """A public journey of two legs, the first through a river crossing, and an eight-second clip of the first
    leg whose last two seconds are a time range at the crossing."""
    report = ingest_paths(archive, [make_video(tmp_path / "Leg_one.mp4", duration=SECONDS)],
                          IngestOptions(**PUBLISHED))
    assert report.ok, report
    item_id = report.ingested[0]["item_id"]
    with archive.session() as session:
        hyesan = places.create_place(session, SYSTEM, name="Hyesan", latitude=41.40, longitude=128.18, country="KP").id
        ford = places.create_place(session, SYSTEM, name="The ford", latitude=41.45, longitude=128.0,
                                   country="CN").id
        shenyang = places.create_place(session, SYSTEM, name="Shenyang", latitude=41.80, longitude=123.43,
                                       country="CN").id
        kunming = places.create_place(session, SYSTEM, name="Kunming", latitude=25.04, longitude=102.71,
                                      country="CN").id
        crossing = crossings.create_crossing(session, SYSTEM, place_id=ford, from_country="KP", to_country="CN",
                                             kind="river").id
        journey = journeys.create_journey(session, SYSTEM, title="West from the Yalu", access="public")
        first = legs.add_leg(session, SYSTEM, journey.id, from_place_id=hyesan, to_place_id=shenyang,
                             mode="hidden_transport", crossing_id=crossing)
        legs.add_leg(session, SYSTEM, journey.id, from_place_id=shenyang, to_place_id=kunming, mode="train")
        locations.link_item_leg(session, SYSTEM, item_id, first.id)
        time_range = add_range(session, session.get(Item, item_id), start=6.0, end=SECONDS, tag_name="at the ford")
        locations.set_range_place(session, SYSTEM, item_id, time_range.id, ford)
        return {"item": item_id, "journey": journey.id, "ford": ford}


@pytest.fixture
def page(app: Flask) -> Iterator[tuple[str, Page, list[str]]]:
    with served_page(app) as (base, page, _, errors):
        yield base, page, errors


def _marker(page: Page) -> tuple[float, float]:
    box = page.locator(".map-follow-marker").bounding_box()
    assert box, "no marker on the map"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_the_marker_moves_along_the_leg_as_the_clip_plays(page: tuple[str, Page, list[str]],
                                                         world: dict[str, Any]) -> None:
    base, page, errors = page
    page.goto(f"{base}/items/{world['item']}")
    wait_until(page, "document.querySelector('.follow-map--ready') && "
                     "document.querySelector('video[data-player]').readyState >= 1", timeout=15_000)
    # The leg is highlighted; the marker starts where the leg does.
    assert page.locator(".follow-map .map-leg.is-highlighted").count() == 1
    start = _marker(page)

    page.evaluate("document.querySelector('video[data-player]').play()")
    wait_until(page, "document.querySelector('video[data-player]').currentTime > 2.5", timeout=10_000)
    page.evaluate("document.querySelector('video[data-player]').pause()")
    middle = _marker(page)
    share = float(page.locator("[data-follow-map]").get_attribute("data-follow-share"))
    assert 0.3 < share < 0.75, share
    # West along the leg (Shenyang is west of Hyesan): the marker has moved left on the map.
    assert middle[0] < start[0] - 10, (start, middle)
    page.screenshot(path=str(ARTIFACTS / "map-follows-item-desktop.png"), full_page=True)

    # Within the time range at the ford, the marker stands at the ford's crossing marker.
    page.evaluate("""() => new Promise(resolve => {
        const video = document.querySelector('video[data-player]');
        video.addEventListener('seeked', resolve, { once: true });
        video.currentTime = 7.0;
    })""")
    wait_until(page, f"document.querySelector('[data-follow-map]').dataset.followAt === 'place-{world['ford']}'")
    ford = page.locator(".follow-map .map-crossing").bounding_box()
    at = _marker(page)
    assert ford and abs(at[0] - (ford["x"] + ford["width"] / 2)) < 6 and abs(at[1] - (ford["y"] + ford["height"] / 2)) < 6

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "map-follows-item-phone.png"), full_page=True)
    assert errors == []


def test_playing_a_legs_clip_on_the_journey_page_highlights_the_leg_and_its_crossing(
        page: tuple[str, Page, list[str]], world: dict[str, Any]) -> None:
    base, page, errors = page
    page.goto(f"{base}/journeys/{world['journey']}")
    wait_until(page, "document.querySelectorAll('#journey-map .map-leg').length === 2", timeout=15_000)
    assert page.locator("#journey-map .is-highlighted").count() == 0
    page.locator("#leg-1 .timeline__footage a").first.click()
    wait_until(page, "(() => { const v = document.querySelector('[data-journey-player] video');"
                     " return v && !v.paused && v.currentTime > 0.3; })()", timeout=15_000)
    assert page.url.endswith(f"/journeys/{world['journey']}")  # played in place
    assert page.locator("#journey-map .map-leg.is-highlighted").count() == 1
    assert page.locator("#journey-map .map-crossing.is-highlighted").count() == 1
    assert "is-playing" in (page.locator("#leg-1").get_attribute("class") or "")
    # The pointer leaving the timeline does not take the highlight from the playing leg.
    page.mouse.move(1, 1)
    assert page.locator("#journey-map .map-crossing.is-highlighted").count() == 1
    page.screenshot(path=str(ARTIFACTS / "map-follows-journey-desktop.png"), full_page=True)

    page.evaluate("document.querySelector('[data-journey-player] video').pause()")
    wait_until(page, "document.querySelectorAll('#journey-map .is-highlighted').length === 0")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "map-follows-journey-phone.png"), full_page=True)
    assert errors == []
