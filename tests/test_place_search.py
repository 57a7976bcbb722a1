"""Place fields once the gazetteer is too long to list: a text field, suggestions as one types, and
the services finding a place by its label ("Dandong (CN)") as well as by its id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page

from archive.core import Archive
from archive.models import Leg, TimeRange
from archive.services import Invalid, accounts, places
from archive.services.place_fields import place_by_reference
from archive.web import geo_editing
from browser import ARTIFACTS, logged_in_page, wait_until
from conftest import PASSWORD
from test_edit_web import field_html, post
from test_geo_editing import ARCHIVIST, LEG_FORM, clip_with_a_range, world  # noqa: F401,F811  (world: a fixture)
from test_web import add_item, text


@pytest.fixture
def long_gazetteer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The world's three places count as a long gazetteer."""
    monkeypatch.setattr(geo_editing, "PLACE_LIST_MAX", 2)


def test_place_by_reference_takes_an_id_or_a_label(archive: Archive, world) -> None:
    with archive.session() as session:
        other = places.create_place(session, ARCHIVIST, name="Riverside", latitude=40.0, longitude=124.0,
                                    country="KP")
        places.create_place(session, ARCHIVIST, name="Riverside", latitude=41.0, longitude=125.0, country="CN")
        find = lambda value: place_by_reference(session, value, "f")  # noqa: E731
        assert find(None) is None and find("") is None and find("  ") is None
        assert find(world["sinuiju"]).id == find(str(world["sinuiju"])).id == world["sinuiju"]
        assert find("Sinuiju (KP)").id == find("sinuiju").id == find(" Sinuiju  ").id == world["sinuiju"]
        assert find("Riverside (kp)").id == other.id
        refusals = {"Pyongyang": "there is no place called 'Pyongyang'",
                    "Sinuiju (CN)": "there is no place called 'Sinuiju (CN)'",
                    "Riverside": "more than one place is called 'Riverside' (Riverside (CN), Riverside (KP))",
                    "99999": "there is no place 99999"}
        for value, message in refusals.items():
            with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
                find(value)
            assert refused.value.field == "f"


def test_short_gazetteers_keep_their_drop_down_lists(client: FlaskClient, world, login) -> None:
    login("archivist")
    page = text(client.get(f"/legs/{world['leg1']}/edit"))
    assert '<select id="leg-from_place_id" name="from_place_id"' in page
    assert "data-place-search" not in page and "place_search.js" not in page


def test_long_gazetteers_get_searched_text_fields_that_take_labels(client: FlaskClient, archive: Archive, world,
                                                                   login, long_gazetteer) -> None:
    login("archivist")
    page = text(client.get(f"/legs/{world['leg1']}/edit"))
    origin = field_html(page, "from_place_id")
    assert "<select" not in origin and 'value="Sinuiju (KP)"' in origin
    assert 'data-place-search="/geography/edit/places.json"' in origin and 'list="leg-from_place_id-suggestions"' in origin
    assert page.count("<option") < 20  # the crossing and mode lists, not the gazetteer
    assert page.count("place_search.js") == 1  # one script for both place fields
    for path, name in ((f"/crossings/{world['crossing']}/edit", "place_id"), ("/places/new", "parent_id"),
                       (f"/journeys/{world['journey']}/edit", "to_place_id")):
        assert "data-place-search" in field_html(text(client.get(path)), name), path

    response = post(client, f"/journeys/{world['journey']}/legs",
                    {**LEG_FORM, "from_place_id": "Shenyang (CN)", "to_place_id": "dandong"})
    assert response.status_code == 303
    with archive.Session() as session:
        leg = session.query(Leg).order_by(Leg.id.desc()).first()
        assert (leg.from_place_id, leg.to_place_id) == (world["shenyang"], world["dandong"])

    response = post(client, f"/journeys/{world['journey']}/legs",
                    {**LEG_FORM, "from_place_id": "Shenyang (CN)", "to_place_id": "Tumen"})
    assert response.status_code == 400
    field = field_html(text(response), "to_place_id")
    assert "There is no place called &#39;Tumen&#39;" in field and 'value="Tumen"' in field  # kept as typed
    for typed in ("99999999999999999999", "²"):  # shown again as typed, never looked up as an id
        response = post(client, f"/journeys/{world['journey']}/legs", {**LEG_FORM, "from_place_id": typed,
                                                                        "to_place_id": "Dandong (CN)"})
        assert response.status_code == 400 and f'value="{typed}"' in field_html(text(response), "from_place_id")

    item_id = add_item(archive, "On the bridge")
    response = post(client, f"/items/{item_id}/geography", {"place_ids": [], "add_place": "Sinuiju (KP)",
                                                             "precision": "exact"})
    assert response.status_code == 303
    edit = text(client.get(f"/items/{item_id}/edit"))
    assert 'name="place_ids" value="%d" checked' % world["sinuiju"] in edit


