"""IIIF: an item's Presentation 3 manifest and Content Search 2 service, collections and journeys as
IIIF Collections, and a page that opens a manifest in Mirador. Thin: archive.interchange.iiif builds.

What may be played is the item page's player (archive.web.pages.player_for, the one rule of what a
non-editor receives); a manifest, its search and its viewer answer 404 wherever the item page does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from archive.access import ANONYMOUS, can_see
from archive.interchange import iiif
from archive.models import AccessLevel, Item, ItemKind
from archive.services import Invalid, NotFound
from archive.services.catalogue import ItemQuery, find_items, get_collection, get_item
from archive.services.journeys import journey_view
from archive.services.search import find_in_transcripts
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.cors import share_if_public
from archive.web.links import derivative, thumb_url
from archive.web.pages import player_for, visible_collections

bp = Blueprint("iiif", __name__)

JSON_LD = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
#: Manifests listed in one page of a Collection; a larger one is a Collection of such pages.
COLLECTION_PAGE = 100
#: Mirador injects its styles as <style> elements (emotion), so this page alone allows inline styles;
#: scripts still come from this origin only, and nothing else is loaded from anywhere else.
VIEWER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
              "media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
              "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def absolute(path: str) -> str:
    """A URL the manifest can give another site: under `base_url` when set, else this request's host."""
    identity = current_archive().identity
    return identity.url(path) if identity.base_url else urljoin(request.host_url, path)


class WebLinks:
    """archive.interchange.iiif.Links from this app's routes."""

    def manifest(self, item_id: int) -> str:
        return absolute(url_for("iiif.manifest", item_id=item_id))

    def search(self, item_id: int) -> str:
        return absolute(url_for("iiif.search", item_id=item_id))

    def item_page(self, item_id: int) -> str:
        return absolute(url_for("pages.item", item_id=item_id))

    def transcript_vtt(self, item_id: int, transcript_id: int) -> str:
        return absolute(url_for("transcripts.export", item_id=item_id, transcript_id=transcript_id, fmt="vtt"))

    def collection(self, collection_id: int) -> str:
        return absolute(url_for("iiif.collection", collection_id=collection_id))

    def journey(self, journey_id: int) -> str:
        return absolute(url_for("iiif.journey", journey_id=journey_id))


LINKS = WebLinks()


def _thumbnail(item: Item, kind: str = "page") -> iiif.Thumbnail | None:
    url, found = thumb_url(item, kind), derivative(item, kind)
    if url is None or found is None:
        return None
    return iiif.Thumbnail(absolute(url), found.mime_type or "image/jpeg", found.width, found.height)


def _media(item: Item) -> iiif.Media | None:
    """What the item page would play or show this viewer, as the canvas's painting."""
    player = player_for(item)
    if player.src is None or item.media is None:
        return None
    if item.kind is ItemKind.still:
        page = derivative(item, "page")
        if page is not None and player.src == thumb_url(item, "page"):
            return iiif.Media(absolute(player.src), page.mime_type or "image/jpeg", page.width, page.height)
        return iiif.Media(absolute(player.src), item.media.mime_type, item.media.width, item.media.height)
    if player.element == "img":
        return None  # footage withheld until its copy without metadata is made: only the poster
    proxy = derivative(item, "proxy")
    played = proxy if proxy is not None and player.src.endswith("/proxy") else None
    return iiif.Media(absolute(player.src), player.mime_type or item.media.mime_type,
                      (played.width if played else None) or item.media.width,
                      (played.height if played else None) or item.media.height)


def _json(body: dict[str, Any], public: bool) -> Response:
    response = jsonify(body)
    response.headers["Content-Type"] = JSON_LD
    # What it holds changes with the catalogue and the viewer's login, like the item's files.
    response.headers["Cache-Control"] = "no-cache" if public else "private, no-store"
    return share_if_public(response, public)


def _public(item: Item) -> bool:
    """Is `item` one anyone may see (then its IIIF answers may be shared and kept, as its files are)?"""
    return item.access is AccessLevel.public and can_see(ANONYMOUS, item)


def _settings() -> tuple[str, str]:
    settings = current_archive().settings
    return settings["catalogue_language"], settings["archive_name"]


