"""The journey, place, country and map pages and their JSON/GeoJSON API (archive/web/geography.py)."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import AccessLevel, Collection, Leg
from archive.services import locations, places
from test_journeys import _journey, route, world  # noqa: F401  (fixtures)
from test_web import add_item

#: Changbai landing is published to about 10 km: its exact position must never reach the public.
EXACT_LANDING = ("41.4123", "128.1934")


def _legs(archive: Archive, journey_id: int) -> dict[int, int]:
    with archive.Session() as session:
        return {leg.position: leg.id for leg in session.scalars(select(Leg).where(Leg.journey_id == journey_id))}


@pytest.fixture
def footage(archive: Archive, world: dict[str, int], route: int) -> dict[str, int]:  # noqa: F811
    """A public still on leg 4 and at Hanoi, a restricted one at Hanoi, one in a collection at Vientiane."""
    ids = {"public": add_item(archive, "Jungle path at dawn"),
           "restricted": add_item(archive, "Hideout interior", access=AccessLevel.restricted),
           "collected": add_item(archive, "Vientiane street", collection="Field tapes")}
    legs = _legs(archive, route)
    with archive.session() as session:
        locations.link_item_leg(session, SYSTEM, ids["public"], legs[4])
        locations.link_item_leg(session, SYSTEM, ids["restricted"], legs[4])
        locations.link_item_place(session, SYSTEM, ids["public"], world["Hanoi"])
        locations.link_item_place(session, SYSTEM, ids["restricted"], world["Hanoi"])
        locations.link_item_place(session, SYSTEM, ids["collected"], world["Vientiane"])
        ids["collection"] = session.scalar(select(Collection.id).where(Collection.title == "Field tapes"))
    return ids


def _json(client: FlaskClient, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
    return json.loads(response.get_data(as_text=True))


# -- the journey page ---------------------------------------------------------------------------

def test_journey_page_lists_legs_in_order_with_crossings_and_footage(client: FlaskClient, route: int,  # noqa: F811
                                                                    footage: dict[str, int]) -> None:
    response = client.get(f"/journeys/{route}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.findall(r'data-leg="leg-(\d+)"', html) == ["1", "2", "3", "4", "5"]
    entries = re.split(r'<li class="timeline__leg', html)[1:]
    assert "Hyesan" in entries[0] and "Changbai" in entries[0] and "KP → CN" in entries[0]
    assert "river crossing" in entries[0] and "timeline__leg--crossing" in entries[0]
    assert "crossing-mark" not in entries[1]
    assert "CN → VN" in entries[3] and "Lao Cai border area" in entries[3]
    # leg 4's footage: the public still links its item page; the restricted one is not there
    assert f'href="/items/{footage["public"]}' in entries[3] and "Hideout interior" not in html
    chain = re.search(r'<ol class="country-chain".*?</ol>', html, re.S).group(0)
    assert re.findall(r'href="/countries/(\w\w)"', chain) == ["KP", "CN", "VN", "LA"]
    assert f'data-geojson-url="/api/journeys/{route}.geojson"' in html
    assert "leaflet.css" in html and "journey.js" in html
    assert EXACT_LANDING[0] not in html and EXACT_LANDING[1] not in html


def test_journeys_index_lists_visible_journeys(client: FlaskClient, login, archive: Archive,  # noqa: F811
                                               world: dict[str, int], route: int) -> None:  # noqa: F811
    hidden = _journey(archive, world, [("Hanoi", "Vientiane", {})], access="restricted", title="Quiet route")
    html = client.get("/journeys").get_data(as_text=True)
    assert f"/journeys/{route}" in html and "Quiet route" not in html and f"/journeys/{hidden}\"" not in html
    assert "Quiet route" not in client.get("/journeys?country=LA").get_data(as_text=True)
    login("researcher")
    assert "Quiet route" in client.get("/journeys").get_data(as_text=True)


# -- the API ------------------------------------------------------------------------------------

def test_journey_api_has_ordered_legs_and_countries(client: FlaskClient, route: int,  # noqa: F811
                                                    footage: dict[str, int]) -> None:
    data = _json(client, f"/api/journeys/{route}")
    assert [leg["position"] for leg in data["legs"]] == [1, 2, 3, 4, 5]
    assert [(leg["from"]["name"], leg["to"]["name"]) for leg in data["legs"]] == [
        ("Hyesan", "Changbai"), ("Changbai", "Shenyang"), ("Shenyang", "Kunming"), ("Kunming", "Hanoi"),
        ("Hanoi", "Vientiane")]
    assert data["countries_of_transit"] == ["KP", "CN", "VN", "LA"]
    assert data["legs"][0]["crossing"]["from_country"] == "KP" and data["legs"][1]["crossing"] is None
    assert [f["item_id"] for f in data["legs"][3]["footage"]] == [footage["public"]]
    assert data["distance_km"] > 2000


def test_journey_geojson_is_one_longitude_first_route_with_stops_and_crossings(client: FlaskClient,
                                                                               route: int) -> None:  # noqa: F811
    response = client.get(f"/api/journeys/{route}.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.get_data(as_text=True))
    assert data["type"] == "FeatureCollection"
    routes = [f for f in data["features"] if f["properties"]["role"] == "route"]
    assert len(routes) == 1 and routes[0]["geometry"]["type"] == "LineString"
    assert routes[0]["geometry"]["coordinates"][2] == [123.43, 41.8]  # Shenyang, [longitude, latitude]
    legs = [f for f in data["features"] if f["properties"]["kind"] == "leg"]
    assert [f["properties"]["id"] for f in legs] == [f"leg-{n}" for n in range(1, 6)]
    stops = [f for f in data["features"] if f["properties"]["kind"] == "stop"]
    assert [s["properties"]["number"] for s in stops] == [1, 2, 3, 4, 5, 6]
    assert [s["properties"]["badge"] for s in stops] == ["S", "1", "2", "3", "4", "5"]  # as the legs are numbered
    assert all(s["geometry"]["type"] == "Point" for s in stops)
    assert stops[4]["properties"]["url"] == f"/places/{stops[4]['properties']['place_id']}"
    crossings = [f for f in data["features"] if f["properties"]["kind"] == "crossing"]
    assert [(c["properties"]["id"], c["properties"]["crossing_kind"]) for c in crossings] == [
        ("leg-1", "river"), ("leg-4", "land")]


def test_exact_positions_reach_editors_only(client: FlaskClient, login, route: int,  # noqa: F811
                                            world: dict[str, int]) -> None:  # noqa: F811
    landing = world["Changbai landing"]
    urls = [f"/journeys/{route}", f"/api/journeys/{route}", f"/api/journeys/{route}.geojson",
            f"/places/{landing}", f"/api/places/{landing}", "/api/places.geojson", "/map", "/countries/CN"]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert EXACT_LANDING[0] not in body and EXACT_LANDING[1] not in body, url
    assert "shown to about 10 km" in client.get(f"/places/{landing}").get_data(as_text=True)
    assert _json(client, f"/api/places/{landing}")["coarsened"] is True
    login("archivist")
    assert _json(client, f"/api/places/{landing}")["latitude"] == 41.4123
    assert EXACT_LANDING[1] in client.get(f"/api/journeys/{route}.geojson").get_data(as_text=True)
    assert "41.41230" in client.get(f"/places/{landing}").get_data(as_text=True)


def test_hidden_journeys_and_places_are_not_found(client: FlaskClient, login, archive: Archive,
                                                  world: dict[str, int]) -> None:  # noqa: F811
    quiet = _journey(archive, world, [("Hanoi", "Vientiane", {})], access="restricted", title="Quiet route")
    with archive.session() as session:
        hideout = places.create_place(session, SYSTEM, name="First hideout", latitude=41.43, longitude=128.22,
                                      country="CN", access="confidential").id
    journey_urls = [f"/journeys/{quiet}", f"/api/journeys/{quiet}", f"/api/journeys/{quiet}.geojson"]
    place_urls = [f"/places/{hideout}", f"/api/places/{hideout}"]
    for url in journey_urls + place_urls:
        assert client.get(url).status_code == 404, url
    assert _json(client, f"/api/journeys/{quiet}", 404)["error"]
    assert "First hideout" not in client.get("/api/places.geojson").get_data(as_text=True)
    login("researcher")
    for url in journey_urls:
        assert client.get(url).status_code == 200, url
    for url in place_urls:
        assert client.get(url).status_code == 404, url
    assert client.get("/journeys/999999").status_code == 404


# -- the map ------------------------------------------------------------------------------------

def test_places_geojson_filters_and_counts_visible_items(client: FlaskClient, login, world: dict[str, int],  # noqa: F811
                                                         route: int, footage: dict[str, int]) -> None:  # noqa: F811
    def names(query: str) -> dict[str, int]:
        data = _json(client, f"/api/places.geojson{query}")
        return {f["properties"]["name"]: f["properties"]["count"] for f in data["features"]}

    everything = names("")
    assert everything["Hanoi"] == 1 and everything["Vientiane"] == 1 and everything["Bangkok"] == 0
    assert set(names("?country=vn")) == {"Hanoi", "Lao Cai border area"}
    assert set(names(f"?collection={footage['collection']}")) == {"Vientiane"}
    assert set(names(f"?journey={route}")) == {"Hyesan", "Changbai", "Changbai landing", "Shenyang", "Kunming",
                                               "Lao Cai border area", "Hanoi", "Vientiane"}
    assert names("?kind=river") == {}
    assert names(f"?place={world['Hanoi']}") == {"Hanoi": 1}  # one place, for the map of its page
    assert names(f"?place={world['Hanoi']}&country=LA") == {}
    feature = _json(client, "/api/places.geojson?country=LA")["features"][0]
    assert feature["properties"]["kind"] == "place" and feature["properties"]["url"] == f"/places/{world['Vientiane']}"
    assert feature["geometry"]["coordinates"] == [102.63, 17.97]
    for bad in ("?kind=castle", "?collection=abc", "?country=XX", "?journey=-1", "?collection=%C2%B2",
                "?journey=%D9%A3", "?place=%C2%B2", "?place=99999999999"):
        response = client.get(f"/api/places.geojson{bad}")
        assert response.status_code == 400 and response.get_json()["error"], bad
    login("researcher")
    assert names("")["Hanoi"] == 2


def test_map_page_offers_the_filters_and_points_the_map_at_them(client: FlaskClient, route: int,  # noqa: F811
                                                                footage: dict[str, int]) -> None:
    html = client.get(f"/map?journey={route}&kind=").get_data(as_text=True)
    assert f'data-geojson-url="/api/places.geojson?journey={route}"' in html
    assert f'<option value="{route}" selected>Route</option>' in html
    assert f'<option value="{footage["collection"]}">Field tapes</option>' in html
    assert '<option value="border_post">border post</option>' in html
    assert "8 places" in html
    assert client.get("/map?kind=castle").status_code == 400


# -- places and countries -----------------------------------------------------------------------

def test_place_page_shows_names_items_journeys_and_crossings(client: FlaskClient, archive: Archive, route: int,  # noqa: F811
                                                             world: dict[str, int], footage: dict[str, int]) -> None:  # noqa: F811
    with archive.session() as session:
        places.edit_place(session, SYSTEM, world["Hanoi"], alt_names=["Hà Nội", "河内"], kind="city")
    html = client.get(f"/places/{world['Hanoi']}").get_data(as_text=True)
    assert "Hà Nội" in html and "河内" in html and "city" in html
    assert 'href="/countries/VN"' in html
    assert "Jungle path at dawn" in html and "Hideout interior" not in html
    assert f'href="/journeys/{route}"' in html
    assert "21.03000, 105.85000" in html  # an exact place is shown exactly
    crossing = client.get(f"/places/{world['Lao Cai border area']}").get_data(as_text=True)
    assert "CN → VN" in crossing


def test_a_place_shows_the_legs_and_crossings_at_it_or_inside_it(client: FlaskClient, archive: Archive,
                                                                  route: int, world: dict[str, int]) -> None:  # noqa: F811
    river = f"/places/{world['Yalu River']}"
    assert "No journey passes through here" in client.get(river).get_data(as_text=True)
    with archive.session() as session:  # the landing is on the river: leg 1 crosses there
        places.edit_place(session, SYSTEM, world["Changbai landing"], parent_id=world["Yalu River"])
    html = client.get(river).get_data(as_text=True)
    assert "No journey passes through here" not in html
    assert f'href="/journeys/{route}"' in html
    assert f'<a href="/journeys/{route}#leg-1">Route, leg 1: Hyesan → Changbai</a>' in html
    assert "crosses at Changbai landing (KP→CN)" in html
    assert "leg 2:" not in html  # Changbai to Shenyang is not on the river
    crossings = html.split('id="crossings-heading"')[1]
    assert "Changbai landing" in crossings and "No border crossing is recorded here" not in crossings
    # A place with nothing at it or inside it still says so.
    assert "No journey passes through here" in client.get(f"/places/{world['Bangkok']}").get_data(as_text=True)


def test_other_names_in_thai_lao_korean_and_chinese_carry_their_language(client: FlaskClient, archive: Archive,
                                                                          world: dict[str, int]) -> None:  # noqa: F811
    with archive.session() as session:
        places.edit_place(session, SYSTEM, world["Bangkok"], alt_names=["กรุงเทพมหานคร", "Krung Thep"])
        places.edit_place(session, SYSTEM, world["Vientiane"], alt_names=["ວຽງຈັນ", "万象", "비엔티안"])
    bangkok = client.get(f"/places/{world['Bangkok']}").get_data(as_text=True)
    assert '<span class="place__alt-name" lang="th">กรุงเทพมหานคร</span>' in bangkok
    assert '<span class="place__alt-name">Krung Thep</span>' in bangkok
    vientiane = client.get(f"/places/{world['Vientiane']}").get_data(as_text=True)
    assert '<span class="place__alt-name" lang="lo">ວຽງຈັນ</span>' in vientiane
    assert '<span class="place__alt-name" lang="zh">万象</span>' in vientiane
    assert '<span class="place__alt-name" lang="ko">비엔티안</span>' in vientiane


def test_country_page_sections(client: FlaskClient, route: int, world: dict[str, int],  # noqa: F811
                               footage: dict[str, int]) -> None:
    html = client.get("/countries/vn").get_data(as_text=True)
    assert "<h1>Vietnam</h1>" in html
    footage_part = html.split('id="footage-heading"')[1].split('id="journeys-heading"')[0]
    assert "Jungle path at dawn" in footage_part and "Hideout interior" not in html
    assert "Vientiane street" not in footage_part  # shot in Laos
    journeys_part = html.split('id="journeys-heading"')[1].split('id="crossings-heading"')[0]
    assert f'href="/journeys/{route}"' in journeys_part
    into, out_of = html.split('id="crossings-heading"')[1].split("Crossings out of")
    assert "CN → VN" in into and "CN → VN" not in out_of
    china = client.get("/countries/CN").get_data(as_text=True)
    into, out_of = china.split('id="crossings-heading"')[1].split("Crossings out of")
    assert "KP → CN" in into and "CN → VN" in out_of
    assert 'data-geojson-url="/api/places.geojson?country=CN"' in china
    thailand = client.get("/countries/TH").get_data(as_text=True)
    assert "No journey transits" in thailand and "No footage shot in" in thailand


@pytest.mark.parametrize("code", ["zz", "XX", "chn", "1a"])
def test_unknown_country_is_not_found(client: FlaskClient, code: str) -> None:
    response = client.get(f"/countries/{code}")
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)


def test_edit_links_are_for_editors_only(app, client: FlaskClient, login, route: int,  # noqa: F811
                                         world: dict[str, int]) -> None:  # noqa: F811
    pages = {f"/places/{world['Hanoi']}": "Edit place", f"/journeys/{route}": "Edit journey and legs"}
    for url, label in pages.items():
        assert label not in client.get(url).get_data(as_text=True), url
    if "geo_edit.edit_place" not in app.view_functions:
        pytest.skip("the editing forms (archive/web/geo_editing.py) are not there to link to")
    login("archivist")
    assert f'href="/places/{world["Hanoi"]}/edit">Edit place' in client.get(f"/places/{world['Hanoi']}").get_data(
        as_text=True)
