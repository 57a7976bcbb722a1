"""IIIF Presentation 3 manifests and collections, Content Search 2, CORS: validated by real clients
(iiif-prezi3's models, @iiif/parser under node), as each viewer may see them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pydantic
import pytest
from flask.testing import FlaskClient
from iiif_prezi3 import Collection as PreziCollection
from iiif_prezi3 import Manifest as PreziManifest
from sqlalchemy import select

from archive.access import SYSTEM
from archive.app import create_app
from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind, Journey, LocationPrecision, Segment, Tag, TimeRange, Transcript
from archive.web import iiif as iiif_web
from test_demo import demo_root  # noqa: F401  (the shared demo archive, built once per run)
from test_web import add_item

ROOT = Path(__file__).resolve().parent.parent


def _video(archive: Archive, title: str = "River at night", *, access: AccessLevel = AccessLevel.public,
           collection: str = "Tapes", derivatives: tuple[str, ...] = ("grid", "page", "proxy"),
           precision: LocationPrecision = LocationPrecision.exact) -> int:
    item_id = add_item(archive, title, kind=ItemKind.video, access=access, collection=collection,
                       derivatives=derivatives, media={"duration": 12.0, "width": 640, "height": 360},
                       location_precision=precision)
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.transcripts.append(Transcript(language="ko", source_name="clip.ko.vtt", segments=[
            Segment(position=0, start_sec=1.0, end_sec=2.5, speaker="Guide", text="the boat waits by the river"),
            Segment(position=1, start_sec=4.0, end_sec=6.0, speaker="Guide", text="keep your heads down")]))
        tag = session.scalar(select(Tag).where(Tag.name == "crossing")) or Tag(name="crossing")
        item.ranges.append(TimeRange(tag=tag, start_sec=3.0, end_sec=7.5, note="the far bank"))
    return item_id


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    """`body` through iiif-prezi3's pydantic models (which refuse what Presentation 3 does not allow)."""
    model = {"Manifest": PreziManifest, "Collection": PreziCollection}[body["type"]]
    model(**{k: v for k, v in body.items() if k != "@context"})
    return body