def test_suggestions_are_places_whose_name_holds_the_text(client: FlaskClient, archive: Archive, world,
                                                          login) -> None:
    with archive.session() as session:
        twin = places.create_place(session, ARCHIVIST, name="Dandong", latitude=40.0, longitude=124.0, country="KP")
        places.create_place(session, ARCHIVIST, name="Dandong Port", latitude=40.0, longitude=124.1, country="CN")
        places.create_place(session, ARCHIVIST, name="New Dandong", latitude=40.0, longitude=124.1, country="CN")
    login("archivist")
    found = client.get("/geography/edit/places.json?q=DANDONG").get_json()["places"]
    # The name itself first, then names starting with it, then the rest.
    assert [(p["id"], p["label"]) for p in found] == [(world["dandong"], "Dandong (CN)"), (twin.id, "Dandong (KP)"),
                                                      (found[2]["id"], "Dandong Port (CN)"),
                                                      (found[3]["id"], "New Dandong (CN)")]
    assert client.get("/geography/edit/places.json?q=%25").get_json() == {"places": []}  # no LIKE wildcard
    assert client.get("/geography/edit/places.json?q=").get_json() == {"places": []}
    assert len(client.get("/geography/edit/places.json?q=n").get_json()["places"]) == 6


def test_time_range_place_takes_a_label(client: FlaskClient, archive: Archive, world, login,
                                        long_gazetteer) -> None:
    login("archivist")
    item_id, range_id = clip_with_a_range(archive)
    response = post(client, f"/items/{item_id}/ranges/{range_id}/where", {"place_id": "Dandong (CN)", "leg_id": ""})
    assert response.status_code == 303
    with archive.Session() as session:
        assert session.get(TimeRange, range_id).place_id == world["dandong"]
    page = text(client.get(f"/items/{item_id}/edit"))
    assert 'value="Dandong (CN)"' in field_html(page, "place_id")


# -- in a browser -----------------------------------------------------------------------------------

@pytest.fixture
def site(app: Flask, archive: Archive, world, long_gazetteer) -> Iterator[tuple[str, Page, list[str]]]:
    with archive.session() as session:
        accounts.create_user(session, "mina", PASSWORD, "archivist")
    with logged_in_page(app, "mina", PASSWORD) as site:
        yield site


@pytest.mark.browser
def test_typing_offers_places_and_the_chosen_label_is_saved(site: tuple[str, Page, list[str]], archive: Archive,
                                                            world) -> None:
    base, page, errors = site
    page.goto(f"{base}/legs/{world['leg2']}/edit")
    field = page.locator("#leg-to_place_id")
    assert field.input_value() == "Shenyang (CN)"
    field.fill("")
    field.press_sequentially("dan", delay=30)
    wait_until(page, "document.querySelectorAll('#leg-to_place_id-suggestions option').length === 1", timeout=5_000)
    assert page.evaluate("document.querySelector('#leg-to_place_id-suggestions option').value") == "Dandong (CN)"
    page.screenshot(path=ARTIFACTS / "place-search.png")
    field.fill("Dandong (CN)")
    page.locator("#leg-from_place_id").fill("Sinuiju (KP)")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert "Saved leg 2: from place, to place changed." in page.content()  # in words, not form names
    with archive.Session() as session:
        leg = session.get(Leg, world["leg2"])
        assert (leg.from_place_id, leg.to_place_id) == (world["sinuiju"], world["dandong"])
    assert errors == []
