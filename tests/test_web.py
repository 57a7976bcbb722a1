"""The HTML pages: home, browse, item and collection pages, errors, and what anonymous viewers see.

`add_item` (used by test_api.py and test_media_serving.py too) records items straight through the
models and writes small files into the store, so most tests need neither ffmpeg nor mediatools.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from archive.access import Role, Viewer
from archive.core import Archive
from archive.dates import parse_date
from archive.models import (AccessLevel, Collection, Credit, Derivative, Item, ItemKind, Job, JobState,
                            MediaFile, Person, Tag)
from conftest import PUBLISHED

_BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)


def png_bytes(width: int = 16, height: int = 9, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def add_item(archive: Archive, title: str = "Clip", *, kind: ItemKind = ItemKind.still,
             access: AccessLevel = AccessLevel.public, collection: str | None = None,
             tags: tuple[str, ...] = (), date_shot: str = "", content: bytes | None = None,
             mime_type: str | None = None, original_name: str | None = None,
             derivatives: tuple[str, ...] = ("grid", "page"), media: dict[str, Any] | None = None,
             derivative_info: dict[str, dict[str, Any]] | None = None,
             jobs: tuple[tuple[str, JobState, str], ...] = (), credits: tuple[tuple[str, str], ...] = (),
             added: int | None = None, **fields: Any) -> int:
    """Record one item with an original (and derivatives) written into the store; return its id.

    `added` orders items by creation time (seconds after a fixed moment), for sort tests.
    """
    content = content if content is not None else f"original bytes of {title}".encode() * 20
    sha = hashlib.sha256(content).hexdigest()
    store = archive.store
    put_bytes(archive, store.original_relpath(sha), content)
    default_mime = {ItemKind.still: "image/jpeg", ItemKind.video: "video/mp4", ItemKind.audio: "audio/mpeg"}
    parsed = parse_date(date_shot)
    with archive.session() as session, session.no_autoflush:  # one flush: the item is created whole
        item = Item(title=title, kind=kind, access=access, date_shot=parsed.text, date_lower=parsed.lower,
                    date_upper=parsed.upper, **fields)
        if added is not None:
            item.created_at = _BASE_TIME + timedelta(seconds=added)
        if collection:
            item.collection = (session.scalar(select(Collection).where(Collection.title == collection))
                               or Collection(title=collection))
        for name in tags:
            item.tags.append(session.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name))
        for position, (name, role) in enumerate(credits):
            person = session.scalar(select(Person).where(Person.name == name)) or Person(name=name)
            item.credits.append(Credit(person=person, role=role, position=position))
        media_file = MediaFile(sha256=sha, original_name=original_name or f"{title}.bin",
                               original_path=f"/home/donor/secret-folder/{title}.bin", size=len(content),
                               mime_type=mime_type or default_mime[kind], **(media or {}))
        item.media_files.append(media_file)
        reldir = store.derivative_reldir(sha)
        for dkind in derivatives:
            if dkind == "proxy":
                name, data, mime = "proxy.mp4", b"proxy bytes " * 50, "video/mp4"
            else:
                name, data, mime = f"{dkind}.png", png_bytes(), "image/png"
            put_bytes(archive, f"{reldir}/{name}", data)
            media_file.derivatives.append(Derivative(kind=dkind, path=f"{reldir}/{name}", mime_type=mime,
                                                     width=16, height=9, size=len(data),
                                                     info=(derivative_info or {}).get(dkind, {})))
        for job_kind, state, error in jobs:
            item.jobs.append(Job(kind=job_kind, state=state, error=error, payload={"sha256": sha}))
        session.add(item)
        session.flush()
        return item.id


def put_bytes(archive: Archive, relpath: str, data: bytes) -> None:
    """Write `data` into the archive's store (either backend) at `relpath`, replacing what is there."""
    import tempfile
    fd, name = tempfile.mkstemp(dir=archive.store.tmp)
    with open(fd, "wb") as fh:
        fh.write(data)
    archive.store.objects.put(relpath, Path(name))
    Path(name).unlink(missing_ok=True)


def set_viewer(app: Flask, viewer: Viewer) -> None:
    """Make every request of this app act as `viewer` (accounts come later; see current_viewer)."""
    @app.before_request
    def _act_as() -> None:
        g.viewer = viewer


