"""In a real browser: a link on an item's identifier with t=START,END plays that span and stops; an account
saves clips into a list, reorders them and plays the list in sequence; a list shared with another account
shows them only the clips they may see, and its owner is told when one is no longer available."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from archive.core import Archive
from archive.models import AccessLevel, Collection, Item
from archive.services import accounts
from archive.services.ingest import IngestOptions, ingest_paths
from browser import ARTIFACTS, assert_accessible, log_in_page, served_page, wait_until
from conftest import PASSWORD, PUBLISHED

pytestmark = pytest.mark.browser

PLAYER = "document.querySelector('video[data-player]')"
LIST_PLAYER = "document.querySelector('video[data-clip-player]')"


def _clip(path: Path, pattern: str) -> Path:
    """Six seconds of a test pattern and tone, H.264 and AAC in MP4."""
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
                    "-f", "lavfi", "-i", f"{pattern}=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", "6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
                    "-c:a", "aac", "-shortest", str(path)], check=True, timeout=60, capture_output=True)
    return path


@pytest.fixture
def tapes(archive: Archive, tmp_path: Path) -> dict[str, int]:
    """A public tape, and a confidential one in a collection granted to the list's owner, "owner"."""
    report = ingest_paths(archive, [_clip(tmp_path / "River_bank.mp4", "testsrc2"),
                                    _clip(tmp_path / "Night_boat.mp4", "smptebars")], IngestOptions(**PUBLISHED))
    assert report.ok, report
    with archive.session() as session:
        by_title = {item.title: item.id for item in session.query(Item)}
        river, boat = by_title["River bank"], by_title["Night boat"]
        sealed = Collection(title="Sealed tapes")
        session.add(sealed)
        session.flush()
        item = session.get(Item, boat)
        item.access, item.collection_id = AccessLevel.confidential, sealed.id
        accounts.create_user(session, "owner", PASSWORD, "researcher")
        accounts.create_user(session, "reader", PASSWORD, "researcher")
        session.flush()
        accounts.grant(session, "owner", sealed.id)
    return {"river": river, "boat": boat}


def _pid(archive: Archive, item_id: int) -> str:
    with archive.session() as session:
        return session.get(Item, item_id).pid


def _shots(page: Page, name: str) -> None:
    """The page at desktop and phone widths, into test-artifacts/, checked by axe-core at both, and not
    wider than a phone."""
    for label, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"clips-{name}-{label}.png"), full_page=True)
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, label)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_moment_link_plays_exactly_its_span_and_stops(app: Flask, archive: Archive, tapes: dict[str, int]) -> None:
    with served_page(app) as (base, page, _, errors):
        page.goto(f"{base}/id/{_pid(archive, tapes['river'])}?t=1.5,3")
        assert page.url.endswith(f"/items/{tapes['river']}?t=1.5,3")
        # At the span's start, playing where the browser allows autoplay; chromium here refuses it without a
        # gesture, so the viewer presses play (a click on the video) and the span plays from there.
        wait_until(page, f"{PLAYER}.readyState >= 1 && Math.abs({PLAYER}.currentTime - 1.5) < 0.05 "
                         f"|| {PLAYER}.currentTime > 1.6", timeout=15_000)
        if page.evaluate(f"{PLAYER}.paused"):
            page.locator("video[data-player]").click()
        wait_until(page, f"{PLAYER}.currentTime > 1.6", timeout=15_000)
        wait_until(page, f"{PLAYER}.paused && {PLAYER}.currentTime >= 2.9", timeout=15_000)
        page.wait_for_timeout(600)
        state = page.evaluate(f"""(() => {{ const v = {PLAYER}; const p = v.played;
            return {{ time: v.currentTime, paused: v.paused, start: p.length ? p.start(0) : null,
                      end: p.length ? p.end(p.length - 1) : null }}; }})()""")
        assert state["paused"] and abs(state["time"] - 3.0) < 0.05, state
        assert abs(state["start"] - 1.5) < 0.1 and state["end"] < 3.1, state  # nothing before or past the span
        # the item page's tools take in and out from the player, and give the same kind of link
        page.get_by_role("button", name="Set in").click()
        assert page.locator("#clip-start").input_value() == "0:00:03.0"
        page.fill("#clip-start", "0:00:02")
        page.fill("#clip-end", "4.5")
        page.get_by_role("button", name="Link to this moment").click()
        link = page.locator("#clip-tools-url").input_value()
        assert link == f"{base}/id/{_pid(archive, tapes['river'])}?t=2,4.5"
        _shots(page, "item")
        page.get_by_role("button", name="Cite this clip").click()
        page.wait_for_url("**/cite?**")
        assert "0:00:02.0–0:00:04.5" in page.locator("#citation-chicago").inner_text()
        _shots(page, "cite")
        assert errors == []


