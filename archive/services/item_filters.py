"""Browse's facet filters in SQL: the search filters (archive.services.filters) over the catalogue.

Browse and /api/items list the database, not the search index, so the facets that search counts in
its engine are counted here with the same names, values and meaning: values of one facet are
alternatives, different facets must all hold, a facet filtered on is counted without its own
filter, and a place, country, journey or leg is a value only where the viewer may know it
(archive.access.place_filter, journey_filter), never by an item's link to something hidden.

    filters, low, high = parse_filters(request.args)         # Invalid (a 400) on a bad value
    clauses = filter_clauses(viewer, filters)                 # WHERE clauses on Item
    counts = count_facets(session, viewer, base, filters)    # {"place": [FacetValue("Hyesan", 3)], ...}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, union
from sqlalchemy.orm import Session

from archive.access import Viewer, journey_filter, place_filter
from archive.models import (AccessLevel, Country, Item, ItemKind, Journey, Leg, Place, Role, Transcript,
                            item_leg_links, item_place_links)
from archive.search import FACETS, Facet, FacetValue
from archive.services import Invalid
from archive.services.filters import Args, date_bounds, values_of
from archive.transcripts import language_named

_SEARCH_FACETS = {f.name: f for f in FACETS}
#: The facets of browse, in the order the page offers them: search's, and two the catalogue alone knows.
BROWSE_FACETS: tuple[Facet, ...] = (
    _SEARCH_FACETS["kind"], _SEARCH_FACETS["country"], _SEARCH_FACETS["place"], _SEARCH_FACETS["journey"],
    Facet("leg", "Journey leg", searchable=False), _SEARCH_FACETS["language"], _SEARCH_FACETS["has_transcript"],
    Facet("access", "Access level", searchable=False),
)
BROWSE_FACET_NAMES = tuple(f.name for f in BROWSE_FACETS)
#: Most values listed per facet, as search lists (SearchRequest.facet_limit).
FACET_LIMIT = 20
YES_NO = ("yes", "no")

Filters = Mapping[str, tuple[str, ...]]


def offers_access_facet(viewer: Viewer) -> bool:
    """Only a viewer who sees more than one access level is offered a choice between them."""
    return viewer.role is not Role.public


def _choices(name: str, values: list[str], allowed: Sequence[str]) -> tuple[str, ...]:
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}, not {wrong[0]!r}", name)
    return tuple(dict.fromkeys(values))


def _leg_ids(values: list[str]) -> tuple[str, ...]:
    for v in values:
        if not v.isdigit() or not 0 < int(v) < 2**31:
            raise Invalid(f"leg must be the number of a journey leg, not {v!r}", "leg")
    return tuple(dict.fromkeys(str(int(v)) for v in values))


def parse_filters(args: Args) -> tuple[dict[str, tuple[str, ...]], date | None, date | None]:
    """The facet filters and the date-shot bounds (from, to: EDTF) of a query string; Invalid names
    the parameter of a value that can mean nothing (a kind, level or leg that does not exist)."""
    out: dict[str, tuple[str, ...]] = {}
    for name in BROWSE_FACET_NAMES:
        values = values_of(args, name)
        if not values:
            continue
        if name == "kind":
            out[name] = _choices(name, values, [k.value for k in ItemKind])
        elif name == "access":
            out[name] = _choices(name, values, [a.value for a in AccessLevel])
        elif name == "has_transcript":
            out[name] = _choices(name, values, YES_NO)
        elif name == "leg":
            out[name] = _leg_ids(values)
        elif name == "language":  # by code or name, with any script or region: its base code
            out[name] = tuple(dict.fromkeys((language_named(v) or v).lower() for v in values))
        else:
            out[name] = tuple(dict.fromkeys(values))
    low, high = date_bounds(args)
    return out, low, high


# -- which items a value names ------------------------------------------------------------------------

def _place_items(viewer: Viewer, where: ColumnElement[bool]) -> Select:
    links = item_place_links()
    return (select(links.c.item_id).join(Place, Place.id == links.c.place_id)
            .where(place_filter(viewer), where))


def _leg_items(viewer: Viewer, where: ColumnElement[bool]) -> Select:
    links = item_leg_links()
    return (select(links.c.item_id).join(Leg, Leg.id == links.c.leg_id).join(Journey, Journey.id == Leg.journey_id)
            .where(journey_filter(viewer), where))


def _country_codes(values: tuple[str, ...]) -> ColumnElement[bool]:
    """A country by its name as search shows it ("North Korea") or by its ISO code ("KP")."""
    return or_(Place.country_code.in_([v.upper() for v in values if len(v) == 2]),
               Place.country_code.in_(select(Country.code).where(Country.name.in_(values))))


def _tags_of(column: ColumnElement[str]) -> ColumnElement[str]:
    """',ko,en-gb,' of 'ko, en-GB': a language list that LIKE can match tag by tag."""
    return literal(",") + func.lower(func.replace(column, " ", "")) + literal(",")


def _language(values: tuple[str, ...]) -> ColumnElement[bool]:
    own = _tags_of(Item.language)
    spoken = _tags_of(Transcript.language)
    tests = []
    for code in values:
        tests += [own.like(f"%,{code},%"), own.like(f"%,{code}-%")]
    said = or_(*(spoken.like(f"%,{code},%") | spoken.like(f"%,{code}-%") for code in values))
    return or_(*tests, Item.transcripts.any(said))


def filter_clause(viewer: Viewer, name: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """The WHERE clause on Item keeping the items with one of `values` of facet `name`."""
    if name == "kind":
        return Item.kind.in_([ItemKind(v) for v in values])
    if name == "access":
        return Item.access.in_([AccessLevel(v) for v in values])
    if name == "has_transcript":
        if set(values) == set(YES_NO):
            return literal(True)  # type: ignore[return-value]
        return Item.transcripts.any() if values == ("yes",) else ~Item.transcripts.any()
    if name == "place":
        return Item.id.in_(_place_items(viewer, Place.name.in_(values)))
    if name == "country":
        return Item.id.in_(_place_items(viewer, _country_codes(values)))
    if name == "journey":
        return Item.id.in_(_leg_items(viewer, Journey.title.in_(values)))
    if name == "leg":
        return Item.id.in_(_leg_items(viewer, Leg.id.in_([int(v) for v in values])))
    if name == "language":
        return _language(values)
    raise ValueError(f"no facet {name!r}")


def filter_clauses(viewer: Viewer, filters: Filters, *, skip: str | None = None) -> list[ColumnElement[bool]]:
    return [filter_clause(viewer, name, values) for name, values in filters.items() if name != skip and values]


# -- counting -------------------------------------------------------------------------------------------

def _by_value(session: Session, stmt: Select) -> list[tuple[str, int]]:
    return [(str(v), n) for v, n in session.execute(stmt) if v is not None]


def _count_links(session: Session, ids: Select, links: Select, value: ColumnElement) -> list[tuple[str, int]]:
    found = links.add_columns(value.label("value")).where(links.selected_columns[0].in_(ids)).subquery()
    return _by_value(session, select(found.c.value, func.count(func.distinct(found.c.item_id)))
                     .group_by(found.c.value))


def _languages(session: Session, ids: Select) -> list[tuple[str, int]]:
    """Items by the base code of their own languages and their transcripts' (zh-Hans counts as zh)."""
    rows = session.execute(union(select(Item.id, Item.language).where(Item.id.in_(ids), Item.language != ""),
                                 select(Transcript.item_id, Transcript.language)
                                 .where(Transcript.item_id.in_(ids), Transcript.language != "")))
    items: dict[str, set[int]] = defaultdict(set)
    for item_id, tags in rows:
        for tag in tags.split(","):
            if (code := tag.strip().split("-")[0].lower()):
                items[code].add(item_id)
    return [(code, len(found)) for code, found in items.items()]


