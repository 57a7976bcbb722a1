"""Uncertain dates as EDTF text with sortable calendar bounds."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from datetime import date

import edtf
from edtf.parser.edtf_exceptions import EDTFParseException

EDTF_HINT = ("EDTF: 2019-04-12, 2019-04, 2019, 2019-04-12~ (approximate), 2019? (uncertain), "
             "2019-03/2019-05 (range), 201X (decade)")


@dataclass(frozen=True)
class ParsedDate:
    text: str
    lower: date | None
    upper: date | None


def _to_date(value: time.struct_time | float) -> date | None:
    if not isinstance(value, time.struct_time):  # open ends come back as +/- infinity
        return None
    try:
        year = min(max(value.tm_year, 1), 9999)
        day = min(value.tm_mday, calendar.monthrange(year, value.tm_mon)[1])
        return date(year, value.tm_mon, day)
    except (ValueError, OverflowError):
        return None


# A plain calendar day, what ingest passes from EXIF: the EDTF grammar (pyparsing) takes some 4 ms
# to say what date.fromisoformat says in microseconds. ASCII digits only, as in the grammar.
_PLAIN_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


#: A plain year or month, as catalogue records give most dates ("1991", "1991-05"): the grammar takes
#: some 14 ms over each (a PBCore import of 10,000 records spent most of its time there).
_PLAIN_YEAR_MONTH = re.compile(r"([0-9]{4})(?:-(0[1-9]|1[0-2]))?")


def _plain_day(text: str) -> ParsedDate | None:
    """The ParsedDate of a real YYYY-MM-DD day, YYYY-MM month or YYYY year from 0001; None for anything
    else, which the grammar then judges."""
    plain = _PLAIN_YEAR_MONTH.fullmatch(text)
    if plain and int(plain[1]) >= 1:
        year = int(plain[1])
        first, last = (int(plain[2]),) * 2 if plain[2] else (1, 12)
        return ParsedDate(text, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]))
    if not _PLAIN_DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:  # 2023-02-30, 0000-01-01, 2023-02-29: the grammar has its own answers to those
        return None
    return ParsedDate(text, day, day)


def parse_date(text: str) -> ParsedDate:
    """Parse EDTF text into its bounds; raise ValueError with a readable message when it is not EDTF."""
    text = (text or "").strip()
    if not text:
        return ParsedDate("", None, None)
    return _plain_day(text) or _parse_by_grammar(text)


def _parse_by_grammar(text: str) -> ParsedDate:
    """parse_date of stripped, non-empty text through the edtf package's grammar: every EDTF form."""
    try:
        parsed = edtf.parse_edtf(text)
        # The bounds are computed lazily and fail on some forms the grammar accepts ("2018-1X").
        lower = _to_date(parsed.lower_strict())
        upper = _to_date(parsed.upper_strict())
    except (EDTFParseException, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{text!r} is not a date in Extended Date/Time Format ({EDTF_HINT})") from exc
    return ParsedDate(str(parsed), lower, upper)


def describe(text: str) -> str:
    """A human reading of an EDTF date for pages ("about April 2019", "2019-03 to 2019-05")."""
    if not text:
        return "date unknown"
    if len(text) == 4 and text[:3].isdigit() and text[3] in "Xx":
        return f"the {text[:3]}0s"
    readable = text.replace("/", " to ").replace("..", "open")
    if readable.endswith("~"):
        return "about " + readable[:-1]
    if readable.endswith("?"):
        return readable[:-1] + " (uncertain)"
    if readable.endswith("%"):
        return "about " + readable[:-1] + " (uncertain)"
    return readable
