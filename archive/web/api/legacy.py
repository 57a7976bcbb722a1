"""The first JSON API (/api/items...), kept as it was: the browse listing and whole item records.

Since /api/v1 (archive.web.api.operations) these answer as before; the item records of both are made here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from archive.access import ORIGINAL_ONLY_FIELDS
from archive.web.context import current_viewer, db_session
from archive.models import Item, JobState, MediaFile
from archive.services.catalogue import find_items, get_item
from archive.services.locations import item_places_of, item_position
from archive.web.formatting import job_error
from archive.services.access_copies import ACCESS
from archive.web.links import access_copy_url, derivative_url, holds_original, item_url, original_url, thumb_url
from archive.web.pages import item_query

bp = Blueprint("api", __name__, url_prefix="/api")

#: Technical fields of a media file given as they are (numbers stay numbers).
MEDIA_FIELDS = ("sha256", "original_name", "size", "mime_type", "container", "duration", "width", "height",
                "frame_rate", "video_codec", "audio_codec", "pixel_format", "bit_rate", "audio_channels",
                "audio_sample_rate", "rotation", "camera_make", "camera_model", "web_ready")

@bp.get("/items")
def items() -> Response:
    page = find_items(db_session(), current_viewer(), item_query())
    return jsonify(items=[item_summary(i) for i in page.items], total=page.total, page=page.page,
                   per_page=page.per_page)


@bp.get("/items/<id:item_id>")
def item(item_id: int) -> Response:
    return jsonify(item_record(get_item(db_session(), current_viewer(), item_id)))


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def item_summary(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "kind": item.kind.value,
        "collection": {"id": item.collection.id, "title": item.collection.title} if item.collection else None,
        "date_shot": item.date_shot,
        "access": item.access.value,
        "thumbnail": thumb_url(item, "grid", external=True),
        "url": item_url(item, external=True),
    }


def item_record(item: Item) -> dict[str, Any]:
    """Everything the catalogue says about an item, except where its file came from on disk."""
    return {
        **item_summary(item),
        "description": item.description,
        "date_lower": _iso(item.date_lower),
        "date_upper": _iso(item.date_upper),
        "creator": item.creator,
        "language": item.language,
        "rights": item.rights,
        "source": item.source,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
        "tags": [tag.name for tag in item.tags],
        "credits": [{"person": c.person.name, "role": c.role} for c in item.credits],
        "places": [{"id": p.id, "name": p.name, "country": p.country_code}
                   for p in item_places_of(current_viewer(), item)],
        "media": media_record(item, item.media) if item.media else None,
        "jobs": [{"id": job.id, "kind": job.kind, "state": job.state.value,
                  "error": job_error(job.error) or None, "created_at": _iso(job.created_at),
                  "finished_at": _iso(job.finished_at)}
                 for job in item.jobs if job.state is not JobState.done],
    }


def media_record(item: Item, media: MediaFile) -> dict[str, Any]:
    # original_path is left out on purpose: it names folders on the machine that ingested the file.
    record: dict[str, Any] = {name: getattr(media, name) for name in MEDIA_FIELDS}
    if not holds_original(item):  # they identify the original (archive.access.may_have_original)
        for name in ORIGINAL_ONLY_FIELDS:
            record[name] = None
    record.update(gps_record(item, media))
    display = media.display_size
    record.update(
        display_width=display[0] if display else None,
        display_height=display[1] if display else None,
        creation_time=_iso(media.creation_time),
        ingested_at=_iso(media.ingested_at),
        url=original_url(item, external=True),
        # What a viewer who may not have the original downloads instead, where that is offered.
        access_copy_url=access_copy_url(item, external=True),
        derivatives=[{"kind": d.kind, "url": url, "width": d.width, "height": d.height, "mime_type": d.mime_type,
                      "size": d.size}
                     for d in media.derivatives
                     # an access copy not offered to download is not mentioned
                     if (url := derivative_url(item, d.kind, external=True)) is not None or d.kind != ACCESS],
    )
    return record


def gps_record(item: Item, media: MediaFile) -> dict[str, Any]:
    """The GPS position as published to the viewer: exact for editors, else coarsened at the item's
    precision, with no altitude (it would narrow a coarsened position down)."""
    position = item_position(current_viewer(), item)
    if position is None:
        return {"latitude": None, "longitude": None, "altitude": None, "location_precision": None}
    return {"latitude": position.lat, "longitude": position.lon,
            "altitude": None if position.coarsened else media.altitude,
            "location_precision": position.precision.value}
