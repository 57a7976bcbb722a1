"""In a real browser, two transcripts of one clip side by side: the columns aligned row by row, the spoken cue
marked in both as the clip plays, a search hit's link landing on the same moment in both, the pair kept after a
reload (on the account when signed in, in the browser for the public), the player beside the transcript and in
view on a wide screen, the transcript under the player on a phone."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page

import pytest

from archive.core import Archive
from archive.services import accounts
from browser import ARTIFACTS, logged_in_page, served_page, wait_until
from conftest import PASSWORD
from test_browser_transcript import ENGLISH_LINES, KOREAN_LINES, TIMES, clip  # noqa: F401 (clip: a fixture)

pytestmark = pytest.mark.browser


def _both_marked_at(start: str) -> str:
    return f"""() => {{
        const marked = side => Array.from(document.querySelectorAll(
            `.transcript-pair [data-side="${{side}}"].transcript-line--current`)).map(c => c.dataset.start);
        const left = marked('left'), right = marked('right');
        return left.length === 1 && right.length === 1 && left[0] === '{start}' && right[0] === '{start}';
    }}"""


def _rows(page: Page) -> list[list[str]]:
    return page.eval_on_selector_all(".transcript-pair__row", """rows => rows.map(row =>
        Array.from(row.querySelectorAll('.transcript-pair__cell')).map(cell =>
            (cell.querySelector('.transcript-line__text') || {textContent: ''}).textContent.trim()))""")


def _box(page: Page, selector: str) -> dict[str, float]:
    return page.evaluate(f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
                         " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })()")


def test_two_transcripts_side_by_side_follow_the_player(app: Flask, archive: Archive, clip: dict[str, int]) -> None:  # noqa: F811
    with archive.session() as session:
        accounts.create_user(session, "ana", PASSWORD, "researcher")
    with logged_in_page(app, "ana", PASSWORD, height=900) as (base, page, errors):
        page.goto(f"{base}/items/{clip['item']}")
        assert page.locator(".transcript-pair").count() == 0
        page.get_by_label("Left column").select_option(str(clip["ko"]))
        page.get_by_label("Right column").select_option(str(clip["en"]))
        page.get_by_role("button", name="Show side by side").click()
        page.wait_for_selector(".transcript-pair")

        # Aligned: one row a moment, the Korean line beside its English one.
        assert _rows(page) == [[ko, en] for ko, en in zip(KOREAN_LINES, ENGLISH_LINES)]
        assert page.locator(".transcript-pair [data-side='left']").first.get_attribute("lang") == "ko"

        # A click on a cell plays from there; the cue is marked in both columns, and the marks move on together.
        wait_until(page, "document.querySelector('video[data-player]').readyState >= 1", timeout=15_000)
        page.locator(".transcript-pair__row").nth(2).locator("[data-side='right'] .transcript-line__text").click()
        wait_until(page, _both_marked_at("4.0"))
        wait_until(page, _both_marked_at("6.0"), timeout=10_000)
        page.evaluate("document.querySelector('video[data-player]').pause()")

        # Kept on the account: after a reload, the same pair.
        page.reload()
        page.wait_for_selector(".transcript-pair")
        assert _rows(page)[0] == [KOREAN_LINES[0], ENGLISH_LINES[0]]
        assert page.get_by_label("Left column").input_value() == str(clip["ko"])

        # A search hit's link (into the English subtitles) lands on the same moment in both columns.
        page.goto(f"{base}/items/{clip['item']}?t=2.5&transcript={clip['en']}#player")
        wait_until(page, _both_marked_at("2.0"))

        # Wide screen: the transcript beside the player, and the player still in view when the page scrolls.
        page.goto(f"{base}/items/{clip['item']}#transcripts")
        player, pair = _box(page, "video[data-player]"), _box(page, ".transcript-pair")
        assert pair["left"] >= player["right"], (player, pair)
        # Scrolled down to the end of the transcript's rows, the player has come along.
        page.evaluate(f"window.scrollBy(0, {pair['bottom'] - 900 + 10})")
        page.wait_for_timeout(200)
        player, media = _box(page, "video[data-player]"), _box(page, ".item__watch-media")
        assert page.evaluate("window.scrollY") > 100
        assert abs(media["top"] - 12) < 2, media  # stuck .75rem below the top of the screen
        assert player["top"] >= 0 and player["bottom"] <= 900, player
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "side-by-side-desktop.png"), full_page=True)

        # Phone: the transcript under the player.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.wait_for_selector(".transcript-pair")
        player, pair = _box(page, "video[data-player]"), _box(page, ".transcript-pair")
        assert pair["top"] >= player["bottom"], (player, pair)
        page.screenshot(path=str(ARTIFACTS / "side-by-side-phone.png"), full_page=True)

        # Back to one at a time, kept too.
        page.get_by_role("button", name="One at a time").click()
        page.wait_for_selector("#transcript-%d .transcript__lines" % clip["ko"])
        page.reload()
        assert page.locator(".transcript-pair").count() == 0
        assert errors == []


def test_the_public_keeps_its_pair_in_the_browser(app: Flask, clip: dict[str, int]) -> None:  # noqa: F811
    with served_page(app) as (base, page, _, errors):
        page.goto(f"{base}/items/{clip['item']}")
        assert page.locator(".transcript-pair").count() == 0
        page.get_by_label("Left column").select_option(str(clip["en"]))
        page.get_by_label("Right column").select_option(str(clip["ko"]))
        page.get_by_role("button", name="Show side by side").click()
        page.wait_for_selector(".transcript-pair")
        assert _rows(page)[1] == [ENGLISH_LINES[1], KOREAN_LINES[1]]

        # The item's plain address again: this browser remembers the pair.
        page.goto(f"{base}/items/{clip['item']}")
        page.wait_for_selector(".transcript-pair")
        assert _rows(page)[0] == [ENGLISH_LINES[0], KOREAN_LINES[0]]

        page.get_by_role("link", name="One at a time").click()
        page.wait_for_load_state()
        page.goto(f"{base}/items/{clip['item']}")
        page.wait_for_timeout(300)
        assert page.locator(".transcript-pair").count() == 0
        assert errors == []
