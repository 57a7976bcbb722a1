"""Bulk edits from the browse grid: many items' tags, collection and access level at once."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import Role, Viewer
from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, Item
from archive.services import Invalid
from archive.services.editing import KEEP, bulk_edit, set_item_tags
from conftest import csrf_token
from test_edit_web import field_html
from test_web import add_item, text

ARCHIVIST = Viewer(role=Role.archivist, user_id=None, name="mina")


def state(archive: Archive, item_id: int) -> tuple[list[str], str | None, AccessLevel]:
    with archive.Session() as session:
        item = session.get(Item, item_id)
        return [t.name for t in item.tags], item.collection.title if item.collection else None, item.access


def test_browse_shows_selection_and_the_bulk_bar_to_archivists_only(app, client: FlaskClient, archive: Archive,
                                                                    login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    anonymous = app.test_client()
    login("archivist")

    html = text(client.get("/items?kind=still"))

    assert f'<input type="checkbox" name="item" value="{item_id}" data-bulk-item>' in html
    assert 'action="/items/bulk?kind=still"' in html and "bulk.js" in html
    assert 'name="add_tags"' in html and 'name="remove_tags"' in html
    assert 'name="item"' not in text(anonymous.get("/items")) and "bulk.js" not in text(anonymous.get("/items"))


def test_bulk_edit_of_three_items_shares_one_audit_batch(client: FlaskClient, archive: Archive, login) -> None:
    ids = [add_item(archive, f"Clip {n}") for n in range(3)]
    untouched = add_item(archive, "Other", tags=("draft",))
    with archive.session() as session:
        inbox, target_collection = Collection(title="Inbox"), Collection(title="Beyond Utopia")
        session.add_all([inbox, target_collection])
        for item_id in ids:
            item = session.get(Item, item_id)
            item.collection = inbox
            set_item_tags(session, item, ["draft", "night"])
        target = target_collection.id
    name = login("archivist")

    response = client.post("/items/bulk?tag=draft&sort=title", data={
        "csrf_token": csrf_token(client, "/items"), "item": [str(i) for i in ids],
        "add_tags": "river crossing, Mekong", "remove_tags": "draft", "collection_id": str(target),
        "access": "restricted"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/items?tag=draft&sort=title"
    assert "3 items updated." in text(client.get(response.headers["Location"]))
    for item_id in ids:
        assert state(archive, item_id) == (["Mekong", "night", "river crossing"], "Beyond Utopia",
                                           AccessLevel.restricted)
    assert state(archive, untouched) == (["draft"], None, AccessLevel.public)
    with archive.Session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "bulk_edit",
                                                           AuditEntry.object_type == "item")).all()
    assert sorted(e.object_id for e in entries) == ids
    assert len({e.batch for e in entries}) == 1 and entries[0].batch
    assert {e.actor for e in entries} == {name}
    assert entries[0].changes == {"tags": [["draft", "night"], ["Mekong", "night", "river crossing"]],
                                  "collection_id": [1, target], "access": ["public", "restricted"]}


def test_bulk_edit_never_touches_items_the_viewer_may_not_see(client: FlaskClient, archive: Archive,
                                                              login) -> None:
    visible = add_item(archive, "Open clip")
    hidden = add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Secret network")
    login("archivist")

    response = client.post("/items/bulk", data={"csrf_token": csrf_token(client, "/items"),
                                                "item": [str(visible), str(hidden), "99999"],
                                                "add_tags": "checked", "access": "public"})

    assert response.status_code == 303
    assert "1 item updated, 2 items not found." in text(client.get("/items"))
    assert state(archive, visible) == (["checked"], None, AccessLevel.public)
    assert state(archive, hidden) == ([], "Secret network", AccessLevel.confidential)
    with archive.Session() as session:
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.object_id == hidden,
                                                          AuditEntry.action == "bulk_edit")) is None


def test_bulk_edit_service_reports_updated_unchanged_and_not_found(archive: Archive) -> None:
    first = add_item(archive, "One", tags=("night",))
    second = add_item(archive, "Two")
    hidden = add_item(archive, "Hidden", access=AccessLevel.confidential)
    with archive.session(ARCHIVIST) as session:
        result = bulk_edit(session, ARCHIVIST, [first, second, second, hidden], add_tags=["night"])
    assert (result.updated, result.unchanged, result.not_found) == ([second], [first], [hidden])
    assert result.batch


@pytest.mark.parametrize("changes, field", [
    ({"add_tags": ["x" * 201]}, "add_tags"),
    ({"add_tags": ["night"], "remove_tags": ["Night"]}, "remove_tags"),
    ({"access": "secret"}, "access"),
    ({"collection_id": 999}, "collection_id"),
    ({}, "bulk"),
])
def test_bulk_edit_service_refuses_bad_changes_and_touches_nothing(archive: Archive, changes: dict,
                                                                   field: str) -> None:
    item_id = add_item(archive, "One")
    with archive.session(ARCHIVIST) as session:
        with pytest.raises(Invalid) as caught:
            bulk_edit(session, ARCHIVIST, [item_id], **{"collection_id": KEEP, **changes})
    assert caught.value.field == field
    assert state(archive, item_id) == ([], None, AccessLevel.public)


def test_refused_bulk_edit_shows_the_browse_page_with_the_message_beside_the_field(
        client: FlaskClient, archive: Archive, login) -> None:
    ids = [add_item(archive, f"Clip {n}") for n in range(2)]
    login("archivist")

    response = client.post("/items/bulk?sort=oldest&per_page=1", data={"csrf_token": csrf_token(client, "/items"),
                                                           "item": [str(ids[0])], "add_tags": "ok, " + "x" * 201})

    html = text(response)
    assert response.status_code == 400
    assert "Add tags is longer than 200 characters." in field_html(html, "add_tags")
    assert f'value="ok, {"x" * 201}"' in field_html(html, "add_tags")
    assert f'value="{ids[0]}" data-bulk-item checked>' in html and f'value="{ids[1]}"' not in html
    assert 'href="/items?sort=oldest&amp;per_page=1&amp;page=2"' in html  # its links are the browse page's
    assert 'action="/items/bulk?sort=oldest&amp;per_page=1"' in html
    assert state(archive, ids[0]) == ([], None, AccessLevel.public)


def test_bulk_edit_with_nothing_selected_says_so(client: FlaskClient, archive: Archive, login) -> None:
    add_item(archive, "Clip")
    login("archivist")

    response = client.post("/items/bulk", data={"csrf_token": csrf_token(client, "/items"), "add_tags": "x"})

    assert response.status_code == 400
    assert "Select at least one item." in text(response)


def test_bulk_edit_can_clear_the_collection(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip", collection="Inbox")
    login("archivist")

    client.post("/items/bulk", data={"csrf_token": csrf_token(client, "/items"), "item": [str(item_id)],
                                     "collection_id": "none"})

    assert state(archive, item_id) == ([], None, AccessLevel.public)


def test_bulk_edit_needs_a_csrf_token_and_an_editor(app, client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    data = {"item": [str(item_id)], "add_tags": "forged"}
    anonymous = app.test_client()
    assert anonymous.post("/items/bulk", data={**data, "csrf_token": csrf_token(anonymous)}).status_code == 302
    login("researcher")
    assert client.post("/items/bulk", data={**data, "csrf_token": csrf_token(client, "/")}).status_code == 404
    login("archivist")
    assert client.post("/items/bulk", data=data).status_code == 400
    assert state(archive, item_id) == ([], None, AccessLevel.public)
