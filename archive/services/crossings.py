"""Border crossings: the places where people cross from one country into another.

Reading (every viewer; a crossing is as visible as its crossing point):
    list_crossings(session, viewer, *, country=None, place_id=None) -> list[CrossingView]
        # country: in or out of it; place_id: at the place or inside it
    crossing_view(session, viewer, crossing_id) -> CrossingView

Writing (editors only; others get NotFound):
    create_crossing(session, viewer, *, place_id, from_country, to_country, kind, notes="") -> BorderCrossing
    edit_crossing(session, viewer, crossing_id, *, <the same fields, each optional>) -> Changes
    delete_crossing(session, viewer, crossing_id) -> str   # refused while a leg uses it

Rules: the two countries differ; the crossing point lies in one of them (or in none, for a
river); an edit that would no longer match the places of a leg using the crossing is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, place_filter
from archive.models import BorderCrossing, CrossingKind, Leg, LocationPrecision, Place
from archive.services import Invalid, NotFound, counted, saving_version
from archive.services.editing import fields as f
from archive.services.editing.fields import KEEP, Changes, Keep
from archive.services.place_fields import (country_code, journey_named, place_and_inside, place_by_reference,
                                           require_editor)
from archive.services.places import PlaceView, to_view


@dataclass(frozen=True)
class CrossingView:
    """A border crossing as one viewer may see it; `place.position` is the published one."""
    id: int
    place: PlaceView
    from_country: str
    to_country: str
    kind: CrossingKind
    notes: str

    @property
    def label(self) -> str:
        return f"{self.place.name} ({self.from_country}→{self.to_country})"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "place": self.place.as_json(), "from_country": self.from_country,
                "to_country": self.to_country, "kind": self.kind.value, "notes": self.notes}


def crossing_to_view(viewer: Viewer, crossing: BorderCrossing, *,
                     at_least: LocationPrecision = LocationPrecision.exact) -> CrossingView:
    """The view of a crossing whose point the caller has checked `viewer` may see."""
    return CrossingView(crossing.id, to_view(viewer, crossing.place, at_least=at_least), crossing.from_country,
                        crossing.to_country, crossing.kind, crossing.notes)


def _visible(viewer: Viewer) -> Any:
    return (select(BorderCrossing).join(Place, Place.id == BorderCrossing.place_id).where(place_filter(viewer))
            .options(selectinload(BorderCrossing.place).selectinload(Place.country),
                     selectinload(BorderCrossing.place).selectinload(Place.parent)))


def list_crossings(session: Session, viewer: Viewer, *, country: str | None = None,
                   place_id: int | None = None) -> list[CrossingView]:
    """Crossings whose point `viewer` may see, by countries then place; `country` keeps those into or out of it,
    `place_id` those at the place or at a place inside it."""
    stmt = _visible(viewer)
    if place_id is not None:
        stmt = stmt.where(BorderCrossing.place_id.in_(place_and_inside(session, place_id)))
    if country:
        code = country_code(country)
        stmt = stmt.where(or_(BorderCrossing.from_country == code, BorderCrossing.to_country == code))
    rows = session.scalars(stmt.order_by(BorderCrossing.from_country, BorderCrossing.to_country, Place.name))
    return [crossing_to_view(viewer, crossing) for crossing in rows]


def crossing_view(session: Session, viewer: Viewer, crossing_id: int) -> CrossingView:
    crossing = session.scalar(_visible(viewer).where(BorderCrossing.id == crossing_id))
    if crossing is None:
        raise NotFound(f"border crossing {crossing_id}")
    return crossing_to_view(viewer, crossing)


def _point(session: Session, value: int | str) -> int:
    place = place_by_reference(session, value, "place_id")
    if place is None:
        raise Invalid("give the place where the border is crossed", "place_id")
    return place.id


def _checked(session: Session, crossing: BorderCrossing | None, given: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "place_id": partial(_point, session),
        "from_country": partial(country_code, field="from_country", required=True),
        "to_country": partial(country_code, field="to_country", required=True),
        "kind": partial(f.choice, CrossingKind, field="kind"),
        "notes": partial(f.text, field="notes"),
    }
    values = f.validated({name: partial(checks[name], value) for name, value in given.items() if value is not KEEP})

    def final(name: str) -> Any:
        return values[name] if name in values else getattr(crossing, name)

    origin, destination = final("from_country"), final("to_country")
    if origin == destination:
        raise Invalid(f"a crossing goes from one country into another, not from {origin} into {origin}",
                      "to_country")
    place = session.get(Place, final("place_id"))
    if place.country_code is not None and place.country_code not in (origin, destination):
        raise Invalid(f"the crossing point {place.name} is in {place.country_code}, on neither side of "
                      f"{origin}→{destination}", "place_id")
    return values


def create_crossing(session: Session, viewer: Viewer, *, place_id: int | str, from_country: str, to_country: str,
                    kind: CrossingKind | str, notes: str = "") -> BorderCrossing:
    """A new border crossing at an existing place."""
    require_editor(viewer, "border crossings")
    values = _checked(session, None, dict(place_id=place_id, from_country=from_country,
                                                  to_country=to_country, kind=kind, notes=notes))
    crossing = BorderCrossing(**values)
    session.add(crossing)
    session.flush()
    return crossing


def get_editable_crossing(session: Session, viewer: Viewer, crossing_id: int) -> BorderCrossing:
    """The crossing row itself: for editors' forms only (NotFound for others)."""
    require_editor(viewer, f"border crossing {crossing_id}")
    crossing = session.get(BorderCrossing, crossing_id)
    if crossing is None:
        raise NotFound(f"border crossing {crossing_id}")
    return crossing


