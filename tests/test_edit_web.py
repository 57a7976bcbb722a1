"""The editing pages: items, collections, people and credits, for archivists and admins only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, Credit, Item, Person
from conftest import csrf_token, log_in
from test_web import add_item, text


def post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST a form as a browser would, with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")}, **kwargs)


def field_html(html: str, name: str) -> str:
    """The markup of one form field (label, input, hint and error) by its input's name."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name!r} in the page")


def audited_changes(archive: Archive, object_type: str, object_id: int) -> dict[str, list[Any]]:
    """Every field change recorded for one object after its creation, merged."""
    with archive.Session() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
            AuditEntry.action != "create").order_by(AuditEntry.id)).all()
    merged: dict[str, list[Any]] = {}
    for entry in entries:
        merged.update(entry.changes)
    return merged


ITEM_FORM = {"title": "Clip", "description": "", "date_shot": "", "creator": "", "language": "", "rights": "",
             "source": "", "access": "public", "collection_id": "", "tags": ""}


# -- items ------------------------------------------------------------------------------------

def test_edit_form_shows_the_items_values_and_the_edtf_hint(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Night crossing", tags=("night", "river"), date_shot="2019-04~", creator="guide")
    login("archivist")

    html = text(client.get(f"/items/{item_id}/edit"))

    assert 'value="Night crossing"' in field_html(html, "title")
    assert 'value="2019-04~"' in field_html(html, "date_shot")
    assert "2019-03/2019-05 (range)" in field_html(html, "date_shot")
    assert 'value="night, river"' in field_html(html, "tags")
    assert '<option value="public" selected>' in field_html(html, "access")


def test_archivist_edits_every_item_field_and_each_change_is_audited(client: FlaskClient, archive: Archive,
                                                                     login) -> None:
    item_id = add_item(archive, "Clip", tags=("old tag",))
    with archive.session() as session:
        collection = Collection(title="Beyond Utopia")
        session.add(collection)
        session.flush()
        collection_id = collection.id
    name = login("archivist")
    form = {"title": "Night crossing", "description": "Boat on the Mekong.", "date_shot": "2019-03/2019-05",
            "creator": "the guide", "language": "ko, en", "rights": "Donor keeps copyright.",
            "source": "Phone of a traveller", "access": "restricted", "collection_id": str(collection_id),
            "tags": "night, river crossing"}

    response = post(client, f"/items/{item_id}/edit", form)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/items/{item_id}"
    assert "Saved “Night crossing”" in text(client.get(f"/items/{item_id}"))
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, item.description, item.date_shot, item.creator, item.language, item.rights,
                item.source, item.access, item.collection_id) == (
            "Night crossing", "Boat on the Mekong.", "2019-03/2019-05", "the guide", "ko, en",
            "Donor keeps copyright.", "Phone of a traveller", AccessLevel.restricted, collection_id)
        assert [t.name for t in item.tags] == ["night", "river crossing"]
    changes = audited_changes(archive, "item", item_id)
    assert changes == {
        "title": ["Clip", "Night crossing"], "description": ["", "Boat on the Mekong."],
        "date_shot": ["", "2019-03/2019-05"], "creator": ["", "the guide"], "language": ["", "ko, en"],
        "rights": ["", "Donor keeps copyright."], "source": ["", "Phone of a traveller"],
        "access": ["public", "restricted"], "collection_id": [None, collection_id],
        "tags": [["old tag"], ["night", "river crossing"]]}
    with archive.Session() as session:
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.object_type == "item",
                                                                    AuditEntry.object_id == item_id,
                                                                    AuditEntry.action == "edit")))
    assert actors == {name}


