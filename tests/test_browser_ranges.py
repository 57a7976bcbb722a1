"""In a real browser, an archivist tags a time range on a clip with Mark in / Mark out, and links
with ?t= or #t= start the player at their second."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Dialog, Page

from archive.core import Archive
from archive.models import Item
from archive.services import accounts, editing, ranges
from archive.services.ingest import IngestOptions, ingest_paths
from archive.timecode import parse_timecode
from browser import ARTIFACTS, logged_in_page, wait_until
from conftest import PASSWORD

pytestmark = pytest.mark.browser


def _clip(path: Path) -> Path:
    """Six seconds of test pattern and tone, H.264 and AAC in MP4."""
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
                    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", "6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
                    "-c:a", "aac", "-shortest", str(path)], check=True, timeout=60, capture_output=True)
    return path


@pytest.fixture
def clip_id(archive: Archive, tmp_path: Path) -> int:
    report = ingest_paths(archive, [_clip(tmp_path / "Tumen_crossing.mp4")], IngestOptions())
    assert report.ok, report
    return report.ingested[0]["item_id"]


@pytest.fixture
def site(app: Flask, archive: Archive) -> Iterator[tuple[str, Page]]:
    """The app served on loopback and a chromium page logged in as an archivist."""
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")
    with logged_in_page(app, "mina", PASSWORD, height=900) as (base, page, _):
        yield base, page


def _ready(page: Page) -> None:
    wait_until(page, "document.querySelector('video[data-player]').readyState >= 1", timeout=15_000)


def _seek(page: Page, seconds: float) -> None:
    page.evaluate("""seconds => new Promise(resolve => {
        const video = document.querySelector('video[data-player]');
        video.addEventListener('seeked', resolve, { once: true });
        video.currentTime = seconds;
    })""", seconds)


def _position(page: Page) -> float:
    return page.evaluate("document.querySelector('video[data-player]').currentTime")


def test_archivist_marks_in_and_out_on_the_player_and_saves_a_range(site: tuple[str, Page], clip_id: int) -> None:
    base, page = site
    page.goto(f"{base}/items/{clip_id}")
    _ready(page)
    form = page.locator("#range-new")

    _seek(page, 1.0)
    form.get_by_role("button", name="Mark in").click()
    _seek(page, 3.0)
    form.get_by_role("button", name="Mark out").click()
    assert form.get_by_label("In").input_value() == "0:00:01.0"
    assert form.get_by_label("Out").input_value() == "0:00:03.0"
    form.get_by_label("Tag").fill("river crossing")
    form.get_by_label("Note").fill("The guide waves from the far bank.")
    form.get_by_role("button", name="Save range").click()

    page.wait_for_url(f"{base}/items/{clip_id}?t=3#range-*")
    item = page.locator(".ranges__list .range")
    assert item.count() == 1
    # Its name says what is seen, the times, after what it plays (label-content-name-mismatch).
    assert item.locator(".range__time .range__start").inner_text() == "0:00:01.0"
    assert item.locator(".range__time .range__end").inner_text() == "0:00:03.0"
    assert item.get_by_role("link", name="Play river crossing, 0:00:01.0–0:00:03.0").count() == 1
    assert item.locator(".range__tag").inner_text() == "river crossing"
    assert item.locator(".range__time").get_attribute("href") == f"/items/{clip_id}?t=1#player"
    _ready(page)
    wait_until(page, "Math.abs(document.querySelector('video[data-player]').currentTime - 3) < 0.1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "time-range.png"), full_page=True)

    # A range's timecode seeks the player where it is, without loading the page again.
    page.evaluate("window.stillHere = true")
    _seek(page, 5.0)
    item.locator(".range__time").click()
    wait_until(page, """() => {
        const time = document.querySelector('video[data-player]').currentTime;
        return time >= 0.95 && time < 2.5;
    }""")
    assert page.evaluate("window.stillHere") is True
    assert page.url == f"{base}/items/{clip_id}?t=3#range-{item.get_attribute('id').split('-')[1]}"


@pytest.mark.parametrize("link", ["?t=2", "?t=0:02", "?t=00:00:02.0", "#t=2", "#t=npt:2,4", "?t=9:99"])
def test_links_start_the_player_at_their_time(site: tuple[str, Page], clip_id: int, link: str) -> None:
    base, page = site
    page.goto(f"{base}/items/{clip_id}{link}")
    _ready(page)

    if link == "?t=9:99":  # not a time: the player stays at the start
        page.wait_for_timeout(300)
        assert _position(page) == 0
    else:
        wait_until(page, "Math.abs(document.querySelector('video[data-player]').currentTime - 2) < 0.1")


def test_the_page_reads_timecodes_as_the_server_does(site: tuple[str, Page], clip_id: int) -> None:
    base, page = site
    page.goto(f"{base}/items/{clip_id}")
    samples = ["75", "75.5", ".5", "1:15", "01:15.5", "75:30", "0:01:15.500", "1:02:03", "00:01:02,5",
               "", "abc", "-1", "1e3", "1:60", "1:60:00", "1::2", "1:2:3:4"]

    in_page = page.evaluate("samples => samples.map(s => window.Crossings.parseTimecode(s))", samples)

    def server(text: str) -> float | None:
        try:
            return parse_timecode(text)
        except ValueError:
            return None

    assert in_page == [server(s) for s in samples]
    formatted = page.evaluate("[0, 1.04, 59.96, 2.25, 3723.25].map(s => window.Crossings.formatTimecode(s, 1))")
    assert formatted == ["0:00:00.0", "0:00:01.0", "0:01:00.0", "0:00:02.3", "1:02:03.3"]


def test_vocabulary_pages_in_a_browser(site: tuple[str, Page], archive: Archive, clip_id: int) -> None:
    with archive.session() as session:
        rivers = editing.get_or_create_tag(session, "Rivers")
        tumen_id = editing.get_or_create_tag(session, "Tumen", parent=rivers).id
        editing.get_or_create_tag(session, "Mekong", parent=rivers)
        editing.set_item_tags(session, session.get(Item, clip_id), ["Tumen", "night"])
    base, page = site

    page.goto(f"{base}/tags")
    assert page.locator(".tag-tree .tag-tree .tag-tree__name").all_inner_texts() == ["Mekong", "Tumen"]
    page.screenshot(path=str(ARTIFACTS / "tags.png"), full_page=True)

    page.goto(f"{base}/tags/{tumen_id}")
    page.get_by_label("Name").fill("mekong")
    page.get_by_role("button", name="Rename").click()
    assert "merge 'Tumen' into 'Mekong' instead" in page.locator("#name-error").inner_text()
    page.screenshot(path=str(ARTIFACTS / "tag-rename-conflict.png"), full_page=True)


def test_deleting_a_range_asks_first_and_no_keeps_it(site: tuple[str, Page], archive: Archive, clip_id: int) -> None:
    base, page = site
    with archive.session() as session:
        ranges.add_range(session, session.get(Item, clip_id), start=1.0, end=2.0, tag_name="river crossing")
    questions: list[str] = []
    answers = iter([False, True])

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    page.goto(f"{base}/items/{clip_id}")
    page.locator(".range__edit summary").click()
    page.get_by_role("button", name="Delete this range").click()
    page.wait_for_timeout(300)
    assert page.locator(".ranges__list .range").count() == 1
    page.get_by_role("button", name="Delete this range").click()
    page.wait_for_url(f"{base}/items/{clip_id}*")
    wait_until(page, "document.querySelectorAll('.ranges__list .range').length === 0")
    assert questions == ["Delete the range 0:00:01.0–0:00:02.0 “river crossing”?"] * 2
