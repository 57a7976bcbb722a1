"""API tokens: made and shown once, kept hashed, scoped, expiring, revocable, acting as their account."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from flask import Flask, Response, flash, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import select, text

from archive.access import SYSTEM
from archive.core import Archive
from archive.models import AccessLevel, ApiToken, AuditEntry, Base, Tag, TokenScope, User
from archive.services import Invalid, NotFound, accounts, api_tokens
from archive.web.context import current_viewer, db_session
from conftest import csrf_token, log_in
from test_web import add_item

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)


def _user_id(archive: Archive, username: str) -> int:
    with archive.session() as session:
        return accounts.get_user(session, username).id


def _viewer(archive: Archive, username: str):  # type: ignore[no-untyped-def]
    with archive.session() as session:
        return accounts.viewer_for(accounts.get_user(session, username))


def make_token(archive: Archive, username: str, *, scope: TokenScope = TokenScope.read,
               expires_at: datetime | None = None, name: str = "script") -> tuple[int, str]:
    """A token made by the account itself; returns (its id, its secret)."""
    viewer = _viewer(archive, username)
    with archive.session(viewer) as session:
        token, secret = api_tokens.create_token(session, viewer, viewer.user_id, name=name, scope=scope,
                                                expires_at=expires_at)
        return token.id, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# -- the service ------------------------------------------------------------------------------

def test_a_token_is_shown_once_and_stored_only_as_its_hash(archive: Archive, make_user) -> None:
    name = make_user("researcher")
    token_id, secret = make_token(archive, name, name="nightly export")
    assert re.fullmatch(r"crs_[A-Za-z0-9_-]{43}", secret)
    with archive.session() as session:
        token = session.get(ApiToken, token_id)
        assert token.prefix == secret[:12] and token.name == "nightly export"
        assert len(token.token_hash) == 64 and secret not in token.token_hash
        # Nothing anywhere in the database holds the secret, nor the part of it after the listed prefix.
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert secret[12:] not in repr(tuple(row)), table.name
        listed = api_tokens.list_tokens(session, _viewer(archive, name), token.user_id)
        assert [t.id for t in listed] == [token_id]
    assert api_tokens.authenticate_token(archive.Session(), secret) is not None


def test_authenticate_refuses_unknown_revoked_expired_and_deactivated(archive: Archive, make_user) -> None:
    name = make_user("researcher")
    other = make_user("admin")  # so the researcher may be deactivated
    soon = datetime.now(timezone.utc) + timedelta(days=2)
    live_id, live = make_token(archive, name)
    _, expiring = make_token(archive, name, expires_at=soon)
    revoked_id, revoked = make_token(archive, name)
    with archive.session() as session:
        assert api_tokens.authenticate_token(session, "crs_" + "x" * 43) is None
        assert api_tokens.authenticate_token(session, live[:-1]) is None
        assert api_tokens.authenticate_token(session, "not a token") is None
        assert api_tokens.authenticate_token(session, expiring) is not None
        assert api_tokens.authenticate_token(session, expiring, now=soon) is None
        assert api_tokens.authenticate_token(session, expiring, now=soon - timedelta(seconds=1)) is not None
        api_tokens.revoke_token(session, _viewer(archive, name), revoked_id)
    with archive.session() as session:
        assert api_tokens.authenticate_token(session, revoked) is None
        assert api_tokens.authenticate_token(session, live).id == live_id
        accounts.set_active(session, name, False)
    with archive.session() as session:
        assert api_tokens.authenticate_token(session, live) is None
        accounts.set_active(session, name, True)
    with archive.session() as session:
        assert api_tokens.authenticate_token(session, live).id == live_id
    assert other


def test_last_use_is_written_at_most_once_a_minute(archive: Archive, make_user) -> None:
    token_id, secret = make_token(archive, make_user("researcher"))
    for at, expected in ((NOW, NOW), (NOW + timedelta(seconds=59), NOW), (NOW + timedelta(seconds=61),
                                                                         NOW + timedelta(seconds=61))):
        with archive.session() as session:
            api_tokens.authenticate_token(session, secret, now=at)
        with archive.session() as session:
            assert session.get(ApiToken, token_id).last_used_at == expected


def test_tokens_are_made_by_their_account_and_managed_by_it_or_an_admin(archive: Archive, make_user) -> None:
    researcher, other, admin = make_user("researcher"), make_user("researcher"), make_user("admin")
    token_id, _ = make_token(archive, researcher)
    with archive.session() as session:
        owner = _user_id(archive, researcher)
        for actor in (_viewer(archive, other), _viewer(archive, admin)):  # no one makes another's token
            with pytest.raises(NotFound):
                api_tokens.create_token(session, actor, owner, name="x", scope=TokenScope.read, expires_at=None)
        token, _secret = api_tokens.create_token(session, SYSTEM, owner, name="from the CLI",
                                                 scope=TokenScope.read_write, expires_at=None)
        assert token.user_id == owner
        with pytest.raises(NotFound):
            api_tokens.list_tokens(session, _viewer(archive, other), owner)
        with pytest.raises(NotFound):
            api_tokens.list_tokens(session, _viewer(archive, other), None)
        with pytest.raises(NotFound):
            api_tokens.revoke_token(session, _viewer(archive, other), token_id)
        assert len(api_tokens.list_tokens(session, _viewer(archive, admin), owner)) == 2
        assert api_tokens.revoke_token(session, _viewer(archive, admin), token_id).revoked_at is not None
        with pytest.raises(Invalid, match="name"):
            api_tokens.create_token(session, SYSTEM, owner, name="  ", scope=TokenScope.read, expires_at=None)
        with pytest.raises(Invalid, match="already past"):
            api_tokens.create_token(session, SYSTEM, owner, name="old", scope=TokenScope.read,
                                    expires_at=datetime(2020, 1, 1, tzinfo=timezone.utc))


def test_changes_made_through_a_token_are_audited_as_its_account(archive: Archive, make_user) -> None:
    name = make_user("archivist")
    token_id, secret = make_token(archive, name, scope=TokenScope.read_write)
    with archive.session() as session:
        viewer = api_tokens.viewer_for_token(api_tokens.authenticate_token(session, secret))
    assert viewer.name == name and viewer.token_id == token_id
    with archive.session(viewer) as session:
        tag = Tag(name="river")
        session.add(tag)
        session.flush()
        tag_id = tag.id
    with archive.session() as session:
        created = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "token")).all()
        assert [(e.action, e.actor, e.user_id) for e in created] == [("create", name, viewer.user_id)]
        assert created[0].changes["token_hash"] == [None, "(set)"]
        assert secret not in repr(created[0].changes)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "tag",
                                                        AuditEntry.object_id == tag_id))
        assert (entry.actor, entry.user_id, entry.token_id) == (name, viewer.user_id, token_id)


# -- requests with a token --------------------------------------------------------------------

def test_a_token_sees_what_its_account_sees(archive: Archive, client: FlaskClient, make_user) -> None:
    public = add_item(archive, "Open river", access=AccessLevel.public)
    restricted = add_item(archive, "Guarded crossing", access=AccessLevel.restricted)
    confidential = add_item(archive, "Hidden safe house", access=AccessLevel.confidential, collection="Network")
    _, secret = make_token(archive, make_user("researcher"))
    assert {i["id"] for i in client.get("/api/items").get_json()["items"]} == {public}
    listed = client.get("/api/items", headers=bearer(secret))
    assert listed.status_code == 200
    assert {i["id"] for i in listed.get_json()["items"]} == {public, restricted}
    assert client.get(f"/api/items/{restricted}", headers=bearer(secret)).status_code == 200
    assert client.get(f"/api/items/{restricted}").status_code == 404
    assert client.get(f"/api/items/{confidential}", headers=bearer(secret)).status_code == 404
    assert "Hidden safe house" not in client.get("/api/search?q=safe", headers=bearer(secret)).get_data(as_text=True)


def test_a_bad_token_is_refused_never_taken_for_anonymous(archive: Archive, client: FlaskClient, make_user) -> None:
    name = make_user("researcher")
    token_id, secret = make_token(archive, name)
    _, expired = make_token(archive, name, expires_at=datetime.now(timezone.utc) + timedelta(seconds=1))
    with archive.session() as session:
        session.get(ApiToken, _last_token(session)).expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        api_tokens.revoke_token(session, SYSTEM, token_id)
    for header in (bearer(secret), bearer(expired), bearer("crs_nonsense"), {"Authorization": "Bearer "}):
        response = client.get("/api/items", headers=header)
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
        assert response.get_json()["error"]["code"] == "invalid_token"
        assert response.get_json()["error"]["field"] is None


def _last_token(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))


def test_a_read_token_may_not_write(archive: Archive, client: FlaskClient, make_user) -> None:
    name = make_user("admin")
    _, read = make_token(archive, name, scope=TokenScope.read)
    _, write = make_token(archive, name, scope=TokenScope.read_write)
    for method in ("post", "put", "patch", "delete"):
        refused = getattr(client, method)("/api/items", headers=bearer(read))
        assert refused.status_code == 403, method
        assert refused.get_json() == {"error": {"code": "forbidden", "field": None,
                                                "message": refused.get_json()["error"]["message"]}}
        assert "read-only" in refused.get_json()["error"]["message"]
        # A read-write token passes the check (and meets the route's own answer: /api/items only reads).
        assert getattr(client, method)("/api/items", headers=bearer(write)).status_code == 405, method
    assert client.head("/api/items", headers=bearer(read)).status_code == 200


def test_tokens_are_accepted_on_the_api_only(archive: Archive, client: FlaskClient, make_user) -> None:
    item = add_item(archive, "Open river", access=AccessLevel.public)
    _, secret = make_token(archive, make_user("archivist"), scope=TokenScope.read_write)
    for path in ("/", f"/items/{item}", "/account/tokens", "/apiary", "/oaifake"):
        response = client.get(path, headers=bearer(secret))
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "invalid_request"
    # Nor may a token post a page's form, even without its CSRF token.
    assert client.post(f"/items/{item}/edit", data={"title": "Renamed"}, headers=bearer(secret)).status_code == 400
    with archive.session() as session:
        assert session.scalar(text("SELECT title FROM items WHERE id = :id"), {"id": item}) == "Open river"


def test_token_requests_set_no_cookie_and_ignore_one_sent(archive: Archive, client: FlaskClient, make_user) -> None:
    restricted = add_item(archive, "Guarded crossing", access=AccessLevel.restricted)
    _, secret = make_token(archive, make_user("researcher"))
    response = client.get("/api/items", headers=bearer(secret))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert client.get_cookie("session") is None
    # A browser logged in as an admin that sends a researcher's token is the researcher for that request.
    log_in(client, make_user("admin"))
    hidden = add_item(archive, "Hidden safe house", access=AccessLevel.confidential)
    with_token = client.get("/api/items", headers=bearer(secret))
    assert "Set-Cookie" not in with_token.headers
    assert {i["id"] for i in with_token.get_json()["items"]} == {restricted}
    assert hidden in {i["id"] for i in client.get("/api/items").get_json()["items"]}


@pytest.fixture
def tag_route(app: Flask) -> str:
    """A write route under /api, as Part C2's will be: POST {"name": ...} adds a tag as the viewer.
    Added to this test's app before its first request; the product has no such route."""
    def add_tag() -> tuple[Response, int]:
        session = db_session()
        tag = Tag(name=(request.get_json(silent=True) or {}).get("name", "unnamed"))
        session.add(tag)
        session.commit()
        flash(f"Tag {tag.name} added.")  # as page views do: it writes to the cookie's session
        return jsonify(id=tag.id, viewer=current_viewer().name), 201
    app.add_url_rule("/api/test-tags", "test_add_tag", add_tag, methods=["POST"])
    return "/api/test-tags"


