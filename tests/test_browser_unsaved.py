"""In a real browser, nothing typed on an item's edit page is lost: "Save where it was filmed" saves
a title typed in the main form too, and leaving with edits not saved asks first (static/unsaved.js)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Dialog, Page

from archive.core import Archive
from archive.models import Item, LocationPrecision
from archive.services import accounts
from browser import logged_in_page
from conftest import PASSWORD
from test_web import add_item

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app: Flask, archive: Archive) -> Iterator[tuple[str, Page, list[str], list[str]]]:
    """An archivist's page, the browser's console errors, and the type of every dialog it was shown
    (each accepted, so that the page goes on)."""
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")
    with logged_in_page(app, "mina", PASSWORD) as (base, page, errors):
        dialogs: list[str] = []

        def answer(dialog: Dialog) -> None:
            dialogs.append(dialog.type)
            dialog.accept()

        page.on("dialog", answer)
        yield base, page, errors, dialogs


def _type_title(page: Page, title: str) -> None:
    # Typed key by key: the browser asks before leaving only a page the person has interacted with.
    field = page.locator("#f-title")
    field.click()
    field.press("Control+A")
    field.press_sequentially(title)


def _leave_for_the_item(page: Page, base: str, item_id: int) -> None:
    page.get_by_role("link", name="← Back to the item").click()
    page.wait_for_url(f"{base}/items/{item_id}")


def test_a_title_typed_before_saving_where_it_was_filmed_is_saved(
        site: tuple[str, Page, list[str], list[str]], archive: Archive) -> None:
    base, page, errors, dialogs = site
    item_id = add_item(archive, "River")
    page.goto(f"{base}/items/{item_id}/edit")
    _type_title(page, "River at night")
    page.locator("#geo-location_precision").select_option("country")
    page.get_by_role("button", name="Save where it was filmed").click()
    page.wait_for_url(f"{base}/items/{item_id}/edit#geography")
    assert "Saved where it was filmed: title, location precision changed." in page.locator(".flashes").inner_text()
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, item.location_precision) == ("River at night", LocationPrecision.country)
    assert page.locator("#f-title").input_value() == "River at night"
    assert dialogs == [] and errors == []


def test_leaving_with_unsaved_edits_asks_first_and_not_after_saving(
        site: tuple[str, Page, list[str], list[str]], archive: Archive) -> None:
    base, page, errors, dialogs = site
    item_id = add_item(archive, "River")
    page.goto(f"{base}/items/{item_id}/edit")
    _type_title(page, "Not kept")
    _leave_for_the_item(page, base, item_id)
    assert dialogs == ["beforeunload"]

    # Saved, there is nothing to ask about; an untouched page leaves without a word.
    page.goto(f"{base}/items/{item_id}/edit")
    _type_title(page, "Kept")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"{base}/items/{item_id}")
    page.goto(f"{base}/items/{item_id}/edit")
    page.locator("#f-title").click()
    _leave_for_the_item(page, base, item_id)
    assert dialogs == ["beforeunload"] and errors == []
    with archive.Session() as session:
        assert session.get(Item, item_id).title == "Kept"


def test_a_refused_form_counts_as_unsaved(site: tuple[str, Page, list[str], list[str]], archive: Archive) -> None:
    base, page, errors, dialogs = site
    item_id = add_item(archive, "River")
    page.goto(f"{base}/items/{item_id}/edit")
    _type_title(page, " ")
    page.locator("#f-date_shot").fill("not a date")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.locator("#f-date_shot").get_attribute("aria-invalid") == "true"
    page.locator("#f-description").click()
    _leave_for_the_item(page, base, item_id)
    assert dialogs == ["beforeunload"]
    assert [e for e in errors if "400" not in e] == []  # the refused page itself answers 400