def _count(session: Session, viewer: Viewer, name: str, ids: Select) -> list[tuple[str, int]]:
    if name == "kind":
        return [(k.value, n) for k, n in session.execute(
            select(Item.kind, func.count()).where(Item.id.in_(ids)).group_by(Item.kind))]
    if name == "access":
        return [(a.value, n) for a, n in session.execute(
            select(Item.access, func.count()).where(Item.id.in_(ids)).group_by(Item.access))]
    if name == "has_transcript":
        with_ = session.scalar(select(func.count()).where(Item.id.in_(ids), Item.transcripts.any())) or 0
        total = session.scalar(select(func.count()).where(Item.id.in_(ids))) or 0
        return [(v, n) for v, n in (("yes", with_), ("no", total - with_)) if n]
    if name == "place":
        return _count_links(session, ids, _place_items(viewer, literal(True)), Place.name)
    if name == "country":
        countries = (_place_items(viewer, Place.country_code.is_not(None))
                     .outerjoin(Country, Country.code == Place.country_code))
        return _count_links(session, ids, countries, func.coalesce(Country.name, Place.country_code))
    if name == "journey":
        return _count_links(session, ids, _leg_items(viewer, literal(True)), Journey.title)
    if name == "leg":
        return _count_links(session, ids, _leg_items(viewer, literal(True)), Leg.id)
    if name == "language":
        return _languages(session, ids)
    raise ValueError(f"no facet {name!r}")


def count_facets(session: Session, viewer: Viewer, matching: Callable[[str | None], Select],
                 filters: Filters) -> dict[str, list[FacetValue]]:
    """Counts of every browse facet's values among the items `matching(skip)` selects (the ids of the
    visible items passing every filter but facet `skip`'s), most first, FACET_LIMIT of each."""
    out: dict[str, list[FacetValue]] = {}
    shared = matching(None)
    for facet in BROWSE_FACETS:
        if facet.name == "access" and not offers_access_facet(viewer):
            continue
        ids = matching(facet.name) if facet.name in filters else shared
        values = Counter(dict(_count(session, viewer, facet.name, ids)))
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
        out[facet.name] = [FacetValue(v, n) for v, n in ranked[:FACET_LIMIT] if n]
    return out


def leg_labels(session: Session, viewer: Viewer, leg_ids: Sequence[str]) -> dict[str, str]:
    """How the legs among `leg_ids` read ("The Roh family's route, leg 4"), for those the viewer may know."""
    wanted = sorted({int(v) for v in leg_ids if v.isdigit()})
    if not wanted:
        return {}
    rows = session.execute(select(Leg.id, Leg.position, Journey.title).join(Journey, Journey.id == Leg.journey_id)
                           .where(Leg.id.in_(wanted), journey_filter(viewer)))
    return {str(leg_id): f"{title}, leg {position}" for leg_id, position, title in rows}
