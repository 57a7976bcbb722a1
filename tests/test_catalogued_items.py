"""Items catalogued before their media (ItemKind.catalogued, from a PBCore import): every page that lists or
shows items handles one with no file, for editors and for anonymous visitors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from archive.access import ANONYMOUS, SYSTEM
from archive.core import Archive
from archive.interchange.pbcore_import import import_pbcore
from archive.models import Item, ItemKind
from archive.search import SearchRequest
from archive.services import journeys, legs, locations, places, search_sync
from conftest import csrf_token

NOTE = "Catalogued, media not yet attached"
RECORD = """<pbcoreDescriptionDocument xmlns="http://www.pbcore.org/PBCore/PBCoreNamespace.html">
  <pbcoreIdentifier source="http://americanarchiveinventory.org">cpb-aacip-15-0001</pbcoreIdentifier>
  <pbcoreTitle titleType="Series">River Tapes</pbcoreTitle>
  <pbcoreTitle titleType="Episode">Crossing at dawn &amp; after</pbcoreTitle>
  <pbcoreDescription descriptionType="Abstract">A CATALOGUED-MARK record of the river at first light.</pbcoreDescription>
  <pbcoreSubject>river crossing</pbcoreSubject>
  <pbcoreAssetDate dateType="created">2019-04</pbcoreAssetDate>
</pbcoreDescriptionDocument>"""


@pytest.fixture
def settings(settings: dict[str, object], request: pytest.FixtureRequest) -> dict[str, object]:
    """The search engine of the stack for the tests that take search_engine; the default for the others."""
    if "search_engine" in request.fixturenames:
        return {**settings, "search_engine": request.getfixturevalue("search_engine")}
    return settings


@pytest.fixture
def catalogued(archive: Archive) -> dict[str, Any]:
    """A public catalogued item shot at a place and on a journey's leg, in the search index."""
    with archive.session() as session:
        report = import_pbcore(session, SYSTEM, RECORD.encode(), source_name="river.xml", access="public")
        item_id = report.records[0].item_id
        place = places.create_place(session, SYSTEM, name="Catalogue ford", latitude=41.4, longitude=128.2,
                                    country="KP", access="public")
        start = places.create_place(session, SYSTEM, name="Catalogue camp", latitude=41.0, longitude=128.0,
                                    country="KP", access="public")
        journey = journeys.create_journey(session, SYSTEM, title="Catalogue journey", access="public")
        leg = legs.add_leg(session, SYSTEM, journey.id, from_place_id=start.id, to_place_id=place.id)
        locations.link_item_place(session, SYSTEM, item_id, place.id)
        locations.link_item_leg(session, SYSTEM, item_id, leg.id)
        collection_id = session.get(Item, item_id).collection_id
    search_sync.sync_index(archive)
    return {"item": item_id, "place": place.id, "journey": journey.id, "collection": collection_id}


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["anonymous", "archivist"])
def test_every_page_shows_a_catalogued_item_without_media(client: FlaskClient, login: Any, catalogued: dict[str, Any],
                                                          role: str) -> None:
    if role != "anonymous":
        login(role)
    item_id = catalogued["item"]
    page = _page(client, f"/items/{item_id}")
    assert NOTE in page and "Crossing at dawn &amp; after" in page
    assert "<video" not in page and "<audio" not in page
    # The kept record: to editors, escaped inside a disclosure; to others, not at all.
    assert ("Source record" in page) is (role != "anonymous")
    if role != "anonymous":
        assert "&lt;pbcoreTitle titleType=&#34;Series&#34;&gt;River Tapes&lt;/pbcoreTitle&gt;" in page
        assert "&amp;amp; after" in page  # the XML's own escape, escaped again for the page
    for url in ("/items", "/items?kind=catalogued", f"/collections/{catalogued['collection']}",
                f"/places/{catalogued['place']}", f"/journeys/{catalogued['journey']}", "/search?q=CATALOGUED-MARK",
                "/search?q=CATALOGUED-MARK&kind=catalogued",
                "/"):
        assert "Crossing at dawn" in _page(client, url), url
    browse = _page(client, "/items?kind=catalogued")
    assert '<span class="card__placeholder">catalogued, media not yet attached</span>' in browse  # no thumbnail
    assert 'facet__value">Catalogued</span>' in browse  # the kind facet, labelled as search's is
    record = client.get(f"/api/items/{item_id}").get_json()
    assert record["kind"] == "catalogued" and record["title"] == "Crossing at dawn & after"
    assert any(entry["id"] == item_id for entry in client.get("/api/items").get_json()["items"])


def test_editors_edit_a_catalogued_item(client: FlaskClient, login: Any, catalogued: dict[str, Any]) -> None:
    login("archivist")
    item_id = catalogued["item"]
    edit = _page(client, f"/items/{item_id}/edit")
    assert "Crossing at dawn" in edit
    version = re.search(r'name="version" value="(\d+)"', edit)
    assert version is not None
    form = {"csrf_token": csrf_token(client, f"/items/{item_id}/edit"), "version": version.group(1),
            "title": "Crossing at dawn, edited", "access": "public", "tags": "river crossing"}
    client.post(f"/items/{item_id}/edit", data=form)
    page = _page(client, f"/items/{item_id}")
    assert "Crossing at dawn, edited" in page and NOTE in page and "(edited since)" in page


def test_search_indexes_a_catalogued_item(settings: dict[str, object], search_engine: str, archive: Archive,
                                          catalogued: dict[str, Any]) -> None:
    """On both engines (settings takes search_engine first: the archive is built with it)."""
    assert archive.settings["search_engine"] == search_engine
    found = archive.index.search(SearchRequest(q="CATALOGUED-MARK"), ANONYMOUS)
    assert [hit.item_id for hit in found.items] == [catalogued["item"]]


def test_a_catalogued_item_goes_to_the_trash_and_back(client: FlaskClient, login: Any, archive: Archive,
                                                      catalogued: dict[str, Any]) -> None:
    login("admin")
    item_id = catalogued["item"]
    token = csrf_token(client, f"/items/{item_id}")
    assert client.post(f"/items/{item_id}/delete", data={"csrf_token": token}).status_code == 302
    trash = _page(client, "/trash")
    assert "Crossing at dawn" in trash
    assert client.get(f"/items/{item_id}").status_code == 404
    token = csrf_token(client, "/trash")
    assert client.post("/trash/restore", data={"csrf_token": token, "item": str(item_id)}).status_code == 302
    assert NOTE in _page(client, f"/items/{item_id}")
    with archive.Session() as session:
        assert session.get(Item, item_id).kind is ItemKind.catalogued
