"""Checks of the values typed into places, crossings and legs, shared by their services and the gazetteer.

Each raises archive.services.Invalid naming the field, as archive.services.editing.fields does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

import pycountry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import geo
from archive.access import EDITORS, Viewer, can_see_journey
from archive.models import Journey, LocationPrecision, Place, PlaceKind
from archive.services import Invalid, NotFound
from archive.services.editing import fields as f
from archive.services.editing.fields import NAME_MAX

#: Most other names a place keeps (GeoNames lists hundreds for a capital).
ALT_NAMES_MAX = 100
#: Parents deeper than this are taken to be a cycle that slipped in.
MAX_DEPTH = 32


#: How a refusal names a journey the acting editor may not see (a title can itself reveal it).
HIDDEN_JOURNEY = "a journey you may not see"


def journey_named(viewer: Viewer, journey: Journey) -> str:
    """The journey's quoted title for messages to `viewer`, or HIDDEN_JOURNEY."""
    return repr(journey.title) if can_see_journey(viewer, journey) else HIDDEN_JOURNEY


def require_editor(viewer: Viewer, what: str) -> None:
    """NotFound unless `viewer` edits the catalogue: someone without the role learns nothing."""
    if viewer.role not in EDITORS:
        raise NotFound(what)


def country_code(value: str | None, field: str = "country", *, required: bool = False) -> str | None:
    """An ISO 3166-1 alpha-2 code checked with pycountry, upper case; None for an empty value."""
    raw = (value or "").strip() if isinstance(value, str) or value is None else value
    if not isinstance(raw, str):
        raise Invalid(f"{field.replace('_', ' ')} must be a country code, not {value!r}", field)
    if not raw:
        if required:
            raise Invalid(f"give the {field.replace('_', ' ')} (an ISO 3166-1 code such as KP or TH)", field)
        return None
    code = raw.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise Invalid(f"unknown country code {raw!r} (ISO 3166-1 alpha-2, such as KP, CN or TH)", field)
    return code


def place_kind(value: PlaceKind | str) -> PlaceKind:
    return f.choice(PlaceKind, value, "kind", default=PlaceKind.other)


def precision_value(value: LocationPrecision | str, field: str = "precision") -> LocationPrecision:
    return f.choice(LocationPrecision, value, field, default=LocationPrecision.exact)


def coordinate(value: float | str, field: str) -> float:
    try:
        return geo.parse_coordinate(value, field)
    except ValueError as exc:
        raise Invalid(str(exc), field) from None


def alt_names(value: Iterable[str] | str, name: str = "") -> list[str]:
    """Other names from a list or from text separated by |, ; or line breaks; blanks and repeats dropped."""
    if isinstance(value, str):
        for separator in (";", "\n"):
            value = value.replace(separator, "|")
        value = value.split("|")
    cleaned: dict[str, str] = {}
    for raw in value:
        if not isinstance(raw, str):
            raise Invalid(f"other names must be text, not {raw!r}", "alt_names")
        each = " ".join(raw.split())
        if len(each) > NAME_MAX:
            raise Invalid(f"the other name {each[:40]!r}... is longer than {NAME_MAX} characters", "alt_names")
        if each and each != name:
            cleaned.setdefault(each, each)
    if len(cleaned) > ALT_NAMES_MAX:
        raise Invalid(f"a place keeps at most {ALT_NAMES_MAX} other names, not {len(cleaned)}", "alt_names")
    return list(cleaned)


Row = TypeVar("Row")


def row_by_id(session: Session, model: type[Row], value: int | str | None, field: str, noun: str) -> Row | None:
    """The `model` row whose id `value` gives (a number or its text); None for no value, Invalid naming
    `field` when there is no such row."""
    row_id = f.whole_number(value, field)
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None:
        raise Invalid(f"there is no {noun} {row_id}", field)
    return row


def place_and_inside(session: Session, place_id: int) -> set[int]:
    """The ids of the place and of every place inside it, through the parent chain (MAX_DEPTH levels)."""
    found, frontier = {place_id}, {place_id}
    for _ in range(MAX_DEPTH):
        frontier = set(session.scalars(select(Place.id).where(Place.parent_id.in_(frontier)))) - found
        if not frontier:
            break
        found |= frontier
    return found


def is_within(place: Place, other: Place) -> bool:
    """Is `place` `other` itself or inside it, through its parents (at most MAX_DEPTH of them)?"""
    ancestor: Place | None = place
    for _ in range(MAX_DEPTH + 1):
        if ancestor is None:
            return False
        if ancestor is other:
            return True
        ancestor = ancestor.parent
    return False


def place_label(place: Any) -> str:
    """How forms list a place and how an editor may type it: "Hyesan (KP)", or the name alone."""
    code = place.country_code
    return f"{place.name} ({code})" if code else place.name


_LABEL = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2})\)$")


def place_by_reference(session: Session, value: int | str | None, field: str) -> Place | None:
    """The place `value` names: its id (what drop-down lists send) or its label as place_label
    writes it (what a searched text field sends, "Hyesan (KP)", or just "Hyesan" when no other
    country has one; within a country names are unique); None for no value, Invalid naming
    `field` otherwise."""
    text = " ".join(str(value).split()) if value is not None else ""
    if not text or (text.isascii() and text.isdigit()):
        return row_by_id(session, Place, text or None, field, "place")
    matched = _LABEL.match(text)
    name, code = (matched["name"], matched["code"].upper()) if matched else (text, None)
    stmt = select(Place).where(func.lower(Place.name) == name.lower())
    if code:
        stmt = stmt.where(Place.country_code == code)
    found = list(session.scalars(stmt.order_by(Place.country_code, Place.id).limit(6)))
    if not found:
        raise Invalid(f"there is no place called {text!r} in the gazetteer (add it first, or pick one from "
                      "the list as you type)", field)
    if len(found) > 1:
        labels = ", ".join(dict.fromkeys(place_label(place) for place in found[:5]))
        raise Invalid(f"more than one place is called {text!r} ({labels}): type it with its country, or "
                      "pick it from the list as you type", field)
    return found[0]