def test_csrf_is_waived_for_token_requests_only(archive: Archive, client: FlaskClient, make_user,  # type: ignore[no-untyped-def]
                                               tag_route: str) -> None:
    name = make_user("archivist")
    token_id, write = make_token(archive, name, scope=TokenScope.read_write)
    _, read = make_token(archive, name, scope=TokenScope.read)
    log_in(client, name)
    # A browser's POST without the CSRF token is refused; with it, it passes.
    assert client.post(tag_route, json={"name": "forged"}).status_code == 400
    assert client.post("/account/tokens", data={"name": "forged", "scope": "read"}).status_code == 400
    with_csrf = client.post(tag_route, json={"name": "from the browser"},
                            headers={"X-CSRFToken": csrf_token(client, "/account/tokens")})
    assert with_csrf.status_code == 201
    # A token's POST needs no CSRF token; a read token's is refused before the view.
    assert client.post(tag_route, json={"name": "from a script"}, headers=bearer(read)).status_code == 403
    made = client.post(tag_route, json={"name": "from a script"}, headers=bearer(write))
    assert made.status_code == 201 and made.get_json()["viewer"] == name
    assert "Set-Cookie" not in made.headers and "Set-Cookie" in with_csrf.headers
    with archive.session() as session:
        names = set(session.scalars(select(Tag.name)))
        assert names == {"from the browser", "from a script"}
        entries = {e.object_label: e for e in session.scalars(select(AuditEntry).where(AuditEntry.object_type == "tag"))}
        user_id = _user_id(archive, name)
        assert (entries["from a script"].actor, entries["from a script"].user_id) == (name, user_id)
        assert entries["from a script"].token_id == token_id
        assert (entries["from the browser"].user_id, entries["from the browser"].token_id) == (user_id, None)


