"""The trash: archivists move items there, admins restore them or empty it; nothing goes in one click."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import SYSTEM, Role, Viewer
from archive.core import Archive
from archive.models import (AccessLevel, AuditEntry, Collection, Credit, Derivative, Item, ItemKind, Job, JobState,
                            MediaFile)
from archive.services import NotFound, trash
from conftest import csrf_token, log_in
from test_web import add_item, text

ADMIN = Viewer(role=Role.admin, user_id=None, name="root")


def _post(client: FlaskClient, path: str, data: dict | None = None, *, token: bool = True):  # type: ignore[no-untyped-def]
    form = dict(data or {})
    if token:
        form["csrf_token"] = csrf_token(client, "/")
    return client.post(path, data=form)


def _client(app: Flask, make_user, role: str | None, **kwargs) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role:
        log_in(client, make_user(role, **kwargs))
    return client


def _sha(archive: Archive, item_id: int) -> str:
    with archive.Session() as session:
        return session.scalar(select(MediaFile.sha256).where(MediaFile.item_id == item_id))


def _stored(archive: Archive, sha: str) -> tuple[Path, Path]:
    return (archive.data_root / archive.store.original_relpath(sha),
            archive.data_root / archive.store.derivative_reldir(sha))


def _entries(archive: Archive, action: str) -> list[AuditEntry]:
    with archive.Session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                             AuditEntry.object_type == "item")
                                    .order_by(AuditEntry.id)))


def _trash(archive: Archive, *item_ids: int) -> None:
    with archive.session() as session:
        trash.move_to_trash(session, SYSTEM, item_ids)


def _visible_everywhere(client: FlaskClient, item_id: int, title: str) -> dict[str, bool]:
    """Where the item shows for this client: its page, API record, files, and the listings."""
    return {
        "page": client.get(f"/items/{item_id}").status_code == 200,
        "api": client.get(f"/api/items/{item_id}").status_code == 200,
        "thumbnail": client.get(f"/items/{item_id}/thumbs/grid").status_code == 200,
        "original": client.get(f"/items/{item_id}/original").status_code == 200,
        "api list": item_id in {i["id"] for i in client.get("/api/items").get_json()["items"]},
        "home": title in text(client.get("/")),
        "browse": title in text(client.get("/items")),
    }


# -- moving to the trash ----------------------------------------------------------------------

def test_archivist_moves_an_item_to_the_trash_and_it_vanishes_for_everyone(app: Flask, archive: Archive,
                                                                           make_user) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Night crossing", collection="Beyond Utopia")
    add_item(archive, "Other clip", collection="Escape")
    archivist = make_user("archivist", "mina")
    clients = {"anonymous": app.test_client(), "researcher": _client(app, make_user, "researcher"),
               "admin": _client(app, make_user, "admin")}
    clients["archivist"] = app.test_client()
    log_in(clients["archivist"], archivist)
    assert all(_visible_everywhere(clients["anonymous"], item_id, "Night crossing").values())

    response = _post(clients["archivist"], f"/items/{item_id}/delete")

    assert response.status_code == 302 and response.headers["Location"] == "/items"
    for who, client in clients.items():
        seen = _visible_everywhere(client, item_id, "Night crossing")
        assert not any(seen.values()), (who, seen)
        # Its collection held nothing else, so it is gone too (with its count).
        assert client.get(f"/collections/{_collection_id(archive, 'Beyond Utopia')}").status_code == 404, who
        assert "Beyond Utopia" not in text(client.get("/")), who
    [entry] = _entries(archive, "delete")
    assert (entry.object_id, entry.actor) == (item_id, "mina") and entry.user_id is not None
    with archive.Session() as session:
        item = session.get(Item, item_id)
        assert item.deleted_at is not None and item.deleted_by_id == entry.user_id


def _collection_id(archive: Archive, title: str) -> int:
    with archive.Session() as session:
        return session.scalar(select(Collection.id).where(Collection.title == title))


def test_item_page_offers_move_to_trash_to_archivists_and_admins_only(app: Flask, archive: Archive,
                                                                      make_user) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    form = f'action="/items/{item_id}/delete"'
    for role, offered in ((None, False), ("researcher", False), ("archivist", True), ("admin", True)):
        html = text(_client(app, make_user, role).get(f"/items/{item_id}"))
        assert (form in html) is offered, role
        if offered:  # behind a disclosure: a second click confirms, and no script is needed
            assert '<details class="trash-disclosure">' in html


def test_move_to_trash_without_csrf_token_is_refused(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    login("archivist")

    response = _post(client, f"/items/{item_id}/delete", token=False)

    assert response.status_code == 400
    assert client.get(f"/items/{item_id}").status_code == 200


def test_researcher_cannot_move_to_trash_and_anonymous_is_sent_to_log_in(app: Flask, archive: Archive,
                                                                         make_user) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    researcher = _client(app, make_user, "researcher")
    assert _post(researcher, f"/items/{item_id}/delete").status_code == 404

    anonymous = app.test_client()
    response = anonymous.post(f"/items/{item_id}/delete", data={"csrf_token": csrf_token(anonymous)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert anonymous.get(f"/items/{item_id}").status_code == 200
    assert _entries(archive, "delete") == []


def test_archivist_cannot_trash_what_they_may_not_see(archive: Archive, app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    secret = add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Private")
    client = _client(app, make_user, "archivist")

    assert _post(client, f"/items/{secret}/delete").status_code == 404
    with archive.Session() as session:
        assert session.get(Item, secret).deleted_at is None


def test_move_to_trash_is_all_or_nothing(archive: Archive) -> None:
    visible = add_item(archive, "Open")
    secret = add_item(archive, "Secret", access=AccessLevel.confidential)
    archivist = Viewer(role=Role.archivist, name="mina")

    with pytest.raises(NotFound, match=str(secret)), archive.session(archivist) as session:
        trash.move_to_trash(session, archivist, [visible, secret])

    with archive.Session() as session:
        assert session.scalars(select(Item.deleted_at)).all() == [None, None]


# -- who sees the trash -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["researcher", "archivist"])
def test_only_admins_see_restore_or_empty_the_trash(app: Flask, archive: Archive, make_user, role: str) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    _trash(archive, item_id)
    client = _client(app, make_user, role)

    assert client.get("/trash").status_code == 404
    assert _post(client, "/trash/restore", {"item": item_id}).status_code == 404
    assert _post(client, "/trash/empty", {"item": item_id, "confirm": "yes"}).status_code == 404
    assert 'href="/trash"' not in text(client.get("/"))
    with archive.Session() as session:
        assert session.get(Item, item_id).deleted_at is not None


def test_anonymous_visitors_are_sent_to_log_in_for_the_trash(client: FlaskClient) -> None:
    response = client.get("/trash")

    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/trash"


def test_trash_lists_items_with_who_deleted_them_and_when(app: Flask, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    first = add_item(archive, "Broker phone call", access=AccessLevel.confidential, collection="Calls")
    add_item(archive, "Still here")
    mina = _client(app, make_user, "archivist", username="mina", grants=(_collection_id(archive, "Calls"),))
    _post(mina, f"/items/{first}/delete")
    admin = _client(app, make_user, "admin")

    html = text(admin.get("/trash"))

    assert "Broker phone call" in html and "Still here" not in html
    assert re.search(r"UTC</time><br><span class=\"muted\">by</span> mina", html)
    assert 'href="/trash" aria-current="page">Trash</a>' in html
    assert f'name="item" value="{first}"' in html


def test_empty_trash_page_says_so(client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    login("admin")

    assert "The trash is empty." in text(client.get("/trash"))


# -- restoring --------------------------------------------------------------------------------

def test_restore_brings_the_item_back_everywhere(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Night crossing", collection="Beyond Utopia")
    _trash(archive, item_id)
    login("admin")

    response = _post(client, "/trash/restore", {"item": item_id})

    assert response.status_code == 302 and response.headers["Location"] == "/trash"
    assert "Restored 1 item: “Night crossing”." in text(client.get("/trash"))
    anonymous = client.application.test_client()
    assert all(_visible_everywhere(anonymous, item_id, "Night crossing").values())
    [entry] = _entries(archive, "restore")
    assert entry.object_id == item_id and entry.changes["deleted_at"][1] is None


def test_restore_many_at_once_in_one_batch(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    ids = [add_item(archive, f"Clip {n}") for n in range(3)]
    _trash(archive, *ids)
    login("admin")

    client.post("/trash/restore", data={"item": ids[:2], "csrf_token": csrf_token(client, "/")})

    with archive.Session() as session:
        assert {i: session.get(Item, i).deleted_at is None for i in ids} == {ids[0]: True, ids[1]: True,
                                                                            ids[2]: False}
    restored = _entries(archive, "restore")
    assert sorted(e.object_id for e in restored) == ids[:2]
    assert restored[0].batch and restored[0].batch == restored[1].batch


def test_restore_without_a_selection_changes_nothing(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    _trash(archive, add_item(archive, "Clip"))
    login("admin")

    response = _post(client, "/trash/restore")

    assert response.status_code == 302
    assert "Tick the items to restore first." in text(client.get("/trash"))
    assert _entries(archive, "restore") == []


# -- emptying ---------------------------------------------------------------------------------

def test_emptying_asks_for_confirmation_first(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    ids = [add_item(archive, "First"), add_item(archive, "Second")]
    _trash(archive, *ids)
    login("admin")

    response = _post(client, "/trash/empty", {"scope": "all"})

    html = text(response)
    assert response.status_code == 200
    assert "Delete 2 items for good?" in html and "2 stored files" in html
    assert "First" in html and "Second" in html
    assert 'name="confirm" value="yes"' in html
    assert all(f'type="hidden" name="item" value="{i}"' in html for i in ids)
    with archive.Session() as session:
        assert session.scalar(select(Item.id).where(Item.id.in_(ids))) is not None
    assert all(_stored(archive, _sha(archive, i))[0].exists() for i in ids)


def test_confirmed_empty_purges_rows_and_stored_files(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Gone", credits=(("Kim", "camera"),), derivatives=("grid", "page", "proxy"),
                       jobs=(("make_proxy", JobState.failed, "boom"), ("make_proxy", JobState.done, "")))
    kept = add_item(archive, "Kept")
    sha = _sha(archive, item_id)
    _trash(archive, item_id)
    login("admin")

    response = _post(client, "/trash/empty", {"item": item_id, "confirm": "yes"})

    assert response.status_code == 302
    assert "Deleted 1 item for good and removed 1 stored file." in text(client.get("/trash"))
    with archive.Session() as session:
        assert [i.id for i in session.scalars(select(Item))] == [kept]
        assert [m.item_id for m in session.scalars(select(MediaFile))] == [kept]
        assert {d.media_file.item_id for d in session.scalars(select(Derivative))} == {kept}
        assert session.scalars(select(Credit)).all() == [] and session.scalars(select(Job)).all() == []
    original, derivatives = _stored(archive, sha)
    assert not original.exists() and not derivatives.exists()
    assert _stored(archive, _sha(archive, kept))[0].exists()
    [entry] = _entries(archive, "purge")
    assert (entry.object_id, entry.object_label) == (item_id, "Gone")


def test_emptying_selected_items_keeps_the_rest_of_the_trash(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    gone, stays = add_item(archive, "Gone"), add_item(archive, "Stays in the trash")
    _trash(archive, gone, stays)
    login("admin")

    confirm = text(_post(client, "/trash/empty", {"item": gone}))
    assert "Delete 1 item for good?" in confirm and "Stays in the trash" not in confirm
    _post(client, "/trash/empty", {"item": gone, "confirm": "yes"})

    with archive.Session() as session:
        assert [i.id for i in session.scalars(select(Item))] == [stays]


def test_confirmed_empty_deletes_only_what_the_confirmation_listed(client: FlaskClient, archive: Archive,
                                                                   login) -> None:  # type: ignore[no-untyped-def]
    listed = add_item(archive, "Listed")
    _trash(archive, listed)
    login("admin")
    confirm = text(_post(client, "/trash/empty", {"scope": "all"}))
    ids = re.findall(r'type="hidden" name="item" value="(\d+)"', confirm)
    late = add_item(archive, "Trashed after the confirmation page")
    _trash(archive, late)

    # Even a forged "everything" must name its items once confirmed.
    assert _post(client, "/trash/empty", {"scope": "all", "confirm": "yes"}).status_code == 400
    _post(client, "/trash/empty", {"item": ids, "confirm": "yes"})

    with archive.Session() as session:
        assert [i.id for i in session.scalars(select(Item))] == [late]


def test_confirmed_empty_of_an_item_restored_meanwhile_deletes_nothing(client: FlaskClient, archive: Archive,
                                                                       login) -> None:  # type: ignore[no-untyped-def]
    first, restored = add_item(archive, "First"), add_item(archive, "Restored meanwhile")
    _trash(archive, first, restored)
    login("admin")
    with archive.session() as session:
        trash.restore(session, SYSTEM, [restored])

    response = _post(client, "/trash/empty", {"item": [first, restored], "confirm": "yes"})

    assert response.status_code == 302
    assert "nothing was deleted" in text(client.get("/trash"))
    with archive.Session() as session:
        assert len(session.scalars(select(Item)).all()) == 2


def test_empty_without_csrf_token_is_refused(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    _trash(archive, item_id)
    login("admin")

    assert _post(client, "/trash/empty", {"item": item_id, "confirm": "yes"}, token=False).status_code == 400
    assert _post(client, "/trash/restore", {"item": item_id}, token=False).status_code == 400
    with archive.Session() as session:
        assert session.get(Item, item_id).deleted_at is not None


def test_files_stay_when_the_purge_is_not_committed(client: FlaskClient, archive: Archive, login,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    sha = _sha(archive, item_id)
    _trash(archive, item_id)
    login("admin")
    token = csrf_token(client, "/")

    def failing_commit(self: Session) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        client.post("/trash/empty", data={"item": item_id, "confirm": "yes", "csrf_token": token})
    monkeypatch.undo()

    assert all(path.exists() for path in _stored(archive, sha))
    with archive.Session() as session:
        assert session.get(Item, item_id).deleted_at is not None


def test_files_of_a_checksum_recorded_again_are_kept(archive: Archive) -> None:
    item_id = add_item(archive, "First copy", content=b"the same bytes" * 10)
    sha = _sha(archive, item_id)
    _trash(archive, item_id)
    with archive.session() as session:
        purged = trash.empty_trash(session, SYSTEM, [item_id])
    assert purged.checksums == [sha]
    # Between the commit and the removal, the same file is catalogued anew.
    add_item(archive, "Second copy", content=b"the same bytes" * 10)

    with archive.Session() as session:
        removed = trash.remove_unused_files(session, archive.store, purged.checksums)

    assert removed == [] and all(path.exists() for path in _stored(archive, sha))


def test_files_being_ingested_are_kept(archive: Archive) -> None:
    item_id = add_item(archive, "Clip")
    sha = _sha(archive, item_id)
    _trash(archive, item_id)
    with archive.session() as session:
        purged = trash.empty_trash(session, SYSTEM, [item_id])

    with archive.store.intent(sha), archive.Session() as session:
        assert trash.remove_unused_files(session, archive.store, purged.checksums) == []
    with archive.Session() as session:
        assert trash.remove_unused_files(session, archive.store, purged.checksums) == [sha]
    assert not any(path.exists() for path in _stored(archive, sha))


def test_running_jobs_of_a_purged_item_are_left_to_their_worker(archive: Archive) -> None:
    item_id = add_item(archive, "Clip", kind=ItemKind.video,
                       jobs=(("make_proxy", JobState.running, ""), ("make_proxy", JobState.queued, "")))
    _trash(archive, item_id)

    with archive.session() as session:
        trash.empty_trash(session, SYSTEM, [item_id])

    with archive.Session() as session:
        assert [(j.state, j.item_id) for j in session.scalars(select(Job))] == [(JobState.running, None)]


def test_only_admins_may_restore_or_empty_through_the_service(archive: Archive) -> None:
    item_id = add_item(archive, "Clip")
    _trash(archive, item_id)
    archivist = Viewer(role=Role.archivist, name="mina")
    with archive.Session() as session:
        for call in (trash.restore, trash.empty_trash, trash.plan_purge):
            with pytest.raises(NotFound):
                call(session, archivist, [item_id])
        with pytest.raises(NotFound):
            trash.list_trash(session, archivist)
        assert trash.list_trash(session, ADMIN).total == 1
