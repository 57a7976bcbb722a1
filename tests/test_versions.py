"""Versions of edited records: a save made from a stale form is refused, never silently overwrites."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask.testing import FlaskClient

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import BorderCrossing, Item, ItemKind, Journey, Leg, Place, Tag, Transcript
from archive.services import Stale, StaleBatch, audit, crossings, editing, journeys, legs, locations, places, ranges
from archive.services import transcripts, vocabulary
from test_edit_web import post
from test_geo_editing import ARCHIVIST, world  # noqa: F401 (a fixture)
from test_web import add_item, text


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


# -- every form of an item's pages carries the item's version ----------------------------------

def _video(archive: Archive) -> tuple[int, int]:
    """A minute of video with one time range: (item id, range id)."""
    item_id = add_item(archive, "Long take", kind=ItemKind.video, media={"duration": 60.0})
    with archive.session() as session:
        time_range = ranges.add_range(session, session.get(Item, item_id), start=1, end=5, tag_name="bridge")
        return item_id, time_range.id


def _version(archive: Archive, model: type, row_id: int) -> int:
    with archive.Session() as session:
        return session.get(model, row_id).version


def test_a_change_of_tags_alone_is_found_by_changes_since(archive: Archive) -> None:
    item_id = add_item(archive, "River")
    with archive.session() as session:
        editing.edit_item(session, SYSTEM, item_id, tags=["night"], expected_version=1)
    with archive.Session() as session:
        assert [(c.field, c.value) for c in audit.changes_since(session, "item", item_id, 1)] == [
            ("tags", ["night"])]


def test_where_an_item_was_filmed_moves_its_version_and_a_stale_form_is_refused(archive: Archive,
                                                                                 world: dict[str, int]) -> None:
    item_id = add_item(archive, "Bridge")
    with archive.session() as session:
        changes = locations.set_item_geography(session, ARCHIVIST, item_id, place_ids=[world["dandong"]],
                                               leg_ids=[], expected_version=1)
        assert set(changes) == {"places"}
    assert _version(archive, Item, item_id) == 2
    with archive.Session() as session:
        assert [c.field for c in audit.changes_since(session, "item", item_id, 1)] == ["places"]
        with pytest.raises(Stale):
            locations.set_item_geography(session, ARCHIVIST, item_id, place_ids=[], expected_version=1)
        with pytest.raises(Stale):
            locations.link_item_place(session, ARCHIVIST, item_id, world["sinuiju"], expected_version=1)
    with archive.session() as session:
        assert locations.link_item_place(session, ARCHIVIST, item_id, world["sinuiju"], expected_version=2)
    assert _version(archive, Item, item_id) == 3


def test_time_ranges_are_part_of_their_item_and_move_its_version(archive: Archive, world: dict[str, int]) -> None:
    item_id, range_id = _video(archive)
    version = _version(archive, Item, item_id)
    with archive.session() as session:
        time_range = ranges.get_range(session, SYSTEM, item_id, range_id)
        ranges.update_range(session, time_range, note="the far bank", expected_version=version)
    assert _version(archive, Item, item_id) == version + 1
    with archive.Session() as session:
        item, time_range = session.get(Item, item_id), ranges.get_range(session, SYSTEM, item_id, range_id)
        for stale_save in (
                lambda: ranges.add_range(session, item, start=6, end=9, tag_name="boat", expected_version=version),
                lambda: ranges.update_range(session, time_range, note="mine", expected_version=version),
                lambda: ranges.delete_range(session, time_range, expected_version=version),
                lambda: locations.set_range_geography(session, ARCHIVIST, item_id, range_id,
                                                      place_id=world["sinuiju"], leg_id=None,
                                                      expected_version=version)):
            with pytest.raises(Stale):
                stale_save()
            session.rollback()
    with archive.Session() as session:
        assert [(r.note, r.place_id) for r in session.get(Item, item_id).ranges] == [("the far bank", None)]


def test_a_bulk_edit_with_a_stale_item_changes_nothing_and_names_it(archive: Archive) -> None:
    first, second = add_item(archive, "River"), add_item(archive, "Sea")
    with archive.session() as session:
        editing.edit_item(session, SYSTEM, second, description="Saved meanwhile")
    with archive.Session() as session, pytest.raises(StaleBatch) as refused:
        editing.bulk_edit(session, SYSTEM, [first, second], add_tags=["night"], versions={first: 1, second: 1})
    assert [(s.object_type, s.object_id, s.version) for s in refused.value.stale] == [("item", second, 1)]
    with archive.session() as session:
        assert session.get(Item, first).tags == []
        result = editing.bulk_edit(session, SYSTEM, [first, second], add_tags=["night"],
                                   versions={first: 1, second: 2})
        assert sorted(result.updated) == [first, second]
    # A change of tags alone moved each version, so a form of the old one is refused in turn.
    assert (_version(archive, Item, first), _version(archive, Item, second)) == (2, 3)


def test_a_transcript_replaced_or_added_since_the_page_was_shown_is_not_overwritten(archive: Archive) -> None:
    item_id = add_item(archive, "Interview", kind=ItemKind.video, media={"duration": 60.0})
    first, second = (f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{line}\n".encode() for line in ("One.", "Two."))
    with archive.session() as session:
        transcript_id = transcripts.import_transcript(session, session.get(Item, item_id), first, "a.ko.vtt",
                                                      seen_versions={}).transcript.id
    with archive.session() as session, pytest.raises(Stale):  # from a page that listed no transcript yet
        transcripts.import_transcript(session, session.get(Item, item_id), second, "b.ko.vtt", seen_versions={})
    with archive.session() as session:
        transcripts.import_transcript(session, session.get(Item, item_id), second, "b.ko.vtt",
                                      seen_versions={transcript_id: 1})
    assert _version(archive, Transcript, transcript_id) == 2
    with archive.Session() as session:
        item, transcript = session.get(Item, item_id), session.get(Transcript, transcript_id)
        with pytest.raises(Stale):
            transcripts.import_transcript(session, item, first, "a.ko.vtt", seen_versions={transcript_id: "1"})
        session.rollback()
        with pytest.raises(Stale):
            transcripts.delete_transcript(session, transcript, expected_version=1)
    with archive.Session() as session:
        assert [s.text for s in session.get(Transcript, transcript_id).segments] == ["Two."]


@pytest.mark.parametrize("change", ["parent", "merge", "delete"])
def test_the_other_tag_forms_refuse_a_stale_page(archive: Archive, change: str) -> None:
    add_item(archive, "River", tags=("night", "dark"))
    with archive.session() as session:
        tag, other = vocabulary.find_tag(session, "night"), vocabulary.find_tag(session, "dark")
        unused = vocabulary.get_or_create_tag(session, "spare")
        for renamed, name in ((tag, "nights"), (unused, "spares")):  # by someone else, after the page was shown
            vocabulary.rename_tag(session, renamed.id, name)
        tag_id, other_id, unused_id = tag.id, other.id, unused.id
    with archive.Session() as session, pytest.raises(Stale):
        if change == "parent":
            vocabulary.set_parent(session, tag_id, other_id, expected_version=1)
        elif change == "merge":
            vocabulary.merge_tags(session, tag_id, other_id, expected_version=1)
        else:
            vocabulary.delete_tag(session, unused_id, expected_version=1)
    with archive.Session() as session:
        assert session.get(Tag, tag_id).parent_id is None and session.get(Tag, unused_id) is not None


# -- the web: each form answers a stale save with 409, what changed, and what was typed ----------

def _edit_form(archive: Archive, world: dict[str, int], kind: str) -> tuple[str, str, dict[str, str], Any]:
    """(edit page, where its form posts, the form as the page fills it, a save by another editor)."""
    from archive.web.editing import collection_values
    from archive.web.geo_editing import journey_values, leg_values, place_values
    with archive.session() as session:
        if kind == "place":
            place = session.get(Place, world["sinuiju"])
            return (f"/places/{place.id}/edit", f"/places/{place.id}/edit", place_values(place),
                    lambda s: places.edit_place(s, ARCHIVIST, place.id, description="Seen from the bridge"))
        if kind == "crossing":
            crossing = session.get(BorderCrossing, world["crossing"])
            form = {"place_id": str(crossing.place_id), "from_country": "KP", "to_country": "CN", "kind": "river",
                    "notes": ""}
            return (f"/crossings/{crossing.id}/edit", f"/crossings/{crossing.id}/edit", form,
                    lambda s: crossings.edit_crossing(s, ARCHIVIST, crossing.id, notes="Seen from the bridge"))
        if kind == "journey":
            journey = session.get(Journey, world["journey"])
            return (f"/journeys/{journey.id}/edit", f"/journeys/{journey.id}/edit", journey_values(journey),
                    lambda s: journeys.edit_journey(s, ARCHIVIST, journey.id, description="Seen from the bridge"))
        if kind == "leg":
            leg = session.get(Leg, world["leg1"])
            return (f"/legs/{leg.id}/edit", f"/legs/{leg.id}/edit", leg_values(leg),
                    lambda s: legs.edit_leg(s, ARCHIVIST, leg.id, narrative="Seen from the bridge"))
        if kind == "person":
            person = editing.create_person(session, "Kim")
            return (f"/people/{person.id}/edit", f"/people/{person.id}/edit", {"name": "Kim", "note": ""},
                    lambda s: editing.edit_person(s, SYSTEM, person.id, note="Seen from the bridge"))
        if kind == "collection":
            collection = editing.create_collection(session, "Films")
            return (f"/collections/{collection.id}/edit", f"/collections/{collection.id}/edit",
                    collection_values(collection),
                    lambda s: editing.edit_collection(s, SYSTEM, collection.id, description="Seen from the bridge"))
        tag = vocabulary.find_tag(session, "night")
        return (f"/tags/{tag.id}", f"/tags/{tag.id}/rename", {"name": "night"},
                lambda s: vocabulary.rename_tag(s, tag.id, "Seen from the bridge"))


#: The field each test types in, by form.
TYPED = {"place": "name", "crossing": "notes", "journey": "title", "leg": "narrative", "person": "name",
         "collection": "title", "tag": "name"}


@pytest.mark.parametrize("kind", sorted(TYPED))
def test_every_edit_form_carries_its_version_and_a_stale_save_answers_409(
        client: FlaskClient, archive: Archive, world: dict[str, int], login, kind: str) -> None:  # type: ignore[no-untyped-def]
    add_item(archive, "River", tags=("night",))
    page, action, form, other_save = _edit_form(archive, world, kind)
    login("archivist")
    assert 'name="version" value="1"' in text(client.get(page))
    with archive.session() as session:
        other_save(session)
    response = post(client, action, {**form, TYPED[kind]: "My typed words", "version": "1"})
    html = text(response)
    assert response.status_code == 409, html
    assert "someone else saved this" in html and "Seen from the bridge" in html and "My typed words" in html
    assert 'name="version" value="2"' in html  # saving again keeps what was typed, knowingly


def test_the_edit_pages_two_save_buttons_each_save_the_whole_page(client: FlaskClient, archive: Archive,
                                                                   world: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Bridge")
    login("archivist")
    html = text(client.get(f"/items/{item_id}/edit"))
    assert 'id="item-form"' in html and 'name="add_leg" form="item-form"' in html
    assert f'form="item-form"\n      formaction="/items/{item_id}/geography"' in html
    # "Save where it was filmed" sends the title typed beside it; the two are saved together.
    response = post(client, f"/items/{item_id}/geography", {"title": "Bridge at dusk", "version": "1",
                                                            "geography": "1", "add_place": str(world["dandong"])})
    assert response.status_code == 303
    # "Save changes" sends where it was filmed too: what is unticked there is unlinked.
    response = post(client, f"/items/{item_id}/edit", {"title": "Bridge at night",
                                                       "version": str(_version(archive, Item, item_id)),
                                                       "geography": "1", "add_leg": str(world["leg2"])})
    assert response.status_code == 303
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, item.places, [leg.id for leg in item.legs]) == ("Bridge at night", [], [world["leg2"]])
    # A refusal of either part saves neither, and shows both as they were sent.
    response = post(client, f"/items/{item_id}/geography", {"title": "Not saved", "geography": "1",
                                                            "add_place": "999999"})
    html = text(response)
    assert response.status_code == 400 and "There is no place 999999" in html and "Not saved" in html
    assert f'name="leg_ids" value="{world["leg2"]}">' in html  # unticked, as sent
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, [leg.id for leg in item.legs]) == ("Bridge at night", [world["leg2"]])


def test_stale_forms_of_an_items_pages_answer_409_keeping_what_was_typed(
        client: FlaskClient, archive: Archive, world: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    item_id, range_id = _video(archive)
    shown = str(_version(archive, Item, item_id))
    login("archivist")
    assert f'name="version" value="{shown}"' in text(client.get(f"/items/{item_id}"))
    with archive.session() as session:
        audit.act_as(session, SYSTEM)
        editing.edit_item(session, SYSTEM, item_id, title="Renamed by the other editor")
    sinuiju = str(world["sinuiju"])
    sent = {
        f"/items/{item_id}/geography": {"title": "My typed title", "geography": "1", "add_place": sinuiju},
        f"/items/{item_id}/places/link": {"place_id": sinuiju},
        f"/items/{item_id}/ranges": {"start": "0:00:07", "end": "0:00:09", "tag": "boat", "note": "My typed note"},
        f"/items/{item_id}/ranges/{range_id}": {"start": "0:00:01", "end": "0:00:04", "tag": "bridge",
                                                "note": "My typed note"},
        f"/items/{item_id}/ranges/{range_id}/delete": {},
        f"/items/{item_id}/ranges/{range_id}/where": {"place_id": sinuiju, "leg_id": ""},
    }
    for path, form in sent.items():
        response = post(client, path, {**form, "version": shown})
        html = text(response)
        assert response.status_code == 409, (path, html)
        assert "someone else saved this item" in html and "Renamed by the other editor" in html, path
        for typed in ("My typed title", "My typed note"):
            assert typed in html or typed not in form.values(), path
    assert f'<option value="{sinuiju}" selected>' in html  # the range's place as it was sent
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert item.places == [] and [(r.start_sec, r.note, r.place_id) for r in item.ranges] == [(1.0, "", None)]


def test_a_stale_bulk_edit_answers_409_naming_the_items_and_changes_nothing(client: FlaskClient, archive: Archive,
                                                                            login) -> None:  # type: ignore[no-untyped-def]
    first, second = add_item(archive, "River"), add_item(archive, "Sea")
    login("archivist")
    assert f'name="version-{second}" value="1"' in text(client.get("/items"))
    with archive.session() as session:
        editing.edit_item(session, SYSTEM, second, title="Sea at dawn")
    response = post(client, "/items/bulk", {"item": [str(first), str(second)], f"version-{first}": "1",
                                            f"version-{second}": "1", "add_tags": "night"})
    html = text(response)
    assert response.status_code == 409
    assert "Nothing was changed: someone else saved “Sea at dawn” (title is now “Sea at dawn”" in html
    assert f'name="version-{second}" value="2"' in html
    with archive.Session() as session:
        assert session.get(Item, first).tags == [] and session.get(Item, second).tags == []


def test_stale_transcript_forms_answer_409(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    import io
    item_id = add_item(archive, "Interview", kind=ItemKind.video, media={"duration": 60.0})
    vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne.\n"
    with archive.session() as session:
        transcript_id = transcripts.import_transcript(session, session.get(Item, item_id), vtt, "a.ko.vtt").transcript.id
    login("archivist")
    html = text(client.get(f"/items/{item_id}"))
    assert f'name="seen_transcripts" value="{transcript_id}:1"' in html
    with archive.session() as session:
        transcripts.import_transcript(session, session.get(Item, item_id), vtt.replace(b"One", b"Two"), "b.ko.vtt")
    response = post(client, f"/items/{item_id}/transcripts/{transcript_id}/delete", {"version": "1"})
    assert response.status_code == 409 and "someone else saved this transcript" in text(response)
    response = post(client, f"/items/{item_id}/transcripts",
                    {"file": (io.BytesIO(vtt), "c.ko.vtt"), "seen_transcripts": f"{transcript_id}:1"},
                    content_type="multipart/form-data")
    assert response.status_code == 409 and "someone else saved this transcript" in text(response)
    with archive.Session() as session:
        assert [s.text for s in session.get(Transcript, transcript_id).segments] == ["Two."]