def edit_crossing(session: Session, viewer: Viewer, crossing_id: int, *, place_id: int | str | Keep = KEEP,
                  from_country: str | Keep = KEEP, to_country: str | Keep = KEEP,
                  kind: CrossingKind | str | Keep = KEEP, notes: str | Keep = KEEP,
                  expected_version: int | str | None = None) -> Changes:
    """Change the given fields; refused when a leg using the crossing would no longer match it, or
    (Stale) when the form was of another version than `expected_version`."""
    crossing = get_editable_crossing(session, viewer, crossing_id)
    values = _checked(session, crossing, dict(place_id=place_id, from_country=from_country,
                                                      to_country=to_country, kind=kind, notes=notes))
    origin = values.get("from_country", crossing.from_country)
    destination = values.get("to_country", crossing.to_country)
    for leg in session.scalars(select(Leg).where(Leg.crossing_id == crossing.id)
                               .options(selectinload(Leg.journey), selectinload(Leg.from_place),
                                        selectinload(Leg.to_place))):
        if (leg.from_place.country_code, leg.to_place.country_code) != (origin, destination):
            raise Invalid(f"leg {leg.position} of {journey_named(viewer, leg.journey)} uses this crossing and goes from "
                          f"{leg.from_place.country_code or 'no country'} into "
                          f"{leg.to_place.country_code or 'no country'}", "from_country")
    with saving_version(crossing, "crossing", expected_version):
        changes = f.apply_changes(crossing, values)
        session.flush()
    session.expire(crossing, ["place"])
    return changes


def delete_crossing(session: Session, viewer: Viewer, crossing_id: int) -> str:
    """Delete a crossing no leg uses; return its label."""
    crossing = get_editable_crossing(session, viewer, crossing_id)
    legs = session.scalars(select(Leg).where(Leg.crossing_id == crossing.id)
                           .options(selectinload(Leg.journey)).order_by(Leg.journey_id, Leg.position)).all()
    label = crossing.label
    if legs:
        named = "; ".join(f"{journey_named(viewer, leg.journey)} leg {leg.position}" for leg in legs[:5])
        raise Invalid(f"the crossing {label} is used by {counted(len(legs), 'leg')} ({named}); "
                      "remove it from them first", "delete")
    session.delete(crossing)
    session.flush()
    return label
