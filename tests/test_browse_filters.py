"""Browse's facet filters (archive.services.item_filters): each filter, combinations, counts per role,
bad values, and the same filters on /api/items and /api/v1/items."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from archive.core import Archive
from archive.models import AccessLevel, ItemKind
from test_search_places import journey, link_leg, link_place, place
from test_search_web import _transcribe
from test_web import add_item, card_titles, text

EN_VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nWe waited by the river until dark.\n"
KO_VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n우리는 어두워질 때까지 강가에서 기다렸다.\n"


@pytest.fixture
def shelf(archive: Archive) -> dict[str, int]:
    """Five items on a route from Hyesan (KP) to Changbai (CN), one restricted, one confidential,
    one linked to a confidential safe house on a confidential journey."""
    ids = {
        "hyesan": place(archive, "Hyesan", "KP"), "changbai": place(archive, "Changbai", "CN"),
        "safe": place(archive, "Safe house Shenyang", "CN", access="confidential"),
        "crossing": add_item(archive, "Night crossing", kind=ItemKind.video, date_shot="2019-04-12",
                             language="ko"),
        "bank": add_item(archive, "The far bank", date_shot="2019~", collection="Yalu tapes"),
        "market": add_item(archive, "Market day", access=AccessLevel.restricted, date_shot="2021-06"),
        "kept": add_item(archive, "Kept tape", kind=ItemKind.video, access=AccessLevel.confidential,
                         collection="Yalu tapes", date_shot="2019-05"),
        "undated": add_item(archive, "Undated still"),
    }
    ids["journey"], ids["leg"] = journey(archive, "The Yalu route", (ids["hyesan"], ids["changbai"]))
    ids["secret_journey"], ids["secret_leg"] = journey(archive, "Hidden route", (ids["changbai"], ids["safe"]),
                                                       access="confidential")
    link_place(archive, ids["crossing"], ids["hyesan"])
    link_place(archive, ids["bank"], ids["changbai"])
    link_place(archive, ids["market"], ids["changbai"])
    link_place(archive, ids["kept"], ids["hyesan"])
    link_place(archive, ids["undated"], ids["safe"])  # a public item at a place anonymous may not know
    link_leg(archive, ids["crossing"], ids["leg"])
    link_leg(archive, ids["bank"], ids["leg"])
    link_leg(archive, ids["undated"], ids["secret_leg"])
    _transcribe(archive, ids["crossing"], EN_VTT, "crossing.en.vtt")
    _transcribe(archive, ids["bank"], KO_VTT, "bank.ko-KR.vtt")
    return ids


def titles(html: str) -> list[str]:
    return sorted(card_titles(html))


def api_titles(client: FlaskClient, query: str, path: str = "/api/v1/items") -> list[str]:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(i["title"] for i in response.get_json()["items"])


def facet_counts(html: str, name: str) -> dict[str, int]:
    """The facet `name` of a browse page: label -> count."""
    found = re.findall(rf'data-facet="{name}" data-value="[^"]*">(?:<span class="visually-hidden">[^<]*</span>)?'
                       r'<span class="facet__value">([^<]+)</span> <span class="facet__count">(\d+)</span>', html)
    return {label: int(n) for label, n in found}


# -- each filter ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("kind=video", ["Night crossing"]),
    ("kind=video&kind=still", ["Night crossing", "The far bank", "Undated still"]),
    ("country=KP", ["Night crossing"]),
    ("country=North+Korea", ["Night crossing"]),
    ("country=China", ["The far bank"]),
    ("place=Changbai", ["The far bank"]),
    ("journey=The+Yalu+route", ["Night crossing", "The far bank"]),
    ("language=ko", ["Night crossing", "The far bank"]),  # its own language; a ko-KR transcript
    ("language=English", ["Night crossing"]),
    ("has_transcript=yes", ["Night crossing", "The far bank"]),
    ("has_transcript=no", ["Undated still"]),
    ("from=2019-04&to=2019-04", ["Night crossing", "The far bank"]),  # "2019~" spans April
    ("from=2020", []),
    ("to=2018", []),
    ("country=KP&has_transcript=yes&kind=video", ["Night crossing"]),
    ("journey=The+Yalu+route&language=en", ["Night crossing"]),
])
def test_each_filter_and_combinations_for_anonymous(client: FlaskClient, shelf: dict[str, int], query: str,
                                                    expected: list[str]) -> None:
    html = text(client.get(f"/items?{query}"))
    assert titles(html) == expected
    assert api_titles(client, query) == expected
    assert api_titles(client, query, "/api/items") == expected


def test_leg_filter_and_its_label(client: FlaskClient, shelf: dict[str, int]) -> None:
    html = text(client.get(f"/items?leg={shelf['leg']}"))
    assert titles(html) == ["Night crossing", "The far bank"]
    assert facet_counts(html, "leg") == {"The Yalu route, leg 1": 2}
    assert api_titles(client, f"leg={shelf['leg']}") == ["Night crossing", "The far bank"]


def test_hidden_places_and_journeys_neither_filter_nor_count_for_anonymous(client: FlaskClient,
                                                                          shelf: dict[str, int]) -> None:
    html = text(client.get("/items"))
    assert facet_counts(html, "place") == {"Changbai": 1, "Hyesan": 1}
    assert facet_counts(html, "country") == {"China": 1, "North Korea": 1}  # not the safe house's item
    assert facet_counts(html, "journey") == {"The Yalu route": 2}
    assert "Safe house" not in html and "Hidden route" not in html
    for query in ("place=Safe+house+Shenyang", "journey=Hidden+route", f"leg={shelf['secret_leg']}"):
        assert titles(text(client.get(f"/items?{query}"))) == [], query
    assert "access" not in re.findall(r'data-facet="(\w+)"', html)  # one level only: no choice offered


@pytest.mark.parametrize("role, grants, kinds, places, access", [
    ("researcher", False, {"Video": 1, "Still": 3}, {"Changbai": 2, "Hyesan": 1},
     {"Public": 3, "Restricted": 1}),
    ("archivist", True, {"Video": 2, "Still": 3}, {"Changbai": 2, "Hyesan": 2, "Safe house Shenyang": 1},
     {"Public": 3, "Restricted": 1, "Confidential": 1}),
    ("admin", False, {"Video": 2, "Still": 3}, {"Changbai": 2, "Hyesan": 2, "Safe house Shenyang": 1},
     {"Public": 3, "Restricted": 1, "Confidential": 1}),
])
def test_counts_follow_the_access_policy_per_role(client: FlaskClient, login, archive: Archive,  # type: ignore[no-untyped-def]
                                                  shelf: dict[str, int], role: str, grants: bool,
                                                  kinds: dict[str, int], places: dict[str, int],
                                                  access: dict[str, int]) -> None:
    from archive.models import Item
    with archive.session() as session:
        yalu = session.get(Item, shelf["kept"]).collection_id
    login(role, grants=(yalu,) if grants else ())
    html = text(client.get("/items"))
    assert facet_counts(html, "kind") == kinds
    assert facet_counts(html, "place") == places
    assert facet_counts(html, "access") == access
    restricted = text(client.get("/items?access=restricted"))
    assert titles(restricted) == ["Market day"]
    assert api_titles(client, "access=confidential") == (["Kept tape"] if role != "researcher" else [])


def test_anonymous_counts(client: FlaskClient, shelf: dict[str, int]) -> None:
    html = text(client.get("/items"))
    assert facet_counts(html, "kind") == {"Still": 2, "Video": 1}
    assert facet_counts(html, "language") == {"Korean": 2, "English": 1}
    assert facet_counts(html, "has_transcript") == {"With a transcript": 2, "Without a transcript": 1}
    assert titles(text(client.get("/items?access=restricted"))) == []  # the policy, whatever is asked


def test_a_chosen_facet_is_counted_without_its_own_filter(client: FlaskClient, shelf: dict[str, int]) -> None:
    html = text(client.get("/items?kind=video"))
    assert facet_counts(html, "kind") == {"Still": 2, "Video": 1}  # the other kind can still be added
    assert facet_counts(html, "place") == {"Hyesan": 1}  # other facets count the filtered items
    assert 'href="/items?kind=video&amp;kind=still"' in html


# -- bad values ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("kind=film", "kind must be one of"),
    ("access=secret", "access must be one of public, restricted, confidential, not &#39;secret&#39;"),
    ("has_transcript=maybe", "has_transcript must be one of yes, no"),
    ("leg=first", "leg must be the number of a journey leg"),
    ("leg=99999999999", "leg must be the number of a journey leg"),
    ("from=last+spring", "Shot from: &#39;last spring&#39; is not a date"),
    ("from=2021&to=2019", "Shot from (2021-01-01) comes after shot until"),
])
def test_bad_values_are_a_readable_400(client: FlaskClient, shelf: dict[str, int], query: str, message: str) -> None:
    response = client.get(f"/items?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(f"/api/items?{query}").status_code == 400


@pytest.mark.parametrize("query", ["kind=film", "access=secret", "has_transcript=maybe", "leg=first",
                                   "from=last+spring", "from=2021&to=2019"])
def test_api_v1_refuses_bad_values_as_json(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/items?{query}")
    assert response.status_code == 400 and response.is_json, response.get_data(as_text=True)


# -- recently added and the timeline ----------------------------------------------------------------------

def test_recently_added_lists_newest_first_by_day_and_pages(client: FlaskClient, archive: Archive) -> None:
    for n in range(5):
        add_item(archive, f"Clip {n}", added=n * 86400)
    add_item(archive, "Hidden", access=AccessLevel.restricted, added=10 * 86400)
    html = text(client.get("/items/recent?per_page=2"))
    assert card_titles(html) == ["Clip 4", "Clip 3"]
    assert "Hidden" not in html and "Added " in html
    second = text(client.get("/items/recent?per_page=2&page=2"))
    assert "Clip 2" in second and "Clip 4" not in second


def test_collection_timeline_draws_uncertain_dates_as_spans(client: FlaskClient, archive: Archive,
                                                            shelf: dict[str, int]) -> None:
    from archive.models import Item
    with archive.session() as session:
        yalu = session.get(Item, shelf["bank"]).collection_id
    add_item(archive, "Exact day", collection="Yalu tapes", date_shot="2019-03-01")
    add_item(archive, "No date", collection="Yalu tapes")
    html = text(client.get(f"/collections/{yalu}"))
    timeline = html[html.index('class="timeline"'):html.index('id="items-heading"')]
    assert "The far bank" in timeline and "Exact day" in timeline
    assert "Kept tape" not in timeline  # confidential: not on anonymous' timeline
    assert 'timeline__item--approximate' in timeline and "about 2019" in timeline
    assert "1 without a date" in timeline
    exact = timeline[timeline.index("Exact day"):]
    assert 'data-width="0.0"' in exact.split("</li>")[0]


def test_the_openapi_document_declares_the_filters(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    [listing] = [ops["get"] for path, ops in document["paths"].items() if path.endswith("/items") and "get" in ops]
    names = {p["name"] for p in listing["parameters"]}
    assert {"kind", "country", "place", "journey", "leg", "language", "has_transcript", "access", "from",
            "to"} <= names
