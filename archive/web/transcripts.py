"""Transcripts on the item page: captions tracks and the transcript panel for everyone who may see
the item, WebVTT and SRT exports, and the upload and delete forms for archivists and admins.

The panel is rendered by templates/_transcripts.html from `transcript_panel(item, transcripts)`;
static/transcript.js makes its lines follow the player. A refused upload is shown again on the
item page itself, with the message beside the field, answering 400; nothing is changed then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from markupsafe import Markup, escape
from flask.typing import ResponseReturnValue
from sqlalchemy import Row

from archive.access import may_edit
from archive.models import Item, Segment, Transcript, TranscriptKind
from archive.services import Invalid, NotFound, Stale, counted
from archive.services.catalogue import get_item
from archive.services.transcript_pairs import aligned_rows, forget_pair, remember_pair, remembered_pair
from archive.services.transcripts import (EXPORT_FORMATS, delete_transcript, export_transcript, import_transcript,
                                         list_transcripts, segment_rows)
from archive.timecode import seconds_param
from archive.transcripts import Problem, language_name
from archive.web import pages
from archive.web.auth import accounts_only, editors_only
from archive.web.context import current_viewer, db_session
from archive.web.editing import refusal
from archive.web.files import content_disposition, set_caching
from archive.web.formatting import cue_time

bp = Blueprint("transcripts", __name__)

FIELDS = ("language", "kind", "encoding")
#: Largest transcript file taken (a feature film's subtitles are well under 1 MB).
MAX_BYTES = 20 * 1024 * 1024
KIND_LABELS = {TranscriptKind.transcript: "Transcript", TranscriptKind.subtitles: "Subtitles",
               TranscriptKind.description: "Audio description", TranscriptKind.interview_log: "Interview log"}
#: The <track kind> of each transcript kind: what a player does with it.
TRACK_KINDS = {TranscriptKind.transcript: "captions", TranscriptKind.subtitles: "subtitles",
               TranscriptKind.description: "descriptions", TranscriptKind.interview_log: "metadata"}
#: Encodings the form offers ("detect" leaves it to the importer); any Python codec name is accepted.
ENCODINGS = (("detect", "Detect"), ("utf-8", "UTF-8"), ("utf-16", "UTF-16"), ("cp1252", "Windows-1252 (Western)"),
             ("gb18030", "GB18030 / GBK / GB2312 (Chinese)"), ("big5", "Big5 (Traditional Chinese)"),
             ("euc-kr", "EUC-KR (Korean)"), ("shift_jis", "Shift JIS (Japanese)"),
             ("iso-8859-1", "ISO-8859-1 (Latin-1)"))
#: Problems listed in the message after an import; the rest are counted.
PROBLEMS_SHOWN = 10




def transcript_label(transcript: Transcript) -> str:
    """"Korean transcript", "English subtitles", "interview log (no language given)", to go in a sentence."""
    kind = KIND_LABELS[transcript.kind].lower()
    if not transcript.language:
        return f"{kind} (no language given)"
    return f"{language_name(transcript.language)} {kind}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class TranscriptForm:
    """The values the upload form shows and the messages beside its fields ("file" for the file)."""
    values: dict[str, str] = field(default_factory=lambda: {"language": "", "kind": "transcript",
                                                            "encoding": "detect"})
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """One segment as the panel lists it."""
    start: float
    end: float
    speaker: str
    text: str
    link: str  #: the item page starting at this line (works without script)
    same_speaker: bool  #: said by the speaker of the line before (whose name need not be shown again)


@dataclass(frozen=True)
class TranscriptView:
    transcript: Transcript
    name: str  #: as it goes in a sentence ("Korean transcript", "interview log (no language given)")
    track_kind: str
    lines: list[Line]
    vtt_url: str
    srt_url: str

    @property
    def id(self) -> int:
        return self.transcript.id

    @property
    def label(self) -> str:
        """As a heading or tab says it."""
        return _capitalised(self.name)

    @property
    def lines_html(self) -> Markup:
        """The lines as the panel's list items (see lines_html)."""
        return lines_html(self.lines)


