"""In a real browser, the transcript panel of a clip with two transcripts: a click on a line seeks the
player, the marked line follows playback inside the panel without moving the page, the tabs switch
language and the captions follow, the player loads the transcripts as its tracks, and an archivist
uploads one from the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from archive.core import Archive
from archive.models import Item
from archive.services import accounts
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.transcripts import import_transcript
from browser import ARTIFACTS, logged_in_page, served_page, wait_until
from conftest import PASSWORD, PUBLISHED
from mediagen import make_video

pytestmark = pytest.mark.browser

SECONDS = 12.0
#: Two-second lines over the clip, and then half-second ones: enough to overflow the panel.
TIMES = [(0.5, 2.0), (2.0, 4.0), (4.0, 6.0), *[(6.0 + i / 2, 6.5 + i / 2) for i in range(11)]]
KOREAN_LINES = ["밤에 강을 건넜어요.", "국경 경비대는 보이지 않았어요.", "브로커가 손전등을 흔들었어요.",
                *[f"{n}번째 사람이 강둑에 닿았어요." for n in range(1, 12)]]
ENGLISH_LINES = ["We crossed the river at night.", "No border guard was in sight.", "The broker waved a torch.",
                 *[f"Person {n} reached the bank." for n in range(1, 12)]]


def _webvtt(lines: list[str], speaker: str) -> bytes:
    def stamp(seconds: float) -> str:
        return f"00:00:{int(seconds):02d}.{round(seconds % 1 * 1000):03d}"
    cues = [f"{stamp(start)} --> {stamp(end)}\n<v {speaker}>{text}\n" for (start, end), text in zip(TIMES, lines)]
    return ("WEBVTT\n\n" + "\n".join(cues)).encode()


@pytest.fixture
def clip(archive: Archive, tmp_path: Path) -> dict[str, int]:
    """A twelve-second public clip with a Korean transcript and English subtitles."""
    report = ingest_paths(archive, [make_video(tmp_path / "Yalu_crossing.mp4", duration=SECONDS)],
                          IngestOptions(**PUBLISHED))
    assert report.ok, report
    item_id = report.ingested[0]["item_id"]
    with archive.session() as session:
        item = session.get(Item, item_id)
        korean = import_transcript(session, item, _webvtt(KOREAN_LINES, "Guide"), "clip.ko.vtt").transcript
        english = import_transcript(session, item, _webvtt(ENGLISH_LINES, "Guide"), "clip.en.vtt",
                                    kind="subtitles").transcript
        return {"item": item_id, "ko": korean.id, "en": english.id}


@pytest.fixture
def page(app: Flask) -> Iterator[tuple[str, Page]]:
    with served_page(app) as (base, page, _, _):
        yield base, page


def _ready(page: Page) -> None:
    wait_until(page, "document.querySelector('video[data-player]').readyState >= 1", timeout=15_000)


def _time(page: Page) -> float:
    return page.evaluate("document.querySelector('video[data-player]').currentTime")


def _current(page: Page, transcript_id: int) -> list[str]:
    """The start times of the marked lines of one transcript."""
    return page.eval_on_selector_all(f"#transcript-{transcript_id} .transcript-line--current",
                                     "lines => lines.map(line => line.dataset.start)")


def test_transcript_panel_follows_and_seeks_the_player(page: tuple[str, Page], clip: dict[str, int]) -> None:
    base, page = page
    page.goto(f"{base}/items/{clip['item']}")
    _ready(page)
    korean, english = page.locator(f"#transcript-{clip['ko']}"), page.locator(f"#transcript-{clip['en']}")

    # Both transcripts are the player's tracks, read from the .vtt route; the Korean one shows by default.
    wait_until(page, f"document.getElementById('track-{clip['ko']}').track.cues.length === {len(TIMES)}")
    assert page.evaluate(f"document.getElementById('track-{clip['ko']}').track.mode") == "showing"
    assert page.get_by_role("tab", name="Korean transcript").get_attribute("aria-selected") == "true"
    assert korean.is_visible() and english.is_hidden()

    # A click on a line plays from its start.
    korean.locator(".transcript-line").nth(2).locator(".transcript-line__text").click()
    # The mark follows on the player's next timeupdate, which may come a moment after currentTime moved.
    wait_until(page, f"""() => {{
        const v = document.querySelector('video[data-player]');
        const marked = document.querySelectorAll('#transcript-{clip["ko"]} .transcript-line--current');
        return !v.paused && v.currentTime >= 4 && v.currentTime < 6
            && marked.length === 1 && marked[0].dataset.start === '4.0';
    }}""")

    # Playing on, the mark moves to the next line.
    wait_until(page, f"""() => {{
        const marked = document.querySelectorAll('#transcript-{clip["ko"]} .transcript-line--current');
        return marked.length === 1 && marked[0].dataset.start === '6.0';
    }}""", timeout=10_000)
    page.evaluate("document.querySelector('video[data-player]').pause()")
    assert page.locator(".transcript-line--current").get_attribute("aria-current") == "time"

    # Far down the list, the panel scrolls to the line; the page stays where it is.
    page_scroll = page.evaluate("window.scrollY")
    page.evaluate("""() => new Promise(resolve => {
        const video = document.querySelector('video[data-player]');
        video.addEventListener('seeked', resolve, { once: true });
        video.currentTime = 10.7;
    })""")
    wait_until(page, f"""() => {{
        const list = document.querySelector('#transcript-{clip["ko"]} .transcript__lines');
        const line = list.querySelector('.transcript-line--current');
        return line && line.dataset.start === '10.5' && list.scrollTop > 0
            && line.offsetTop >= list.scrollTop && line.offsetTop + line.offsetHeight <= list.scrollTop + list.clientHeight;
    }}""")
    assert page.evaluate("window.scrollY") == page_scroll
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#transcripts").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "transcript-panel.png"), full_page=True)

    # The other tab shows the English lines, marked at the same second, and the captions follow.
    page.get_by_role("tab", name="English subtitles").click()
    assert english.is_visible() and korean.is_hidden()
    assert _current(page, clip["en"]) == ["10.5"]
    assert english.locator(".transcript-line--current .transcript-line__text").inner_text() == \
        "Person 10 reached the bank."
    assert page.evaluate(f"document.getElementById('track-{clip['en']}').track.mode") == "showing"
    assert page.evaluate(f"document.getElementById('track-{clip['ko']}').track.mode") == "disabled"
    page.keyboard.press("ArrowLeft")  # tabs move with the arrow keys, as tabs do
    assert korean.is_visible() and page.evaluate("document.activeElement.textContent") == "Korean transcript"

    # The timecode is a link (without script it loads the page at that second); here it seeks in place.
    page.get_by_role("tab", name="English subtitles").click()
    timecode = english.locator(".transcript-line__time").nth(1)
    assert timecode.get_attribute("href") == f"/items/{clip['item']}?t=2#player"
    page.evaluate("window.stillHere = true")
    timecode.click()
    wait_until(page, "() => { const t = document.querySelector('video[data-player]').currentTime;"
                           " return t >= 2 && t < 3.5; }")
    assert page.evaluate("window.stillHere") is True and "?t=" not in page.url


def test_a_link_to_a_transcript_opens_its_tab_and_t_starts_there(page: tuple[str, Page],
                                                                  clip: dict[str, int]) -> None:
    base, page = page
    page.goto(f"{base}/items/{clip['item']}?t=4.5#transcript-{clip['en']}")
    _ready(page)
    assert page.get_by_role("tab", name="English subtitles").get_attribute("aria-selected") == "true"
    wait_until(page, f"""() => {{
        const marked = document.querySelectorAll('#transcript-{clip["en"]} .transcript-line--current');
        return marked.length === 1 && marked[0].dataset.start === '4.0';
    }}""")
    assert abs(_time(page) - 4.5) < 0.1
    # The captions follow the transcript the link named, as a tab's click makes them.
    wait_until(page, f"document.getElementById('track-{clip['en']}').track.mode === 'showing'")
    assert page.evaluate(f"document.getElementById('track-{clip['ko']}').track.mode") == "disabled"


def test_a_search_hit_shows_its_transcript_in_captions_and_panel_and_focuses_the_player(
        page: tuple[str, Page], clip: dict[str, int]) -> None:
    base, page = page
    # A search hit's link (templates/search.html): the second, the transcript it was found in, the player.
    page.goto(f"{base}/items/{clip['item']}?t=10.5&transcript={clip['en']}#player")
    _ready(page)
    assert page.get_by_role("tab", name="English subtitles").get_attribute("aria-selected") == "true"
    assert page.get_attribute(f"#track-{clip['en']}", "default") is not None  # the server chose it too
    wait_until(page, f"document.getElementById('track-{clip['en']}').track.mode === 'showing'")
    assert page.evaluate(f"document.getElementById('track-{clip['ko']}').track.mode") == "disabled"
    assert page.evaluate("document.activeElement.matches('video[data-player]')")
    # The matched line is marked and scrolled into view inside the panel.
    wait_until(page, f"""() => {{
        const list = document.querySelector('#transcript-{clip["en"]} .transcript__lines');
        const line = list.querySelector('.transcript-line--current');
        return line && line.dataset.start === '10.5' && list.scrollTop > 0
            && line.offsetTop >= list.scrollTop && line.offsetTop + line.offsetHeight <= list.scrollTop + list.clientHeight;
    }}""")
    # Half-second cues show their tenths; whole seconds stay whole.
    times = page.locator(f"#transcript-{clip['en']} .transcript-line__time").all_inner_texts()
    assert times[:4] == ["0:00:00.5", "0:00:02", "0:00:04", "0:00:06"] and times[-2:] == ["0:00:10.5", "0:00:11"]


def test_archivist_uploads_a_transcript_from_the_item_page(app: Flask, archive: Archive, clip: dict[str, int],
                                                           tmp_path: Path) -> None:
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")
    bad = tmp_path / "clip.fr.srt"
    bad.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nBonjour.\n\n2\n00:00:05,000 --> 00:00:03,000\nAu revoir.\n")
    good = tmp_path / "clip.fr.vtt"
    good.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Guide>Nous traversons le fleuve.\n",
                    encoding="utf-8")
    with logged_in_page(app, "mina", PASSWORD, height=900) as (base, page, _):
        page.goto(f"{base}/items/{clip['item']}")

        page.get_by_text("Add or replace a transcript").click()
        page.get_by_label("File").set_input_files(str(bad))
        page.get_by_role("button", name="Import transcript").click()
        error = page.locator("#tr-file-error")
        assert error.inner_text() == "clip.fr.srt, line 6: cue ends (00:00:03.000) before it starts (00:00:05.000)"
        # The reader is taken to the message once the deferred scripts have run (error text comes first).
        wait_until(page, "document.activeElement !== null && document.activeElement.id === 'tr-file'", 10_000)
        assert page.get_by_role("tab").count() == 2

        page.get_by_label("File").set_input_files(str(good))
        page.get_by_role("button", name="Import transcript").click()
        page.wait_for_url(f"{base}/items/{clip['item']}#transcript-*")
        assert page.locator(".flash").inner_text() == "Added the French transcript from clip.fr.vtt: 1 line."
        tab = page.get_by_role("tab", name="French transcript")
        assert tab.get_attribute("aria-selected") == "true"
        assert page.locator(".transcript:not([hidden]) .transcript-line__text").all_inner_texts() == \
            ["Nous traversons le fleuve."]