# -- the web page -----------------------------------------------------------------------------

def test_an_account_makes_lists_and_revokes_its_tokens_on_its_page(archive: Archive, client: FlaskClient,
                                                                  make_user) -> None:
    name = make_user("researcher")
    log_in(client, name)
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "No tokens." in page.get_data(as_text=True)
    assert 'href="/account/tokens"' in client.get("/").get_data(as_text=True)
    made = client.post("/account/tokens", data={"name": "nightly export", "scope": "read", "expires": "30",
                                                "csrf_token": csrf_token(client, "/account/tokens")})
    assert made.status_code == 201
    secret = re.search(r'<code id="new-token">(crs_[^<]+)</code>', made.get_data(as_text=True)).group(1)
    assert "Set-Cookie" not in made.headers or secret not in made.headers["Set-Cookie"]
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and secret[:12] in again and "nightly export" in again
    with archive.session() as session:
        token = session.scalar(select(ApiToken))
        assert token.scope is TokenScope.read
        assert timedelta(days=29, hours=23) < token.expires_at - datetime.now(timezone.utc) <= timedelta(days=30)
        audit = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "token"))
        assert (audit.action, audit.actor) == ("create", name)
    assert client.get("/api/items", headers=bearer(secret)).status_code == 200
    revoked = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert revoked.status_code == 302
    assert client.get("/api/items", headers=bearer(secret)).status_code == 401
    assert "revoked" in client.get("/account/tokens").get_data(as_text=True)
    with archive.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "token")
                                  .order_by(AuditEntry.id)).all()
        assert actions == ["create", "revoke"]


