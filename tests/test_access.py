"""The access policy's rules for things known only through what they belong to."""

from __future__ import annotations

from flask.testing import FlaskClient

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import AccessLevel, Collection, Person
from archive.services import journeys
from test_web import add_item


def test_person_linked_only_to_a_confidential_journey_is_hidden_from_an_archivist_without_a_grant(
        archive: Archive, client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    with archive.session() as session:
        collection = Collection(title="Sealed tapes")
        session.add(collection)
        session.flush()
        journeys.create_journey(session, SYSTEM, title="Sealed route", access=AccessLevel.confidential,
                                collection_id=collection.id, people=["Hidden Traveller"])
        journeys.create_journey(session, SYSTEM, title="Open route", access=AccessLevel.public,
                                people=["Known Traveller"])
        session.add(Person(name="Fresh Person"))
        person_id = session.query(Person.id).filter(Person.name == "Hidden Traveller").scalar()
    item_id = add_item(archive, "Some clip", access=AccessLevel.public)
    login("archivist")
    people = client.get("/people").get_data(as_text=True)
    assert "Hidden Traveller" not in people
    assert "Known Traveller" in people and "Fresh Person" in people  # a visible journey; linked to nothing
    assert client.get(f"/people/{person_id}/edit").status_code == 404
    suggestions = client.get(f"/items/{item_id}/edit").get_data(as_text=True)
    assert 'value="Known Traveller"' in suggestions
    assert "Hidden Traveller" not in suggestions
