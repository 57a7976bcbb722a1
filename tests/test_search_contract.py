"""The search contract (archive.search.SearchIndex), one behavioural suite run against every engine.

Each test reaches its engine through the Protocol only, so an engine passes exactly when it
behaves as the app expects: the query language, phrases, prefixes, CJK, facets, "did you mean",
access filtering by viewer and hits at timecodes. Adding an engine: one entry in ENGINES.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest

from conftest import new_catalogue

from archive import db
from archive.access import ANONYMOUS, SYSTEM, Viewer
from archive.models import Role
from archive.search import (CollectionDoc, ItemDoc, RangeDoc, SearchIndex, SearchRequest, SearchResponse, SegmentDoc,
                            TranscriptDoc, ValueGuard, WhooshIndex)
from archive.search.pg_index import PostgresIndex



def _postgres_index(directory: Path, request: pytest.FixtureRequest) -> SearchIndex:
    """A PostgresIndex in a new migrated database of the suite's PostgreSQL, dropped after the test."""
    url = new_catalogue(request, "postgresql")
    engine = db.make_engine(url)
    request.addfinalizer(engine.dispose)
    return PostgresIndex(engine)


#: Engine name (a SearchEngine value) -> how a test gets an empty index of it in its own directory.
ENGINES: dict[str, Callable[[Path, pytest.FixtureRequest], SearchIndex]] = {
    "whoosh": lambda directory, request: WhooshIndex(directory / "index"),
    "postgresql": _postgres_index,
}

MakeIndex = Callable[..., SearchIndex]


@pytest.fixture(params=sorted(ENGINES))
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeIndex]:
    """make_index(items, collections=()): a new index of the engine under test holding these documents."""
    opened: list[SearchIndex] = []

    def make(items: Sequence[ItemDoc], collections: Sequence[CollectionDoc] = ()) -> SearchIndex:
        directory = tmp_path / f"engine{len(opened)}"
        directory.mkdir()
        ix = ENGINES[request.param](directory, request)
        ix.update(items, collections=collections)
        opened.append(ix)
        return ix

    yield make
    for ix in opened:
        ix.close()


@pytest.fixture
def index(make_index: MakeIndex) -> SearchIndex:
    return make_index(DOCS, COLLECTIONS)


def search(index: SearchIndex, q: str, viewer: Viewer = SYSTEM, **kw: object) -> SearchResponse:
    return index.search(SearchRequest(q=q, **kw), viewer)  # type: ignore[arg-type]


def ids(index: SearchIndex, q: str, viewer: Viewer = SYSTEM, **kw: object) -> list[int]:
    return [i.item_id for i in search(index, q, viewer, **kw).items]


def clip(id_: int, language: str, *texts: str, title: str = "Clip") -> ItemDoc:
    """A public video with one transcript, a segment every 3 seconds."""
    segments = tuple(seg(id_ * 10 + n, float(n * 3), t) for n, t in enumerate(texts))
    return ItemDoc(id_, title, "video", "public", "v1", transcripts=(TranscriptDoc(id_, language, "transcript", segments),))


RESEARCHER = Viewer(Role.researcher, name="r")
GRANTED = Viewer(Role.researcher, frozenset({2}), name="g")


def seg(id_: int, start: float, text: str, speaker: str = "") -> SegmentDoc:
    return SegmentDoc(id_, start, start + 3.0, text, speaker)


