"""Transcripts: formats, encodings, bad files with line numbers, round trips, the service, sidecars, the CLI."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

import pytest
import webvtt
from sqlalchemy import select

from archive.access import ANONYMOUS
from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind, Transcript, TranscriptKind
from archive.search import SearchRequest
from archive.services import Invalid
from archive.services.transcripts import export_transcript, import_transcript
from archive.transcripts import (Cue, TranscriptError, decode, language_from_name, parse_transcript, sidecar_base,
                                 to_srt, to_webvtt)
from mediagen import make_video

VTT = """WEBVTT

NOTE made by hand

1
00:00:01.000 --> 00:00:04.000
<v Kim Soon-ja>We crossed the river at night.

2
00:00:05.000 --> 00:00:08.500 align:start
<v.loud Guard>Halt! Who goes there?
Second line &amp; more.

00:01:02.000 --> 00:01:05.000
LEE: The water was <i>cold</i>.
"""

SRT = """1
00:00:01,000 --> 00:00:04,000
KIM: We crossed the river at night.

2
00:00:05,000 --> 00:00:08,500
<i>Nobody</i> saw us.

3
00:01:02,000 --> 00:01:05,000
- Guard: Halt!
"""

TXT = """Interview with Kim, Hyesan, 2019
[00:00:01] KIM: We crossed the river at night.
[00:05] Nobody saw us.
and the water was cold.
[00:01:02 - 00:01:05] Guard: Halt!
"""

FRENCH = "[00:00:01] NARRATEUR: Les ÉVÉNEMENTS de l’été à Hyesan, près du fleuve.\n[00:00:04] Déjà vu — « crossing »\n"
CHINESE = "1\n00:00:01,000 --> 00:00:03,000\n我们在夜里过了鸭绿江。\n\n2\n00:00:04,000 --> 00:00:06,000\n河水很冷，没有人看见我们。\n"


def simple(cues: list[Cue]) -> list[tuple[float, float, str, str]]:
    return [(c.start, c.end, c.speaker, c.text) for c in cues]


# -- formats --------------------------------------------------------------------------------

def test_import_webvtt_reads_voices_timings_and_entities() -> None:
    parsed = parse_transcript(VTT.encode(), "clip.en.vtt")
    assert parsed.format == "vtt" and parsed.encoding == "utf-8" and parsed.problems == []
    assert simple(parsed.cues) == [
        (1.0, 4.0, "Kim Soon-ja", "We crossed the river at night."),
        (5.0, 8.5, "Guard", "Halt! Who goes there?\nSecond line & more."),
        (62.0, 65.0, "LEE", "The water was cold."),
    ]
    assert [c.line for c in parsed.cues] == [6, 10, 14]


def test_import_srt_reads_speaker_prefixes_and_strips_tags() -> None:
    parsed = parse_transcript(SRT.encode(), "clip.srt")
    assert simple(parsed.cues) == [
        (1.0, 4.0, "KIM", "We crossed the river at night."),
        (5.0, 8.5, "", "Nobody saw us."),
        (62.0, 65.0, "Guard", "Halt!"),
    ]


def test_import_plain_text_with_timestamps() -> None:
    parsed = parse_transcript(TXT.encode(), "notes.txt")
    assert simple(parsed.cues) == [
        (1.0, 5.0, "KIM", "We crossed the river at night."),
        (5.0, 62.0, "", "Nobody saw us.\nand the water was cold."),
        (62.0, 65.0, "Guard", "Halt!"),
    ]
    assert [str(p) for p in parsed.problems] == ["line 1: text before the first timestamp (ignored)"]


def test_plain_text_last_line_ends_at_the_media_duration() -> None:
    parsed = parse_transcript(b"[00:00:01] a\n[00:00:09] b\n", "x.txt", duration=10.0)
    assert parsed.cues[-1].end == 10.0


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", codecs.BOM_UTF8), ("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
])
def test_import_unicode_encodings_with_and_without_bom(encoding: str, bom: bytes) -> None:
    data = bom + FRENCH.encode(encoding)
    parsed = parse_transcript(data, "fr.txt")
    assert parsed.encoding == encoding
    assert parsed.cues[0].text == "Les ÉVÉNEMENTS de l’été à Hyesan, près du fleuve."
    assert parsed.cues[0].speaker == "NARRATEUR"


def test_import_detects_windows_1252_french() -> None:
    parsed = parse_transcript(FRENCH.encode("cp1252"), "fr.txt")
    assert parsed.encoding == "cp1252"
    assert parsed.cues[1].text == "Déjà vu — « crossing »"


@pytest.mark.parametrize("codec", ["gbk", "gb2312"])
def test_import_detects_gbk_chinese(codec: str) -> None:
    parsed = parse_transcript(CHINESE.encode(codec), "zh.srt")
    assert parsed.encoding == "gb18030"
    assert parsed.cues[0].text == "我们在夜里过了鸭绿江。"


def test_import_takes_an_explicit_encoding() -> None:
    data = "[00:00:01] Ελληνικά κείμενα\n".encode("iso-8859-7")
    assert parse_transcript(data, "el.txt", encoding="iso-8859-7").cues[0].text == "Ελληνικά κείμενα"
    with pytest.raises(TranscriptError, match="unknown encoding 'klingon'"):
        parse_transcript(data, "el.txt", encoding="klingon")


# -- bad files --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, data, line, reason", [
    ("a.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:00:0x.000 --> 00:00:04.000\nbroken\n", 6,
     "broken timestamp '00:00:0x.000'"),
    ("a.srt", b"1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nbad arrow\n", 6,
     "broken cue timing"),
    ("a.srt", b"1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:61:03,000 --> 00:61:04,000\nx\n", 6,
     "broken timestamp '00:61:03,000'"),
    ("a.srt", b"1\n00:00:05,000 --> 00:00:02,000\nreversed\n", 2, "cue ends (00:00:02.000) before it starts"),
    ("a.txt", b"[00:01:00] one\n[00:00:30] two\n", 2, "earlier than the one on line 1"),
    ("a.txt", b"[00:01:00] one\n[00:99] two\n", 2, "broken timestamp [00:99]"),
    ("a.vtt", b"", 1, "the file is empty"),
    ("a.srt", b"  \n\n ", 1, "the file is empty"),
    ("a.vtt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "binary data"),
    ("a.srt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n", 1, "named .srt (SubRip (SRT)) but holds WebVTT"),
    ("a.vtt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", 1, "named .vtt (WebVTT) but holds SubRip"),
    ("a.vtt", b"Just some notes\nabout the film\n", 1, "the first line must be 'WEBVTT'"),
    ("a.vtt", b"WEBVTT\n\nNOTE nothing here\n", 3, "no cues"),
    ("a.docx", b"PK\x03\x04", 1, "unsupported file type .docx"),
    ("a.txt", "[00:00:01] ok\n[00:00:02] \u00ff\u00fe".encode("utf-8")[:-1] + b"\x81\x8d\x9d\x90\x8f", 2,
     "unknown text encoding"),
])
def test_bad_files_are_refused_with_line_and_reason(name: str, data: bytes, line: int, reason: str) -> None:
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(data, name)
    assert caught.value.line == line, str(caught.value)
    assert reason in caught.value.reason


def test_overlapping_cues_are_kept_and_listed() -> None:
    data = b"1\n00:00:01,000 --> 00:00:05,000\na\n\n2\n00:00:04,000 --> 00:00:06,000\nb\n"
    parsed = parse_transcript(data, "x.srt")
    assert [c.text for c in parsed.cues] == ["a", "b"]
    assert [(p.line, "overlaps" in p.message) for p in parsed.problems] == [(6, True)]


def test_cues_out_of_order_are_sorted_and_listed() -> None:
    data = b"WEBVTT\n\n00:00:09.000 --> 00:00:10.000\nlate\n\n00:00:01.000 --> 00:00:02.000\nearly\n"
    parsed = parse_transcript(data, "x.vtt")
    assert [c.text for c in parsed.cues] == ["early", "late"]
    assert "before the one above it" in str(parsed.problems[0])


def test_detection_without_bom_refuses_utf16() -> None:
    with pytest.raises(TranscriptError, match="NUL byte"):
        decode("[00:00:01] hello".encode("utf-16-le"))


# -- export round trips ------------------------------------------------------------------------

def test_export_round_trips_through_webvtt_and_srt() -> None:
    for source, name in ((VTT, "a.vtt"), (SRT, "a.srt"), (TXT, "a.txt"), (CHINESE, "zh.srt")):
        cues = simple(parse_transcript(source.encode(), name).cues)
        assert simple(parse_transcript(to_webvtt(parse_transcript(source.encode(), name).cues).encode(),
                                       "b.vtt").cues) == cues
        assert simple(parse_transcript(to_srt(parse_transcript(source.encode(), name).cues).encode(),
                                       "b.srt").cues) == cues


def test_export_escapes_markup_and_arrows_in_webvtt() -> None:
    cues = [Cue(0.5, 1.25, "x < y & a --> b", "Dr. <Evil>"), Cue(2.0, 3.0, "Note: this is no speaker")]
    text = to_webvtt(cues)
    assert "x &lt; y &amp; a --&gt; b" in text
    back = parse_transcript(text.encode(), "a.vtt").cues
    assert simple(back) == simple(cues)
    # Other readers understand it too.
    assert [c.text for c in webvtt.from_string(text).captions][0] == "x &lt; y &amp; a --&gt; b"


def test_language_and_owner_come_from_sidecar_names() -> None:
    assert language_from_name("clip.ko.vtt") == "ko"
    assert language_from_name("clip.en-us.srt") == "en-US"
    assert language_from_name("clip.vtt") is None
    assert language_from_name("clip.final.vtt") is None
    assert sidecar_base("clip.en.srt") == "clip" and sidecar_base("clip.final.vtt") == "clip.final"


# -- the service --------------------------------------------------------------------------------

def _item(archive: Archive, access: AccessLevel = AccessLevel.public) -> int:
    with archive.session() as session:
        item = Item(title="Night crossing", kind=ItemKind.video, access=access)
        session.add(item)
        session.flush()
        return item.id


def test_import_service_adds_then_replaces_same_language_and_kind(archive: Archive) -> None:
    item_id = _item(archive)
    with archive.session() as session:
        result = import_transcript(session, session.get(Item, item_id), VTT.encode(), "clip.en.vtt")
        assert not result.replaced and result.transcript.language == "en" and result.segment_count == 3
        first_id = result.transcript.id
    with archive.session() as session:
        result = import_transcript(session, session.get(Item, item_id), SRT.encode(), "other.srt", language="en")
        assert result.replaced and result.transcript.id == first_id
    with archive.session() as session:
        import_transcript(session, session.get(Item, item_id), SRT.encode(), "ko.srt", language="ko",
                          kind=TranscriptKind.subtitles)
    with archive.Session() as session:
        transcripts = session.scalars(select(Transcript).order_by(Transcript.id)).all()
        assert [(t.language, t.kind.value, len(t.segments)) for t in transcripts] == \
            [("en", "transcript", 3), ("ko", "subtitles", 3)]
        assert transcripts[0].segments[0].speaker == "KIM"
    # The index followed the commits: the new text is found, at its second.
    response = archive.index.search(SearchRequest(q="crossed river"), ANONYMOUS)
    assert response.total_items == 1 and response.items[0].hits[0].start == 1.0


def test_refused_import_leaves_the_item_unchanged(archive: Archive) -> None:
    item_id = _item(archive)
    with archive.session() as session:
        import_transcript(session, session.get(Item, item_id), SRT.encode(), "a.srt", language="en")
    bad = SRT.encode() + b"\n4\n00:02:00,000 --> 00:01:00,000\nreversed\n"
    with pytest.raises(Invalid, match=r"b\.srt, line 14: cue ends"):
        with archive.session() as session:
            import_transcript(session, session.get(Item, item_id), bad, "b.srt", language="en")
    with archive.Session() as session:
        assert [len(t.segments) for t in session.scalars(select(Transcript))] == [3]


def test_export_service_gives_vtt_and_srt(archive: Archive) -> None:
    item_id = _item(archive)
    with archive.session() as session:
        transcript = import_transcript(session, session.get(Item, item_id), VTT.encode(), "a.vtt").transcript
        vtt, mime = export_transcript(transcript, "vtt")
        srt, _ = export_transcript(transcript, "srt")
    assert mime == "text/vtt" and vtt.startswith("WEBVTT")
    assert "<v Kim Soon-ja>We crossed the river at night." in vtt
    assert "00:00:05,000 --> 00:00:08,500" in srt


# -- the CLI ------------------------------------------------------------------------------------

def test_cli_import_exit_codes_problems_and_export(archive: Archive, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    item_id = _item(archive)
    good = tmp_path / "clip.ko.srt"
    good.write_bytes(b"1\n00:00:01,000 --> 00:00:05,000\n\xec\x95\x95\n\n2\n00:00:04,000 --> 00:00:06,000\nb\n")
    result = runner.invoke(args=["transcripts", "import", str(item_id), str(good)])
    assert result.exit_code == 0, result.output
    assert "imported transcript" in result.stdout and "(ko, transcript): 2 segments" in result.stdout
    assert "problem: clip.ko.srt, line 6: cue overlaps" in result.stderr
    bad = tmp_path / "bad.vtt"
    bad.write_bytes(b"WEBVTT\n\n00:00:01.000 --> 00:00:0y.000\nx\n")
    result = runner.invoke(args=["transcripts", "import", str(item_id), str(bad)])
    assert result.exit_code == 1 and "bad.vtt, line 3: broken timestamp" in result.stderr
    result = runner.invoke(args=["transcripts", "import", "999", str(good)])
    assert result.exit_code == 1 and "item 999" in result.stderr
    result = runner.invoke(args=["transcripts", "export", str(item_id), "--format", "srt"])
    assert result.exit_code == 0 and result.stdout.startswith("1\n00:00:01,000 --> 00:00:05,000\n")
    result = runner.invoke(args=["transcripts", "export", str(item_id), "--format", "vtt", "--language", "en"])
    assert result.exit_code == 1 and "transcript of item" in result.output


# -- sidecars at ingest ---------------------------------------------------------------------------

CROSSINGS = str(Path(sys.executable).with_name("crossings"))


def test_ingest_attaches_sidecars_and_never_ingests_them(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    make_video(folder / "clip.mp4", duration=1.0)
    (folder / "clip.vtt").write_text(VTT, encoding="utf-8")
    (folder / "clip.ko.srt").write_bytes(codecs.BOM_UTF8 + "1\n00:00:01,000 --> 00:00:02,000\n압록강을 건넜어요\n".encode())
    (folder / "clip.en.srt").write_text("1\n00:00:01,000 --> oops\nbroken\n", encoding="utf-8")
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    (folder / "broken.vtt").write_text(VTT, encoding="utf-8")
    (folder / "lonely.srt").write_text(SRT, encoding="utf-8")
    data = tmp_path / "data"
    env = {"CROSSINGS_DATA": str(data), "CROSSINGS_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run([CROSSINGS, "ingest", "--json", "--access", "public", str(folder)], capture_output=True, text=True, env=env,
                            timeout=300)
    summary = json.loads(result.stdout)
    assert result.returncode == 1  # some failed
    [ingested] = summary["ingested"]
    assert ingested["path"].endswith("clip.mp4")
    attached = {Path(a["path"]).name: a for a in summary["attached"]}
    assert set(attached) == {"clip.vtt", "clip.ko.srt"}
    assert {a["item_id"] for a in attached.values()} == {ingested["item_id"]}
    failed = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert "line 2: broken timestamp 'oops'" in failed["clip.en.srt"]
    assert failed["broken.vtt"].startswith("its media file broken.mp4 failed: ")
    assert "media file of the same name" in failed["lonely.srt"]
    assert not any(reason == "not a media file" and name.endswith((".vtt", ".srt")) for name, reason in failed.items())
    archive = Archive.open({"data": str(data), "database_url": database_url})
    with archive.Session() as session:
        item = session.get(Item, ingested["item_id"])
        assert sorted((t.language, t.kind.value) for t in item.transcripts) == [("", "subtitles"), ("ko", "subtitles")]
    response = archive.index.search(SearchRequest(q="압록강"), ANONYMOUS)
    assert [i.item_id for i in response.items] == [ingested["item_id"]]
    archive.close()


@pytest.mark.parametrize(("text", "speaker", "rest"), [
    ("Noi (fictional): We left at dusk.", "Noi (fictional)", "We left at dusk."),
    ("김철수 (가명): 네", "김철수 (가명)", "네"),
    ("He (quietly) said: go", "", "He (quietly) said: go"),
    ("we said: go", "", "we said: go"),
])
def test_split_speaker_takes_a_bracketed_note_after_the_name(text: str, speaker: str, rest: str) -> None:
    from archive.transcripts.cues import split_speaker
    assert split_speaker(text) == (speaker, rest)
