"""Journeys and legs: order, the crossing rule, derived figures, access, GeoJSON and the gaps report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive.access import ANONYMOUS, SYSTEM, Viewer, can_see_journey, journey_filter
from archive.core import Archive
from archive.models import AccessLevel, Collection, Journey, Leg, LocationPrecision, Role, Tag, TimeRange, TravelMode
from archive.services import Invalid, NotFound
from archive.services import crossings, gaps, journeys, legs, locations, places
from test_web import add_item

RESEARCHER = Viewer(role=Role.researcher, user_id=1, name="ri")
ARCHIVIST = Viewer(role=Role.archivist, user_id=2, name="mina")
ADMIN = Viewer(role=Role.admin, user_id=3, name="root")

#: name: (country, lat, lon, precision)
PLACES = {
    "Hyesan": ("KP", 41.40, 128.18, "exact"),
    "Changbai": ("CN", 41.42, 128.20, "exact"),
    "Changbai landing": ("CN", 41.4123, 128.1934, "km10"),
    "Shenyang": ("CN", 41.80, 123.43, "exact"),
    "Kunming": ("CN", 25.04, 102.71, "exact"),
    "Hanoi": ("VN", 21.03, 105.85, "exact"),
    "Lao Cai border area": ("VN", 22.50, 103.96, "exact"),
    "Vientiane": ("LA", 17.97, 102.63, "exact"),
    "Bangkok": ("TH", 13.75, 100.50, "exact"),
    "Yalu River": (None, 41.15, 126.30, "exact"),
}


@pytest.fixture
def world(archive: Archive) -> dict[str, int]:
    """Places and two crossings (Yalu KP→CN, Lao Cai CN→VN): name → id."""
    ids: dict[str, int] = {}
    with archive.session() as session:
        for name, (country, lat, lon, precision) in PLACES.items():
            ids[name] = places.create_place(session, SYSTEM, name=name, latitude=lat, longitude=lon,
                                            country=country, precision=precision).id
        ids["yalu"] = crossings.create_crossing(session, SYSTEM, place_id=ids["Changbai landing"], from_country="KP",
                                                to_country="CN", kind="river").id
        ids["laocai"] = crossings.create_crossing(session, SYSTEM, place_id=ids["Lao Cai border area"],
                                                  from_country="CN", to_country="VN", kind="land").id
    return ids


def _journey(archive: Archive, world: dict[str, int], route: list[tuple[str, str, dict]], *,
             access: str = "public", collection_id: int | None = None, title: str = "Route") -> int:
    with archive.session() as session:
        journey = journeys.create_journey(session, SYSTEM, title=title, travellers="A family of five (fictional)",
                                          access=access, collection_id=collection_id)
        for origin, destination, extra in route:
            legs.add_leg(session, SYSTEM, journey.id, from_place_id=world[origin], to_place_id=world[destination],
                         **extra)
        return journey.id


@pytest.fixture
def route(archive: Archive, world: dict[str, int]) -> int:
    return _journey(archive, world, [
        ("Hyesan", "Changbai", dict(date="2019-03-28", mode="river_crossing", crossing_id=world["yalu"],
                                    precision="km10")),
        ("Changbai", "Shenyang", dict(date="2019-03-29/2019-03-30", mode="hidden_transport")),
        ("Shenyang", "Kunming", dict(date="2019-04-05/2019-04-07", mode="train")),
        ("Kunming", "Hanoi", dict(date="2019-04-10/2019-04-14", mode="on_foot", crossing_id=world["laocai"])),
        ("Hanoi", "Vientiane", dict(date="2019-04-17~", mode="bus")),
    ])


def _positions(archive: Archive, journey_id: int) -> list[tuple[int, str]]:
    with archive.Session() as session:
        return [(leg.position, leg.to_place.name) for leg in session.scalars(
            select(Leg).where(Leg.journey_id == journey_id).order_by(Leg.position))]


# -- order --------------------------------------------------------------------------------------

def test_legs_keep_their_order_and_positions_stay_dense(archive: Archive, world: dict[str, int], route: int) -> None:
    assert _positions(archive, route) == [(1, "Changbai"), (2, "Shenyang"), (3, "Kunming"), (4, "Hanoi"),
                                          (5, "Vientiane")]
    with archive.session() as session:
        legs.add_leg(session, SYSTEM, route, from_place_id=world["Shenyang"], to_place_id=world["Bangkok"],
                     position=2)
    assert [p for p, _ in _positions(archive, route)] == [1, 2, 3, 4, 5, 6]
    assert _positions(archive, route)[1] == (2, "Bangkok")
    with archive.session() as session:
        bangkok = session.scalar(select(Leg).where(Leg.journey_id == route, Leg.position == 2))
        legs.move_leg(session, SYSTEM, bangkok.id, +10)  # the end stops it
    assert _positions(archive, route)[-1] == (6, "Bangkok")
    with archive.session() as session:
        legs.move_leg(session, SYSTEM, bangkok.id, -1)
    assert _positions(archive, route)[4:] == [(5, "Bangkok"), (6, "Vientiane")]
    with archive.session() as session:
        assert legs.delete_leg(session, SYSTEM, bangkok.id) == route
    assert _positions(archive, route) == [(1, "Changbai"), (2, "Shenyang"), (3, "Kunming"), (4, "Hanoi"),
                                          (5, "Vientiane")]


def test_set_leg_order_takes_a_permutation(archive: Archive, route: int) -> None:
    with archive.session() as session:
        ids = [leg.id for leg in session.scalars(select(Leg).where(Leg.journey_id == route).order_by(Leg.position))]
        legs.set_leg_order(session, SYSTEM, route, list(reversed(ids)))
        with pytest.raises(Invalid, match="each of the journey's 5 legs once") as refused:
            legs.set_leg_order(session, SYSTEM, route, ids[:3])
        assert refused.value.field == "order"
    assert [name for _, name in _positions(archive, route)] == ["Vientiane", "Hanoi", "Kunming", "Shenyang",
                                                                 "Changbai"]


def test_a_position_out_of_range_is_refused(archive: Archive, world: dict[str, int], route: int) -> None:
    with archive.session() as session, pytest.raises(Invalid, match="from 1 to 6"):
        legs.add_leg(session, SYSTEM, route, from_place_id=world["Hanoi"], to_place_id=world["Bangkok"], position=9)


# -- the crossing rule --------------------------------------------------------------------------

def test_a_leg_whose_crossing_does_not_match_its_places_is_refused(archive: Archive, world: dict[str, int],
                                                                   route: int) -> None:
    with archive.session() as session:
        with pytest.raises(Invalid) as refused:
            legs.add_leg(session, SYSTEM, route, from_place_id=world["Vientiane"], to_place_id=world["Bangkok"],
                         crossing_id=world["yalu"])
        assert refused.value.field == "crossing_id"
        message = str(refused.value)
        assert "from KP into CN" in message and "Vientiane (LA)" in message and "Bangkok (TH)" in message
        first = session.scalar(select(Leg).where(Leg.journey_id == route, Leg.position == 1))
        with pytest.raises(Invalid, match="Lao Cai border area goes from CN into VN, but this leg goes from Hyesan"):
            legs.edit_leg(session, SYSTEM, first.id, crossing_id=world["laocai"])
        with pytest.raises(Invalid, match="from Hanoi to itself"):
            legs.add_leg(session, SYSTEM, route, from_place_id=world["Hanoi"], to_place_id=world["Hanoi"])
        with pytest.raises(Invalid, match="not a date in Extended Date/Time Format") as bad_date:
            legs.add_leg(session, SYSTEM, route, from_place_id=world["Vientiane"], to_place_id=world["Bangkok"],
                         date="spring 2019")
        assert bad_date.value.field == "date"


def test_a_crossing_or_a_place_in_use_cannot_be_changed_to_break_a_leg(archive: Archive, world: dict[str, int],
                                                                        route: int) -> None:
    with archive.session() as session:
        with pytest.raises(Invalid, match="leg 1 of 'Route' uses this crossing"):
            crossings.edit_crossing(session, SYSTEM, world["yalu"], from_country="RU")
        with pytest.raises(Invalid, match="must stay in KP"):
            places.edit_place(session, SYSTEM, world["Hyesan"], country="CN")
        with pytest.raises(Invalid, match="used by 1 leg"):
            crossings.delete_crossing(session, SYSTEM, world["yalu"])
        assert places.edit_place(session, SYSTEM, world["Shenyang"], country="KP")  # no crossing relies on it


# -- derived figures ----------------------------------------------------------------------------

def test_countries_of_transit_in_order_without_repeats(archive: Archive, world: dict[str, int], route: int) -> None:
    with archive.session() as session:
        legs.add_leg(session, SYSTEM, route, from_place_id=world["Vientiane"], to_place_id=world["Yalu River"])
        legs.add_leg(session, SYSTEM, route, from_place_id=world["Yalu River"], to_place_id=world["Hanoi"])
    with archive.Session() as session:
        view = journeys.journey_view(session, ANONYMOUS, route)
    assert view.countries_of_transit == ["KP", "CN", "VN", "LA", "VN"]  # a place with no country is skipped


def test_distance_and_duration(archive: Archive, world: dict[str, int], route: int) -> None:
    with archive.Session() as session:
        exact = journeys.journey_view(session, ARCHIVIST, route)
        public = journeys.journey_view(session, ANONYMOUS, route)
    assert exact.legs[0].distance_km == pytest.approx(2.78, abs=0.01)  # Hyesan → Changbai, across the Yalu
    assert exact.distance_km == pytest.approx(sum(leg.distance_km for leg in exact.legs))
    assert 4000 < exact.distance_km < 4600
    # measured between the published stops: the exact position cannot be worked out from it
    assert public.legs[0].distance_km == pytest.approx(8.34, abs=0.05)
    assert public.duration == timedelta(days=21)  # 28 March to 17 April, both days counted
    assert (public.start.isoformat(), public.end.isoformat()) == ("2019-03-28", "2019-04-17")


def test_duration_is_unknown_without_dates(archive: Archive, world: dict[str, int]) -> None:
    journey_id = _journey(archive, world, [("Hyesan", "Changbai", dict(crossing_id=world["yalu"]))])
    with archive.Session() as session:
        view = journeys.journey_view(session, ANONYMOUS, journey_id)
    assert view.duration is None and view.as_json()["duration_days"] is None


def test_journey_json_has_ordered_legs_and_countries(archive: Archive, route: int) -> None:
    with archive.Session() as session:
        data = journeys.journey_view(session, ANONYMOUS, route).as_json()
    assert data["countries_of_transit"] == ["KP", "CN", "VN", "LA"]
    assert [leg["position"] for leg in data["legs"]] == [1, 2, 3, 4, 5]
    assert data["legs"][0]["crossing"]["from_country"] == "KP" and data["legs"][0]["mode"] == "river_crossing"
    assert data["legs"][3]["to"]["name"] == "Hanoi" and data["travellers"] == "A family of five (fictional)"
    json.dumps(data)  # serialisable as it is


# -- access -------------------------------------------------------------------------------------

def test_journeys_are_filtered_for_each_kind_of_viewer(archive: Archive, world: dict[str, int]) -> None:
    with archive.session() as session:
        granted = Collection(title="Network tapes", synopsis="", description="", rights="")
        session.add(granted)
        session.flush()
        granted_id = granted.id
    hop = [("Hyesan", "Changbai", dict(crossing_id=world["yalu"]))]
    ids = {"public": _journey(archive, world, hop, title="Public"),
           "restricted": _journey(archive, world, hop, access="restricted", title="Restricted"),
           "confidential": _journey(archive, world, hop, access="confidential", collection_id=granted_id,
                                    title="Confidential")}
    grantee = Viewer(role=Role.researcher, granted_collections=frozenset({granted_id}), user_id=4)
    expected = {ANONYMOUS: {"public"}, RESEARCHER: {"public", "restricted"}, ARCHIVIST: {"public", "restricted"},
                grantee: {"public", "restricted", "confidential"}, ADMIN: {"public", "restricted", "confidential"}}
    with archive.Session() as session:
        for viewer, visible in expected.items():
            assert {j.title.lower() for j in journeys.list_journeys(session, viewer)} == visible, viewer
            assert set(session.scalars(select(Journey.title).where(journey_filter(viewer)))) == {
                v.capitalize() for v in visible}
            for level, journey_id in ids.items():
                assert can_see_journey(viewer, session.get(Journey, journey_id)) is (level in visible)
                if level not in visible:
                    with pytest.raises(NotFound):
                        journeys.journey_view(session, viewer, journey_id)
        with pytest.raises(NotFound):
            journeys.get_editable_journey(session, ARCHIVIST, ids["confidential"])
        with pytest.raises(NotFound):
            journeys.get_editable_journey(session, RESEARCHER, ids["public"])


def test_a_hidden_place_is_an_undisclosed_stop(archive: Archive, world: dict[str, int]) -> None:
    with archive.session() as session:
        hideout = places.create_place(session, SYSTEM, name="Hideout", latitude=41.7712, longitude=123.4417,
                                      country="CN", access="confidential").id
    journey_id = _journey(archive, world, [("Changbai", "Shenyang", {})])
    with archive.session() as session:
        legs.add_leg(session, SYSTEM, journey_id, from_place_id=world["Shenyang"], to_place_id=hideout)
    with archive.Session() as session:
        public = journeys.journey_view(session, RESEARCHER, journey_id)
        editor = journeys.journey_view(session, ARCHIVIST, journey_id)
    stop = public.legs[1].destination
    assert (stop.name, stop.place, stop.country_code) == (journeys.UNDISCLOSED, None, "CN")
    assert stop.position.latlon != (41.7712, 123.4417) and stop.position.coarsened
    assert "Hideout" not in json.dumps(journeys.journey_geojson(public))
    assert editor.legs[1].destination.name == "Hideout"


def test_footage_of_a_leg_lists_only_items_the_viewer_may_see(archive: Archive, world: dict[str, int],
                                                              route: int) -> None:
    public = add_item(archive, "Yalu at night")
    restricted = add_item(archive, "Changbai hideout", access=AccessLevel.restricted)
    video = add_item(archive, "Walk to the river", kind="video", media={"duration": 30.0})
    with archive.session() as session:
        first = session.scalar(select(Leg).where(Leg.journey_id == route, Leg.position == 1)).id
        for item_id in (public, restricted):
            locations.link_item_leg(session, ARCHIVIST, item_id, first)
        time_range = TimeRange(item_id=video, start_sec=5, end_sec=12, note="", tag=Tag(name="river"))
        session.add(time_range)
        session.flush()
        assert locations.set_range_leg(session, ARCHIVIST, video, time_range.id, first) == {"leg_id": (None, first)}
    with archive.Session() as session:
        anonymous = journeys.journey_view(session, ANONYMOUS, route).legs[0].footage
        researcher = journeys.journey_view(session, RESEARCHER, route).legs[0].footage
    assert [f.item.title for f in anonymous] == ["Yalu at night", "Walk to the river"]
    assert (anonymous[1].start_sec, anonymous[1].end_sec) == (5.0, 12.0)
    assert {f.item.title for f in researcher} == {"Yalu at night", "Changbai hideout", "Walk to the river"}


def test_list_journeys_filters_by_country_and_place(archive: Archive, world: dict[str, int], route: int) -> None:
    other = _journey(archive, world, [("Vientiane", "Bangkok", {})], title="Laos to Thailand")
    with archive.Session() as session:
        assert [j.id for j in journeys.list_journeys(session, ANONYMOUS, country="LA")] == [other, route]
        assert [j.id for j in journeys.list_journeys(session, ANONYMOUS, country="KP")] == [route]
        assert [j.id for j in journeys.list_journeys(session, ANONYMOUS, place_id=world["Changbai landing"])] == [route]


# -- GeoJSON ------------------------------------------------------------------------------------

def test_journey_geojson_route_stops_and_crossings(archive: Archive, route: int) -> None:
    with archive.Session() as session:
        anonymous = journeys.journey_geojson(journeys.journey_view(session, ANONYMOUS, route))
        archivist = journeys.journey_geojson(journeys.journey_view(session, ARCHIVIST, route))
    assert anonymous["type"] == "FeatureCollection"
    by_role: dict[str, list[dict]] = {}
    for feature in anonymous["features"]:
        by_role.setdefault(feature["properties"]["role"], []).append(feature)
    (line,) = by_role["route"]
    assert line["geometry"]["type"] == "LineString"
    coordinates = line["geometry"]["coordinates"]
    assert len(coordinates) == 6 and coordinates[2] == [123.43, 41.8]  # [longitude, latitude]: Shenyang
    stops = by_role["stop"]
    assert [(s["properties"]["name"], s["properties"]["leg"]) for s in stops] == [
        ("Hyesan", None), ("Changbai", 1), ("Shenyang", 2), ("Kunming", 3), ("Hanoi", 4), ("Vientiane", 5)]
    assert stops[4]["properties"]["country"] == "VN" and stops[4]["geometry"]["type"] == "Point"
    crossing_points = by_role["crossing"]
    assert [(c["properties"]["leg"], c["properties"]["from_country"], c["properties"]["to_country"])
            for c in crossing_points] == [(1, "KP", "CN"), (4, "CN", "VN")]
    # leg 1 is published to about 10 km: its stops and crossing point are masked for the public
    assert stops[0]["geometry"]["coordinates"] == [128.15, 41.45] and stops[0]["properties"]["coarsened"]
    assert crossing_points[0]["geometry"]["coordinates"] == [128.15, 41.45]
    assert "128.1934" not in json.dumps(anonymous) and "128.18," not in json.dumps(anonymous)
    exact = [f for f in archivist["features"] if f["properties"]["role"] == "crossing"][0]
    assert exact["geometry"]["coordinates"] == [128.1934, 41.4123]
    assert archivist["features"][0]["geometry"]["coordinates"][0] == [128.18, 41.4]


# -- editing journeys ---------------------------------------------------------------------------

def test_journeys_are_edited_and_deleted_by_editors(archive: Archive, world: dict[str, int], route: int) -> None:
    with archive.session() as session:
        with pytest.raises(NotFound):
            journeys.create_journey(session, RESEARCHER, title="Mine")
        with pytest.raises(Invalid, match="title may not be empty"):
            journeys.create_journey(session, ARCHIVIST, title=" ")
        changes = journeys.edit_journey(session, ARCHIVIST, route, title="Hyesan to Vientiane",
                                        people=["Noi (fictional)"])
        assert changes == {"title": ("Route", "Hyesan to Vientiane"), "people": ([], ["Noi (fictional)"])}
        leg = session.scalar(select(Leg).where(Leg.journey_id == route, Leg.position == 2))
        assert legs.edit_leg(session, ARCHIVIST, leg.id, mode="car", date="2019-03-29") == {
            "mode": (TravelMode.hidden_transport, TravelMode.car), "date": ("2019-03-29/2019-03-30", "2019-03-29")}
        assert journeys.delete_journey(session, ADMIN, route) == "Hyesan to Vientiane"
        assert session.scalar(select(Leg).where(Leg.journey_id == route)) is None
        assert places.delete_place(session, SYSTEM, world["Kunming"]) == "Kunming"  # no leg uses it now


# -- the gaps report ----------------------------------------------------------------------------

def test_gaps_report(archive: Archive, world: dict[str, int]) -> None:
    journey_id = _journey(archive, world, [
        ("Hyesan", "Changbai", dict(date="2019-03-28", crossing_id=world["yalu"])),
        ("Changbai", "Shenyang", dict(date="2019-04-02")),
        ("Shenyang", "Kunming", dict(date="2019-03-30")),           # before the leg that comes earlier
        ("Hanoi", "Vientiane", dict(date="2019-04~")),              # a break, and a border without a crossing
    ])
    filmed = add_item(archive, "At the river")
    add_item(archive, "GPS but nowhere", media={"latitude": 25.0, "longitude": 102.7})
    add_item(archive, "Hidden GPS", access=AccessLevel.confidential, media={"latitude": 1.0, "longitude": 2.0})
    with archive.session() as session:
        first = session.scalar(select(Leg).where(Leg.journey_id == journey_id, Leg.position == 1)).id
        locations.link_item_leg(session, SYSTEM, filmed, first)
        locations.link_item_place(session, SYSTEM, filmed, world["Bangkok"])
        report = gaps.gaps_report(session, ARCHIVIST)
        with pytest.raises(NotFound):
            gaps.gaps_report(session, RESEARCHER)
    assert [issue.position for issue in report.legs_without_footage] == [2, 3, 4]
    assert [issue.position for issue in report.date_conflicts] == [3]
    assert "leg 3" in report.date_conflicts[0].message and "leg 2" in report.date_conflicts[0].message
    assert [issue.position for issue in report.uncrossed_borders] == [4]
    assert "from VN into LA without a border crossing" in report.uncrossed_borders[0].message
    assert [issue.message for issue in report.route_breaks] == ["leg 3 ends at Kunming but leg 4 starts at Hanoi"]
    assert [item.title for item in report.items_without_place] == ["GPS but nowhere"]  # the hidden one is not shown
    assert [place.name for place in report.unused_places] == ["Yalu River"]  # the rest are stops, crossings, linked
    assert not report.empty


def test_leg_precision_coarsens_its_stops(archive: Archive, world: dict[str, int], route: int) -> None:
    with archive.session() as session:
        second = session.scalar(select(Leg).where(Leg.journey_id == route, Leg.position == 2))
        legs.edit_leg(session, SYSTEM, second.id, precision="region")
    with archive.Session() as session:
        view = journeys.journey_view(session, ANONYMOUS, route)
    # Changbai ends leg 1 and starts leg 2: shown at the coarser of the two, the same on both
    assert view.legs[0].destination.position == view.legs[1].origin.position
    assert view.legs[1].origin.position.precision is LocationPrecision.region
    assert view.legs[1].destination.position.latlon == (41.5, 123.5)  # Shenyang's 1° cell
    assert view.legs[2].destination.position.latlon == (25.04, 102.71)  # Kunming untouched
