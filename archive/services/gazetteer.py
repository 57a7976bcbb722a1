"""Importing places from a gazetteer file: our CSV or a GeoNames dump.

    import_gazetteer(session, viewer, lines, *, fmt=None, source="", on_line=None) -> GazetteerReport
    guess_format(first_line) -> "csv" | "geonames"
    geonames_kind(feature_class, feature_code, population=0) -> PlaceKind

CSV: a header naming the columns name, kind, country, latitude, longitude, alt_names (separated
by | or ;), parent (the name of another place, in the file or the archive), description; only
name, latitude and longitude are required. GeoNames: the tab-separated 19-column dump
(geonameid, name, asciiname, alternatenames, latitude, longitude, feature class, feature code,
country code, ...), feature class and code mapped to a kind.

Each bad row is left out and reported with its line number and the reason (missing name,
unknown country code, latitude out of range, a number that is not one...); the good rows are
kept. A row naming a place that exists already (same name and country) updates it: kind,
position, parent and description are set, other names are added. New places are public with an
exact position; mark sensitive ones afterwards.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.models import AccessLevel, LocationPrecision, Place, PlaceKind
from archive.services import Invalid
from archive.services.editing import fields as f
from archive.services.place_fields import (ALT_NAMES_MAX, alt_names, coordinate, country_code, is_within,
                                           require_editor)

Format = Literal["csv", "geonames"]
FORMATS: tuple[Format, ...] = ("csv", "geonames")
CSV_COLUMNS = ("name", "kind", "country", "latitude", "longitude", "alt_names", "parent", "description")
#: Other spellings of the CSV header that are accepted.
CSV_ALIASES = {"lat": "latitude", "lon": "longitude", "lng": "longitude", "country_code": "country",
               "alternate_names": "alt_names", "alternatenames": "alt_names", "other_names": "alt_names"}
GEONAMES_COLUMNS = 19
#: Rows written to the database at a time.
BATCH = 500


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass
class GazetteerReport:
    source: str
    created: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    def messages(self) -> list[str]:
        """One line per problem: "FILE, line N: reason"."""
        return [f"{self.source}, line {p.line}: {p.message}" for p in self.problems]


@dataclass
class _Row:
    line: int
    name: str
    kind: PlaceKind
    country: str | None
    latitude: float
    longitude: float
    alt_names: list[str]
    parent: str = ""
    description: str = ""


class _Bad(Exception):
    """A row that is left out; the message says why."""


def guess_format(first_line: str) -> Format:
    """GeoNames when the first line is a tab-separated GeoNames row, else CSV."""
    return "geonames" if first_line.count("\t") >= GEONAMES_COLUMNS - 2 else "csv"


_GEONAMES_CODES: dict[str, PlaceKind] = {
    "PPLC": PlaceKind.city, "PPLA": PlaceKind.city, "PPLG": PlaceKind.city,
    "STM": PlaceKind.river, "STMI": PlaceKind.river, "STMX": PlaceKind.river, "STMM": PlaceKind.river,
    "LK": PlaceKind.lake, "LKS": PlaceKind.lake, "RSV": PlaceKind.lake,
    "SEA": PlaceKind.sea, "BAY": PlaceKind.sea, "GULF": PlaceKind.sea, "OCN": PlaceKind.sea, "STRT": PlaceKind.sea,
    "MT": PlaceKind.mountain, "MTS": PlaceKind.mountain, "PK": PlaceKind.mountain, "PKS": PlaceKind.mountain,
    "HLL": PlaceKind.mountain, "HLLS": PlaceKind.mountain, "VLC": PlaceKind.mountain, "RDGE": PlaceKind.mountain,
    "PSTB": PlaceKind.border_post, "PSTC": PlaceKind.border_post, "PSTP": PlaceKind.border_post,
    "CMP": PlaceKind.camp, "CMPRF": PlaceKind.camp, "CMPMN": PlaceKind.camp, "CMPLA": PlaceKind.camp,
    "AIRP": PlaceKind.airport, "AIRF": PlaceKind.airport, "AIRH": PlaceKind.airport,
    "FY": PlaceKind.crossing_point, "FRD": PlaceKind.crossing_point, "BDG": PlaceKind.crossing_point,
}
_GEONAMES_CLASSES = {"A": PlaceKind.region, "L": PlaceKind.region, "H": PlaceKind.river, "T": PlaceKind.mountain,
                     "S": PlaceKind.building}


def geonames_kind(feature_class: str, feature_code: str, population: int = 0) -> PlaceKind:
    """A place kind for a GeoNames feature class and code (populated places by population)."""
    code, klass = feature_code.strip().upper(), feature_class.strip().upper()
    if code in _GEONAMES_CODES:
        return _GEONAMES_CODES[code]
    if klass == "P":
        return PlaceKind.city if population >= 100_000 else PlaceKind.town if population >= 5_000 else PlaceKind.village
    if klass == "H" and code.startswith("LK"):
        return PlaceKind.lake
    if klass == "H" and not code.startswith("STM"):
        return PlaceKind.other
    return _GEONAMES_CLASSES.get(klass, PlaceKind.other)


# -- reading rows -------------------------------------------------------------------------------

def _checked(check: Callable[[], object]) -> object:
    try:
        return check()
    except Invalid as exc:
        raise _Bad(str(exc)) from None


def _kind(value: str) -> PlaceKind:
    raw = value.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return PlaceKind(raw or PlaceKind.other)
    except ValueError:
        raise _Bad(f"unknown kind {value.strip()!r} (one of {', '.join(k.value for k in PlaceKind)})") from None


def _common(name: str, country: str, latitude: str, longitude: str) -> tuple[str, str | None, float, float]:
    name = " ".join(name.split())
    if not name:
        raise _Bad("the name is missing")
    _checked(lambda: f.name(name, "name"))
    code = _checked(lambda: country_code(country))
    lat = _checked(lambda: coordinate(latitude, "latitude"))
    lon = _checked(lambda: coordinate(longitude, "longitude"))
    return name, code, lat, lon  # type: ignore[return-value]


def _csv_rows(lines: Iterable[str]) -> Iterator[_Row | Problem]:
    numbered = _LineCounter(lines)
    reader = csv.reader(text for _, text in numbered)
    try:
        header = next(reader)
    except StopIteration:
        yield Problem(1, "the file is empty: a CSV gazetteer starts with a header line")
        return
    columns = [CSV_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in ("name", "latitude", "longitude") if c not in columns]
    if missing:
        yield Problem(1, f"the header has no column {', '.join(repr(m) for m in missing)} (it needs name, "
                         f"latitude and longitude; it may have {', '.join(CSV_COLUMNS)})")
        return
    for unknown in [c for c in columns if c not in CSV_COLUMNS]:
        yield Problem(1, f"column {unknown!r} is not a gazetteer column and is ignored")
    start = numbered.line + 1
    for record in reader:
        line, start = start, numbered.line + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            yield Problem(line, f"{len(record)} fields where the header has {len(columns)}")
            continue
        cells = dict(zip(columns, record))
        try:
            name, code, lat, lon = _common(cells["name"], cells.get("country", ""), cells["latitude"],
                                           cells["longitude"])
            yield _Row(line, name, _kind(cells.get("kind", "")), code, lat, lon,
                       _checked(lambda: alt_names(cells.get("alt_names", ""), name)),  # type: ignore[arg-type]
                       " ".join(cells.get("parent", "").split()), cells.get("description", "").strip())
        except _Bad as exc:
            yield Problem(line, str(exc))


def _geonames_rows(lines: Iterable[str]) -> Iterator[_Row | Problem]:
    for line, text in _LineCounter(lines):
        text = text.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        if len(cells) != GEONAMES_COLUMNS:
            yield Problem(line, f"{len(cells)} tab-separated columns where a GeoNames row has {GEONAMES_COLUMNS}")
            continue
        geonameid, name, asciiname, alternates, lat, lon, klass, code, country = cells[:9]
        try:
            name, country_value, latitude, longitude = _common(name, country, lat, lon)
            try:
                population = int(cells[14] or 0)
            except ValueError:
                raise _Bad(f"population must be a whole number, not {cells[14]!r}") from None
            # A capital has hundreds of other names in GeoNames: the first ones are kept.
            others = [n for n in [asciiname, *alternates.split(",")] if 0 < len(n.strip()) <= f.NAME_MAX]
            yield _Row(line, name, geonames_kind(klass, code, population), country_value, latitude, longitude,
                       alt_names(others[:ALT_NAMES_MAX], name),
                       description=f"GeoNames {geonameid.strip()} ({klass}.{code})" if geonameid.strip() else "")
        except _Bad as exc:
            yield Problem(line, str(exc))
        except Invalid as exc:
            yield Problem(line, str(exc))


class _LineCounter:
    """Lines with their numbers from 1; `line` is the number of the last one handed out."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.line = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for text in self._lines:
            self.line += 1
            yield self.line, text


