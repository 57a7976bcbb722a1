"""The parsed form of a transcript, and the helpers every format shares: timestamps, speakers, order."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from archive.transcripts.errors import Problem, TranscriptError


@dataclass(frozen=True)
class Cue:
    """One time-coded stretch of text: a WebVTT cue, a SubRip entry or a timestamped line."""
    start: float  #: seconds from the start of the media, to the millisecond
    end: float  #: seconds from the start of the media, to the millisecond
    text: str  #: plain text (no cue tags), lines joined with "\n"
    speaker: str = ""
    line: int = 0  #: where the cue starts in the file it was read from (0 when not read from a file)


@dataclass
class ParsedTranscript:
    cues: list[Cue]
    problems: list[Problem] = field(default_factory=list)
    format: str = ""  #: "vtt", "srt" or "txt"
    encoding: str = ""  #: the codec the bytes were decoded with


def split_lines(text: str) -> list[str]:
    """Lines as a text editor numbers them (CRLF, CR or LF; no other separators)."""
    return re.split(r"\r\n|\r|\n", text)


def format_time(seconds: float, separator: str = ".") -> str:
    """HH:MM:SS.mmm (WebVTT) or, with separator ",", HH:MM:SS,mmm (SubRip)."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


# "KIM:", "Kim Soon-ja:", "MR. LEE:", "김철수:", "Noi (fictional):" at the start of a cue's first
# line. Every word of the name starts with a capital (or a letter without case, as in Hangul or
# Hanzi), so that ordinary sentences such as "we said: go" are not taken for a speaker; a short
# note in brackets may follow the name, as our own SRT export writes it.
_SPEAKER = re.compile(r"^(?:[-–—]\s*)?(?P<name>[^\W\d_][^\W\d_.'’\-]*(?:[.'’\-]?\s?[^\W\d_][^\W\d_.'’\-]*){0,5}\.?"
                      r"(?P<note>\s\([^()\n]{1,30}\))?)"
                      r"\s*:\s+(?P<text>\S.*)$", re.DOTALL)


def split_speaker(text: str) -> tuple[str, str]:
    """("Speaker", "rest") when the first line starts with a speaker's name and a colon, else ("", text)."""
    match = _SPEAKER.match(text)
    if not match:
        return "", text
    name = match["name"].strip()
    words = name[:len(name) - len(match["note"] or "")].split()
    if len(name) > 60 or len(words) > 4 or any(w[0].islower() for w in words):
        return "", text
    return name, match["text"]


_TAG = re.compile(r"<[^>\n]*>")
_ASS_OVERRIDE = re.compile(r"\{\\[^}\n]*\}")  # {\an8} and friends, left in SRT files by Aegisub


def strip_tags(text: str) -> str:
    """Text without cue tags (<i>, <b>, <v ...>, <c.class>, <00:01.000>) or ASS overrides."""
    return _ASS_OVERRIDE.sub("", _TAG.sub("", text))


def clean_lines(lines: list[str]) -> str:
    """Cue text lines trimmed, blank ones dropped, joined with "\n"."""
    return "\n".join(line.strip() for line in lines if line.strip())


def unescape(text: str) -> str:
    return html.unescape(text)


def check_order(cues: list[Cue], problems: list[Problem]) -> list[Cue]:
    """Keep overlapping cues but list them; put cues out of time order in order and say so."""
    for before, cue in zip(cues, cues[1:]):
        if cue.start < before.start:
            problems.append(Problem(cue.line, f"cue starts ({format_time(cue.start)}) before the one above it "
                                              f"({format_time(before.start)}, line {before.line}); "
                                              "put into time order"))
        elif cue.start < before.end:
            problems.append(Problem(cue.line, f"cue overlaps the one above it: starts {format_time(cue.start)}, "
                                              f"the one above ends {format_time(before.end)} (line {before.line})"))
    return sorted(cues, key=lambda c: (c.start, c.end))


def checked_cue(line: int, start: float, end: float, text: str, speaker: str) -> Cue:
    """A cue, refusing one that ends before it starts (a reversed cue)."""
    if end < start:
        raise TranscriptError(line, f"cue ends ({format_time(end)}) before it starts ({format_time(start)})")
    return Cue(round(start, 3), round(end, 3), text, speaker, line)