DOCS = [
    ItemDoc(1, "Night crossing at Hyesan", "video", "public", "v1",
            description="LES ÉVÉNEMENTS DU FLEUVE, filmed on the bank.", collection_id=1,
            collection="Crossing the Yalu", tags=("border", "river"), date_lower=date(2019, 4, 1),
            date_upper=date(2019, 4, 30), creator="Park",
            transcripts=(
                TranscriptDoc(10, "en", "transcript", (
                    seg(100, 1.0, "We crossed the river at night.", "Kim Soon-ja"),
                    seg(101, 12.0, "The guards were asleep near the bridge.", "Kim Soon-ja"),
                    seg(102, 30.5, "Then a truck took us to Changbai.", "Driver"),
                    seg(103, 44.0, "Crossed. The river was cold.", "Kim Soon-ja"))),
                TranscriptDoc(11, "ko", "subtitles", (seg(110, 1.0, "우리는 밤에 압록강을 건넜어요."),)))),
    ItemDoc(2, "Confidential testimony", "audio", "confidential", "v1", collection_id=2, collection="Witnesses",
            date_lower=date(2021, 1, 1),
            transcripts=(TranscriptDoc(20, "en", "interview_log", (
                seg(200, 3.0, "The zebrafinch codeword was spoken at the river.", "Lee"),)),)),
    ItemDoc(3, "Market in Shenyang", "still", "public", "v1", tags=("market",), date_lower=date(2018, 6, 1),
            transcripts=(TranscriptDoc(30, "zh-Hans", "transcript", (
                seg(300, 0.0, "我们过了鸭绿江。"), seg(301, 5.0, "They crossed a river by boat, <script>!"),
                seg(302, 9.0, "東京へ行きました"))),)),
    ItemDoc(4, "Restricted bus ride to Kunming", "video", "restricted", "v1", collection_id=1,
            collection="Crossing the Yalu", tags=("border",), date_lower=date(2020, 3, 1),
            transcripts=(TranscriptDoc(40, "en", "transcript", (seg(400, 7.0, "Kunming station was crowded."),)),)),
]
COLLECTIONS = [CollectionDoc(1, "Crossing the Yalu", "c1", synopsis="A documentary about the Mekong route."),
               CollectionDoc(2, "Witnesses", "c1", synopsis="Sealed testimonies.")]


# -- analysis and matching ---------------------------------------------------------------------------

def test_accent_folding_and_stemming(index: SearchIndex) -> None:
    assert ids(index, "evenements") == [1]
    assert ids(index, "Événement") == [1]
    assert ids(index, "crossing river", ANONYMOUS) == [1, 3]  # crossed, crossing: one stem


def test_phrases_match_exactly_with_stop_words(index: SearchIndex) -> None:
    assert ids(index, '"crossed the river"') == [1]
    assert ids(index, '"crossed a river"') == [3]
    hits = index.search(SearchRequest(q='"crossed the river"'), SYSTEM).items[0].hits
    # Punctuation does not break a phrase (as in FTS5 and Lucene): "Crossed. The river" matches too.
    assert [h.start for h in hits] == [1.0, 44.0]
    assert ids(index, '"the river was cold"') == [1]
    assert ids(index, '"the river was warm"') == []


def test_phrases_of_stop_words_are_checked_against_the_text(index: SearchIndex) -> None:
    assert ids(index, '"at the"') == [2]  # "spoken at the river"
    assert ids(index, '"the at"') == []
    assert ids(index, '"at the river"') == [2]
    assert ids(index, '"river at night"') == [1]


def test_three_word_phrase_needs_its_words_together(make_index: MakeIndex) -> None:
    ix = make_index([ItemDoc(1, "Pairs apart", "video", "public", "v1", transcripts=(TranscriptDoc(1, "en", "transcript", (
        seg(1, 0.0, "We crossed the bridge at dawn."), seg(2, 4.0, "Later the river rose."))),)),
        ItemDoc(2, "Together", "video", "public", "v1", transcripts=(TranscriptDoc(2, "en", "transcript", (
            seg(3, 0.0, "They crossed the river at dawn, crossing the border."),)),))])
    assert ids(ix, '"crossed the river"') == [2]
    assert ids(ix, '"crossed the bridge"') == [1]
    ix.update([ItemDoc(3, "Threes apart", "video", "public", "v1", transcripts=(TranscriptDoc(3, "en", "transcript", (
        seg(4, 0.0, "The bridge at dawn."), seg(5, 4.0, "We crossed the bridge at noon."))),))])
    # Every three of it is in item 3, but not the five together: checked against the text.
    assert ids(ix, '"crossed the bridge at dawn"') == [1]
    assert ids(ix, '"river at dawn crossing the border"') == [2]


def test_phrase_never_spans_two_segments(index: SearchIndex) -> None:
    assert ids(index, '"night the guards"') == []  # "...at night." + "The guards..."
    assert ids(index, '"bridge then"') == []


def test_cjk_queries_find_the_cue(index: SearchIndex) -> None:
    for q, item, start in (("압록강", 1, 1.0), ("압록강을", 1, 1.0), ("鸭绿江", 3, 0.0), ("东京", None, None),
                           ("東京", 3, 9.0)):
        response = index.search(SearchRequest(q=q), ANONYMOUS)
        if item is None:
            assert response.total_items == 0, q
            continue
        assert [i.item_id for i in response.items] == [item], q
        assert response.items[0].hits[0].start == start
        assert "<mark>" in response.items[0].hits[0].snippet_html