def test_saving_an_unchanged_form_changes_nothing(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip")
    login("archivist")

    response = post(client, f"/items/{item_id}/edit", ITEM_FORM, follow_redirects=True)

    assert "Nothing to save" in text(response)
    assert audited_changes(archive, "item", item_id) == {}


def test_fields_left_out_of_the_form_are_kept(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip", tags=("night",), creator="guide")
    login("archivist")

    assert post(client, f"/items/{item_id}/edit", {"title": "Renamed"}).status_code == 303

    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, item.creator, [t.name for t in item.tags]) == ("Renamed", "guide", ["night"])


@pytest.mark.parametrize("field, value, message", [
    ("date_shot", "spring 2019", "is not a date in Extended Date/Time Format"),
    ("title", "   ", "Title may not be empty."),
    ("language", "korean", "is not a language tag"),
    ("collection_id", "999", "There is no collection 999."),
])
def test_item_form_shows_a_refusal_beside_its_field_and_keeps_the_input(
        client: FlaskClient, archive: Archive, login, field: str, value: str, message: str) -> None:
    item_id = add_item(archive, "Clip")
    login("archivist")
    form = {**ITEM_FORM, "description": "typed but not saved", field: value}

    response = post(client, f"/items/{item_id}/edit", form)

    html = text(response)
    assert response.status_code == 400
    refused = field_html(html, field)
    assert "field--error" in refused and message in refused and 'aria-invalid="true"' in refused
    if field != "collection_id":
        assert f'value="{value}"' in refused
    assert "typed but not saved" in field_html(html, "description")
    with archive.Session() as session:
        assert session.get(Item, item_id).description == ""


def test_item_form_marks_every_refused_field_at_once(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip")
    login("archivist")

    response = post(client, f"/items/{item_id}/edit", {**ITEM_FORM, "title": "", "date_shot": "2019-13",
                                                       "tags": "ok, " + "x" * 201})

    html = text(response)
    assert response.status_code == 400
    for name in ("title", "date_shot", "tags"):
        assert "field--error" in field_html(html, name), name
    assert "field--error" not in field_html(html, "creator")


def test_edit_without_csrf_token_is_refused(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip")
    login("archivist")

    response = client.post(f"/items/{item_id}/edit", data={**ITEM_FORM, "title": "Forged"})

    assert response.status_code == 400
    with archive.Session() as session:
        assert session.get(Item, item_id).title == "Clip"


EDIT_ROUTES = [("GET", "/items/{item}/edit"), ("POST", "/items/{item}/edit"), ("POST", "/items/{item}/credits"),
               ("GET", "/collections/new"), ("POST", "/collections/new"), ("GET", "/collections/{collection}/edit"),
               ("POST", "/collections/{collection}/credits"), ("GET", "/people"), ("POST", "/people"),
               ("GET", "/people/{person}/edit"), ("POST", "/people/{person}/delete"),
               ("POST", "/credits/{credit}/delete"), ("POST", "/credits/{credit}/move"), ("GET", "/upload"),
               ("POST", "/upload"), ("POST", "/items/bulk")]


def _objects(archive: Archive) -> dict[str, int]:
    item_id = add_item(archive, "Clip", collection="Escape", credits=(("Director A", "director"),))
    with archive.Session() as session:
        item = session.get(Item, item_id)
        return {"item": item_id, "collection": item.collection_id, "credit": item.credits[0].id,
                "person": item.credits[0].person_id}


def test_anonymous_visitors_are_sent_to_log_in_from_every_edit_route(client: FlaskClient,
                                                                    archive: Archive) -> None:
    objects = _objects(archive)
    token = csrf_token(client)
    for method, route in EDIT_ROUTES:
        response = client.open(route.format(**objects), method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, route)
        assert response.headers["Location"].startswith("/login?next="), (method, route)


def test_researchers_get_404_from_every_edit_route(client: FlaskClient, archive: Archive, login) -> None:
    objects = _objects(archive)
    login("researcher")
    token = csrf_token(client, "/")
    for method, route in EDIT_ROUTES:
        response = client.open(route.format(**objects), method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, route)
    with archive.Session() as session:  # and nothing was changed on the way
        assert session.scalar(select(Credit.id)) == objects["credit"]


def test_archivist_without_a_grant_gets_404_editing_a_confidential_item(client: FlaskClient, archive: Archive,
                                                                        login) -> None:
    item_id = add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Private donation")
    login("archivist")

    assert client.get(f"/items/{item_id}/edit").status_code == 404
    assert post(client, f"/items/{item_id}/edit", {**ITEM_FORM, "title": "Leaked"}).status_code == 404
    assert post(client, f"/items/{item_id}/credits", {"person": "X", "role": "camera"}).status_code == 404
    with archive.Session() as session:
        assert session.get(Item, item_id).title == "Safe house"
        assert session.scalar(select(Person.id)) is None


def test_archivist_with_a_grant_edits_a_confidential_item(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Private donation")
    with archive.Session() as session:
        collection_id = session.get(Item, item_id).collection_id
    login("archivist", grants=(collection_id,))

    assert client.get(f"/items/{item_id}/edit").status_code == 200
    response = post(client, f"/items/{item_id}/edit", {"title": "Safe house, Shenyang"})
    assert response.status_code == 303


def test_item_moved_out_of_the_editors_sight_sends_them_to_browse(client: FlaskClient, archive: Archive,
                                                                  login) -> None:
    item_id = add_item(archive, "Clip", collection="Private donation")
    login("archivist")

    response = post(client, f"/items/{item_id}/edit", {"access": "confidential"})

    assert response.status_code == 303 and response.headers["Location"] == "/items"
    assert "you no longer see it" in text(client.get("/items"))
    assert client.get(f"/items/{item_id}").status_code == 404


def test_collection_choices_leave_out_collections_the_editor_may_not_know(client: FlaskClient, archive: Archive,
                                                                          login) -> None:
    item_id = add_item(archive, "Clip", collection="Beyond Utopia")
    add_item(archive, "Hidden", access=AccessLevel.confidential, collection="Secret network")
    with archive.session() as session:
        session.add(Collection(title="Empty new collection"))
        hidden_id = session.scalar(select(Collection.id).where(Collection.title == "Secret network"))
    login("archivist")

    html = text(client.get(f"/items/{item_id}/edit"))

    assert "Beyond Utopia" in html and "Empty new collection" in html
    assert "Secret network" not in html
    response = post(client, f"/items/{item_id}/edit", {"collection_id": str(hidden_id)})
    assert response.status_code == 400
    assert f"There is no collection {hidden_id}." in field_html(text(response), "collection_id")


def test_item_page_offers_edit_to_archivists_only(client: FlaskClient, app, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    log_in(client, make_user("archivist"))
    html = text(client.get(f"/items/{item_id}"))
    assert f'href="/items/{item_id}/edit"' in html
    assert 'href="/upload"' in html and 'href="/people"' in html

    researcher = app.test_client()
    log_in(researcher, make_user("researcher"))
    html = text(researcher.get(f"/items/{item_id}"))
    assert "/edit" not in html and 'href="/upload"' not in html and 'href="/people"' not in html


# -- collections ------------------------------------------------------------------------------

def test_archivist_edits_every_collection_field_and_each_change_is_audited(client: FlaskClient, archive: Archive,
                                                                           login) -> None:
    add_item(archive, "Clip", collection="Escape")
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id))
    login("archivist")
    form = {"title": "Escape (Talju)", "year": "2024", "kind": "feature film", "synopsis": "A sergeant defects.",
            "description": "Synthetic demo text.", "rights": "Distributor: Well Go USA"}

    response = post(client, f"/collections/{collection_id}/edit", form)

    assert response.status_code == 303
    with archive.Session() as session:
        collection = session.get(Collection, collection_id)
        assert {name: getattr(collection, name) for name in form} == {**form, "year": 2024}
    assert audited_changes(archive, "collection", collection_id) == {
        "title": ["Escape", "Escape (Talju)"], "year": [None, 2024], "kind": ["", "feature film"],
        "synopsis": ["", "A sergeant defects."], "description": ["", "Synthetic demo text."],
        "rights": ["", "Distributor: Well Go USA"]}
    assert f'href="/collections/{collection_id}/edit"' in text(client.get(f"/collections/{collection_id}"))


@pytest.mark.parametrize("year", ["nineteen", "0", "10000", "20.5"])
def test_collection_form_shows_a_bad_year_beside_the_field(client: FlaskClient, archive: Archive, login,
                                                           year: str) -> None:
    add_item(archive, "Clip", collection="Escape")
    login("archivist")

    response = post(client, "/collections/1/edit", {"title": "Escape", "year": year, "kind": "film"})

    assert response.status_code == 400
    refused = field_html(text(response), "year")
    assert "field--error" in refused and "Year must be a whole number" in refused and f'value="{year}"' in refused
    assert 'value="film"' in field_html(text(response), "kind")


def test_new_collection_is_created_and_a_taken_title_is_refused(client: FlaskClient, archive: Archive,
                                                                login) -> None:
    login("archivist")

    response = post(client, "/collections/new", {"title": "Field tapes", "year": "2019", "kind": "donation"})

    assert response.status_code == 303
    with archive.Session() as session:
        collection = session.scalar(select(Collection))
        assert (collection.title, collection.year, collection.kind) == ("Field tapes", 2019, "donation")
    assert response.headers["Location"] == f"/collections/{collection.id}/edit"
    assert client.get(response.headers["Location"]).status_code == 200
    again = post(client, "/collections/new", {"title": " Field tapes "})
    assert again.status_code == 400
    assert "There is already a collection titled" in field_html(text(again), "title")


def test_collection_hidden_from_the_archivist_cannot_be_edited(client: FlaskClient, archive: Archive,
                                                               login) -> None:
    add_item(archive, "Hidden", access=AccessLevel.confidential, collection="Secret network")
    login("archivist")

    assert client.get("/collections/1/edit").status_code == 404
    assert post(client, "/collections/1/edit", {"title": "Renamed"}).status_code == 404


# -- people -----------------------------------------------------------------------------------

def test_people_are_listed_searched_created_renamed_and_deleted(client: FlaskClient, archive: Archive,
                                                                login) -> None:
    add_item(archive, "Clip", credits=(("Kim Seung-eun", "interviewee"),))
    login("archivist")

    assert post(client, "/people", {"name": "  Lee   Soyeon ", "note": "fictional composite"}).status_code == 303
    html = text(client.get("/people"))
    assert "Kim Seung-eun" in html and "Lee Soyeon" in html
    found = text(client.get("/people?q=soyeon"))
    assert "Lee Soyeon" in found and "Kim Seung-eun" not in found
    with archive.Session() as session:
        person_id = session.scalar(select(Person.id).where(Person.name == "Lee Soyeon"))

    assert post(client, f"/people/{person_id}/edit", {"name": "Lee So-yeon", "note": "a composite"}).status_code == 303
    assert audited_changes(archive, "person", person_id) == {"name": ["Lee Soyeon", "Lee So-yeon"],
                                                             "note": ["fictional composite", "a composite"]}
    response = post(client, f"/people/{person_id}/delete", {})
    assert response.status_code == 303 and "Deleted Lee So-yeon." in text(client.get("/people"))
    with archive.Session() as session:
        assert session.get(Person, person_id) is None
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "person",
                                                              AuditEntry.object_id == person_id)
                              .order_by(AuditEntry.id.desc())) == "purge"


def test_people_form_refuses_empty_and_taken_names_beside_the_field(client: FlaskClient, archive: Archive,
                                                                    login) -> None:
    add_item(archive, "Clip", credits=(("Kim Seung-eun", "interviewee"),))
    login("archivist")

    empty = post(client, "/people", {"name": " ", "note": "kept"})
    taken = post(client, "/people", {"name": "Kim Seung-eun"})

    assert empty.status_code == taken.status_code == 400
    assert "Name may not be empty." in field_html(text(empty), "name")
    assert "kept" in field_html(text(empty), "note")
    assert "There is already a person named" in field_html(text(taken), "name")


def test_a_credited_person_cannot_be_deleted(client: FlaskClient, archive: Archive, login) -> None:
    add_item(archive, "Clip", credits=(("Kim Seung-eun", "interviewee"),))
    login("archivist")

    response = post(client, "/people/1/delete", {})

    assert response.status_code == 400
    assert "Kim Seung-eun is credited 1 time; remove those credits before deleting them." in text(response)
    with archive.Session() as session:
        assert session.get(Person, 1) is not None


def test_people_credited_only_on_hidden_material_stay_hidden(client: FlaskClient, archive: Archive,
                                                             login) -> None:
    add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Secret network",
             credits=(("Hidden Helper", "guide"),))
    add_item(archive, "Open clip", credits=(("Public Person", "camera"),))
    login("archivist")

    html = text(client.get("/people"))

    assert "Public Person" in html and "Hidden Helper" not in html
    with archive.Session() as session:
        hidden_id = session.scalar(select(Person.id).where(Person.name == "Hidden Helper"))
    assert client.get(f"/people/{hidden_id}/edit").status_code == 404
    assert "Hidden Helper" not in text(client.get("/items/2/edit"))  # not even as a suggestion


