"""Uncertain dates: EDTF text with sortable bounds, and readable refusals."""

from __future__ import annotations

from datetime import date

import pytest

from archive.dates import describe, parse_date


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
