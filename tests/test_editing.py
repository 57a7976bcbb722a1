"""Writing the catalogue through archive.services.editing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from archive.core import Archive
from archive.models import AccessLevel, Collection, Credit, Item, ItemKind, Person, Tag
from archive.services import Invalid
from archive.services.editing import (add_credit, get_or_create_person, get_or_create_tag, set_item_tags,
                                      update_item, upsert_collection)


@pytest.fixture
def make_item(archive: Archive):
    """A factory of items committed in their own transaction; returns the new item's id."""
    def make(title: str = "Riverbank at dusk", **fields: object) -> int:
        with archive.session() as s:
            item = Item(title=title, kind=ItemKind.still, access=AccessLevel.public, **fields)
            s.add(item)
            s.flush()
            return item.id
    return make


def test_update_item_changes_only_given_fields_and_reports_them(archive: Archive, make_item) -> None:
    item_id = make_item(description="old", creator="the guide")
    with archive.session() as s:
        item = s.get(Item, item_id)
        changes = update_item(s, item, title="  Riverbank at night ", description="old", language="ko, en")
    assert changes == {"title": ("Riverbank at dusk", "Riverbank at night"), "language": ("", "ko, en")}
    with archive.session() as s:
        item = s.get(Item, item_id)
        assert (item.title, item.description, item.creator, item.language) == (
            "Riverbank at night", "old", "the guide", "ko, en")


def test_update_item_sets_date_bounds_from_edtf(archive: Archive, make_item) -> None:
    item_id = make_item()
    with archive.session() as s:
        changes = update_item(s, s.get(Item, item_id), date_shot="2019-03/2019-05")
    assert changes == {"date_shot": ("", "2019-03/2019-05")}
    with archive.session() as s:
        item = s.get(Item, item_id)
        assert (item.date_lower, item.date_upper) == (date(2019, 3, 1), date(2019, 5, 31))
        update_item(s, item, date_shot="")
        assert (item.date_shot, item.date_lower, item.date_upper) == ("", None, None)


@pytest.mark.parametrize("fields, field", [
    ({"title": "   "}, "title"),
    ({"date_shot": "spring 2019"}, "date_shot"),
    ({"access": "secret"}, "access"),
    ({"language": "korean"}, "language"),
    ({"language": "xx"}, "language"),
    ({"collection_id": 999}, "collection_id"),
    ({"creator": "x" * 201}, "creator"),
])
def test_update_item_refuses_bad_values_and_changes_nothing(archive: Archive, make_item, fields, field) -> None:
    item_id = make_item()
    with archive.session() as s:
        item = s.get(Item, item_id)
        with pytest.raises(Invalid) as caught:
            update_item(s, item, description="would change", **fields)
        assert caught.value.field == field
        assert item.description == ""


def test_update_item_moves_item_between_collections_and_access_levels(archive: Archive, make_item) -> None:
    item_id = make_item()
    with archive.session() as s:
        collection, created = upsert_collection(s, "Field recordings", year=2019)
        changes = update_item(s, s.get(Item, item_id), collection_id=collection.id, access="restricted")
    assert created
    assert changes == {"collection_id": (None, collection.id),
                       "access": (AccessLevel.public, AccessLevel.restricted)}
    with archive.session() as s:
        assert update_item(s, s.get(Item, item_id), collection_id=None) == {"collection_id": (collection.id, None)}


def test_set_item_tags_trims_dedupes_and_creates_tags(archive: Archive, make_item) -> None:
    item_id = make_item()
    with archive.session() as s:
        get_or_create_tag(s, "Mekong")
        changes = set_item_tags(s, s.get(Item, item_id), [" night ", "mekong", "Night", "river  crossing"])
    assert changes == {"tags": ([], ["Mekong", "night", "river crossing"])}
    with archive.session() as s:
        assert s.scalar(select(func.count(Tag.id))) == 3
        assert set_item_tags(s, s.get(Item, item_id), ["night", "Mekong", "river crossing"]) == {}
        assert set_item_tags(s, s.get(Item, item_id), []) == {"tags": (["Mekong", "night", "river crossing"], [])}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_set_item_tags_refuses_empty_or_long_names(archive: Archive, make_item, name: str) -> None:
    item_id = make_item()
    with archive.session() as s:
        with pytest.raises(Invalid) as caught:
            set_item_tags(s, s.get(Item, item_id), ["night", name])
        assert caught.value.field == "tags"


def test_get_or_create_tag_sets_parent_and_refuses_cycles(archive: Archive) -> None:
    with archive.session() as s:
        crossing = get_or_create_tag(s, "border crossing")
        river = get_or_create_tag(s, "river crossing", parent=crossing)
        assert get_or_create_tag(s, "River Crossing") is river
        assert river.parent is crossing
        with pytest.raises(Invalid) as caught:
            get_or_create_tag(s, "border crossing", parent=river)
        assert caught.value.field == "parent"


def test_upsert_collection_creates_then_updates(archive: Archive) -> None:
    with archive.session() as s:
        collection, created = upsert_collection(s, "Escape", year=2024, kind="feature film")
        assert created
    with archive.session() as s:
        again, created = upsert_collection(s, "Escape", synopsis="A sergeant defects.")
        assert not created and again.id == collection.id
        assert (again.year, again.kind, again.synopsis) == (2024, "feature film", "A sergeant defects.")
        with pytest.raises(Invalid) as caught:
            upsert_collection(s, "Escape", year=0)
        assert caught.value.field == "year"
        with pytest.raises(Invalid):
            upsert_collection(s, " ")
        assert s.scalar(select(func.count(Collection.id))) == 1


def test_get_or_create_person_is_idempotent(archive: Archive) -> None:
    with archive.session() as s:
        first = get_or_create_person(s, " Seo  Jin-woo (fictional) ", note="a demo person")
        assert get_or_create_person(s, "Seo Jin-woo (fictional)") is first
        assert first.note == "a demo person"
        with pytest.raises(Invalid):
            get_or_create_person(s, "")
        assert s.scalar(select(func.count(Person.id))) == 1


def test_add_credit_positions_credits_in_order(archive: Archive, make_item) -> None:
    item_id = make_item()
    with archive.session() as s:
        collection, _ = upsert_collection(s, "Escape")
        director = add_credit(s, get_or_create_person(s, "Director A"), "director", collection=collection)
        writer = add_credit(s, get_or_create_person(s, "Writer B"), "writer", collection=collection)
        camera = add_credit(s, get_or_create_person(s, "Camera C"), "camera", item=s.get(Item, item_id),
                            position=5)
        assert (director.position, writer.position, camera.position) == (0, 1, 5)
    with archive.session() as s:
        assert [c.role for c in s.get(Collection, collection.id).credits] == ["director", "writer"]


def test_add_credit_refuses_duplicates_and_wrong_targets(archive: Archive, make_item) -> None:
    item_id = make_item()
    with archive.session() as s:
        collection, _ = upsert_collection(s, "Escape")
        person = get_or_create_person(s, "Director A")
        item = s.get(Item, item_id)
        add_credit(s, person, "director", collection=collection)
        with pytest.raises(Invalid, match="already credited"):
            add_credit(s, person, " director ", collection=collection)
        add_credit(s, person, "director", item=item)  # the same role on another target is fine
        for targets in ({}, {"collection": collection, "item": item}):
            with pytest.raises(Invalid) as caught:
                add_credit(s, person, "writer", **targets)
            assert caught.value.field == "target"
        with pytest.raises(Invalid) as caught:
            add_credit(s, person, "  ", item=item)
        assert caught.value.field == "role"
        assert s.scalar(select(func.count(Credit.id))) == 2
