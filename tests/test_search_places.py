"""Search by place, country and journey: facets, field queries, access to the values, and the index in step."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import ANONYMOUS, SYSTEM, Viewer
from archive.core import Archive
from archive.models import AccessLevel, Collection, Item, ItemKind, Journey, Place, Role
from archive.search import SearchRequest
from archive.services import search_sync
from archive.services.journeys import create_journey, edit_journey
from archive.services.legs import add_leg, delete_leg
from archive.services.locations import (legs_of_items, link_item_leg, link_item_place, set_range_leg, set_range_place,
                                        unlink_item_place)
from archive.services.places import create_place, edit_place
from archive.services.ranges import add_range
from archive.services.transcripts import import_transcript

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Kim>We waited by the river until dark.\n"
RESEARCHER = Viewer(role=Role.researcher, user_id=1, name="r")


def found(archive: Archive, q: str, viewer: Viewer = SYSTEM, **filters: list[str]) -> list[int]:
    response = archive.index.search(SearchRequest(q=q, per_page=100, filters=filters), viewer)
    return sorted(i.item_id for i in response.items)


def facet(archive: Archive, name: str, viewer: Viewer = SYSTEM, q: str = "") -> dict[str, int]:
    response = archive.index.search(SearchRequest(q=q, per_page=1), viewer)
    return {v.value: v.count for v in response.facets[name]}


def add_item(archive: Archive, title: str, *, access: AccessLevel = AccessLevel.public,
             collection: str | None = None, transcript: bytes | None = None) -> int:
    with archive.session() as session:
        coll = None
        if collection:
            coll = (session.scalar(select(Collection).where(Collection.title == collection))
                    or Collection(title=collection))
        item = Item(title=title, kind=ItemKind.video, access=access, collection=coll)
        session.add(item)
        session.flush()
        if transcript:
            import_transcript(session, item, transcript, "t.en.vtt")
        return item.id


def place(archive: Archive, name: str, country: str | None, **fields: Any) -> int:
    with archive.session() as session:
        return create_place(session, SYSTEM, name=name, latitude=fields.pop("latitude", 20.0),
                            longitude=fields.pop("longitude", 100.0), country=country, **fields).id


def journey(archive: Archive, title: str, stops: tuple[int, int], **fields: Any) -> tuple[int, int]:
    """A journey with one leg between `stops`; its id and the leg's."""
    with archive.session() as session:
        made = create_journey(session, SYSTEM, title=title, **fields)
        leg = add_leg(session, SYSTEM, made.id, from_place_id=stops[0], to_place_id=stops[1])
        return made.id, leg.id


def link_place(archive: Archive, item_id: int, place_id: int) -> None:
    with archive.session() as session:
        link_item_place(session, SYSTEM, item_id, place_id)


def link_leg(archive: Archive, item_id: int, leg_id: int) -> None:
    with archive.session() as session:
        link_item_leg(session, SYSTEM, item_id, leg_id)


@pytest.fixture
def route(archive: Archive) -> dict[str, int]:
    """Two public items on a public journey, one linked to Huay Xai (Laos), one to Chiang Khong (Thailand)."""
    ids = {"huayxai": place(archive, "Huay Xai", "LA", alt_names=["ຫ້ວຍຊາຍ", "Houayxay"]),
           "chiangkhong": place(archive, "Chiang Khong", "TH"),
           "laos_clip": add_item(archive, "Waiting at the pier", transcript=VTT),
           "thai_clip": add_item(archive, "The far bank"),
           "other": add_item(archive, "Unplaced river footage", transcript=VTT)}
    ids["journey"], ids["leg"] = journey(archive, "The Mekong route", (ids["huayxai"], ids["chiangkhong"]))
    link_place(archive, ids["laos_clip"], ids["huayxai"])
    link_place(archive, ids["thai_clip"], ids["chiangkhong"])
    link_leg(archive, ids["laos_clip"], ids["leg"])
    return ids


