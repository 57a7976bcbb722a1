"""/api/v1: ETags and If-Match, writes through the services, one error shape, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, ItemKind
from conftest import csrf_token
from test_web import add_item

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Guide>Synthetic demo line at the river.\n"


def editor(client: FlaskClient, login: Any) -> dict[str, str]:
    """Log the client in as an archivist; the CSRF header a cookie login's writes need."""
    login("archivist")
    return {"X-CSRFToken": csrf_token(client, "/")}


def test_item_answers_with_its_version_as_etag(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Night crossing")

    response = client.get(f"/api/v1/items/{item_id}")

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"' and response.get_json()["version"] == 1
    assert "private" in response.headers["Cache-Control"]


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: FlaskClient, archive: Archive,
                                                                login: Any) -> None:
    item_id = add_item(archive, "Night crossing")
    headers = editor(client, login)
    etag = client.get(f"/api/v1/items/{item_id}").headers["ETag"]

    first = client.patch(f"/api/v1/items/{item_id}", json={"title": "River crossing", "tags": ["river"]},
                         headers={**headers, "If-Match": etag})
    stale = client.patch(f"/api/v1/items/{item_id}", json={"title": "Lost update"},
                         headers={**headers, "If-Match": etag})

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["title"] == "River crossing" and first.get_json()["tags"] == ["river"]
    assert first.headers["ETag"] == f'"{first.get_json()["version"]}"' != etag
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "precondition_failed"
    assert stale.get_json()["error"]["field"] == "version"
    assert client.get(f"/api/v1/items/{item_id}").get_json()["title"] == "River crossing"


def test_patch_without_if_match_is_made_and_audited(client: FlaskClient, archive: Archive, login: Any) -> None:
    item_id = add_item(archive, "Night crossing")
    headers = editor(client, login)

    response = client.patch(f"/api/v1/items/{item_id}", json={"access": "restricted", "date_shot": "2019-04~"},
                            headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["access"] == "restricted" and body["date_lower"] == "2019-04-01"
    with archive.Session() as session:
        actors = {e.actor for e in session.scalars(select(AuditEntry).where(AuditEntry.object_id == item_id))}
    assert any("archivist" in actor for actor in actors)


@pytest.mark.parametrize("body, field", [
    ({"title": ""}, "title"),
    ({"colour": "red"}, "colour"),
    ({"access": "secret"}, "access"),
    ({"date_shot": "sometime in spring"}, "date_shot"),
    ({"collection_id": 999999}, "collection_id"),
    ({"title": "a\x00b"}, "title"),
])
def test_a_bad_field_is_400_naming_it(client: FlaskClient, archive: Archive, login: Any, body: dict[str, Any],
                                      field: str) -> None:
    item_id = add_item(archive, "Night crossing")
    headers = editor(client, login)

    response = client.patch(f"/api/v1/items/{item_id}", json=body, headers=headers)

    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["field"] == field and error["message"]


def test_writes_need_a_login_and_the_editor_role(client: FlaskClient, archive: Archive, login: Any) -> None:
    item_id = add_item(archive, "Night crossing")

    anonymous = client.patch(f"/api/v1/items/{item_id}", json={"title": "x"})
    login("researcher")
    researcher = client.patch(f"/api/v1/items/{item_id}", json={"title": "x"},
                              headers={"X-CSRFToken": csrf_token(client, "/")})

    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"
    assert researcher.status_code == 404 and researcher.get_json()["error"]["code"] == "not_found"


def test_cookie_writes_need_the_csrf_header(client: FlaskClient, archive: Archive, login: Any) -> None:
    item_id = add_item(archive, "Night crossing")
    login("archivist")

    response = client.patch(f"/api/v1/items/{item_id}", json={"title": "x"})

    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]["message"]


def test_transcript_attach_replace_and_delete(client: FlaskClient, archive: Archive, login: Any) -> None:
    item_id = add_item(archive, "Interview", kind=ItemKind.video, media={"duration": 10.0})
    headers = editor(client, login)

    added = client.post(f"/api/v1/items/{item_id}/transcripts?filename=interview.en.vtt", data=VTT,
                        headers={**headers, "Content-Type": "text/vtt"})
    replaced = client.post(f"/api/v1/items/{item_id}/transcripts?filename=interview.en.vtt",
                           data=VTT.replace(b"river", b"border"), headers=headers)
    listing = client.get(f"/api/v1/items/{item_id}/transcripts").get_json()
    transcript_id = listing["items"][0]["id"]
    stale = client.delete(f"/api/v1/items/{item_id}/transcripts/{transcript_id}",
                          headers={**headers, "If-Match": '"1"'})
    deleted = client.delete(f"/api/v1/items/{item_id}/transcripts/{transcript_id}",
                            headers={**headers, "If-Match": f'"{listing["items"][0]["version"]}"'})

    assert added.status_code == 201 and added.get_json()["language"] == "en"
    assert added.get_json()["segments"][0] == {"start": 1.0, "end": 2.5, "speaker": "Guide",
                                               "text": "Synthetic demo line at the river."}
    assert replaced.get_json()["replaced"] is True
    assert listing["total"] == 1 and "border" in listing["items"][0]["segments"][0]["text"]
    assert stale.status_code == 412
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/items/{item_id}/transcripts").get_json()["total"] == 0