def test_prefix_search(index: SearchIndex) -> None:
    assert ids(index, "hye*") == [1]
    assert ids(index, "chang*") == [1]  # longer than the indexed grams
    assert ids(index, "kunm*", ANONYMOUS) == []
    hits = index.search(SearchRequest(q="chang*"), SYSTEM).items[0].hits
    assert [h.start for h in hits] == [30.5] and "<mark>Changbai</mark>" in hits[0].snippet_html
    short = index.search(SearchRequest(q="hy*"), SYSTEM)
    assert "at least 3 letters" in short.message


def test_or_and_exclude(index: SearchIndex) -> None:
    assert ids(index, "bridge OR boat", sort="date_shot") == [3, 1]
    assert ids(index, "river -bridge", ANONYMOUS) == [3]
    assert ids(index, "river NOT boat", ANONYMOUS) == [1]
    assert ids(index, "(bridge OR boat) hyesan") == [1]


def test_field_queries(index: SearchIndex) -> None:
    assert ids(index, "title:market") == [3]
    assert ids(index, "speaker:kim bridge") == [1]
    assert ids(index, "speaker:driver river") == [1]
    assert ids(index, 'speaker:"kim soon-ja"') == [1]
    assert ids(index, "tag:border", sort="date_shot") == [1, 4]
    assert ids(index, "collection:witnesses") == [2]
    assert ids(index, "language:ko") == [1]
    assert ids(index, "language:zh") == [3]
    assert ids(index, "kind:audio") == [2]
    assert ids(index, "kind:interview_log") == [2]
    hits = index.search(SearchRequest(q="speaker:driver truck"), SYSTEM).items[0].hits
    assert [h.speaker for h in hits] == ["Driver"]


@pytest.mark.parametrize("q, message", [
    ('"crossed the river', "quotation mark was not closed"),
    ("city:hyesan river", "There is no field 'city'"),
    ("(river OR bridge", "parenthesis was not closed"),
    ("river) bridge", "closing parenthesis had no opening"),
    ("river OR", "OR needs something on both sides"),
    ("river *", "A * on its own"),
    ("title: river", "title: needs a value"),
    ("river -", None),
])
def test_query_syntax_errors_give_a_message_and_a_best_effort_search(index: SearchIndex, q: str,
                                                                     message: str | None) -> None:
    response = index.search(SearchRequest(q=q), SYSTEM)
    assert response.total_items >= 1
    if message:
        assert message in (response.message or "")


def test_no_query_string_raises(index: SearchIndex) -> None:
    rng = random.Random(4)
    alphabet = 'ab "():-*|&ORANDNOT압록 title:speaker:\\\'\x00'
    for _ in range(300):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        index.search(SearchRequest(q=q, page=rng.randint(-3, 3), per_page=rng.randint(-5, 500),
                                   sort=rng.choice(["relevance", "date_shot", "-date_shot", "bogus"])), SYSTEM)


# -- results ------------------------------------------------------------------------------------------

def test_snippets_are_escaped_html_with_marks_and_timecodes(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="boat"), SYSTEM)
    [hit] = response.items[0].hits
    assert (hit.start, hit.end, hit.segment_id, hit.transcript_id, hit.language) == (5.0, 8.0, 301, 30, "zh-Hans")
    assert hit.snippet_html == "They crossed a river by <mark>boat</mark>, &lt;script&gt;!"


def test_results_grouped_by_item_with_best_hits_in_time_order(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="river", hits_per_item=2), ANONYMOUS)
    assert [i.item_id for i in response.items] == [1, 3]
    first = response.items[0]
    assert len(first.hits) == 2 and [h.start for h in first.hits] == sorted(h.start for h in first.hits)
    # Words spread over several segments: the item matches, and shows the segments holding either.
    spread = index.search(SearchRequest(q="guards changbai"), SYSTEM).items[0]
    assert [h.start for h in spread.hits] == [12.0, 30.5]


def test_items_matched_on_metadata_only_have_no_hits(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="hyesan"), SYSTEM)
    assert [(i.item_id, i.hits) for i in response.items] == [(1, [])]
    assert index.search(SearchRequest(q="tag:market"), SYSTEM).items[0].hits == []