def test_place_country_and_journey_facets_count_visible_items(archive: Archive, route: dict[str, int]) -> None:
    hidden = add_item(archive, "Confidential pier", access=AccessLevel.confidential)
    link_place(archive, hidden, route["huayxai"])
    assert facet(archive, "place", ANONYMOUS) == {"Huay Xai": 1, "Chiang Khong": 1}
    assert facet(archive, "place", SYSTEM) == {"Huay Xai": 2, "Chiang Khong": 1}
    assert facet(archive, "country", ANONYMOUS) == {"Laos": 1, "Thailand": 1}
    assert facet(archive, "journey", ANONYMOUS) == {"The Mekong route": 1}
    assert found(archive, "", ANONYMOUS, country=["Laos"]) == [route["laos_clip"]]
    assert found(archive, "river", ANONYMOUS, journey=["The Mekong route"]) == [route["laos_clip"]]


def test_place_country_and_journey_queries(archive: Archive, route: dict[str, int]) -> None:
    laos, thai = route["laos_clip"], route["thai_clip"]
    assert found(archive, "place:huay", ANONYMOUS) == [laos]
    assert found(archive, 'place:"chiang khong"', ANONYMOUS) == [thai]
    assert found(archive, "country:laos", ANONYMOUS) == found(archive, "country:LA", ANONYMOUS) == [laos]
    assert found(archive, "country:th", ANONYMOUS) == found(archive, "country:thailand", ANONYMOUS) == [thai]
    assert found(archive, "journey:mekong", ANONYMOUS) == [laos]
    assert found(archive, "river -country:laos", ANONYMOUS) == [route["other"]]
    # the other names are searchable, as the field and as plain words, and never shown as values
    assert found(archive, "place:houayxay", ANONYMOUS) == found(archive, "ຫ້ວຍຊາຍ", ANONYMOUS) == [laos]
    assert "Houayxay" not in facet(archive, "place", ANONYMOUS)
    assert found(archive, "laos", ANONYMOUS) == [laos]


def test_korean_other_name_finds_the_river(archive: Archive) -> None:
    river = place(archive, "Yalu River", None, alt_names=["압록강", "鸭绿江"], latitude=41.8, longitude=126.9)
    item_id = add_item(archive, "Night crossing")
    link_place(archive, item_id, river)
    assert found(archive, "place:압록강", ANONYMOUS) == found(archive, "place:yalu", ANONYMOUS) == [item_id]
    assert found(archive, "鸭绿江", ANONYMOUS) == [item_id]
    assert facet(archive, "country", ANONYMOUS) == {}  # a river across a border has no country


def test_ranges_give_places_and_journeys(archive: Archive, route: dict[str, int]) -> None:
    other = route["other"]
    with archive.session() as session:
        time_range = add_range(session, session.get(Item, other), start=0, end=1, tag_name="crossing")
        range_id = time_range.id
    with archive.session() as session:
        set_range_place(session, SYSTEM, other, range_id, route["chiangkhong"])
        set_range_leg(session, SYSTEM, other, range_id, route["leg"])
    assert found(archive, "country:thailand", ANONYMOUS) == sorted([route["thai_clip"], other])
    assert found(archive, "journey:mekong", ANONYMOUS) == sorted([route["laos_clip"], other])
    with archive.session() as session:
        set_range_place(session, SYSTEM, other, range_id, None)
    assert found(archive, "country:thailand", ANONYMOUS) == [route["thai_clip"]]
    assert search_sync.check_index(archive).clean


def test_confidential_journey_never_reaches_anonymous(archive: Archive, route: dict[str, int]) -> None:
    with archive.session() as session:
        secret = session.scalar(select(Collection).where(Collection.title == "Sealed")) or Collection(title="Sealed")
        session.add(secret)
        session.flush()
        secret_id = secret.id
    _, leg = journey(archive, "Operation Nightjar", (route["chiangkhong"], route["huayxai"]),
                     access="confidential", collection_id=secret_id)
    public_item = route["thai_clip"]
    link_leg(archive, public_item, leg)
    for viewer in (ANONYMOUS, RESEARCHER):
        assert found(archive, "journey:nightjar", viewer) == []
        assert found(archive, "nightjar", viewer) == [] and found(archive, '"operation nightjar"', viewer) == []
        assert found(archive, "", viewer, journey=["Operation Nightjar"]) == []
        assert "Operation Nightjar" not in facet(archive, "journey", viewer)
        response = archive.index.search(SearchRequest(q="nightjr"), viewer)
        assert response.suggestion is None
    granted = Viewer(role=Role.researcher, granted_collections=frozenset({secret_id}), user_id=2)
    for viewer in (SYSTEM, granted):
        assert found(archive, "journey:nightjar", viewer) == [public_item]
        assert facet(archive, "journey", viewer)["Operation Nightjar"] == 1
    assert found(archive, "nightjar", SYSTEM) == []  # a guarded title is not among the item's plain words


