"""The story package (archive.interchange.story): a journey's offline folder and zip hold public material
only, published positions only and no originals; the CLI and the journey page's download make it."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.core import Archive
from archive.interchange.story import export_story
from archive.services import NotFound
from conftest import log_in
from story_world import CAPTION, HIDEOUT, build_story_world


@pytest.fixture
def story(archive: Archive, tmp_path: Path) -> dict[str, Any]:
    return build_story_world(archive, tmp_path)


def _export(archive: Archive, journey_id: int, out: Path) -> Any:
    with archive.session() as session:
        return export_story(session, archive.store, journey_id, out, identity=archive.identity,
                            today=date(2026, 12, 4))


def _story_data(folder: Path) -> dict[str, Any]:
    html = (folder / "index.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="story-data">(.*?)</script>', html, re.S)
    assert block is not None
    return json.loads(block.group(1))


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*")
                     if p.is_file() and p.suffix in (".html", ".js", ".css"))


def test_story_package_holds_public_clips_with_inline_captions(archive: Archive, story: dict[str, Any],
                                                               tmp_path: Path) -> None:
    report = _export(archive, story["journey"], tmp_path / "story")
    folder = report.folder
    assert (folder / "index.html").is_file() and (folder / "handout.html").is_file()
    assert (folder / "vendor" / "leaflet" / "leaflet.js").is_file()
    data = _story_data(folder)
    assert [leg["position"] for leg in data["legs"]] == [1, 2, 3]
    assert [c["item"] for c in data["legs"][0]["clips"]] == [story["video"]]
    video = data["items"][str(story["video"])]
    assert video["src"] == f"media/{story['video']}.mp4"
    assert (folder / video["src"]).read_bytes()[4:8] == b"ftyp"  # the real proxy, not the original
    [transcript] = video["transcripts"]
    assert transcript["vtt"].startswith("data:text/vtt;charset=utf-8;base64,")
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert f'src="{transcript["vtt"]}"' in html and CAPTION in html
    assert data["items"][str(story["still"])]["src"].startswith("stills/")
    # nothing is fetched: no http(s) resource, no fetch() in the script
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "fetch(" not in (folder / "story.js").read_text()
    assert report.without_media == {story["unplayable"]: "no copy without the original's metadata has been made yet"}
    assert report.legs == 3 and report.clips == 3
    handout = (folder / "handout.html").read_text(encoding="utf-8")
    assert "An export of 2026-12-04" in html and "an export of 2026-12-04" in handout
    assert "@media print" in (folder / "story.css").read_text()
    assert "CC BY-NC 4.0 (synthetic demo)" in handout and "Riverside hideout" in handout
    assert f"stills/{story['video']}.png" in handout  # one still for leg 1


def test_story_package_holds_nothing_non_public_and_no_exact_position_or_original(
        archive: Archive, story: dict[str, Any], tmp_path: Path) -> None:
    report = _export(archive, story["journey"], tmp_path / "story")
    text = _all_text(report.folder)
    assert "MARK-restricted" not in text
    assert str(story["restricted"]) not in _story_data(report.folder)["items"]
    for exact in HIDEOUT:
        assert str(exact) not in text and str(round(exact, 4)) not in text
    [stop] = [s for leg in _story_data(report.folder)["legs"] for s in (leg["from"],) if s["name"] == "Riverside hideout"]
    assert stop["coarsened"] and (stop["latitude"], stop["longitude"]) != HIDEOUT
    assert story["sha256"] not in text and "SECRET-ORIGINAL-NAME" not in text and "secret-folder" not in text
    for path in report.folder.rglob("*"):
        if path.is_file():
            assert b"ORIGINAL-BYTES-OF-THE-CLIP" not in path.read_bytes(), path
    with zipfile.ZipFile(report.zip_path) as bundle:
        names = bundle.namelist()
        assert "story/index.html" in names and f"story/media/{story['video']}.mp4" in names
        assert not any("original" in name for name in names)
        assert all(b"ORIGINAL-BYTES-OF-THE-CLIP" not in bundle.read(name) for name in names)


def test_story_of_a_journey_that_is_not_public_is_not_found(archive: Archive, story: dict[str, Any],
                                                            tmp_path: Path) -> None:
    for journey_id in (story["hidden_journey"], 999999):
        with pytest.raises(NotFound):
            _export(archive, journey_id, tmp_path / f"story-{journey_id}")
        assert not (tmp_path / f"story-{journey_id}").exists()
        assert not (tmp_path / f"story-{journey_id}.partial").exists()


def test_export_story_command_writes_the_folder_and_zip(app: Flask, story: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "classroom"
    result = app.test_cli_runner().invoke(args=["export", "story", str(story["journey"]), str(out)])
    assert result.exit_code == 0, result.output
    assert "3 legs, 3 clips" in result.output
    assert (out / "index.html").is_file() and (tmp_path / "classroom.zip").is_file()
    again = app.test_cli_runner().invoke(args=["export", "story", str(story["journey"]), str(out)])
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize("journey", ["hidden", "999999", "north"])
def test_export_story_command_refuses_a_bad_journey_clearly(app: Flask, story: dict[str, Any], tmp_path: Path,
                                                             journey: str) -> None:
    given = str(story["hidden_journey"]) if journey == "hidden" else journey
    result = app.test_cli_runner().invoke(args=["export", "story", given, str(tmp_path / "out")])
    assert result.exit_code == 2
    expected = "is not a valid integer" if journey == "north" else f"journey {given} is not there or not public"
    assert expected in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_journey_page_offers_the_package_and_anyone_downloads_it(client: FlaskClient, story: dict[str, Any]) -> None:
    page = client.get(f"/journeys/{story['journey']}").get_data(as_text=True)
    assert f'/journeys/{story["journey"]}/story.zip' in page
    response = client.get(f"/journeys/{story['journey']}/story.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    from io import BytesIO
    with zipfile.ZipFile(BytesIO(response.get_data())) as bundle:
        top = bundle.namelist()[0].split("/")[0]
        assert f"{top}/index.html" in bundle.namelist()
        assert b"MARK-restricted" not in bundle.read(f"{top}/index.html")


def test_story_of_a_restricted_journey_is_not_offered_even_to_who_sees_it(
        app: Flask, client: FlaskClient, archive: Archive, story: dict[str, Any]) -> None:
    from archive.services.accounts import create_user
    with archive.session() as session:
        create_user(session, "ri", "a long password 1", "researcher")
    log_in(client, "ri", "a long password 1")
    page = client.get(f"/journeys/{story['hidden_journey']}")
    assert page.status_code == 200 and "story.zip" not in page.get_data(as_text=True)
    response = client.get(f"/journeys/{story['hidden_journey']}/story.zip")
    assert response.status_code == 404
    assert "public" in response.get_data(as_text=True)
    assert client.get("/journeys/999999/story.zip").status_code == 404
