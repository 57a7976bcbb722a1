"""What every XML export shares: text XML 1.0 can carry, languages in the forms the schemas want,
and durations as PBCore writes them.

Catalogue text comes from people and from files (a donor's file name, a title pasted from a chat),
so it may hold characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF): they
are dropped, never allowed to stop an export. Everything else, Korean, Chinese and Thai included, is
written as it is, UTF-8 encoded.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

from archive.transcripts import base_language

#: Characters outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: xs:language (what xml:lang holds): BCP 47's shape, without which a language tag is left off.
_XS_LANGUAGE = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")


def xml_text(value: object) -> str:
    """`value` as text XML 1.0 may hold: the characters it forbids are dropped."""
    return _NOT_XML.sub("", "" if value is None else str(value))


def language_tags(text: str) -> list[str]:
    """The BCP 47 tags of a comma-separated field ("ko, en" → ["ko", "en"]), those xml:lang can hold."""
    return [tag for tag in (part.strip() for part in text.split(",")) if _XS_LANGUAGE.match(tag)]


def xml_lang(tag: str) -> str | None:
    """`tag` when it can be an xml:lang value, else None."""
    tag = tag.strip()
    return tag if _XS_LANGUAGE.match(tag) else None


@lru_cache(maxsize=1024)
def three_letter(tag: str) -> str | None:
    """The ISO 639-2/3 code PBCore's threeLetterCode wants for a BCP 47 tag ("ko" → "kor",
    "zh-Hans" → "zho"); None for a language ISO 639 does not know."""
    primary = base_language(tag.strip()) if tag.strip() else ""
    if len(primary) == 2:
        found = pycountry.languages.get(alpha_2=primary)
    elif len(primary) == 3:
        found = pycountry.languages.get(alpha_3=primary)
    else:
        found = None
    code = getattr(found, "alpha_3", None)
    return code if code and re.fullmatch("[a-z]{3}", code) else None


@lru_cache(maxsize=1024)  # a catalogue repeats a few language fields
def three_letter_list(text: str) -> str:
    """The languages of a comma-separated field as PBCore joins them ("kor;eng"); "" for none known."""
    codes: list[str] = []
    for tag in language_tags(text):
        code = three_letter(tag)
        if code and code not in codes:
            codes.append(code)
    return ";".join(codes)


def timestamp(seconds: float) -> str:
    """HH:MM:SS.mmm, the timestamp form PBCore recommends for durations and start times."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