def test_confidential_place_and_its_country_stay_hidden(archive: Archive, route: dict[str, int]) -> None:
    safe_house = place(archive, "Safe house Vientiane", "LA", access="confidential", alt_names=["Ban Nong"])
    item_id = add_item(archive, "Kitchen interview")
    link_place(archive, item_id, safe_house)
    for viewer in (ANONYMOUS, RESEARCHER):
        assert found(archive, "place:safe", viewer) == found(archive, "place:nong", viewer) == []
        assert found(archive, "safe house", viewer) == found(archive, "nong", viewer) == []
        assert item_id not in found(archive, "country:laos", viewer)
        assert "Safe house Vientiane" not in facet(archive, "place", viewer)
        assert facet(archive, "country", viewer)["Laos"] == 1  # the public Huay Xai item only
    assert found(archive, "place:nong", SYSTEM) == [item_id]
    assert found(archive, "country:laos", SYSTEM) == sorted([route["laos_clip"], item_id])


def test_hidden_place_lends_no_names_to_a_public_namesake(archive: Archive) -> None:
    public = place(archive, "Hyesan", "KP", alt_names=["혜산"])
    hidden = place(archive, "Hyesan", "CN", access="confidential", alt_names=["Riverside den"])
    item_id = add_item(archive, "Market day")
    link_place(archive, item_id, public)
    link_place(archive, item_id, hidden)
    assert found(archive, "place:혜산", ANONYMOUS) == [item_id]
    assert found(archive, "place:den", ANONYMOUS) == found(archive, "den", ANONYMOUS) == []
    assert found(archive, "country:china", ANONYMOUS) == [] and facet(archive, "place", ANONYMOUS) == {"Hyesan": 1}
    # The value is open, so it takes its other names from its open link only, for every viewer.
    assert found(archive, "country:china", SYSTEM) == [item_id] and found(archive, "place:den", SYSTEM) == []


def test_restricted_values_are_open_on_restricted_items(archive: Archive) -> None:
    border = place(archive, "Border fence", "TH", access="restricted")
    public_item = add_item(archive, "Open clip")
    restricted_item = add_item(archive, "Account clip", access=AccessLevel.restricted)
    link_place(archive, public_item, border)
    link_place(archive, restricted_item, border)
    assert found(archive, "fence", ANONYMOUS) == [] and found(archive, "place:fence", ANONYMOUS) == []
    # every viewer of the restricted item knows the place: its name is among the item's words
    assert found(archive, "fence", RESEARCHER) == [restricted_item]
    assert found(archive, "place:fence", RESEARCHER) == sorted([public_item, restricted_item])


def test_edits_reindex_the_items_concerned(archive: Archive, route: dict[str, int]) -> None:
    laos, thai = route["laos_clip"], route["thai_clip"]
    with archive.session() as session:
        edit_place(session, SYSTEM, route["huayxai"], name="Houei Sai", alt_names=["Ban Houayxay"])
    assert found(archive, "place:houei") == [laos] and found(archive, "place:huay") == []
    assert found(archive, "place:ban") == [laos]
    with archive.session() as session:
        edit_place(session, SYSTEM, route["chiangkhong"], country="LA")
    assert found(archive, "country:thailand") == [] and found(archive, "country:laos") == sorted([laos, thai])
    with archive.session() as session:
        edit_journey(session, SYSTEM, route["journey"], title="Down the river")
    assert found(archive, "journey:mekong") == [] and found(archive, "journey:down") == [laos]
    with archive.session() as session:
        edit_journey(session, SYSTEM, route["journey"], access="restricted")
    assert found(archive, "journey:down", ANONYMOUS) == [] and found(archive, "journey:down", RESEARCHER) == [laos]
    with archive.session() as session:
        unlink_item_place(session, SYSTEM, laos, route["huayxai"])
    link_leg(archive, thai, route["leg"])
    assert found(archive, "place:houei") == [] and found(archive, "journey:down") == sorted([laos, thai])
    with archive.session() as session:  # a place renamed through the ORM, outside the services
        session.get(Place, route["chiangkhong"]).name = "Chiang Khong pier"
    assert found(archive, "place:pier") == [thai]
    with archive.session() as session:
        delete_leg(session, SYSTEM, route["leg"])
    assert found(archive, "journey:down") == []
    with archive.session() as session:
        session.delete(session.get(Journey, route["journey"]))
    assert archive.index.search(SearchRequest(), SYSTEM).facets["journey"] == []
    assert search_sync.check_index(archive).clean


