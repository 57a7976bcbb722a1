"""Transcripts of items: importing files, replacing, listing through the access policy, exporting.

An import is all or nothing: the file is parsed completely first, then the transcript and its
segments are written with one flush (the caller commits). Importing a file in a language and
kind the item already has a transcript of REPLACES that transcript (same id, new segments);
another language or kind ADDS one. Refusals raise Invalid naming the file and the line.
A replacement or a deletion made from a page that showed another version of the transcript (or
did not show it at all) is refused (Stale), so that it does not undo someone else's import.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, selectinload

from archive import transcripts as formats
from archive.access import Viewer
from archive.models import Item, Segment, Transcript, TranscriptKind, utcnow
from archive.services import Invalid, NotFound, Stale, saving_version, version_number
from archive.services.catalogue import get_item
from archive.services.editing import fields as f

EXPORT_FORMATS = {"vtt": ("text/vtt", formats.to_webvtt), "srt": ("application/x-subrip", formats.to_srt)}


@dataclass(frozen=True)
class ImportResult:
    transcript: Transcript
    problems: list[formats.Problem] = field(default_factory=list)  #: imported all the same (overlaps...)
    replaced: bool = False  #: an earlier transcript of this language and kind was replaced

    @property
    def segment_count(self) -> int:
        return len(self.transcript.segments)


def _kind(kind: TranscriptKind | str) -> TranscriptKind:
    return f.choice(TranscriptKind, kind, "kind")


def _language(language: str | None, filename: str) -> str:
    if language is None or not language.strip():
        return formats.language_from_name(filename) or ""
    tag = formats.normalise_language(language)
    if tag is None:
        raise Invalid(f"{language!r} is not a language tag (BCP 47, e.g. ko, en, zh-Hans)", "language")
    return tag


def import_transcript(session: Session, item: Item, data: bytes, filename: str, *, language: str | None = None,
                      kind: TranscriptKind | str = TranscriptKind.transcript,
                      encoding: str | None = None,
                      seen_versions: Mapping[int, int | str | None] | None = None) -> ImportResult:
    """Attach the transcript in `data` (a .vtt, .srt or .txt file's bytes) to `item`.

    `language` defaults to the one in the name (clip.ko.vtt); `encoding` to detection. Raises
    Invalid("name, line N: reason", field="file") when the file is refused; nothing is changed then.
    `seen_versions` gives {transcript id: version} of the transcripts the form's page showed: a
    transcript it would replace that was not shown, or of another version, is refused (Stale).
    """
    kind = _kind(kind)
    language = _language(language, filename)
    duration = item.media.duration if item.media is not None else None
    try:
        parsed = formats.parse_transcript(data, filename, encoding=encoding, duration=duration)
    except formats.TranscriptError as exc:
        raise Invalid(f"{filename}, line {exc.line}: {exc.reason}", "file") from exc
    existing = session.scalar(select(Transcript).where(Transcript.item_id == item.id,
                                                       Transcript.language == language,
                                                       Transcript.kind == kind)
                              .options(selectinload(Transcript.segments)))
    expected: int | str | None = None
    if existing is not None and seen_versions is not None:
        expected = seen_versions.get(existing.id)
        if version_number(expected) is None:  # added by someone else since the page was shown
            raise Stale("transcript", existing.id, 0)
    transcript = existing or Transcript(item=item, language=language, kind=kind)
    with saving_version(transcript, "transcript", expected) if existing is not None else nullcontext():
        transcript.source_name = filename[-1000:]
        transcript.segments = [Segment(position=i, start_sec=cue.start, end_sec=cue.end,
                                       speaker=cue.speaker[:200], text=cue.text) for i, cue in enumerate(parsed.cues)]
        if existing is not None:
            transcript.updated_at = utcnow()
        session.add(transcript)
        session.flush()
    return ImportResult(transcript, list(parsed.problems), replaced=existing is not None)


def list_transcripts(session: Session, viewer: Viewer, item_id: int, *, segments: bool = True) -> list[Transcript]:
    """The transcripts of an item `viewer` may see (NotFound otherwise), with their segments unless
    `segments` is false (then `segment_rows` reads them, without the cost of an object each)."""
    item = get_item(session, viewer, item_id)
    query = select(Transcript).where(Transcript.item_id == item.id).order_by(Transcript.id)
    return list(session.scalars(query.options(selectinload(Transcript.segments)) if segments else query))


def segment_rows(session: Session, transcripts: list[Transcript]) -> dict[int, list[Row[Any]]]:
    """The segments of `transcripts` (loaded through the access policy) as plain rows, in order, by
    transcript id: start_sec, end_sec, speaker and text. A page listing thousands of lines spends
    about a fifth of the time loading rows that it would spend making ORM objects."""
    rows: dict[int, list[Row[Any]]] = {t.id: [] for t in transcripts}
    if rows:
        query = (select(Segment.transcript_id, Segment.start_sec, Segment.end_sec, Segment.speaker, Segment.text)
                 .where(Segment.transcript_id.in_(rows)).order_by(Segment.transcript_id, Segment.position))
        for row in session.execute(query):
            rows[row.transcript_id].append(row)
    return rows


def get_transcript(session: Session, viewer: Viewer, item_id: int, *, language: str | None = None,
                   kind: TranscriptKind | str | None = None) -> Transcript:
    """The one transcript of the item in `language` (and `kind`); Invalid when the choice is ambiguous."""
    found = list_transcripts(session, viewer, item_id)
    if language:
        tag = formats.normalise_language(language) or language
        found = [t for t in found if t.language.lower() == tag.lower()]
    if kind:
        found = [t for t in found if t.kind is _kind(kind)]
    if not found:
        raise NotFound(f"transcript of item {item_id}" + (f" in {language}" if language else ""))
    if len(found) > 1:
        choices = ", ".join(f"{t.language or '(no language)'} {t.kind.value}" for t in found)
        raise Invalid(f"item {item_id} has several transcripts ({choices}): choose a language or kind", "language")
    return found[0]


def delete_transcript(session: Session, transcript: Transcript, expected_version: int | str | None = None) -> None:
    """Delete the transcript, unless (Stale) it was replaced since a page of `expected_version` showed it."""
    with saving_version(transcript, "transcript", expected_version):
        session.delete(transcript)
        session.flush()


def cues_of(transcript: Transcript) -> list[formats.Cue]:
    return [formats.Cue(s.start_sec, s.end_sec, s.text, s.speaker) for s in transcript.segments]


def export_transcript(transcript: Transcript, fmt: str) -> tuple[str, str]:
    """(text, MIME type) of the transcript as WebVTT ("vtt") or SubRip ("srt")."""
    try:
        mime, write = EXPORT_FORMATS[fmt]
    except KeyError:
        raise Invalid(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}", "format") from None
    return write(cues_of(transcript)), mime
