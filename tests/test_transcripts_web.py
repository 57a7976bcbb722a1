"""Transcripts on the web: WebVTT and SRT exports, the upload and delete forms, the item page's tracks and panel."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import ANONYMOUS
from archive.core import Archive
from archive.models import AccessLevel, Collection, Item, ItemKind, Transcript, TranscriptKind
from archive.search import SearchRequest
from archive.services.transcripts import import_transcript
from archive.transcripts import parse_transcript
from archive.web.transcripts import language_name
from conftest import csrf_token
from test_web import add_item

KOREAN = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
<v Kim Soon-ja>밤에 압록강을 건넜어요.

2
00:00:05.000 --> 00:00:08.500
<v Guide>국경 경비대가 없었어요.

3
00:01:02.000 --> 00:01:05.000
물이 아주 차가웠어요.
"""

ENGLISH = """1
00:00:01,000 --> 00:00:04,000
Kim Soon-ja: We crossed the Yalu at night.

2
00:00:05,000 --> 00:00:08,500
Guide: There was no border guard.

3
00:01:02,000 --> 00:01:05,000
The water was very cold & dark.
"""

#: French subtitles as an old Windows subtitle editor saves them.
FRENCH_1252 = ("1\r\n00:00:01,000 --> 00:00:04,000\r\nNARRATRICE: Nous avons traversé le fleuve à l’aube.\r\n\r\n"
               "2\r\n00:00:05,000 --> 00:00:07,000\r\nDéjà l’été — « passeurs ».\r\n").encode("cp1252")


# -- helpers ----------------------------------------------------------------------------------

