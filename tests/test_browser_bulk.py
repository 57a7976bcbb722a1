"""In a real browser, an archivist logs in, ticks three items on the browse page and tags them at once."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from archive.core import Archive
from archive.models import AuditEntry, Item
from archive.services import accounts
from browser import ARTIFACTS, logged_in_page
from conftest import PASSWORD
from test_web import add_item

pytestmark = pytest.mark.browser


def test_archivist_bulk_tags_three_items(app: Flask, archive: Archive) -> None:
    chosen = [add_item(archive, f"Mekong clip {n}", added=n) for n in range(3)]
    left_alone = add_item(archive, "Seoul still", added=10)
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")

    with logged_in_page(app, "mina", PASSWORD, height=900) as (base, page, _):

        page.goto(f"{base}/items?sort=oldest")
        for item_id in chosen:
            page.check(f"input[data-bulk-item][value='{item_id}']")
        assert "3" in page.locator("[data-bulk-count]").inner_text()
        page.fill("#b-add_tags", "river crossing, night")
        page.click("[data-bulk-submit]")
        page.wait_for_load_state("networkidle")
        assert "3 items updated" in page.locator(".flashes").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "bulk-tagged.png"), full_page=True)

    with archive.Session() as session:
        for item_id in chosen:
            assert [t.name for t in session.get(Item, item_id).tags] == ["night", "river crossing"]
        assert session.get(Item, left_alone).tags == []
        batches = set(session.scalars(select(AuditEntry.batch).where(AuditEntry.action == "bulk_edit",
                                                                     AuditEntry.object_type == "item")))
        assert len(batches) == 1 and batches != {""}
