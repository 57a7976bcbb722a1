"""Two transcripts side by side: rows aligned by start time, the pair chosen per item and kept per account,
a link's pair for the public, and refusals that say what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient

from archive.core import Archive
from archive.models import AccessLevel, TranscriptPair
from archive.services.transcript_pairs import aligned_rows
from conftest import csrf_token
from test_transcripts_web import ENGLISH, KOREAN, _clip, _import

#: Spanish subtitles whose cues start a moment after the Korean ones, with one cue of their own.
SPANISH = """WEBVTT

00:00:01.300 --> 00:00:04.000
Cruzamos el Yalu de noche.

00:00:04.400 --> 00:00:05.000
(silencio)

00:00:05.200 --> 00:00:08.500
No había guardia.
"""


@dataclass(frozen=True)
class Cue:
    start: float
    text: str


def test_aligned_rows_pair_cues_starting_at_the_same_moment() -> None:
    left = [Cue(1.0, "a"), Cue(5.0, "b"), Cue(62.0, "c")]
    right = [Cue(1.3, "A"), Cue(4.4, "silence"), Cue(5.2, "B")]
    rows = aligned_rows(left, right)
    assert [(r.start, r.left and r.left.text, r.right and r.right.text) for r in rows] == [
        (1.0, "a", "A"), (4.4, None, "silence"), (5.0, "b", "B"), (62.0, "c", None)]
    assert aligned_rows([], right)[0].left is None and len(aligned_rows(left, [])) == 3


def _rows(html: str) -> list[tuple[str, str]]:
    """(left text, right text) of each side-by-side row; "" for an empty side."""
    block = re.search(r'<ol class="transcript-pair__rows".*?</ol>', html, re.S)
    assert block, "no side-by-side rows on the page"
    rows = re.findall(r'<li class="transcript-pair__row".*?</li>', block.group(0), re.S)

    def side(row: str, name: str) -> str:
        cell = re.search(rf'data-side="{name}"(.*?)</div>', row, re.S)
        text = re.search(r'transcript-line__text">(.*?)</span>', cell.group(1), re.S) if cell else None
        return text.group(1).strip() if text else ""
    return [(side(r, "left"), side(r, "right")) for r in rows]


def _item_with_three(archive: Archive, access: AccessLevel = AccessLevel.public,
                     title: str = "Night crossing") -> tuple[int, int, int, int]:
    item = _clip(archive, access, title=title)
    return (item, _import(archive, item, KOREAN, "clip.ko.vtt"),
            _import(archive, item, ENGLISH, "clip.en.srt", kind="subtitles"),
            _import(archive, item, SPANISH, "clip.es.vtt", kind="subtitles"))


def test_a_link_shows_two_transcripts_side_by_side(client: FlaskClient, archive: Archive) -> None:
    item, korean, english, spanish = _item_with_three(archive)
    plain = client.get(f"/items/{item}").get_data(as_text=True)
    assert "transcript-pair__rows" not in plain and 'data-transcript-pair-form' in plain
    assert 'method="get"' in plain  # the public chooses through a link

    html = client.get(f"/items/{item}?left={korean}&right={spanish}").get_data(as_text=True)
    assert "transcripts--paired" in html
    assert _rows(html) == [("밤에 압록강을 건넜어요.", "Cruzamos el Yalu de noche."), ("", "(silencio)"),
                           ("국경 경비대가 없었어요.", "No había guardia."), ("물이 아주 차가웠어요.", "")]
    # Each cell links to its moment, and carries its language.
    assert f'href="/items/{item}?t=62#player"' in html and 'lang="es"' in html
    # Escaped as the panel escapes (& in the English subtitles).
    assert "cold &amp; dark" in client.get(f"/items/{item}?left={english}&right={korean}").get_data(as_text=True)


def test_a_pair_that_does_not_read_shows_one_at_a_time(client: FlaskClient, archive: Archive) -> None:
    item, korean, _, _ = _item_with_three(archive)
    _, other, _, _ = _item_with_three(archive, title="Another crossing")
    for query in (f"left={korean}&right={korean}", f"left={korean}&right={other}", "left=x&right=", "left=&right="):
        response = client.get(f"/items/{item}?{query}")
        assert response.status_code == 200, query
        assert "transcript-pair__rows" not in response.get_data(as_text=True), query


def test_an_account_keeps_its_pair_per_item(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item, korean, english, spanish = _item_with_three(archive)
    second, _, _, _ = _item_with_three(archive, title="Another crossing")
    login("researcher")
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert f'action="/items/{item}/transcripts/pair"' in page and 'method="post"' in page
    token = csrf_token(client, f"/items/{item}")
    response = client.post(f"/items/{item}/transcripts/pair",
                           data={"left": spanish, "right": english, "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/items/{item}#transcripts")
    rows = _rows(client.get(f"/items/{item}").get_data(as_text=True))
    assert rows[0] == ("Cruzamos el Yalu de noche.", "We crossed the Yalu at night.")
    # Another item keeps its own choice (none yet).
    assert "transcript-pair__rows" not in client.get(f"/items/{second}").get_data(as_text=True)
    with archive.session() as session:
        assert session.query(TranscriptPair).count() == 1

    # One at a time again.
    client.post(f"/items/{item}/transcripts/pair", data={"single": "1", "csrf_token": token})
    assert "transcript-pair__rows" not in client.get(f"/items/{item}").get_data(as_text=True)


def test_a_pair_is_refused_with_a_reason(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item, korean, english, _ = _item_with_three(archive)
    _, other, _, _ = _item_with_three(archive, title="Another crossing")
    login("researcher")
    token = csrf_token(client, f"/items/{item}")
    for data, message in (({"left": korean, "right": korean}, "two different transcripts"),
                          ({"left": korean, "right": other}, f"no transcript {other}"),
                          ({"left": "ko", "right": english}, "choose two transcripts"),
                          ({}, "choose two transcripts")):
        response = client.post(f"/items/{item}/transcripts/pair", data={**data, "csrf_token": token})
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    with archive.session() as session:
        assert session.query(TranscriptPair).count() == 0


def test_a_pair_on_an_item_the_viewer_may_not_see_does_not_exist(client: FlaskClient, archive: Archive,
                                                                  login) -> None:  # type: ignore[no-untyped-def]
    item, korean, english, _ = _item_with_three(archive, AccessLevel.confidential)
    login("researcher")
    token = csrf_token(client, "/")
    response = client.post(f"/items/{item}/transcripts/pair", data={"left": korean, "right": english,
                                                                    "csrf_token": token})
    assert response.status_code == 404
