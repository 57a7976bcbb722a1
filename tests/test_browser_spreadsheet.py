"""In a real browser, an archivist uploads an edited spreadsheet, reads the dry run and applies it."""

from __future__ import annotations

import pytest
from flask import Flask

from archive.core import Archive
from archive.models import Item
from archive.services import accounts
from browser import ARTIFACTS, assert_accessible, logged_in_page
from conftest import PASSWORD
from test_web import add_item

pytestmark = pytest.mark.browser


def test_archivist_imports_a_spreadsheet(app: Flask, archive: Archive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Mekong at dawn")
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")
    sheet = tmp_path / "retitled.csv"
    sheet.write_text(f"id,title,tags\r\n{item_id},Mekong at dusk,river; dusk\r\n,A reel not yet digitised,\r\n",
                     encoding="utf-8-sig")

    with logged_in_page(app, "mina", PASSWORD, height=900) as (base, page, _):
        page.goto(f"{base}/import/csv")
        assert_accessible(page)
        page.set_input_files("#f-file", str(sheet))
        page.click("text=Check the changes")
        page.wait_for_load_state("networkidle")
        assert "1 item would change, 1 would be created, 0 problems" in page.locator(".result-count").inner_text()
        assert "Mekong at dusk" in page.locator(".csv-changes").first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "csv-import-dry-run.png"), full_page=True)
        assert_accessible(page)
        page.click("text=Apply these changes")
        page.wait_for_load_state("networkidle")
        assert "1 item changed, 1 created, 0 problems" in page.locator(".result-count").inner_text()
        page.screenshot(path=str(ARTIFACTS / "csv-import-applied.png"), full_page=True)
        assert_accessible(page)

    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert item.title == "Mekong at dusk" and [t.name for t in item.tags] == ["dusk", "river"]
