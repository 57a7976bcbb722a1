"""/api/v1/items: the listing with the browse filters, whole records, edits, bulk edits and the trash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from archive.access import can_see_journey
from archive.models import AccessLevel, Item, ItemKind, LocationPrecision
from archive.services import Stale, editing, locations, trash
from archive.services.catalogue import SORTS, ItemQuery, find_items, get_item
from archive.services.item_filters import parse_filters
from archive.services.editing import KEEP
from archive.web.api.legacy import item_record, item_summary
from archive.web.api.models import Body, Id, Page, PageQuery, Text, next_page_url
from archive.web.api.operations import expected_version, operation, reply
from archive.web.context import current_archive, current_viewer, db_session

Sort = Literal[tuple(SORTS)]  # type: ignore[valid-type]


class CollectionRef(BaseModel):
    id: int
    title: str


class ItemSummary(BaseModel):
    id: int
    version: int = Field(description="Counts the item's saves; its ETag.")
    title: str
    kind: ItemKind
    collection: CollectionRef | None
    date_shot: str = Field(description="Extended Date/Time Format, e.g. 2019-04~; empty if unknown.")
    access: AccessLevel
    thumbnail: str | None
    url: str


class Credit(BaseModel):
    person: str
    role: str


class PlaceRef(BaseModel):
    id: int
    name: str
    country: str | None


class Derivative(BaseModel):
    kind: str
    url: str | None
    width: int | None
    height: int | None
    mime_type: str
    size: int


class Media(BaseModel):
    """The item's file. sha256, original_name, size and bit_rate are null for a viewer who may not have
    the original; latitude and longitude are as published to the viewer."""
    sha256: str | None
    original_name: str | None
    size: int | None
    mime_type: str
    container: str
    duration: float | None
    width: int | None
    height: int | None
    frame_rate: float | None
    video_codec: str
    audio_codec: str
    pixel_format: str
    bit_rate: int | None
    audio_channels: int | None
    audio_sample_rate: int | None
    rotation: int
    camera_make: str
    camera_model: str
    web_ready: bool
    latitude: float | None
    longitude: float | None
    altitude: float | None
    location_precision: LocationPrecision | None
    display_width: int | None
    display_height: int | None
    creation_time: datetime | None
    ingested_at: datetime | None
    url: str | None
    access_copy_url: str | None
    derivatives: list[Derivative]


class Job(BaseModel):
    id: int
    kind: str
    state: str
    error: str | None
    created_at: datetime | None
    finished_at: datetime | None


class ItemRecord(ItemSummary):
    description: str
    date_lower: date | None
    date_upper: date | None
    creator: str
    language: str
    rights: str
    source: str
    location_precision: LocationPrecision
    created_at: datetime | None
    updated_at: datetime | None
    tags: list[str]
    credits: list[Credit]
    places: list[PlaceRef]
    legs: list[int] = Field(description="Ids of the legs of journeys the viewer may see that it was filmed on.")
    media: Media | None
    jobs: list[Job]


ItemPage = Page[ItemSummary]


class ItemsQuery(PageQuery):
    kind: list[ItemKind] = Field(default_factory=list, max_length=10, description="Kinds (repeatable: alternatives).")
    collection: Id | None = None
    tag: Text | None = None
    year: int | None = Field(None, ge=1, le=9999)
    sort: Sort = "newest"  # type: ignore[valid-type]
    date_from: Text | None = Field(None, alias="from", max_length=100, description="Shot on or after (EDTF).")
    date_to: Text | None = Field(None, alias="to", max_length=100, description="Shot on or before (EDTF).")
    # The browse page's facets (archive.services.item_filters), each repeatable: values of one are alternatives.
    country: list[Text] = Field(default_factory=list, max_length=50, description="A country's name or ISO code.")
    place: list[Text] = Field(default_factory=list, max_length=50, description="A place's name.")
    journey: list[Text] = Field(default_factory=list, max_length=50, description="A journey's title.")
    leg: list[Id] = Field(default_factory=list, max_length=50, description="A journey leg's id.")
    language: list[Text] = Field(default_factory=list, max_length=50, description="A language, by code or name.")
    has_transcript: list[Literal["yes", "no"]] = Field(default_factory=list, max_length=2)
    access: list[AccessLevel] = Field(default_factory=list, max_length=3,
                                      description="Access levels (to a viewer who sees more than public items).")


class ItemChange(Body):
    """The fields to change; those left out stay as they are."""
    title: Text = Field(None, min_length=1, max_length=500)
    description: Text = None
    date_shot: Text = Field(None, max_length=200)
    creator: Text = Field(None, max_length=200)
    language: Text = Field(None, max_length=200)
    rights: Text = None
    source: Text = None
    access: AccessLevel = None
    collection_id: Id | None = None
    tags: list[Text] = Field(None, max_length=1000)
    places: list[Id] = Field(None, max_length=1000, description="Ids of the places it shows (all of them).")
    legs: list[Id] = Field(None, max_length=1000, description="Ids of the legs it was filmed on (all of them).")
    location_precision: LocationPrecision = None


class BulkChange(Body):
    items: list[Id] = Field(min_length=1, max_length=editing.BULK_MAX)
    versions: dict[str, int] = Field(default_factory=dict, description="Item id → the version the change was "
                                     "made from; when any was saved since, nothing is changed (412).")
    add_tags: list[Text] = Field(default_factory=list, max_length=1000)
    remove_tags: list[Text] = Field(default_factory=list, max_length=1000)
    collection_id: Id | None = None
    access: AccessLevel = None


class BulkResult(BaseModel):
    updated: list[int]
    unchanged: list[int]
    not_found: list[int]
    summary: str


class ItemIds(Body):
    items: list[Id] = Field(min_length=1, max_length=editing.BULK_MAX)


class Trashed(BaseModel):
    items: list[int] = Field(description="The ids moved (or restored).")


def visible_item(item_id: int) -> Item:
    """The item of the path, or NotFound: what operations on an item look up first."""
    return get_item(db_session(), current_viewer(), item_id)


def record(item_id: int) -> ItemRecord:
    item = get_item(db_session(), current_viewer(), item_id)
    data = item_record(item)
    data.update(version=item.version, location_precision=item.location_precision.value,
                legs=[leg.id for leg in item.legs if can_see_journey(current_viewer(), leg.journey)])
    return ItemRecord.model_validate(data)


@operation("GET", "/items", summary="List items", tag="items", query=ItemsQuery, response=ItemPage)
def items(query: ItemsQuery) -> Response:
    """The items the viewer may see, with the browse page's filters and sorts."""
    settings = current_archive().settings
    per_page = min(query.per_page or settings["per_page"], settings["max_per_page"])
    filters, date_from, date_to = parse_filters({
        "from": query.date_from or "", "to": query.date_to or "", "kind": [k.value for k in query.kind], "country": query.country, "place": query.place,
        "journey": query.journey, "leg": [str(v) for v in query.leg], "language": query.language,
        "has_transcript": query.has_transcript, "access": [getattr(v, "value", v) for v in query.access]})
    found = find_items(db_session(), current_viewer(), ItemQuery(
        collection_id=query.collection, tag=(query.tag or "").strip() or None, year=query.year,
        sort=query.sort, page=query.page, per_page=per_page, filters=filters, date_from=date_from, date_to=date_to))
    summaries = [ItemSummary.model_validate({**item_summary(i), "version": i.version}) for i in found.items]
    return reply(ItemPage(items=summaries, total=found.total, page=found.page, per_page=found.per_page,
                          next=next_page_url(found.page, found.per_page, found.total)))


