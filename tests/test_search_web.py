"""The search page and GET /api/search: results by item, snippets with timecodes, facets, sorting,
pages, suggestions, unparseable queries, and only ever what the viewer may see."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from archive.access import ANONYMOUS
from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind, Transcript
from archive.search import SearchRequest
from archive.services.transcripts import import_transcript
from conftest import log_in
from test_web import add_item, text

PUBLIC_VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Kim Soon-ja>We crossed the Yalu at night.

00:01:12.500 --> 00:01:15.000
<v Kim Soon-ja>The river was cold near Hyesan.
"""
RESTRICTED_VTT = """WEBVTT

00:00:07.000 --> 00:00:09.000
<v Driver>Kunming station was crowded, the river far behind.
"""
#: Every word here is found in this confidential transcript only.
SECRET_VTT = """WEBVTT

00:00:03.000 --> 00:00:06.000
<v Witness Lee>The quokkaberry codeword was spoken by the river.
"""
SECRET_WORD = "quokkaberry"


@dataclass(frozen=True)
class Corpus:
    hyesan: int  # public video with a transcript, 2019
    market: int  # public still, no transcript, 2018; "river" in its description only
    kunming: int  # restricted video with a transcript, 2020
    secret: int  # confidential audio in the "Witnesses" collection, 2021
    witnesses: int  # the collection id


def _transcribe(archive: Archive, item_id: int, vtt: str, filename: str) -> None:
    with archive.session() as session:
        import_transcript(session, session.get(Item, item_id), vtt.encode(), filename)


@pytest.fixture
def corpus(archive: Archive) -> Corpus:
    hyesan = add_item(archive, "Night crossing at Hyesan", kind=ItemKind.video, collection="Yalu tapes",
                      tags=("border",), date_shot="2019-04", media={"duration": 90.0})
    market = add_item(archive, "Market in Shenyang", tags=("market",), date_shot="2018-06",
                      description="Stalls by the river at dawn.")
    kunming = add_item(archive, "Bus to Kunming", kind=ItemKind.video, access=AccessLevel.restricted,
                       collection="Yalu tapes", tags=("border",), date_shot="2020-03")
    secret = add_item(archive, "Sealed testimony", kind=ItemKind.audio, access=AccessLevel.confidential,
                      collection="Witnesses", tags=("sealed",), date_shot="2021")
    _transcribe(archive, hyesan, PUBLIC_VTT, "hyesan.en.vtt")
    _transcribe(archive, kunming, RESTRICTED_VTT, "kunming.en.vtt")
    _transcribe(archive, secret, SECRET_VTT, "secret.fr.vtt")
    with archive.Session() as session:
        witnesses = session.get(Item, secret).collection_id
    return Corpus(hyesan, market, kunming, secret, witnesses)


def api(client: FlaskClient, **args: Any) -> dict[str, Any]:
    response = client.get("/api/search", query_string=args)
    assert response.status_code == 200, text(response)
    return response.get_json()


def page(client: FlaskClient, **args: Any) -> str:
    response = client.get("/search", query_string=args)
    assert response.status_code == 200, text(response)
    return text(response)


def api_ids(client: FlaskClient, **args: Any) -> list[int]:
    return [i["id"] for i in api(client, **args)["items"]]


