"""Search filters from request parameters (archive.services.filters): languages by name, date ranges."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from archive.access import SYSTEM
from archive.core import Archive
from archive.search import FacetValue, ItemDoc, WhooshIndex, SearchRequest, SearchResponse, SegmentDoc, TranscriptDoc
from archive.services import Invalid
from archive.services.filters import facet_blocks, search_filter
from test_search_web import Corpus, _transcribe, api, corpus, page  # noqa: F401  (corpus is a fixture)
from test_web import text

ZH_VTT = """WEBVTT

00:00:05.000 --> 00:00:08.000
我们过了鸭绿江。
"""


# -- parameters -----------------------------------------------------------------------------------

def test_languages_are_filtered_by_their_base_code_whatever_they_are_called() -> None:
    search = search_filter(MultiDict([("language", "zh-Hans"), ("language", "Chinese"), ("language", "ko")]))
    assert search.filters["language"] == ["zh", "ko"]
    assert search_filter({"language": "klingonese"}).filters["language"] == ["klingonese"]  # nothing to match


@pytest.mark.parametrize("args, low, high", [
    ({"from": "2019"}, date(2019, 1, 1), None),
    ({"to": "2019-03"}, None, date(2019, 3, 31)),
    ({"from": "2019-03-14", "to": "2019-03-14"}, date(2019, 3, 14), date(2019, 3, 14)),
    ({"from": "2019~", "to": "2020?"}, date(2019, 1, 1), date(2020, 12, 31)),
    ({"from": "201X"}, date(2010, 1, 1), None),
    ({"from": " ", "to": ""}, None, None),
])
def test_date_parameters_are_edtf_bounds(args: dict[str, str], low: date | None, high: date | None) -> None:
    search = search_filter(args)
    assert (search.date_from, search.date_to) == (low, high)


@pytest.mark.parametrize("args, field, message", [
    ({"from": "last spring"}, "from", "Shot from: 'last spring' is not a date in Extended Date/Time Format"),
    ({"to": "2019-13"}, "to", "Shot until: '2019-13' is not a date"),
    ({"from": "2020", "to": "2019"}, "from", "Shot from (2020-01-01) comes after shot until (2019-12-31)"),
])
def test_a_bad_date_is_refused_naming_the_parameter(args: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        search_filter(args)
    assert refused.value.field == field and str(refused.value).startswith(message)


def test_language_facet_reads_as_names_and_links_by_base_code() -> None:
    args = MultiDict([("q", "river"), ("language", "zh-Hans"), ("page", "2")])
    search = search_filter(args)
    response = SearchResponse(3, [], {"language": [FacetValue("zh", 2), FacetValue("ko", 1)]})
    [block] = facet_blocks(args, search, response)
    assert [(o.value, o.label, o.count, o.chosen) for o in block.options] == [
        ("zh", "Chinese", 2, True), ("ko", "Korean", 1, False)]
    chinese, korean = block.options
    assert chinese.args == {"q": ["river"]}  # taken out: no page
    assert korean.args == {"q": ["river"], "language": ["zh", "ko"]}


# -- the engine -------------------------------------------------------------------------------------

def test_dates_keep_items_whose_uncertain_interval_overlaps(tmp_path: Path) -> None:
    ix = WhooshIndex(tmp_path / "ix")
    ix.update([
        ItemDoc(1, "Spring 2019", "video", "public", "v", date_lower=date(2019, 3, 1), date_upper=date(2019, 5, 31)),
        ItemDoc(2, "A day", "video", "public", "v", date_lower=date(2019, 7, 4), date_upper=date(2019, 7, 4)),
        ItemDoc(3, "The 2010s", "video", "public", "v", date_lower=date(2010, 1, 1), date_upper=date(2019, 12, 31)),
        ItemDoc(4, "Undated", "video", "public", "v"),
        ItemDoc(5, "Later", "video", "public", "v", date_lower=date(2021, 1, 1), date_upper=date(2021, 12, 31)),
    ])

    def found(low: date | None, high: date | None) -> set[int]:
        return {i.item_id for i in ix.search(SearchRequest(date_from=low, date_to=high), SYSTEM).items}

    assert found(date(2019, 5, 1), date(2019, 5, 31)) == {1, 3}
    assert found(date(2019, 6, 1), None) == {2, 3, 5}
    assert found(None, date(2015, 1, 1)) == {3}
    assert found(date(2020, 1, 1), date(2020, 12, 31)) == set()
    assert found(None, None) == {1, 2, 3, 4, 5}
    facets = ix.search(SearchRequest(date_from=date(2019, 5, 1), date_to=date(2019, 5, 31)), SYSTEM).facets
    assert {v.value for v in facets["kind"]} == {"video"} and sum(v.count for v in facets["kind"]) == 2
    ix.close()


def test_a_language_filter_finds_segments_of_any_script(tmp_path: Path) -> None:
    ix = WhooshIndex(tmp_path / "ix")
    ix.update([ItemDoc(1, "Market", "video", "public", "v", transcripts=(
        TranscriptDoc(10, "zh-Hans", "transcript", (SegmentDoc(100, 5.0, 8.0, "我们过了鸭绿江。"),)),
        TranscriptDoc(11, "en", "transcript", (SegmentDoc(110, 1.0, 3.0, "We crossed the Yalu."),))))])
    for value in ("zh", "zh-Hans", "Chinese"):
        [item] = ix.search(search_filter({"q": "鸭绿江", "language": value}), SYSTEM).items
        assert [h.start for h in item.hits] == [5.0], value
    assert [i.item_id for i in ix.search(SearchRequest(q="language:chinese"), SYSTEM).items] == [1]
    [item] = ix.search(SearchRequest(q="鸭绿江 language:zh"), SYSTEM).items
    assert [h.language for h in item.hits] == ["zh-Hans"]
    ix.close()


# -- the page and the API ---------------------------------------------------------------------------

def test_search_page_filters_by_date_shot(client: FlaskClient, corpus: Corpus) -> None:
    assert {i["id"] for i in api(client, q="river", **{"from": "2019", "to": "2019"})["items"]} == {corpus.hyesan}
    assert {i["id"] for i in api(client, q="river", to="2018-12")["items"]} == {corpus.market}
    found = page(client, q="river", **{"from": "2019~"})
    assert 'name="from" value="2019~"' in found and "Shot from: 2019~" in found
    # Dates alone are a search.
    assert corpus.hyesan in {i["id"] for i in api(client, **{"from": "2019-04", "to": "2019-04"})["items"]}


def test_a_bad_date_is_a_400_with_a_message(client: FlaskClient, corpus: Corpus) -> None:
    refused = client.get("/search", query_string={"q": "river", "from": "soon"})
    assert refused.status_code == 400 and "Shot from: &#39;soon&#39; is not a date" in text(refused)
    refused = client.get("/api/search", query_string={"to": "2019-02-30x"})
    assert refused.status_code == 400 and refused.get_json()["error"]["message"].startswith("Shot until:")


def test_language_facet_names_languages_and_merges_scripts(archive: Archive, client: FlaskClient,
                                                           corpus: Corpus) -> None:
    _transcribe(archive, corpus.market, ZH_VTT, "market.zh-Hans.vtt")
    found = api(client, q="鸭绿江")
    assert [v["value"] for v in found["facets"]["language"]] == ["zh"]
    html = page(client, q="鸭绿江")
    assert 'data-facet="language" data-value="zh">' in html and '<span class="facet__value">Chinese</span>' in html
    for value in ("zh", "zh-Hans"):
        [item] = api(client, q="鸭绿江", language=value)["items"]
        assert item["id"] == corpus.market and [h["start"] for h in item["hits"]] == [5.0]
