"""In a real browser, an admin manages accounts from the Accounts page (issue 10 §7): creates one and
reads its password once, grants a collection until a day with the date picker, and deactivates the
account after confirming. Both pages are held to zero axe-core violations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Dialog

from archive.core import Archive
from archive.models import AccessLevel, ItemKind
from archive.services import accounts
from browser import ARTIFACTS, assert_accessible, logged_in_page
from conftest import PASSWORD
from test_web import add_item

pytestmark = pytest.mark.browser


def test_an_admin_creates_an_account_grants_it_until_a_day_and_deactivates_it(app: Flask, archive: Archive) -> None:
    add_item(archive, "Safe house interview", kind=ItemKind.still, access=AccessLevel.confidential,
             collection="Testimonies")
    with archive.session() as session:
        accounts.create_user(session, "boss", PASSWORD, "admin")
    last_day = accounts.today() + timedelta(days=14)
    with logged_in_page(app, "boss", PASSWORD) as (base, page, errors):
        questions: list[str] = []

        def answer(dialog: Dialog) -> None:
            questions.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer)
        page.get_by_role("link", name="Accounts").click()
        page.wait_for_url(f"{base}/admin/users")
        assert_accessible(page)
        page.get_by_label("Username").fill("ana")
        page.get_by_label("Role").select_option("researcher")
        page.get_by_role("button", name="Create account").click()
        password = page.locator("#new-password").inner_text()
        assert len(password) == 19
        assert_accessible(page)

        page.get_by_role("link", name="Open ana").click()
        page.wait_for_url(f"{base}/admin/users/ana")
        page.get_by_label("Collection", exact=True).select_option(label="Testimonies")
        page.get_by_label("Last day (optional)").fill(last_day.isoformat())  # the date picker's value
        page.get_by_role("button", name="Grant").click()
        page.wait_for_url(f"{base}/admin/users/ana#grants")
        grants = page.locator(".grants-table")
        assert f"the end of {last_day.isoformat()} (UTC)" in grants.inner_text()
        assert "may see the confidential items of “Testimonies” through" in page.locator(".flashes").inner_text()
        assert_accessible(page)
        page.screenshot(path=ARTIFACTS / "account.png", full_page=True)

        page.get_by_role("button", name="Deactivate ana").click()
        page.wait_for_selector("text=ana is deactivated")
        assert questions and questions[-1].startswith("Deactivate ana?")
        assert page.get_by_role("button", name="Reactivate ana").is_visible()
        assert errors == []

    # The password shown once logs in until the account is deactivated.
    with archive.session() as session:
        accounts.set_active(session, "ana", True)
    with logged_in_page(app, "ana", password) as (base, page, errors):
        page.goto(f"{base}/search?q=safe")
        assert "Safe house interview" in page.locator("main").inner_text()


def test_refusing_the_confirmation_deactivates_nothing(app: Flask, archive: Archive) -> None:
    with archive.session() as session:
        accounts.create_user(session, "boss", PASSWORD, "admin")
        accounts.create_user(session, "ana", PASSWORD, "researcher")
    with logged_in_page(app, "boss", PASSWORD) as (base, page, errors):
        page.on("dialog", lambda dialog: dialog.dismiss())
        page.goto(f"{base}/admin/users/ana")
        page.get_by_role("button", name="Deactivate ana").click()
        page.get_by_role("button", name="Generate a new password").click()
        page.wait_for_timeout(300)
        assert page.url == f"{base}/admin/users/ana" and not page.locator("#new-password").count()
    with archive.Session() as session:
        assert accounts.get_user(session, "ana").active
    with logged_in_page(app, "ana", PASSWORD):
        pass  # the old password still works