def _parsed_by_node(tmp_path: Path, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What @iiif/parser (tests/iiif_parse.cjs) makes of each body."""
    files = []
    for number, body in enumerate(bodies):
        path = tmp_path / f"iiif-{number}.json"
        path.write_text(json.dumps(body), encoding="utf-8")
        files.append(str(path))
    done = subprocess.run(["node", str(ROOT / "tests" / "iiif_parse.cjs"), *files], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_iiif_prezi3_refuses_a_broken_manifest() -> None:
    """The validation can fail: a canvas whose id is no URL and whose width is no number is refused."""
    with pytest.raises(pydantic.ValidationError):
        _validated({"id": "https://example.org/m", "type": "Manifest", "label": {"en": ["Broken"]},
                    "items": [{"id": "canvas one", "type": "Canvas", "width": "wide", "height": 10}]})


def test_video_manifest_paints_the_proxy_with_captions_ranges_and_search(client: FlaskClient, archive: Archive,
                                                                        tmp_path: Path) -> None:
    item_id = _video(archive)
    response = client.get(f"/iiif/items/{item_id}/manifest")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    manifest = _validated(response.get_json())
    [canvas] = manifest["items"]
    assert (canvas["duration"], canvas["width"], canvas["height"]) == (12.0, 640, 360)
    [painting] = canvas["items"][0]["items"]
    assert painting["motivation"] == "painting" and painting["target"] == canvas["id"]
    assert painting["body"]["type"] == "Video" and painting["body"]["id"].endswith(f"/items/{item_id}/proxy")
    assert client.get(painting["body"]["id"]).status_code == 200
    [caption] = canvas["annotations"][0]["items"]
    assert caption["motivation"] == "supplementing"
    assert caption["body"]["format"] == "text/vtt" and caption["body"]["language"] == "ko"
    assert caption["body"]["label"] == {"en": ["Korean transcript"]}
    vtt = client.get(caption["body"]["id"])
    assert vtt.status_code == 200 and "the boat waits by the river" in vtt.get_data(as_text=True)
    assert manifest["thumbnail"][0]["id"].endswith(f"/items/{item_id}/thumbs/page")
    [tags] = manifest["structures"]
    assert tags["items"][0]["label"] == {"none": ["crossing"]}
    assert tags["items"][0]["items"] == [{"id": f"{canvas['id']}#t=3,7.5", "type": "Canvas"}]
    assert manifest["service"] == [{"id": f"http://localhost/iiif/items/{item_id}/search", "type": "SearchService2"}]
    assert manifest["requiredStatement"]["value"] == {"en": ["Crossings archive"]}
    assert {"label": {"en": ["Collection"]}, "value": {"en": ["Tapes"]}} in manifest["metadata"]
    [parsed] = _parsed_by_node(tmp_path, [manifest])
    assert "error" not in parsed, parsed
    assert parsed["canvases"] == 1 and parsed["durations"] == [12]
    assert parsed["annotations"] == [["painting"], ["supplementing"]] and parsed["ranges"] >= 2


def test_a_withheld_original_is_never_named_and_an_editor_gets_it(client: FlaskClient, archive: Archive,
                                                                  login: Any) -> None:
    """Without a proxy and with a coarsened position, a visitor's canvas has only the poster; an archivist's
    is painted with the original (the one rule, archive.access.may_have_original)."""
    item_id = _video(archive, derivatives=("grid", "page"), precision=LocationPrecision.km10)
    anonymous = _validated(client.get(f"/iiif/items/{item_id}/manifest").get_json())
    assert "/original" not in json.dumps(anonymous)
    assert anonymous["items"][0]["items"][0]["items"] == []
    assert anonymous["items"][0]["thumbnail"][0]["id"].endswith("/thumbs/page")
    login("archivist")
    editor = _validated(client.get(f"/iiif/items/{item_id}/manifest").get_json())
    assert editor["items"][0]["items"][0]["items"][0]["body"]["id"].endswith(f"/items/{item_id}/original")


def test_a_still_is_an_image_canvas(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Harbour", media={"width": 800, "height": 600})
    manifest = _validated(client.get(f"/iiif/items/{item_id}/manifest").get_json())
    [canvas] = manifest["items"]
    assert "duration" not in canvas and (canvas["width"], canvas["height"]) == (800, 600)
    assert canvas["items"][0]["items"][0]["body"]["type"] == "Image"
    assert "service" not in manifest and "annotations" not in canvas


def test_manifest_search_and_viewer_are_404_to_who_may_not_see_the_item(client: FlaskClient, archive: Archive,
                                                                       login: Any) -> None:
    item_id = _video(archive, access=AccessLevel.restricted)
    for path in ("manifest", "search?q=river", "viewer"):
        assert client.get(f"/iiif/items/{item_id}/{path}").status_code == 404, path
    assert client.get(f"/iiif/items/{item_id}/manifest").get_json()["error"]
    login("researcher")
    assert client.get(f"/iiif/items/{item_id}/manifest").status_code == 200


def test_content_search_answers_cues_targeting_the_canvas_at_their_times(client: FlaskClient,
                                                                         archive: Archive) -> None:
    item_id = _video(archive)
    other = _video(archive, "Another river")  # its cues must not answer for the first item
    answer = client.get(f"/iiif/items/{item_id}/search?q=river&user=x")
    assert answer.status_code == 200
    page = answer.get_json()
    assert page["type"] == "AnnotationPage" and page["ignored"] == ["user"]
    canvas = f"http://localhost/iiif/items/{item_id}/manifest/canvas/1"
    [hit] = page["items"]
    assert hit["target"]["id"] == f"{canvas}#t=1,2.5"
    assert hit["body"]["value"] == "the boat waits by the river" and hit["motivation"] == "supplementing"
    assert f"/items/{other}/" not in json.dumps(page)
    assert client.get(f"/iiif/items/{item_id}/search?q=").get_json()["items"] == []
    assert client.get(f"/iiif/items/{item_id}/search?q=river&motivation=painting").get_json()["items"] == []
    assert client.get(f"/iiif/items/{item_id}/search?q=" + "x" * 2000).status_code == 400


def test_cors_only_for_public_material_as_anyone_gets_it(client: FlaskClient, archive: Archive, login: Any) -> None:
    public, restricted = _video(archive), _video(archive, "Kept back", access=AccessLevel.restricted)
    with archive.session() as session:
        vtt = session.get(Item, public).transcripts[0].id
    for path in (f"/iiif/items/{public}/manifest", f"/items/{public}/proxy", f"/items/{public}/transcripts/{vtt}.vtt",
                 f"/iiif/items/{public}/search?q=boat", f"/items/{public}/thumbs/page", "/iiif/collection"):
        assert client.get(path).headers.get("Access-Control-Allow-Origin") == "*", path
    preflight = client.options(f"/items/{public}/proxy", headers={"Origin": "https://viewer.example",
                                                                    "Access-Control-Request-Headers": "range"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == "*"
    assert "Range" in preflight.headers["Access-Control-Allow-Headers"]
    hidden = client.options(f"/items/{restricted}/proxy", headers={"Origin": "https://viewer.example"})
    assert "Access-Control-Allow-Origin" not in hidden.headers
    login("researcher")
    for path in (f"/iiif/items/{public}/manifest", f"/iiif/items/{restricted}/manifest", f"/items/{restricted}/proxy",
                 "/iiif/collection"):
        response = client.get(path)
        assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers, path


def test_collections_and_journeys_list_only_visible_items_and_page(client: FlaskClient, archive: Archive,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    from archive.services import journeys, legs, locations, places

    shown = [_video(archive, f"Shown {n}") for n in range(3)]
    hidden = _video(archive, "Hidden one", access=AccessLevel.confidential)
    with archive.session() as session:
        collection_id = session.get(Item, hidden).collection_id
        start = places.create_place(session, SYSTEM, name="Start", latitude=13.7, longitude=100.5, country="TH").id
        end = places.create_place(session, SYSTEM, name="End", latitude=14.7, longitude=100.5, country="TH").id
        journey = journeys.create_journey(session, SYSTEM, title="Walk south")
        leg = legs.add_leg(session, SYSTEM, journey.id, from_place_id=start, to_place_id=end)
        for item_id in (shown[1], hidden):
            locations.link_item_leg(session, SYSTEM, item_id, leg.id)
        journey_id = journey.id
    top = _validated(client.get("/iiif/collection").get_json())
    assert [m["id"] for m in top["items"]] == [f"http://localhost/iiif/collections/{collection_id}"]
    whole = _validated(client.get(f"/iiif/collections/{collection_id}").get_json())
    assert [m["label"]["en"][0] for m in whole["items"]] == ["Shown 0", "Shown 1", "Shown 2"]
    monkeypatch.setattr(iiif_web, "COLLECTION_PAGE", 2)
    paged = _validated(client.get(f"/iiif/collections/{collection_id}").get_json())
    assert [m["type"] for m in paged["items"]] == ["Collection", "Collection"]
    second = _validated(client.get(paged["items"][1]["id"].replace("http://localhost", "")).get_json())
    assert [m["label"]["en"][0] for m in second["items"]] == ["Shown 2"]
    assert client.get(f"/iiif/collections/{collection_id}?page=9").status_code == 404
    assert client.get(f"/iiif/collections/{collection_id}?page=x").status_code == 400
    trip = _validated(client.get(f"/iiif/journeys/{journey_id}").get_json())
    assert [m["id"] for m in trip["items"]] == [f"http://localhost/iiif/items/{shown[1]}/manifest"]
    manifest = client.get(f"/iiif/items/{shown[1]}/manifest").get_json()
    assert manifest["structures"][-1]["items"][0]["label"] == {"en": ["Walk south, leg 1: Start → End"]}
    assert all("error" not in p for p in _parsed_by_node(tmp_path, [top, whole, paged, trip]))
    with archive.session() as session:
        session.get(Journey, journey_id).access = AccessLevel.restricted
    assert client.get(f"/iiif/journeys/{journey_id}").status_code == 404
    assert "Walk south" not in client.get(f"/iiif/items/{shown[1]}/manifest").get_data(as_text=True)


def test_the_viewer_page_has_its_own_policy_and_the_item_page_links_to_it(client: FlaskClient,
                                                                        archive: Archive) -> None:
    item_id = _video(archive)
    viewer = client.get(f"/iiif/items/{item_id}/viewer")
    assert viewer.status_code == 200 and '<meta charset="utf-8">' in viewer.get_data(as_text=True)
    assert "style-src 'self' 'unsafe-inline'" in viewer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in viewer.headers["Content-Security-Policy"]
    page = client.get(f"/items/{item_id}")
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert f"/iiif/items/{item_id}/viewer" in html and "Open in a IIIF viewer" in html
    assert client.get("/static/vendor/mirador/mirador.min.js").status_code == 200
    assert client.get("/static/vendor/mirador/package.json").status_code == 404


def test_every_demo_manifest_and_collection_validates_and_parses(demo_root: Path, tmp_path: Path) -> None:  # noqa: F811
    app = create_app({"data": str(demo_root), "secret_key": "test"})
    client = app.test_client()
    archive: Archive = app.extensions["crossings"]
    with archive.session() as session:
        ids = list(session.scalars(select(Item.id).where(Item.access == AccessLevel.public, Item.deleted_at.is_(None))))
        journeys = list(session.scalars(select(Journey.id).where(Journey.access == AccessLevel.public)))
    bodies = []
    for path in ([f"/iiif/items/{i}/manifest" for i in ids] + ["/iiif/collection"]
                 + [f"/iiif/journeys/{j}" for j in journeys]):
        response = client.get(path)
        if response.status_code == 404 and "/items/" in path:
            continue  # a catalogued record without media has no manifest
        assert response.status_code == 200, path
        bodies.append(_validated(response.get_json()))
    for member in bodies[-1 - len(journeys)]["items"]:
        bodies.append(_validated(client.get(member["id"].replace("http://localhost", "")).get_json()))
    manifests = [b for b in bodies if b["type"] == "Manifest"]
    assert len(manifests) >= 5 and any("annotations" in m["items"][0] for m in manifests)
    parsed = _parsed_by_node(tmp_path, bodies)
    assert [p for p in parsed if "error" in p] == []
    assert sum(p["type"] == "Manifest" for p in parsed) == len(manifests)


def test_content_search_on_every_engine(settings: dict[str, object], search_engine: str) -> None:
    """find_in_transcripts asks the index through the search service, so both engines answer alike."""
    app = create_app({**settings, "search_engine": search_engine})
    archive: Archive = app.extensions["crossings"]
    item_id, other = _video(archive), _video(archive, "Also by the river")
    page = app.test_client().get(f"/iiif/items/{item_id}/search?q=heads").get_json()
    assert [hit["target"]["id"].rsplit("#", 1)[1] for hit in page["items"]] == ["t=4,6"]
    assert all(f"/items/{other}/" not in hit["id"] for hit in page["items"])
    archive.close()
