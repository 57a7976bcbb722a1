"""Places, countries and border crossings: the rules, the access policy and location masking."""

from __future__ import annotations

import json
from pathlib import Path

import pycountry
import pytest
from sqlalchemy import select, text

from archive import db, geo
from archive.access import ANONYMOUS, SYSTEM, Viewer, can_see_place, place_filter, published_position
from archive.core import Archive
from archive.models import (AccessLevel, Country, Item, ItemKind, LocationPrecision, Place, PlaceKind, Role,
                            TimeRange, Tag)
from archive.services import Invalid, NotFound
from archive.services import crossings, locations, places
from test_web import add_item

RESEARCHER = Viewer(role=Role.researcher, user_id=1, name="ri")
ARCHIVIST = Viewer(role=Role.archivist, user_id=2, name="mina")
ADMIN = Viewer(role=Role.admin, user_id=3, name="root")
VIEWERS = {"anonymous": ANONYMOUS, "researcher": RESEARCHER, "archivist": ARCHIVIST, "admin": ADMIN}


@pytest.fixture
def gazetteer(archive: Archive) -> dict[str, int]:
    """A small gazetteer: name → place id."""
    specs = [
        dict(name="Hyesan", latitude=41.40, longitude=128.18, kind="city", country="KP", alt_names="혜산|惠山"),
        dict(name="Changbai", latitude=41.42, longitude=128.20, kind="town", country="CN"),
        dict(name="Changbai landing", latitude=41.4123, longitude=128.1934, kind="crossing_point", country="CN",
             parent="Changbai", precision="km10"),
        dict(name="Chiang Saen", latitude=20.27, longitude=100.09, kind="town", country="TH"),
        dict(name="Chiang Saen landing", latitude=20.2911, longitude=100.0817, kind="crossing_point", country="TH",
             parent="Chiang Saen", precision="region"),
        dict(name="Safe house", latitude=21.0312, longitude=105.8421, kind="building", country="VN",
             access="restricted", precision="country"),
        dict(name="First hideout", latitude=41.4301, longitude=128.2207, kind="building", country="CN",
             access="confidential"),
    ]
    ids: dict[str, int] = {}
    with archive.session() as session:
        for spec in specs:
            parent = spec.pop("parent", None)
            place = places.create_place(session, SYSTEM, parent_id=ids[parent] if parent else None, **spec)
            ids[place.name] = place.id
    return ids


def _names(views: list[places.PlaceView]) -> set[str]:
    return {view.name for view in views}


# -- countries and the migration ----------------------------------------------------------------

def test_every_country_exists_from_the_first_run(archive: Archive) -> None:
    with archive.Session() as session:
        countries = {c.code: c.name for c in session.scalars(select(Country))}
    assert set(countries) == {c.alpha_2 for c in pycountry.countries}
    assert countries["KP"] == "North Korea" and countries["LA"] == "Laos"


def test_migration_upgrades_an_existing_database_and_keeps_its_rows(tmp_path: Path,
                                                                   unmigrated_database_url: str) -> None:
    from alembic import command

    archive = Archive.open({"data": str(tmp_path / "d"), "database_url": unmigrated_database_url}, migrate=False)
    command.upgrade(db.alembic_config(archive.engine), "0003")
    with archive.engine.begin() as conn:
        conn.execute(text("INSERT INTO items (id, title, description, kind, date_shot, creator, language, rights, "
                          "source, access, created_at, updated_at) VALUES (1, 'Yalu at dusk', '', 'video', '', '', "
                          "'', '', '', 'public', '2019-04-01 00:00:00', '2019-04-01 00:00:00')"))
        conn.execute(text("INSERT INTO tags (id, name) VALUES (1, 'night')"))
        conn.execute(text("INSERT INTO time_ranges (id, item_id, tag_id, start_sec, end_sec, note, created_at) "
                          "VALUES (1, 1, 1, 0, 2, '', '2019-04-01')"))
    assert db.upgrade(archive.engine) == ("0003", db.head_revision())
    with archive.Session() as session:
        item = session.get(Item, 1)
        assert item.title == "Yalu at dusk" and item.location_precision is LocationPrecision.exact
        assert item.places == [] and item.legs == []
        time_range = session.get(TimeRange, 1)
        assert time_range.place_id is None and time_range.leg_id is None and time_range.tag.name == "night"
        assert session.get(Country, "TH").name == "Thailand"
    archive.close()


