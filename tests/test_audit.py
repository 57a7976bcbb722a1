"""The audit trail records every change with who, what, and old and new values."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Role, Viewer
from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, Item, ItemKind, User
from archive.services import audit, editing

ARCHIVIST = Viewer(role=Role.archivist, user_id=None, name="mina")


def _item(archive: Archive) -> int:
    with archive.session(ARCHIVIST) as session:
        item = Item(title="Yalu at dusk", kind=ItemKind.video, access=AccessLevel.public)
        session.add(item)
        session.flush()
        return item.id


def _entries(archive: Archive) -> list[AuditEntry]:
    with archive.Session() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_create_and_edit_are_recorded_with_old_and_new_values(archive: Archive) -> None:
    item_id = _item(archive)
    with archive.session(ARCHIVIST) as session:
        item = session.get(Item, item_id)
        editing.update_item(session, item, title="Yalu at night", date_shot="2019-04~")
        editing.set_item_tags(session, item, ["night", "river crossing"])
    entries = [e for e in _entries(archive) if e.object_type == "item"]
    create, edit, tags = entries
    assert (create.action, create.actor, create.object_id) == ("create", "mina", item_id)
    assert create.changes["title"] == [None, "Yalu at dusk"]
    assert edit.action == "edit"
    assert edit.changes == {"title": ["Yalu at dusk", "Yalu at night"], "date_shot": ["", "2019-04~"]}
    assert tags.changes == {"tags": [[], ["night", "river crossing"]]}


def test_access_change_delete_and_restore_have_their_own_actions(archive: Archive) -> None:
    item_id = _item(archive)
    with archive.session(ARCHIVIST) as session:
        session.get(Item, item_id).access = AccessLevel.confidential
    with archive.session(ARCHIVIST) as session:
        session.get(Item, item_id).deleted_at = datetime.now(timezone.utc)
    with archive.session(ARCHIVIST) as session:
        session.get(Item, item_id).deleted_at = None
    actions = [e.action for e in _entries(archive)]
    assert actions == ["create", "access", "delete", "restore"]


def test_labelled_changes_share_a_batch(archive: Archive) -> None:
    first, second = _item(archive), _item(archive)
    with archive.session(ARCHIVIST) as session:
        with audit.labelled(session, "bulk_edit", batch=True) as batch:
            for item_id in (first, second):
                session.get(Item, item_id).access = AccessLevel.restricted
    bulk = [e for e in _entries(archive) if e.action == "bulk_edit"]
    assert [e.object_id for e in bulk] == [first, second]
    assert {e.batch for e in bulk} == {batch} and batch


def test_password_hashes_never_reach_the_log(archive: Archive) -> None:
    with archive.session() as session:
        session.add(User(username="ana", password_hash="scrypt:secret", role=Role.researcher))
    with archive.session() as session:
        session.scalars(select(User)).one().password_hash = "scrypt:other"
    for entry in _entries(archive):
        assert "secret" not in str(entry.changes) and "other" not in str(entry.changes)
    assert _entries(archive)[-1].changes == {"password_hash": ["(old)", "(changed)"]}
    assert _entries(archive)[0].actor == "system"


def test_history_and_csv_export(archive: Archive) -> None:
    item_id = _item(archive)
    with archive.session(ARCHIVIST) as session:
        session.add(Collection(title="Field tapes"))
        editing.update_item(session, session.get(Item, item_id), title="Renamed")
    with archive.Session() as session:
        assert [e.action for e in audit.history(session, "item", item_id)] == ["edit", "create"]
        entries, total = audit.find_entries(session, audit.AuditQuery(object_type="collection"))
        assert total == 1 and entries[0].object_label == "Field tapes"
        rows = list(csv.DictReader(io.StringIO("".join(audit.export_csv(session, audit.AuditQuery(user="mina"))))))
    renamed = [r for r in rows if r["field"] == "title" and r["action"] == "edit"]
    assert renamed and renamed[0]["old"] == '"Yalu at dusk"' and renamed[0]["new"] == '"Renamed"'


def test_ingest_is_recorded_as_the_acting_user(archive: Archive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from archive.services.ingest import IngestOptions, ingest_paths
    Image.new("RGB", (64, 48), "teal").save(tmp_path / "a.jpg")
    report = ingest_paths(archive, [tmp_path / "a.jpg"], IngestOptions(collection="Uploads", actor=ARCHIVIST))
    assert report.ok
    entries = _entries(archive)
    assert {(e.action, e.object_type, e.actor) for e in entries} == {("ingest", "item", "mina"),
                                                                     ("ingest", "collection", "mina")}


def test_entries_name_the_rows_they_join_not_their_ids(archive: Archive, client, login) -> None:  # type: ignore[no-untyped-def]
    from archive.access import SYSTEM
    from archive.services import crossings, journeys, legs, places
    from archive.services.editing.people import add_credit, get_or_create_person
    from archive.services.ranges import add_range

    item_id = _item(archive)
    with archive.session() as session:
        hyesan = places.create_place(session, SYSTEM, name="Hyesan", latitude=41.40, longitude=128.18, country="KP")
        landing = places.create_place(session, SYSTEM, name="Changbai landing", latitude=41.41, longitude=128.19,
                                      country="CN")
        crossing = crossings.create_crossing(session, SYSTEM, place_id=landing.id, from_country="KP",
                                             to_country="CN", kind="river")
        journey = journeys.create_journey(session, SYSTEM, title="Route")
        legs.add_leg(session, SYSTEM, journey.id, from_place_id=hyesan.id, to_place_id=landing.id,
                     crossing_id=crossing.id)
        item = session.get(Item, item_id)
        add_credit(session, get_or_create_person(session, "Kim Soon-ja"), "camera", item=item)
        add_range(session, item, start=1, end=2.5, tag_name="river crossing")
        places.edit_place(session, SYSTEM, landing.id, parent_id=hyesan.id)
    labels = {e.object_type: e.object_label for e in _entries(archive) if e.action == "create"}
    assert labels["crossing"] == "Changbai landing (KP→CN)"
    assert labels["leg"] == "leg 1 of Route: Hyesan → Changbai landing"
    assert labels["credit"] == "Kim Soon-ja, camera of Yalu at dusk"
    assert labels["range"] == "river crossing 1–2.5 s of Yalu at dusk"

    # The log shows the rows that *_id changes point at by name.
    login("admin")
    html = client.get("/admin/log?type=leg").get_data(as_text=True)
    assert "Changbai landing" in html and "Hyesan" in html and "place 2 (gone)" not in html
    moved = client.get(f"/admin/log?type=place&id={landing.id}").get_data(as_text=True)
    assert "Hyesan" in moved and f"parent {hyesan.id}" not in moved
    ranges = client.get("/admin/log?type=range").get_data(as_text=True)
    assert "Yalu at dusk" in ranges and "tag 1 (gone)" not in ranges


def test_only_the_archives_own_sessions_are_audited_and_each_change_once(archive: Archive) -> None:
    """The Archive wires the audit log to its sessionmaker; a session of its own making elsewhere
    (a script's, another archive's) writes nothing to this log, and wiring twice records once."""
    audit.record_changes(archive.Session)
    item_id = _item(archive)
    with Session(archive.engine) as stranger, stranger.begin():
        stranger.get(Item, item_id).title = "Changed outside the archive"
    assert [e.action for e in _entries(archive)] == ["create"]