def test_a_broken_transcript_is_400_naming_the_line(client: FlaskClient, archive: Archive, login: Any) -> None:
    item_id = add_item(archive, "Interview", kind=ItemKind.video, media={"duration": 10.0})
    headers = editor(client, login)

    response = client.post(f"/api/v1/items/{item_id}/transcripts?filename=x.vtt", data=b"WEBVTT\n\nnot a cue -->\n",
                           headers=headers)

    assert response.status_code == 400 and response.get_json()["error"]["field"] == "file"


def test_ranges_move_the_items_version(client: FlaskClient, archive: Archive, login: Any) -> None:
    item_id = add_item(archive, "Crossing", kind=ItemKind.video, media={"duration": 30.0})
    headers = editor(client, login)

    added = client.post(f"/api/v1/items/{item_id}/ranges", json={"start": 2, "end": 5, "tag": "boat"},
                        headers={**headers, "If-Match": '"1"'})
    range_id = added.get_json()["items"][0]["id"]
    stale = client.patch(f"/api/v1/items/{item_id}/ranges/{range_id}", json={"end": 6},
                         headers={**headers, "If-Match": '"1"'})
    moved = client.patch(f"/api/v1/items/{item_id}/ranges/{range_id}", json={"end": 6},
                         headers={**headers, "If-Match": added.headers["ETag"]})

    assert added.status_code == 201 and added.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    assert moved.status_code == 200 and moved.get_json()["items"][0]["end"] == 6.0
    assert client.delete(f"/api/v1/items/{item_id}/ranges/{range_id}", headers=headers).status_code == 204


def test_bulk_edit_and_trash(client: FlaskClient, archive: Archive, login: Any) -> None:
    ids = [add_item(archive, f"Still {n}") for n in range(3)]
    headers = editor(client, login)

    stale = client.post("/api/v1/items/bulk", json={"items": ids, "add_tags": ["mekong"], "versions": {str(ids[0]): 7}},
                        headers=headers)
    done = client.post("/api/v1/items/bulk", json={"items": ids + [999999], "add_tags": ["mekong"]}, headers=headers)
    trashed = client.delete(f"/api/v1/items/{ids[0]}", headers={**headers, "If-Match": '"2"'})

    assert stale.status_code == 412
    assert done.status_code == 200 and done.get_json()["updated"] == ids and done.get_json()["not_found"] == [999999]
    assert trashed.status_code == 204
    assert client.get(f"/api/v1/items/{ids[0]}").status_code == 404
    assert client.get("/api/v1/items?tag=mekong").get_json()["total"] == 2


def test_listings_share_one_pagination_shape(client: FlaskClient, archive: Archive) -> None:
    archive.settings["max_per_page"] = 2
    for n in range(3):
        add_item(archive, f"Still {n}", tags=("border",))

    first = client.get("/api/v1/items?per_page=50").get_json()
    second = client.get(first["next"].removeprefix("http://localhost")).get_json()
    tags = client.get("/api/v1/tags").get_json()

    assert (first["total"], first["per_page"], len(first["items"])) == (3, 2, 2)
    assert second["page"] == 2 and len(second["items"]) == 1 and second["next"] is None
    assert set(tags) == {"items", "total", "page", "per_page", "next"}


def test_hidden_material_is_absent_from_v1(client: FlaskClient, archive: Archive) -> None:
    hidden = add_item(archive, "Hidden", access=AccessLevel.restricted)

    assert client.get(f"/api/v1/items/{hidden}").get_json() == {
        "error": {"code": "not_found", "message": f"Not found: item {hidden}.", "field": None}}
    assert client.get(f"/api/v1/items/{hidden}/transcripts").status_code == 404
    assert client.get("/api/v1/items").get_json()["total"] == 0


def test_places_and_journeys_are_written_through_the_services(client: FlaskClient, login: Any) -> None:
    headers = editor(client, login)

    start = client.post("/api/v1/places", json={"name": "Chiang Saen", "latitude": 20.27, "longitude": 100.09,
                                                "country": "TH", "kind": "town"}, headers=headers)
    end = client.post("/api/v1/places", json={"name": "Bangkok", "latitude": 13.75, "longitude": 100.5,
                                              "country": "TH"}, headers=headers)
    journey = client.post("/api/v1/journeys", json={"title": "Demo journey (synthetic)"}, headers=headers)
    journey_id = journey.get_json()["id"]
    leg = client.post(f"/api/v1/journeys/{journey_id}/legs", json={
        "from_place_id": start.get_json()["id"], "to_place_id": end.get_json()["id"], "mode": "bus"}, headers=headers)
    same = client.post("/api/v1/places", json={"name": "Bangkok", "latitude": 1, "longitude": 1, "country": "TH"},
                       headers=headers)

    assert start.status_code == 201 and start.get_json()["country"] == "TH"
    assert leg.status_code == 201
    legs = leg.get_json()["legs"]
    assert [(x["from"]["name"], x["to"]["name"]) for x in legs] == [("Chiang Saen", "Bangkok")]
    assert legs[0]["version"] == 1
    assert same.status_code == 400 and same.get_json()["error"]["field"] == "name"


