"""The index follows the database: outbox, after-commit sync, crash recovery, rebuild and check."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archive.access import ANONYMOUS, SYSTEM, Viewer, item_filter
from archive.core import Archive
from archive.models import (AccessLevel, Collection, Item, ItemKind, Role, SearchOutbox, Segment, Tag, Transcript,
                            TranscriptKind)
from archive.search import SearchRequest
from archive.services import search_sync
from archive.services.transcripts import import_transcript
from archive.settings import SettingsError

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Kim>We crossed the Yalu at night.\n"


@pytest.fixture
def settings(settings: dict[str, object], search_engine: str) -> dict[str, object]:
    """Each test once per stack (conftest.STACKS): search_engine is given by pytest_generate_tests."""
    return {**settings, "search_engine": search_engine}


def found(archive: Archive, q: str, viewer: Viewer = SYSTEM) -> list[int]:
    return sorted(i.item_id for i in archive.index.search(SearchRequest(q=q, per_page=100), viewer).items)


def add_item(archive: Archive, title: str, *, access: AccessLevel = AccessLevel.public,
             collection: str | None = None, tags: tuple[str, ...] = (), transcript: bytes | None = None) -> int:
    with archive.session() as session:
        coll = None
        if collection:
            coll = session.scalar(select(Collection).where(Collection.title == collection)) or Collection(title=collection)
        item = Item(title=title, kind=ItemKind.video, access=access, collection=coll,
                    tags=[session.scalar(select(Tag).where(Tag.name == t)) or Tag(name=t) for t in tags])
        session.add(item)
        session.flush()
        if transcript:
            import_transcript(session, item, transcript, "t.en.vtt")
        return item.id


def outbox(archive: Archive) -> int:
    with archive.Session() as session:
        return session.scalar(select(func.count(SearchOutbox.id))) or 0


def test_edits_reach_the_index_after_commit(archive: Archive) -> None:
    item_id = add_item(archive, "Bus to Kunming", collection="Route", tags=("bus",), transcript=VTT)
    assert found(archive, "kunming") == found(archive, "yalu") == found(archive, "tag:bus") == [item_id]
    with archive.session() as session:
        item = session.get(Item, item_id)
        item.title = "Boat to Vientiane"
        item.tags[0].name = "ferry"  # a renamed tag reaches every item carrying it
        session.get(Collection, item.collection_id).title = "Mekong route"
    assert found(archive, "kunming") == [] and found(archive, "vientiane") == [item_id]
    assert found(archive, "tag:ferry") == [item_id] and found(archive, "tag:bus") == []
    assert found(archive, "collection:mekong") == [item_id]
    with archive.session() as session:
        transcript = session.scalar(select(Transcript))
        transcript.segments[0].text = "We crossed the Mekong by boat."
    assert found(archive, "yalu") == [] and found(archive, '"mekong by boat"') == [item_id]
    assert outbox(archive) == 0
    assert search_sync.check_index(archive).clean


def test_deletes_trash_and_restore_follow(archive: Archive) -> None:
    keep = add_item(archive, "Hyesan riverbank", transcript=VTT)
    gone = add_item(archive, "Hyesan market")
    with archive.session() as session:
        session.get(Item, keep).deleted_at = datetime.now(timezone.utc)
    assert found(archive, "hyesan") == [gone] and found(archive, "yalu") == []
    with archive.session() as session:
        session.get(Item, keep).deleted_at = None
    assert found(archive, "hyesan") == sorted([gone, keep])
    with archive.session() as session:
        session.delete(session.get(Item, gone))
    assert found(archive, "hyesan") == [keep]
    with archive.session() as session:
        session.delete(session.scalar(select(Transcript)))
    assert found(archive, "yalu") == []
    assert search_sync.check_index(archive).clean


def test_access_changes_apply_at_once(archive: Archive) -> None:
    item_id = add_item(archive, "Testimony from Changbai", transcript=VTT)
    assert found(archive, "yalu", ANONYMOUS) == [item_id]
    with archive.session() as session:
        session.get(Item, item_id).access = AccessLevel.confidential
    assert found(archive, "yalu", ANONYMOUS) == []
    assert found(archive, "yalu", Viewer(Role.researcher)) == []
    assert found(archive, "yalu", SYSTEM) == [item_id]


def test_search_applies_the_same_access_rule_as_item_filter(archive: Archive) -> None:
    with archive.session() as session:
        granted, other = Collection(title="Granted"), Collection(title="Other")
        session.add_all([granted, other])
        session.flush()
        for access in AccessLevel:
            for coll in (granted, other, None):
                session.add(Item(title=f"Seoul {access.value}", kind=ItemKind.video, access=access, collection=coll))
        session.add(Item(title="Seoul trashed", kind=ItemKind.video, access=AccessLevel.public,
                         deleted_at=datetime.now(timezone.utc)))
        grant = granted.id
    viewers = [ANONYMOUS, Viewer(Role.researcher), Viewer(Role.researcher, frozenset({grant})),
               Viewer(Role.archivist, frozenset({grant})), SYSTEM]
    with archive.Session() as session:
        for viewer in viewers:
            expected = sorted(session.scalars(select(Item.id).where(item_filter(viewer))))
            assert found(archive, "seoul", viewer) == expected, viewer


def test_outbox_rows_are_written_in_the_transaction_and_rollback_queues_nothing(archive: Archive) -> None:
    archive.index_on_commit = False
    item_id = add_item(archive, "Quiet")
    with archive.Session() as session:
        assert session.scalars(select(SearchOutbox.object_id)).all() == [item_id]
    with pytest.raises(RuntimeError):
        with archive.session() as session:
            session.get(Item, item_id).title = "Loud"
            session.flush()
            raise RuntimeError("abandon")
    assert outbox(archive) == 1
    with archive.session() as session:
        session.get(Item, item_id).rights = "not searched"  # a field search does not show: nothing queued
    assert outbox(archive) == 1


def test_bulk_statements_are_queued(archive: Archive) -> None:
    a = add_item(archive, "Bangkok one")
    b = add_item(archive, "Bangkok two")
    with archive.session() as session:
        session.execute(update(Item).where(Item.id == a).values(title="Chiang Saen one"))
    assert found(archive, "bangkok") == [b] and found(archive, "chiang") == [a]
    with archive.session() as session:
        session.execute(delete(Item).where(Item.id == b))
    assert found(archive, "bangkok") == []


# The postgresql engine has no commit between the two: test_an_index_write_that_fails_undoes_the_change.
@pytest.mark.engines("whoosh")
def test_a_crash_between_commit_and_index_write_is_mended_by_check_fix(archive: Archive, runner,  # type: ignore[no-untyped-def]
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        search_engine: str) -> None:
    item_id = add_item(archive, "Seoul arrival", transcript=VTT)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(type(archive.index), "update", crash)
    with archive.session() as session:  # commits; the index write fails after it
        session.get(Item, item_id).title = "Incheon arrival"
        session.get(Item, item_id).access = AccessLevel.confidential
    monkeypatch.undo()
    assert outbox(archive) == 1
    assert found(archive, "incheon") == []
    result = runner.invoke(args=["index", "check"])
    assert result.exit_code == 1, result.output
    assert "indexed at an older version" in result.stderr and "not yet indexed" in result.stderr
    result = runner.invoke(args=["index", "check", "--fix"])
    assert result.exit_code == 0 and "mended" in result.stdout
    assert found(archive, "incheon") == [item_id] and found(archive, "yalu", ANONYMOUS) == []
    assert runner.invoke(args=["index", "check"]).exit_code == 0


def test_the_next_start_applies_what_a_crash_left_in_the_outbox(archive: Archive, settings) -> None:  # type: ignore[no-untyped-def]
    archive.index_on_commit = False  # as if the process died right after the commit
    item_id = add_item(archive, "Mekong ferry")
    assert found(archive, "mekong") == []
    reopened = Archive.open(settings)
    try:
        assert found(reopened, "mekong") == [item_id] and outbox(reopened) == 0
    finally:
        reopened.close()


def test_check_finds_drift_from_any_cause(archive: Archive) -> None:
    first = add_item(archive, "Vientiane one")
    second = add_item(archive, "Vientiane two")
    docs, _ = search_sync.load_item_docs(archive.Session(), [second])
    archive.index.update(delete_items=[first])  # lost
    with archive.session() as session:
        session.get(Item, second).deleted_at = datetime.now(timezone.utc)
    archive.index.update(docs)  # a trashed item back in the index
    report = search_sync.check_index(archive)
    assert report.missing == [first] and report.extra == [second] and not report.clean
    assert search_sync.check_index(archive, fix=True).fixed
    assert found(archive, "vientiane") == [first]



def test_only_the_archives_own_sessions_are_watched(archive: Archive) -> None:
    with Session(archive.engine) as session, session.begin():  # a script's own session: not the archive's
        session.add(Item(title="Dandong by night", kind=ItemKind.video, access=AccessLevel.public))
    assert outbox(archive) == 0 and found(archive, "dandong") == []
    assert len(search_sync.check_index(archive).missing) == 1  # what such a session bypasses, the check finds
    search_sync.keep_in_step(archive.Session)  # a second call must not queue every change twice
    archive.index_on_commit = False
    add_item(archive, "Dandong by day")
    assert outbox(archive) == 1

def test_index_rebuild_and_check_commands(archive: Archive, runner) -> None:  # type: ignore[no-untyped-def]
    ids = [add_item(archive, f"Shenyang {n}", transcript=VTT) for n in range(3)]
    archive.index.rebuild([], [])  # an empty index: everything is missing
    result = runner.invoke(args=["index", "check"])
    assert result.exit_code == 1 and "3 item(s) missing from the index" in result.stderr
    result = runner.invoke(args=["index", "rebuild"])
    assert result.exit_code == 0 and "indexed 3 items" in result.stdout
    assert found(archive, "shenyang") == ids
    result = runner.invoke(args=["index", "check"])
    assert result.exit_code == 0 and "in step" in result.stdout
    result = runner.invoke(args=["index", "search", "yalu"])
    assert result.exit_code == 0 and "<mark>Yalu</mark>" in result.stdout


def test_transcript_import_command_updates_the_index_before_returning(archive: Archive, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Changbai")
    path = tmp_path / "talk.ko.vtt"
    path.write_bytes(b"WEBVTT\n\n00:00:02.000 --> 00:00:05.000\n\xec\x84\x9c\xec\x9a\xb8\xec\x97\x90\xec\x84\x9c\n")
    result = runner.invoke(args=["transcripts", "import", str(item_id), str(path), "--kind", "subtitles"])
    assert result.exit_code == 0, result.output
    response = archive.index.search(SearchRequest(q="서울"), ANONYMOUS)
    assert [(i.item_id, i.hits[0].start) for i in response.items] == [(item_id, 2.0)]
    with archive.Session() as session:
        assert session.scalar(select(Transcript.kind)) is TranscriptKind.subtitles
        assert session.scalar(select(func.count(Segment.id))) == 1


# -- the postgresql engine: the index in the catalogue's own transaction ---------------------------

@pytest.fixture
def second_node(settings: dict[str, object], search_engine: str, tmp_path):  # type: ignore[no-untyped-def]
    """Another archive over the same database, with a data root of its own (another machine)."""
    other = Archive.open({**settings, "data": str(tmp_path / "node2")})
    yield other
    other.close()


@pytest.mark.engines("postgresql")  # only it shares one index between machines
def test_every_node_sees_a_change_at_once_without_an_outbox(archive: Archive, second_node: Archive) -> None:
    item_id = add_item(archive, "Ferry to Luang Prabang", transcript=VTT)
    assert found(second_node, "luang") == [item_id] and found(second_node, '"the yalu at night"') == [item_id]
    with second_node.session() as session:
        session.get(Item, item_id).access = AccessLevel.confidential
    assert found(archive, "luang", ANONYMOUS) == [] and found(archive, "luang", SYSTEM) == [item_id]
    assert outbox(archive) == 0 and search_sync.check_index(second_node).clean


@pytest.mark.engines("postgresql")  # only it shares one index between machines
def test_a_change_rolled_back_leaves_the_index_as_it_was(archive: Archive, second_node: Archive) -> None:
    item_id = add_item(archive, "Pakse market")
    with pytest.raises(RuntimeError):
        with archive.session() as session:
            session.get(Item, item_id).title = "Savannakhet market"
            session.flush()
            raise RuntimeError("abandon")
    assert found(second_node, "savannakhet") == [] and found(second_node, "pakse") == [item_id]
    assert outbox(archive) == 0


@pytest.mark.engines("postgresql")  # only it shares one index between machines
def test_an_index_write_that_fails_undoes_the_change(archive: Archive, second_node: Archive,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    item_id = add_item(archive, "Seoul arrival")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("no space left on the database's disk")

    monkeypatch.setattr(type(archive.index), "write", fail)
    with pytest.raises(OSError):
        with archive.session() as session:
            session.get(Item, item_id).title = "Incheon arrival"
    monkeypatch.undo()
    with archive.Session() as session:
        assert session.get(Item, item_id).title == "Seoul arrival"
    assert found(second_node, "seoul") == [item_id] and search_sync.check_index(archive).clean


@pytest.mark.engines("postgresql")  # only it shares one index between machines
def test_changes_made_during_a_rebuild_wait_in_the_outbox_and_follow_it(archive: Archive,
                                                                        second_node: Archive) -> None:
    first = add_item(archive, "Vinh harbour")
    with archive.index.lock():  # as a rebuild on another machine holds it
        second = add_item(second_node, "Vinh station")
        assert outbox(archive) == 1
    search_sync.sync_index(archive)
    assert found(archive, "vinh") == [first, second] and outbox(archive) == 0


def test_the_postgresql_engine_is_refused_on_a_sqlite_catalogue(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="'search_engine' is 'postgresql'.*but 'database_url' is a sqlite database"):
        Archive.open({"data": str(tmp_path / "d"), "search_engine": "postgresql"})
