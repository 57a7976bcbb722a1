"""/api/v1 transcripts and time ranges of an item: read, attach, replace, change and delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, request
from pydantic import BaseModel, Field
from sqlalchemy import Row

from archive.models import Transcript as TranscriptRow
from archive.models import TranscriptKind
from archive.services import ranges as range_service
from archive.services.catalogue import get_item
from archive.services.editing import KEEP
from archive.services.transcripts import (ImportResult, delete_transcript, import_transcript, list_transcripts,
                                          segment_rows)
from archive.web.api.items import visible_item
from archive.web.api.models import Page, PageQuery, Query, Text, page_of
from archive.web.api.operations import ApiError, expected_version, operation, reply
from archive.web.context import current_viewer, db_session
from archive.web.transcripts import MAX_BYTES



class Segment(BaseModel):
    start: float = Field(description="Seconds from the start of the media.")
    end: float
    speaker: str
    text: str


class Transcript(BaseModel):
    id: int
    version: int
    language: str = Field(description="BCP 47, e.g. ko, en, zh-Hans; empty if unknown.")
    kind: TranscriptKind
    source_name: str
    created_at: datetime | None
    updated_at: datetime | None
    segments: list[Segment]


TranscriptPage = Page[Transcript]


class ImportedTranscript(Transcript):
    replaced: bool = Field(description="An earlier transcript of this language and kind was replaced.")
    problems: list[str] = Field(description="What was wrong in the file and imported all the same.")


class TranscriptUpload(Query):
    filename: Text = Field(min_length=1, max_length=1000,
                           description="The file's name: its extension (.vtt, .srt, .txt) says how to read it, "
                                       "and a language in it (clip.ko.vtt) is used when none is given.")
    language: Text | None = Field(None, max_length=35)
    kind: TranscriptKind = TranscriptKind.transcript
    encoding: Text | None = Field(None, max_length=40, description="A Python codec name; detected if left out.")


class TimeRange(BaseModel):
    id: int
    start: float = Field(description="Seconds from the start of the media.")
    end: float
    tag: str
    note: str
    place_id: int | None
    leg_id: int | None


RangePage = Page[TimeRange]


class NewRange(BaseModel):
    model_config = {"extra": "forbid"}
    start: float = Field(ge=0, le=10**7)
    end: float = Field(gt=0, le=10**7)
    tag: Text = Field(min_length=1, max_length=200)
    note: Text = ""


class RangeChange(BaseModel):
    model_config = {"extra": "forbid"}
    start: float = Field(None, ge=0, le=10**7)
    end: float = Field(None, gt=0, le=10**7)
    tag: Text = Field(None, min_length=1, max_length=200)
    note: Text = None


def _transcript(t: TranscriptRow, rows: list[Row[Any]]) -> dict[str, Any]:
    """A transcript with its lines (segment_rows), in the shape of Transcript."""
    return {"id": t.id, "version": t.version, "language": t.language, "kind": t.kind,
            "source_name": t.source_name, "created_at": t.created_at, "updated_at": t.updated_at,
            "segments": [{"start": r.start_sec, "end": r.end_sec, "speaker": r.speaker, "text": r.text} for r in rows]}


@operation("GET", "/items/<id:item_id>/transcripts", summary="List an item's transcripts", tag="transcripts",
           query=PageQuery, response=TranscriptPage)
def transcripts(item_id: int, query: PageQuery) -> Response:
    """Every transcript of the item, with its time-coded lines."""
    session = db_session()
    found = list_transcripts(session, current_viewer(), item_id, segments=False)
    rows = segment_rows(session, found)
    return reply(TranscriptPage.model_validate(page_of([_transcript(t, rows[t.id]) for t in found], query)))


@operation("POST", "/items/<id:item_id>/transcripts", summary="Attach or replace a transcript", tag="transcripts",
           query=TranscriptUpload, body_kind="application/octet-stream", response=ImportedTranscript, status=201,
           writes=True, find=lambda item_id: visible_item(item_id))
def upload_transcript(item_id: int, query: TranscriptUpload) -> Response:
    """The body is the file itself (WebVTT, SubRip or timestamped text, at most 20 MB); it replaces
    the item's transcript of the same language and kind, if there is one."""
    session = db_session()
    item = get_item(session, current_viewer(), item_id)
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise ApiError(413, f"a transcript file is at most {MAX_BYTES // 1024**2} MB", "body")
    data = request.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApiError(413, f"a transcript file is at most {MAX_BYTES // 1024**2} MB", "body")
    if query.encoding:
        try:
            "".encode(query.encoding)
        except (LookupError, ValueError):
            raise ApiError(400, f"{query.encoding!r} is not an encoding this server knows", "encoding") from None
    result: ImportResult = import_transcript(session, item, data, query.filename, language=query.language,
                                             kind=query.kind, encoding=query.encoding)
    transcript = result.transcript
    session.commit()
    rows = segment_rows(session, [transcript])
    body = ImportedTranscript.model_validate({**_transcript(transcript, rows[transcript.id]),
                                              "replaced": result.replaced,
                                              "problems": [str(p) for p in result.problems]})
    return reply(body, 201, etag=transcript.version)


