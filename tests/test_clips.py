"""Clips: the span parser, the pid resolver, citations, and clip lists with their sharing and exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind, User
from archive.services import Invalid, accounts, clips
from conftest import csrf_token, log_in
from test_web import add_item


def _video(archive: Archive, title: str, **fields: object) -> int:
    return add_item(archive, title, kind=ItemKind.video, derivatives=("grid", "page", "proxy"),
                    media={"duration": 120.0, "width": 16, "height": 9}, **fields)


def _pid(archive: Archive, item_id: int) -> str:
    with archive.session() as session:
        return session.get(Item, item_id).pid


def _post(client: FlaskClient, path: str, **data: object) -> object:
    return client.post(path, data={"csrf_token": csrf_token(client, "/clips"), **data})


@pytest.mark.parametrize(("text", "span"), [("75,90", (75.0, 90.0)), ("0:01:15,0:01:30.5", (75.0, 90.5)),
                                            ("npt:10,20", (10.0, 20.0)), ("1:15", (75.0, None)), (",5", (0.0, 5.0))])
def test_parse_span_reads_media_fragment_forms(text: str, span: tuple[float, float | None]) -> None:
    assert clips.parse_span(text) == span


@pytest.mark.parametrize("text", ["90,75", "abc", "1,2,3x", "10,10", "0:75,80"])
def test_parse_span_refuses_what_is_not_a_span(text: str) -> None:
    with pytest.raises(Invalid):
        clips.parse_span(text)


def test_parse_span_refuses_a_span_past_the_media() -> None:
    with pytest.raises(Invalid, match="long"):
        clips.parse_span("100,130", duration=120.0)


def test_citations_name_title_collection_creator_date_archive_span_url_and_access_day(archive: Archive) -> None:
    item_id = _video(archive, "Crossing at Hyesan", collection="River tapes", creator="Kim Ji-won",
                     date_shot="2019-04-03")
    with archive.session() as session:
        item = session.get(Item, item_id)
        cited = clips.cite_clip(item, 75, 90.5, url="https://example.org/id/x?t=75,90.5", archive_name="Crossings",
                                accessed=date(2026, 12, 4))
    assert [c.style for c in cited] == ["chicago", "apa", "mla"]
    for citation in cited:
        for part in ("Crossing at Hyesan", "River tapes", "Kim Ji-won", "2019-04-03", "Crossings",
                     "0:01:15.0–0:01:30.5", "https://example.org/id/x?t=75,90.5"):
            assert part in citation.text, (citation.style, part)
    chicago, apa, mla = (c.text for c in cited)
    assert "(accessed December 4, 2026)" in chicago
    assert apa.startswith("Kim Ji-won. (2019-04-03). Crossing at Hyesan [Video; 0:01:15.0–0:01:30.5].")
    assert mla.endswith("Accessed 4 Dec. 2026.")
    with archive.session() as session:  # no creator, no date: the title leads, and "n.d." ends its sentence once
        item = session.get(Item, _video(archive, "Untitled reel"))
        chicago, apa, _ = (c.text for c in clips.cite_clip(item, 1, 2, url="u", archive_name="Crossings",
                                                             accessed=date(2026, 12, 4)))
    assert apa.startswith("Untitled reel [Video; 0:00:01.0–0:00:02.0]. (n.d.). Crossings.")
    assert "N.d. Crossings." in chicago and ".." not in chicago


def test_a_pid_link_resolves_to_the_item_keeping_the_span(archive: Archive, client: FlaskClient) -> None:
    public = _video(archive, "Open tape", access=AccessLevel.public)
    hidden = _video(archive, "Closed tape", access=AccessLevel.restricted)
    response = client.get(f"/id/{_pid(archive, public)}?t=75,90")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{public}?t=75,90")
    assert client.get(f"/id/{_pid(archive, public)}").headers["Location"].endswith(f"/items/{public}")
    assert client.get(f"/id/{_pid(archive, hidden)}?t=1,2").status_code == 404
    assert client.get("/id/ark:/99999/nothing").status_code == 404


def test_the_item_page_offers_link_and_cite_on_its_identifier(archive: Archive, client: FlaskClient) -> None:
    item_id = _video(archive, "Open tape", access=AccessLevel.public)
    body = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Link to this moment" in body and "Cite this clip" in body
    assert f'data-moment-base="/id/{_pid(archive, item_id)}"' in body  # the script adds the host it was read from
    assert "clip_tools.js" in body


def test_the_citation_page_cites_the_span_and_links_it(archive: Archive, client: FlaskClient) -> None:
    item_id = _video(archive, "Open tape", access=AccessLevel.public, creator="Lee")
    pid = _pid(archive, item_id)
    page = client.get(f"/items/{item_id}/cite?t=0:01:15,90")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f"/id/{pid}?t=75,90" in body
    assert body.count("0:01:15.0–0:01:30.0") >= 4  # the heading and the three styles
    for label in ("Chicago", "APA", "MLA"):
        assert f"<dt>{label}</dt>" in body
    assert "Save to a clip list" not in body  # for accounts only
    # the item page's form sends the fields instead
    assert f"/id/{pid}?t=10,20" in client.get(f"/items/{item_id}/cite?start=0:10&end=20").get_data(as_text=True)


@pytest.mark.parametrize("query", ["t=90,75", "t=abc", "t=100,130", "start=5&end=1", "start=&end="])
def test_the_citation_page_refuses_a_bad_span_readably(archive: Archive, client: FlaskClient, query: str) -> None:
    item_id = _video(archive, "Open tape", access=AccessLevel.public)
    response = client.get(f"/items/{item_id}/cite?{query}")
    assert response.status_code == 400, query
    assert "<h1" in response.get_data(as_text=True)


def test_a_list_saves_orders_and_removes_clips(archive: Archive, client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    first = _video(archive, "First tape", access=AccessLevel.public)
    second = _video(archive, "Second tape", access=AccessLevel.restricted)
    log_in(client, make_user("researcher", "rea"))
    made = _post(client, "/clips", name="  Lecture   one ")
    assert made.status_code == 303
    list_id = int(made.headers["Location"].rsplit("/", 1)[1])
    assert _post(client, f"/items/{first}/clips", list_id=list_id, start="0:10", end="20", note="the river").status_code == 303
    assert _post(client, f"/items/{second}/clips", list_id=list_id, start="30", end="0:00:45.5").status_code == 303
    page = client.get(f"/clips/{list_id}").get_data(as_text=True)
    assert "Lecture one" in page
    page = page.split('<ol class="clips"')[1]
    assert page.index("First tape") < page.index("Second tape") and "the river" in page
    with archive.session() as session:
        view = clips.get_list(session, accounts.viewer_for(accounts.get_user(session, "rea")), list_id)
        first_clip = view.clips[0].id
    assert _post(client, f"/clips/{list_id}/clips/{first_clip}/move", direction="down").status_code == 303
    page = client.get(f"/clips/{list_id}").get_data(as_text=True).split('<ol class="clips"')[1]
    assert page.index("Second tape") < page.index("First tape")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/clips/{list_id}.csv").get_data(as_text=True))))
    assert [(r["title"], r["in"], r["out"]) for r in rows] == [("Second tape", "0:00:30.0", "0:00:45.5"),
                                                               ("First tape", "0:00:10.0", "0:00:20.0")]
    assert rows[1]["note"] == "the river" and rows[1]["url"].endswith(f"/id/{_pid(archive, first)}?t=10,20")
    chapters = client.get(f"/clips/{list_id}.vtt").get_data(as_text=True)
    # played in sequence: the second chapter starts where the first (15.5 s long) ends
    assert "00:00:00.000 --> 00:00:15.500" in chapters and "00:00:15.500 --> 00:00:25.500" in chapters
    ranges = client.get(f"/clips/{list_id}.iiif.json").get_json()
    assert ranges["type"] == "Range" and ranges["label"] == {"en": ["Lecture one"]}
    assert [r["items"][0]["id"].rsplit("#", 1)[1] for r in ranges["items"]] == ["t=30,45.5", "t=10,20"]
    assert ranges["items"][1]["partOf"][0]["id"].endswith(f"/iiif/items/{first}/manifest")
    assert _post(client, f"/clips/{list_id}/clips/{first_clip}/delete").status_code == 303
    assert "First tape" not in client.get(f"/clips/{list_id}").get_data(as_text=True).split('<ol class="clips"')[1]


def test_saving_refuses_bad_times_and_items_the_account_may_not_see(archive: Archive, client: FlaskClient,
                                                                    make_user) -> None:  # type: ignore[no-untyped-def]
    open_tape = _video(archive, "Open tape", access=AccessLevel.public)
    secret = _video(archive, "Secret tape", access=AccessLevel.confidential, collection="Sealed")
    log_in(client, make_user("researcher"))
    list_id = int(_post(client, "/clips", name="Mine").headers["Location"].rsplit("/", 1)[1])
    assert _post(client, f"/items/{open_tape}/clips", list_id=list_id, start="20", end="10").status_code == 400
    assert _post(client, f"/items/{open_tape}/clips", list_id=list_id, start="10", end="200").status_code == 400
    assert _post(client, f"/items/{open_tape}/clips", list_id="x", start="1", end="2").status_code == 400
    assert _post(client, f"/items/{secret}/clips", list_id=list_id, start="1", end="2").status_code == 404
    assert _post(client, "/clips", name="   ").status_code == 400
    assert client.get("/clips/999999").status_code == 404


def test_a_shared_list_holds_only_what_its_reader_may_see(archive: Archive, app, make_user) -> None:  # type: ignore[no-untyped-def]
    """To the account a list is shared with, a clip of an item they may not see does not exist: not its title,
    note or placeholder, nor in a count or an export; only the owner is told how many they can no longer see."""
    public = _video(archive, "Open tape", access=AccessLevel.public)
    sealed = _video(archive, "Sealed tape", access=AccessLevel.confidential, collection="Sealed")
    with archive.session() as session:
        sealed_collection = session.get(Item, sealed).collection_id
    owner = make_user("archivist", "owner", grants=(sealed_collection,))
    reader = make_user("researcher", "reader")
    owner_client, reader_client = app.test_client(), app.test_client()
    log_in(owner_client, owner)
    log_in(reader_client, reader)
    list_id = int(_post(owner_client, "/clips", name="Field notes").headers["Location"].rsplit("/", 1)[1])
    _post(owner_client, f"/items/{sealed}/clips", list_id=list_id, start="1", end="2", note="SEALED-NOTE")
    _post(owner_client, f"/items/{public}/clips", list_id=list_id, start="3", end="4", note="open note")
    assert client_sees(reader_client, list_id) == 404  # not shared yet
    assert _post(owner_client, f"/clips/{list_id}/share", username="nobody").status_code == 400
    assert _post(owner_client, f"/clips/{list_id}/share", username="reader").status_code == 303

    page = reader_client.get(f"/clips/{list_id}").get_data(as_text=True)
    assert "Open tape" in page and "open note" in page and "1 clip<" in page
    assert "Sealed" not in page and "SEALED-NOTE" not in page and "no longer available" not in page
    index = reader_client.get("/clips").get_data(as_text=True)
    assert "Field notes" in index and "by owner, 1 clip<" in index
    for export in (".csv", ".vtt", ".iiif.json"):
        body = reader_client.get(f"/clips/{list_id}{export}").get_data(as_text=True)
        assert "Open tape" in body and "Sealed" not in body and "SEALED-NOTE" not in body, export
        assert _pid(archive, sealed) not in body, export
    # read-only: the reader changes nothing, and is told nothing but "not found"
    with archive.session() as session:
        clip_ids = [c.id for c in clips.get_list(session, accounts.viewer_for(accounts.get_user(session, "owner")),
                                                 list_id).clips]
    for path, data in ((f"/clips/{list_id}/rename", {"name": "Mine now"}), (f"/clips/{list_id}/share", {"username": "reader"}),
                       (f"/clips/{list_id}/clips/{clip_ids[1]}/move", {"direction": "up"}),
                       (f"/clips/{list_id}/clips/{clip_ids[1]}/delete", {}), (f"/clips/{list_id}/delete", {})):
        assert _post(reader_client, path, **data).status_code == 404, path
    # the owner's page names both; once the grant is gone, the owner is told one is no longer available
    assert "Sealed tape" in owner_client.get(f"/clips/{list_id}").get_data(as_text=True)
    with archive.session() as session:
        accounts.revoke(session, "owner", sealed_collection)
    owner_client = app.test_client()
    log_in(owner_client, owner)
    page = owner_client.get(f"/clips/{list_id}").get_data(as_text=True)
    assert "1 clip is no longer available to you." in page
    assert "Sealed" not in page and "SEALED-NOTE" not in page
    assert "no longer available" not in reader_client.get(f"/clips/{list_id}").get_data(as_text=True)
    # unsharing closes the list to the reader
    with archive.session() as session:
        reader_id = session.scalar(select(User.id).where(User.username == "reader"))
    assert _post(owner_client, f"/clips/{list_id}/shares/{reader_id}/delete").status_code == 303
    assert client_sees(reader_client, list_id) == 404


def client_sees(client: FlaskClient, list_id: int) -> int:
    return client.get(f"/clips/{list_id}").status_code


def test_clip_lists_need_an_account(client: FlaskClient) -> None:
    response = client.get("/clips")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_range_tags_and_search_hits_get_link_and_cite(archive: Archive, client: FlaskClient) -> None:
    from archive.models import Tag, TimeRange
    from archive.services.transcripts import import_transcript
    item_id = _video(archive, "Open tape", access=AccessLevel.public)
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.ranges.append(TimeRange(tag=Tag(name="boat"), start_sec=5.0, end_sec=9.5))
        import_transcript(session, item, b"WEBVTT\n\n00:01:12.500 --> 00:01:15.000\nThe river was cold.\n", "open.en.vtt")
    body = client.get(f"/items/{item_id}").get_data(as_text=True)
    pid = _pid(archive, item_id)
    assert f"/id/{pid}?t=5,9.5" in body and f"/items/{item_id}/cite?t=5,9.5" in body
    search = client.get("/search?q=cold").get_data(as_text=True)
    assert f"/id/{pid}?t=72.5,75" in search and f"/items/{item_id}/cite?t=72.5,75" in search