RESEARCHER = Viewer(role=Role.researcher, name="researcher")


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def card_titles(html: str) -> list[str]:
    return re.findall(r'<span class="card__title">([^<]*)</span>', html)


# -- home -----------------------------------------------------------------------------------

def test_home_lists_collections_with_counts_and_recent_items(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Night crossing", collection="Beyond Utopia", added=1)
    add_item(archive, "Mekong boat", collection="Beyond Utopia", added=2)
    add_item(archive, "Minefield", collection="Escape", added=3)

    response = client.get("/")

    html = text(response)
    assert response.status_code == 200
    assert "Beyond Utopia" in html and "2 items" in html
    assert "Escape" in html and "1 item<" in html
    assert card_titles(html) == ["Minefield", "Mekong boat", "Night crossing"]


def test_home_hides_restricted_and_confidential_items_from_anonymous(client: FlaskClient,
                                                                     archive: Archive) -> None:
    add_item(archive, "Open clip", collection="Beyond Utopia")
    add_item(archive, "Broker phone call", collection="Beyond Utopia", access=AccessLevel.restricted)
    add_item(archive, "Family safe house", collection="Beyond Utopia", access=AccessLevel.confidential)

    html = text(client.get("/"))

    assert "Open clip" in html
    assert "Broker phone call" not in html and "Family safe house" not in html
    assert "1 item<" in html and "3 items" not in html


def test_home_hides_collection_whose_items_are_all_hidden(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Open clip", collection="Beyond Utopia")
    add_item(archive, "Hidden", collection="Private donation", access=AccessLevel.confidential)

    html = text(client.get("/"))

    assert "Beyond Utopia" in html
    assert "Private donation" not in html


def test_home_of_empty_archive_renders(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "Nothing has been added yet" in text(response)


# -- browse ---------------------------------------------------------------------------------

def test_browse_lists_items_with_thumbnails(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Hyesan riverbank")
    add_item(archive, "No thumbnail", derivatives=())

    html = text(client.get("/items"))

    assert f'src="/items/{item_id}/thumbs/grid"' in html
    assert "Hyesan riverbank" in html and "No thumbnail" in html
    assert "2 of 2 items" in html


def test_browse_offers_filters_as_selects(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Tagged", collection="Escape", tags=("river",), date_shot="2019-04")

    html = text(client.get("/items"))

    for name in ("collection", "tag", "year", "sort"):
        assert f'<select id="f-{name}" name="{name}">' in html
    assert 'data-facet="kind" data-value="still"' in html  # kind is a facet with counts (test_browse_filters)
    assert '<option value="river">river (1)</option>' in html
    assert '<option value="2019">2019</option>' in html
    assert ">Escape (1)</option>" in html
    assert '<option value="-date_shot">Date shot, latest first</option>' in html


@pytest.mark.parametrize("query, expected", [
    ("kind=video", ["Video clip"]),
    ("tag=river", ["Still at the river"]),
    ("year=2019", ["Still at the river"]),
    ("year=2021", ["Other still"]),
    ("kind=video&year=2019", []),
])
def test_browse_filters(client: FlaskClient, archive: Archive, query: str, expected: list[str]) -> None:
    add_item(archive, "Video clip", kind=ItemKind.video, date_shot="2023")
    add_item(archive, "Still at the river", tags=("river",), date_shot="2019-04-12")
    add_item(archive, "Other still", tags=("jungle",), date_shot="2021~")

    html = text(client.get(f"/items?{query}"))

    assert card_titles(html) == expected


def test_browse_filters_by_collection(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "In Escape", collection="Escape")
    add_item(archive, "In Beyond Utopia", collection="Beyond Utopia")
    with archive.Session() as session:
        escape_id = session.scalar(select(Collection.id).where(Collection.title == "Escape"))

    html = text(client.get(f"/items?collection={escape_id}"))

    assert card_titles(html) == ["In Escape"]
    assert f'<option value="{escape_id}" selected>' in html


def test_browse_keeps_the_chosen_filters_selected(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Clip", tags=("river",))

    html = text(client.get("/items?kind=still&tag=river&sort=title"))

    assert 'aria-current="true" data-facet="kind" data-value="still"' in html
    assert '<option value="river" selected>' in html
    assert '<option value="title" selected>' in html


@pytest.mark.parametrize("sort, expected", [
    ("title", ["Alpha", "Bravo", "Charlie"]),
    ("newest", ["Charlie", "Alpha", "Bravo"]),
    ("oldest", ["Bravo", "Alpha", "Charlie"]),
    ("date_shot", ["Alpha", "Charlie", "Bravo"]),
    ("-date_shot", ["Charlie", "Alpha", "Bravo"]),
])
def test_browse_sorts(client: FlaskClient, archive: Archive, sort: str, expected: list[str]) -> None:
    add_item(archive, "Bravo", added=1)  # no date: last either way
    add_item(archive, "Alpha", date_shot="2019-04", added=2)
    add_item(archive, "Charlie", date_shot="2023-01-05", added=3)

    assert card_titles(text(client.get(f"/items?sort={sort}"))) == expected


def test_browse_paginates_and_page_links_keep_other_parameters(client: FlaskClient, archive: Archive) -> None:
    for n in range(5):
        add_item(archive, f"Still {n}", tags=("border",), added=n)
    add_item(archive, "Untagged", added=10)

    html = text(client.get("/items?tag=border&per_page=2&sort=title&page=2"))

    assert card_titles(html) == ["Still 2", "Still 3"]
    assert "3–4 of 5 items" in html
    links = {link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', html)}
    assert "/items?tag=border&per_page=2&sort=title&page=3" in links
    assert "/items?tag=border&per_page=2&sort=title&page=1" in links
    assert 'rel="next"' in html and 'rel="prev"' in html


def test_browse_page_past_the_end_is_empty_not_an_error(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Only one")

    response = client.get("/items?page=9")

    assert response.status_code == 200
    assert card_titles(text(response)) == []
    assert "Back to the first page" in text(response)


def test_browse_clamps_per_page(app: Flask, client: FlaskClient, archive: Archive) -> None:
    archive.settings["max_per_page"] = 3
    for n in range(5):
        add_item(archive, f"Still {n}")

    response = client.get("/items?per_page=1000")

    assert response.status_code == 200
    assert len(card_titles(text(response))) == 3


@pytest.mark.parametrize("query, message", [
    ("page=abc", "page must be a whole number, not &#39;abc&#39;"),
    ("kind=banana", "kind must be one of video, still, audio, catalogued, not &#39;banana&#39;"),
    ("sort=sideways", "sort must be one of"),
    ("year=123456", "year must have at most four digits"),
    ("per_page=0", "per_page must be at least 1"),
])
def test_browse_bad_parameter_is_400_with_message(client: FlaskClient, query: str, message: str) -> None:
    response = client.get(f"/items?{query}")

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in text(response)
    assert "Bad request" in text(response)


@pytest.mark.parametrize("query", ["page=99999999999999999999999", "collection=99999999999999999999999"])
def test_browse_huge_numbers_are_refused_not_a_crash(client: FlaskClient, query: str) -> None:
    response = client.get(f"/items?{query}")

    assert response.status_code == 400


def test_browse_hides_restricted_and_confidential_items(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Open", tags=("river",), date_shot="2019")
    add_item(archive, "Restricted", access=AccessLevel.restricted, tags=("secret-tag",), date_shot="1999")
    add_item(archive, "Confidential", access=AccessLevel.confidential, collection="Donation")

    html = text(client.get("/items"))

    assert card_titles(html) == ["Open"]
    assert "1 of 1 item" in html
    assert "secret-tag" not in html and "1999" not in html and "Donation" not in html
    assert card_titles(text(client.get("/items?tag=secret-tag"))) == []


def test_browse_shows_restricted_items_to_a_researcher(app: Flask, client: FlaskClient, archive: Archive) -> None:
    set_viewer(app, RESEARCHER)
    add_item(archive, "Open", added=1)
    add_item(archive, "Restricted", access=AccessLevel.restricted, added=2)
    add_item(archive, "Confidential", access=AccessLevel.confidential, added=3)

    html = text(client.get("/items"))

    assert card_titles(html) == ["Restricted", "Open"]
    assert "badge--restricted" in html


# -- item page ------------------------------------------------------------------------------

def test_item_page_shows_description_and_technical_metadata(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(
        archive, "Mekong crossing", kind=ItemKind.video, collection="Beyond Utopia", tags=("mekong", "river"),
        date_shot="2019-04~", description="Synthetic demo material: a boat at night.",
        credits=(("Madeleine Gavin", "Director"),), original_name="mekong.mov", mime_type="video/quicktime",
        derivatives=("grid", "page", "proxy"),
        media=dict(container="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264", audio_codec="aac", duration=3725.6,
                   width=1920, height=1080, rotation=90, frame_rate=29.97, bit_rate=8_500_000,
                   audio_channels=2, audio_sample_rate=48000, camera_make="Apple", camera_model="iPhone 8",
                   creation_time=datetime(2019, 4, 12, 21, 30, tzinfo=timezone.utc),
                   latitude=20.27, longitude=100.09, altitude=350.0))
    media = text(client.get(f"/items/{item_id}"))

    assert "<h1>Mekong crossing</h1>" in media
    assert "Synthetic demo material: a boat at night." in media
    for expected in ("mov,mp4,m4a,3gp,3g2,mj2", "h264", "aac", "1:02:05", "1920 × 1080 px",
                     "shown 1080 × 1920 (rotated 90°)", "29.97 fps", "8.5 Mb/s", "video/quicktime",
                     "Apple iPhone 8", "2019-04-12 21:30:00 UTC", "20.27000, 100.09000", "350 m",
                     "mekong.mov", "48,000 Hz", "2 channels"):
        assert expected in media, expected
    with archive.Session() as session:
        sha = session.scalar(select(MediaFile.sha256).where(MediaFile.item_id == item_id))
    assert sha in media
    assert "about 2019-04" in media and "<code" in media
    assert "Madeleine Gavin" in media and "Director" in media
    assert 'href="/items?tag=mekong"' in media
    assert "badge--public" in media
    assert "/home/donor" not in media


def test_item_page_plays_the_proxy_when_there_is_one(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video, derivatives=("grid", "page", "proxy"))

    html = text(client.get(f"/items/{item_id}"))

    assert re.search(rf'<video [^>]*src="/items/{item_id}/proxy"', html)
    assert f'poster="/items/{item_id}/thumbs/page"' in html
    assert "being made" not in html


@pytest.mark.parametrize("state", [JobState.queued, JobState.running])
def test_item_page_plays_the_original_while_a_proxy_is_pending(client: FlaskClient, archive: Archive,
                                                                state: JobState) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video, mime_type="video/x-msvideo",
                       jobs=(("make_proxy", state, ""),))

    html = text(client.get(f"/items/{item_id}"))

    assert re.search(rf'<video [^>]*src="/items/{item_id}/original"', html)
    assert "A browser-ready copy is being made; until then the original plays if your browser can" in html


def test_item_page_shows_a_failed_job_with_its_error(client: FlaskClient, archive: Archive) -> None:
    error = "ffmpeg exited with 1:\n[mov,mp4] moov atom not found <truncated>"
    item_id = add_item(archive, "Clip", kind=ItemKind.video, jobs=(("make_proxy", JobState.failed, error),
                                                                    ("make_proxy", JobState.done, "")))

    html = text(client.get(f"/items/{item_id}"))

    expected = "ffmpeg exited with 1:\n[mov,mp4] moov atom not found &lt;truncated&gt;"
    assert f'<pre class="job__error">{expected}</pre>' in html
    assert html.count('class="job ') == 1
    assert "being made" not in html


def test_item_page_job_errors_do_not_show_where_the_data_root_is(client: FlaskClient, archive: Archive) -> None:
    error = f"{archive.data_root}/originals/ab/cd/abcd: Invalid data found when processing input"
    item_id = add_item(archive, "Clip", kind=ItemKind.video, jobs=(("make_proxy", JobState.failed, error),))

    html = text(client.get(f"/items/{item_id}"))

    assert str(archive.data_root) not in html
    assert "originals/ab/cd/abcd: Invalid data found when processing input" in html


def test_item_page_storyboard_frames_are_seek_buttons(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video, derivatives=("grid", "page", "storyboard"),
                       derivative_info={"storyboard": {"frame_times": [0.5, 61.0, 3700.25]}})

    html = text(client.get(f"/items/{item_id}"))

    assert f'src="/items/{item_id}/thumbs/storyboard"' in html
    assert re.findall(r'data-seek="([^"]+)"', html) == ["0.5", "61.0", "3700.25"]
    assert 'aria-label="Play from 1:01:40"' in html
    assert '<script src="/static/item.js" defer></script>' in html


def test_item_page_of_a_still_shows_the_page_image_linked_to_the_original(client: FlaskClient,
                                                                           archive: Archive) -> None:
    item_id = add_item(archive, "Shenyang station", media=dict(width=4000, height=3000))

    html = text(client.get(f"/items/{item_id}"))

    assert f'<a class="still" href="/items/{item_id}/original">' in html
    assert f'src="/items/{item_id}/thumbs/page"' in html
    assert "<video" not in html


def test_item_page_of_audio_has_an_audio_player(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Interview", kind=ItemKind.audio, media=dict(duration=65.0))

    html = text(client.get(f"/items/{item_id}"))

    assert re.search(rf'<audio [^>]*src="/items/{item_id}/original"', html)
    assert "0:01:05" in html


@pytest.mark.parametrize("access", [AccessLevel.restricted, AccessLevel.confidential])
def test_item_page_of_hidden_item_is_404(client: FlaskClient, archive: Archive, access: AccessLevel) -> None:
    item_id = add_item(archive, "Hidden title", access=access)

    response = client.get(f"/items/{item_id}")

    assert response.status_code == 404
    assert "Hidden title" not in text(response)


def test_unknown_item_is_a_readable_404_page(client: FlaskClient) -> None:
    response = client.get("/items/4242")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in text(response) and "item 4242" in text(response)
    assert 'href="/items"' in text(response)


@pytest.mark.parametrize("url", ["/nowhere", "/items/abc", "/collections/999"])
def test_unknown_addresses_are_404_pages(client: FlaskClient, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in text(response)


def test_wrong_method_is_405_page(client: FlaskClient) -> None:
    response = client.post("/items")

    assert response.status_code == 405
    assert "Method not allowed" in text(response)
    assert "GET" in response.headers["Allow"]


def test_crash_renders_a_friendly_500_page(app: Flask, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom() -> str:
        raise RuntimeError("secret internals")
    app.add_url_rule("/boom", view_func=boom)

    response = client.get("/boom")

    assert response.status_code == 500
    assert "Something went wrong" in text(response)
    assert "secret internals" not in text(response)


# -- collection page ------------------------------------------------------------------------

def test_collection_page_shows_its_record_and_visible_items(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Open clip", collection="Escape")
    add_item(archive, "Restricted clip", collection="Escape", access=AccessLevel.restricted)
    add_item(archive, "Elsewhere", collection="Beyond Utopia")
    with archive.session() as session:
        escape = session.scalar(select(Collection).where(Collection.title == "Escape"))
        escape.year, escape.kind = 2024, "feature film"
        escape.synopsis = "Sergeant Lim Kyu-nam defects after ten years of service."
        escape.description = "Synthetic demo material about the film."
        escape.rights = "Stills courtesy of the distributor."
        escape.credits.append(Credit(person=Person(name="Lee Jong-pil"), role="Director"))
        escape_id = escape.id

    response = client.get(f"/collections/{escape_id}")

    html = text(response)
    assert response.status_code == 200
    for expected in ("<h1>Escape</h1>", "2024", "Feature film", "Sergeant Lim Kyu-nam defects",
                     "Synthetic demo material about the film.", "Stills courtesy of the distributor.",
                     "Lee Jong-pil", "Director"):
        assert expected in html, expected
    assert card_titles(html) == ["Open clip"]
    assert "1 of 1 item" in html


def test_collection_page_paginates(client: FlaskClient, archive: Archive) -> None:
    for n in range(3):
        add_item(archive, f"Clip {n}", collection="Escape", added=n)
    with archive.Session() as session:
        escape_id = session.scalar(select(Collection.id))

    html = text(client.get(f"/collections/{escape_id}?per_page=2&page=2&sort=title"))

    assert card_titles(html) == ["Clip 2"]
    assert f'href="/collections/{escape_id}?per_page=2&amp;page=1&amp;sort=title"' in html


def test_collection_page_filtered_to_nothing_is_still_there(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Still", collection="Escape")
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id))

    response = client.get(f"/collections/{collection_id}?kind=audio")

    assert response.status_code == 200
    assert "No items" in text(response)


def test_collection_with_only_hidden_items_is_404(client: FlaskClient, archive: Archive) -> None:
    add_item(archive, "Hidden", collection="Private donation", access=AccessLevel.confidential)
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id))

    response = client.get(f"/collections/{collection_id}")

    assert response.status_code == 404
    assert "Private donation" not in text(response)


# -- every page -----------------------------------------------------------------------------

def test_pages_escape_catalogue_text(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "<script>alert(1)</script>", tags=("<b>tag</b>",))

    for url in ("/", "/items", f"/items/{item_id}"):
        html = text(client.get(url))
        assert "<script>alert" not in html and "<b>tag</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_have_no_inline_scripts_or_event_handlers(client: FlaskClient, archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video, derivatives=("grid", "page", "storyboard"),
                       collection="Escape", derivative_info={"storyboard": {"frame_times": [1.0, 2.0]}})
    with archive.Session() as session:
        collection_id = session.scalar(select(Collection.id))

    for url in ("/", "/items", f"/items/{item_id}", f"/collections/{collection_id}", "/items/999"):
        html = text(client.get(url))
        assert '<html lang="en">' in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=", html), url
        assert " style=" not in html, url
        assert "http://" not in html and "https://" not in html, url


def test_pages_mark_the_current_section_in_the_nav(client: FlaskClient) -> None:
    assert '<a href="/items" aria-current="page">Browse</a>' in text(client.get("/items"))
    assert '<a href="/" aria-current="page">Home</a>' in text(client.get("/"))


def test_static_assets_are_served(client: FlaskClient) -> None:
    css = client.get("/static/crossings.css")
    js = client.get("/static/item.js")

    assert css.status_code == 200 and "Noto Sans CJK" in text(css)
    assert js.status_code == 200 and "data-seek" in text(js)
    css.close()
    js.close()


# -- through ingest ---------------------------------------------------------------------------

def test_ingested_stills_appear_on_the_pages(client: FlaskClient, archive: Archive, tmp_path: Path) -> None:
    from archive.services.ingest import IngestOptions, ingest_paths

    folder = tmp_path / "incoming"
    folder.mkdir()
    Image.new("RGB", (640, 480), "navy").save(folder / "Shenyang_station.jpg", "JPEG")
    Image.new("RGB", (300, 400), "olive").save(folder / "Kunming_market.png", "PNG")
    Image.new("RGB", (300, 400), "maroon").save(folder / "safe_house.png", "PNG")
    report = ingest_paths(archive, [folder / "Shenyang_station.jpg", folder / "Kunming_market.png"],
                          IngestOptions(collection="Beyond Utopia", **PUBLISHED))
    hidden = ingest_paths(archive, [folder / "safe_house.png"],
                          IngestOptions(collection="Beyond Utopia", access=AccessLevel.confidential))
    assert report.ok and len(report.ingested) == 2 and hidden.ok

    home = text(client.get("/"))
    browse = text(client.get("/items?sort=title"))
    item_id = next(e["item_id"] for e in report.ingested if e["path"].endswith(".jpg"))
    page = text(client.get(f"/items/{item_id}"))

    assert sorted(card_titles(home)) == ["Kunming market", "Shenyang station"]
    assert "2 items" in home
    assert card_titles(browse) == ["Kunming market", "Shenyang station"]
    assert "640 × 480 px" in page and "image/jpeg" in page and "Shenyang_station.jpg" in page
    thumb = client.get(f"/items/{item_id}/thumbs/grid")
    assert thumb.status_code == 200 and thumb.mimetype.startswith("image/")
    thumb.close()
    assert client.get(f"/items/{hidden.ingested[0]['item_id']}").status_code == 404