def test_save_reorder_play_in_sequence_share_and_hide(app: Flask, archive: Archive, tapes: dict[str, int]) -> None:
    with served_page(app) as (base, page, _, errors):
        log_in_page(page, base, "owner", PASSWORD)
        # save the first clip from the item page's tools into a new list
        page.goto(f"{base}/items/{tapes['river']}")
        page.fill("#clip-start", "1")
        page.fill("#clip-end", "2")
        page.get_by_role("button", name="Cite this clip").click()
        page.fill("#clip-new-list", "Crossings seminar")
        page.fill("#clip-note", "The far bank")
        page.get_by_role("button", name="Save clip").click()
        page.wait_for_url("**/clips/*")
        list_url = page.url
        # the second, of the confidential tape, into the same list
        page.goto(f"{base}/items/{tapes['boat']}/cite?t=3,4")
        page.select_option("#clip-list", label="Crossings seminar")
        page.get_by_role("button", name="Save clip").click()
        page.wait_for_url(list_url)
        titles = page.locator(".clip__title").all_inner_texts()
        assert titles == ["River bank", "Night boat"], titles
        page.locator("#clip-2").get_by_role("button", name="Move up").click()
        page.wait_for_url(list_url)
        assert page.locator(".clip__title").all_inner_texts() == ["Night boat", "River bank"]

        # play in sequence: each clip's span, one after the other, then stop
        page.evaluate(f"""(() => {{ const v = {LIST_PLAYER}; window.heard = [];
            v.addEventListener('playing', () => window.heard.push(['play', v.currentSrc, v.currentTime]));
            v.addEventListener('pause', () => window.heard.push(['pause', v.currentSrc, v.currentTime])); }})()""")
        page.get_by_role("button", name="Play all in sequence").click()
        wait_until(page, "document.querySelector('[data-clip-now]').textContent.includes('played to its end')",
                   timeout=20_000)
        heard = page.evaluate("window.heard")
        plays = [(src.rsplit("/", 2)[-2] if "/items/" in src else src, round(t, 1)) for kind, src, t in heard
                 if kind == "play"]
        pauses = [round(t, 1) for kind, _, t in heard if kind == "pause"]
        assert [p[1] for p in plays] == [3.0, 1.0], heard
        assert f"{tapes['boat']}" in heard[0][1] and any(f"/items/{tapes['river']}/" in h[1] for h in heard), heard
        assert pauses and abs(pauses[-1] - 2.0) <= 0.1, heard
        _shots(page, "list-owner")

        # share it with the reader, who sees only the public clip, and no word of the other
        page.fill("#share-username", "reader")
        page.get_by_role("button", name="Share", exact=True).click()
        page.wait_for_url(list_url)
        assert "reader" in page.locator(".clip-shares").inner_text()
        page.get_by_role("button", name="Log out").click()
        log_in_page(page, base, "reader", PASSWORD)
        page.goto(f"{base}/clips")
        assert "Crossings seminar" in page.locator("main").inner_text()
        assert "by owner, 1 clip" in page.locator("main").inner_text()
        _shots(page, "lists-reader")
        page.goto(list_url)
        main = page.locator("main").inner_text()
        assert page.locator(".clip__title").all_inner_texts() == ["River bank"]
        assert "Night boat" not in main and "no longer available" not in main and "1 clip" in main
        assert page.get_by_role("button", name="Move up").count() == 0
        _shots(page, "list-reader")

        # the owner's grant ends: the owner is told one clip is no longer available, and not which
        with archive.session() as session:
            collection_id = session.get(Item, tapes["boat"]).collection_id
            accounts.revoke(session, "owner", collection_id)
        page.get_by_role("button", name="Log out").click()
        log_in_page(page, base, "owner", PASSWORD)
        page.goto(list_url)
        main = page.locator("main").inner_text()
        assert "1 clip is no longer available to you." in main and "Night boat" not in main
        assert page.locator(".clip__title").all_inner_texts() == ["River bank"]
        _shots(page, "list-unavailable")
        assert errors == []