@operation("GET", "/items/<id:item_id>", summary="Get an item", tag="items", response=ItemRecord, versioned=True)
def item(item_id: int) -> Response:
    """Everything the catalogue says about the item that the viewer may know."""
    found = record(item_id)
    return reply(found, etag=found.version)


@operation("PATCH", "/items/<id:item_id>", summary="Edit an item", tag="items", body=ItemChange,
           response=ItemRecord, writes=True, versioned=True, find=lambda item_id: visible_item(item_id))
def edit_item(item_id: int, body: ItemChange) -> Response:
    """Change the fields given, tags, places, legs and published precision included, as the edit page does."""
    session, viewer = db_session(), current_viewer()
    given = body.model_dump(exclude_unset=True)
    version = expected_version()
    geography = {name: given.pop(name) for name in ("places", "legs", "location_precision") if name in given}
    fields = {name: value for name, value in given.items() if name != "tags"}
    editing.edit_item(session, viewer, item_id, tags=given.get("tags", KEEP), expected_version=version, **fields)
    if geography:
        locations.set_item_geography(session, viewer, item_id, place_ids=geography.get("places", KEEP),
                                     leg_ids=geography.get("legs", KEEP),
                                     precision=geography.get("location_precision", KEEP))
    session.commit()
    found = record(item_id)
    return reply(found, etag=found.version)


@operation("DELETE", "/items/<id:item_id>", summary="Move an item to the trash", tag="trash", response=None,
           status=204, writes=True, versioned=True)
def trash_item(item_id: int) -> Response:
    """The item leaves every listing; an admin may restore it from the trash until it is emptied."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    version = expected_version()
    if version is not None and version != item.version:
        raise Stale("item", item.id, version)
    trash.move_to_trash(session, viewer, [item_id])
    session.commit()
    return reply(None)


@operation("POST", "/items/bulk", summary="Edit many items", tag="items", body=BulkChange, response=BulkResult,
           writes=True, errors=(412,))
def bulk_edit(body: BulkChange) -> Response:
    """Add and remove tags, set the collection and the access level of many items at once (all or nothing)."""
    given = body.model_dump(exclude_unset=True)
    versions = {}
    for key, value in body.versions.items():
        if not (key.isascii() and key.isdigit()):
            from archive.web.api.operations import ApiError
            raise ApiError(400, f"versions: {key!r} is not an item id", "versions")
        versions[int(key)] = value
    result = editing.bulk_edit(db_session(), current_viewer(), body.items, add_tags=body.add_tags,
                               remove_tags=body.remove_tags, collection_id=given.get("collection_id", KEEP),
                               access=given.get("access", KEEP), versions=versions)
    db_session().commit()
    return reply(BulkResult(updated=result.updated, unchanged=result.unchanged, not_found=result.not_found,
                            summary=result.summary()))
