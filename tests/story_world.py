"""A small public journey for the story package's tests: three legs, one at km10 precision through a
place whose exact position must never leave, public footage (a video with a real proxy and captions, a
still) and footage that must not travel (a restricted video, a public video without a proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind
from archive.services import journeys, legs, locations, places
from archive.services.transcripts import import_transcript
from mediagen import make_video
from test_web import add_item, put_bytes

#: The exact position of the hideout, published to about 10 km: no file of a package may hold it.
HIDEOUT = (41.401234, 128.181234)
CAPTION = "We cross the river at night (synthetic demo caption)"
VTT = f"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nGUIDE: {CAPTION}\n\n00:00:01.500 --> 00:00:03.000\nKeep to the stones\n"


def build_story_world(archive: Archive, work: Path) -> dict[str, Any]:
    """The journey and its items; returns their ids and the original bytes that must stay out."""
    clip = make_video(work / "proxy.mp4", duration=3.0)
    original = b"ORIGINAL-BYTES-OF-THE-CLIP " * 40
    with archive.session() as session:
        hideout = places.create_place(session, SYSTEM, name="Riverside hideout", latitude=HIDEOUT[0],
                                      longitude=HIDEOUT[1], country="KP", precision="km10").id
        changbai = places.create_place(session, SYSTEM, name="Changbai", latitude=41.42, longitude=128.20,
                                       country="CN").id
        shenyang = places.create_place(session, SYSTEM, name="Shenyang", latitude=41.80, longitude=123.43,
                                       country="CN").id
        kunming = places.create_place(session, SYSTEM, name="Kunming", latitude=25.04, longitude=102.71,
                                      country="CN").id
        journey = journeys.create_journey(session, SYSTEM, title="Across the Yalu (synthetic)",
                                          travellers="A family of five (fictional)", access="public")
        first = legs.add_leg(session, SYSTEM, journey.id, from_place_id=hideout, to_place_id=changbai,
                             date="2019-03-28", mode="river_crossing", precision="km10",
                             narrative="A night crossing of the river (synthetic).")
        second = legs.add_leg(session, SYSTEM, journey.id, from_place_id=changbai, to_place_id=shenyang,
                              date="2019-03-29/2019-03-30", mode="hidden_transport")
        third = legs.add_leg(session, SYSTEM, journey.id, from_place_id=shenyang, to_place_id=kunming,
                             date="2019-04-05/2019-04-07", mode="train")
        journey_id, leg_ids = journey.id, [first.id, second.id, third.id]
        hidden = journeys.create_journey(session, SYSTEM, title="MARK-restricted-journey", access="restricted")
        legs.add_leg(session, SYSTEM, hidden.id, from_place_id=changbai, to_place_id=shenyang)
        hidden_id = hidden.id
    video = add_item(archive, "River at night", kind=ItemKind.video, content=original,
                     original_name="SECRET-ORIGINAL-NAME.mov", derivatives=("grid", "page", "proxy"),
                     rights="CC BY-NC 4.0 (synthetic demo)", creator="Escape network camera (fictional)",
                     date_shot="2019-03-28", location_precision="exact")
    still = add_item(archive, "The station", kind=ItemKind.still, rights="Public domain (synthetic demo)")
    restricted = add_item(archive, "MARK-restricted-title", kind=ItemKind.video, access=AccessLevel.restricted,
                          derivatives=("grid", "page", "proxy"))
    unplayable = add_item(archive, "Waiting for its proxy", kind=ItemKind.video, derivatives=("grid", "page"))
    with archive.session() as session:
        proxy = session.get(Item, video).media.derivative("proxy")
        put_bytes(archive, proxy.path, clip.read_bytes())  # a proxy a browser really plays
        proxy.size = clip.stat().st_size
        import_transcript(session, session.get(Item, video), VTT.encode(), "river.en.vtt", language="en")
        for item_id, leg_id in ((video, leg_ids[0]), (restricted, leg_ids[0]), (still, leg_ids[1]),
                                (unplayable, leg_ids[2])):
            locations.link_item_leg(session, SYSTEM, item_id, leg_id)
        sha = session.get(Item, video).media.sha256
    return {"journey": journey_id, "hidden_journey": hidden_id, "legs": leg_ids, "video": video, "still": still,
            "restricted": restricted, "unplayable": unplayable, "original": original, "sha256": sha}
