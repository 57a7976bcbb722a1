"""Admins manage accounts from the web (issue 10 §7): create, set roles, deactivate and reactivate,
a generated password shown once, and grants of confidential collections with an optional last day.

Each change is checked where it matters: the account's own browser (logged out, or seeing more or
less), its next login, and the audit trail naming who did it. Who may reach these pages at all is
the access walk's part (tests/test_access_walk.py).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, CollectionGrant, ItemKind, User
from archive.services import accounts
from conftest import PASSWORD, csrf_token, log_in
from test_web import add_item

SHOWN_PASSWORD = re.compile(r'<code id="new-password">([^<]+)</code>')


@pytest.fixture
def admin(app: Flask, make_user) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A client logged in as the admin "boss"."""
    make_user("admin", "boss")
    client = app.test_client()
    log_in(client, "boss")
    return client


def _post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/users"), **data})


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _user_entries(archive: Archive, username: str) -> list[AuditEntry]:
    with archive.Session() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "user",
                                                             AuditEntry.object_id == user_id)
                                    .order_by(AuditEntry.id)))


def _can_open(client: FlaskClient, item_id: int) -> bool:
    return client.get(f"/items/{item_id}").status_code == 200


def test_an_admin_creates_an_account_whose_generated_password_is_shown_once(
        app: Flask, admin: FlaskClient, archive: Archive) -> None:
    response = _post(admin, "/admin/users", username="Ana.Kim", role="researcher")

    assert response.status_code == 201
    [password] = SHOWN_PASSWORD.findall(_html(response))
    assert re.fullmatch(r"([A-Za-z2-9]{4}-){3}[A-Za-z2-9]{4}", password)
    assert 'href="/admin/users/ana.kim"' in _html(response)
    # Shown on that answer only: not on the list, the account page, or its log.
    for path in ("/admin/users", "/admin/users/ana.kim", "/admin/log"):
        assert password not in _html(admin.get(path)), path
    assert "no-store" in response.headers["Cache-Control"]
    ana = app.test_client()
    log_in(ana, "ana.kim", password)
    [created] = _user_entries(archive, "ana.kim")
    assert (created.action, created.actor) == ("create", "boss")
    assert created.changes["role"] == [None, "researcher"] and created.changes["password_hash"] == [None, "(set)"]


def test_an_account_with_a_typed_password_shows_no_password(app: Flask, admin: FlaskClient) -> None:
    response = _post(admin, "/admin/users", username="mina", role="archivist", password="a long typed secret")
    assert response.status_code == 201 and not SHOWN_PASSWORD.search(_html(response))
    log_in(app.test_client(), "mina", "a long typed secret")


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"username": "a", "role": "researcher"}, "username", "2 to 80 lower-case letters"),
    ({"username": "boss", "role": "researcher"}, "username", "There is already a user"),
    ({"username": "mina", "role": "public"}, "role", "Role must be one of"),
    ({"username": "mina", "role": "researcher", "password": "short"}, "password", "at least 10 characters"),
])
def test_a_refused_account_says_why_beside_its_field_and_makes_nothing(
        admin: FlaskClient, archive: Archive, form: dict[str, str], field: str, message: str) -> None:
    response = _post(admin, "/admin/users", **form)
    html = _html(response)
    assert response.status_code == 400
    assert re.search(rf'id="f-{field}-error">[^<]*{re.escape(message)}', html), html
    assert f'value="{form["username"]}"' in html  # what was typed is kept
    with archive.Session() as session:
        assert session.scalar(select(User.id).where(User.username == "mina")) is None


