"""The JSON API: the item listing with the browse filters, and whole item records."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, Collection, ItemKind, JobState, MediaFile
from test_web import RESEARCHER, add_item, set_viewer


def test_api_items_lists_visible_items_with_total(client: FlaskClient, archive: Archive) -> None:
    first = add_item(archive, "Night crossing", collection="Beyond Utopia", date_shot="2019-04", added=1)
    second = add_item(archive, "No thumbnail", derivatives=(), added=2)

    response = client.get("/api/items")

    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 24
    newest, oldest = body["items"]
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id))
    assert oldest == {
        "id": first, "title": "Night crossing", "kind": "still",
        "collection": {"id": collection_id, "title": "Beyond Utopia"}, "date_shot": "2019-04",
        "access": "public", "thumbnail": f"http://localhost/items/{first}/thumbs/grid",
        "url": f"http://localhost/items/{first}",
    }
    assert newest["id"] == second and newest["thumbnail"] is None and newest["collection"] is None


@pytest.mark.parametrize("access", [AccessLevel.restricted, AccessLevel.confidential])
def test_api_hides_items_the_viewer_may_not_see(client: FlaskClient, archive: Archive,
                                                access: AccessLevel) -> None:
    add_item(archive, "Open")
    hidden = add_item(archive, "Hidden", access=access, tags=("secret",))

    listing = client.get("/api/items").get_json()
    by_tag = client.get("/api/items?tag=secret").get_json()
    record = client.get(f"/api/items/{hidden}")

    assert [i["title"] for i in listing["items"]] == ["Open"] and listing["total"] == 1
    assert by_tag == {"items": [], "total": 0, "page": 1, "per_page": 24}
    assert record.status_code == 404
    assert record.get_json() == {"error": {"code": "not_found", "message": f"Not found: item {hidden}.", "field": None}}


def test_api_shows_restricted_items_to_a_researcher(app: Flask, client: FlaskClient, archive: Archive) -> None:
    set_viewer(app, RESEARCHER)
    item_id = add_item(archive, "Restricted", access=AccessLevel.restricted)

    assert client.get("/api/items").get_json()["total"] == 1
    assert client.get(f"/api/items/{item_id}").get_json()["access"] == "restricted"


def test_api_items_filters_sorts_and_paginates(client: FlaskClient, archive: Archive) -> None:
    for n in range(5):
        add_item(archive, f"Still {n}", tags=("border",), date_shot=f"201{n}")
    add_item(archive, "Video", kind=ItemKind.video, tags=("border",))

    body = client.get("/api/items?kind=still&tag=border&sort=-date_shot&per_page=2&page=2").get_json()

    assert [i["title"] for i in body["items"]] == ["Still 2", "Still 1"]
    assert (body["total"], body["page"], body["per_page"]) == (5, 2, 2)
    assert client.get("/api/items?year=2013").get_json()["total"] == 1


def test_api_items_clamps_per_page(client: FlaskClient, archive: Archive) -> None:
    archive.settings["max_per_page"] = 2
    for n in range(3):
        add_item(archive, f"Still {n}")

    response = client.get("/api/items?per_page=500")

    assert response.status_code == 200
    body = response.get_json()
    assert body["per_page"] == 2 and len(body["items"]) == 2 and body["total"] == 3


@pytest.mark.parametrize("query, message", [
    ("page=abc", "page must be a whole number, not 'abc'"),
    ("kind=banana", "kind must be one of video, still, audio, catalogued, not 'banana'"),
    ("sort=random", "sort must be one of newest, oldest, title, date_shot, -date_shot, not 'random'"),
    ("collection=0", "collection must be at least 1"),
    ("page=99999999999999999999", "page must be at most 2147483647"),
])
def test_api_bad_parameter_is_400_json(client: FlaskClient, query: str, message: str) -> None:
    response = client.get(f"/api/items?{query}")

    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "invalid", "message": message, "field": query.split("=")[0]}}


@pytest.mark.parametrize("url", ["/api/items/4242", "/api/nothing", "/api/items/99999999999999999999"])
def test_api_unknown_address_is_404_json(client: FlaskClient, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert "error" in response.get_json()


def test_api_wrong_method_is_405_json(client: FlaskClient) -> None:
    response = client.delete("/api/items")

    assert response.status_code == 405
    assert response.get_json() == {"error": {"code": "method_not_allowed", "message": "DELETE is not allowed here.",
                                             "field": None}}


def test_api_crash_is_500_json(app: Flask, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom() -> str:
        raise RuntimeError("secret internals")
    app.add_url_rule("/api/boom", view_func=boom)

    response = client.get("/api/boom")

    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "error" in response.get_json()


def test_api_item_record_has_the_whole_record(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(
        archive, "Mekong crossing", kind=ItemKind.video, collection="Beyond Utopia", tags=("river", "mekong"),
        date_shot="2019-04~", description="Synthetic demo material.", creator="Guide (fictional)",
        language="ko", rights="Demo", source="Synthetic", credits=(("Madeleine Gavin", "Director"),),
        original_name="메콩강.mov", mime_type="video/quicktime", derivatives=("grid", "page", "proxy"),
        media=dict(duration=12.5, width=1920, height=1080, rotation=270, frame_rate=25.0, video_codec="hevc",
                   audio_codec="aac", bit_rate=4_000_000, latitude=20.27, longitude=100.09, altitude=None,
                   creation_time=datetime(2019, 4, 12, 21, 30, tzinfo=timezone.utc), camera_make="Apple"),
        jobs=(("make_proxy", JobState.failed, "ffmpeg: boom"), ("make_proxy", JobState.done, "")))

    record = client.get(f"/api/items/{item_id}").get_json()

    assert record["title"] == "Mekong crossing" and record["kind"] == "video"
    assert record["date_shot"] == "2019-04~"
    assert record["date_lower"] == "2019-04-01" and record["date_upper"] == "2019-04-30"
    assert record["description"] == "Synthetic demo material." and record["language"] == "ko"
    assert record["collection"]["title"] == "Beyond Utopia"
    assert record["tags"] == ["mekong", "river"]
    assert record["credits"] == [{"person": "Madeleine Gavin", "role": "Director"}]
    assert datetime.fromisoformat(record["created_at"]).tzinfo is not None
    media = record["media"]
    assert media["latitude"] == 20.27 and media["longitude"] == 100.09 and media["altitude"] is None
    assert isinstance(media["latitude"], float) and isinstance(media["duration"], float)
    assert media["duration"] == 12.5 and media["frame_rate"] == 25.0 and media["bit_rate"] == 4_000_000
    assert (media["display_width"], media["display_height"]) == (1080, 1920)
    assert media["creation_time"] == "2019-04-12T21:30:00+00:00"
    assert media["original_name"] == "메콩강.mov" and media["mime_type"] == "video/quicktime"
    assert media["url"] == f"http://localhost/items/{item_id}/original"
    with archive.Session() as session:
        assert media["sha256"] == session.scalar(select(MediaFile.sha256))
    kinds = {d["kind"]: d for d in media["derivatives"]}
    assert set(kinds) == {"grid", "page", "proxy"}
    assert kinds["proxy"] == {"kind": "proxy", "url": f"http://localhost/items/{item_id}/proxy",
                              "width": 16, "height": 9, "mime_type": "video/mp4", "size": 600}
    assert kinds["grid"]["url"] == f"http://localhost/items/{item_id}/thumbs/grid"
    jobs = [(job["kind"], job["state"], job["error"]) for job in record["jobs"]]
    assert jobs == [("make_proxy", "failed", "ffmpeg: boom")]


def test_api_item_record_leaves_out_where_the_file_came_from(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video,
                       jobs=(("make_proxy", JobState.failed, f"{archive.data_root}/originals/x: bad"),))

    response = client.get(f"/api/items/{item_id}")

    assert "original_path" not in response.get_json()["media"]
    assert "/home/donor" not in response.get_data(as_text=True)
    assert str(archive.data_root) not in response.get_data(as_text=True)
    assert response.get_json()["jobs"][0]["error"] == "originals/x: bad"