def test_facets_count_items_the_viewer_may_see(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="river"), SYSTEM)
    facets = {name: {v.value: v.count for v in values} for name, values in response.facets.items()}
    assert facets["kind"] == {"video": 1, "audio": 1, "still": 1}
    assert facets["collection"] == {"Crossing the Yalu": 1, "Witnesses": 1}
    assert facets["year"] == {"2021": 1, "2019": 1, "2018": 1}
    assert [v.value for v in response.facets["year"]] == ["2021", "2019", "2018"]
    assert facets["language"] == {"en": 2, "ko": 1, "zh": 1}  # zh-Hans counted as Chinese
    assert facets["speaker"]["Kim Soon-ja"] == 1 and facets["speaker"]["Lee"] == 1
    assert facets["has_transcript"] == {"yes": 3}
    anonymous = index.search(SearchRequest(q="river"), ANONYMOUS)
    assert {v.value for v in anonymous.facets["collection"]} == {"Crossing the Yalu"}
    assert "Lee" not in {v.value for v in anonymous.facets["speaker"]}


def test_facet_filters_or_within_and_across(index: SearchIndex) -> None:
    assert ids(index, "", filters={"kind": ["video", "still"]}, sort="date_shot") == [3, 1, 4]
    assert ids(index, "", filters={"kind": ["video"], "tag": ["river"]}) == [1]
    response = index.search(SearchRequest(q="", filters={"kind": ["video"]}), SYSTEM)
    # A filtered facet still lists its other values (with their counts), the others follow the filter.
    assert {v.value: v.count for v in response.facets["kind"]} == {"video": 2, "audio": 1, "still": 1}
    assert {v.value: v.count for v in response.facets["tag"]} == {"border": 2, "river": 1}
    assert ids(index, "river", filters={"language": ["ko"]}) == [1]
    hits = index.search(SearchRequest(q="river", filters={"speaker": ["Kim Soon-ja"]}), SYSTEM).items[0].hits
    assert {h.speaker for h in hits} == {"Kim Soon-ja"}


def test_sort_by_date_and_pagination(index: SearchIndex) -> None:
    assert ids(index, "", sort="date_shot") == [3, 1, 4, 2]
    assert ids(index, "", sort="-date_shot") == [2, 4, 1, 3]
    pages = [ids(index, "", sort="date_shot", page=p, per_page=3) for p in (1, 2, 3)]
    assert pages == [[3, 1, 4], [2], []]
    response = index.search(SearchRequest(q="", per_page=3), SYSTEM)
    assert response.total_items == 4 and response.pages == 2


def test_collections_synopses_are_searchable(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="mekong"), ANONYMOUS)
    assert response.total_items == 0
    assert [(c.collection_id, c.title) for c in response.collections] == [(1, "Crossing the Yalu")]
    assert "<mark>Mekong</mark>" in response.collections[0].snippet_html


# -- access ---------------------------------------------------------------------------------------------

def test_a_word_only_in_a_confidential_transcript_reveals_nothing(index: SearchIndex) -> None:
    for viewer in (ANONYMOUS, RESEARCHER):
        for q in ("zebrafinch", "zebrafnch", "zebra*", '"zebrafinch codeword"'):
            response = index.search(SearchRequest(q=q), viewer)
            assert response.total_items == 0 and response.items == [], (viewer.name, q)
            assert response.suggestion is None, (viewer.name, q)
            assert all(v.count == 0 for values in response.facets.values() for v in values) or \
                not any(response.facets.values())
            assert "zebra" not in str(response.as_json()).lower()
    # Those it was granted to see it, snippet and all; so do admins.
    for viewer in (GRANTED, SYSTEM):
        response = index.search(SearchRequest(q="zebrafinch"), viewer)
        assert [i.item_id for i in response.items] == [2]
        assert "<mark>zebrafinch</mark>" in response.items[0].hits[0].snippet_html
    assert index.search(SearchRequest(q="zebrafnch"), GRANTED).suggestion == "zebrafinch"


def test_collections_are_known_only_through_visible_items(index: SearchIndex) -> None:
    assert index.search(SearchRequest(q="sealed testimonies"), ANONYMOUS).collections == []
    assert index.search(SearchRequest(q="sealed testimonies"), RESEARCHER).collections == []
    for viewer in (GRANTED, SYSTEM):
        assert [c.title for c in index.search(SearchRequest(q="sealed testimonies"), viewer).collections] == \
            ["Witnesses"]
    index.update(collections=[CollectionDoc(3, "Empty for now", "c1", synopsis="Sealed boxes.")])
    assert index.search(SearchRequest(q="sealed"), Viewer(Role.archivist)).collections[0].title == "Empty for now"
    assert index.search(SearchRequest(q="sealed"), RESEARCHER).collections == []


