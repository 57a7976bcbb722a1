"""The archivists' geography pages: places, crossings, journeys and legs, the gaps report, items'
places and legs, and the masking of items' GPS positions on the item page and in the API."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import SYSTEM, Viewer
from archive.core import Archive
from archive.models import (AccessLevel, AuditEntry, BorderCrossing, Item, Journey, Leg, LocationPrecision, Place,
                            Role)
from archive.services import crossings, journeys, legs, places
from test_edit_web import field_html, post
from test_web import add_item, text

ARCHIVIST = Viewer(role=Role.archivist, user_id=None, name="setup")
#: A GPS fix near (but not at) Sinuiju, with an altitude, to see what each viewer is shown.
FIX = {"latitude": 40.104321, "longitude": 124.412345, "altitude": 31.0}


@pytest.fixture
def world(archive: Archive) -> dict[str, int]:
    """Two places on either side of the Yalu, a crossing between them, a third place in China."""
    with archive.session() as session:
        sinuiju = places.create_place(session, ARCHIVIST, name="Sinuiju", latitude=40.1006, longitude=124.3983,
                                      kind="city", country="KP")
        dandong = places.create_place(session, ARCHIVIST, name="Dandong", latitude=40.1290, longitude=124.3947,
                                      kind="city", country="CN")
        shenyang = places.create_place(session, ARCHIVIST, name="Shenyang", latitude=41.8057,
                                       longitude=123.4315, kind="city", country="CN")
        bridge = crossings.create_crossing(session, ARCHIVIST, place_id=sinuiju.id, from_country="KP",
                                           to_country="CN", kind="river")
        journey = journeys.create_journey(session, ARCHIVIST, title="Across the Yalu", travellers="a family")
        first = legs.add_leg(session, ARCHIVIST, journey.id, from_place_id=sinuiju.id, to_place_id=dandong.id,
                             date="2019-04-02", mode="river_crossing", crossing_id=bridge.id)
        second = legs.add_leg(session, ARCHIVIST, journey.id, from_place_id=dandong.id, to_place_id=shenyang.id,
                              date="2019-04-05", mode="train")
        return {"sinuiju": sinuiju.id, "dandong": dandong.id, "shenyang": shenyang.id, "crossing": bridge.id,
                "journey": journey.id, "leg1": first.id, "leg2": second.id}


def entries(archive: Archive, object_type: str, object_id: int | None = None) -> list[AuditEntry]:
    with archive.Session() as session:
        stmt = select(AuditEntry).where(AuditEntry.object_type == object_type)
        if object_id is not None:
            stmt = stmt.where(AuditEntry.object_id == object_id)
        return list(session.scalars(stmt.order_by(AuditEntry.id)))


PLACE_FORM = {"name": "Hyesan", "alt_names": "혜산\n惠山", "kind": "city", "country_code": "KP",
              "latitude": "41.4017", "longitude": "128.1781", "parent_id": "", "description": "", "access": "public",
              "precision": "km10"}


# -- places -----------------------------------------------------------------------------------

def test_archivist_creates_edits_and_deletes_a_place(client: FlaskClient, archive: Archive, login) -> None:
    login("archivist")
    form = client.get("/places/new")
    assert form.status_code == 200 and 'data-place-picker' in text(form) and "place_picker.js" in text(form)
    response = post(client, "/places/new", PLACE_FORM)
    assert response.status_code == 303
    with archive.Session() as session:
        place = session.scalar(select(Place).where(Place.name == "Hyesan"))
        assert place.alt_names == ["혜산", "惠山"] and place.country_code == "KP"
        assert place.precision is LocationPrecision.km10
        place_id = place.id
    assert response.headers["Location"].endswith(f"/places/{place_id}/edit")
    assert "41.401700" in text(client.get(f"/places/{place_id}/edit"))

    response = post(client, f"/places/{place_id}/edit", {**PLACE_FORM, "name": "Hyesan city", "latitude": "41.5"})
    assert response.status_code == 303
    with archive.Session() as session:
        assert session.get(Place, place_id).latitude == 41.5
    assert [e.action for e in entries(archive, "place", place_id)] == ["create", "edit"]
    assert entries(archive, "place", place_id)[1].changes["name"] == ["Hyesan", "Hyesan city"]

    assert post(client, f"/places/{place_id}/delete", {}).status_code == 303
    with archive.Session() as session:
        assert session.get(Place, place_id) is None
    assert entries(archive, "place", place_id)[-1].action == "purge"


def test_place_form_refuses_bad_values_beside_their_fields(client: FlaskClient, archive: Archive, login) -> None:
    login("archivist")
    response = post(client, "/places/new", {**PLACE_FORM, "latitude": "91", "country_code": "XX"})
    assert response.status_code == 400
    html = text(response)
    assert "field__error" in field_html(html, "latitude")
    assert "unknown country code" in field_html(html, "country_code").lower()
    assert 'value="Hyesan"' in html  # the input is kept
    with archive.Session() as session:
        assert session.scalar(select(Place).where(Place.name == "Hyesan")) is None


def test_deleting_a_place_in_use_names_what_uses_it(client: FlaskClient, archive: Archive, world, login) -> None:
    login("archivist")
    response = post(client, f"/places/{world['dandong']}/delete", {})
    assert response.status_code == 400
    html = text(response)
    assert "Dandong is in use" in html and "Across the Yalu" in html and "leg 1" in html
    with archive.Session() as session:
        assert session.get(Place, world["dandong"]) is not None


@pytest.mark.parametrize("role", ["anonymous", "researcher"])
def test_geography_forms_are_for_editors_only(client: FlaskClient, archive: Archive, world, login, role) -> None:
    if role != "anonymous":
        login(role)
    for path in ("/geography/edit", "/places/new", f"/places/{world['sinuiju']}/edit", "/crossings/new",
                 f"/crossings/{world['crossing']}/edit", "/journeys/new", f"/journeys/{world['journey']}/edit",
                 f"/legs/{world['leg1']}/edit", "/gaps"):
        response = client.get(path)
        assert response.status_code == (302 if role == "anonymous" else 404), path
    if role != "anonymous":
        assert post(client, f"/places/{world['shenyang']}/delete", {}).status_code == 404
        with archive.Session() as session:
            assert session.get(Place, world["shenyang"]) is not None


def test_index_lists_places_crossings_and_journeys(client: FlaskClient, world, login) -> None:
    login("admin")
    html = text(client.get("/geography/edit"))
    for expected in ("Sinuiju", "Dandong", "KP→CN", "Across the Yalu", f"/journeys/{world['journey']}/edit"):
        assert expected in html


# -- border crossings -------------------------------------------------------------------------

def test_archivist_creates_edits_and_deletes_a_crossing(client: FlaskClient, archive: Archive, world, login) -> None:
    login("archivist")
    form = {"place_id": str(world["dandong"]), "from_country": "CN", "to_country": "KP", "kind": "land", "notes": ""}
    response = post(client, "/crossings/new", form)
    assert response.status_code == 303
    with archive.Session() as session:
        crossing = session.scalar(select(BorderCrossing).where(BorderCrossing.place_id == world["dandong"]))
        crossing_id = crossing.id
    assert post(client, f"/crossings/{crossing_id}/edit", {**form, "notes": "at night"}).status_code == 303
    with archive.Session() as session:
        assert session.get(BorderCrossing, crossing_id).notes == "at night"
    assert post(client, f"/crossings/{crossing_id}/delete", {}).status_code == 303
    with archive.Session() as session:
        assert session.get(BorderCrossing, crossing_id) is None
    assert [e.action for e in entries(archive, "crossing", crossing_id)] == ["create", "edit", "purge"]


def test_crossing_form_refusals(client: FlaskClient, archive: Archive, world, login) -> None:
    login("archivist")
    response = post(client, "/crossings/new", {"place_id": str(world["shenyang"]), "from_country": "KP",
                                               "to_country": "KP", "kind": "land", "notes": ""})
    assert response.status_code == 400
    assert "from one country into another" in field_html(text(response), "to_country")
    response = post(client, f"/crossings/{world['crossing']}/delete", {})
    assert response.status_code == 400 and "used by 1 leg" in text(response)


# -- journeys and legs ------------------------------------------------------------------------

def test_archivist_creates_edits_and_deletes_a_journey(client: FlaskClient, archive: Archive, login) -> None:
    login("archivist")
    form = {"title": "Out by the river", "travellers": "two brothers", "people": "Kim Aram\nKim Bom",
            "collection_id": "", "description": "", "access": "restricted"}
    response = post(client, "/journeys/new", form)
    assert response.status_code == 303
    with archive.Session() as session:
        journey = session.scalar(select(Journey).where(Journey.title == "Out by the river"))
        assert sorted(p.name for p in journey.people) == ["Kim Aram", "Kim Bom"]
        assert journey.access is AccessLevel.restricted
        journey_id = journey.id
    assert post(client, "/journeys/new", {**form, "title": ""}).status_code == 400
    assert post(client, f"/journeys/{journey_id}/edit", {**form, "people": "Kim Aram"}).status_code == 303
    changes = entries(archive, "journey", journey_id)[-1].changes
    assert changes["people"] == [["Kim Aram", "Kim Bom"], ["Kim Aram"]]
    assert post(client, f"/journeys/{journey_id}/delete", {}).status_code == 303
    with archive.Session() as session:
        assert session.get(Journey, journey_id) is None


def _legs(archive: Archive, journey_id: int) -> list[tuple[int, int]]:
    with archive.Session() as session:
        return [(leg.id, leg.position) for leg in session.scalars(
            select(Leg).where(Leg.journey_id == journey_id).order_by(Leg.position))]


LEG_FORM = {"from_place_id": "", "to_place_id": "", "date": "2019-04-09", "mode": "bus", "crossing_id": "",
            "narrative": "", "precision": "exact"}


def test_legs_are_added_edited_moved_and_removed(client: FlaskClient, archive: Archive, world, login) -> None:
    login("archivist")
    page = text(client.get(f"/journeys/{world['journey']}/edit"))
    assert 'id="leg-1"' in page and 'id="leg-2"' in page and "EDTF" in page
    response = post(client, f"/journeys/{world['journey']}/legs",
                    {**LEG_FORM, "from_place_id": str(world["shenyang"]), "to_place_id": str(world["dandong"])})
    assert response.status_code == 303
    order = _legs(archive, world["journey"])
    assert [leg_id for leg_id, _ in order][:2] == [world["leg1"], world["leg2"]] and len(order) == 3
    third = order[2][0]

    assert post(client, f"/legs/{third}/move", {"direction": "up"}).status_code == 303
    assert [leg_id for leg_id, _ in _legs(archive, world["journey"])] == [world["leg1"], third, world["leg2"]]
    assert post(client, f"/legs/{world['leg1']}/move", {"direction": "up"}).status_code == 303  # first stays first
    assert [leg_id for leg_id, _ in _legs(archive, world["journey"])] == [world["leg1"], third, world["leg2"]]

    assert post(client, f"/legs/{third}/edit", {**LEG_FORM, "from_place_id": str(world["shenyang"]),
                                                "to_place_id": str(world["dandong"]),
                                                "narrative": "by night bus"}).status_code == 303
    with archive.Session() as session:
        assert session.get(Leg, third).narrative == "by night bus"
    assert post(client, f"/legs/{third}/delete", {}).status_code == 303
    assert _legs(archive, world["journey"]) == [(world["leg1"], 1), (world["leg2"], 2)]
    assert {e.action for e in entries(archive, "leg", third)} >= {"create", "edit", "purge"}


def test_leg_with_a_crossing_that_does_not_match_is_refused(client: FlaskClient, archive: Archive, world,
                                                            login) -> None:
    login("archivist")
    form = {**LEG_FORM, "from_place_id": str(world["dandong"]), "to_place_id": str(world["shenyang"]),
            "crossing_id": str(world["crossing"])}
    response = post(client, f"/legs/{world['leg2']}/edit", form)
    assert response.status_code == 400
    error = field_html(text(response), "crossing_id")
    assert "field__error" in error and "goes from KP into CN" in error
    response = post(client, f"/journeys/{world['journey']}/legs", form)
    assert response.status_code == 400 and "goes from KP into CN" in field_html(text(response), "crossing_id")
    assert len(_legs(archive, world["journey"])) == 2
    with archive.Session() as session:
        assert session.get(Leg, world["leg2"]).crossing_id is None


def test_bad_leg_date_shows_the_edtf_hint(client: FlaskClient, world, login) -> None:
    login("archivist")
    response = post(client, f"/legs/{world['leg2']}/edit", {**LEG_FORM, "from_place_id": str(world["dandong"]),
                                                            "to_place_id": str(world["shenyang"]),
                                                            "date": "spring-ish"})
    assert response.status_code == 400 and "Extended Date/Time Format" in field_html(text(response), "date")


# -- the gaps report --------------------------------------------------------------------------

def test_gaps_report_links_each_gap_to_what_to_fix(client: FlaskClient, archive: Archive, world, login) -> None:
    item_id = add_item(archive, "Unplaced clip", media=dict(FIX))
    with archive.session() as session:
        places.create_place(session, ARCHIVIST, name="Nowhere village", latitude=42.0, longitude=129.0, country="KP")
        legs.add_leg(session, ARCHIVIST, world["journey"], from_place_id=world["shenyang"],
                     to_place_id=world["sinuiju"], date="2019-04-01", mode="car")
    login("archivist")
    html = text(client.get("/gaps"))
    assert f"/legs/{world['leg1']}/edit" in html  # no footage of leg 1
    assert "is dated before leg" in html  # leg 3 dated before leg 2
    assert "without a border crossing" in html  # leg 3 goes CN → KP
    assert f"/items/{item_id}/edit#geography" in html
    assert "Nowhere village" in html
    only = text(client.get(f"/gaps?journey={world['journey']}"))
    assert "Across the Yalu" in only and "Nowhere village" not in only
    assert client.get("/gaps?journey=abc").status_code == 400
    for bad in ("%C2%B2", "99999999999", "0"):  # a superscript two is a digit to str.isdigit, not to int()
        assert client.get(f"/gaps?journey={bad}").status_code == 400, bad
    assert client.get("/gaps?journey=999999").status_code == 404


# -- items: places, legs and the GPS suggestion -----------------------------------------------

def test_gps_suggests_the_nearest_place_and_linking_works(client: FlaskClient, archive: Archive, world,
                                                          login) -> None:
    item_id = add_item(archive, "Bridge at dusk", media=dict(FIX))
    login("archivist")
    html = text(client.get(f"/items/{item_id}/edit"))
    assert "Nearest place to its GPS position: <strong>Sinuiju</strong>" in html and "North Korea" in html
    assert "Link it" in html
    response = post(client, f"/items/{item_id}/places/link", {"place_id": str(world["sinuiju"])})
    assert response.status_code == 303
    with archive.Session() as session:
        assert [p.name for p in session.get(Item, item_id).places] == ["Sinuiju"]
    assert "Nearest place to its GPS position" not in text(client.get(f"/items/{item_id}/edit"))
    changes = [e.changes for e in entries(archive, "item", item_id) if "places" in e.changes]
    assert changes == [{"places": [[], ["Sinuiju"]]}]


def test_item_places_legs_and_precision_are_set_from_its_edit_page(client: FlaskClient, archive: Archive, world,
                                                                   login) -> None:
    item_id = add_item(archive, "Train window", media=dict(FIX))
    login("archivist")
    response = post(client, f"/items/{item_id}/geography", {"add_place": str(world["dandong"]),
                                                            "add_leg": str(world["leg2"]),
                                                            "location_precision": "country"})
    assert response.status_code == 303
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert [p.id for p in item.places] == [world["dandong"]] and [leg.id for leg in item.legs] == [world["leg2"]]
        assert item.location_precision is LocationPrecision.country
    assert any("legs" in e.changes for e in entries(archive, "item", item_id))
    page = text(client.get(f"/items/{item_id}"))
    assert f"/places/{world['dandong']}" in page and f"/journeys/{world['journey']}#leg-2" in page

    # Unticking a place unlinks it; a place that does not exist is refused beside the section.
    assert post(client, f"/items/{item_id}/geography", {"leg_ids": str(world["leg2"]),
                                                        "location_precision": "country"}).status_code == 303
    with archive.Session() as session:
        assert session.get(Item, item_id).places == []
    response = post(client, f"/items/{item_id}/geography", {"add_place": "999999"})
    assert response.status_code == 400 and "There is no place 999999" in text(response)


# -- masking of items' GPS --------------------------------------------------------------------

def _set_precision(archive: Archive, item_id: int, precision: LocationPrecision) -> None:
    with archive.session() as session:
        session.get(Item, item_id).location_precision = precision


@pytest.mark.parametrize("role", ["anonymous", "researcher"])
def test_exact_gps_never_reaches_viewers_who_may_not_see_it(client: FlaskClient, archive: Archive, login,
                                                            role) -> None:
    item_id = add_item(archive, "Riverbank", media=dict(FIX))
    _set_precision(archive, item_id, LocationPrecision.km10)
    if role != "anonymous":
        login(role)
    page = text(client.get(f"/items/{item_id}"))
    record = client.get(f"/api/items/{item_id}").get_json()["media"]
    assert "40.10432" not in page and "124.4123" not in page and "31 m" not in page
    assert "shown to about 10 km" in page
    assert (record["latitude"], record["longitude"]) != (FIX["latitude"], FIX["longitude"])
    assert abs(record["latitude"] - FIX["latitude"]) < 0.1 and record["altitude"] is None
    assert record["location_precision"] == "km10"
    assert "40.104321" not in client.get(f"/api/items/{item_id}").get_data(as_text=True)


def test_editors_and_exact_items_show_the_recorded_gps(client: FlaskClient, archive: Archive, login) -> None:
    hidden = add_item(archive, "Riverbank", media=dict(FIX))
    _set_precision(archive, hidden, LocationPrecision.km10)
    exact = add_item(archive, "Market", media=dict(FIX))
    record = client.get(f"/api/items/{exact}").get_json()["media"]
    assert (record["latitude"], record["altitude"]) == (FIX["latitude"], 31.0)
    login("archivist")
    page = text(client.get(f"/items/{hidden}"))
    assert "40.10432, 124.4123" in page and ", 31 m" in page
    assert client.get(f"/api/items/{hidden}").get_json()["media"]["latitude"] == FIX["latitude"]


def _audit(archive: Archive) -> list[Any]:
    return entries(archive, "place")


def test_places_made_by_services_are_audited(archive: Archive, world) -> None:
    assert {e.object_label for e in _audit(archive)} >= {"Sinuiju", "Dandong", "Shenyang"}
    assert entries(archive, "journey", world["journey"])[0].action == "create"


def test_refusals_do_not_name_journeys_the_archivist_may_not_see(client: FlaskClient, archive: Archive, world,
                                                                 login) -> None:
    with archive.session() as session:
        secret = journeys.create_journey(session, SYSTEM, title="Secret route", access="confidential")
        legs.add_leg(session, SYSTEM, secret.id, from_place_id=world["shenyang"], to_place_id=world["dandong"])
    login("archivist")
    for response in (client.get(f"/places/{world['shenyang']}/edit"),
                     post(client, f"/places/{world['shenyang']}/delete", {})):
        html = text(response)
        assert "Shenyang is in use" in html or "Used by" in html
        assert "Secret route" not in html and "a journey you may not see" in html


def clip_with_a_range(archive: Archive) -> tuple[int, int]:
    """A minute of video with a time range tagged "bridge" at 1-5 s: (item id, range id)."""
    from archive.models import ItemKind, Tag, TimeRange
    item_id = add_item(archive, "Long take", kind=ItemKind.video, media={"duration": 60.0})
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.ranges.append(TimeRange(tag=Tag(name="bridge"), start_sec=1.0, end_sec=5.0, note=""))
        session.flush()
        return item_id, item.ranges[0].id


def test_time_ranges_get_a_place_and_a_leg(client: FlaskClient, archive: Archive, world, login) -> None:
    from archive.models import TimeRange
    item_id, range_id = clip_with_a_range(archive)
    login("archivist")
    assert f"range-where-{range_id}" in text(client.get(f"/items/{item_id}/edit"))
    response = post(client, f"/items/{item_id}/ranges/{range_id}/where",
                    {"place_id": str(world["sinuiju"]), "leg_id": str(world["leg1"])})
    assert response.status_code == 303
    with archive.Session() as session:
        time_range = session.get(TimeRange, range_id)
        assert (time_range.place_id, time_range.leg_id) == (world["sinuiju"], world["leg1"])
    response = post(client, f"/items/{item_id}/ranges/{range_id}/where", {"place_id": "", "leg_id": "999999"})
    assert response.status_code == 400 and "There is no leg 999999" in text(response)
    with archive.Session() as session:
        assert session.get(TimeRange, range_id).leg_id == world["leg1"]


@pytest.mark.parametrize("role", ["anonymous", "researcher"])
def test_an_original_with_more_exact_gps_than_published_is_withheld(client: FlaskClient, archive: Archive, login,
                                                                    tmp_path, role) -> None:  # type: ignore[no-untyped-def]
    """The bytes of a JPEG carry its EXIF GPS: a viewer shown a coarsened position gets no original."""
    from archive.services.ingest import IngestOptions, ingest_paths
    from mediagen import make_jpeg
    from conftest import PUBLISHED
    report = ingest_paths(archive, [make_jpeg(tmp_path / "riverbank.jpg", gps=(40.104321, 124.412345))],
                          IngestOptions(**PUBLISHED))
    item_id = report.ingested[0]["item_id"]
    assert client.get(f"/items/{item_id}/original").status_code == 200  # exact: published as it is
    _set_precision(archive, item_id, LocationPrecision.km10)
    if role != "anonymous":
        login(role)

    assert client.get(f"/items/{item_id}/original").status_code == 404
    page = text(client.get(f"/items/{item_id}"))
    assert f"/items/{item_id}/original" not in page
    assert f"/items/{item_id}/thumbs/page" in page  # the picture is still shown, without metadata
    assert client.get(f"/api/items/{item_id}").get_json()["media"]["url"] is None
    login("archivist")
    assert client.get(f"/items/{item_id}/original").status_code == 200
