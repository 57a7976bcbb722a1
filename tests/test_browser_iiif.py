"""Mirador 4 (from npm, served by archive/web/vendor.py) opens an item's IIIF manifest on the viewer page:
the footage plays and the transcript's captions show, under that page's own Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from archive.core import Archive
from archive.models import Item
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.transcripts import import_transcript
from browser import ARTIFACTS, served_page, wait_until
from conftest import PUBLISHED
from mediagen import make_video

pytestmark = pytest.mark.browser

CAPTIONS = b"""WEBVTT

00:00:00.000 --> 00:00:06.000
<v Guide>We crossed the river at night.

00:00:06.000 --> 00:00:12.000
<v Guide>The broker waved a torch.
"""
MIRADOR_WARNINGS = ("Accessing element.ref was removed in React 19", 'Each child in a list should have a unique "key"')
VIDEO = "document.querySelector('#iiif-viewer video')"


def test_mirador_plays_the_footage_with_its_captions(app: Flask, archive: Archive, tmp_path: Path) -> None:
    report = ingest_paths(archive, [make_video(tmp_path / "crossing.mp4", duration=12.0)], IngestOptions(**PUBLISHED))
    assert report.ok, report
    item_id = report.ingested[0]["item_id"]
    with archive.session() as session:
        import_transcript(session, session.get(Item, item_id), CAPTIONS, "crossing.en.vtt", kind="subtitles")
    with served_page(app) as (base, page, requests, errors):
        page.goto(f"{base}/items/{item_id}")
        page.click("text=Open in a IIIF viewer")
        page.wait_for_url(f"{base}/iiif/items/{item_id}/viewer")
        wait_until(page, f"{VIDEO} && {VIDEO}.readyState >= 1", timeout=60_000)
        assert page.evaluate(f"{VIDEO}.querySelector('track').getAttribute('srclang')") == "en"
        page.evaluate(f"(() => {{ const v = {VIDEO}; v.muted = true; v.textTracks[0].mode = 'showing'; v.play(); }})()")
        wait_until(page, f"{VIDEO}.currentTime > 0.5", timeout=30_000)
        cue = wait_until(page, f"(() => {{ const t = {VIDEO}.textTracks[0]; return t.activeCues && t.activeCues.length"
                               f" && t.activeCues[0].text; }})()", timeout=30_000)
        assert "We crossed the river at night." in cue
        page.screenshot(path=ARTIFACTS / "iiif-viewer.png")
        assert any(url.endswith(f"/iiif/items/{item_id}/manifest") for url in requests)
        assert any(url.endswith(".vtt") for url in requests)
        # Mirador 4.0.0 itself logs two React warnings (element.ref; its <source key={video.io}>); nothing else.
        assert [e for e in errors if not e.startswith(MIRADOR_WARNINGS)] == [], errors