class ItemPage(HTMLParser):
    """The transcript parts of an item page: its <track>s, tabs, lines per transcript and forms."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tracks: list[dict[str, Any]] = []
        self.tabs: list[tuple[str, str]] = []  # (href, label)
        self.lines: dict[str, list[dict[str, str]]] = {}  # transcript id → lines
        self.forms: list[str] = []  # actions of the panel's forms
        self._panel: str | None = None
        self._line: dict[str, str] | None = None
        self._field: str | None = None
        self._tab: str | None = None
        self._depth = 0  # of <section>s inside the transcripts section
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = values.get("class", "").split()
        if tag == "section" and (self._depth or values.get("id") == "transcripts"):
            self._depth += 1
        if tag == "track":
            self.tracks.append(values)
        elif "data-transcript-tab" in values:
            self._tab = values["href"]
            self.tabs.append((values["href"], ""))
        elif "data-transcript" in values:
            self._panel = values["data-transcript"]
            self.lines[self._panel] = []
        elif "transcript-line" in classes and self._panel is not None:
            self._line = {"start": values["data-start"], "end": values["data-end"], "speaker": "", "time": "",
                          "text": "", "href": ""}
            self.lines[self._panel].append(self._line)
        elif self._line is not None and classes and classes[0].startswith("transcript-line__"):
            self._field = classes[0].removeprefix("transcript-line__")
            if tag == "a":
                self._line["href"] = values["href"]
        elif tag == "form" and self._depth:
            self.forms.append(values["action"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._depth:
            self._depth -= 1
        if tag == "a" and self._tab:
            self._tab = None
        if tag in ("span", "a"):
            self._field = None
        if tag == "li":
            self._line = None

    def handle_data(self, data: str) -> None:
        if self._tab:
            href, label = self.tabs[-1]
            self.tabs[-1] = (href, label + data)
        if self._line is not None and self._field:
            self._line[self._field] += data


def _clip(archive: Archive, access: AccessLevel = AccessLevel.public, **fields: Any) -> int:
    return add_item(archive, fields.pop("title", "Night crossing"), kind=ItemKind.video, access=access,
                    media={"duration": 70.0, "width": 320, "height": 240}, **fields)


def _import(archive: Archive, item_id: int, text: str, name: str, **options: Any) -> int:
    with archive.session() as session:
        return import_transcript(session, session.get(Item, item_id), text.encode(), name, **options).transcript.id


def _transcripts(archive: Archive, item_id: int) -> list[tuple[int, str, str, list[tuple[float, float, str, str]]]]:
    with archive.Session() as session:
        found = session.scalars(select(Transcript).where(Transcript.item_id == item_id).order_by(Transcript.id))
        return [(t.id, t.language, t.kind.value, [(s.start_sec, s.end_sec, s.speaker, s.text) for s in t.segments])
                for t in found]


def _upload(client: FlaskClient, item_id: int, data: bytes, name: str, **fields: str) -> Any:
    token = csrf_token(client, f"/items/{item_id}")
    return client.post(f"/items/{item_id}/transcripts", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), name), **fields})


def _flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m) for m in re.findall(r'<p class="flash">(.*?)</p>', html, re.S)]


def _found(archive: Archive, query: str) -> list[int]:
    return [hit.item_id for hit in archive.index.search(SearchRequest(q=query), ANONYMOUS).items]


# -- exports ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, mime", [("vtt", "text/vtt"), ("srt", "application/x-subrip")])
def test_export_gives_the_segments_back_as_a_download(client: FlaskClient, archive: Archive, fmt: str,
                                                       mime: str) -> None:
    item_id = _clip(archive, title="Yalu River at night")
    transcript_id = _import(archive, item_id, KOREAN, "clip.ko.vtt")
    [(_, _, _, segments)] = _transcripts(archive, item_id)

    response = client.get(f"/items/{item_id}/transcripts/{transcript_id}.{fmt}")

    assert response.status_code == 200
    assert response.mimetype == mime and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="Yalu River at night.ko.{fmt}"'
    cues = parse_transcript(response.data, f"back.{fmt}").cues
    assert [(c.start, c.end, c.speaker, c.text) for c in cues] == segments
    assert segments[0] == (1.0, 4.0, "Kim Soon-ja", "밤에 압록강을 건넜어요.")
    again = client.get(f"/items/{item_id}/transcripts/{transcript_id}.{fmt}",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_srt_export_keeps_a_speaker_whose_name_has_a_note(client: FlaskClient, archive: Archive) -> None:
    item_id = _clip(archive)
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Noi (fictional)>The river.\n"
    transcript_id = _import(archive, item_id, vtt, "a.en.vtt")
    srt = client.get(f"/items/{item_id}/transcripts/{transcript_id}.srt").data
    assert [(c.speaker, c.text) for c in parse_transcript(srt, "a.srt").cues] == [("Noi (fictional)", "The river.")]


def test_export_names_the_kind_and_keeps_a_title_in_any_script(client: FlaskClient, archive: Archive) -> None:
    item_id = _clip(archive, title="압록강 / Yalu")
    transcript_id = _import(archive, item_id, ENGLISH, "x.srt", language="en", kind="subtitles")
    disposition = client.get(f"/items/{item_id}/transcripts/{transcript_id}.srt").headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%EC%95%95%EB%A1%9D%EA%B0%95%20Yalu.subtitles.en.srt" in disposition


def test_export_is_404_where_the_viewer_may_not_see_the_item_or_the_transcript_is_another_items(
        client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    public_id = _clip(archive)
    restricted_id = _clip(archive, AccessLevel.restricted, title="Hideout")
    public_transcript = _import(archive, public_id, KOREAN, "a.ko.vtt")
    restricted_transcript = _import(archive, restricted_id, KOREAN, "b.ko.vtt")

    assert client.get(f"/items/{restricted_id}/transcripts/{restricted_transcript}.vtt").status_code == 404
    assert client.get(f"/items/{restricted_id}/transcripts/{restricted_transcript}.srt").status_code == 404
    # The restricted transcript is not reachable through the public item either, nor a missing one.
    assert client.get(f"/items/{public_id}/transcripts/{restricted_transcript}.vtt").status_code == 404
    assert client.get(f"/items/{public_id}/transcripts/999.vtt").status_code == 404
    assert client.get(f"/items/{public_id}/transcripts/{public_transcript}.txt").status_code == 404
    assert client.get(f"/items/{public_id}/transcripts/{public_transcript}.vtt").status_code == 200

    login("researcher")
    assert client.get(f"/items/{restricted_id}/transcripts/{restricted_transcript}.vtt").status_code == 200
    assert client.get(f"/items/{public_id}/transcripts/{restricted_transcript}.vtt").status_code == 404


def test_export_of_a_confidential_item_needs_a_grant(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive, AccessLevel.confidential, collection="Safe houses")
    transcript_id = _import(archive, item_id, KOREAN, "a.ko.vtt")
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id).where(Collection.title == "Safe houses"))
    login("archivist")
    assert client.get(f"/items/{item_id}/transcripts/{transcript_id}.vtt").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login("archivist", grants=(collection_id,))
    response = client.get(f"/items/{item_id}/transcripts/{transcript_id}.vtt")
    assert response.status_code == 200 and "private" in response.headers["Cache-Control"]


# -- uploads ----------------------------------------------------------------------------------

def test_archivist_uploads_a_webvtt_file_and_search_finds_it(client: FlaskClient, archive: Archive,
                                                              login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    login("archivist")

    response = _upload(client, item_id, KOREAN.encode(), "clip.ko.vtt", kind="transcript")

    assert response.status_code == 303
    [(transcript_id, language, kind, segments)] = _transcripts(archive, item_id)
    assert response.headers["Location"] == f"/items/{item_id}#transcript-{transcript_id}"
    assert (language, kind, len(segments)) == ("ko", "transcript", 3)
    assert segments[1] == (5.0, 8.5, "Guide", "국경 경비대가 없었어요.")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Added the Korean transcript from clip.ko.vtt: 3 lines." in _flashes(page)
    assert _found(archive, "압록강") == [item_id]


def test_upload_reads_a_windows_1252_srt_detected_or_named(client: FlaskClient, archive: Archive,
                                                           login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    login("archivist")

    assert _upload(client, item_id, FRENCH_1252, "fleuve.srt", language="fr", kind="subtitles").status_code == 303
    [(first_id, language, kind, segments)] = _transcripts(archive, item_id)
    assert (language, kind) == ("fr", "subtitles")
    assert segments == [(1.0, 4.0, "NARRATRICE", "Nous avons traversé le fleuve à l’aube."),
                        (5.0, 7.0, "", "Déjà l’été — « passeurs ».")]

    response = _upload(client, item_id, FRENCH_1252, "fleuve.fr.srt", kind="subtitles", encoding="cp1252")
    assert response.status_code == 303
    assert [(t[0], t[3]) for t in _transcripts(archive, item_id)] == [(first_id, segments)]
    # Told the wrong encoding, the file is refused at the line it cannot read.
    response = _upload(client, item_id, FRENCH_1252, "fleuve.fr.srt", kind="subtitles", encoding="utf-8")
    assert response.status_code == 400
    assert "fleuve.fr.srt, line 3: not valid utf-8 text (byte 0xe9)" in response.get_data(as_text=True)


def test_a_bad_file_is_refused_with_its_line_and_nothing_changes(client: FlaskClient, archive: Archive,
                                                                login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    _import(archive, item_id, ENGLISH, "first.en.srt")
    before = _transcripts(archive, item_id)
    login("archivist")
    bad = ENGLISH.encode() + b"\n4\n00:02:00,000 --> 00:01:00,000\nreversed\n"

    response = _upload(client, item_id, bad, "second.en.srt", kind="transcript")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'<details class="transcript-upload" open>.*<p class="field__error" id="tr-file-error">'
                     r'second\.en\.srt, line 14: cue ends \(00:01:00\.000\) before it starts \(00:02:00\.000\)</p>',
                     html, re.S)
    assert 'id="tr-file" name="file"' in html and 'aria-invalid="true"' in html
    assert _transcripts(archive, item_id) == before
    # The page is the item page still, its transcripts as they were.
    assert [line["text"] for line in ItemPage(html).lines[str(before[0][0])]][0] == "We crossed the Yalu at night."


@pytest.mark.parametrize("data, name, fields, field, message", [
    (None, "", {}, "file", "Choose a transcript file"),
    (b"", "empty.vtt", {}, "file", "empty.vtt, line 1: the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "still.vtt", {}, "file", "still.vtt, line 3: binary data"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n", "clip.srt", {}, "file",
     "clip.srt, line 1: the file is named .srt (SubRip (SRT)) but holds WebVTT"),
    (b"%PDF-1.4", "notes.pdf", {}, "file", "notes.pdf, line 1: unsupported file type .pdf"),
    (ENGLISH.encode(), "clip.srt", {"language": "english please"}, "language",
     "&#39;english please&#39; is not a language tag"),
    (ENGLISH.encode(), "clip.srt", {"kind": "poem"}, "kind", "Kind must be one of transcript, subtitles"),
    (ENGLISH.encode(), "clip.srt", {"encoding": "klingon"}, "file",
     "clip.srt, line 1: unknown encoding &#39;klingon&#39;"),
])
def test_refusals_show_a_readable_message_beside_their_field(client: FlaskClient, archive: Archive, login,  # type: ignore[no-untyped-def]
                                                             data: bytes | None, name: str, fields: dict[str, str],
                                                             field: str, message: str) -> None:
    item_id = _clip(archive)
    login("archivist")
    if data is None:
        token = csrf_token(client, f"/items/{item_id}")
        response = client.post(f"/items/{item_id}/transcripts", data={"csrf_token": token},
                               content_type="multipart/form-data")
    else:
        response = _upload(client, item_id, data, name, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field__error" id="tr-{field}-error">([^<]*)</p>', html)
    assert error and message in error.group(1), error and error.group(1)
    assert _transcripts(archive, item_id) == []


def test_problems_in_an_imported_file_are_listed_after_it(client: FlaskClient, archive: Archive,
                                                         login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    login("archivist")
    overlapping = b"1\n00:00:01,000 --> 00:00:05,000\na\n\n2\n00:00:04,000 --> 00:00:06,000\nb\n"

    response = _upload(client, item_id, overlapping, "log.en.srt", kind="interview_log")

    assert response.status_code == 303
    flashes = _flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert flashes[0] == "Added the English interview log from log.en.srt: 2 lines."
    assert flashes[1].startswith("log.en.srt was imported with 1 problem: line 6: cue overlaps the one above it")


def test_a_transcript_of_the_same_language_and_kind_is_replaced(client: FlaskClient, archive: Archive,
                                                               login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    login("archivist")
    _upload(client, item_id, ENGLISH.encode(), "take1.en.srt", kind="transcript")
    _upload(client, item_id, KOREAN.encode(), "take1.ko.vtt", kind="transcript")
    [(english_id, *_), (korean_id, _, _, korean_lines)] = _transcripts(archive, item_id)
    shorter = b"1\n00:00:02,000 --> 00:00:03,000\nRIVER GUIDE: Only the Mekong now.\n"

    response = _upload(client, item_id, shorter, "take2.srt", language="en", kind="transcript")

    assert response.status_code == 303
    assert [(t[0], t[1], t[3]) for t in _transcripts(archive, item_id)] == [
        (english_id, "en", [(2.0, 3.0, "RIVER GUIDE", "Only the Mekong now.")]),
        (korean_id, "ko", korean_lines)]
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Replaced the English transcript from take2.srt: 1 line." in _flashes(page)
    assert _found(archive, "Mekong") == [item_id] and _found(archive, "Yalu") == []


def test_archivist_deletes_a_transcript(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    english_id = _import(archive, item_id, ENGLISH, "a.en.srt")
    korean_id = _import(archive, item_id, KOREAN, "a.ko.vtt")
    login("archivist")
    assert _found(archive, "Yalu") == [item_id]

    token = csrf_token(client, f"/items/{item_id}")
    response = client.post(f"/items/{item_id}/transcripts/{english_id}/delete", data={"csrf_token": token})

    assert response.status_code == 303 and response.headers["Location"] == f"/items/{item_id}#transcripts"
    assert [t[0] for t in _transcripts(archive, item_id)] == [korean_id]
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Deleted the English transcript." in _flashes(page)
    assert [track["srclang"] for track in ItemPage(page).tracks] == ["ko"]
    assert _found(archive, "Yalu") == [] and _found(archive, "압록강") == [item_id]
    assert client.get(f"/items/{item_id}/transcripts/{english_id}.vtt").status_code == 404
    # A transcript is deleted only through its own item.
    other_id = _clip(archive, title="Another clip")
    response = client.post(f"/items/{other_id}/transcripts/{korean_id}/delete", data={"csrf_token": token})
    assert response.status_code == 404 and [t[0] for t in _transcripts(archive, item_id)] == [korean_id]


@pytest.mark.parametrize("role, status", [(None, 302), ("researcher", 404)])
def test_only_editors_upload_and_delete(client: FlaskClient, archive: Archive, login, role: str | None,  # type: ignore[no-untyped-def]
                                        status: int) -> None:
    item_id = _clip(archive)
    transcript_id = _import(archive, item_id, ENGLISH, "a.en.srt")
    if role:
        login(role)
    token = csrf_token(client, "/login" if role is None else "/")
    before = _transcripts(archive, item_id)

    upload = client.post(f"/items/{item_id}/transcripts", content_type="multipart/form-data",
                         data={"csrf_token": token, "file": (io.BytesIO(KOREAN.encode()), "a.ko.vtt")})
    delete = client.post(f"/items/{item_id}/transcripts/{transcript_id}/delete", data={"csrf_token": token})

    assert (upload.status_code, delete.status_code) == (status, status)
    if status == 302:
        assert "/login" in upload.headers["Location"] and "/login" in delete.headers["Location"]
    assert _transcripts(archive, item_id) == before


def test_archivists_cannot_upload_to_items_they_may_not_see(client: FlaskClient, archive: Archive,
                                                            login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive, AccessLevel.confidential, collection="Safe houses")
    login("archivist")
    response = _upload(client, item_id, KOREAN.encode(), "a.ko.vtt")
    assert response.status_code == 404 and _transcripts(archive, item_id) == []


def test_forms_without_a_csrf_token_are_refused(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    transcript_id = _import(archive, item_id, ENGLISH, "a.en.srt")
    login("admin")
    assert client.post(f"/items/{item_id}/transcripts", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(KOREAN.encode()), "a.ko.vtt")}).status_code == 400
    assert client.post(f"/items/{item_id}/transcripts/{transcript_id}/delete").status_code == 400
    assert len(_transcripts(archive, item_id)) == 1


# -- the item page ----------------------------------------------------------------------------

def test_item_page_has_a_track_per_transcript_and_the_first_captions_by_default(client: FlaskClient,
                                                                                archive: Archive) -> None:
    item_id = _clip(archive)
    log_id = _import(archive, item_id, "[00:00:01] Camera pans to the river.\n", "notes.en.txt",
                     kind=TranscriptKind.interview_log)
    korean_id = _import(archive, item_id, KOREAN, "clip.ko.vtt")
    english_id = _import(archive, item_id, ENGLISH, "clip.en.srt", kind=TranscriptKind.subtitles)

    page = ItemPage(client.get(f"/items/{item_id}").get_data(as_text=True))

    assert page.tracks == [
        {"id": f"track-{log_id}", "kind": "metadata", "label": "English interview log",
         "src": f"/items/{item_id}/transcripts/{log_id}.vtt", "srclang": "en"},
        {"id": f"track-{korean_id}", "kind": "captions", "label": "Korean transcript",
         "src": f"/items/{item_id}/transcripts/{korean_id}.vtt", "srclang": "ko", "default": ""},
        {"id": f"track-{english_id}", "kind": "subtitles", "label": "English subtitles",
         "src": f"/items/{item_id}/transcripts/{english_id}.vtt", "srclang": "en"},
    ]


def test_item_page_lists_each_transcripts_lines_with_speakers_and_timecodes(client: FlaskClient,
                                                                            archive: Archive) -> None:
    item_id = _clip(archive)
    korean_id = _import(archive, item_id, KOREAN, "clip.ko.vtt")
    english_id = _import(archive, item_id, ENGLISH, "clip.en.srt", kind=TranscriptKind.subtitles)

    html = client.get(f"/items/{item_id}").get_data(as_text=True)
    page = ItemPage(html)

    assert page.tabs == [(f"#transcript-{korean_id}", "Korean transcript"),
                         (f"#transcript-{english_id}", "English subtitles")]
    assert [(line["time"], line["speaker"], line["text"], line["href"]) for line in page.lines[str(korean_id)]] == [
        ("0:00:01", "Kim Soon-ja", "밤에 압록강을 건넜어요.", f"/items/{item_id}?t=1#player"),
        ("0:00:05", "Guide", "국경 경비대가 없었어요.", f"/items/{item_id}?t=5#player"),
        ("0:01:02", "", "물이 아주 차가웠어요.", f"/items/{item_id}?t=62#player"),
    ]
    assert [(line["start"], line["end"]) for line in page.lines[str(english_id)]] == [
        ("1.0", "4.0"), ("5.0", "8.5"), ("62.0", "65.0")]
    assert page.lines[str(english_id)][2]["text"] == "The water was very cold & dark."
    assert '<ol class="transcript__lines" role="list" lang="ko">' in html
    scripts = re.findall(r'<script src="/static/([a-z]+\.js)" defer></script>', html)
    assert scripts.index("item.js") < scripts.index("transcript.js")
    # Nothing inline for the strict CSP, and no editing for visitors.
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html) and "<script>" not in html
    # Visitors' one form chooses two transcripts to read side by side (a GET: it changes nothing).
    assert page.forms == [f"/items/{item_id}#transcripts"]


def test_a_speakers_name_is_shown_once_per_turn_and_kept_for_screen_readers(client: FlaskClient,
                                                                           archive: Archive) -> None:
    item_id = _clip(archive)
    transcript_id = _import(archive, item_id, "[00:01] KIM: One.\n[00:02] KIM: Two.\n[00:03] LEE: Three.\n"
                                              "[00:04] Four.\n[00:05] LEE: Five.\n", "a.en.txt")
    html = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert [line["speaker"] for line in ItemPage(html).lines[str(transcript_id)]] == ["KIM", "KIM", "LEE", "", "LEE"]
    assert re.findall(r'<li class="transcript-line([^"]*)"', html) == ["", " transcript-line--same-speaker", "", "", ""]


def test_one_transcript_needs_no_switch(client: FlaskClient, archive: Archive) -> None:
    item_id = _clip(archive)
    _import(archive, item_id, KOREAN, "clip.ko.vtt")
    html = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert ItemPage(html).tabs == [] and '<h2 id="transcripts-heading">Transcript</h2>' in html


def test_the_panel_shows_only_when_there_is_a_transcript_or_an_editor_to_add_one(client: FlaskClient,
                                                                                   archive: Archive,
                                                                                   login) -> None:  # type: ignore[no-untyped-def]
    clip_id = _clip(archive)
    still_id = add_item(archive, "Map", kind=ItemKind.still)
    assert 'id="transcripts"' not in client.get(f"/items/{clip_id}").get_data(as_text=True)
    login("archivist")
    html = client.get(f"/items/{clip_id}").get_data(as_text=True)
    assert "This footage has no transcript yet." in html
    assert ItemPage(html).forms == [f"/items/{clip_id}/transcripts"]
    assert 'id="transcripts"' not in client.get(f"/items/{still_id}").get_data(as_text=True)


def test_editors_get_the_upload_form_and_a_delete_button_per_transcript(client: FlaskClient, archive: Archive,
                                                                        login) -> None:  # type: ignore[no-untyped-def]
    item_id = _clip(archive)
    korean_id = _import(archive, item_id, KOREAN, "clip.ko.vtt")
    login("archivist")
    html = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert ItemPage(html).forms == [f"/items/{item_id}/transcripts/{korean_id}/delete", f"/items/{item_id}/transcripts"]
    assert 'data-confirm="Delete the Korean transcript? Its 3 lines leave this page and the search."' in html
    assert '<details class="transcript-upload">' in html  # closed until something is refused
    assert re.search(r'<option value="detect" selected>Detect</option>', html)


@pytest.mark.parametrize("tag, name", [
    ("ko", "Korean"), ("zh-Hans", "Chinese (Simplified)"), ("en-US", "English (United States)"),
    ("zh-Hant-TW", "Chinese (Traditional, Taiwan)"), ("qaa", "qaa"), ("", "No language")])
def test_languages_are_named_as_readers_know_them(tag: str, name: str) -> None:
    assert language_name(tag) == name


def test_uploads_replacements_and_deletes_are_in_the_audit_trail(client: FlaskClient, archive: Archive,
                                                                 login) -> None:  # type: ignore[no-untyped-def]
    from archive.models import AuditEntry
    item_id = _clip(archive)
    login("archivist")
    _upload(client, item_id, ENGLISH.encode(), "take1.en.srt", kind="transcript")
    [(transcript_id, *_)] = _transcripts(archive, item_id)
    shorter = b"1\n00:00:02,000 --> 00:00:03,000\nRIVER GUIDE: Only the Mekong now.\n"
    _upload(client, item_id, shorter, "take1.en.srt", language="en", kind="transcript")  # the same name
    token = csrf_token(client, f"/items/{item_id}")
    client.post(f"/items/{item_id}/transcripts/{transcript_id}/delete", data={"csrf_token": token})

    with archive.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "transcript")
                                  .order_by(AuditEntry.id)).all()
        trail = [(e.action, e.object_id, e.object_label, e.changes.get("segments")) for e in entries]
        actors = {e.actor for e in entries}
    assert len(actors) == 1 and actors.pop().startswith("archivist")
    created_segments = trail[0][3][1]
    assert created_segments >= 2
    assert trail == [
        ("create", transcript_id, "en transcript of Night crossing", [None, created_segments]),
        ("edit", transcript_id, "en transcript of Night crossing", [created_segments, 1]),
        ("purge", transcript_id, "en transcript of Night crossing", None),
    ]