def test_index_check_sees_stale_place_names(archive: Archive, route: dict[str, int]) -> None:
    archive.index_on_commit = False  # as if the index write had been lost
    try:
        with archive.session() as session:
            edit_place(session, SYSTEM, route["huayxai"], name="Houei Sai")
        with archive.Session() as session, session.begin():
            session.execute(search_sync.SearchOutbox.__table__.delete())
    finally:
        archive.index_on_commit = True
    report = search_sync.check_index(archive)
    assert report.stale == [route["laos_clip"]]
    assert search_sync.check_index(archive, fix=True).fixed
    assert found(archive, "place:houei") == [route["laos_clip"]]


def test_legs_of_items_follow_journey_access(archive: Archive, route: dict[str, int]) -> None:
    _, secret_leg = journey(archive, "Sealed route", (route["chiangkhong"], route["huayxai"]), access="confidential")
    link_leg(archive, route["laos_clip"], secret_leg)
    with archive.Session() as session:
        seen = legs_of_items(session, ANONYMOUS, [route["laos_clip"], route["thai_clip"]])
        everything = legs_of_items(session, SYSTEM, [route["laos_clip"]])
    assert [(leg.journey, leg.position, leg.from_name, leg.to_name) for leg in seen[route["laos_clip"]]] == [
        ("The Mekong route", 1, "Huay Xai", "Chiang Khong")]
    assert route["thai_clip"] not in seen
    assert sorted(leg.journey for leg in everything[route["laos_clip"]]) == ["Sealed route", "The Mekong route"]


def test_search_page_shows_the_leg_and_its_places(client: FlaskClient, archive: Archive,
                                                  route: dict[str, int]) -> None:
    html = client.get("/search?q=river").get_data(as_text=True)
    assert "Leg 1 of" in html and "The Mekong route" in html
    assert f'/journeys/{route["journey"]}#leg-1' in html
    assert f'/places/{route["huayxai"]}"' in html and f'/places/{route["chiangkhong"]}"' in html
    assert 'id="facet-country"' in html and "Laos" in html
    assert "<code>place:</code>" in html


def test_api_search_lists_legs(client: FlaskClient, archive: Archive, route: dict[str, int]) -> None:
    body = client.get("/api/search?q=country:laos").get_json()
    assert [i["id"] for i in body["items"]] == [route["laos_clip"]]
    assert body["items"][0]["legs"] == [{"journey_id": route["journey"], "journey": "The Mekong route", "leg": 1,
                                        "from": "Huay Xai", "to": "Chiang Khong"}]
    assert {"value": "Laos", "count": 1} in body["facets"]["country"]
    assert client.get("/api/search?q=the+far+bank").get_json()["items"][0]["legs"] == []


def test_country_parameter_does_what_country_field_does(archive: Archive, client: FlaskClient,
                                                        route: dict[str, int]) -> None:
    laos = route["laos_clip"]
    for value in ("LA", "laos", "Laos"):
        assert found(archive, "", ANONYMOUS, country=[value]) == found(archive, f"country:{value}", ANONYMOUS) == [laos]
        body = client.get("/search", query_string={"country": value}).get_data(as_text=True)
        assert f'data-item-id="{laos}"' in body and f'data-item-id="{route["thai_clip"]}"' not in body
