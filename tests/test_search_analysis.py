"""Text analysis per script and language (issue 10, section 5): CJK characters and pairs, ICU word
breaks for scripts written without spaces, stems per language, exact forms ranked first.

What CJK searches must find, with every engine, is in tests/test_search_contract.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.access import SYSTEM
from archive.core import Archive
from archive.demo.build import load_demo
from archive.models import AccessLevel
from archive.search import ItemDoc, SearchRequest, SegmentDoc, TranscriptDoc, WhooshIndex, analysis
from archive.transcripts.formats import parse_vtt


def seg(id_: int, start: float, text: str) -> SegmentDoc:
    return SegmentDoc(id_, start, start + 2.0, text)


def clip(id_: int, language: str, *texts: str, title: str = "Clip", description: str = "") -> ItemDoc:
    segments = tuple(seg(id_ * 10 + n, float(n * 3), t) for n, t in enumerate(texts))
    return ItemDoc(id_, title, "video", "public", "v1", description=description,
                   transcripts=(TranscriptDoc(id_, language, "transcript", segments),))


def search(index: WhooshIndex, q: str, **kw: object):
    return index.search(SearchRequest(q=q, **kw), SYSTEM)


def ids(index: WhooshIndex, q: str, **kw: object) -> list[int]:
    return [i.item_id for i in search(index, q, **kw).items]


@pytest.fixture
def make_index(tmp_path: Path):
    opened: list[WhooshIndex] = []

    def make(docs: list[ItemDoc], **kw: object) -> WhooshIndex:
        ix = WhooshIndex(tmp_path / f"ix{len(opened)}", **kw)
        ix.update(docs)
        opened.append(ix)
        return ix

    yield make
    for ix in opened:
        ix.close()


# -- units ----------------------------------------------------------------------------------------

def test_analysis_gives_cjk_characters_and_pairs_in_order() -> None:
    assert analysis.words("메콩강을 건넜다") == ["메", "메콩", "콩", "콩강", "강", "강을", "을",
                                             "건", "건넜", "넜", "넜다", "다"]
    assert analysis.words("一条河") == ["一", "一条", "条", "条河", "河"]
    # Offsets of every unit in the original text, half-width kana normalised one by one.
    text = "ｶﾀ 강"
    assert [(t.text, text[t.start:t.end]) for t in analysis.tokens(text)] == [
        ("カ", "ｶ"), ("カタ", "ｶﾀ"), ("タ", "ﾀ"), ("강", "강")]


def test_analysis_breaks_thai_and_lao_into_icu_words_and_keeps_their_marks() -> None:
    assert analysis.words("ข้ามแม่น้ำโขง") == [analysis.fold(w) for w in ("ข้าม", "แม่น้ำ", "โขง")]
    assert analysis.words("ແມ່ນ້ຳຂອງ") == [analysis.fold(w) for w in ("ແມ່", "ນ້ຳ", "ຂອງ")]
    # Tone and vowel marks are letters there: ข้าม (cross) is not ขาม.
    assert analysis.fold("ข้าม") != analysis.fold("ขาม")
    assert analysis.fold("ÉVÉNEMENTS") == "evenements"
    text = "เราข้ามแม่น้ำโขง"
    assert [text[t.start:t.end] for t in analysis.tokens(text)] == ["เรา", "ข้าม", "แม่น้ำ", "โขง"]


def test_stems_are_tagged_with_their_language() -> None:
    assert analysis.stems_of(analysis.words("ÉVÉNEMENTS"), "fr") == ["fr:even"]
    assert analysis.stems_of(analysis.words("evening crossed"), "en") == ["en:evening", "en:cross"]
    # No stemmer for Korean or Chinese: words as they are; their Latin words in the fallback's.
    assert analysis.stems_of(analysis.words("강을 crossed"), analysis.stem_language("ko"), "en") == [
        "강", "강을", "을", "en:cross"]
    assert analysis.stem_language("zh-Hans") == "" and analysis.stem_language("fr-CA") == "fr"
    assert analysis.stem_language("nb") == "no"


def test_the_demo_transcripts_with_a_word_are_all_found_by_it(make_index) -> None:
    """The issue's count: 강 found 1 of the 5 public transcripts holding it, 河 none."""
    demo = load_demo()
    public = {i.key for i in demo.items if i.access is AccessLevel.public}
    docs, holding = [], {"강": set(), "河": set()}
    for n, spec in enumerate(demo.transcripts, start=1):
        if spec.item not in public:
            continue
        cues = parse_vtt(spec.vtt).cues
        docs.append(ItemDoc(n, spec.item, "video", "public", "v1", transcripts=(TranscriptDoc(
            n, spec.language, spec.kind.value, tuple(SegmentDoc(n * 100 + i, c.start, c.end, c.text, c.speaker)
                                                     for i, c in enumerate(cues))),)))
        for char, found in holding.items():
            if any(char in c.text for c in cues):
                found.add(n)
    index = make_index(docs)
    assert len(holding["강"]) >= 5 and holding["河"]
    for char, found in holding.items():
        assert set(ids(index, char, per_page=100)) == found, char


