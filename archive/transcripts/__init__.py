"""Transcript files: reading WebVTT, SubRip and timestamped plain text in any usual encoding, and writing
WebVTT and SubRip. Pure functions: no database, no search index.

    parsed = parse_transcript(data, "clip.ko.vtt")      # TranscriptError(line, reason) when refused
    parsed.cues, parsed.problems                          # problems: imported all the same (overlaps...)
    to_webvtt(parsed.cues), to_srt(parsed.cues)           # read back as the same cues

Which format a file holds is taken from its name (.vtt, .srt, .txt) and checked against its
first lines: a .srt holding WebVTT is refused, not guessed at.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePath

import pycountry

from archive.transcripts.cues import Cue, ParsedTranscript, format_time, split_speaker
from archive.transcripts.encoding import Decoded, decode
from archive.transcripts.errors import Problem, TranscriptError
from archive.transcripts.export import to_srt, to_webvtt
from archive.transcripts.formats import FORMAT_NAMES, parse_srt, parse_txt, parse_vtt, sniff

__all__ = ["Cue", "Decoded", "FORMATS", "base_language", "language_name", "language_named", "ParsedTranscript", "Problem", "SIDECAR_SUFFIXES", "TranscriptError",
           "decode", "format_of", "format_time", "language_from_name", "normalise_language", "parse_text",
           "parse_transcript", "sidecar_base", "split_speaker", "to_srt", "to_webvtt"]

#: File name suffixes and the format each holds.
FORMATS = {".vtt": "vtt", ".webvtt": "vtt", ".srt": "srt", ".txt": "txt"}
#: Suffixes picked up at ingest beside a media file of the same name (a .txt may be anything).
SIDECAR_SUFFIXES = (".vtt", ".webvtt", ".srt")

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


#: Script subtags as readers know them; other subtags are named by ISO 3166 or shown as written.
SCRIPTS = {"Hans": "Simplified", "Hant": "Traditional", "Latn": "Latin", "Cyrl": "Cyrillic", "Kore": "Korean script"}


def language_name(tag: str) -> str:
    """"Korean" for "ko", "Chinese (Simplified)" for "zh-Hans", "English (United States)" for "en-US"."""
    if not tag:
        return "No language"
    primary, *rest = tag.split("-")
    known = (pycountry.languages.get(alpha_2=primary.lower()) if len(primary) == 2
             else pycountry.languages.get(alpha_3=primary.lower()))
    if known is None:
        return tag

    def subtag(part: str) -> str:
        country = pycountry.countries.get(alpha_2=part.upper()) if len(part) == 2 else None
        return SCRIPTS.get(part) or (getattr(country, "common_name", None) or country.name if country else part)

    name = getattr(known, "common_name", None) or known.name
    return f"{name} ({', '.join(subtag(part) for part in rest)})" if rest else name


def base_language(tag: str) -> str:
    """The language of a BCP 47 tag without its script or region, lower case: "zh" for "zh-Hans"."""
    return tag.strip().replace("_", "-").split("-")[0].lower()


@lru_cache(maxsize=1024)
def language_named(text: str) -> str | None:
    """The base language a code or an English name stands for ("zh" for "Chinese", "zh-Hans" or
    "zho"); None when ISO 639 knows no such language."""
    text = text.strip()
    if not text:
        return None
    primary = base_language(text)
    found = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2
             else pycountry.languages.get(alpha_3=primary) if len(primary) == 3 else None)
    if found is None:  # an English name ("lookup" alone takes "ko" for the name of another language)
        try:
            found = pycountry.languages.lookup(text)
        except LookupError:
            return None
    return getattr(found, "alpha_2", None) or found.alpha_3


def normalise_language(tag: str) -> str | None:
    """A BCP 47 tag in its usual case ("ko", "zh-Hans", "en-US"), or None when ISO 639 does not know it."""
    tag = tag.strip().replace("_", "-")
    if not _LANGUAGE_TAG.fullmatch(tag):
        return None
    primary, *rest = tag.split("-")
    primary = primary.lower()
    known = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2
             else pycountry.languages.get(alpha_3=primary))
    if known is None:
        return None
    parts = [primary]
    for sub in rest:
        parts.append(sub.title() if len(sub) == 4 else sub.upper() if len(sub) == 2 else sub.lower())
    return "-".join(parts)


def format_of(filename: str) -> str | None:
    return FORMATS.get(PurePath(filename).suffix.lower())


def language_from_name(filename: str) -> str | None:
    """The language in a name like "clip.ko.vtt" or "clip.en-US.srt"; None for "clip.vtt"."""
    stem = PurePath(filename).stem
    if "." not in stem:
        return None
    return normalise_language(stem.rsplit(".", 1)[1])


def sidecar_base(filename: str) -> str:
    """The media file stem a sidecar belongs to: "clip" for clip.vtt, clip.en.srt and clip.ko.vtt."""
    stem = PurePath(filename).stem
    if "." in stem and language_from_name(filename):
        return stem.rsplit(".", 1)[0]
    return stem


def parse_text(text: str, fmt: str, *, duration: float | None = None) -> ParsedTranscript:
    """Cues of already decoded `text` in format `fmt` ("vtt", "srt" or "txt")."""
    if fmt == "vtt":
        return parse_vtt(text)
    if fmt == "srt":
        return parse_srt(text)
    if fmt == "txt":
        return parse_txt(text, duration=duration)
    raise ValueError(f"unknown transcript format {fmt!r}")


def parse_transcript(data: bytes, filename: str, *, encoding: str | None = None,
                     duration: float | None = None) -> ParsedTranscript:
    """Decode and parse a transcript file; TranscriptError (with the line) when it is refused.

    `duration` (seconds of the media) ends the last line of a plain-text transcript when it
    comes before the default five seconds.
    """
    fmt = format_of(filename)
    if fmt is None:
        suffix = PurePath(filename).suffix or "(none)"
        raise TranscriptError(1, f"unsupported file type {suffix}: give WebVTT (.vtt), SubRip (.srt) or "
                                 "plain text with timestamps (.txt)")
    decoded = decode(data, encoding)
    found = sniff(decoded.text)
    if found is not None and found != fmt:
        raise TranscriptError(1, f"the file is named {PurePath(filename).suffix} ({FORMAT_NAMES[fmt]}) but holds "
                                 f"{FORMAT_NAMES[found]}")
    parsed = parse_text(decoded.text, fmt, duration=duration)
    parsed.encoding = decoded.encoding
    return parsed