#: One line of the panel. Written here rather than as a loop in _transcripts.html: a transcript of
#: a few thousand lines took a Jinja loop about 60 ms to render (six escapes and filters a line).
_LINE = ('\n      <li class="transcript-line{same}" data-start="{start}" data-end="{end}">'
         '\n        <a class="transcript-line__time" href="{link}">{time}</a>{speaker}'
         '\n        <span class="transcript-line__text">{text}</span>\n      </li>')
_SPEAKER = '\n        <span class="transcript-line__speaker">{}</span>'
_SAME = " transcript-line--same-speaker"


def lines_html(lines: list[Line]) -> Markup:
    """The <li> of each line, the markup _transcripts.html had in a loop, escaped the same way."""
    return Markup("".join(
        _LINE.format(same=_SAME if line.same_speaker else "", start=line.start, end=line.end,
                     link=escape(line.link), time=cue_time(line.start),
                     speaker=_SPEAKER.format(escape(line.speaker)) if line.speaker else "", text=escape(line.text))
        for line in lines))


@dataclass
class TranscriptPanel:
    """What _transcripts.html shows for one item."""
    item: Item
    transcripts: list[TranscriptView]
    can_edit: bool
    form: TranscriptForm
    kinds: list[tuple[str, str]]
    encodings: tuple[tuple[str, str], ...] = ENCODINGS
    chosen: int | None = None  #: the transcript a link named (?transcript=, a search hit's): its captions show
    pair: tuple[TranscriptView, TranscriptView] | None = None  #: read side by side, left and right
    signed_in: bool = False  #: the choice of pair is kept on the account (else in the browser)

    @property
    def pair_html(self) -> Markup:
        """The rows of the side-by-side view (see pair_rows_html)."""
        return pair_rows_html(*self.pair) if self.pair else Markup("")

    @property
    def shown(self) -> bool:
        """Items with transcripts show them; editors get the panel on any footage or recording, to add one."""
        return bool(self.transcripts) or (self.can_edit and self.item.kind.value in ("video", "audio"))

    @property
    def default_track(self) -> TranscriptView | None:
        """The track a player shows first: the transcript a link chose if it is captions or subtitles, else the
        first that is."""
        tracks = [t for t in self.transcripts if t.track_kind in ("captions", "subtitles")]
        return next((t for t in tracks if t.id == self.chosen), tracks[0] if tracks else None)


_CELL = ('\n        <div class="transcript-pair__cell transcript-line{same}" data-side="{side}" data-start="{start}"'
         ' data-end="{end}"{lang}>\n          <a class="transcript-line__time" href="{link}">{time}</a>{speaker}'
         '\n          <span class="transcript-line__text">{text}</span>\n        </div>')
_EMPTY_CELL = '\n        <div class="transcript-pair__cell transcript-pair__cell--empty" data-side="{side}"></div>'


def _cell(line: Line | None, side: str, language: str) -> str:
    if line is None:
        return _EMPTY_CELL.format(side=side)
    return _CELL.format(same=_SAME if line.same_speaker else "", side=side, start=line.start, end=line.end, link=escape(line.link), time=cue_time(line.start),
                        lang=f' lang="{escape(language)}"' if language else "",
                        speaker=_SPEAKER.format(escape(line.speaker)) if line.speaker else "", text=escape(line.text))


def pair_rows_html(left: TranscriptView, right: TranscriptView) -> Markup:
    """The <li> rows of two transcripts side by side: cues starting at the same moment share a row."""
    return Markup("".join(
        f'\n      <li class="transcript-pair__row" data-start="{row.start}">'
        f'{_cell(row.left, "left", left.transcript.language)}{_cell(row.right, "right", right.transcript.language)}'
        '\n      </li>'
        for row in aligned_rows(left.lines, right.lines)))