def test_a_role_change_logs_the_account_out_and_applies_at_once(
        app: Flask, admin: FlaskClient, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("researcher", "ana")
    ana = app.test_client()
    log_in(ana, "ana")
    assert ana.get("/people").status_code == 404

    response = _post(admin, "/admin/users/ana/role", role="archivist")

    assert response.status_code == 302 and response.headers["Location"] == "/admin/users/ana"
    assert "ana is now archivist" in _html(admin.get("/admin/users/ana"))
    assert ana.get("/people").status_code == 302  # logged out: sent to log in
    log_in(ana, "ana")
    assert ana.get("/people").status_code == 200
    entry = _user_entries(archive, "ana")[-1]
    assert (entry.actor, entry.changes) == ("boss", {"role": ["researcher", "archivist"]})


def test_deactivating_ends_every_login_and_reactivating_lets_the_account_in(
        app: Flask, admin: FlaskClient, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    restricted = add_item(archive, "Field notes", access=AccessLevel.restricted)
    make_user("researcher", "ana")
    ana = app.test_client()
    log_in(ana, "ana")
    assert _can_open(ana, restricted)

    assert _post(admin, "/admin/users/ana/active", active="no").status_code == 302

    assert not _can_open(ana, restricted)
    refused = ana.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": csrf_token(ana)})
    assert refused.status_code == 401
    page = _html(admin.get("/admin/users/ana"))
    assert "Deactivated" in page and "Reactivate ana" in page
    assert _post(admin, "/admin/users/ana/active", active="yes").status_code == 302
    log_in(ana, "ana")
    assert _can_open(ana, restricted)
    assert [e.changes.get("active") for e in _user_entries(archive, "ana")[-2:]] == [[True, False], [False, True]]


def test_the_only_active_admin_can_be_neither_demoted_nor_deactivated(admin: FlaskClient, archive: Archive) -> None:
    for path, form, field in (("/admin/users/boss/role", {"role": "archivist"}, "role"),
                              ("/admin/users/boss/active", {"active": "no"}, "active")):
        response = _post(admin, path, **form)
        assert response.status_code == 400, path
        assert "The only active admin is boss" in _html(response)
    with archive.Session() as session:
        boss = session.scalar(select(User).where(User.username == "boss"))
        assert (boss.role.value, boss.active) == ("admin", True)
    assert admin.get("/admin/users").status_code == 200  # still logged in, still an admin


def test_a_generated_password_replaces_the_old_one_and_ends_the_accounts_logins(
        app: Flask, admin: FlaskClient, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    restricted = add_item(archive, "Field notes", access=AccessLevel.restricted)
    make_user("researcher", "ana")
    ana = app.test_client()
    log_in(ana, "ana")

    response = _post(admin, "/admin/users/ana/password")

    assert response.status_code == 200
    [password] = SHOWN_PASSWORD.findall(_html(response))
    assert not _can_open(ana, restricted)
    old = ana.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": csrf_token(ana)})
    assert old.status_code == 401
    log_in(ana, "ana", password)
    assert _can_open(ana, restricted)
    assert password not in _html(admin.get("/admin/users/ana"))
    entry = _user_entries(archive, "ana")[-1]
    assert entry.changes == {"password_hash": ["(old)", "(changed)"]} and entry.actor == "boss"


def _confidential_item(archive: Archive) -> tuple[int, int]:
    item_id = add_item(archive, "Safe house interview", kind=ItemKind.still, access=AccessLevel.confidential,
                       collection="Testimonies")
    with archive.Session() as session:
        return item_id, session.scalar(select(Collection.id).where(Collection.title == "Testimonies"))


def test_a_grant_with_a_last_day_opens_the_collection_until_then_and_not_a_day_longer(
        app: Flask, admin: FlaskClient, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    item_id, collection_id = _confidential_item(archive)
    make_user("researcher", "ana")
    ana = app.test_client()
    log_in(ana, "ana")
    assert not _can_open(ana, item_id)
    today = accounts.today()

    response = _post(admin, "/admin/users/ana/grants", collection=str(collection_id), expires=today.isoformat())

    assert response.status_code == 302 and response.headers["Location"] == "/admin/users/ana#grants"
    page = _html(admin.get("/admin/users/ana"))
    assert f"the end of {today.isoformat()} (UTC)" in page
    assert _can_open(ana, item_id)  # the same login sees it at once
    assert "Safe house" in _html(ana.get("/search?q=safe"))
    # The day after its last day (the grant's end moved back, as the calendar would), the same login sees nothing.
    with archive.session() as session:
        session.get(CollectionGrant, (session.scalar(select(User.id).where(User.username == "ana")),
                                      collection_id)).expires_on = today - timedelta(days=1)
    assert not _can_open(ana, item_id)
    assert "Safe house" not in _html(ana.get("/search?q=safe"))
    assert ana.get(f"/collections/{collection_id}").status_code == 404
    assert "expired" in _html(admin.get("/admin/users/ana"))
    entry = [e for e in _user_entries(archive, "ana") if "grants" in e.changes][-1]
    assert (entry.actor, entry.changes["grants"]) == ("boss", [[], [f"Testimonies (until {today.isoformat()})"]])


def test_a_grants_end_is_changed_and_revoked_and_both_are_in_the_log(
        app: Flask, admin: FlaskClient, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    item_id, collection_id = _confidential_item(archive)
    make_user("researcher", "ana")
    ana = app.test_client()
    log_in(ana, "ana")
    later = accounts.today() + timedelta(days=30)
    assert _post(admin, "/admin/users/ana/grants", collection=str(collection_id)).status_code == 302
    assert "until revoked" in _html(admin.get("/admin/users/ana"))

    assert _post(admin, "/admin/users/ana/grants", collection=str(collection_id),
                 expires=later.isoformat()).status_code == 302
    assert _can_open(ana, item_id)
    assert _post(admin, f"/admin/users/ana/grants/{collection_id}/revoke").status_code == 302

    assert not _can_open(ana, item_id)
    grants = [e.changes["grants"] for e in _user_entries(archive, "ana") if "grants" in e.changes]
    assert grants == [[[], ["Testimonies"]], [["Testimonies"], [f"Testimonies (until {later.isoformat()})"]],
                      [[f"Testimonies (until {later.isoformat()})"], []]]
    # The account page's history says it in words.
    history = _html(admin.get("/admin/users/ana"))
    assert "Confidential collections" in history and f"Testimonies (until {later.isoformat()})" in history


@pytest.mark.parametrize(("form", "message"), [
    ({"expires": "2020-01-01"}, "2020-01-01 is already past"),
    ({"expires": "31/12/2030"}, "is not a date"),
    ({"collection": ""}, "Choose a collection"),
    ({"collection": "9999"}, None),
])
def test_a_refused_grant_says_why_and_grants_nothing(admin: FlaskClient, archive: Archive, make_user,  # type: ignore[no-untyped-def]
                                                     form: dict[str, str], message: str | None) -> None:
    _, collection_id = _confidential_item(archive)
    make_user("researcher", "ana")
    response = _post(admin, "/admin/users/ana/grants", **{"collection": str(collection_id), **form})
    if message is None:
        assert response.status_code == 404  # no such collection
    else:
        assert response.status_code == 400 and message in _html(response)
    with archive.Session() as session:
        assert session.scalars(select(CollectionGrant)).all() == []


def test_unknown_accounts_and_grants_are_404(admin: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("researcher", "ana")
    assert admin.get("/admin/users/nobody").status_code == 404
    assert _post(admin, "/admin/users/nobody/role", role="archivist").status_code == 404
    assert _post(admin, "/admin/users/ana/grants/7/revoke").status_code == 404


def test_the_cli_grants_until_a_day_and_lists_the_end(runner, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    _, collection_id = _confidential_item(archive)
    make_user("researcher", "ana")
    last = (accounts.today() + timedelta(days=7)).isoformat()

    result = runner.invoke(args=["users", "grant", "ana", str(collection_id), "--until", last])

    assert result.exit_code == 0, result.output
    assert f"until the end of {last} (UTC)" in result.output
    assert f"{collection_id}:Testimonies (until {last})" in runner.invoke(args=["users", "list"]).output
    refused = runner.invoke(args=["users", "grant", "ana", str(collection_id), "--until", "2001-02-03"])
    assert refused.exit_code == 1 and "2001-02-03 is already past" in refused.output
    assert runner.invoke(args=["users", "revoke", "ana", str(collection_id)]).exit_code == 0
    again = runner.invoke(args=["users", "revoke", "ana", str(collection_id)])
    assert again.exit_code == 1 and "not found" in again.output.lower()


def test_a_viewer_holds_only_the_grants_in_force_on_its_day(archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    _, collection_id = _confidential_item(archive)
    make_user("researcher", "ana")
    with archive.session() as session:
        accounts.grant(session, "ana", collection_id, expires=date(2031, 3, 31))
        user = accounts.get_user(session, "ana")
        assert accounts.viewer_for(user, on=date(2031, 3, 31)).granted_collections == {collection_id}
        assert accounts.viewer_for(user, on=date(2031, 4, 1)).granted_collections == frozenset()
