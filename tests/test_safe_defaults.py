"""Safe defaults (issue 10): new items restricted at about 10 km, publishing shown and confirmed,
and caches that stop serving an item as soon as it is no longer public."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive import cli
from archive.access import SYSTEM
from archive.core import Archive
from archive.models import AccessLevel, Item, LocationPrecision
from archive.services.editing import publication_preview
from archive.services.ingest import IngestOptions, ingest_paths
from archive.services.transcripts import import_transcript
from archive.settings import SettingsError
from conftest import csrf_token
from mediagen import make_jpeg
from test_edit_web import ITEM_FORM, field_html
from test_web import RESEARCHER, add_item, set_viewer, text

VTT = b"WEBVTT\n\n00:00.000 --> 00:02.000\nWe crossed at night.\n"


def levels(archive: Archive, item_id: int) -> tuple[AccessLevel, LocationPrecision]:
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.access, item.location_precision


def add_transcripts(archive: Archive, item_id: int, *languages: str) -> None:
    with archive.session() as session:
        item = session.get(Item, item_id)
        for language in languages:
            import_transcript(session, item, VTT, f"clip.{language}.vtt")


# -- defaults for what is added -----------------------------------------------------------------

def test_ingest_makes_restricted_items_at_about_10_km_unless_asked(archive: Archive, tmp_path: Path) -> None:
    plain = make_jpeg(tmp_path / "hideout.jpg", gps=(41.8, 123.4))
    asked = make_jpeg(tmp_path / "market.jpg", gps=(20.27, 100.09), size=(320, 240))

    first = ingest_paths(archive, [plain], IngestOptions())
    second = ingest_paths(archive, [asked], IngestOptions(access=AccessLevel.confidential,
                                                          location_precision=LocationPrecision.country))

    assert levels(archive, first.ingested[0]["item_id"]) == (AccessLevel.restricted, LocationPrecision.km10)
    assert levels(archive, second.ingested[0]["item_id"]) == (AccessLevel.confidential, LocationPrecision.country)


def test_ingest_follows_changed_defaults_and_existing_items_keep_their_levels(
        settings: dict[str, object], tmp_path: Path) -> None:
    make_jpeg(tmp_path / "a.jpg", gps=(41.8, 123.4))
    make_jpeg(tmp_path / "b.jpg", size=(320, 240))
    archive = Archive.open({**settings, "default_access": "public", "default_location_precision": "exact"})
    try:
        old = ingest_paths(archive, [tmp_path / "a.jpg"], IngestOptions()).ingested[0]["item_id"]
        assert levels(archive, old) == (AccessLevel.public, LocationPrecision.exact)
    finally:
        archive.close()
    archive = Archive.open(settings)  # the shipped defaults again
    try:
        new = ingest_paths(archive, [tmp_path / "b.jpg"], IngestOptions()).ingested[0]["item_id"]
        assert levels(archive, old) == (AccessLevel.public, LocationPrecision.exact)
        assert levels(archive, new) == (AccessLevel.restricted, LocationPrecision.km10)
    finally:
        archive.close()


def test_a_misspelt_default_precision_is_refused_naming_the_setting(settings: dict[str, object]) -> None:
    with pytest.raises(SettingsError, match="default_location_precision.*exact, km10, region, country.*'10km'"):
        Archive.open({**settings, "default_location_precision": "10km"})
    with pytest.raises(SettingsError, match="default_access.*'secret'"):
        Archive.open({**settings, "default_access": "secret"})
    with pytest.raises(SettingsError, match="search_engine.*whoosh.*'elastic'"):
        Archive.open({**settings, "search_engine": "elastic"})


def test_cli_ingest_takes_a_location_precision(runner: CliRunner, archive: Archive, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "river.jpg", gps=(41.8, 123.4))
    make_jpeg(tmp_path / "town.jpg", size=(320, 240))

    asked = runner.invoke(cli.ingest, [str(tmp_path / "river.jpg"), "--location-precision", "region"])
    default = runner.invoke(cli.ingest, [str(tmp_path / "town.jpg")])
    wrong = runner.invoke(cli.ingest, [str(tmp_path / "town.jpg"), "--location-precision", "street"])

    assert asked.exit_code == 0 and default.exit_code == 0, asked.output + default.output
    with archive.Session() as session:
        found = {item.title: (item.access, item.location_precision) for item in session.scalars(select(Item))}
    assert found == {"river": (AccessLevel.restricted, LocationPrecision.region),
                     "town": (AccessLevel.restricted, LocationPrecision.km10)}
    assert wrong.exit_code == 2 and "'street' is not one of 'exact', 'km10', 'region', 'country'" in wrong.output


def test_upload_form_starts_at_the_defaults_and_takes_a_precision(client: FlaskClient, archive: Archive, login,
                                                                  tmp_path: Path) -> None:
    import io
    login("archivist")

    html = text(client.get("/upload"))

    assert '<option value="restricted" selected>' in field_html(html, "access")
    assert '<option value="km10" selected>' in field_html(html, "location_precision")
    assert '<option value="public" selected>' not in html and '<option value="exact" selected>' not in html
    jpeg = make_jpeg(tmp_path / "a.jpg", gps=(41.8, 123.4)).read_bytes()
    sent = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"), "access": "public",
                                        "location_precision": "exact", "files": [(io.BytesIO(jpeg), "a.jpg")]},
                       headers={"Accept": "application/json"})
    left_out = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"),
                                            "files": [(io.BytesIO(jpeg[:-2] + b"\x00\xff\xd9"), "b.jpg")]},
                           headers={"Accept": "application/json"})
    refused = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"),
                                           "location_precision": "street", "files": [(io.BytesIO(jpeg), "c.jpg")]})

    assert sent.status_code == 200 and left_out.status_code == 200, sent.json
    assert levels(archive, sent.json["ingested"][0]["item_id"]) == (AccessLevel.public, LocationPrecision.exact)
    assert levels(archive, left_out.json["ingested"][0]["item_id"]) == (AccessLevel.restricted,
                                                                        LocationPrecision.km10)
    assert refused.status_code == 400
    assert "Location precision must be one of exact, km10, region, country" in field_html(text(refused),
                                                                                       "location_precision")


def test_new_places_journeys_and_legs_start_at_the_defaults(client: FlaskClient, archive: Archive, login) -> None:
    """A safe house or a route is as sensitive as footage: the forms for new ones start restricted at about
    10 km, and a client leaving the fields out gets the same."""
    from archive.models import Journey, Leg, Place
    login("archivist")
    place_form = text(client.get("/places/new"))
    journey_form = text(client.get("/journeys/new"))
    assert '<option value="restricted" selected>' in field_html(place_form, "access")
    assert '<option value="km10" selected>' in field_html(place_form, "precision")
    assert '<option value="restricted" selected>' in field_html(journey_form, "access")

    made = client.post("/places/new", data={"csrf_token": csrf_token(client, "/places/new"), "name": "Safe house",
                                            "latitude": "21.03", "longitude": "105.85", "country": "VN"})
    other = client.post("/places/new", data={"csrf_token": csrf_token(client, "/places/new"), "name": "Ferry",
                                             "latitude": "21.5", "longitude": "105.2", "country": "VN"})
    route = client.post("/journeys/new", data={"csrf_token": csrf_token(client, "/journeys/new"), "title": "Route"})
    assert made.status_code == other.status_code == route.status_code == 303
    with archive.Session() as session:
        house = session.scalar(select(Place).where(Place.name == "Safe house"))
        ferry = session.scalar(select(Place).where(Place.name == "Ferry"))
        journey = session.scalar(select(Journey).where(Journey.title == "Route"))
        assert (house.access, house.precision) == (AccessLevel.restricted, LocationPrecision.km10)
        assert journey.access is AccessLevel.restricted
    edit = f"/journeys/{journey.id}/edit"
    assert '<option value="km10" selected>' in field_html(text(client.get(edit)), "precision")
    leg = client.post(f"/journeys/{journey.id}/legs", data={"csrf_token": csrf_token(client, edit),
                                                          "from_place_id": str(house.id), "to_place_id": str(ferry.id)})
    assert leg.status_code == 303, text(leg)
    with archive.Session() as session:
        assert session.scalar(select(Leg.precision).where(Leg.journey_id == journey.id)) is LocationPrecision.km10


# -- what publishing shows ------------------------------------------------------------------------

def test_publication_preview_counts_gps_transcripts_and_originals(archive: Archive) -> None:
    near = add_item(archive, "Hideout", access=AccessLevel.restricted, location_precision=LocationPrecision.km10,
                    media={"latitude": 41.8, "longitude": 123.4})
    exact = add_item(archive, "Market", access=AccessLevel.confidential, media={"latitude": 20.2, "longitude": 100.1})
    no_gps = add_item(archive, "Letter", access=AccessLevel.restricted, location_precision=LocationPrecision.region)
    already = add_item(archive, "Poster", media={"latitude": 37.5, "longitude": 127.0})
    add_transcripts(archive, near, "ko", "en")
    add_transcripts(archive, exact, "ko")

    with archive.Session() as session:
        preview = publication_preview(session, SYSTEM, [near, exact, no_gps, already, 99999], "public")
        hiding = publication_preview(session, SYSTEM, [near, already], "restricted")

    assert [e.item_id for e in preview.items] == [near, exact, no_gps]  # the public one publishes nothing new
    assert preview.needs_confirmation and not hiding.needs_confirmation and hiding.lines() == []
    assert {e.item_id: (e.gps_precision, e.transcripts, e.original_downloadable) for e in preview.items} == {
        near: (LocationPrecision.km10, 2, False), exact: (LocationPrecision.exact, 1, True),
        no_gps: (None, 0, False)}
    assert preview.lines() == [
        "3 items will be seen by anyone, without logging in.",
        "GPS position published: 1 item exactly, as recorded, 1 item to about 10 km.",
        "3 transcripts can be read and downloaded.",
        "The original file of 1 item can be downloaded, with any position and device details in its metadata."]


def _edit(client: FlaskClient, item_id: int, **changes: str) -> object:
    form = {**ITEM_FORM, "csrf_token": csrf_token(client, f"/items/{item_id}/edit"), **changes}
    return client.post(f"/items/{item_id}/edit", data=form)


def test_edit_form_shows_what_becomes_public_and_saves_only_once_confirmed(client: FlaskClient, archive: Archive,
                                                                          login) -> None:
    item_id = add_item(archive, "Clip", access=AccessLevel.restricted, media={"latitude": 41.8, "longitude": 123.4})
    add_transcripts(archive, item_id, "ko")
    login("archivist")

    asked = _edit(client, item_id, title="Night crossing", access="public")

    html = text(asked)
    assert asked.status_code == 200
    assert "Make this item public?" in html and "Nothing is saved yet." in html
    assert "GPS position published: 1 item exactly, as recorded." in html
    assert "1 transcript can be read and downloaded." in html
    assert "The original file of 1 item can be downloaded" in html
    assert 'name="confirm_public" value="yes"' in html
    assert 'value="Night crossing"' in field_html(html, "title")  # the typed values are kept
    assert '<option value="public" selected>' in field_html(html, "access")
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, item.access) == ("Clip", AccessLevel.restricted)

    confirmed = _edit(client, item_id, title="Night crossing", access="public", confirm_public="yes")

    assert confirmed.status_code == 303
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert (item.title, item.access) == ("Night crossing", AccessLevel.public)


def test_edit_form_asks_nothing_when_the_save_publishes_nothing(client: FlaskClient, archive: Archive,
                                                                login) -> None:
    public = add_item(archive, "Poster")
    restricted = add_item(archive, "Clip", access=AccessLevel.restricted)
    other = add_item(archive, "Letter", access=AccessLevel.restricted)
    login("archivist")

    renamed = _edit(client, public, title="Poster of 2019", access="public")
    hidden = _edit(client, restricted, title="Clip", access="confidential")
    refused = _edit(client, other, title="", access="public")

    assert renamed.status_code == 303 and hidden.status_code == 303
    assert levels(archive, restricted)[0] is AccessLevel.confidential
    assert refused.status_code == 400 and "Make this item public?" not in text(refused)  # errors first


def test_bulk_edit_shows_what_becomes_public_and_applies_only_once_confirmed(client: FlaskClient, archive: Archive,
                                                                            login) -> None:
    ids = [add_item(archive, f"Clip {n}", access=AccessLevel.restricted, location_precision=LocationPrecision.km10,
                    media={"latitude": 41.8, "longitude": 123.4}) for n in (1, 2)]
    login("archivist")
    form = {"csrf_token": csrf_token(client, "/items"), "item": [str(i) for i in ids], "access": "public"}

    asked = client.post("/items/bulk?kind=still", data=form)

    html = text(asked)
    assert asked.status_code == 200
    assert "Make 2 items public?" in html and "GPS position published: 2 items to about 10 km." in html
    assert "No original can be downloaded" in html and "Make public and apply" in html
    for item_id in ids:  # still ticked, for the confirmation
        assert f'value="{item_id}" data-bulk-item checked' in html
        assert levels(archive, item_id)[0] is AccessLevel.restricted

    confirmed = client.post("/items/bulk?kind=still", data={**form, "confirm_public": "yes"})

    assert confirmed.status_code == 303
    assert [levels(archive, item_id)[0] for item_id in ids] == [AccessLevel.public] * 2


def test_cli_set_access_asks_on_a_terminal(runner: CliRunner, archive: Archive,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    item_id = add_item(archive, "Clip", access=AccessLevel.restricted, media={"latitude": 41.8, "longitude": 123.4})
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)

    declined = runner.invoke(cli.items_set_access, [str(item_id), "public"], input="n\n")

    assert declined.exit_code == 1 and levels(archive, item_id)[0] is AccessLevel.restricted
    assert "1 item will be seen by anyone" in declined.output and "Make 1 item public? [y/N]" in declined.output
    assert "nothing was changed" in declined.output

    accepted = runner.invoke(cli.items_set_access, [str(item_id), "public"], input="y\n")

    assert accepted.exit_code == 0, accepted.output
    assert "1 item updated." in accepted.output and levels(archive, item_id)[0] is AccessLevel.public


def test_cli_set_access_without_a_terminal_needs_yes(runner: CliRunner, archive: Archive) -> None:
    first = add_item(archive, "Clip", access=AccessLevel.restricted)
    second = add_item(archive, "Still", access=AccessLevel.confidential)

    refused = runner.invoke(cli.items_set_access, [str(first), str(second), "public"])

    assert refused.exit_code == 1
    assert "2 items will be seen by anyone" in refused.output and "--yes" in refused.output
    assert levels(archive, first)[0] is AccessLevel.restricted and levels(archive, second)[0] is AccessLevel.confidential

    done = runner.invoke(cli.items_set_access, [str(first), str(second), "99999", "public", "--yes"])

    assert done.exit_code == 1  # one id was not found; the others are changed
    assert "item 99999 not found" in done.output and "2 items updated, 1 item not found." in done.output
    assert levels(archive, first)[0] is AccessLevel.public and levels(archive, second)[0] is AccessLevel.public

    hidden = runner.invoke(cli.items_set_access, [str(first), "restricted"])  # hiding asks nothing

    assert hidden.exit_code == 0 and levels(archive, first)[0] is AccessLevel.restricted


def test_cli_set_access_never_waits_for_an_answer_without_a_terminal(settings: dict[str, object],
                                                                     archive: Archive) -> None:
    item_id = add_item(archive, "Clip", access=AccessLevel.restricted)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSINGS_")}
    env["CROSSINGS_DATA"] = str(settings["data"])
    env["CROSSINGS_DATABASE_URL"] = str(settings["database_url"])
    crossings = str(Path(sys.executable).with_name("crossings"))

    for stdin in (subprocess.DEVNULL, subprocess.PIPE):  # an empty stdin, and one left open
        result = subprocess.run([crossings, "items", "set-access", str(item_id), "public"], stdin=stdin,
                                capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 1 and "--yes" in result.stderr

    assert levels(archive, item_id)[0] is AccessLevel.restricted


# -- caching --------------------------------------------------------------------------------------

def test_hidden_media_thumbnails_and_transcripts_are_never_stored(app: Flask, client: FlaskClient,
                                                                  archive: Archive) -> None:
    set_viewer(app, RESEARCHER)
    item_id = add_item(archive, "Clip", access=AccessLevel.restricted, derivatives=("grid", "page", "proxy"))
    add_transcripts(archive, item_id, "ko")
    with archive.Session() as session:
        transcript_id = session.get(Item, item_id).transcripts[0].id

    for path in ("original", "proxy", "thumbs/grid", "thumbs/page", f"transcripts/{transcript_id}.vtt",
                 f"transcripts/{transcript_id}.srt"):
        response = client.get(f"/items/{item_id}/{path}")
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "Expires" not in response.headers, path
        response.close()


def test_public_media_is_revalidated_and_stops_being_served_once_restricted(client: FlaskClient,
                                                                           archive: Archive) -> None:
    item_id = add_item(archive, "Clip", derivatives=("grid", "page", "proxy"))
    add_transcripts(archive, item_id, "ko")
    with archive.Session() as session:
        transcript_id = session.get(Item, item_id).transcripts[0].id
    paths = ("original", "proxy", "thumbs/grid", f"transcripts/{transcript_id}.vtt")
    etags = {}
    for path in paths:
        response = client.get(f"/items/{item_id}/{path}")
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-cache", path
        etags[path] = response.headers["ETag"]
        response.close()
        again = client.get(f"/items/{item_id}/{path}", headers={"If-None-Match": etags[path]})
        assert again.status_code == 304 and again.headers["Cache-Control"] == "no-cache", path

    with archive.session() as session:
        session.get(Item, item_id).access = AccessLevel.restricted

    for path in paths:  # a cache revalidating its copy is told it is gone
        assert client.get(f"/items/{item_id}/{path}", headers={"If-None-Match": etags[path]}).status_code == 404


def test_media_cache_seconds_is_no_longer_a_setting(settings: dict[str, object]) -> None:
    with pytest.raises(SettingsError, match="unknown setting 'media_cache_seconds'"):
        Archive.open({**settings, "media_cache_seconds": 60})