def _ids(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() else None


def _pair_of(item: Item, transcripts: list[Transcript], views: list[TranscriptView]
             ) -> tuple[TranscriptView, TranscriptView] | None:
    """The pair a link asks for (?left=&right=, the anonymous reader's choice; empty: one at a time), else the
    one the signed-in viewer keeps for this item; None for one transcript at a time."""
    if "left" in request.args or "right" in request.args:
        ids = (_ids(request.args.get("left")), _ids(request.args.get("right")))
    else:
        ids = remembered_pair(db_session(), current_viewer(), item, transcripts) or (None, None)
    by_id = {view.id: view for view in views}
    left, right = by_id.get(ids[0] or 0), by_id.get(ids[1] or 0)
    return (left, right) if left and right and left is not right else None


def _lines(segments: Sequence[Segment | Row[Any]], page: str) -> list[Line]:
    return [Line(s.start_sec, s.end_sec, s.speaker, s.text, f"{page}?t={seconds_param(s.start_sec)}#player",
                 same_speaker=bool(i and s.speaker and s.speaker == segments[i - 1].speaker))
            for i, s in enumerate(segments)]


@bp.app_template_global()
def transcript_panel(item: Item, transcripts: list[Transcript]) -> TranscriptPanel:
    page = url_for("pages.item", item_id=item.id)
    segments = segment_rows(db_session(), transcripts)
    views = [TranscriptView(t, transcript_label(t), TRACK_KINDS[t.kind], _lines(segments[t.id], page),
                            url_for("transcripts.export", item_id=item.id, transcript_id=t.id, fmt="vtt"),
                            url_for("transcripts.export", item_id=item.id, transcript_id=t.id, fmt="srt"))
             for t in transcripts]
    viewer = current_viewer()
    return TranscriptPanel(item, views, may_edit(viewer), g.get("refused_transcript") or TranscriptForm(),
                           [(kind.value, label) for kind, label in KIND_LABELS.items()],
                           chosen=request.args.get("transcript", type=int),
                           pair=_pair_of(item, transcripts, views), signed_in=viewer.user_id is not None)


def _transcript_of(item_id: int, transcript_id: int) -> Transcript:
    """The transcript, if it belongs to an item the viewer may see; NotFound otherwise."""
    session = db_session()
    item = get_item(session, current_viewer(), item_id)
    transcript = session.get(Transcript, transcript_id)
    if transcript is None or transcript.item_id != item.id:
        raise NotFound(f"transcript {transcript_id} of item {item_id}")
    return transcript


def download_name(transcript: Transcript, fmt: str) -> str:
    """"Yalu River at night.ko.vtt": the item's title, the language (as sidecar files name it), the format."""
    title = " ".join(transcript.item.title.replace("/", " ").replace("\\", " ").split())[:120] or "transcript"
    kind = "" if transcript.kind is TranscriptKind.transcript else f".{transcript.kind.value}"
    language = f".{transcript.language}" if transcript.language else ""
    return f"{title}{kind}{language}.{fmt}"


@bp.get(f"/items/<id:item_id>/transcripts/<id:transcript_id>.<any({', '.join(EXPORT_FORMATS)}):fmt>")
def export(item_id: int, transcript_id: int, fmt: str) -> Response:
    """The transcript as WebVTT (also the player's captions track) or SubRip, offered as a download."""
    transcript = _transcript_of(item_id, transcript_id)
    text, mime = export_transcript(transcript, fmt)
    response = Response(text, content_type=f"{mime}; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition(
        download_name(transcript, fmt), fallback_stem=f"item-{item_id}-transcript-{transcript_id}", inline=False)
    response.add_etag()  # the player asks for its track on every visit
    return set_caching(response.make_conditional(request), transcript.item)


def _posted() -> dict[str, str]:
    defaults = TranscriptForm().values
    return {name: request.form.get(name, "").strip() or defaults[name] for name in FIELDS}


def _uploaded_name() -> str:
    """The posted file's name without any folder (some browsers send the whole path); "" without a file."""
    upload = request.files.get("file")
    return PurePath((upload.filename or "").replace("\\", "/")).name if upload else ""


def _uploaded() -> tuple[bytes, str]:
    """The bytes and name of the posted file; Invalid when there is none or it is too large."""
    name = _uploaded_name()
    if not name:
        raise Invalid("choose a transcript file: WebVTT (.vtt), SubRip (.srt) or text with timestamps (.txt)",
                      "file")
    data = request.files["file"].stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Invalid(f"{name} is larger than {MAX_BYTES // 1024**2} MB; a transcript file is much smaller", "file")
    return data, name


def _refuse(item_id: int, values: dict[str, str], exc: Invalid) -> ResponseReturnValue:
    """The item page again, with the form as sent (the file must be chosen again) and the message beside its field;
    a save refused because someone else changed the transcript meanwhile says what changed (409)."""
    if isinstance(exc, Stale):
        errors, status = refusal(exc)
        g.refused_transcript = TranscriptForm(values, errors)
        return pages.item(item_id), status
    db_session().rollback()
    message, name = str(exc), _uploaded_name()
    if not (name and message.startswith(name)):
        message = _capitalised(message)  # one that starts with the file's name keeps its case
    g.refused_transcript = TranscriptForm(values, {exc.field if exc.field in FIELDS else "file": message})
    return pages.item(item_id), 400


def _seen_versions() -> dict[int, str] | None:
    """{transcript id: version} of the transcripts the upload form's page showed ("3:1 5:2"); None
    when the form did not say (nothing is checked then)."""
    if "seen_transcripts" not in request.form:
        return None
    seen: dict[int, str] = {}
    for pair in request.form["seen_transcripts"].split():
        transcript_id, _, version = pair.partition(":")
        if not (transcript_id.isascii() and transcript_id.isdigit()):
            raise Invalid(f"the page's list of transcripts is garbled ({pair!r}): load the page again", "version")
        seen[int(transcript_id)] = version
    return seen


def _problems(name: str, problems: list[Problem]) -> str:
    listed = "; ".join(str(p) for p in problems[:PROBLEMS_SHOWN])
    more = f"; and {len(problems) - PROBLEMS_SHOWN} more" if len(problems) > PROBLEMS_SHOWN else ""
    return f"{name} was imported with {counted(len(problems), 'problem')}: {listed}{more}."


@bp.post("/items/<id:item_id>/transcripts")
@editors_only
def upload(item_id: int) -> ResponseReturnValue:
    session = db_session()
    item = get_item(session, current_viewer(), item_id)
    values = _posted()
    try:
        data, name = _uploaded()
        encoding = None if values["encoding"] == "detect" else values["encoding"]
        result = import_transcript(session, item, data, name, language=values["language"],
                                   kind=values["kind"], encoding=encoding, seen_versions=_seen_versions())
    except Invalid as exc:
        return _refuse(item_id, values, exc)
    transcript = result.transcript
    label, count = transcript_label(transcript), result.segment_count
    session.commit()
    flash(f"{'Replaced' if result.replaced else 'Added'} the {label} from {name}: "
          f"{counted(count, 'line')}.")
    if result.problems:
        flash(_problems(name, result.problems))
    return redirect(url_for("pages.item", item_id=item_id, _anchor=f"transcript-{transcript.id}"), 303)


@bp.post("/items/<id:item_id>/transcripts/<id:transcript_id>/delete")
@editors_only
def delete(item_id: int, transcript_id: int) -> ResponseReturnValue:
    session = db_session()
    transcript = _transcript_of(item_id, transcript_id)
    label = transcript_label(transcript)
    try:
        delete_transcript(session, transcript, expected_version=request.form.get("version"))
    except Invalid as exc:
        return _refuse(item_id, TranscriptForm().values, exc)
    session.commit()
    flash(f"Deleted the {label}.")
    return redirect(url_for("pages.item", item_id=item_id, _anchor="transcripts"), 303)


@bp.post("/items/<id:item_id>/transcripts/pair")
@accounts_only
def choose_pair(item_id: int) -> ResponseReturnValue:
    """Keep the signed-in viewer's pair of transcripts for this item (or `single`: one at a time). The public
    reads a pair through ?left=&right= links instead (their browser remembers it)."""
    session = db_session()
    viewer = current_viewer()
    item = get_item(session, viewer, item_id)
    if "single" in request.form:
        forget_pair(session, viewer, item)
    else:
        left, right = _ids(request.form.get("left")), _ids(request.form.get("right"))
        if left is None or right is None:
            raise Invalid("choose two transcripts (left and right) by their numbers", "left")
        remember_pair(session, viewer, item, list_transcripts(session, viewer, item_id, segments=False), left, right)
    session.commit()
    return redirect(url_for("pages.item", item_id=item_id, _anchor="transcripts"), 303)