# -- the rules of places ------------------------------------------------------------------------

def test_a_place_keeps_its_other_names_and_country(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.Session() as session:
        view = places.place_view(session, ANONYMOUS, gazetteer["Hyesan"])
    assert view.alt_names == ("혜산", "惠山") and view.country_code == "KP" and view.country_name == "North Korea"
    assert view.kind is PlaceKind.city and (view.lat, view.lon) == (41.40, 128.18)


@pytest.mark.parametrize(("fields", "field", "message"), [
    (dict(country="XX"), "country_code", "unknown country code 'XX'"),
    (dict(latitude=91), "latitude", "latitude 91 is out of range"),
    (dict(longitude="east"), "longitude", "longitude must be a number"),
    (dict(name="  "), "name", "name may not be empty"),
    (dict(kind="castle"), "kind", "kind must be one of"),
    (dict(precision="street"), "precision", "precision must be one of"),
    (dict(name="Hyesan", country="KP"), "name", "already a place named 'Hyesan' in KP"),
])
def test_bad_place_values_are_refused_naming_the_field(archive: Archive, gazetteer: dict[str, int],
                                                       fields: dict, field: str, message: str) -> None:
    values = dict(name="Manpo", latitude=41.15, longitude=126.29, country="KP") | fields
    with archive.session() as session, pytest.raises(Invalid, match=message) as refused:
        places.create_place(session, SYSTEM, **values)
    assert refused.value.field == field


def test_the_same_name_in_another_country_is_another_place(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.session() as session:
        other = places.create_place(session, SYSTEM, name="Hyesan", latitude=0, longitude=0, country="KR")
    assert other.id != gazetteer["Hyesan"]


def test_a_place_cannot_be_put_inside_itself(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.session() as session:
        with pytest.raises(Invalid, match="cannot be inside itself") as refused:
            places.edit_place(session, SYSTEM, gazetteer["Changbai"], parent_id=gazetteer["Changbai landing"])
        assert refused.value.field == "parent_id"
        changes = places.edit_place(session, SYSTEM, gazetteer["Changbai landing"], parent_id=None,
                                    precision="country")
    assert changes == {"parent_id": (gazetteer["Changbai"], None),
                       "precision": (LocationPrecision.km10, LocationPrecision.country)}


def test_only_editors_change_places(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.session() as session:
        for viewer in (ANONYMOUS, RESEARCHER):
            with pytest.raises(NotFound):
                places.create_place(session, viewer, name="Manpo", latitude=41.15, longitude=126.29)
            with pytest.raises(NotFound):
                places.edit_place(session, viewer, gazetteer["Hyesan"], name="Hyesan-si")
        assert places.edit_place(session, ARCHIVIST, gazetteer["Hyesan"], description="On the Yalu.") == {
            "description": ("", "On the Yalu.")}


def test_deleting_a_place_in_use_is_refused_naming_what_uses_it(archive: Archive, gazetteer: dict[str, int]) -> None:
    item_id = add_item(archive, "Changbai by night")
    with archive.session() as session:
        locations.link_item_place(session, SYSTEM, item_id, gazetteer["Changbai"])
        with pytest.raises(Invalid) as refused:
            places.delete_place(session, SYSTEM, gazetteer["Changbai"])
        message = str(refused.value)
        assert "1 item" in message and "1 place inside it (Changbai landing)" in message
        assert places.delete_place(session, SYSTEM, gazetteer["Safe house"]) == "Safe house"
        assert session.get(Place, gazetteer["Safe house"]) is None


# -- access -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("viewer", "visible"), [
    ("anonymous", {"Hyesan", "Changbai", "Changbai landing", "Chiang Saen", "Chiang Saen landing"}),
    ("researcher", {"Hyesan", "Changbai", "Changbai landing", "Chiang Saen", "Chiang Saen landing", "Safe house"}),
    ("archivist", {"Hyesan", "Changbai", "Changbai landing", "Chiang Saen", "Chiang Saen landing", "Safe house",
                   "First hideout"}),
    ("admin", {"Hyesan", "Changbai", "Changbai landing", "Chiang Saen", "Chiang Saen landing", "Safe house",
               "First hideout"}),
])
def test_places_are_filtered_for_each_kind_of_viewer(archive: Archive, gazetteer: dict[str, int], viewer: str,
                                                     visible: set[str]) -> None:
    who = VIEWERS[viewer]
    with archive.Session() as session:
        assert _names(places.list_places(session, who)) == visible
        assert set(session.scalars(select(Place.name).where(place_filter(who)))) == visible
        for name, place_id in gazetteer.items():
            assert can_see_place(who, session.get(Place, place_id)) is (name in visible)
            if name in visible:
                assert places.place_view(session, who, place_id).name == name
            else:
                with pytest.raises(NotFound):
                    places.place_view(session, who, place_id)


def test_item_counts_count_only_items_the_viewer_may_see(archive: Archive, gazetteer: dict[str, int]) -> None:
    public = add_item(archive, "Changbai street")
    restricted = add_item(archive, "Changbai hideout", access=AccessLevel.restricted)
    ranged = add_item(archive, "Night walk", kind=ItemKind.video, access=AccessLevel.confidential,
                      media={"duration": 10.0})
    with archive.session() as session:
        for item_id in (public, restricted):
            locations.link_item_place(session, SYSTEM, item_id, gazetteer["Changbai"])
        time_range = TimeRange(item_id=ranged, start_sec=1, end_sec=4, note="", tag=Tag(name="walk"))
        session.add(time_range)
        session.flush()
        locations.set_range_place(session, SYSTEM, ranged, time_range.id, gazetteer["Changbai"])
    with archive.Session() as session:
        counts = {name: places.place_view(session, viewer, gazetteer["Changbai"]).item_count
                  for name, viewer in VIEWERS.items()}
        assert counts == {"anonymous": 1, "researcher": 2, "archivist": 2, "admin": 3}
        assert [i.title for i in places.place_items(session, ANONYMOUS, gazetteer["Changbai"])] == ["Changbai street"]
        listed = {view.name: view.item_count for view in places.list_places(session, RESEARCHER)}
        assert listed["Changbai"] == 2 and listed["Hyesan"] == 0


def test_items_shot_at_several_places_are_counted_once_newest_first(archive: Archive,
                                                                    gazetteer: dict[str, int]) -> None:
    old = add_item(archive, "Old street", date_shot="2017")
    new = add_item(archive, "New street", date_shot="2021-05")
    undated = add_item(archive, "Undated street")
    add_item(archive, "Elsewhere", date_shot="2022")
    hidden = add_item(archive, "Hidden street", date_shot="2023", access=AccessLevel.restricted)
    with archive.session() as session:
        for item_id, place in ((old, "Changbai"), (new, "Changbai"), (new, "Changbai landing"),
                               (undated, "Changbai landing"), (hidden, "Changbai")):
            locations.link_item_place(session, SYSTEM, item_id, gazetteer[place])
    with archive.Session() as session:
        both = [gazetteer["Changbai"], gazetteer["Changbai landing"]]
        items, total = places.items_shot_at(session, ANONYMOUS, both)
        assert [i.title for i in items] == ["New street", "Old street", "Undated street"] and total == 3
        items, total = places.items_shot_at(session, ANONYMOUS, both, limit=2)
        assert [i.title for i in items] == ["New street", "Old street"] and total == 3
        assert places.items_shot_at(session, RESEARCHER, both)[1] == 4
        assert places.items_shot_at(session, ANONYMOUS, []) == ([], 0)


def test_list_places_filters(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.Session() as session:
        assert _names(places.list_places(session, ANONYMOUS, country="cn")) == {"Changbai", "Changbai landing"}
        assert _names(places.list_places(session, ANONYMOUS, kind="crossing_point")) == {
            "Changbai landing", "Chiang Saen landing"}
        assert _names(places.list_places(session, ANONYMOUS, text="惠山")) == {"Hyesan"}
        with pytest.raises(Invalid, match="unknown country code"):
            places.list_places(session, ANONYMOUS, country="ZZ")


# -- location masking ---------------------------------------------------------------------------

def test_sensitive_positions_are_coarsened_for_all_but_editors(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.Session() as session:
        def position(viewer: Viewer, name: str) -> geo.Position:
            return places.place_view(session, viewer, gazetteer[name]).position

        for editor in (ARCHIVIST, ADMIN):
            assert position(editor, "Changbai landing").latlon == (41.4123, 128.1934)
            assert not position(editor, "Changbai landing").coarsened
        for viewer in (ANONYMOUS, RESEARCHER):
            landing = position(viewer, "Changbai landing")
            assert landing.latlon == (41.45, 128.15) and landing.precision is LocationPrecision.km10
            # region: the (published) position of the parent place
            assert position(viewer, "Chiang Saen landing").latlon == (20.27, 100.09)
            assert position(viewer, "Hyesan").latlon == (41.40, 128.18)  # not sensitive
        safe_house = position(RESEARCHER, "Safe house")
        assert safe_house.latlon == geo.country_point("VN") and safe_house.precision is LocationPrecision.country


def test_published_position_hides_the_exact_point_from_every_non_editor() -> None:
    for viewer in (ANONYMOUS, RESEARCHER):
        for precision in ("km10", "region", "country"):
            shown = published_position(viewer, 41.4123, 128.1934, precision, country_code="CN")
            assert shown.latlon != (41.4123, 128.1934) and shown.coarsened
    assert published_position(ARCHIVIST, 41.4123, 128.1934, "country").latlon == (41.4123, 128.1934)


def test_places_geojson_is_longitude_first_and_masked(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.Session() as session:
        anonymous = places.places_geojson(places.list_places(session, ANONYMOUS))
        archivist = places.places_geojson(places.list_places(session, ARCHIVIST))
    assert anonymous["type"] == "FeatureCollection"
    points = {f["properties"]["name"]: f for f in anonymous["features"]}
    assert points["Hyesan"]["geometry"] == {"type": "Point", "coordinates": [128.18, 41.4]}
    assert points["Changbai landing"]["geometry"]["coordinates"] == [128.15, 41.45]
    assert points["Changbai landing"]["properties"]["coarsened"] is True
    assert "128.1934" not in json.dumps(anonymous) and "First hideout" not in json.dumps(anonymous)
    exact = {f["properties"]["name"]: f for f in archivist["features"]}
    assert exact["Changbai landing"]["geometry"]["coordinates"] == [128.1934, 41.4123]


def test_an_items_gps_is_masked_at_its_precision(archive: Archive, gazetteer: dict[str, int]) -> None:
    item_id = add_item(archive, "Hideout window", media={"latitude": 41.4301, "longitude": 128.2207})
    with archive.session() as session:
        assert locations.set_item_location_precision(session, ARCHIVIST, item_id, "region") == {
            "location_precision": (LocationPrecision.exact, LocationPrecision.region)}
        item = session.get(Item, item_id)
        assert locations.item_position(ANONYMOUS, item).latlon == (41.5, 128.5)  # no place: its 1° cell
        locations.link_item_place(session, SYSTEM, item_id, gazetteer["Changbai"])
        session.refresh(item)
        assert locations.item_position(ANONYMOUS, item).latlon == (41.42, 128.20)  # the place instead
        assert locations.item_position(ARCHIVIST, item).latlon == (41.4301, 128.2207)
        with pytest.raises(Invalid, match="location precision must be one of"):
            locations.set_item_location_precision(session, ARCHIVIST, item_id, "fuzzy")


# -- GPS suggestions ----------------------------------------------------------------------------

def test_gps_suggests_the_nearest_place_within_the_radius(archive: Archive, gazetteer: dict[str, int]) -> None:
    radius = archive.settings["place_suggest_radius_km"]
    assert radius == 25.0
    with archive.Session() as session:
        near = places.suggest_place(session, ARCHIVIST, 41.419, 128.201, radius)
        assert near.place.name == "Changbai" and near.distance_km < 0.5
        assert (near.country_code, near.country_name) == ("CN", "China")
        assert places.suggest_place(session, ARCHIVIST, 41.40, 128.60, radius) is None  # 35 km east
        assert places.suggest_place(session, ARCHIVIST, 41.40, 128.60, 50).place.name == "First hideout"
        # the distance would tell where the exact point is: suggestions are for editors' forms
        for viewer in (ANONYMOUS, RESEARCHER):
            with pytest.raises(NotFound):
                places.suggest_place(session, viewer, 41.419, 128.201, radius)


def test_an_items_gps_suggests_its_place(archive: Archive, gazetteer: dict[str, int]) -> None:
    with_gps = add_item(archive, "Riverbank", media={"latitude": 20.28, "longitude": 100.09})
    without = add_item(archive, "Studio card")
    with archive.Session() as session:
        assert locations.suggest_item_place(session, ARCHIVIST, with_gps, 25).place.name == "Chiang Saen"
        assert locations.suggest_item_place(session, ARCHIVIST, without, 25) is None


# -- linking footage ----------------------------------------------------------------------------

def test_items_are_linked_to_places(archive: Archive, gazetteer: dict[str, int]) -> None:
    item_id = add_item(archive, "Two towns")
    with archive.session() as session:
        changes = locations.set_item_places(session, ARCHIVIST, item_id, [gazetteer["Hyesan"], gazetteer["Changbai"]])
        assert changes == {"places": ([], ["Changbai", "Hyesan"])}
        assert locations.set_item_places(session, ARCHIVIST, item_id, [gazetteer["Changbai"], gazetteer["Hyesan"]]) == {}
        assert locations.unlink_item_place(session, ARCHIVIST, item_id, gazetteer["Hyesan"]) is True
        assert locations.link_item_place(session, ARCHIVIST, item_id, gazetteer["Changbai"]) is False
        with pytest.raises(Invalid, match="there is no place 999"):
            locations.link_item_place(session, ARCHIVIST, item_id, 999)
        with pytest.raises(NotFound):
            locations.link_item_place(session, RESEARCHER, item_id, gazetteer["Hyesan"])
        assert [p.name for p in locations.item_places_of(ANONYMOUS, session.get(Item, item_id))] == ["Changbai"]


# -- border crossings ---------------------------------------------------------------------------

def test_crossing_rules(archive: Archive, gazetteer: dict[str, int]) -> None:
    with archive.session() as session:
        with pytest.raises(Invalid, match="from one country into another"):
            crossings.create_crossing(session, SYSTEM, place_id=gazetteer["Changbai landing"], from_country="CN",
                                      to_country="CN", kind="river")
        with pytest.raises(Invalid, match="Chiang Saen landing is in TH, on neither side of KP→CN"):
            crossings.create_crossing(session, SYSTEM, place_id=gazetteer["Chiang Saen landing"], from_country="KP",
                                      to_country="CN", kind="river")
        with pytest.raises(Invalid, match="unknown country code 'QQ'"):
            crossings.create_crossing(session, SYSTEM, place_id=gazetteer["Changbai landing"], from_country="QQ",
                                      to_country="CN", kind="river")
        with pytest.raises(Invalid, match="kind must be one of river, land, sea, air"):
            crossings.create_crossing(session, SYSTEM, place_id=gazetteer["Changbai landing"], from_country="KP",
                                      to_country="CN", kind="tunnel")
        yalu = crossings.create_crossing(session, SYSTEM, place_id=gazetteer["Changbai landing"], from_country="kp",
                                         to_country="CN", kind="river", notes="At night.")
        assert yalu.label == "Changbai landing (KP→CN, river)"
        assert places.delete_place(session, SYSTEM, gazetteer["Safe house"])
        with pytest.raises(Invalid, match="1 border crossing"):
            places.delete_place(session, SYSTEM, gazetteer["Changbai landing"])
    with archive.Session() as session:
        listed = crossings.list_crossings(session, ANONYMOUS, country="CN")
        assert [(c.from_country, c.to_country) for c in listed] == [("KP", "CN")]
        assert listed[0].place.position.latlon == (41.45, 128.15)  # the crossing point is masked too
        assert crossings.list_crossings(session, ANONYMOUS, country="TH") == []
