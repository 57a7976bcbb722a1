"""Writing cues as WebVTT and SubRip; what is written reads back as the same cues."""

from __future__ import annotations

import html
from collections.abc import Iterable

from archive.transcripts.cues import Cue, format_time, split_speaker


def _escape(text: str) -> str:
    # WebVTT cue text is HTML-like: &, < and > must be character references ("-->" becomes "--&gt;").
    return html.escape(text, quote=False)


def to_webvtt(cues: Iterable[Cue]) -> str:
    """A WebVTT document; speakers as voice spans (<v Name>)."""
    out = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        lines = [_escape(line) for line in cue.text.split("\n")]
        if cue.speaker:
            name = _escape(cue.speaker).replace(">", "&gt;")
            lines[0] = f"<v {name}>{lines[0]}"
        elif split_speaker(cue.text)[0]:
            # Text that would read back as "SPEAKER: ..." keeps its colon as text: a class span hides it.
            lines[0] = f"<c>{lines[0]}</c>"
        out += [str(number), f"{format_time(cue.start)} --> {format_time(cue.end)}", *lines, ""]
    return "\n".join(out)


def to_srt(cues: Iterable[Cue]) -> str:
    """A SubRip document; speakers as a "Name: " prefix of the first line."""
    out: list[str] = []
    for number, cue in enumerate(cues, start=1):
        lines = cue.text.split("\n")
        if cue.speaker:
            lines[0] = f"{cue.speaker}: {lines[0]}"
        out += [str(number), f"{format_time(cue.start, ',')} --> {format_time(cue.end, ',')}", *lines, ""]
    return "\n".join(out)
