"""HTML pages: home, browse, item and collection. Each parses, asks a service, renders."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, replace

from flask import Blueprint, render_template, request, url_for
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.web.context import current_archive, current_viewer, db_session
from archive.models import Collection, Item, ItemKind, Job, JobState
from archive.services import NotFound
from archive.services.catalogue import (SORTS, ItemPage, ItemQuery, find_items, get_collection, get_item,
                                        list_collections, parse_item_query, recent_items, tag_counts,
                                        year_range)
from archive.search import SearchRequest, SearchResponse
from archive.services.access_copies import ACCESS, ACCESS_JOB
from archive.services.filters import FacetBlock, date_choices, facet_blocks
from archive.services.item_filters import BROWSE_FACETS, leg_labels
from archive.services.ingest import PROXY_JOB, THUMBNAILS_JOB
from archive.services.timeline import collection_timeline
from archive.services.transcripts import list_transcripts
from archive.web.links import (access_copy_url, derivative, derivative_url, downloads_offered, original_url,
                               thumb_url)

bp = Blueprint("pages", __name__)

PENDING = (JobState.queued, JobState.running)
WITHHELD_NOTE = ("The original file may record where it was shot more exactly than this archive publishes, "
                 "so it is not offered here; the pictures shown carry no location.")
PREPARING_NOTE = "A copy without the original's metadata is being prepared; it plays here once it is made."
#: How the item page names background jobs.
JOB_LABELS = {PROXY_JOB: "Browser-ready copy", THUMBNAILS_JOB: "Thumbnails", ACCESS_JOB: "Access copy to download"}
THUMBNAILS_NOTE = "The thumbnails of this item are still being made."
#: Pictures every browser shows; a still in another format (HEIC, TIFF) waits for its page image.
BROWSER_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def item_query() -> ItemQuery:
    settings = current_archive().settings
    return parse_item_query(request.args, default_per_page=settings["per_page"],
                            max_per_page=settings["max_per_page"])


def visible_collections(session: Session, viewer: Viewer) -> list[tuple[Collection, int]]:
    """Collections with at least one item `viewer` may see, with that count.

    The others are treated as absent: a collection's title alone can tell what the archive holds.
    """
    return [(c, n) for c, n in list_collections(session, viewer) if n > 0]


@bp.get("/")
def home() -> str:
    session, viewer = db_session(), current_viewer()
    return render_template("home.html", collections=visible_collections(session, viewer),
                           recent=recent_items(session, viewer))


def browse_facets(session: Session, viewer: Viewer, page: ItemPage) -> tuple[list[FacetBlock], list]:
    """The facet blocks of a browse page (the search page's, archive.services.filters) and its date filters."""
    query = page.query
    chosen = SearchRequest(filters=query.filters, date_from=query.date_from, date_to=query.date_to)
    legs = [v.value for v in page.facets.get("leg", ())] + list(query.filters.get("leg", ()))
    blocks = facet_blocks(request.args, chosen, SearchResponse(page.total, [], page.facets), facets=BROWSE_FACETS,
                          labels={"leg": leg_labels(session, viewer, legs)})
    return blocks, date_choices(request.args, chosen)


@bp.get("/items")
def browse() -> str:
    query = item_query()
    session, viewer = db_session(), current_viewer()
    page = find_items(session, viewer, query, facets=True)
    facets, dates = browse_facets(session, viewer, page)
    return render_template(
        "browse.html", page=page, query=query, facets=facets, dates=dates,
        collections=visible_collections(session, viewer), tags=tag_counts(session, viewer),
        years=year_range(session, viewer), sorts=SORTS, browse_url=browse_url)


def browse_url(args: dict[str, list[str]]) -> str:
    """The browse page with these parameters (a FacetOption's, or a date filter's removal)."""
    return url_for("pages.browse", **args)


@bp.get("/items/recent")
def recently_added() -> str:
    """The newest additions first, page by page, grouped by the day they were added."""
    query = dataclasses.replace(item_query(), sort="newest")
    page = find_items(db_session(), current_viewer(), query)
    days = [(day, list(items)) for day, items in itertools.groupby(page.items, key=lambda i: i.created_at.date())]
    return render_template("recent.html", page=page, days=days)


@bp.get("/items/<id:item_id>")
def item(item_id: int) -> str:
    found = get_item(db_session(), current_viewer(), item_id)
    return render_template("item.html", item=found, player=player_for(found), storyboard=storyboard_for(found),
                           download=download_for(found),
                           jobs=unfinished_jobs(found), job_labels=JOB_LABELS,
                           transcripts=list_transcripts(db_session(), current_viewer(), item_id, segments=False))


@bp.get("/about")
def about() -> str:
    session, viewer = db_session(), current_viewer()
    return render_template("about.html", identity=current_archive().identity,
                           collections=visible_collections(session, viewer))


@bp.get("/collections/<id:collection_id>")
def collection(collection_id: int) -> str:
    query = dataclasses.replace(item_query(), collection_id=collection_id)
    session, viewer = db_session(), current_viewer()
    if collection_id not in {c.id for c, _ in visible_collections(session, viewer)}:
        raise NotFound(f"collection {collection_id}")
    return render_template("collection.html", collection=get_collection(session, collection_id),
                           page=find_items(session, viewer, query), query=query, sorts=SORTS,
                           timeline=collection_timeline(session, viewer, collection_id))


# -- what the item page shows ---------------------------------------------------------------

@dataclass(frozen=True)
class Player:
    """The media element of an item page."""
    element: str  # "video", "audio" or "img"
    src: str | None
    mime_type: str = ""
    poster: str | None = None
    note: str | None = None


def _jobs_pending(item: Item, kind: str) -> bool:
    return any(job.kind == kind and job.state in PENDING for job in item.jobs)


def player_for(item: Item) -> Player:
    player = _player(item)
    if thumb_url(item, "page") is None and _jobs_pending(item, THUMBNAILS_JOB):
        # A deferred ingest left the thumbnails to the worker, which has not made them yet.
        return replace(player, note=player.note or THUMBNAILS_NOTE)
    return player


def _player(item: Item) -> Player:
    media = item.media
    if media is None:
        return Player("img", None, note=CATALOGUED_NOTE if item.kind is ItemKind.catalogued else None)
    poster, original = thumb_url(item, "page"), original_url(item)
    if item.kind is ItemKind.still:
        return Player("img", poster or (original if media.mime_type in BROWSER_IMAGES else None))
    if item.kind is ItemKind.audio:
        if original is None:  # withheld: the recording plays from its proxy, a copy without metadata
            copy = derivative(item, "proxy")
            if copy is None:
                return Player("img", poster, note=_withheld_note(item))
            return Player("audio", derivative_url(item, "proxy"), copy.mime_type, poster=poster)
        return Player("audio", original, media.mime_type, poster=poster)
    proxy = derivative(item, "proxy")
    if proxy is not None:
        return Player("video", derivative_url(item, "proxy"), proxy.mime_type, poster=poster)
    if original is None:  # withheld (archive.access.may_have_original): only copies without metadata
        return Player("img", poster, note=_withheld_note(item))
    note = None
    if _jobs_pending(item, PROXY_JOB):
        note = "A browser-ready copy is being made; until then the original plays if your browser can."
    elif not media.web_ready:
        note = "There is no browser-ready copy of this footage; the original plays if your browser can."
    return Player("video", original, media.mime_type, poster=poster, note=note)


#: The item page of a record imported before its media (ItemKind.catalogued).
CATALOGUED_NOTE = ("Catalogued, media not yet attached: this record was imported before its file, which ingest "
                   "attaches when it arrives.")


def _withheld_note(item: Item) -> str:
    return PREPARING_NOTE if _jobs_pending(item, PROXY_JOB) else WITHHELD_NOTE


@dataclass(frozen=True)
class Download:
    """What the item page offers to download instead of the original, to a viewer who may not have it."""
    url: str | None  #: the access copy's, when there is one to offer
    mime_type: str = ""
    size: int | None = None
    note: str = ""  #: why nothing is offered, or when it will be


NO_DOWNLOAD_NOTE = "No download is offered of this item; it can be played or viewed here."
DOWNLOAD_PREPARING_NOTE = "A copy without the original's metadata is being prepared to download."


def download_for(item: Item) -> Download | None:
    """The access copy offered to a viewer who may not have the original; None for who may have it
    (the page offers the original) and for items without a file."""
    if item.media is None or original_url(item) is not None:
        return None
    url = access_copy_url(item)
    copy = derivative(item, ACCESS)
    if url is not None and copy is not None:
        return Download(url, copy.mime_type, copy.size)
    return Download(None, note=DOWNLOAD_PREPARING_NOTE if downloads_offered() and _jobs_pending(item, ACCESS_JOB)
                    else NO_DOWNLOAD_NOTE)


@dataclass(frozen=True)
class Storyboard:
    src: str
    width: int | None
    height: int | None
    frame_times: list[float]


def storyboard_for(item: Item) -> Storyboard | None:
    strip = derivative(item, "storyboard")
    url = thumb_url(item, "storyboard")
    if strip is None or url is None:
        return None
    times = [float(t) for t in (strip.info or {}).get("frame_times", [])]
    return Storyboard(url, strip.width, strip.height, times)


def unfinished_jobs(item: Item) -> list[Job]:
    """Queued, running and failed jobs: what is still to come, and what went wrong."""
    return [j for j in item.jobs if j.state is not JobState.done]
