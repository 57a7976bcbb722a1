"""The legs of a journey: adding, editing, removing and reordering them (editors only).

    add_leg(session, viewer, journey_id, *, from_place_id, to_place_id, date="", mode="other",
            crossing_id=None, narrative="", precision="exact", position=None) -> Leg
    edit_leg(session, viewer, leg_id, *, <the same fields but position, each optional>) -> Changes
    delete_leg(session, viewer, leg_id) -> int            # the journey's id
    move_leg(session, viewer, leg_id, step) -> Leg         # step -1 is up, +1 down; the ends stop it
    set_leg_order(session, viewer, journey_id, leg_ids) -> list[Leg]
    get_editable_leg(session, viewer, leg_id) -> Leg

Positions are 1, 2, 3... without gaps after every change. Rules, refused with Invalid naming the
field: a leg goes from one place to another; its date is EDTF; its border crossing, if any,
goes from the country of its start into the country of its end. A leg that changes country
without a crossing, and dates that contradict the order of the legs, are allowed: the gaps
report (archive.services.gaps) lists them for an archivist to look into.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, journey_filter
from archive.dates import parse_date
from archive.models import BorderCrossing, Journey, Leg, LocationPrecision, Place, TravelMode
from archive.services import Invalid, NotFound, saving_version
from archive.services.editing import fields as f
from archive.services.editing.fields import KEEP, NAME_MAX, Changes, Keep
from archive.services.journeys import get_editable_journey
from archive.services.place_fields import place_by_reference, precision_value, require_editor, row_by_id


def visible_leg(session: Session, viewer: Viewer, leg_id: int) -> Leg | None:
    """The leg with its journey, when `viewer` may see the journey; None otherwise."""
    return session.scalar(select(Leg).join(Journey).where(Leg.id == leg_id, journey_filter(viewer))
                          .options(selectinload(Leg.journey)))


def get_editable_leg(session: Session, viewer: Viewer, leg_id: int) -> Leg:
    """The leg row, for editors' forms (NotFound for others and for legs of hidden journeys)."""
    require_editor(viewer, f"leg {leg_id}")
    leg = visible_leg(session, viewer, leg_id)
    if leg is None:
        raise NotFound(f"leg {leg_id}")
    return leg


def _place(session: Session, value: int | str, field: str) -> Place:
    place = place_by_reference(session, value, field)
    if place is None:
        raise Invalid(f"give the place the leg {'starts' if field == 'from_place_id' else 'ends'} at", field)
    return place


def _crossing(session: Session, value: int | str | None) -> BorderCrossing | None:
    return row_by_id(session, BorderCrossing, value, "crossing_id", "border crossing")


def _date(value: str) -> Any:
    try:
        return parse_date(f.text(value, "date", limit=NAME_MAX))
    except ValueError as exc:
        raise Invalid(str(exc), "date") from exc


def _where(place: Place) -> str:
    return f"{place.name} ({place.country_code or 'no country'})"


def check_crossing(crossing: BorderCrossing, origin: Place, destination: Place) -> None:
    """Invalid unless `crossing` goes from the country of `origin` into the country of `destination`."""
    if (crossing.from_country, crossing.to_country) != (origin.country_code, destination.country_code):
        raise Invalid(f"the crossing {crossing.place.name} goes from {crossing.from_country} into "
                      f"{crossing.to_country}, but this leg goes from {_where(origin)} to {_where(destination)}",
                      "crossing_id")


def _leg_values(session: Session, leg: Leg | None, given: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "from_place": partial(_place, session, field="from_place_id"),
        "to_place": partial(_place, session, field="to_place_id"),
        "date": _date,
        "mode": partial(f.choice, TravelMode, field="mode", default=TravelMode.other),
        "crossing": partial(_crossing, session),
        "narrative": lambda v: f.text(v, "narrative"),
        "precision": precision_value,
    }
    values = f.validated({name: partial(checks[name], value) for name, value in given.items() if value is not KEEP})

    def final(name: str) -> Any:
        return values[name] if name in values else getattr(leg, name)

    origin, destination, crossing = final("from_place"), final("to_place"), final("crossing")
    if origin.id == destination.id:
        raise Invalid(f"a leg goes from one place to another, not from {origin.name} to itself", "to_place_id")
    if crossing is not None:
        check_crossing(crossing, origin, destination)
    return values


def _apply(leg: Leg, values: dict[str, Any]) -> Changes:
    bounds = values.pop("date", None)
    if bounds is not None:
        values["date"] = bounds.text
    changes: Changes = {}
    for name, value in values.items():
        old = getattr(leg, name)
        if old is not value and old != value:
            label = name + "_id" if name in ("from_place", "to_place", "crossing") else name
            changes[label] = ((old.id if old is not None else None, value.id if value is not None else None)
                              if label != name else (old, value))
            setattr(leg, name, value)
    if bounds is not None:
        leg.date_lower, leg.date_upper = bounds.lower, bounds.upper
    return changes


