"""Uncertain dates: EDTF text with sortable bounds, and readable refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from edtf import parse_edtf as edtf_parse

from archive import dates
from archive.dates import ParsedDate, _parse_by_grammar, describe, parse_date


@pytest.mark.parametrize("text, lower, upper", [
    ("2019-04-12", date(2019, 4, 12), date(2019, 4, 12)),
    ("2019-04", date(2019, 4, 1), date(2019, 4, 30)),
    ("2019-04~", date(2019, 4, 1), date(2019, 4, 30)),
    ("2019?", date(2019, 1, 1), date(2019, 12, 31)),
    ("2019-03/2019-05", date(2019, 3, 1), date(2019, 5, 31)),
    ("201X", date(2010, 1, 1), date(2019, 12, 31)),
    ("2019/..", date(2019, 1, 1), None),
    ("", None, None),
])
def test_parse_date_gives_bounds(text: str, lower: date | None, upper: date | None) -> None:
    parsed = parse_date(text)
    assert (parsed.lower, parsed.upper) == (lower, upper)


@pytest.mark.parametrize("text", ["nonsense", "2019-13-45", "2019-03-2X", "2018-1X", "12/04/2019"])
def test_parse_date_refuses_non_edtf_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="Extended Date/Time Format"):
        parse_date(text)


def test_describe_reads_uncertainty() -> None:
    assert describe("2019-04~") == "about 2019-04"
    assert describe("2019?") == "2019 (uncertain)"
    assert describe("2019-03/2019-05") == "2019-03 to 2019-05"
    assert describe("") == "date unknown"
    assert describe("201X") == "the 2010s"


# -- the fast path for plain days ----------------------------------------------------------------

def _outcome(parse, text: str) -> object:  # type: ignore[no-untyped-def]
    try:
        return parse(text)
    except ValueError as exc:
        return ("refused", str(exc))


def _days(year: int) -> list[str]:
    first = date(year, 1, 1)
    return [(first + timedelta(days=n)).isoformat() for n in range((date(year + 1, 1, 1) - first).days)]


PLAIN_DAYS = _days(2024) + _days(2023)[31:59] + [
    "0001-01-01", "0999-12-31", "1000-06-15", "1582-10-10", "1900-02-28", "2000-02-29", "9999-12-31",
    # Not real days: the grammar's own answers, whatever they are (2023-02-29 it takes as the 28th).
    "2023-02-29", "1900-02-29", "2023-02-30", "2023-04-31", "2021-13-01", "2021-00-10", "2021-06-00",
    "0000-01-01", "2021-6-01", "2021-06-1", "20210601", "2021-06-01T10:00", "１９９９-01-01",
]


def test_parse_date_of_plain_days_equals_the_edtf_grammar() -> None:
    for text in PLAIN_DAYS:
        assert _outcome(parse_date, text) == _outcome(_parse_by_grammar, text), text


def test_parse_date_of_a_plain_day_skips_the_grammar(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(dates.edtf, "parse_edtf", lambda text: calls.append(text) or edtf_parse(text))
    assert parse_date(" 2021-06-01 ") == ParsedDate("2021-06-01", date(2021, 6, 1), date(2021, 6, 1))
    assert calls == []
    assert parse_date("2021-06").upper == date(2021, 6, 30)  # a plain month or year neither
    assert calls == []
    assert parse_date("2021-06~").upper == date(2021, 6, 30)  # everything else still goes through it
    with pytest.raises(ValueError, match="Extended Date/Time Format"):
        parse_date("2023-02-30")
    assert calls == ["2021-06~", "2023-02-30"]


def test_plain_years_and_months_skip_the_grammar_with_its_answers() -> None:
    """The fast path for "1991" and "1991-05" gives what the EDTF grammar gives, leap Februaries included."""
    from archive.dates import _plain_day
    for text in ("0001", "1900", "1991", "2000", "9999", "1900-02", "2000-02", "2024-02", "2023-02", "1991-01",
                 "1991-12", "2019-04"):
        assert _plain_day(text) == _parse_by_grammar(text), text
    for text in ("0000", "1991-13", "1991-00", "199", "1991-5"):
        assert _plain_day(text) is None, text
