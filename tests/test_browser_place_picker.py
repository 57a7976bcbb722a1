"""In a real browser, offline and under the app's CSP: the new-place form's map fills the
coordinates where the archivist clicks, typed coordinates move its pin, and the place is saved there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from archive.core import Archive
from archive.models import Place
from archive.services import accounts
from browser import ARTIFACTS, logged_in_page, wait_until
from conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app: Flask, archive: Archive) -> Iterator[tuple[str, Page, list[str]]]:
    """The app on loopback, a chromium page logged in as an archivist, and the page's console errors."""
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")
    with logged_in_page(app, "mina", PASSWORD) as site:
        yield site


def test_clicking_the_map_fills_the_coordinates_and_saves_the_place(site: tuple[str, Page, list[str]],
                                                                    archive: Archive) -> None:
    base, page, errors = site
    page.goto(f"{base}/places/new")
    page.wait_for_selector("[data-place-picker] .map-country", state="attached", timeout=20_000)
    latitude, longitude = page.locator("#f-latitude"), page.locator("#f-longitude")
    assert latitude.input_value() == "" and longitude.input_value() == ""

    page.locator("[data-place-picker]").click(position={"x": 200, "y": 150})
    wait_until(page, "document.querySelector('#f-latitude').value !== ''", timeout=5_000)
    picked = float(latitude.input_value()), float(longitude.input_value())
    assert -90 <= picked[0] <= 90 and -180 <= picked[1] <= 180
    assert page.locator(".map-pin").count() == 1

    # Typed coordinates move the pin: its screen position changes.
    before = page.locator(".map-pin").bounding_box()
    latitude.fill("20.5")
    latitude.dispatch_event("change")
    longitude.fill("101.2")
    longitude.dispatch_event("change")
    assert page.locator(".map-pin").bounding_box() != before
    page.screenshot(path=ARTIFACTS / "place-picker.png", full_page=True)

    page.fill("#f-name", "Picked village")
    page.select_option("#f-country_code", "LA")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/places/*/edit")
    with archive.Session() as session:
        place = session.scalar(select(Place).where(Place.name == "Picked village"))
        assert (place.latitude, place.longitude, place.country_code) == (20.5, 101.2, "LA")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
