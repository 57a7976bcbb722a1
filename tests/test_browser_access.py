"""In a real browser, an anonymous visitor cannot reach a restricted item's page, thumbnail or file."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from archive.core import Archive
from archive.models import AccessLevel
from archive.services.ingest import IngestOptions, ingest_paths
from browser import ARTIFACTS, served_page

pytestmark = pytest.mark.browser


def test_anonymous_visitor_cannot_reach_restricted_material(app: Flask, archive: Archive, tmp_path: Path) -> None:
    Image.new("RGB", (320, 240), "teal").save(tmp_path / "open.jpg")
    Image.new("RGB", (320, 240), "maroon").save(tmp_path / "closed.jpg")
    public = ingest_paths(archive, [tmp_path / "open.jpg"], IngestOptions(access=AccessLevel.public))
    restricted = ingest_paths(archive, [tmp_path / "closed.jpg"], IngestOptions(access=AccessLevel.restricted))
    public_id = public.ingested[0]["item_id"]
    restricted_id = restricted.ingested[0]["item_id"]

    with served_page(app, height=720) as (base, page, _, _):
        response = page.goto(f"{base}/items/{public_id}")
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text() == "open"
        for path in (f"/items/{restricted_id}", f"/items/{restricted_id}/thumbs/grid",
                     f"/items/{restricted_id}/thumbs/page", f"/items/{restricted_id}/original",
                     f"/api/items/{restricted_id}"):
            response = page.goto(base + path)
            assert response is not None and response.status == 404, path
        page.goto(f"{base}/items/{restricted_id}")
        assert "Not found" in page.locator("h1").inner_text()
        page.goto(f"{base}/items")
        assert "closed" not in page.content()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "anonymous-browse.png"), full_page=True)
