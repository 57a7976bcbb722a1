"""The demo archive built by `crossings demo`: its content rules, and that it is idempotent."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import archive.demo
from archive.access import ANONYMOUS, SYSTEM, Role, Viewer
from archive.app import create_app
from archive.core import Archive
from archive.search import SearchRequest
from archive.demo import build as demo_build
from archive.demo import build_demo, load_demo
from archive.demo.build import DATA_FILE, SOURCE_PREFIX, TRANSCRIPTS_FILE, DemoDataError
from archive.demo.journey import ITEM_PRECISION
from archive.models import (AccessLevel, Collection, Credit, Item, ItemKind, Job, LocationPrecision, MediaFile, Person,
                            Segment, Tag, Transcript, item_tags)

#: Real, private people of the films: they may appear only in Beyond Utopia's factual synopsis.
PRIVATE_NAMES = ("Roh", "Lee Soyeon", "Soyeon", "Kwon Hyo-jin")


def _settings(root: Path) -> dict[str, object]:
    return {"data": str(root), "secret_key": "test"}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The real demo, built once per test run: under xdist the first worker builds, the others wait."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    root, done = shared / "demo-archive", shared / "demo-archive.json"
    with open(shared / "demo-archive.lock", "w") as lock, pytest.MonkeyPatch.context() as mp:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            for name in list(os.environ):
                if name.startswith("CROSSINGS_"):
                    mp.delenv(name)
            demo = Archive.open(_settings(root))
            try:
                report = build_demo(demo)
            finally:
                demo.close()
            done.write_text(json.dumps({"created": report.created, "failed": report.failed,
                                        "seconds": report.seconds}))
    return root


@pytest.fixture
def first_run(demo_root: Path) -> dict:
    return json.loads((demo_root.parent / "demo-archive.json").read_text())


@pytest.fixture
def db(demo_root: Path) -> Iterator[Session]:
    demo = Archive.open(_settings(demo_root))
    with demo.Session() as session:
        yield session
    demo.close()


def _items(db: Session) -> list[Item]:
    return list(db.scalars(select(Item).options(selectinload(Item.media_files), selectinload(Item.tags),
                                                selectinload(Item.credits).selectinload(Credit.person))))


def _counts(db: Session) -> dict[str, int]:
    return {model.__name__: db.scalar(select(func.count()).select_from(model)) or 0
            for model in (Item, MediaFile, Collection, Credit, Person, Tag, Job, Transcript, Segment)} | {
        "item_tags": db.scalar(select(func.count()).select_from(item_tags)) or 0}


# -- the data file --------------------------------------------------------------------------

def test_demo_data_lives_in_the_package() -> None:
    assert DATA_FILE.parent == Path(archive.demo.__file__).parent
    assert DATA_FILE.is_file()


def test_load_demo_refuses_real_people_in_item_credits(tmp_path: Path) -> None:
    text = DATA_FILE.read_text(encoding="utf-8").replace(
        'credits = [{ name = "Noi (fictional)", role = "camera" }]',
        'credits = [{ name = "Lee Je-hoon", role = "camera" }]', 1)
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DemoDataError, match="Lee Je-hoon.*not declared fictional"):
        load_demo(path)


def test_load_demo_names_the_item_with_a_bad_date(tmp_path: Path) -> None:
    text = DATA_FILE.read_text(encoding="utf-8").replace('date = "2019-03-28~"', 'date = "spring 2019"', 1)
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DemoDataError, match="leg1-yalu-night-crossing"):
        load_demo(path)


# -- the built archive ----------------------------------------------------------------------

@pytest.mark.slow
def test_demo_builds_every_item_without_failures(first_run: dict, db: Session) -> None:
    assert first_run["failed"] == []
    assert len(first_run["created"]) == len(load_demo().items) >= 30
    assert db.scalar(select(func.count(Item.id))) == len(first_run["created"])


@pytest.mark.slow
def test_every_item_says_it_is_synthetic(db: Session) -> None:
    for item in _items(db):
        assert "synthetic" in item.description.lower(), item.title
        assert item.source.startswith(SOURCE_PREFIX), item.title
        assert "synthetic" in item.rights.lower(), item.title
        assert item.title and item.creator, item.title


@pytest.mark.slow
def test_demo_has_every_kind_and_mixed_access_with_a_public_majority(db: Session) -> None:
    items = _items(db)
    kinds = Counter(item.kind for item in items)
    access = Counter(item.access for item in items)
    # every kind of media (catalogued records, which have none, come from imports, not from the demo)
    assert all(kinds[kind] >= 1 for kind in ItemKind if kind is not ItemKind.catalogued)
    assert access[AccessLevel.restricted] >= 1 and access[AccessLevel.confidential] >= 1
    assert access[AccessLevel.public] > len(items) / 2


@pytest.mark.slow
def test_demo_follows_the_defaults_where_its_data_names_no_level(db: Session) -> None:
    """Access levels come from demo.toml; GPS precisions from the journey's list, else the
    default_location_precision setting (km10), as for anything else added to the archive."""
    specs = {SOURCE_PREFIX + spec.key: spec for spec in load_demo().items}
    for item in _items(db):
        spec = specs[item.source]
        assert item.access is spec.access, item.title
        assert item.location_precision is ITEM_PRECISION.get(spec.key, LocationPrecision.km10), item.title


@pytest.mark.slow
def test_demo_dates_are_edtf_and_some_uncertain(db: Session) -> None:
    items = _items(db)
    assert all(item.date_shot and item.date_lower and item.date_upper for item in items)
    uncertain = [item.date_shot for item in items if re.search(r"[~?%X/]", item.date_shot)]
    assert len(uncertain) >= 5


@pytest.mark.slow
def test_demo_stills_carry_their_gps_position(db: Session) -> None:
    places = {f"{SOURCE_PREFIX}{spec.key}": spec.recipe.place for spec in load_demo().items
              if spec.recipe.type == "still" and spec.recipe.place}
    stills = [item for item in _items(db) if item.source in places]
    assert len(stills) >= 10
    for item in stills:
        lat, lon = places[item.source]
        assert item.media.latitude == pytest.approx(lat, abs=1e-3), item.title
        assert item.media.longitude == pytest.approx(lon, abs=1e-3), item.title
    assert any(item.media.rotation == 90 for item in stills)  # the one shot sideways


@pytest.mark.slow
def test_demo_collections_carry_the_works_credits(db: Session) -> None:
    collections = {c.title: c for c in db.scalars(select(Collection).options(
        selectinload(Collection.credits).selectinload(Credit.person)))}
    assert sum(1 for c in collections.values() if c.credits) >= 2
    credits = {title: {(cr.person.name, cr.role) for cr in c.credits} for title, c in collections.items()}
    assert ("Madeleine Gavin", "director") in credits["Beyond Utopia"]
    assert ("Lee Jong-pil", "director") in credits["Escape"]
    assert {"Lee Je-hoon", "Koo Kyo-hwan", "Hong Xa-bin"} <= {name for name, _ in credits["Escape"]}
    assert (collections["Escape"].year, collections["Beyond Utopia"].year) == (2024, 2023)


@pytest.mark.slow
def test_demo_items_name_no_real_person(db: Session) -> None:
    real = set(PRIVATE_NAMES) | {name for name in db.scalars(
        select(Person.name).join(Credit).where(Credit.collection_id.is_not(None)))
        if "(fictional)" not in name}
    assert {"Kim Seung-eun", "Madeleine Gavin"} <= real
    for item in _items(db):
        text = " ".join([item.title, item.description, item.creator, *(t.name for t in item.tags)])
        for name in real:
            assert not re.search(rf"\b{re.escape(name)}\b", text), f"{name!r} in item {item.title!r}"
        assert all("(fictional)" in credit.person.name for credit in item.credits), item.title
    synopsis = db.scalar(select(Collection.synopsis).where(Collection.title == "Beyond Utopia"))
    assert "Roh family" in synopsis and "Lee Soyeon" in synopsis  # the works' factual synopsis may


@pytest.mark.slow
def test_demo_queues_proxies_for_footage_browsers_cannot_play(db: Session) -> None:
    not_web_ready = [item for item in _items(db) if item.kind is ItemKind.video and not item.media.web_ready]
    assert {item.media.original_name.rsplit(".", 1)[1] for item in not_web_ready} >= {"mkv", "avi"}
    queued = set(db.scalars(select(Job.item_id).where(Job.kind == "make_proxy")))
    assert {item.id for item in not_web_ready} <= queued


@pytest.mark.slow
def test_second_demo_run_creates_nothing_and_says_so(demo_root: Path) -> None:
    app = create_app(_settings(demo_root))
    try:
        demo = app.extensions["crossings"]
        with demo.Session() as session:
            before = _counts(session)
        result = app.test_cli_runner().invoke(args=["demo"])
        with demo.Session() as session:
            after = _counts(session)
    finally:
        app.extensions["crossings"].close()
    assert result.exit_code == 0, result.output
    assert "already complete" in result.stdout
    assert after == before


# -- transcripts ----------------------------------------------------------------------------

@pytest.fixture
def demo(demo_root: Path) -> Iterator[Archive]:
    opened = Archive.open(_settings(demo_root))
    yield opened
    opened.close()


def _transcripts(db: Session) -> list[Transcript]:
    return list(db.scalars(select(Transcript).options(selectinload(Transcript.segments), selectinload(
        Transcript.item).selectinload(Item.media_files))))


@pytest.mark.parametrize("old, new, message", [
    ("00:00:29.500", "00:00:31.000", r"'leg6-mekong-boat-night' in 'ko'.*ends at 31 s, after the clip's 30 s"),
    ("<v Noi (fictional)>", "<v Noi>", r"line \d+: the speaker 'Noi' is not marked \(fictional\)"),
    ("00:00:04.500 -->", "00:00:04,500 -->", r"leg1-yalu-night-crossing.*line 5: broken timestamp '00:00:04,500'"),
    ("00:00:04.500 -->", "00:00:03.500 -->", r"line 5: starts at 3.5 s, while the clip is still dark \(4 s\)"),
])
def test_load_demo_checks_the_transcripts(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = TRANSCRIPTS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "transcripts.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DemoDataError, match=message):
        load_demo(transcripts=path)


def test_load_demo_refuses_a_transcript_of_a_still(tmp_path: Path) -> None:
    path = tmp_path / "transcripts.toml"
    path.write_text('[[transcripts]]\nitem = "leg1-hyesan-far-bank"\nlanguage = "en"\nkind = "transcript"\n'
                    'vtt = """WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Noi (fictional)>A still.\n"""\n',
                    encoding="utf-8")
    with pytest.raises(DemoDataError, match="'leg1-hyesan-far-bank' is not the key of a video or audio item"):
        load_demo(transcripts=path)


@pytest.mark.slow
def test_demo_clips_carry_time_coded_transcripts_in_korean_english_and_chinese(db: Session) -> None:
    transcripts = _transcripts(db)
    languages: dict[int, set[str]] = {}
    for transcript in transcripts:
        languages.setdefault(transcript.item_id, set()).add(transcript.language)
    videos = {t.item_id for t in transcripts if t.item.kind is ItemKind.video}
    assert len([i for i in videos if {"ko", "en"} <= languages[i]]) >= 5
    assert any(language.startswith("zh") for found in languages.values() for language in found)
    assert {t.item.access for t in transcripts} == set(AccessLevel)  # public ones, and a confidential one
    for transcript in transcripts:
        where = f"{transcript.item.title} ({transcript.language})"
        assert len(transcript.segments) >= 3, where
        duration = transcript.item.media.duration
        assert all(0 <= s.start_sec < s.end_sec <= duration for s in transcript.segments), where
        assert all(s.speaker.endswith("(fictional)") for s in transcript.segments), where
        text = " ".join(s.text for s in transcript.segments)
        assert not any(re.search(rf"\b{re.escape(name)}\b", text) for name in PRIVATE_NAMES), where


@pytest.mark.slow
def test_demo_transcripts_are_searchable_at_their_second_by_what_anonymous_may_see(demo: Archive) -> None:
    with demo.Session() as session:
        by_key = {source[len(SOURCE_PREFIX):]: item_id
                  for item_id, source in session.execute(select(Item.id, Item.source))}
        boat = session.scalars(select(Segment).join(Transcript).where(
            Transcript.item_id == by_key["leg6-mekong-boat-night"], Transcript.language == "en",
            Segment.text.contains("wide"))).one()

    def found(query: str, viewer: Viewer = ANONYMOUS) -> dict[int, list[float]]:
        response = demo.index.search(SearchRequest(q=query), viewer)
        return {item.item_id: [hit.start for hit in item.hits] for item in response.items}

    assert found('"Mekong was this wide"') == {by_key["leg6-mekong-boat-night"]: [boat.start_sec]}
    assert by_key["leg3-overnight-train"] in found("湄公河")
    assert {by_key["leg6-mekong-boat-night"], by_key["interview-grandfather-yalu"]} <= set(found("압록강"))
    assert by_key["leg5-night-bus-laos"] in found("broker")
    # Said only in the confidential hideout and the restricted crossing: not for anonymous visitors.
    assert found("safehouse") == {} and found("shallowest") == {}
    assert set(found("safehouse", SYSTEM)) == {by_key["leg1-changbai-first-hideout"]}
    assert set(found("shallowest", Viewer(role=Role.researcher))) == {by_key["leg1-yalu-night-crossing"]}
    # Searchable by place: the public footage linked to a place in Laos, by the country's name or code.
    from archive.models import Place, item_places
    with demo.Session() as session:
        in_laos = set(session.scalars(select(Item.id).join(item_places).join(Place).where(
            Place.country_code == "LA", Item.access == AccessLevel.public, Place.access == AccessLevel.public)))
    assert in_laos and in_laos <= set(found("country:laos")) == set(found("country:LA"))


@pytest.mark.slow
def test_demo_crossed_ranks_what_is_said_or_titled_above_the_demo_boilerplate(demo: Archive) -> None:
    """Every demo item holds "crossings" (its notice, creator, collection). Items matching only in
    that boilerplate come last, and items matching only in their description's own text come after
    every item whose title says the word or whose transcript has a hit for it."""
    from archive.search import analysis
    cross = analysis.stem("crossed", "en")

    def says(text: str) -> bool:
        return cross in analysis.stems_of(analysis.words(text), "en")

    response = demo.index.search(SearchRequest(q="crossed", per_page=100), ANONYMOUS)
    with demo.Session() as session:
        items = {i.id: i for i in session.scalars(select(Item).options(selectinload(Item.tags)))}
    said, described_only, boilerplate_only = [], [], []
    for rank, hit in enumerate(response.items):
        item = items[hit.item_id]
        own_description = (item.description or "").split("Synthetic demo material")[0]
        if hit.hits or says(item.title):
            said.append(rank)
        elif says(own_description) and not any(says(t.name) for t in item.tags):
            described_only.append(rank)
        elif not says(own_description) and not any(says(t.name) for t in item.tags):
            boilerplate_only.append(rank)
    assert response.total_items == len(response.items) > 20 and len(said) >= 3 and boilerplate_only
    assert max(said) < min(described_only, default=len(response.items)), [i.title for i in response.items]
    others = [rank for rank in range(len(response.items)) if rank not in boilerplate_only]
    assert max(others) < min(boilerplate_only), [i.title for i in response.items]


# -- an interrupted build --------------------------------------------------------------------

def test_interrupted_demo_build_is_completed_without_duplicates(archive: Archive,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    full = load_demo()
    small = dataclasses.replace(full, items=tuple(spec for spec in full.items if spec.key in
                                                   ("leg1-hyesan-far-bank", "interview-volunteer-hanoi")))
    describe = demo_build._describe
    calls = []

    def crash_after_first(*args, **kwargs):  # the process dies after one item was described
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        describe(*args, **kwargs)

    monkeypatch.setattr(demo_build, "_describe", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        build_demo(archive, data=small)
    monkeypatch.setattr(demo_build, "_describe", describe)

    report = build_demo(archive, data=small)
    again = build_demo(archive, data=small)
    with archive.Session() as session:
        items = session.scalars(select(Item)).all()
        assert sorted(item.source for item in items) == sorted(SOURCE_PREFIX + spec.key for spec in small.items)
    assert (len(report.created), len(report.present), report.failed) == (1, 1, [])
    assert (again.created, len(again.present)) == ([], 2)


# -- the demo journey (issue 5) --------------------------------------------------------------

@pytest.mark.slow
def test_demo_journey_has_eight_legs_five_crossings_and_its_countries(db: Session) -> None:
    from archive.models import BorderCrossing, Journey, Place
    from archive.services.journeys import journey_view
    from archive.services.places import place_view

    journey = db.scalars(select(Journey)).one()
    view = journey_view(db, ANONYMOUS, journey.id)
    assert journey.access is AccessLevel.public and "(fictional)" in view.travellers
    assert [leg.position for leg in view.legs] == list(range(1, 9))
    assert [(leg.crossing.from_country, leg.crossing.to_country, leg.crossing.kind.value)
            for leg in view.legs if leg.crossing] == [("KP", "CN", "river"), ("CN", "VN", "land"),
                                                      ("VN", "LA", "land"), ("LA", "TH", "river"),
                                                      ("TH", "KR", "air")]
    assert db.scalar(select(func.count(BorderCrossing.id))) == 5
    assert view.countries_of_transit == ["KP", "CN", "VN", "LA", "TH", "KR"]
    assert all(leg.footage for leg in journey_view(db, SYSTEM, journey.id).legs)  # items linked to every leg
    assert sum(1 for leg in view.legs if leg.footage) >= 6  # and public ones to most
    landing = db.scalar(select(Place).where(Place.name == "Changbai landing"))
    shown = place_view(db, ANONYMOUS, landing.id).position
    assert shown.coarsened and shown.latlon != (landing.latitude, landing.longitude)
    assert place_view(db, SYSTEM, landing.id).position.latlon == (landing.latitude, landing.longitude)
    assert {"Mount Paektu", "Sinuiju", "Dandong", "Tumen River", "Korean Demilitarized Zone"} <= set(
        db.scalars(select(Place.name)))


@pytest.mark.slow
def test_demo_rivers_list_the_legs_and_crossings_over_them(db: Session) -> None:
    from archive.models import Place
    from archive.services.crossings import list_crossings
    from archive.services.journeys import legs_at_place

    for river, leg, point in (("Mekong", 6, "Chiang Saen landing"), ("Yalu River", 1, "Changbai landing")):
        place_id = db.scalar(select(Place.id).where(Place.name == river))
        assert [found.position for _, found in legs_at_place(db, ANONYMOUS, place_id)] == [leg]
        assert [c.place.name for c in list_crossings(db, ANONYMOUS, place_id=place_id)] == [point]
