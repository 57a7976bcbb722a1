"""The demo journey: the route of demo.toml as places, border crossings, a journey of eight legs,
and the demo items linked to the legs and places they show.

The route's names and coordinates come from the [[route]] list of demo.toml; what the file does
not say (countries, kinds, other names, the other places and the crossings) is here. The
travellers are the fictional family of the field recordings. Everything is synthetic demo
material; coordinates are approximate.

Idempotent in the spirit of archive.demo.build: places, crossings and the journey are made when
missing and never overwritten, and an item is linked (and its GPS precision set) only while it
has no place and no leg yet, so a curator's later edits survive a re-run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import SYSTEM
from archive.models import (AccessLevel, BorderCrossing, Collection, CrossingKind, Item, Journey, LocationPrecision,
                            Place, PlaceKind, TravelMode)
from archive.services import Invalid
from archive.services.crossings import create_crossing
from archive.services.journeys import create_journey
from archive.services.legs import add_leg
from archive.services.locations import set_item_legs, set_item_location_precision, set_item_places
from archive.services.places import create_place

if TYPE_CHECKING:
    from archive.core import Archive
    from archive.demo.build import DemoData

DATA_FILE = Path(__file__).with_name("demo.toml")
JOURNEY_TITLE = "From Hyesan to Seoul: a family's route through south-east Asia (demo)"
FIELD_COLLECTION = "Crossings demo: field recordings (synthetic)"
TRAVELLERS = ("A family of five (fictional composites): a mother, a father, the grandfather, a teenage son and a "
              "young daughter, with guides of the River Lantern network (fictional)")
DESCRIPTION = ("Synthetic demo journey: the route of the field recordings, leg by leg, from Hyesan across the Yalu "
               "River into China, overland to the Vietnamese and Lao borders, across the Mekong into Thailand and "
               "by air to Seoul. The family, the guides and the network are invented; the geography is real and "
               "the coordinates approximate. Some places are published only approximately, as sensitive places "
               "would be.")


@dataclass(frozen=True)
class PlaceSpec:
    name: str
    country: str | None
    kind: PlaceKind
    lat: float | None = None  #: None for places of the route: demo.toml has their coordinates
    lon: float | None = None
    alt_names: tuple[str, ...] = ()
    parent: str = ""
    precision: LocationPrecision = LocationPrecision.exact
    description: str = ""


#: The route's places, in the order of demo.toml's [[route]] (which holds their coordinates).
ROUTE = (
    PlaceSpec("Hyesan", "KP", PlaceKind.city, alt_names=("혜산",)),
    PlaceSpec("Changbai", "CN", PlaceKind.town, alt_names=("长白", "장백")),
    PlaceSpec("Shenyang", "CN", PlaceKind.city, alt_names=("沈阳", "심양")),
    PlaceSpec("Kunming", "CN", PlaceKind.city, alt_names=("昆明",)),
    PlaceSpec("Hanoi", "VN", PlaceKind.city, alt_names=("Hà Nội",)),
    PlaceSpec("Vientiane", "LA", PlaceKind.city, alt_names=("ວຽງຈັນ",)),
    PlaceSpec("Chiang Saen", "TH", PlaceKind.town, alt_names=("เชียงแสน",)),
    PlaceSpec("Bangkok", "TH", PlaceKind.city, alt_names=("กรุงเทพมหานคร", "Krung Thep")),
    PlaceSpec("Seoul", "KR", PlaceKind.city, alt_names=("서울",)),
)

#: Places off the route: the works' other locations, the rivers, and the crossing points.
OTHERS = (
    PlaceSpec("Mount Paektu", None, PlaceKind.mountain, 42.00, 128.06, ("Changbai Mountain", "백두산", "长白山"),
              description="The volcano on the border of North Korea and China."),
    PlaceSpec("Sinuiju", "KP", PlaceKind.city, 40.10, 124.40, ("신의주",)),
    PlaceSpec("Dandong", "CN", PlaceKind.city, 40.13, 124.39, ("丹东", "단둥")),
    PlaceSpec("Yalu River", None, PlaceKind.river, 41.15, 126.30, ("압록강", "鸭绿江", "Amnok River"),
              description="The border river between North Korea and China, from Mount Paektu to the Yellow Sea."),
    PlaceSpec("Tumen River", None, PlaceKind.river, 42.95, 129.85, ("두만강", "图们江"),
              description="The border river between North Korea, China and Russia, east of Mount Paektu."),
    PlaceSpec("Korean Demilitarized Zone", None, PlaceKind.region, 38.00, 127.00, ("DMZ", "비무장지대"),
              description="The fortified strip between North and South Korea."),
    PlaceSpec("Mekong", None, PlaceKind.river, 20.35, 100.08, ("Mekong River", "แม่น้ำโขง", "ແມ່ນ້ຳຂອງ"),
              description="Here the border river between Laos and Thailand."),
    # The crossing points are inside the rivers crossed there, so a river's page lists the legs over it.
    PlaceSpec("Changbai landing", "CN", PlaceKind.crossing_point, 41.43, 128.19, parent="Yalu River",
              precision=LocationPrecision.km10,
              description="Where the family came ashore on the Chinese bank of the Yalu (synthetic demo place; "
                          "published to about 10 km)."),
    PlaceSpec("Lao Cai border area", "VN", PlaceKind.border_post, 22.50, 103.96, ("Lào Cai", "河口 Hekou"),
              description="The mountain border between Yunnan and northern Vietnam."),
    PlaceSpec("Cau Treo border post", "VN", PlaceKind.border_post, 18.39, 105.15, ("Cầu Treo", "Nam Phao"),
              description="The border post between Vietnam and Laos on Route 8."),
    PlaceSpec("Chiang Saen landing", "TH", PlaceKind.crossing_point, 20.29, 100.08, parent="Mekong",
              precision=LocationPrecision.region,
              description="Where the boat put in on the Thai bank of the Mekong (synthetic demo place; "
                          "published only as the Mekong's point)."),
    PlaceSpec("Suvarnabhumi Airport", "TH", PlaceKind.airport, 13.69, 100.75, ("ท่าอากาศยานสุวรรณภูมิ",)),
)

#: (crossing point, from, to, kind, notes); by the leg that uses each.
CROSSINGS = {
    1: ("Changbai landing", "KP", "CN", CrossingKind.river, "The Yalu, waded at night below Hyesan."),
    4: ("Lao Cai border area", "CN", "VN", CrossingKind.land, "On foot over forested ridges, away from the post."),
    5: ("Cau Treo border post", "VN", "LA", CrossingKind.land, "By night bus."),
    6: ("Chiang Saen landing", "LA", "TH", CrossingKind.river, "The Mekong, by longtail boat at night."),
    8: ("Suvarnabhumi Airport", "TH", "KR", CrossingKind.air, "A flight to Seoul after immigration detention."),
}

#: Per leg: date (EDTF), mode, precision of its stops, narrative (synthetic).
LEGS: dict[int, tuple[str, TravelMode, LocationPrecision, str]] = {
    1: ("2019-03-27/2019-03-28", TravelMode.river_crossing, LocationPrecision.km10,
        "Just after midnight the family wades the frozen edge of the Yalu below Hyesan, the grandfather "
        "last, and reaches the Chinese bank near Changbai. The first hideout is a farmhouse above the river."),
    2: ("2019-03-29/2019-03-30", TravelMode.hidden_transport, LocationPrecision.exact,
        "Two nights in the back of a van with no windows, from the border county to an apartment in Shenyang."),
    3: ("2019-04-05/2019-04-07", TravelMode.train, LocationPrecision.exact,
        "With borrowed papers, an overnight train and buses south-west across China to Kunming."),
    4: ("2019-04-10/2019-04-14", TravelMode.on_foot, LocationPrecision.exact,
        "Paths over the mountains into northern Vietnam with a guide, then a safe house in Hanoi."),
    5: ("2019-04-17~", TravelMode.bus, LocationPrecision.exact,
        "A night bus across the Lao border and on to Vientiane, where the family waits for the boatman's call."),
    6: ("2019-04-21/2019-04-24", TravelMode.boat, LocationPrecision.exact,
        "North along the Mekong, then across it by longtail boat at night to the Thai bank at Chiang Saen."),
    7: ("2019-04-24/2019-06-11", TravelMode.car, LocationPrecision.exact,
        "The family gives itself up to the Thai police as planned and is taken to immigration detention "
        "in Bangkok."),
    8: ("2019-06-12~", TravelMode.air, LocationPrecision.exact,
        "A flight from Bangkok to Seoul, and the first months of resettlement."),
}

#: Items linked beyond what their key ("legN-...") and GPS position say: key → (leg, place names).
EXTRA_LINKS: dict[str, tuple[int | None, tuple[str, ...]]] = {
    "leg1-yalu-night-crossing": (None, ("Yalu River", "Changbai landing")),
    "leg1-hyesan-far-bank": (None, ("Yalu River",)),
    "leg2-damaged-tape": (None, ("Changbai",)),
    "leg6-mekong-boat-night": (None, ("Mekong", "Chiang Saen landing")),
    "leg6-chiang-saen-first-light": (None, ("Mekong",)),
    "leg6-boat-still": (None, ("Mekong",)),
    "place-dandong-sinuiju": (None, ("Sinuiju", "Yalu River")),
    "escape-minefield-still": (None, ("Korean Demilitarized Zone",)),
    "interview-grandfather-yalu": (1, ("Yalu River",)),
    "interview-guide-hideouts": (2, ("Shenyang",)),
    "interview-volunteer-hanoi": (4, ("Hanoi",)),
    "interview-boatman-mekong": (6, ("Mekong",)),
    "interview-mother-detention": (7, ("Bangkok",)),
    "interview-caseworker-resettlement": (8, ("Seoul",)),
    "beyond-utopia-mekong-reference": (None, ("Mekong",)),
}

#: Items whose GPS position is published only approximately (hideouts, the crossing).
ITEM_PRECISION = {
    "leg1-yalu-night-crossing": LocationPrecision.km10,
    "leg1-changbai-first-hideout": LocationPrecision.km10,
    "leg2-shenyang-apartment": LocationPrecision.region,
    "leg4-hanoi-safe-house": LocationPrecision.region,
}


def load_route(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """demo.toml's [[route]]: name, lat, lon and (but for the start) the leg arriving there."""
    return tomllib.loads(path.read_text(encoding="utf-8"))["route"]


