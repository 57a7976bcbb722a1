"""axe-core in a real browser over the main pages of the demo archive, held at zero violations.

Run with the WCAG 2.2 A/AA tags, axe's best practices and its experimental rules (browser.AXE_TAGS),
logged in as an admin so that the edit controls are on the pages too. The demo is copied first: the
account and the time range this module adds must not reach the demo other modules read.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from archive.app import create_app
from archive.models import Item, ItemKind, Journey, Place, Transcript
from archive.services import accounts
from archive.services.ranges import add_range
from browser import assert_accessible, axe_violations, log_in_page, served_page
from conftest import PASSWORD
from test_demo import demo_root  # noqa: F401  (the fixture)

# axe-core comes with the set-up's npm packages (make setup): a missing one fails, never skips.
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A copy of the demo with an admin and a tagged range on a clip with transcripts, served and logged in."""
    root = tmp_path_factory.mktemp("axe") / "demo"
    shutil.copytree(demo_root, root)
    app = create_app({"data": str(root), "secret_key": "browser"})
    archive = app.extensions["crossings"]
    with archive.session() as session:
        accounts.create_user(session, "axe-admin", PASSWORD, "admin")
        clip = session.scalar(select(Item).join(Transcript).where(Transcript.language == "en", Item.kind == ItemKind.video)
                               .order_by(Item.id))
        add_range(session, clip, start=1, end=3.5, tag_name="river crossing")
        ids = {"item": clip.id,
               "journey": session.scalar(select(Journey.id)),
               "mekong": session.scalar(select(Place.id).where(Place.name == "Mekong"))}
    with served_page(app, width=1280, height=900) as (base, page, _, errors):
        log_in_page(page, base, "axe-admin", PASSWORD)
        yield {"base": base, "page": page, "errors": errors, **ids}


#: The main pages, by what the issue calls them; {item}, {journey} and {mekong} are filled in.
PAGES = {
    "home": "/",
    "browse": "/items",
    "item": "/items/{item}",
    "search": "/search?q=river",
    "journey": "/journeys/{journey}",
    "map": "/map",
    "place": "/places/{mekong}",
    "country": "/countries/la",
    "edit": "/items/{item}/edit",
    "admin": "/admin/log",
    "accounts": "/admin/users",
    "account": "/admin/users/axe-admin",
}


def _open(site: dict[str, Any], path: str) -> Page:
    page: Page = site["page"]
    page.goto(site["base"] + path.format(**site))
    page.wait_for_load_state("load")
    if page.locator("[data-map]").count():  # the map draws its markers after the page has loaded
        page.evaluate("CrossingsMap.get(document.querySelector('[data-map]')).then(() => true)")
    return page


@pytest.mark.parametrize("name", list(PAGES))
def test_main_page_has_no_axe_violation(site: dict[str, Any], name: str) -> None:
    page = _open(site, PAGES[name])
    assert_accessible(page)
    assert site["errors"] == []


def test_the_helper_runs_experimental_rules(site: dict[str, Any]) -> None:
    """A name that does not hold the visible text fails label-content-name-mismatch (WCAG 2.1 A, once an
    experimental rule): the wcag2a/2aa/21aa/22aa and best-practice tags alone would pass it silently."""
    page = _open(site, "/")
    page.evaluate("""() => { const link = document.createElement('a'); link.href = '/items';
        link.id = 'mismatch'; link.textContent = 'Browse'; link.setAttribute('aria-label', 'Open the catalogue');
        document.querySelector('main').append(link); }""")
    assert {v["id"] for v in axe_violations(page, "#mismatch")} == {"label-content-name-mismatch"}


def test_search_has_a_skip_link_to_the_results(site: dict[str, Any]) -> None:
    page = _open(site, "/search?q=river")
    skip = page.get_by_role("link", name="Skip to the results")
    skip.focus()
    assert skip.is_visible()
    skip.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results"
    assert page.locator("#results .search-result").count() > 0


@pytest.mark.parametrize("name", ["journey", "map", "place", "item"])
def test_main_page_on_a_phone_has_no_axe_violation(site: dict[str, Any], name: str) -> None:
    """At 390 px the markers crowd together (target-size) and the pages must not run off the screen."""
    page: Page = site["page"]
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page = _open(site, PAGES[name])
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
