"""Versions of edited records: a save made from a stale form is refused, never silently overwrites."""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskClient

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import Item
from archive.services import Stale, audit, editing, vocabulary
from test_edit_web import post
from test_web import add_item


def test_a_stale_item_save_is_refused(archive: Archive) -> None:
    item_id = add_item(archive, "River")
    with archive.Session() as session:
        editing.edit_item(session, SYSTEM, item_id, title="River at night", expected_version=1)
        session.commit()
    with archive.Session() as session, pytest.raises(Stale):
        editing.edit_item(session, SYSTEM, item_id, title="Another title", expected_version=1)
    with archive.Session() as session:
        assert session.get(Item, item_id).title == "River at night"


def test_a_tag_change_alone_moves_the_item_version(archive: Archive) -> None:
    item_id = add_item(archive, "River")
    with archive.Session() as session:
        editing.edit_item(session, SYSTEM, item_id, tags=["night"], expected_version=1)
        session.commit()
        assert session.get(Item, item_id).version == 2


@pytest.mark.parametrize("kind", ["collection", "person", "tag"])
def test_a_stale_save_of_other_records_is_refused(archive: Archive, kind: str) -> None:
    add_item(archive, "River", collection="Films", tags=("night",))
    with archive.Session() as session:
        if kind == "collection":
            collection = editing.known_collections(session, SYSTEM)[0]
            save = lambda text: editing.edit_collection(session, SYSTEM, collection.id, title=text,  # noqa: E731
                                                        expected_version=1)
        elif kind == "person":
            person = editing.create_person(session, "Kim")
            save = lambda text: editing.edit_person(session, SYSTEM, person.id, name=text,  # noqa: E731
                                                    expected_version=1)
        else:
            tag = vocabulary.find_tag(session, "night")
            save = lambda text: vocabulary.rename_tag(session, tag.id, text, expected_version=1)  # noqa: E731
        save("First")
        session.commit()
        with pytest.raises(Stale):
            save("Second")


def test_two_saves_at_once_exactly_one_wins(archive: Archive) -> None:
    item_id = add_item(archive, "River")
    results: list[str] = []
    ready = threading.Barrier(2)

    def save(title: str) -> None:
        with archive.Session() as session:
            session.get(Item, item_id)  # both have loaded version 1 before either writes
            ready.wait()
            try:
                editing.edit_item(session, SYSTEM, item_id, title=title, expected_version=1)
                session.commit()
                results.append("won")
            except Stale:
                session.rollback()
                results.append("stale")

    threads = [threading.Thread(target=save, args=(t,)) for t in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["stale", "won"]


def test_stale_form_answers_409_with_what_changed_and_keeps_the_typed_values(
        client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "River")
    login("archivist")
    with archive.Session() as session:
        audit.act_as(session, SYSTEM)
        editing.edit_item(session, SYSTEM, item_id, title="Renamed by the other editor")
        session.commit()
    response = post(client, f"/items/{item_id}/edit", {"title": "My typed title", "version": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "My typed title" in html
    assert "Renamed by the other editor" in html and "someone else saved this item" in html
    with archive.Session() as session:
        assert session.get(Item, item_id).title == "Renamed by the other editor"
