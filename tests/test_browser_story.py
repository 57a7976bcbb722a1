"""In a real browser with the network blocked: the story package opens from file://, its map draws the
legs from the bundled outlines and Leaflet, a clip plays and its caption (a data: URL track) shows,
and the handout lays out for print. Screenshots at desktop and phone width."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from archive.core import Archive
from archive.interchange.story import export_story
from browser import ARTIFACTS, launch_browser, served_page, wait_until
from story_world import CAPTION, build_story_world

pytestmark = pytest.mark.browser


@pytest.fixture
def package(archive: Archive, tmp_path: Path) -> dict[str, Any]:
    story = build_story_world(archive, tmp_path)
    with archive.session() as session:
        report = export_story(session, archive.store, story["journey"], tmp_path / "story",
                              identity=archive.identity, today=date(2026, 12, 4))
    return {**story, "folder": report.folder}


def _offline_page(browser: Any, width: int, height: int, asked: list[str], errors: list[str]) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)

    def block(route: Route) -> None:
        asked.append(route.request.url)
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            route.abort()
    context.route("**/*", block)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def test_story_package_plays_a_clip_with_captions_from_file_with_the_network_blocked(
        package: dict[str, Any]) -> None:
    index = (package["folder"] / "index.html").as_uri()
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            asked: list[str] = []
            errors: list[str] = []
            page = _offline_page(browser, 1280, 900, asked, errors)
            page.goto(index)
            wait_until(page, "window.storyMap !== undefined")
            # the map drew each leg and the country outlines, with no tile or other request leaving the folder
            assert page.locator("path.story-map-leg").count() == 3
            assert page.locator(".leaflet-overlay-pane path").count() > 100
            assert page.locator(".story-map-stop").count() == 4
            video = f"figure[data-item='{package['video']}'] video"
            wait_until(page, f"document.querySelector(\"{video}\").readyState >= 1")
            page.evaluate(f"() => {{ const v = document.querySelector(\"{video}\"); v.muted = true; return v.play(); }}")
            wait_until(page, f"document.querySelector(\"figure[data-item='{package['video']}'] [data-caption]\")"
                             f".textContent.includes({CAPTION!r})")
            assert page.evaluate(f"document.querySelector(\"{video}\").textTracks[0].activeCues.length") == 1
            # the transcript line follows playback (timeupdate comes a little after the cue change)
            wait_until(page, f"document.querySelectorAll(\"figure[data-item='{package['video']}'] "
                             f".story-transcript li.is-current\").length === 1")
            assert page.locator("path.story-map-leg-1.is-playing").count() == 1
            assert page.locator("#leg-1.is-playing").count() == 1
            page.screenshot(path=str(ARTIFACTS / "story-index-desktop.png"), full_page=False)
            assert [url for url in asked if not url.startswith(("file://", "data:"))] == []
            assert errors == []

            phone = _offline_page(browser, 390, 844, asked, errors)
            phone.goto(index)
            wait_until(phone, "window.storyMap !== undefined")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.screenshot(path=str(ARTIFACTS / "story-index-phone.png"), full_page=True)
            for width, name in ((1280, "desktop"), (390, "phone")):
                handout = _offline_page(browser, width, 900, asked, errors)
                handout.goto((package["folder"] / "handout.html").as_uri())
                wait_until(handout, "Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)")
                assert handout.evaluate("document.documentElement.scrollWidth") <= width
                handout.screenshot(path=str(ARTIFACTS / f"story-handout-{name}.png"), full_page=True)
            handout.emulate_media(media="print")
            assert handout.locator(".story-screen-only").is_hidden()
            assert errors == []
        finally:
            browser.close()


def test_journey_page_shows_the_classroom_button(app: Any, package: dict[str, Any]) -> None:
    for width, name in ((1280, "desktop"), (390, "phone")):
        with served_page(app, width=width) as (base, page, _, errors):
            page.goto(f"{base}/journeys/{package['journey']}")
            button = page.get_by_role("link", name="Download for a classroom")
            assert button.is_visible()
            assert button.get_attribute("href") == f"/journeys/{package['journey']}/story.zip"
            page.screenshot(path=str(ARTIFACTS / f"story-journey-button-{name}.png"), full_page=False)
            assert errors == []