# -- credits ----------------------------------------------------------------------------------

def _credit_names(archive: Archive, item_id: int) -> list[tuple[str, str]]:
    with archive.Session() as session:
        return [(c.person.name, c.role) for c in session.get(Item, item_id).credits]


def test_credits_are_added_moved_and_removed_on_an_item(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip", credits=(("Director A", "director"),))
    login("archivist")

    response = post(client, f"/items/{item_id}/credits", {"person": "Camera B", "role": "camera"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/items/{item_id}/edit#credits"
    post(client, f"/items/{item_id}/credits", {"person": "Director A", "role": "writer"})
    assert _credit_names(archive, item_id) == [("Director A", "director"), ("Camera B", "camera"),
                                               ("Director A", "writer")]
    with archive.Session() as session:
        camera, writer = (session.scalar(select(Credit.id).where(Credit.role == role)) for role in ("camera", "writer"))

    post(client, f"/credits/{writer}/move", {"direction": "up"})
    post(client, f"/credits/{camera}/move", {"direction": "down"})
    assert _credit_names(archive, item_id) == [("Director A", "director"), ("Director A", "writer"),
                                               ("Camera B", "camera")]
    assert post(client, f"/credits/{camera}/delete", {}).status_code == 303
    assert _credit_names(archive, item_id) == [("Director A", "director"), ("Director A", "writer")]
    with archive.Session() as session:
        assert session.scalar(select(Person.id).where(Person.name == "Camera B")) is not None  # the person stays
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "credit",
                                                                       AuditEntry.object_id == camera)))
    assert actions[0] == "create" and actions[-1] == "purge"
    assert "Camera B" in text(client.get(f"/items/{item_id}/edit"))


