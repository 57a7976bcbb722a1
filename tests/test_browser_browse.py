"""In a real browser at phone width: browse's facets fold away, open, narrow the items, and the
chosen filters can be taken off again; the recently added page and a collection's timeline read
at phone and desktop width (screenshots in test-artifacts/)."""

from __future__ import annotations

import pytest
from flask import Flask

from archive.core import Archive
from archive.models import ItemKind
from browser import ARTIFACTS, assert_accessible, served_page
from test_browse_filters import EN_VTT
from test_search_places import journey, link_leg, link_place, place
from test_search_web import _transcribe
from test_web import add_item

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 390, 1280


@pytest.fixture
def shelf(archive: Archive) -> None:
    hyesan, changbai = place(archive, "Hyesan", "KP"), place(archive, "Changbai", "CN")
    _, leg = journey(archive, "The Yalu route", (hyesan, changbai))
    crossing = add_item(archive, "Night crossing", kind=ItemKind.video, date_shot="2019-04-12",
                        collection="Yalu tapes", language="ko")
    bank = add_item(archive, "The far bank", date_shot="2019~", collection="Yalu tapes")
    add_item(archive, "Market in Changbai", date_shot="2019-03/2019-06", collection="Yalu tapes")
    add_item(archive, "Unplaced still", date_shot="201X", collection="Yalu tapes")
    link_place(archive, crossing, hyesan)
    link_place(archive, bank, changbai)
    link_leg(archive, crossing, leg)
    _transcribe(archive, crossing, EN_VTT, "crossing.en.vtt")


def test_the_filters_at_phone_width(app: Flask, shelf: None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with served_page(app, width=PHONE, height=844) as (base, page, _, _):
        page.goto(f"{base}/items")
        facets = page.locator("[data-browse-facets]")
        assert facets.get_attribute("open") is None  # folded on a phone: the items come first
        assert page.locator(".card").count() == 4
        page.screenshot(path=str(ARTIFACTS / "browse-phone.png"), full_page=True)
        facets.locator("summary").click()
        option = page.locator('.facet__option[data-facet="country"][data-value="North Korea"]')
        assert option.is_visible() and option.locator(".facet__count").inner_text() == "1"
        box = option.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE  # a thumb's target
        page.screenshot(path=str(ARTIFACTS / "browse-phone-facets.png"), full_page=True)
        option.click()
        page.wait_for_url("**/items?country=North+Korea")
        assert page.locator(".card__title").all_inner_texts() == ["Night crossing"]
        page.locator("[data-browse-facets] summary").click()
        page.locator('.facet__option[data-facet="has_transcript"][data-value="yes"]').click()
        page.wait_for_url(lambda url: "from=" not in url)
        assert page.locator(".card__title").all_inner_texts() == ["Night crossing"]
        page.fill("#f-from", "2020")
        page.locator(".filters button[type=submit]").click()
        page.wait_for_url("**/items?*from=2020*")
        assert page.locator(".card").count() == 0  # the facets chosen stayed on with the date
        assert "country=North+Korea" in page.url
        page.locator(".search-active a", has_text="Shot from: 2020").click()
        page.wait_for_url(lambda url: "from=" not in url)
        page.locator(".search-active a", has_text="Country: North Korea").click()
        page.wait_for_url(lambda url: "country=" not in url and "has_transcript=yes" in url)
        assert page.locator(".card").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE  # nothing wider than the phone
        assert_accessible(page)


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_browse_recent_and_timeline_screenshots(app: Flask, archive: Archive, shelf: None, width: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with served_page(app, width=width) as (base, page, _, _):
        page.goto(f"{base}/items?kind=still")
        page.screenshot(path=str(ARTIFACTS / f"browse-{width}.png"), full_page=True)
        page.goto(f"{base}/items/recent")
        assert page.locator(".card").count() == 4
        page.screenshot(path=str(ARTIFACTS / f"recent-{width}.png"), full_page=True)
        assert_accessible(page)
        page.goto(f"{base}/items")
        page.locator(".card__collection a").first.click()
        spans = page.locator(".timeline__span")
        assert spans.count() == 4
        day = page.locator(".timeline__item", has_text="Night crossing").locator(".timeline__span").bounding_box()
        year = page.locator(".timeline__item", has_text="The far bank").locator(".timeline__span").bounding_box()
        assert day and year and year["width"] > 2.5 * day["width"]  # an approximate year is a band, a day a dot
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.locator(".timeline").screenshot(path=str(ARTIFACTS / f"timeline-{width}.png"))
        page.screenshot(path=str(ARTIFACTS / f"collection-{width}.png"), full_page=True)
        assert_accessible(page)