def add_demo_journey(archive: Archive, data: DemoData) -> list[tuple[str, str]]:
    """Add what is missing of the demo journey and link the demo items; return failures as (what, reason)."""
    try:
        with archive.session() as session:
            places = _places(session, load_route())
            legs = _journey(session, places)
            _link_items(session, data, places, legs)
    except Invalid as exc:
        return [("journey", f"{exc} (field {exc.field})")]
    return []


def _places(session: Session, route: list[dict[str, Any]]) -> dict[str, Place]:
    names = [entry["name"] for entry in route]
    if names != [spec.name for spec in ROUTE]:
        raise Invalid(f"demo.toml's route {names} does not match the demo journey's {[s.name for s in ROUTE]}",
                      "route")
    coordinates = {entry["name"]: (entry["lat"], entry["lon"]) for entry in route}
    places: dict[str, Place] = {}
    for spec in (*ROUTE, *OTHERS):
        lat, lon = coordinates.get(spec.name, (spec.lat, spec.lon))
        existing = session.scalar(select(Place).where(
            Place.name == spec.name,
            Place.country_code == spec.country if spec.country else Place.country_code.is_(None)))
        places[spec.name] = existing or create_place(
            session, SYSTEM, name=spec.name, latitude=lat, longitude=lon, kind=spec.kind, country=spec.country,
            alt_names=spec.alt_names, parent_id=places[spec.parent].id if spec.parent else None,
            description=spec.description, precision=spec.precision)
    return places