def _schemas_without_types(schema: Any, where: str) -> list[str]:
    """Places in a JSON schema that accept anything: no type, no $ref, no anyOf/enum/const."""
    if not isinstance(schema, dict):
        return []
    out = []
    if not any(key in schema for key in ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")):
        out.append(where)
    if schema.get("type") == "object" and not (schema.get("properties") or schema.get("additionalProperties")):
        out.append(where + " (an object without properties)")
    for name, prop in schema.get("properties", {}).items():
        out += _schemas_without_types(prop, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            out += _schemas_without_types(schema[key], f"{where}.{key}")
    for n, each in enumerate(schema.get("anyOf", ())):
        out += _schemas_without_types(each, f"{where}.anyOf[{n}]")
    return out


def test_every_response_schema_names_its_properties_and_types(client: FlaskClient, app: Flask) -> None:
    doc = client.get("/api/openapi.json").get_json()
    untyped: list[str] = []
    for name, schema in doc["components"]["schemas"].items():
        if "enum" not in schema:
            assert schema.get("properties"), f"{name} names no properties"
        untyped += _schemas_without_types(schema, name)
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                for content in answer.get("content", {}).values():
                    untyped += _schemas_without_types(content["schema"], f"{method} {path} {status}")
    assert untyped == []


def test_the_document_covers_every_v1_route(client: FlaskClient, app: Flask) -> None:
    doc = client.get("/api/openapi.json").get_json()
    documented = {(m.upper(), p) for p, methods in doc["paths"].items() for m in methods}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<id:{arg}>", "{" + arg + "}").replace(f"<{arg}>", "{" + arg + "}")
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert doc["openapi"] == "3.1.0" and routes == documented


def test_the_docs_page_says_who_may_call_each_operation(client: FlaskClient) -> None:
    import re
    page = client.get("/api/docs").get_data(as_text=True)
    sections = dict(re.findall(r'<h2><code>(\w+ [^<]+)</code>.*?<p class="muted">([^<]+)</p>', page, re.S))
    assert sections["GET /api/v1/items"].startswith("Anyone")
    assert sections["PATCH /api/v1/items/{item_id}"].startswith("Archivists and admins")
    assert sections["GET /api/v1/search"].startswith("Anyone")


def test_a_file_streamed_as_the_body_becomes_an_item(client: FlaskClient, archive: Archive, login: Any,
                                                     tmp_path: Any) -> None:
    from mediagen import make_jpeg
    headers = editor(client, login)
    data = make_jpeg(tmp_path / "border.jpg").read_bytes()

    first = client.post("/api/v1/items?filename=border.jpg&access=public", data=data,
                        headers={**headers, "Content-Type": "application/octet-stream"})
    again = client.post("/api/v1/items?filename=copy.jpg", data=data, headers=headers)

    assert first.status_code == 200, first.get_json()
    [made] = first.get_json()["ingested"]
    assert made["name"] == "border.jpg"
    assert client.get(f"/api/v1/items/{made['item_id']}").get_json()["access"] == "public"
    assert again.get_json()["duplicates"] == [{"name": "copy.jpg", "item_id": made["item_id"], "warnings": []}]


def test_tags_are_renamed_merged_and_deleted(client: FlaskClient, archive: Archive, login: Any) -> None:
    add_item(archive, "Boat", tags=("boat",))
    add_item(archive, "Ferry", tags=("ferry",))
    headers = editor(client, login)
    tags = {t["name"]: t for t in client.get("/api/v1/tags").get_json()["items"]}

    renamed = client.patch(f"/api/v1/tags/{tags['ferry']['id']}", json={"name": "river ferry", "parent": "boat"},
                           headers={**headers, "If-Match": '"1"'})
    clash = client.patch(f"/api/v1/tags/{tags['ferry']['id']}", json={"name": "boat"}, headers=headers)
    merged = client.post(f"/api/v1/tags/{tags['ferry']['id']}/merge", json={"into": "boat"}, headers=headers)

    assert renamed.status_code == 200 and renamed.get_json()["name"] == "river ferry"
    assert renamed.get_json()["parent_id"] == tags["boat"]["id"]
    assert clash.status_code == 400 and clash.get_json()["error"]["field"]
    assert merged.status_code == 200 and merged.get_json()["items"] == 2
    assert client.delete(f"/api/v1/tags/{tags['boat']['id']}", headers=headers).status_code == 400  # in use