def _renumber(session: Session, ordered: Sequence[Leg]) -> None:
    """Give `ordered` the positions 1, 2, 3...; through negatives, since (journey, position) is unique
    and the database checks it row by row."""
    moving = [(number, leg) for number, leg in enumerate(ordered, start=1) if leg.position != number]
    if not moving:
        return
    for number, leg in moving:
        leg.position = -number
    session.flush()
    for number, leg in moving:
        leg.position = number
    session.flush()


def _ordered(session: Session, journey_id: int) -> list[Leg]:
    return list(session.scalars(select(Leg).where(Leg.journey_id == journey_id).order_by(Leg.position, Leg.id)))


def add_leg(session: Session, viewer: Viewer, journey_id: int, *, from_place_id: int | str, to_place_id: int | str,
            date: str = "", mode: TravelMode | str = TravelMode.other, crossing_id: int | str | None = None,
            narrative: str = "", precision: LocationPrecision | str = LocationPrecision.exact,
            position: int | None = None) -> Leg:
    """A new leg at `position` (1 is first; the later legs move down), at the end by default."""
    journey = get_editable_journey(session, viewer, journey_id)
    values = _leg_values(session, None, dict(from_place=from_place_id, to_place=to_place_id, date=date, mode=mode,
                                             crossing=crossing_id, narrative=narrative, precision=precision))
    legs = _ordered(session, journey.id)
    if position is None:
        position = len(legs) + 1
    elif isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= len(legs) + 1:
        raise Invalid(f"position must be a whole number from 1 to {len(legs) + 1}, not {position!r}", "position")
    leg = Leg(journey=journey, position=len(legs) + 1, narrative="")
    _apply(leg, values)
    session.add(leg)
    session.flush()
    legs.insert(position - 1, leg)
    _renumber(session, legs)
    session.expire(journey, ["legs"])
    return leg


def edit_leg(session: Session, viewer: Viewer, leg_id: int, *, from_place_id: int | str | Keep = KEEP,
             to_place_id: int | str | Keep = KEEP, date: str | Keep = KEEP, mode: TravelMode | str | Keep = KEEP,
             crossing_id: int | str | None | Keep = KEEP, narrative: str | Keep = KEEP,
             precision: LocationPrecision | str | Keep = KEEP, expected_version: int | str | None = None) -> Changes:
    """Change the given fields (all or none); return {field: (old, new)} of those that changed.
    With `expected_version`, a save from a form of another version is refused (Stale)."""
    leg = get_editable_leg(session, viewer, leg_id)
    values = _leg_values(session, leg, dict(from_place=from_place_id, to_place=to_place_id, date=date, mode=mode,
                                            crossing=crossing_id, narrative=narrative, precision=precision))
    with saving_version(leg, "leg", expected_version):
        changes = _apply(leg, values)
        session.flush()
    return changes


def delete_leg(session: Session, viewer: Viewer, leg_id: int) -> int:
    """Remove a leg (its places, crossing and footage stay; links to it go); the later legs move up."""
    leg = get_editable_leg(session, viewer, leg_id)
    journey = leg.journey
    session.delete(leg)
    session.flush()
    _renumber(session, _ordered(session, journey.id))
    session.expire(journey, ["legs"])
    return journey.id


def move_leg(session: Session, viewer: Viewer, leg_id: int, step: int) -> Leg:
    """Move a leg `step` places earlier (negative) or later; the ends of the journey stop it."""
    leg = get_editable_leg(session, viewer, leg_id)
    legs = _ordered(session, leg.journey_id)
    index = legs.index(leg)
    legs.insert(max(0, min(len(legs) - 1, index + step)), legs.pop(index))
    _renumber(session, legs)
    session.expire(leg.journey, ["legs"])
    return leg


def set_leg_order(session: Session, viewer: Viewer, journey_id: int, leg_ids: Sequence[int]) -> list[Leg]:
    """Put the journey's legs in the order of `leg_ids`, which must name each of them once."""
    journey = get_editable_journey(session, viewer, journey_id)
    legs = {leg.id: leg for leg in _ordered(session, journey.id)}
    try:
        wanted = [int(leg_id) for leg_id in leg_ids]
    except (TypeError, ValueError):
        raise Invalid("the order must list leg ids", "order") from None
    if sorted(wanted) != sorted(legs):
        raise Invalid(f"the order must name each of the journey's {len(legs)} legs once "
                      f"(legs {', '.join(map(str, sorted(legs)))})", "order")
    ordered = [legs[leg_id] for leg_id in wanted]
    _renumber(session, ordered)
    session.expire(journey, ["legs"])
    return ordered
