"""Readers of WebVTT, SubRip (SRT) and plain text with timestamps, keeping line numbers for errors.

webvtt-py parses the timestamps and cue text of WebVTT (`Timestamp.from_string`, `Caption.voice`
and `Caption.text`); the files are split into blocks here, so that a refusal can name the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from webvtt.errors import MalformedCaptionError
from webvtt.models import Caption, Timestamp

from archive.transcripts.cues import (Cue, ParsedTranscript, check_order, checked_cue, clean_lines,
                                      split_lines, split_speaker, strip_tags, unescape)
from archive.transcripts.errors import Problem, TranscriptError

FORMAT_NAMES = {"vtt": "WebVTT", "srt": "SubRip (SRT)", "txt": "plain text with timestamps"}


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number of the first line, lines) of each run of non-blank lines."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


# -- sniffing ---------------------------------------------------------------------------------

_SRT_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}")
_TXT_STAMP = re.compile(r"^\s*\[\s*\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:(?:-->|-|–)\s*[\d:.,]+\s*)?\]")


def sniff(text: str) -> str | None:
    """Which format the text holds by its first lines: "vtt", "srt", "txt", or None when unclear."""
    lines = [line for line in split_lines(text.lstrip("\ufeff"))[:50]]
    if lines and re.match(r"WEBVTT(?:[ \t]|$)", lines[0]):
        return "vtt"
    content = [line for line in lines if line.strip()]
    if len(content) >= 2 and content[0].strip().isdigit() and "-->" in content[1]:
        return "srt"
    if content and _SRT_TIMING.match(content[0]) and "," in content[0]:
        return "srt"
    if any(_TXT_STAMP.match(line) for line in content[:10]):
        return "txt"
    return None


# -- WebVTT ---------------------------------------------------------------------------------

_VTT_TIMING = re.compile(r"^\s*(?P<start>\S+)\s*-->\s*(?P<end>\S+)(?P<settings>.*)$")


def _vtt_time(value: str, line: int) -> float:
    try:
        return Timestamp.from_string(value).in_milliseconds() / 1000
    except MalformedCaptionError:
        hint = " (WebVTT writes a dot before the milliseconds)" if "," in value else ""
        raise TranscriptError(line, f"broken timestamp {value!r}: expected HH:MM:SS.mmm or MM:SS.mmm{hint}") from None


def parse_vtt(text: str) -> ParsedTranscript:
    lines = split_lines(text)
    if not lines or not re.match(r"WEBVTT(?:[ \t]|$)", lines[0].lstrip("\ufeff")):
        raise TranscriptError(1, "not WebVTT: the first line must be 'WEBVTT'")
    cues: list[Cue] = []
    problems: list[Problem] = []
    for number, block in _blocks(lines):
        if number == 1:
            continue  # the header and its metadata lines
        first = block[0].strip()
        if first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first:
            continue
        if "-->" in block[0]:
            timing_at = 0
        elif len(block) > 1 and "-->" in block[1]:
            timing_at = 1  # a cue identifier comes first
        else:
            if cues:  # text after a blank line inside a cue, as hand-edited files have
                last = cues[-1]
                cues[-1] = Cue(last.start, last.end, f"{last.text}\n{clean_lines(block)}".strip(), last.speaker,
                               last.line)
            else:
                problems.append(Problem(number, "text before the first cue (ignored)"))
            continue
        line = number + timing_at
        match = _VTT_TIMING.match(block[timing_at])
        if not match:
            raise TranscriptError(line, f"broken cue timing {block[timing_at].strip()!r}: expected "
                                        "'00:00:01.000 --> 00:00:04.000'")
        start, end = _vtt_time(match["start"], line), _vtt_time(match["end"], line)
        body = block[timing_at + 1:]
        caption = Caption(text=[b.strip() for b in body])
        speaker = unescape(caption.voice or "").strip()
        if speaker:
            text = unescape(clean_lines(caption.text.split("\n")))
        else:
            raw = clean_lines(body)
            speaker, raw = split_speaker(raw)
            text = unescape(clean_lines(strip_tags(raw).split("\n")))
        if not text:
            problems.append(Problem(line, "cue has no text (skipped)"))
            continue
        cues.append(checked_cue(line, start, end, text, speaker))
    if not cues:
        last = max((i for i, line in enumerate(lines, start=1) if line.strip()), default=1)
        raise TranscriptError(last, "no cues: the file has a WEBVTT header but no timed text")
    return ParsedTranscript(check_order(cues, problems), problems, "vtt")


# -- SubRip -----------------------------------------------------------------------------------

_SRT_TIME = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})")
_SRT_TIMING_LINE = re.compile(r"^\s*(?P<start>\S+)\s*-->\s*(?P<end>\S+)")


def _srt_time(value: str, line: int) -> float:
    match = _SRT_TIME.fullmatch(value)
    if not match or int(match[2]) > 59 or int(match[3]) > 59:
        raise TranscriptError(line, f"broken timestamp {value!r}: expected HH:MM:SS,mmm")
    hours, minutes, seconds, ms = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(ms.ljust(3, "0")) / 1000


def parse_srt(text: str) -> ParsedTranscript:
    lines = split_lines(text.lstrip("\ufeff"))
    cues: list[Cue] = []
    problems: list[Problem] = []
    for number, block in _blocks(lines):
        first = block[0].strip()
        if first.isdigit() and len(block) > 1:
            timing_at = 1
        elif "-->" in first:
            timing_at = 0
        elif first.isdigit():
            raise TranscriptError(number + 1, f"cue {first} has no timing line: expected "
                                              "'00:00:01,000 --> 00:00:04,000'")
        else:
            if cues:  # text after a blank line inside an entry: part of it, as most players take it
                last = cues[-1]
                cues[-1] = Cue(last.start, last.end, f"{last.text}\n{clean_lines(strip_tags(chr(10).join(block)).split(chr(10)))}".strip(),
                               last.speaker, last.line)
                continue
            raise TranscriptError(number, "not SubRip: expected a cue number and then a timing line "
                                          "'00:00:01,000 --> 00:00:04,000'")
        line = number + timing_at
        match = _SRT_TIMING_LINE.match(block[timing_at])
        if not match or "-->" not in block[timing_at]:
            raise TranscriptError(line, f"broken cue timing {block[timing_at].strip()!r}: expected "
                                        "'00:00:01,000 --> 00:00:04,000'")
        start, end = _srt_time(match["start"], line), _srt_time(match["end"], line)
        body = block[timing_at + 1:]
        caption = Caption(text=[b.strip() for b in body])
        speaker = (caption.voice or "").strip()
        raw = clean_lines(caption.text.split("\n")) if speaker else clean_lines(body)
        if not speaker:
            speaker, raw = split_speaker(raw)
        text = clean_lines(strip_tags(raw).split("\n"))
        if not text:
            problems.append(Problem(line, "cue has no text (skipped)"))
            continue
        cues.append(checked_cue(line, start, end, text, speaker))
    if not cues:
        raise TranscriptError(1, "no cues found")
    return ParsedTranscript(check_order(cues, problems), problems, "srt")


# -- plain text with timestamps -----------------------------------------------------------------

# "[00:01:02] KIM: text", "[01:02] text", "[00:01:02.5 - 00:01:09] text", "[00:01:02 --> 00:01:09]"
_TXT_LINE = re.compile(r"^\s*\[(?P<stamp>[\d\s:.,\-–>]*\d[\d\s:.,\-–>]*)\]\s*(?P<rest>.*)$")
_TXT_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?")


def _txt_time(value: str, line: int) -> float:
    match = _TXT_TIME.fullmatch(value.strip())
    if not match or int(match[2]) > 59 and match[1] is not None or int(match[3]) > 59:
        raise TranscriptError(line, f"broken timestamp [{value.strip()}]: expected [HH:MM:SS] or [MM:SS]")
    hours, minutes, seconds, ms = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int((ms or "0").ljust(3, "0")) / 1000


def parse_txt(text: str, *, last_duration: float = 5.0, duration: float | None = None) -> ParsedTranscript:
    """Lines "[HH:MM:SS] SPEAKER: text" (or [MM:SS], optionally "[start - end]").

    A cue without an end time lasts until the next one starts; the last one `last_duration`
    seconds, or until `duration` (of the media) when that comes sooner. Lines without a timestamp
    continue the cue above.
    """
    lines = split_lines(text.lstrip("\ufeff"))
    entries: list[dict] = []
    problems: list[Problem] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        match = _TXT_LINE.match(raw)
        if match is None:
            if entries:
                entries[-1]["lines"].append(raw)
            else:
                problems.append(Problem(number, "text before the first timestamp (ignored)"))
            continue
        parts = re.split(r"\s*(?:-->|–|-)\s*", match["stamp"].strip())
        if len(parts) > 2 or not all(parts):
            raise TranscriptError(number, f"broken timestamp [{match['stamp'].strip()}]: expected [HH:MM:SS] "
                                          "or [HH:MM:SS - HH:MM:SS]")
        start = _txt_time(parts[0], number)
        end = _txt_time(parts[1], number) if len(parts) == 2 else None
        if entries and start < entries[-1]["start"]:
            before = entries[-1]
            raise TranscriptError(number, f"timestamp [{parts[0].strip()}] is earlier than the one on line "
                                          f"{before['line']}: lines must be in time order")
        entries.append({"line": number, "start": start, "end": end, "lines": [match["rest"]]})
    if not entries:
        raise TranscriptError(1, "no timestamps found: expected lines like '[00:01:02] SPEAKER: text'")
    cues: list[Cue] = []
    for i, entry in enumerate(entries):
        end = entry["end"]
        if end is None:
            if i + 1 < len(entries):
                end = entries[i + 1]["start"]
            else:
                end = entry["start"] + last_duration
                if duration is not None and entry["start"] < duration < end:
                    end = duration
        speaker, body = split_speaker(clean_lines(entry["lines"]))
        body = clean_lines(body.split("\n"))
        if not body:
            problems.append(Problem(entry["line"], "timestamp without text (skipped)"))
            continue
        cues.append(checked_cue(entry["line"], entry["start"], end, body, speaker))
    if not cues:
        raise TranscriptError(1, "no text found after the timestamps")
    return ParsedTranscript(check_order(cues, problems), problems, "txt")