def _journey(session: Session, places: dict[str, Place]) -> dict[int, int]:
    """The journey, made with its legs and crossings when missing; leg number → leg id."""
    journey = session.scalar(select(Journey).where(Journey.title == JOURNEY_TITLE))
    if journey is None:
        collection_id = session.scalar(select(Collection.id).where(Collection.title == FIELD_COLLECTION))
        journey = create_journey(session, SYSTEM, title=JOURNEY_TITLE, travellers=TRAVELLERS, description=DESCRIPTION,
                                 access=AccessLevel.public, collection_id=collection_id)
        for number, (origin, destination) in enumerate(zip(ROUTE, ROUTE[1:]), start=1):
            date, mode, precision, narrative = LEGS[number]
            crossing = _crossing(session, places, *CROSSINGS[number]) if number in CROSSINGS else None
            add_leg(session, SYSTEM, journey.id, from_place_id=places[origin.name].id,
                    to_place_id=places[destination.name].id, date=date, mode=mode,
                    crossing_id=crossing.id if crossing else None, narrative=narrative, precision=precision)
        session.refresh(journey)
    return {leg.position: leg.id for leg in journey.legs}


def _crossing(session: Session, places: dict[str, Place], point: str, origin: str, destination: str,
              kind: CrossingKind, notes: str) -> BorderCrossing:
    place = places[point]
    existing = session.scalar(select(BorderCrossing).where(
        BorderCrossing.place_id == place.id, BorderCrossing.from_country == origin,
        BorderCrossing.to_country == destination))
    return existing or create_crossing(session, SYSTEM, place_id=place.id, from_country=origin,
                                       to_country=destination, kind=kind, notes=notes)


def _link_items(session: Session, data: DemoData, places: dict[str, Place], legs: dict[int, int]) -> None:
    from archive.demo.build import SOURCE_PREFIX  # build imports this module

    by_position = {(round(p.latitude, 4), round(p.longitude, 4)): p for p in places.values()}
    for spec in data.items:
        item = session.scalar(select(Item).where(Item.source == SOURCE_PREFIX + spec.key, Item.deleted_at.is_(None)))
        if item is None or item.places or item.legs:
            continue
        leg_number, extra = EXTRA_LINKS.get(spec.key, (None, ()))
        if spec.key.startswith("leg") and spec.key[3:4].isdigit():
            leg_number = int(spec.key[3:spec.key.index("-")])
        linked = [places[name] for name in extra]
        if spec.recipe.place is not None:
            shot_at = by_position.get((round(spec.recipe.place[0], 4), round(spec.recipe.place[1], 4)))
            if shot_at is not None:
                linked.insert(0, shot_at)
        set_item_places(session, SYSTEM, item.id, list(dict.fromkeys(place.id for place in linked)))
        if leg_number is not None and leg_number in legs:
            set_item_legs(session, SYSTEM, item.id, [legs[leg_number]])
        if spec.key in ITEM_PRECISION:
            set_item_location_precision(session, SYSTEM, item.id, ITEM_PRECISION[spec.key])
