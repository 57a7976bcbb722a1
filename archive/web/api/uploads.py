"""/api/v1 media uploads: one file streamed as the request body, or a large one in chunks that any node
sharing the store can take (archive.services.resumable); both ingested as the upload page's are."""

from __future__ import annotations

from datetime import datetime

from flask import Response, request
from pydantic import BaseModel, Field

from archive.models import AccessLevel, LocationPrecision
from archive.services.editing import ingest_uploads, upload_choices
from archive.services import resumable
from archive.services.ingest import IngestReport, new_item_levels
from archive.web.api.models import Body, Id, Query, Text
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
    return reply(_report(ingest_uploads(archive, viewer, [(query.filename, request.stream)], choices)))


def _report(report: IngestReport) -> UploadReport:
    return UploadReport.model_validate({
        "ingested": [{"name": e["name"], "item_id": e["item_id"], "warnings": e.get("warnings", [])}
                     for e in report.ingested],
        "duplicates": [{"name": e["name"], "item_id": e["item_id"]} for e in report.duplicates],
        "failed": [{"name": e["name"], "reason": e["reason"]} for e in report.failed]})


# -- resumable uploads (archive.services.resumable) ------------------------------------------------

class NewUpload(Body):
    filename: Text = Field(min_length=1, max_length=255)
    size: int = Field(ge=1, le=resumable.MAX_SIZE, description="The whole file's size in bytes.")
    collection_id: Id | None = None
    new_collection: Text = Field("", max_length=500)
    access: AccessLevel | None = None
    location_precision: LocationPrecision | None = None


class UploadStatus(BaseModel):
    token: str
    filename: str
    size: int
    received: int = Field(description="Bytes stored so far: the Upload-Offset of the next chunk.")
    complete: bool
    created_at: datetime


OFFSET = {"Upload-Offset": ("Where this chunk starts: the upload's `received`.", True)}


def _status(upload: resumable.Upload) -> UploadStatus:
    return UploadStatus(token=upload.token, filename=upload.filename, size=upload.size, received=upload.received,
                        complete=upload.complete, created_at=upload.created_at)


@operation("POST", "/uploads", summary="Start a resumable upload", tag="uploads", body=NewUpload,
           response=UploadStatus, status=201, writes=True)
def start_upload(body: NewUpload) -> Response:
    """Announce a file; then send it in chunks (PATCH), each kept in the shared store, and finish."""
    archive, viewer = current_archive(), current_viewer()
    access, precision = new_item_levels(archive.settings, body.access, body.location_precision)
    choices = upload_choices(db_session(), viewer, file_count=1, collection_id=body.collection_id,
                             new_collection=body.new_collection, access=access, location_precision=precision)
    return reply(_status(resumable.start_upload(archive.store, viewer, body.filename, body.size, choices)), 201)


@operation("GET", "/uploads/<token>", summary="How far an upload has come", tag="uploads", response=UploadStatus,
           writes=True)
def upload_status(token: str) -> Response:
    """Ask this after an interrupted chunk: send again from `received`."""
    return reply(_status(resumable.get_upload(current_archive().store, current_viewer(), token)))


@operation("PATCH", "/uploads/<token>", summary="Send the next chunk", tag="uploads",
           body_kind="application/octet-stream", response=UploadStatus, writes=True,
           request_headers=OFFSET, errors=(409, 411))
def send_chunk(token: str) -> Response:
    """The body is the next bytes of the file, from Upload-Offset (409 naming the right one otherwise);
    one that arrives short is not kept."""
    raw = request.headers.get("Upload-Offset", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 15:
        raise ApiError(400, "Upload-Offset must be the byte the chunk starts at", "Upload-Offset")
    if request.content_length is None:
        raise ApiError(411, "send the chunk with its Content-Length", "Content-Length")
    store, viewer = current_archive().store, current_viewer()
    try:
        upload = resumable.receive_chunk(store, viewer, token, int(raw), request.stream, request.content_length)
    except resumable.OffsetMismatch as exc:
        raise ApiError(409, str(exc), "Upload-Offset", "offset_mismatch") from None
    return reply(_status(upload))


@operation("POST", "/uploads/<token>/finish", summary="Ingest a complete upload", tag="uploads",
           response=UploadReport, writes=True)
def finish_upload(token: str) -> Response:
    """Join the chunks and ingest the file as the upload page does; the upload is gone afterwards."""
    return reply(_report(resumable.finish_upload(current_archive(), current_viewer(), token)))


@operation("DELETE", "/uploads/<token>", summary="Abandon an upload", tag="uploads", response=None, status=204,
           writes=True)
def abandon_upload(token: str) -> Response:
    resumable.abandon_upload(current_archive().store, current_viewer(), token)
    return reply(None)
