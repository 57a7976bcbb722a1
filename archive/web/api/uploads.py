"""/api/v1 media uploads: one file streamed as the request body, ingested as the upload page's are."""

from __future__ import annotations

from flask import Response, request
from pydantic import BaseModel, Field

from archive.models import AccessLevel, LocationPrecision
from archive.services.editing import ingest_uploads, upload_choices
from archive.services.ingest import new_item_levels
from archive.web.api.models import Id, Query, Text
from archive.web.api.operations import ApiError, operation, reply
from archive.web.context import current_archive, current_viewer, db_session


class UploadQuery(Query):
    filename: Text = Field(min_length=1, max_length=255, description="The file's name (its extension matters).")
    collection_id: Id | None = None
    new_collection: Text = Field("", max_length=500, description="Title of a new collection to put it in.")
    access: AccessLevel | None = Field(None, description="Default: the default_access setting.")
    location_precision: LocationPrecision | None = Field(None, description="Default: default_location_precision.")


class Ingested(BaseModel):
    name: str
    item_id: int
    warnings: list[str] = Field(default_factory=list)


class Refused(BaseModel):
    name: str
    reason: str


class UploadReport(BaseModel):
    """What ingest made of the file: a new item, the item it duplicates, or why it was refused."""
    ingested: list[Ingested]
    duplicates: list[Ingested]
    failed: list[Refused]


@operation("POST", "/items", summary="Upload a file as a new item", tag="uploads", query=UploadQuery,
           body_kind="application/octet-stream", response=UploadReport, writes=True)
def upload(query: UploadQuery) -> Response:
    """The body is the file, streamed to disk and ingested (checksum, metadata, thumbnails) as the
    upload page does; a file already in the archive is reported as a duplicate, one ingest refuses under failed."""
    if request.content_length is None and request.headers.get("Transfer-Encoding", "") != "chunked":
        raise ApiError(400, "send the file as the body, with its Content-Length", "body")
    archive, viewer = current_archive(), current_viewer()
    access, precision = new_item_levels(archive.settings, query.access, query.location_precision)
    choices = upload_choices(db_session(), viewer, file_count=1, collection_id=query.collection_id,
                             new_collection=query.new_collection, access=access, location_precision=precision)
    report = ingest_uploads(archive, viewer, [(query.filename, request.stream)], choices)
    body = UploadReport.model_validate({
        "ingested": [{"name": e["name"], "item_id": e["item_id"], "warnings": e.get("warnings", [])}
                     for e in report.ingested],
        "duplicates": [{"name": e["name"], "item_id": e["item_id"]} for e in report.duplicates],
        "failed": [{"name": e["name"], "reason": e["reason"]} for e in report.failed]})
    return reply(body)