@operation("DELETE", "/items/<id:item_id>/transcripts/<id:transcript_id>", summary="Delete a transcript",
           tag="transcripts", response=None, status=204, writes=True, versioned=True)
def remove_transcript(item_id: int, transcript_id: int) -> Response:
    """If-Match takes the transcript's version (its "version" field)."""
    session = db_session()
    found = [t for t in list_transcripts(session, current_viewer(), item_id, segments=False) if t.id == transcript_id]
    if not found:
        raise ApiError(404, f"item {item_id} has no transcript {transcript_id}")
    delete_transcript(session, found[0], expected_version=expected_version())
    session.commit()
    return reply(None)


def _ranges(item_id: int, query: PageQuery | None = None) -> Response:
    """A page of the item's ranges, with the item's version as ETag (ranges are part of the item)."""
    session = db_session()
    item = get_item(session, current_viewer(), item_id)
    rows = [TimeRange(id=r.id, start=r.start_sec, end=r.end_sec, tag=r.tag.name, note=r.note, place_id=r.place_id,
                      leg_id=r.leg_id) for r in range_service.list_ranges(session, item)]
    return reply(RangePage.model_validate(page_of(rows, query or PageQuery())), etag=item.version)


@operation("GET", "/items/<id:item_id>/ranges", summary="List an item's time ranges", tag="ranges",
           query=PageQuery, response=RangePage, versioned=True)
def ranges(item_id: int, query: PageQuery) -> Response:
    """The tagged stretches of the item; the ETag is the item's (ranges are part of it)."""
    return _ranges(item_id, query)


@operation("POST", "/items/<id:item_id>/ranges", summary="Tag a time range", tag="ranges", body=NewRange,
           response=RangePage, status=201, writes=True, versioned=True, find=lambda item_id: visible_item(item_id),
           request_headers={"If-Match": ("The item's ETag; 412 when the item was saved since.", False)})
def add_range(item_id: int, body: NewRange) -> Response:
    session = db_session()
    item = get_item(session, current_viewer(), item_id)
    range_service.add_range(session, item, start=body.start, end=body.end, tag_name=body.tag, note=body.note,
                            expected_version=expected_version())
    session.commit()
    answer = _ranges(item_id)
    answer.status_code = 201
    return answer


@operation("PATCH", "/items/<id:item_id>/ranges/<id:range_id>", summary="Change a time range", tag="ranges",
           body=RangeChange, response=RangePage, writes=True, versioned=True,
           find=lambda item_id, range_id: range_service.get_range(db_session(), current_viewer(), item_id, range_id))
def edit_range(item_id: int, range_id: int, body: RangeChange) -> Response:
    """If-Match takes the item's ETag."""
    session = db_session()
    given = body.model_dump(exclude_unset=True)
    time_range = range_service.get_range(session, current_viewer(), item_id, range_id)
    range_service.update_range(session, time_range, start=given.get("start", KEEP), end=given.get("end", KEEP),
                               tag_name=given.get("tag", KEEP), note=given.get("note", KEEP),
                               expected_version=expected_version())
    session.commit()
    return _ranges(item_id)


@operation("DELETE", "/items/<id:item_id>/ranges/<id:range_id>", summary="Delete a time range", tag="ranges",
           response=None, status=204, writes=True, versioned=True)
def delete_range(item_id: int, range_id: int) -> Response:
    """If-Match takes the item's ETag; the range's tag stays in the vocabulary."""
    session = db_session()
    time_range = range_service.get_range(session, current_viewer(), item_id, range_id)
    range_service.delete_range(session, time_range, expected_version=expected_version())
    session.commit()
    return reply(None)