# -- writing ------------------------------------------------------------------------------------

def import_gazetteer(session: Session, viewer: Viewer, lines: Iterable[str], *, fmt: Format | None = None,
                     source: str = "", on_line: Callable[[int], None] | None = None) -> GazetteerReport:
    """Create or update a place for every good row of `lines`; report the bad ones (see the module docstring).

    `on_line` is called with the number of the line just read, for a progress bar.
    """
    require_editor(viewer, "the gazetteer")
    report = GazetteerReport(source or "gazetteer")
    lines = iter(lines)
    first = next(lines, "")
    fmt = fmt or guess_format(first)
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}", "format")

    def counted() -> Iterator[str]:
        for number, text in enumerate(_chain(first, lines), start=1):
            if on_line is not None:
                on_line(number)
            yield text

    reader = _csv_rows if fmt == "csv" else _geonames_rows
    existing = {(p.name, p.country_code): p for p in session.scalars(select(Place))}
    seen: dict[tuple[str, str | None], int] = {}
    wanted_parents: list[tuple[_Row, Place]] = []
    pending = 0
    for entry in reader(counted()):
        if isinstance(entry, Problem):
            report.problems.append(entry)
            continue
        key = (entry.name, entry.country)
        if key in seen:
            report.problems.append(Problem(entry.line, f"repeats line {seen[key]} (the same name and country); "
                                                       "left out"))
            continue
        seen[key] = entry.line
        place = existing.get(key)
        if place is None:
            place = Place(name=entry.name, country_code=entry.country, kind=entry.kind, latitude=entry.latitude,
                          longitude=entry.longitude, alt_names=entry.alt_names, description=entry.description,
                          access=AccessLevel.public, precision=LocationPrecision.exact)
            session.add(place)
            existing[key] = place
            report.created += 1
        else:
            place.kind, place.latitude, place.longitude = entry.kind, entry.latitude, entry.longitude
            merged = list(dict.fromkeys([*(place.alt_names or []), *entry.alt_names]))[:ALT_NAMES_MAX]
            if merged != (place.alt_names or []):
                place.alt_names = merged
            if entry.description:
                place.description = entry.description
            report.updated += 1
        if entry.parent:
            wanted_parents.append((entry, place))
        pending += 1
        if pending >= BATCH:
            session.flush()
            pending = 0
    session.flush()
    _set_parents(existing, wanted_parents, report)
    session.flush()
    report.problems.sort(key=lambda p: p.line)
    return report


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _set_parents(places: dict[tuple[str, str | None], Place], wanted: list[tuple[_Row, Place]],
                 report: GazetteerReport) -> None:
    by_name: dict[str, list[Place]] = {}
    for (name, _), place in places.items():
        by_name.setdefault(name, []).append(place)
    for row, place in wanted:
        candidates = by_name.get(row.parent, [])
        same_country = [p for p in candidates if p.country_code == row.country]
        chosen = same_country if len(same_country) == 1 else candidates
        if not chosen:
            report.problems.append(Problem(row.line, f"parent {row.parent!r} is not a place in the file or the "
                                                     f"archive; {row.name} was imported without it"))
            continue
        if len(chosen) > 1:
            report.problems.append(Problem(row.line, f"parent {row.parent!r} names {len(chosen)} places (in "
                                                     f"{', '.join(sorted(p.country_code or '-' for p in chosen))}); "
                                                     f"{row.name} was imported without it"))
            continue
        parent = chosen[0]
        if is_within(parent, place):
            report.problems.append(Problem(row.line, f"parent {row.parent!r} lies inside {row.name} already; "
                                                     f"{row.name} was imported without it"))
            continue
        place.parent = parent
