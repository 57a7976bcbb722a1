"""A clip list as files: CSV (one row a clip), WebVTT chapters (the clips as they play in sequence) and,
through archive.interchange.iiif.clip_ranges, a IIIF Range list. Built from the clips the reader may
see (archive.services.clips.get_list), so a hidden clip leaves no row, chapter or gap."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Sequence

from archive.models import Clip
from archive.timecode import format_timecode
from archive.transcripts.cues import format_time

CSV_COLUMNS = ("position", "title", "identifier", "in", "out", "in_seconds", "out_seconds", "note", "url")


def clips_csv(clips: Sequence[Clip], url_of: Callable[[Clip], str]) -> str:
    """One row a clip, in the list's order; `url_of` gives the clip's link (on the item's identifier)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for position, clip in enumerate(clips, start=1):
        writer.writerow([position, clip.item.title, clip.item.pid, format_timecode(clip.start_sec),
                         format_timecode(clip.end_sec), f"{clip.start_sec:g}", f"{clip.end_sec:g}", clip.note,
                         url_of(clip)])
    return out.getvalue()


def clips_chapters(clips: Sequence[Clip], url_of: Callable[[Clip], str]) -> str:
    """WebVTT chapters of the list played in sequence: each clip a cue as long as the clip, one after another."""
    lines = ["WEBVTT", "Kind: chapters", ""]
    elapsed = 0.0
    for position, clip in enumerate(clips, start=1):
        length = clip.end_sec - clip.start_sec
        # Cue text is HTML-like: a title or note holding "<" or "-->" must not end or break the cue.
        lines += [f"clip-{position}", f"{format_time(elapsed)} --> {format_time(elapsed + length)}",
                  html.escape(f"{clip.item.title} ({format_timecode(clip.start_sec)}–{format_timecode(clip.end_sec)})",
                              quote=False)]
        if clip.note:
            lines.append(html.escape(" ".join(clip.note.split()), quote=False))
        lines += [url_of(clip), ""]
        elapsed += length
    return "\n".join(lines)