def test_credit_form_shows_refusals_beside_its_fields(client: FlaskClient, archive: Archive, login) -> None:
    item_id = add_item(archive, "Clip", credits=(("Director A", "director"),))
    login("archivist")

    empty = post(client, f"/items/{item_id}/credits", {"person": "", "role": " "})
    again = post(client, f"/items/{item_id}/credits", {"person": "Director A", "role": "director"})

    assert empty.status_code == again.status_code == 400
    html = text(empty)
    assert "Person may not be empty." in field_html(html, "person")
    assert "Role may not be empty." in field_html(html, "role")
    assert "already credited as director" in field_html(text(again), "role")
    assert 'value="Director A"' in field_html(text(again), "person")


def test_credits_on_a_collection(client: FlaskClient, archive: Archive, login) -> None:
    add_item(archive, "Clip", collection="Beyond Utopia")
    login("archivist")

    response = post(client, "/collections/1/credits", {"person": "Madeleine Gavin", "role": "director"})

    assert response.status_code == 303
    with archive.Session() as session:
        credit = session.scalar(select(Credit))
        assert (credit.person.name, credit.role, credit.collection_id) == ("Madeleine Gavin", "director", 1)
    assert "Madeleine Gavin" in text(client.get("/collections/1"))
    assert post(client, f"/credits/{credit.id}/delete", {}).headers["Location"] == "/collections/1/edit#credits"


def test_credits_on_hidden_material_cannot_be_touched(client: FlaskClient, archive: Archive, login) -> None:
    add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Secret network",
             credits=(("Hidden Helper", "guide"),))
    login("archivist")

    assert post(client, "/credits/1/delete", {}).status_code == 404
    assert post(client, "/credits/1/move", {"direction": "up"}).status_code == 404
    with archive.Session() as session:
        assert session.get(Credit, 1) is not None


def test_saving_an_untouched_form_changes_nothing(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip", description="First line.\nSecond line.")
    login("archivist")
    html = text(client.get(f"/items/{item_id}/edit"))
    description = re.search(r'<textarea id="[^"]*" name="description"[^>]*>([^<]*)</textarea>', html).group(1)
    # A browser sends the textarea back with CRLF line breaks.
    response = post(client, f"/items/{item_id}/edit", {"title": "Clip", "description": description.replace("\n", "\r\n")})
    assert response.status_code == 303
    assert "Nothing to save" in text(client.get(f"/items/{item_id}"))
    assert audited_changes(archive, "item", item_id) == {}