@bp.get("/iiif/items/<id:item_id>/manifest")
def manifest(item_id: int) -> Response:
    """The item's IIIF Presentation 3 manifest, as the current viewer may see it."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    if item.media is None:
        raise NotFound(f"a manifest of item {item_id}: it has no media yet")
    language, name = _settings()
    body = iiif.manifest(session, viewer, item, LINKS, media=_media(item), poster=_thumbnail(item),
                         language=language, attribution=name)
    return _json(body, _public(item))


@bp.get("/iiif/items/<id:item_id>/search")
def search(item_id: int) -> Response:
    """IIIF Content Search 2.0 within the item's transcripts: ?q=words, optionally &motivation=supplementing."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    q = request.args.get("q", "")
    if len(q) > 1000:
        raise Invalid("q is longer than 1000 characters", "q")
    motivations = request.args.get("motivation", "").split()
    hits, texts = ([], {}) if motivations and "supplementing" not in motivations else \
        find_in_transcripts(session, viewer, current_archive().index, item.id, q)
    ignored = sorted(name for name in request.args if name not in ("q", "motivation"))
    page_id = absolute(url_for("iiif.search", item_id=item.id, **{k: v for k, v in request.args.items()
                                                                     if k not in ignored}))
    body = iiif.search_page(page_id, item, LINKS, hits, texts, ignored=ignored)
    return _json(body, _public(item))


def _page_number() -> int:
    raw = request.args.get("page", "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        raise Invalid(f"page must be a whole number from 1, not {raw!r}", "page")
    return int(raw)


@bp.get("/iiif/collections/<id:collection_id>")
def collection(collection_id: int) -> Response:
    """A collection as a IIIF Collection of the manifests of its items the viewer may see; past
    COLLECTION_PAGE items, a Collection of pages (?page=N)."""
    session, viewer = db_session(), current_viewer()
    counts = dict((c.id, n) for c, n in visible_collections(session, viewer))
    if collection_id not in counts:
        raise NotFound(f"collection {collection_id}")
    found = get_collection(session, collection_id)
    language, name = _settings()
    here = absolute(url_for("iiif.collection", collection_id=collection_id))
    page, total = _page_number(), counts[collection_id]
    public = viewer.is_anonymous  # an anonymous visitor sees public items only
    if page == 0 and total > COLLECTION_PAGE:
        pages = -(-total // COLLECTION_PAGE)
        members = [iiif.sub_collection(f"{here}?page={n}", f"Items {(n - 1) * COLLECTION_PAGE + 1}–"
                                       f"{min(n * COLLECTION_PAGE, total)}") for n in range(1, pages + 1)]
        return _json(iiif.collection(here, found.title, members, summary=found.synopsis, language=language,
                                     attribution=name, part_of=absolute(url_for("iiif.collections"))), public)
    query = ItemQuery(collection_id=collection_id, sort="title", page=max(page, 1), per_page=COLLECTION_PAGE)
    items = find_items(session, viewer, query).items
    if page > 1 and not items:
        raise NotFound(f"page {page} of collection {collection_id}")
    members = [iiif.member(item, LINKS, _thumbnail(item, "grid"), language) for item in items if item.media is not None]
    body = iiif.collection(f"{here}?page={page}" if page else here, found.title, members, summary=found.synopsis,
                           language=language, attribution=name, part_of=here if page else absolute(url_for("iiif.collections")))
    return _json(body, public)


@bp.get("/iiif/collection")
def collections() -> Response:
    """Every collection the viewer may see, as a IIIF Collection of Collections."""
    session, viewer = db_session(), current_viewer()
    language, name = _settings()
    members = [iiif.sub_collection(LINKS.collection(c.id), c.title, language)
               for c, _ in visible_collections(session, viewer)]
    return _json(iiif.collection(absolute(url_for("iiif.collections")), name, members, language=language,
                                 attribution=name), viewer.is_anonymous)


@bp.get("/iiif/journeys/<id:journey_id>")
def journey(journey_id: int) -> Response:
    """A journey as a IIIF Collection of the manifests of the items filmed on its legs, in the order travelled."""
    session, viewer = db_session(), current_viewer()
    view = journey_view(session, viewer, journey_id)
    language, name = _settings()
    members = [iiif.member(item, LINKS, _thumbnail(item, "grid"), language)
               for item in iiif.journey_items(view) if item.media is not None]
    body = iiif.collection(LINKS.journey(journey_id), view.title, members, summary=view.description,
                           language=language, attribution=name)
    return _json(body, view.access is AccessLevel.public and viewer.is_anonymous)


@bp.get("/iiif/items/<id:item_id>/viewer")
def viewer(item_id: int) -> Response:
    """The item's manifest opened in Mirador, on a page of its own with the policy Mirador needs."""
    item = get_item(db_session(), current_viewer(), item_id)
    if item.media is None:
        raise NotFound(f"a manifest of item {item_id}: it has no media yet")
    response = Response(render_template("iiif_viewer.html", item=item, manifest_url=LINKS.manifest(item.id)))
    response.headers["Content-Security-Policy"] = VIEWER_CSP
    return response