def test_the_page_refuses_bad_input_readably(archive: Archive, client: FlaskClient, make_user) -> None:
    log_in(client, make_user("researcher"))
    token = csrf_token(client, "/account/tokens")
    for form, message in (({"name": "", "scope": "read", "expires": "never"}, "Give the token a name"),
                          ({"name": "x", "scope": "admin", "expires": "never"}, "scope must be read"),
                          ({"name": "x", "scope": "read", "expires": "7"}, "the expiry must be one of"),
                          ({"name": "x", "scope": "read", "expires": "date", "expires_on": "soon"}, "is not a date"),
                          ({"name": "x", "scope": "read", "expires": "date", "expires_on": "2001-01-01"},
                           "already past")):
        response = client.post("/account/tokens", data={**form, "csrf_token": token})
        assert response.status_code == 400, form
        assert message.lower() in response.get_data(as_text=True).lower(), form
    made = client.post("/account/tokens", data={"name": "until a day", "scope": "read_write", "expires": "date",
                                                "expires_on": "2099-06-30", "csrf_token": token})
    assert made.status_code == 201
    with archive.session() as session:
        assert session.scalar(select(ApiToken.expires_at)) == datetime(2099, 7, 1, tzinfo=timezone.utc)
    assert client.get("/account/tokens").status_code == 200


