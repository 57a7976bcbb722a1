"""The gaps report for archivists: what the journeys and the gazetteer still lack.

    gaps_report(session, viewer, *, journey_id=None) -> GapsReport     # editors only (NotFound for others)

It lists legs with no footage the viewer may see (neither items nor time ranges linked), legs
whose dates contradict the order of the legs, legs that change country without a border
crossing, breaks in a route (a leg starting where the previous one did not end), items with a
GPS position but no place, and places nothing mentions (no item, range, leg, crossing or place
inside them). Only journeys and items the viewer may see are looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from archive.access import Viewer, item_filter, journey_filter
from archive.models import (BorderCrossing, Item, Journey, Leg, MediaFile, Place, TimeRange, item_legs,
                            item_places)
from archive.services.place_fields import require_editor
from archive.services.places import PlaceView, to_view


@dataclass(frozen=True)
class LegIssue:
    """Something missing or contradictory about one leg."""
    journey_id: int
    journey_title: str
    leg_id: int
    position: int
    message: str


@dataclass
class GapsReport:
    legs_without_footage: list[LegIssue] = field(default_factory=list)
    date_conflicts: list[LegIssue] = field(default_factory=list)
    uncrossed_borders: list[LegIssue] = field(default_factory=list)
    route_breaks: list[LegIssue] = field(default_factory=list)
    items_without_place: list[Item] = field(default_factory=list)  #: with GPS, linked to no place
    unused_places: list[PlaceView] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.legs_without_footage, self.date_conflicts, self.uncrossed_borders, self.route_breaks,
                        self.items_without_place, self.unused_places))


def _date(value: date | None) -> str:
    return value.isoformat() if value else "?"


def _leg_issues(session: Session, viewer: Viewer, journeys: list[Journey], report: GapsReport) -> None:
    leg_ids = [leg.id for journey in journeys for leg in journey.legs]
    filmed = set(session.scalars(select(item_legs.c.leg_id).join(Item, Item.id == item_legs.c.item_id)
                                 .where(item_legs.c.leg_id.in_(leg_ids), item_filter(viewer))))
    filmed |= set(session.scalars(select(TimeRange.leg_id).join(Item, Item.id == TimeRange.item_id)
                                  .where(TimeRange.leg_id.in_(leg_ids), item_filter(viewer))))
    for journey in journeys:
        def issue(leg: Leg, message: str) -> LegIssue:
            return LegIssue(journey.id, journey.title, leg.id, leg.position, message)

        latest_start: tuple[date, Leg] | None = None  # the latest earliest-date among the legs before
        previous: Leg | None = None
        for leg in journey.legs:
            route = f"{leg.from_place.name} → {leg.to_place.name}"
            if leg.id not in filmed:
                report.legs_without_footage.append(issue(leg, f"no footage of leg {leg.position} ({route})"))
            if leg.date_upper is not None and latest_start is not None and leg.date_upper < latest_start[0]:
                earlier = latest_start[1]
                report.date_conflicts.append(issue(leg, (
                    f"leg {leg.position} ({leg.date}, by {_date(leg.date_upper)}) is dated before leg "
                    f"{earlier.position} ({earlier.date}, from {_date(earlier.date_lower)}) that comes earlier")))
            if leg.date_lower is not None and (latest_start is None or leg.date_lower > latest_start[0]):
                latest_start = (leg.date_lower, leg)
            origin, destination = leg.from_place.country_code, leg.to_place.country_code
            if origin and destination and origin != destination and leg.crossing_id is None:
                report.uncrossed_borders.append(issue(leg, (
                    f"leg {leg.position} ({route}) goes from {origin} into {destination} without a border crossing")))
            if previous is not None and previous.to_place_id != leg.from_place_id:
                report.route_breaks.append(issue(leg, (
                    f"leg {previous.position} ends at {previous.to_place.name} but leg {leg.position} starts at "
                    f"{leg.from_place.name}")))
            previous = leg


def gaps_report(session: Session, viewer: Viewer, *, journey_id: int | None = None) -> GapsReport:
    """What is missing, for archivists; with `journey_id`, the leg checks of that journey only."""
    require_editor(viewer, "the gaps report")
    report = GapsReport()
    stmt = select(Journey).where(journey_filter(viewer)).order_by(Journey.title, Journey.id).options(
        selectinload(Journey.legs).selectinload(Leg.from_place), selectinload(Journey.legs).selectinload(Leg.to_place))
    if journey_id is not None:
        stmt = stmt.where(Journey.id == journey_id)
    _leg_issues(session, viewer, list(session.scalars(stmt)), report)

    placed = or_(exists().where(item_places.c.item_id == Item.id),
                 exists().where(TimeRange.item_id == Item.id, TimeRange.place_id.is_not(None)))
    report.items_without_place = list(session.scalars(
        select(Item).where(item_filter(viewer), ~placed,
                           Item.media_files.any(MediaFile.latitude.is_not(None) & MediaFile.longitude.is_not(None)))
        .options(selectinload(Item.media_files)).order_by(Item.id)))

    child = aliased(Place)
    mentioned = or_(exists().where(item_places.c.place_id == Place.id),
                    exists().where(TimeRange.place_id == Place.id),
                    exists().where(or_(Leg.from_place_id == Place.id, Leg.to_place_id == Place.id)),
                    exists().where(BorderCrossing.place_id == Place.id),
                    exists().where(child.parent_id == Place.id))
    unused = session.scalars(select(Place).where(~mentioned).order_by(Place.name, Place.id)
                             .options(selectinload(Place.country), selectinload(Place.parent)))
    report.unused_places = [to_view(viewer, place) for place in unused]
    return report
