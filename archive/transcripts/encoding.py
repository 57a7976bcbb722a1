"""Text encodings of transcript files as they are found in the wild.

A byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE). Without one, strict UTF-8 is
tried first; what is not UTF-8 is decoded both as GB18030 (a superset of GB2312 and GBK, the
Chinese subtitle encodings) and as Windows-1252 (Western European), and the decoding that
reads as plausible text wins: common Hanzi for the first, accented letters between plain
letters for the second. Anything else is refused with the line of the first undecodable byte,
and the caller may name the encoding instead.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from archive.transcripts.errors import TranscriptError

# UTF-32 LE's mark starts with UTF-16 LE's, so it is tried first.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: Characters Windows-1252 text uses besides letters (quotes, dashes, the euro sign...).
_CP1252_PUNCTUATION = set("’‘“”–—…«»€°·¿¡©®™•×÷§¶ªº±²³µ¼½¾£¥¢\u00a0")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  #: Python codec name, e.g. "utf-8", "utf-16-le", "cp1252", "gb18030"
    bom: bool = False


def _line_of(data: bytes, offset: int, encoding: str = "latin-1") -> int:
    """The 1-based line (CRLF, CR or LF ends one) holding byte `offset`."""
    return len(re.findall(r"\r\n|\r|\n", data[:offset].decode(encoding, errors="replace"))) + 1


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    """The text of `data`, in `encoding` when given, else detected; TranscriptError when neither works."""
    if not data.strip():
        raise TranscriptError(1, "the file is empty")
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise TranscriptError(1, f"unknown encoding {encoding!r}") from None
        for bom, bom_name in BOMS:
            if data.startswith(bom) and codecs.lookup(bom_name).name == name:
                data = data[len(bom):]
                break
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start, name)
            raise TranscriptError(line, f"not valid {encoding} text (byte 0x{data[exc.start]:02x})") from None
        return Decoded(_check_text(text), name)
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return Decoded(_check_text(data[len(bom):].decode(name)), name, bom=True)
            except UnicodeDecodeError as exc:
                line = _line_of(data[len(bom):], exc.start, name)
                raise TranscriptError(line, f"the file starts with a {name.upper()} byte-order mark but is not "
                                            f"valid {name.upper()} text") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TranscriptError(_line_of(data, nul), "binary data, not text (a NUL byte); if this is UTF-16 or "
                                                   "UTF-32 text without a byte-order mark, give the encoding")
    try:
        return Decoded(_check_text(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    candidates = []
    for name, score in (("gb18030", _chinese_score), ("cp1252", _western_score)):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        candidates.append((score(text), name, text))
    candidates.sort(reverse=True)
    if candidates and candidates[0][0] >= 0.6:
        _, name, text = candidates[0]
        return Decoded(_check_text(text), name)
    raise TranscriptError(_line_of(data, first_bad),
                          f"unknown text encoding (byte 0x{data[first_bad]:02x} is not UTF-8, and the text reads "
                          "as neither Windows-1252 nor GBK); give the encoding")


def _check_text(text: str) -> str:
    """Refuse decoded text that is mostly control characters: a binary file that happened to decode."""
    controls = [i for i, ch in enumerate(text[:20000])
                if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\x1a"]
    if controls and len(controls) > max(2, len(text[:20000]) // 200):
        line = text[:controls[0]].count("\n") + 1
        raise TranscriptError(line, "binary data, not text (control characters)")
    return text


def _chinese_score(text: str) -> float:
    """Share of non-ASCII characters that are common Hanzi (GB2312) or CJK punctuation."""
    rest = [ch for ch in text if ord(ch) > 127]
    if not rest:
        return 0.0
    good = 0
    for ch in rest:
        code = ord(ch)
        if 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF:
            good += 1
        elif 0x4E00 <= code <= 0x9FFF:
            try:
                ch.encode("gb2312")
                good += 1
            except UnicodeEncodeError:
                pass
    return good / len(rest)


def _western_score(text: str) -> float:
    """Share of non-ASCII characters that are Latin letters beside plain letters, or usual punctuation."""
    rest = 0
    good = 0
    for i, ch in enumerate(text):
        if ord(ch) <= 127:
            continue
        rest += 1
        if ch in _CP1252_PUNCTUATION:
            good += 1
        elif ch.isalpha() and "LATIN" in unicodedata.name(ch, ""):
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            # Mis-decoded GBK gives runs of accented letters; French or German gives them one at a time.
            if (before.isascii() or after.isascii()) and not (ord(before) > 127 and ord(after) > 127):
                good += 1
    return good / rest if rest else 0.0