def test_only_the_owner_or_an_admin_revokes_a_token(archive: Archive, app, make_user) -> None:  # type: ignore[no-untyped-def]
    owner, other, admin = make_user("researcher"), make_user("archivist"), make_user("admin")
    token_id, secret = make_token(archive, owner)
    stranger = app.test_client()
    log_in(stranger, other)
    assert stranger.post(f"/account/tokens/{token_id}/revoke",
                         data={"csrf_token": csrf_token(stranger, "/account/tokens")}).status_code == 404
    assert f"token-{token_id}" not in stranger.get("/account/tokens").get_data(as_text=True)
    boss = app.test_client()
    log_in(boss, admin)
    account_page = boss.get(f"/admin/users/{owner}").get_data(as_text=True)
    assert f'id="token-{token_id}"' in account_page and secret[:12] in account_page
    response = boss.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(boss)})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/admin/users/{owner}")
    with archive.session() as session:
        assert session.get(ApiToken, token_id).revoked_at is not None
    assert boss.get("/account/tokens").status_code == 200  # the admin's own (empty) list
    log = boss.get("/admin/log?type=token")
    assert log.status_code == 200 and "revoke" in log.get_data(as_text=True) and secret not in log.get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.get("/account/tokens").status_code == 302


# -- the command line -------------------------------------------------------------------------

def test_the_cli_makes_lists_and_revokes_tokens(archive: Archive, client: FlaskClient, runner: CliRunner,
                                               make_user) -> None:
    name = make_user("researcher")
    made = runner.invoke(args=["tokens", "create", name, "--name", "harvester", "--scope", "read-write",
                               "--expires-days", "90"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert re.fullmatch(r"crs_[A-Za-z0-9_-]{43}", secret), made.stdout
    assert "harvester" in made.stderr and secret not in made.stderr
    assert client.get("/api/items", headers=bearer(secret)).status_code == 200
    with archive.session() as session:
        token = session.scalar(select(ApiToken))
        assert token.scope is TokenScope.read_write and token.expires_at is not None
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.object_type == "token")) == "system"
    listed = runner.invoke(args=["tokens", "list", name])
    assert listed.exit_code == 0 and "harvester" in listed.stdout and secret[:12] in listed.stdout
    assert secret not in listed.stdout and "active" in listed.stdout
    assert "harvester" in runner.invoke(args=["tokens", "list"]).stdout
    revoked = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert client.get("/api/items", headers=bearer(secret)).status_code == 401
    assert "revoked" in runner.invoke(args=["tokens", "list", name]).stdout
    missing = runner.invoke(args=["tokens", "revoke", "999"])
    assert missing.exit_code == 1 and "not found" in missing.stderr
    nobody = runner.invoke(args=["tokens", "create", "nobody", "--name", "x", "--scope", "read"])
    assert nobody.exit_code == 1 and "not found" in nobody.stderr and nobody.stdout == ""
    with archive.session() as session:
        assert session.scalar(select(User.username).where(User.id == token.user_id)) == name