def test_restricted_items_need_an_account(index: SearchIndex) -> None:
    assert ids(index, "kunming", ANONYMOUS) == []
    assert ids(index, "kunming", RESEARCHER) == [4]


def test_did_you_mean_suggests_visible_words(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="guarsd bridge"), ANONYMOUS)
    assert response.total_items == 0 and response.suggestion == "guards bridge"
    assert index.search(SearchRequest(q="rivr"), ANONYMOUS).suggestion == "river"
    assert index.search(SearchRequest(q="river"), ANONYMOUS).suggestion is None


def test_json_shape(index: SearchIndex) -> None:
    data = index.search(SearchRequest(q="bridge"), ANONYMOUS).as_json()
    assert data["total"] == 1 and data["suggestion"] is None
    [item] = data["items"]
    assert set(item) >= {"id", "title", "score", "hits"} and item["id"] == 1
    assert isinstance(item["hits"][0]["start"], float) and isinstance(item["hits"][0]["end"], float)
    assert "<mark>bridge</mark>" in item["hits"][0]["snippet"]
    assert data["facets"]["kind"] == [{"value": "video", "count": 1}]


# -- writers, readers and rebuilds --------------------------------------------------------------------

def test_writers_wait_for_each_other_across_threads(index: SearchIndex) -> None:
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            index.update([ItemDoc(100 + n, f"Thread item {n} bangkok", "video", "public", "v1")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(ids(index, "bangkok")) == list(range(100, 106))


def test_readers_are_not_blocked_by_a_writer(index: SearchIndex) -> None:
    with index.lock():
        started = time.perf_counter()
        result: list[list[int]] = []
        reader = threading.Thread(target=lambda: result.append(ids(index, "river")))
        reader.start()
        reader.join(5)
        assert result and time.perf_counter() - started < 5


def test_rebuild_swaps_in_a_new_index(index: SearchIndex) -> None:
    assert ids(index, "river")
    index.rebuild([ItemDoc(9, "Only Bangkok now", "video", "public", "v2")], [])
    assert ids(index, "river") == [] and ids(index, "bangkok") == [9]
    assert index.versions().items == {9: "v2"}


# -- CJK: a syllable, a character, a word inside a compound -----------------------------------------

KOREAN = [clip(1, "ko", "지금이에요. 강이 제일 얕은 곳으로 건너요."),
          clip(2, "ko", "강을 두 번 건넜구나. 압록강, 그리고 메콩강."),
          clip(3, "ko", "국경은 메콩강에서 건너요."),
          clip(4, "ko", "물이 허리까지 찼어요."),
          clip(5, "zh-Hans", "窗外能看到一条河。又是边境吗？", "我们在湄公河过境。"),
          clip(6, "zh-Hans", "这里没有水。")]


def test_one_korean_syllable_finds_every_word_holding_it(make_index: MakeIndex) -> None:
    index = make_index(KOREAN)
    assert sorted(ids(index, "강")) == [1, 2, 3]
    assert ids(index, "메콩강") == [2, 3] or sorted(ids(index, "메콩강")) == [2, 3]
    hit = search(index, "강").items[0].hits[0]
    assert "<mark>강</mark>" in hit.snippet_html


def test_one_chinese_character_finds_the_compound(make_index: MakeIndex) -> None:
    index = make_index(KOREAN)
    response = search(index, "河")
    assert [i.item_id for i in response.items] == [5]
    assert [h.start for h in response.items[0].hits] == [0.0, 3.0]
    assert "一条<mark>河</mark>" in response.items[0].hits[0].snippet_html
    assert ids(index, "湄公河") == [5] and ids(index, "一条河") == [5]


def test_cjk_phrases_stay_exact(make_index: MakeIndex) -> None:
    index = make_index(KOREAN)
    assert ids(index, '"메콩강에서"') == [3]
    assert ids(index, "메콩강을") == []  # 메콩강 and 을 are there, not in a row
    assert ids(index, '"条河"') == [5] and ids(index, '"河条"') == []
    assert ids(index, '"압록강 그리고"') == [2]
    hit = search(index, "메콩강에서").items[0].hits[0]
    assert "<mark>메콩강에서</mark>" in hit.snippet_html


def test_anonymous_sees_only_public_matches_of_a_character(make_index: MakeIndex) -> None:
    hidden = ItemDoc(9, "Hidden", "video", "confidential", "v1", transcripts=(
        TranscriptDoc(9, "ko", "transcript", (seg(90, 0.0, "강가에서 기다렸어요."),)),))
    index = make_index([*KOREAN, hidden])
    found = [i.item_id for i in index.search(SearchRequest(q="강"), ANONYMOUS).items]
    assert sorted(found) == [1, 2, 3]
# -- time-range tags ------------------------------------------------------------------------------

def test_a_range_tag_finds_its_item_with_a_hit_at_the_range_start(make_index: MakeIndex) -> None:
    ix = make_index([
        ItemDoc(1, "Evening by the water", "video", "public", "v1", tags=("river",), ranges=(
            RangeDoc(7, "river crossing", 12.5, 30.0), RangeDoc(8, "guards", 40.0, 44.0),
            RangeDoc(9, "River crossing", 61.0, 70.0))),
        ItemDoc(2, "Morning", "video", "public", "v1", tags=("river crossing",)),
        ItemDoc(3, "Noon", "video", "public", "v1", ranges=(RangeDoc(10, "crossing", 1.0, 2.0),)),
    ])
    found = ix.search(SearchRequest(q='tag:"river crossing"'), SYSTEM)
    by_id = {i.item_id: i for i in found.items}
    assert set(by_id) == {1, 2}
    assert [(r.range_id, r.start, r.end) for r in by_id[1].ranges] == [(7, 12.5, 30.0), (9, 61.0, 70.0)]
    assert by_id[1].ranges[0].snippet_html == "<mark>river crossing</mark>"
    assert by_id[2].ranges == []  # tagged as a whole: no second to start at
    assert {v.value: v.count for v in found.facets["tag"]}["river crossing"] == 2
    # A filter on the tag keeps the item whose range carries it; plain words find the range too.
    assert {i.item_id for i in ix.search(SearchRequest(filters={"tag": ["guards"]}), SYSTEM).items} == {1}
    [noon] = [i for i in ix.search(SearchRequest(q="crossed"), SYSTEM).items if i.item_id == 3]
    assert [(r.start, r.snippet_html) for r in noon.ranges] == [(1.0, "<mark>crossing</mark>")]
    assert ix.search(SearchRequest(q="tag:guards -tag:river"), SYSTEM).items == []


# -- facet values not everyone may know -------------------------------------------------------------

def test_a_guarded_facet_value_is_known_only_to_those_its_guard_lets(make_index: MakeIndex) -> None:
    secret = ValueGuard("place", "confidential")
    ix = make_index([ItemDoc(1, "Evening ferry", "video", "public", "v1", facets={"place": ["Sinuiju", "Dandong"]},
                             facet_guards={"place": {"Sinuiju": [secret]}})])
    for viewer, places in ((ANONYMOUS, {"Dandong"}), (SYSTEM, {"Dandong", "Sinuiju"})):
        assert {v.value for v in search(ix, "ferry", viewer).facets["place"]} == places, viewer.name
    assert ids(ix, "place:sinuiju", SYSTEM) == [1] and ids(ix, "place:sinuiju", ANONYMOUS) == []
    assert ids(ix, "", ANONYMOUS, filters={"place": ["Sinuiju"]}) == []
    assert ids(ix, "sinuiju", ANONYMOUS) == [] and ids(ix, "dandong", ANONYMOUS) == [1]


# -- the index as the app uses it --------------------------------------------------------------------

def test_every_engine_is_a_search_index(index: SearchIndex) -> None:
    assert isinstance(index, SearchIndex)
    assert index.exists()
    assert index.versions().items == {1: "v1", 2: "v1", 3: "v1", 4: "v1"}
    assert index.versions().collections == {1: "c1", 2: "c1"}
    assert index.stats()["exists"] is True


def test_update_replaces_and_deletes_documents(index: SearchIndex) -> None:
    index.update([ItemDoc(3, "Market in Dandong", "still", "public", "v2")], delete_items=[4], delete_collections=[2])
    assert ids(index, "shenyang") == [] and ids(index, "dandong") == [3]
    assert ids(index, "鸭绿江") == []  # the new document replaced its transcripts too
    assert ids(index, "kunming") == []
    assert index.versions().items == {1: "v1", 2: "v1", 3: "v2"} and set(index.versions().collections) == {1}


def test_confirm_keeps_what_the_database_hides_out_of_totals_and_facets(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="river"), SYSTEM, confirm=lambda found: [i for i in found if i != 2])
    assert [i.item_id for i in response.items] == [1, 3] and response.total_items == 2
    assert "audio" not in {v.value for v in response.facets["kind"]}
