"""In a real browser, a visitor searches from the header, sees the spoken words highlighted, and a
hit's timecode starts the footage at the second they are said."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from archive.core import Archive
from archive.models import Item, ItemKind, Transcript
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.transcripts import import_transcript
from browser import ARTIFACTS, served_page, wait_until
from conftest import PUBLISHED
from mediagen import make_video
from test_web import add_item

pytestmark = pytest.mark.browser

#: The words are spoken 3.5 s into the clip.
SIDECAR = """WEBVTT

00:00:00.500 --> 00:00:02.500
<v Kim Soon-ja>We waited by the water until dark.

00:00:03.500 --> 00:00:05.500
<v Kim Soon-ja>The ferry left Sinuiju before dawn.
"""


@pytest.fixture
def clip_id(archive: Archive, tmp_path: Path) -> int:
    """Six seconds of real H.264 footage, ingested with its English transcript beside it."""
    video = make_video(tmp_path / "Sinuiju_ferry.mp4", duration=6.0)
    (tmp_path / "Sinuiju_ferry.en.vtt").write_text(SIDECAR, encoding="utf-8")
    report = ingest_paths(archive, [video, tmp_path / "Sinuiju_ferry.en.vtt"], IngestOptions(**PUBLISHED))
    assert report.ok and report.attached, report
    return report.ingested[0]["item_id"]


@pytest.fixture
def neighbours(archive: Archive) -> None:
    """Other items the same words find, so the page has facets and more than one result."""
    for title, tags, vtt in (
            ("Ferry timetable, Dandong", ("ferry", "timetable"),
             "WEBVTT\n\n00:01:04.000 --> 00:01:07.000\n<v Clerk>The ferry to Sinuiju is cancelled today.\n"),
            ("Ferry landing at Sinuiju", ("border",), None)):
        item_id = add_item(archive, title, kind=ItemKind.video, tags=tags, date_shot="2019",
                           media={"duration": 75.0})
        if vtt:
            with archive.session() as session:
                import_transcript(session, session.get(Item, item_id), vtt.encode(), "timetable.ko.vtt")


def english_id(archive: Archive, item_id: int) -> int:
    with archive.session() as session:
        return session.query(Transcript.id).filter_by(item_id=item_id, language="en").scalar()


@pytest.fixture
def browser_page(app: Flask) -> Iterator[tuple[str, Page]]:
    with served_page(app) as (base, page, _, _):
        yield base, page


def test_a_hit_from_the_header_search_plays_from_its_second(browser_page: tuple[str, Page], archive: Archive,
                                                            clip_id: int, neighbours: None) -> None:
    base, page = browser_page
    page.goto(f"{base}/items")
    page.get_by_role("search", name="Search the archive").first.get_by_label("Search the archive").fill("sinuiju ferry")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/search?q=sinuiju+ferry")

    result = page.locator(f'.search-result[data-item-id="{clip_id}"]')
    assert result.locator(".search-result__title").inner_text() == "Sinuiju ferry"
    hit = result.locator(".search-hit")
    assert hit.count() == 1
    assert hit.locator("mark").all_inner_texts() == ["ferry", "Sinuiju"]
    assert hit.locator(".search-hit__speaker").inner_text() == "Kim Soon-ja"
    timecode = hit.locator(".search-hit__time")
    assert timecode.get_attribute("href") == f"/items/{clip_id}?t=3.5&transcript={english_id(archive, clip_id)}#player"
    assert "0:00:03" in timecode.inner_text()
    assert page.locator(".search-result").count() == 3
    assert page.locator('.facet__option[data-facet="tag"][data-value="ferry"] .facet__count').inner_text() == "1"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)

    timecode.click()
    page.wait_for_url(f"{base}/items/{clip_id}?t=3.5&transcript={english_id(archive, clip_id)}#player")
    wait_until(page, "document.querySelector('video[data-player]').readyState >= 1", timeout=15_000)
    wait_until(page, "Math.abs(document.querySelector('video[data-player]').currentTime - 3.5) < 0.5",
                           timeout=10_000)


def test_a_facet_narrows_the_results_in_the_browser(browser_page: tuple[str, Page], neighbours: None) -> None:
    base, page = browser_page
    page.goto(f"{base}/search?q=sinuiju")
    assert page.locator(".search-result").count() == 2
    page.locator('.facet__option[data-facet="tag"][data-value="timetable"]').click()
    page.wait_for_url("**/search?q=sinuiju&tag=timetable")
    assert page.locator(".search-result__title").all_inner_texts() == ["Ferry timetable, Dandong"]
    assert page.locator('.facet__option[aria-current="true"]').count() == 1
    page.locator(".search-active a", has_text="Tag: timetable").click()
    page.wait_for_url("**/search?q=sinuiju")
    assert page.locator(".search-result").count() == 2


def test_choosing_a_sort_order_searches_again(browser_page: tuple[str, Page], neighbours: None) -> None:
    base, page = browser_page
    page.goto(f"{base}/search?q=sinuiju")
    page.select_option("#search-sort", "-date_shot")
    page.wait_for_url("**/search?q=sinuiju&sort=-date_shot")
    assert page.locator("#search-sort").input_value() == "-date_shot"
    assert page.locator(".search-result").count() == 2


KOREAN = """WEBVTT

00:00:01.000 --> 00:00:02.000
<v 김순자>나룻배는 새벽 전에 떠났어요.
"""


def test_a_hit_opens_the_transcript_it_was_found_in(browser_page: tuple[str, Page], archive: Archive,
                                                     clip_id: int) -> None:
    with archive.session() as session:
        korean_id = import_transcript(session, session.get(Item, clip_id), KOREAN.encode(), "ferry.ko.vtt").transcript.id
    base, page = browser_page
    page.goto(f"{base}/search?q=나룻배는")
    timecode = page.locator(f'.search-result[data-item-id="{clip_id}"] .search-hit__time')
    assert timecode.get_attribute("href") == f"/items/{clip_id}?t=1&transcript={korean_id}#player"
    timecode.click()
    page.wait_for_url(f"**/items/{clip_id}?t=1&transcript={korean_id}#player")
    # The English transcript comes first on the page; the Korean one, where the words are, is shown.
    selected = page.locator('[data-transcript-tab][aria-selected="true"]')
    assert selected.count() == 1 and "Korean" in selected.inner_text()
    wait_until(page, "Math.abs(document.querySelector('video[data-player]').currentTime - 1) < 0.5",
                           timeout=15_000)


def test_an_empty_date_field_stays_out_of_the_address(browser_page: tuple[str, Page], neighbours: None) -> None:
    base, page = browser_page
    page.goto(f"{base}/search?q=sinuiju")
    page.fill("#search-from", "2019")
    page.click(".search-panel button[type=submit]")
    page.wait_for_url("**/search?q=sinuiju&sort=relevance&from=2019")
    assert page.locator("#search-from").input_value() == "2019"
    assert page.locator(".search-result").count() == 2