def page_ids(html_text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="search-result" data-item-id="(\d+)"', html_text)]


def facet_values(found: dict[str, Any], facet: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in found["facets"].get(facet, [])}


def client_as(app: Flask, make_user, role: str | None,  # type: ignore[no-untyped-def]
              grants: tuple[int, ...] = ()) -> FlaskClient:
    client = app.test_client()
    if role is not None:
        log_in(client, make_user(role, grants=grants))
    return client


# -- access --------------------------------------------------------------------------------------

def test_anonymous_finds_public_items_only_on_page_and_api(client: FlaskClient, corpus: Corpus) -> None:
    found = api(client, q="river")
    assert sorted(i["id"] for i in found["items"]) == [corpus.hyesan, corpus.market]
    assert found["total"] == 2
    body = page(client, q="river")
    assert sorted(page_ids(body)) == [corpus.hyesan, corpus.market]
    assert "Night crossing at Hyesan" in body and "Market in Shenyang" in body
    for hidden in ("Bus to Kunming", "Kunming station", "Sealed testimony", "Witnesses", "Witness Lee"):
        assert hidden not in body
    assert "1–2 of 2 items" in body


@pytest.mark.parametrize("role, granted, sees_restricted, sees_secret", [
    (None, False, False, False),
    ("researcher", False, True, False),
    ("archivist", False, True, False),
    ("archivist", True, True, True),
    ("admin", False, True, True),
])
def test_a_word_only_in_a_confidential_transcript_reaches_only_those_granted_it(
        app: Flask, make_user, corpus: Corpus, role: str | None, granted: bool,  # type: ignore[no-untyped-def]
        sees_restricted: bool, sees_secret: bool) -> None:
    client = client_as(app, make_user, role, (corpus.witnesses,) if granted else ())

    found = api(client, q=SECRET_WORD)
    assert [i["id"] for i in found["items"]] == ([corpus.secret] if sees_secret else [])
    body = page(client, q=SECRET_WORD)
    assert page_ids(body) == ([corpus.secret] if sees_secret else [])
    if sees_secret:
        [hit] = found["items"][0]["hits"]
        assert f"<mark>{SECRET_WORD}</mark>" in hit["snippet"] and hit["start"] == 3.0
        assert f"<mark>{SECRET_WORD}</mark>" in body
    else:
        # No hit, no snippet, no facet count: the page answers as for a word nobody said.
        assert found["total"] == 0 and all(v == [] for v in found["facets"].values())
        assert "codeword" not in body and "Witness Lee" not in body and "Nothing found for" in body

    # A misspelling is corrected to the word only for those who may see where it is.
    misspelt = api(client, q="quokkabery")
    assert misspelt["suggestion"] == (SECRET_WORD if sees_secret else None)
    misspelt_page = page(client, q="quokkabery")
    assert ("Did you mean" in misspelt_page) is sees_secret
    assert (SECRET_WORD in misspelt_page) is sees_secret

    # Facet counts over a word everyone may find count only the items this viewer may see.
    river = api(client, q="river")
    expected = {corpus.hyesan, corpus.market} | ({corpus.kunming} if sees_restricted else set()) \
        | ({corpus.secret} if sees_secret else set())
    assert {i["id"] for i in river["items"]} == expected and river["total"] == len(expected)
    assert ("Witnesses" in facet_values(river, "collection")) is sees_secret
    assert ("Witness Lee" in facet_values(river, "speaker")) is sees_secret
    assert ("fr" in facet_values(river, "language")) is sees_secret
    assert facet_values(river, "tag").get("border") == (2 if sees_restricted else 1)
    river_page = page(client, q="river")
    assert ("Witness Lee" in river_page) is sees_secret
    assert ("Bus to Kunming" in river_page) is sees_restricted
    # Nor does a filter on a value they may not see reveal anything.
    assert api(client, q="river", speaker="Witness Lee")["total"] == (1 if sees_secret else 0)


def test_results_the_database_no_longer_shows_are_left_out(archive: Archive, client: FlaskClient,
                                                           corpus: Corpus) -> None:
    archive.index_on_commit = False  # as after a crash between the commit and the index write
    with archive.session() as session:
        session.get(Item, corpus.hyesan).access = AccessLevel.confidential
    stale = archive.index.search(SearchRequest(q="yalu"), ANONYMOUS)
    assert [i.item_id for i in stale.items] == [corpus.hyesan]  # the index still has it public
    assert api_ids(client, q="yalu") == []
    assert page_ids(page(client, q="yalu")) == [] and "Night crossing" not in page(client, q="yalu")


# -- results -------------------------------------------------------------------------------------

def test_snippet_timecodes_link_to_the_player_at_that_second(client: FlaskClient, archive: Archive,
                                                             corpus: Corpus) -> None:
    with archive.session() as session:
        transcript_id = session.scalar(select(Transcript.id).where(Transcript.item_id == corpus.hyesan))
    body = page(client, q="cold")
    links = re.findall(r'<a class="search-hit__time" href="([^"]+)">(?:<span[^>]*>[^<]*</span>)?([^<]+)</a>', body)
    assert links == [(f"/items/{corpus.hyesan}?t=72.5&amp;transcript={transcript_id}#player", "0:01:12.5")]  # the cue's tenths
    assert "The river was <mark>cold</mark> near Hyesan." in body
    assert '<span class="search-hit__speaker">Kim Soon-ja</span>' in body
    assert '<span class="search-hit__language" title="Language">en</span>' in body
    [item] = api(client, q="cold")["items"]
    assert [(h["start"], h["end"]) for h in item["hits"]] == [(72.5, 75.0)]


def test_results_show_thumbnail_title_date_and_kind(client: FlaskClient, corpus: Corpus) -> None:
    body = page(client, q="yalu")
    [result] = re.findall(rf'<li class="search-result" data-item-id="{corpus.hyesan}">.*?</ol>', body, re.S)
    assert f'<img src="/items/{corpus.hyesan}/thumbs/grid"' in result
    assert f'<a href="/items/{corpus.hyesan}">Night crossing at Hyesan</a>' in result
    assert "<span>2019-04</span>" in result
    assert '<span class="kind kind--video">video</span>' in result
    assert "0:01:30" in result  # the footage's duration on the thumbnail


def test_api_answers_in_the_documented_shape(client: FlaskClient, corpus: Corpus) -> None:
    found = api(client, q="yalu")
    assert {"total", "items", "facets", "suggestion"} <= set(found)
    assert found["total"] == 1 and found["suggestion"] is None
    [item] = found["items"]
    assert {"id", "title", "score", "hits"} <= set(item) and item["id"] == corpus.hyesan
    [hit] = item["hits"]
    assert isinstance(hit["start"], (int, float)) and isinstance(hit["end"], (int, float))
    assert (hit["start"], hit["end"]) == (1.0, 4.0)
    assert hit["snippet"] == "We crossed the <mark>Yalu</mark> at night."
    assert all(set(v) == {"value", "count"} for values in found["facets"].values() for v in values)
    # Matched in its title only: listed, with no segment hits.
    [market] = api(client, q="shenyang")["items"]
    assert market["id"] == corpus.market and market["hits"] == []
    assert "Found in its title" in page(client, q="shenyang")


def test_a_description_match_shows_its_sentence_with_the_words_marked(archive: Archive, client: FlaskClient,
                                                                       corpus: Corpus) -> None:
    with archive.session() as session:
        session.get(Item, corpus.market).description = ("Stalls by the river at dawn. Fish & rice <sold> here. "
                                                         "Closed on Sundays.")
    [market] = [i for i in api(client, q="rice")["items"]]
    assert market["id"] == corpus.market and market["hits"] == []
    assert market["snippet"] == "Fish &amp; <mark>rice</mark> &lt;sold&gt; here."
    found = page(client, q="rice")
    assert '<p class="search-result__snippet">Fish &amp; <mark>rice</mark> &lt;sold&gt; here.</p>' in found
    assert "Found in its title" not in found
    # Found by its transcript: the hits show, not the description.
    [hyesan] = [i for i in api(client, q="yalu")["items"]]
    assert hyesan["hits"] and hyesan["snippet"] == ""


def test_titles_and_snippets_are_escaped(archive: Archive, client: FlaskClient) -> None:
    item_id = add_item(archive, "<b>Ferry</b> at Dandong", kind=ItemKind.video)
    _transcribe(archive, item_id, "WEBVTT\n\n00:00:02.000 --> 00:00:03.000\nFerry fares & <script>x</script> tolls\n",
                "ferry.en.vtt")
    body = page(client, q="ferry")
    assert "&lt;b&gt;Ferry&lt;/b&gt; at Dandong" in body and "<b>Ferry</b>" not in body
    assert "<script>x" not in body


def test_matching_collections_are_listed_above_the_items_on_the_first_page(client: FlaskClient,
                                                                           corpus: Corpus) -> None:
    body = page(client, q="yalu")
    assert '<a class="search-collection__title" href="/collections/' in body
    assert body.index("search-collections") < body.index("search-results")
    # Only collections the viewer may know of.
    assert "search-collection__title" not in page(client, q="witnesses")


# -- facets, sorting, pages --------------------------------------------------------------------------

def test_facet_filters_narrow_results_and_repeated_values_are_alternatives(client: FlaskClient,
                                                                           corpus: Corpus) -> None:
    assert sorted(api_ids(client, q="river")) == [corpus.hyesan, corpus.market]
    assert api_ids(client, q="river", tag="border") == [corpus.hyesan]
    assert api_ids(client, q="river", tag="market") == [corpus.market]
    assert sorted(api_ids(client, q="river", tag=["border", "market"])) == [corpus.hyesan, corpus.market]
    assert api_ids(client, q="river", tag="market", kind="video") == []
    assert api_ids(client, q="river", has_transcript="yes") == [corpus.hyesan]
    assert api_ids(client, q="river", year="2018") == [corpus.market]

    # The page's facet links add a value, and a chosen one's link takes it out again.
    body = page(client, q="river")
    add = re.search(r'<a class="facet__option" href="([^"]+)" rel="nofollow" data-facet="tag" data-value="border"',
                    body)
    assert add, body
    narrowed = page(client, **_args(add.group(1)))
    assert page_ids(narrowed) == [corpus.hyesan]
    remove = re.search(r'<a class="facet__option" href="([^"]+)" rel="nofollow" aria-current="true" '
                       r'data-facet="tag" data-value="border"', narrowed)
    assert remove, narrowed
    assert sorted(page_ids(page(client, **_args(remove.group(1))))) == [corpus.hyesan, corpus.market]
    assert "Tag: border" in narrowed  # among the filters in use


def _args(url: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs, urlsplit
    parts = urlsplit(html.unescape(url))
    assert parts.path == "/search"
    return parse_qs(parts.query)


def test_sort_by_date_shot(client: FlaskClient, corpus: Corpus) -> None:
    assert api_ids(client, q="river", sort="date_shot") == [corpus.market, corpus.hyesan]
    assert api_ids(client, q="river", sort="-date_shot") == [corpus.hyesan, corpus.market]
    assert page_ids(page(client, q="river", sort="date_shot")) == [corpus.market, corpus.hyesan]
    assert '<option value="date_shot" selected>' in page(client, q="river", sort="date_shot")
    assert api(client, q="river", sort="bogus")["total"] == 2  # an unknown sort falls back to relevance


def test_results_come_in_pages(archive: Archive, client: FlaskClient) -> None:
    made = [add_item(archive, f"Ferry crossing {n}", date_shot=f"200{n}") for n in range(5)]
    first, second, third = (api(client, q="ferry", per_page=2, page=n, sort="date_shot") for n in (1, 2, 3))
    assert [i["id"] for i in first["items"]] == made[:2]
    assert [i["id"] for i in second["items"]] == made[2:4]
    assert [i["id"] for i in third["items"]] == made[4:]
    assert second["total"] == 5 and second["page"] == 2 and second["per_page"] == 2
    body = page(client, q="ferry", per_page=2, page=2, sort="date_shot")
    assert page_ids(body) == made[2:4]
    assert "3–4 of 5 items" in body
    assert 'rel="prev"' in body and 'rel="next"' in body
    assert "page=3" in re.search(r'<a href="([^"]+)" rel="next">', body).group(1)


@pytest.mark.parametrize("args", [{"page": "-3"}, {"page": "0"}, {"page": "abc"}, {"page": "9" * 40},
                                  {"per_page": "-1"}, {"per_page": "0"}, {"per_page": "1000000"},
                                  {"per_page": "x"}, {"page": "2.5"}, {"sort": "<script>"}])
def test_bad_numbers_never_fail(client: FlaskClient, corpus: Corpus, args: dict[str, str]) -> None:
    found = api(client, q="river", **args)
    assert found["total"] == 2 and found["page"] >= 1 and 1 <= found["per_page"] <= 100
    body = page(client, q="river", **args)
    assert "2 items" in body and "<script>" not in body.split("<main", 1)[1]


def test_a_page_past_the_end_is_empty_with_a_way_back(client: FlaskClient, corpus: Corpus) -> None:
    found = api(client, q="river", page=10**12)
    assert found["items"] == [] and found["total"] == 2
    body = page(client, q="river", page=10**12)
    assert page_ids(body) == [] and "none on page" in body and "Back to the first page" in body


# -- the query -------------------------------------------------------------------------------------

def test_did_you_mean_a_misspelt_word(client: FlaskClient, corpus: Corpus) -> None:
    found = api(client, q="hyesam")
    assert found["total"] == 0 and found["suggestion"] == "hyesan"
    body = page(client, q="hyesam", tag="border")
    link = re.search(r'Did you mean <a href="([^"]+)" rel="nofollow">hyesan</a>\?', body)
    assert link, body
    assert _args(link.group(1)) == {"q": ["hyesan"], "tag": ["border"]}
    assert page_ids(page(client, **_args(link.group(1)))) == [corpus.hyesan]
    assert api(client, q="hyesan")["suggestion"] is None


@pytest.mark.parametrize("q", ['"unclosed', "title:", "(((", "-", "*", "river)", "speaker:", "nosuchfield:x",
                               '"', "OR", "\\", "tag:(", "\x00"])
def test_a_query_that_does_not_parse_answers_with_a_note_not_an_error(client: FlaskClient, corpus: Corpus,
                                                                      q: str) -> None:
    found = api(client, q=q)
    body = page(client, q=q)
    if found["message"]:
        assert f'<p class="search-message" role="status">{escape(found["message"])}</p>' in body
    assert "Sealed testimony" not in body and all(i["id"] != corpus.secret for i in found["items"])


@pytest.mark.parametrize("q, note", [('"unclosed', "quotation mark was not closed"),
                                     ("title:", "needs a value"), ("(((", "parenthesis was not closed"),
                                     ("*", "matches nothing")])
def test_the_note_says_how_the_query_was_read(client: FlaskClient, corpus: Corpus, q: str, note: str) -> None:
    assert note in api(client, q=q)["message"]
    assert note in page(client, q=q)


def test_empty_search_shows_the_form_and_where_to_start(client: FlaskClient, corpus: Corpus) -> None:
    body = page(client)
    assert '<input id="search-q" type="search" name="q" value=""' in body
    assert page_ids(body) == [] and "result-count" not in body
    assert 'data-facet="tag" data-value="border"' in body and 'data-facet="tag" data-value="market"' in body
    assert "sealed" not in body.lower().replace("sealed testimony", "")  # the confidential item's tag
    assert "Witnesses" not in body
    # A filter alone lists what it holds.
    assert page_ids(page(client, tag="market")) == [corpus.market]


def test_every_page_has_the_search_box(client: FlaskClient) -> None:
    for path in ("/", "/items", "/search?q=x"):
        body = text(client.get(path))
        assert re.search(r'<form class="site-search" method="get" action="/search" role="search"', body), path
        assert 'id="site-search-q" type="search" name="q"' in body


def test_the_query_is_kept_in_the_form_with_the_filters(client: FlaskClient, corpus: Corpus) -> None:
    q = '"crossed the" <yalu>'
    body = page(client, q=q, tag="border", sort="-date_shot")
    assert f'value="{escape(q)}"' in body
    assert '<input type="hidden" name="tag" value="border">' in body
    assert '<option value="-date_shot" selected>' in body


# -- issue 10: what an attacker found -------------------------------------------------------------

@pytest.mark.parametrize("q", ["(" * 250, "(" * 10_000, "(" * 250 + "river" + ")" * 250, "-(" * 300 + "river",
                               '"a" (' * 100, '-"the end" (' * 60 + "river", "NOT " * 240 + "river",
                               "(-" * 300, "((" + '"' * 50 + "(" * 40])
def test_deep_nesting_is_a_400_with_a_message_never_a_crash(client: FlaskClient, corpus: Corpus, q: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 400 and "nests parentheses or negations" in response.get_json()["error"]["message"]
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 400 and "nests parentheses or negations" in text(response)
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


def test_nesting_within_the_limit_still_searches(client: FlaskClient, corpus: Corpus) -> None:
    from archive.search import MAX_DEPTH
    assert api_ids(client, q="(" * MAX_DEPTH + "yalu" + ")" * MAX_DEPTH) == [corpus.hyesan]
    odd = MAX_DEPTH // 2 - 1  # an odd number of negations, each with its parenthesis: "no bridge"
    assert api_ids(client, q="-(" * odd + "bridge" + ")" * odd + " yalu") == [corpus.hyesan]


def test_facet_counts_and_hits_leave_out_what_the_database_hid_since_indexing(
        archive: Archive, client: FlaskClient, runner, corpus: Corpus) -> None:  # type: ignore[no-untyped-def]
    archive.index_on_commit = False  # bypass the outbox: the index still says public
    with archive.session() as session:
        session.get(Item, corpus.market).access = AccessLevel.confidential
    stale = archive.index.search(SearchRequest(q="river"), ANONYMOUS)
    assert {i.item_id for i in stale.items} == {corpus.hyesan, corpus.market}
    assert {v.value for v in stale.facets["tag"]} == {"border", "market"}  # what the index alone counts

    found = api(client, q="river")
    assert [i["id"] for i in found["items"]] == [corpus.hyesan] and found["total"] == 1
    assert facet_values(found, "tag") == {"border": 1}
    assert facet_values(found, "year") == {"2019": 1}
    body = page(client, q="river")
    assert page_ids(body) == [corpus.hyesan] and "Market in Shenyang" not in body
    assert 'value="market"' not in body and "?q=river&amp;tag=market" not in body
    start = page(client)  # the empty form's facets, too
    assert "tag=market" not in start
    # The CLI searches through the same service: as the system it sees everything but the trash.
    with archive.session() as session:
        session.get(Item, corpus.market).deleted_at = datetime.now(timezone.utc)
    result = runner.invoke(args=["index", "search", "river"])
    assert result.exit_code == 0 and "3 item(s)" in result.output and "Market in Shenyang" not in result.output


def test_did_you_mean_treats_a_word_only_in_hidden_material_as_unknown(app: Flask, make_user,  # type: ignore[no-untyped-def]
                                                                      archive: Archive, corpus: Corpus) -> None:
    add_item(archive, "Hyesam notebook", access=AccessLevel.confidential, collection="Witnesses")
    for role, sees_it in ((None, False), ("researcher", False), ("admin", True)):
        client = client_as(app, make_user, role)
        hidden_word = api(client, q="hyesam")
        if sees_it:  # the word is in something they may see: not misspelt
            assert hidden_word["suggestion"] is None and hidden_word["total"] == 1
        else:  # the same answer as for a word nobody wrote
            assert hidden_word["total"] == 0
            assert hidden_word["suggestion"] == api(client, q="hyesaq")["suggestion"] == "hyesan"


def test_a_filter_value_is_read_as_field_value_is(client: FlaskClient, corpus: Corpus) -> None:
    # ?tag=BORDER and ?country=... name a value as tag:border does: folded, or by another name.
    assert api_ids(client, tag="BORDER") == [corpus.hyesan]
    assert api_ids(client, q="river", tag="Border") == [corpus.hyesan]
    assert api_ids(client, tag="bord") == []  # a whole name, not a piece of one
    assert page_ids(page(client, tag="border ")) == [corpus.hyesan]