# -- Thai and Lao -------------------------------------------------------------------------------

def test_thai_and_lao_words_inside_unspaced_text_are_found(make_index) -> None:
    index = make_index([clip(1, "th", "เราข้ามแม่น้ำโขงตอนกลางคืน"), clip(2, "lo", "ພວກເຮົາຂ້າມແມ່ນ້ຳຂອງ"),
                        clip(3, "th", "ขามหวาน")])
    assert ids(index, "แม่น้ำ") == [1]
    assert ids(index, "ข้าม") == [1]  # not ขาม (tamarind) of item 3
    assert ids(index, "ແມ່ນ້ຳ") == [2]  # two ICU words, found as a phrase
    assert ids(index, "ຂ້າມ") == [2]
    hit = search(index, "แม่น้ำ").items[0].hits[0]
    assert "<mark>แม่น้ำ</mark>" in hit.snippet_html


# -- stems per language ---------------------------------------------------------------------------

ENGLISH = clip(1, "en", "Even then we waited until evening.", "It was an even crossing, even for them.",
               title="Evening at the river")
FRENCH = clip(2, "fr", "LES ÉVÉNEMENTS DU FLEUVE", title="Au bord du fleuve")


def test_a_french_word_ranks_the_french_transcript_first(make_index) -> None:
    index = make_index([ENGLISH, FRENCH])
    assert ids(index, "evenements")[0] == 2
    assert ids(index, "événements")[0] == 2
    hits = search(index, "evenements").items[0].hits
    assert "<mark>ÉVÉNEMENTS</mark>" in hits[0].snippet_html


def test_stems_of_different_languages_never_meet(make_index) -> None:
    index = make_index([ENGLISH, FRENCH])
    # One stemmer for all made "evening" and "ÉVÉNEMENTS" both "even"; in French the latter is
    # "fr:even", which no English word's stem ("en:evening") reaches.
    assert ids(index, "evening") == [1]
    assert ids(index, "evenings") == [1]
    assert ids(index, "evenings", filters={"language": ["fr"]}) == []


def test_exact_word_forms_rank_above_stemmed_ones(make_index) -> None:
    index = make_index([clip(1, "en", "The crossing was hard. The crossing was long. Crossing again."),
                        clip(2, "en", "They crossed at dawn.")])
    assert ids(index, "crossed") == [2, 1]
    assert ids(index, "crossing") == [1, 2]


def test_a_search_limited_to_a_language_stems_in_that_language_only(make_index) -> None:
    both = ItemDoc(3, "Two tracks", "video", "public", "v1", transcripts=(
        TranscriptDoc(31, "en", "subtitles", (seg(310, 0.0, "Even the guards slept."),)),
        TranscriptDoc(32, "fr", "subtitles", (seg(320, 0.0, "Même les gardes dormaient."),))))
    index = make_index([ENGLISH, FRENCH, both])
    assert set(ids(index, "evenements")) == {1, 2, 3}  # English "even" shares an English stem
    assert ids(index, "evenements lang:fr") == [2]
    assert ids(index, "evenements language:fr") == [2]
    assert ids(index, "evenements", filters={"language": ["fr"]}) == [2]
    assert set(ids(index, "evenements", filters={"language": ["en"]})) == {1, 3}


def test_the_catalogue_language_stems_titles_and_descriptions(make_index, tmp_path: Path) -> None:
    docs = [clip(1, "de", "Wir warteten.", title="Die Brücken von Dandong"), clip(2, "en", "Nothing.")]
    german = make_index(docs, catalogue_language="de")
    assert ids(german, "brücke") == [1] and ids(german, "title:brücke") == [1]
    english = make_index(docs, catalogue_language="en")
    assert ids(english, "brücke") == []
    # An index made with another catalogue language is not used: it is rebuilt.
    assert not WhooshIndex(tmp_path / "ix0", catalogue_language="en").exists()
    assert WhooshIndex(tmp_path / "ix0", catalogue_language="de-AT").exists()


def test_the_catalogue_language_setting_reaches_the_index(tmp_path: Path) -> None:
    archive = Archive.open({"data": str(tmp_path / "data"), "secret_key": "t", "catalogue_language": "fr"})
    try:
        assert archive.index.catalogue == "fr"
    finally:
        archive.close()


def test_latin_words_of_a_chinese_transcript_are_stemmed_in_the_catalogue_language(make_index) -> None:
    index = make_index([clip(1, "zh-Hans", "我们过了鸭绿江。", "They crossed a river by boat.")])
    assert ids(index, "crossing") == [1]
    assert ids(index, "boats") == [1]


