"""Time-range tags: timecodes, the ranges service, the audit trail and the item page's forms."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import Role, Viewer
from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, Item, ItemKind, Tag, TimeRange
from archive.search import SearchRequest
from archive.services import Invalid, NotFound, ranges, search_sync
from archive.timecode import format_timecode, parse_timecode, seconds_param
from conftest import csrf_token
from test_web import add_item, text

MINA = Viewer(role=Role.archivist, user_id=None, name="mina")


@pytest.fixture
def clip(archive: Archive) -> int:
    """A public six-second video tagged "river"."""
    return add_item(archive, "Tumen at dawn", kind=ItemKind.video, tags=("river",), media={"duration": 6.0})


def _add(archive: Archive, item_id: int, start: float | str, end: float | str, tag: str, note: str = "") -> int:
    with archive.session(MINA) as session:
        return ranges.add_range(session, session.get(Item, item_id), start=start, end=end, tag_name=tag,
                                note=note).id


def _ranges(archive: Archive, item_id: int) -> list[tuple[float, float, str, str]]:
    with archive.Session() as session:
        return [(r.start_sec, r.end_sec, r.tag.name, r.note)
                for r in ranges.list_ranges(session, session.get(Item, item_id))]


# -- timecodes --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("75", 75.0), ("75.5", 75.5), (" 2 ", 2.0), (".5", 0.5), ("1:15", 75.0), ("01:15.5", 75.5),
    ("75:30", 4530.0), ("0:01:15.500", 75.5), ("1:02:03", 3723.0), ("00:01:02,5", 62.5),
])
def test_parse_timecode_reads_seconds_minutes_and_hours(text: str, seconds: float) -> None:
    assert parse_timecode(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "-1", "1e3", "1:60", "1:60:00", "1::2", "1:2:3:4", "1 min", "١٢"])
def test_parse_timecode_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time|fewer than 60"):
        parse_timecode(text)


@pytest.mark.parametrize("seconds, places, expected", [
    (0, 1, "0:00:00.0"), (1.04, 1, "0:00:01.0"), (1.04, 3, "0:00:01.04"), (59.96, 1, "0:01:00.0"),
    (2.25, 1, "0:00:02.3"), (3723.25, 2, "1:02:03.25"), (36000, 1, "10:00:00.0"),
])
def test_format_timecode_rounds_and_carries_into_minutes(seconds: float, places: int, expected: str) -> None:
    assert format_timecode(seconds, places) == expected
    assert parse_timecode(expected) == pytest.approx(seconds, abs=0.5 / 10**places)


def test_seconds_param_is_short() -> None:
    assert [seconds_param(s) for s in (0, 1.0, 61.5, 3723.125)] == ["0", "1", "61.5", "3723.125"]


# -- the service --------------------------------------------------------------------------------

def test_add_range_takes_timecodes_and_reuses_a_tag_whatever_its_case(archive: Archive, clip: int) -> None:
    _add(archive, clip, "0:03", "4.25", "  River ", note=" boats ")
    _add(archive, clip, 1, 2.5, "crossing")

    assert _ranges(archive, clip) == [(1.0, 2.5, "crossing", ""), (3.0, 4.25, "river", "boats")]
    with archive.Session() as session:
        assert sorted(session.scalars(select(Tag.name))) == ["crossing", "river"]


def test_add_range_takes_an_end_just_past_the_duration_as_the_end(archive: Archive, clip: int) -> None:
    _add(archive, clip, "5", "6.1", "dawn")  # players report a little more than the probe

    assert _ranges(archive, clip) == [(5.0, 6.0, "dawn", "")]


@pytest.mark.parametrize("fields, field, message", [
    ({"start": ""}, "start", "give the start"),
    ({"start": "soon"}, "start", "is not a time"),
    ({"start": -1}, "start", "0 or later"),
    ({"start": float("nan")}, "start", "number of seconds"),
    ({"start": "6"}, "start", "before the end of the media"),
    ({"end": "0:01"}, "end", "after the start"),
    ({"end": "2"}, "end", "after the start"),
    ({"end": "0:07"}, "end", "past the end of the media"),
    ({"end": "1:75"}, "end", "fewer than 60"),
    ({"tag_name": "   "}, "tag", "give the range a tag"),
    ({"tag_name": "x" * 201}, "tag", "at most 200"),
    ({"note": "n" * 2001}, "note", "longer than 2000"),
])
def test_add_range_refuses_bad_values_beside_their_field(archive: Archive, clip: int, fields: dict[str, object],
                                                         field: str, message: str) -> None:
    values = {"start": "2", "end": "4", "tag_name": "new tag", "note": ""} | fields
    with archive.session() as session:
        with pytest.raises(Invalid, match=message) as caught:
            ranges.add_range(session, session.get(Item, clip), **values)  # type: ignore[arg-type]
    assert caught.value.field == field
    with archive.Session() as session:  # nothing was made, not even the tag
        assert session.scalar(select(TimeRange.id)) is None
        assert session.scalar(select(Tag.id).where(Tag.name == "new tag")) is None


def test_stills_have_no_time_ranges(archive: Archive) -> None:
    still = add_item(archive, "Station", kind=ItemKind.still)

    with pytest.raises(Invalid, match="no timeline"):
        _add(archive, still, 0, 1, "station")


def test_ranges_of_media_of_unknown_length_are_not_bounded_above(archive: Archive) -> None:
    recording = add_item(archive, "Phone call", kind=ItemKind.audio)

    _add(archive, recording, "1:00:00", "2:00:00", "call")

    assert _ranges(archive, recording) == [(3600.0, 7200.0, "call", "")]


def test_update_range_changes_the_given_fields_and_reports_them(archive: Archive, clip: int) -> None:
    range_id = _add(archive, clip, 1, 2, "river", note="first")
    with archive.session(MINA) as session:
        time_range = session.get(TimeRange, range_id)
        changes = ranges.update_range(session, time_range, start="0:00:01.5", end="3", tag_name="Boat", note="first")
        assert ranges.update_range(session, time_range, start="1.5") == {}
        with pytest.raises(Invalid) as caught:
            ranges.update_range(session, time_range, end="1")
        assert caught.value.field == "end"

    assert changes == {"start": (1.0, 1.5), "end": (2.0, 3.0), "tag": ("river", "Boat")}
    assert _ranges(archive, clip) == [(1.5, 3.0, "Boat", "first")]


def test_delete_range_keeps_its_tag(archive: Archive, clip: int) -> None:
    range_id = _add(archive, clip, 1, 2, "lone tag")
    with archive.session(MINA) as session:
        ranges.delete_range(session, session.get(TimeRange, range_id))

    assert _ranges(archive, clip) == []
    with archive.Session() as session:
        assert session.scalar(select(Tag.id).where(Tag.name == "lone tag")) is not None


def test_range_changes_are_recorded_in_the_audit_trail(archive: Archive, clip: int) -> None:
    range_id = _add(archive, clip, 1, 2, "river")
    with archive.session(MINA) as session:
        ranges.update_range(session, session.get(TimeRange, range_id), end="2.5", note="boats")
    with archive.session(MINA) as session:
        ranges.delete_range(session, session.get(TimeRange, range_id))

    with archive.Session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "range")
                                  .order_by(AuditEntry.id)).all()
        river_id = session.scalar(select(Tag.id).where(Tag.name == "river"))
    assert [(e.action, e.actor, e.object_id) for e in entries] == [
        ("create", "mina", range_id), ("edit", "mina", range_id), ("purge", "mina", range_id)]
    assert entries[0].changes["start_sec"] == [None, 1.0] and entries[0].changes["tag_id"] == [None, river_id]
    assert entries[1].changes == {"end_sec": [2.0, 2.5], "note": ["", "boats"]}


def test_get_range_goes_through_the_access_policy(archive: Archive, clip: int) -> None:
    hidden = add_item(archive, "Safe house", kind=ItemKind.video, access=AccessLevel.confidential,
                      collection="Private donation")
    mine, other = _add(archive, clip, 1, 2, "river"), _add(archive, hidden, 1, 2, "house")
    with archive.Session() as session:
        assert ranges.get_range(session, MINA, clip, mine).id == mine
        with pytest.raises(NotFound):
            ranges.get_range(session, MINA, hidden, other)
        with pytest.raises(NotFound):
            ranges.get_range(session, MINA, clip, other)  # a range of another item


# -- the item page ------------------------------------------------------------------------------

def _links(html: str) -> list[tuple[str, str, str]]:
    # The hidden "Play <tag>, " keeps the visible times inside the link's name (label-content-name-mismatch).
    return re.findall(r'<a class="range__time" href="([^"]+)"[^>]*><span\s+class="visually-hidden">Play [^<]+, </span>'
                      r'<span class="range__start">([^<]+)</span>–<span class="range__end">([^<]+)</span>', html)


def test_item_page_lists_ranges_by_start_for_everyone_with_links_to_their_start(client: FlaskClient,
                                                                                 archive: Archive, clip: int) -> None:
    _add(archive, clip, "0:03.5", "0:05", "boat", note="two boats")
    _add(archive, clip, 1, 2.25, "river")

    html = text(client.get(f"/items/{clip}"))

    assert _links(html) == [(f"/items/{clip}?t=1#player", "0:00:01.0", "0:00:02.3"),
                            (f"/items/{clip}?t=3.5#player", "0:00:03.5", "0:00:05.0")]
    assert 'id="player"' in html and "two boats" in html
    assert 'data-seek-to="1.0"' in html and "/static/ranges.js" in html
    assert "range-new" not in html and "Mark in" not in html and "/ranges/" not in html  # no editing


def test_item_page_has_no_range_section_when_nothing_is_tagged_and_nobody_may_edit(client: FlaskClient,
                                                                                   clip: int) -> None:
    assert 'id="ranges"' not in text(client.get(f"/items/{clip}"))


def test_archivist_sees_the_range_form_with_mark_buttons_and_known_tags(client: FlaskClient, archive: Archive,
                                                                        clip: int, login) -> None:  # type: ignore[no-untyped-def]
    login("archivist")

    html = text(client.get(f"/items/{clip}"))

    form = html[html.index('id="range-new"'):]
    assert f'action="/items/{clip}/ranges"' in html
    for name in ("start", "end", "tag", "note", "csrf_token"):
        assert f'name="{name}"' in form
    assert 'data-mark="start" hidden>Mark in</button>' in form and 'data-mark="end" hidden>Mark out</button>' in form
    assert '<datalist id="range-tags"><option value="river"></datalist>' in html
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)


def test_archivist_adds_a_range_through_the_form(client: FlaskClient, archive: Archive, clip: int,
                                                 login) -> None:  # type: ignore[no-untyped-def]
    login("archivist")

    response = client.post(f"/items/{clip}/ranges", data={
        "csrf_token": csrf_token(client, f"/items/{clip}"), "start": "0:01", "end": "3.5", "tag": "crossing",
        "note": "the guide waves"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/items/{clip}?t=3.5#range-")
    assert _ranges(archive, clip) == [(1.0, 3.5, "crossing", "the guide waves")]
    html = text(client.get(f"/items/{clip}"))
    assert "Tagged 0:00:01.0–0:00:03.5 as “crossing”." in html
    assert _links(html) == [(f"/items/{clip}?t=1#player", "0:00:01.0", "0:00:03.5")]


def test_refused_range_is_shown_again_with_the_message_beside_its_field(client: FlaskClient, archive: Archive,
                                                                        clip: int, login) -> None:  # type: ignore[no-untyped-def]
    login("archivist")

    response = client.post(f"/items/{clip}/ranges", data={
        "csrf_token": csrf_token(client, f"/items/{clip}"), "start": "0:04", "end": "0:02", "tag": "new tag",
        "note": "kept"})

    html = text(response)
    assert response.status_code == 400
    form = html[html.index('id="range-new"'):]
    assert re.search(r'id="range-new-end"[^>]*aria-invalid="true"', form, re.S)
    assert '<p class="field__error" id="range-new-end-error">the end must come after the start (0:00:04.0)</p>' in form
    assert 'value="0:04"' in form and 'value="new tag"' in form and ">kept</textarea>" in form
    assert "Tumen at dawn" in html  # the whole item page, with the player
    assert _ranges(archive, clip) == []
    with archive.Session() as session:
        assert session.scalar(select(Tag.id).where(Tag.name == "new tag")) is None


def test_archivist_edits_and_deletes_a_range(client: FlaskClient, archive: Archive, clip: int,
                                             login) -> None:  # type: ignore[no-untyped-def]
    range_id = _add(archive, clip, 1, 2, "river")
    login("archivist")
    token = csrf_token(client, f"/items/{clip}")

    refused = client.post(f"/items/{clip}/ranges/{range_id}", data={
        "csrf_token": token, "start": "1", "end": "9", "tag": "river", "note": ""})
    edited = client.post(f"/items/{clip}/ranges/{range_id}", data={
        "csrf_token": token, "start": "1.5", "end": "0:02.75", "tag": "Bridge", "note": "from the bank"})

    assert refused.status_code == 400
    assert re.search(rf'<details class="range__edit" open>.*id="range-{range_id}-end-error">the end is past the end '
                     r"of the media \(0:00:06.0\)", text(refused), re.S)
    assert edited.status_code == 302
    assert _ranges(archive, clip) == [(1.5, 2.75, "Bridge", "from the bank")]

    deleted = client.post(f"/items/{clip}/ranges/{range_id}/delete", data={"csrf_token": token})

    assert deleted.status_code == 302 and deleted.headers["Location"] == f"/items/{clip}#ranges"
    assert _ranges(archive, clip) == []
    with archive.Session() as session:
        actors = session.scalars(select(AuditEntry.actor).where(AuditEntry.object_type == "range")).all()
    assert actors == ["mina", "archivist-1", "archivist-1"]  # made by the service, then the edit and delete


def test_anonymous_visitors_are_sent_to_log_in_and_researchers_get_404(client: FlaskClient, archive: Archive,
                                                                       clip: int, login) -> None:  # type: ignore[no-untyped-def]
    range_id = _add(archive, clip, 1, 2, "river")
    data = {"csrf_token": csrf_token(client), "start": "1", "end": "2", "tag": "x", "note": ""}
    urls = (f"/items/{clip}/ranges", f"/items/{clip}/ranges/{range_id}", f"/items/{clip}/ranges/{range_id}/delete")

    for url in urls:
        response = client.post(url, data=data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), url

    login("researcher")
    data["csrf_token"] = csrf_token(client, f"/items/{clip}")
    for url in urls:
        assert client.post(url, data=data).status_code == 404, url
    assert _ranges(archive, clip) == [(1.0, 2.0, "river", "")]


def test_range_forms_without_a_csrf_token_are_refused(client: FlaskClient, archive: Archive, clip: int,
                                                      login) -> None:  # type: ignore[no-untyped-def]
    range_id = _add(archive, clip, 1, 2, "river")
    login("archivist")

    added = client.post(f"/items/{clip}/ranges", data={"start": "1", "end": "2", "tag": "x"})
    deleted = client.post(f"/items/{clip}/ranges/{range_id}/delete", data={"csrf_token": "forged"})

    assert added.status_code == 400 and deleted.status_code == 400
    assert _ranges(archive, clip) == [(1.0, 2.0, "river", "")]


def test_ranges_of_items_an_archivist_may_not_see_are_404(client: FlaskClient, archive: Archive,
                                                          login) -> None:  # type: ignore[no-untyped-def]
    hidden = add_item(archive, "Safe house", kind=ItemKind.video, access=AccessLevel.confidential,
                      collection="Private donation")
    clip = add_item(archive, "Open clip", kind=ItemKind.video)
    range_id = _add(archive, hidden, 1, 2, "house")
    login("archivist")
    token = csrf_token(client, "/items")
    data = {"csrf_token": token, "start": "1", "end": "2", "tag": "x", "note": ""}

    assert client.post(f"/items/{hidden}/ranges", data=data).status_code == 404
    assert client.post(f"/items/{hidden}/ranges/{range_id}", data=data).status_code == 404
    assert client.post(f"/items/{clip}/ranges/{range_id}/delete", data=data).status_code == 404  # wrong item
    assert _ranges(archive, hidden) == [(1.0, 2.0, "house", "")]


def test_archivist_with_a_grant_tags_confidential_footage(client: FlaskClient, archive: Archive,
                                                          login) -> None:  # type: ignore[no-untyped-def]
    hidden = add_item(archive, "Safe house", kind=ItemKind.video, access=AccessLevel.confidential,
                      collection="Private donation")
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id))
    login("archivist", grants=(collection_id,))

    response = client.post(f"/items/{hidden}/ranges", data={
        "csrf_token": csrf_token(client, f"/items/{hidden}"), "start": "1", "end": "2", "tag": "house"})

    assert response.status_code == 302
    assert _ranges(archive, hidden) == [(1.0, 2.0, "house", "")]


def test_scripts_seek_to_linked_times_and_mark_ranges(client: FlaskClient) -> None:
    item_js, ranges_js = client.get("/static/item.js"), client.get("/static/ranges.js")

    assert "parseTimecode" in text(item_js) and "hashchange" in text(item_js) and "data-seek" in text(item_js)
    assert "data-mark" in text(ranges_js) and "currentTime" in text(ranges_js)
    item_js.close()
    ranges_js.close()


# -- time-range tags in search ----------------------------------------------------------------

def _search(client: FlaskClient, q: str) -> dict[int, list[tuple[float, str]]]:
    found = client.get("/api/search", query_string={"q": q}).get_json()
    return {i["id"]: [(r["start"], r["tag"]) for r in i["ranges"]] for i in found["items"]}


def test_a_range_tag_is_a_search_hit_at_the_range_start(client: FlaskClient, archive: Archive, clip: int) -> None:
    other = add_item(archive, "Tumen at noon", kind=ItemKind.video, media={"duration": 6.0})
    first = _add(archive, clip, 1.5, 3, "river crossing")
    _add(archive, clip, 4, 5, "boat")

    assert _search(client, 'tag:"river crossing"') == {clip: [(1.5, "river crossing")]}
    page = text(client.get("/search", query_string={"q": 'tag:"river crossing"'}))
    assert f'href="/items/{clip}?t=1.5#player"' in page and "Tagged “<mark>river crossing</mark>”" in page

    # The index follows the ranges: a changed tag, a range moved to another item, one deleted.
    with archive.session(MINA) as session:
        ranges.update_range(session, session.get(TimeRange, first), tag_name="ford", start=2)
    assert _search(client, 'tag:"river crossing"') == {} and _search(client, "tag:ford") == {clip: [(2.0, "ford")]}
    with archive.session(MINA) as session:
        session.get(TimeRange, first).item_id = other
    assert _search(client, "tag:ford") == {other: [(2.0, "ford")]}
    with archive.session(MINA) as session:
        ranges.delete_range(session, session.get(TimeRange, first))
    assert _search(client, "tag:ford") == {}
    # Renaming the tag reaches the items whose ranges carry it.
    with archive.session(MINA) as session:
        session.scalar(select(Tag).where(Tag.name == "boat")).name = "ferry"
    assert _search(client, "tag:ferry") == {clip: [(4.0, "ferry")]}


def test_index_check_finds_a_range_the_index_missed(archive: Archive, clip: int) -> None:
    docs, _ = search_sync.load_item_docs(archive.Session(), [clip])  # the clip before its range
    _add(archive, clip, 1, 2, "ford")
    archive.index.update(docs)  # as if the range's index write were lost
    assert search_sync.check_index(archive).stale == [clip]
    assert search_sync.check_index(archive, fix=True).fixed
    found = archive.index.search(SearchRequest(q="tag:ford"), Viewer(role=Role.admin))
    assert [(i.item_id, [r.start for r in i.ranges]) for i in found.items] == [(clip, [1.0])]
