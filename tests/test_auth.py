"""Accounts: logging in and out, CSRF, rate limits, roles and security headers."""

from __future__ import annotations

from flask.testing import FlaskClient

from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind, LoginAttempt, LoginSession, User
from conftest import PASSWORD, csrf_token, log_in


def _item(archive: Archive, access: AccessLevel, collection_id: int | None = None) -> int:
    with archive.session() as session:
        item = Item(title=f"{access.value} clip", kind=ItemKind.still, access=access, collection_id=collection_id)
        session.add(item)
        session.flush()
        return item.id


def test_login_then_logout(client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    name = make_user("researcher")
    log_in(client, name)
    assert name in client.get("/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    name = make_user("admin")
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400


def test_wrong_password_is_refused_with_the_same_words_as_an_unknown_user(client: FlaskClient,
                                                                          make_user) -> None:  # type: ignore[no-untyped-def]
    name = make_user("admin")
    wrong = client.post("/login", data={"username": name, "password": "not it at all",
                                        "csrf_token": csrf_token(client)})
    unknown = client.post("/login", data={"username": "nobody", "password": "not it at all",
                                          "csrf_token": csrf_token(client)})
    assert wrong.status_code == unknown.status_code == 401
    assert "Unknown username or wrong password." in wrong.get_data(as_text=True)
    assert "Unknown username or wrong password." in unknown.get_data(as_text=True)


def test_repeated_failures_are_rate_limited(client: FlaskClient, make_user, archive: Archive) -> None:  # type: ignore[no-untyped-def]
    name = make_user("admin")
    limit = archive.settings["login_max_failures"]
    for _ in range(limit):
        response = client.post("/login", data={"username": name, "password": "guess guess",
                                               "csrf_token": csrf_token(client)})
        assert response.status_code == 401
    # Even the right password is refused while the limit holds.
    response = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    with archive.Session() as session:
        assert session.query(LoginAttempt).count() == limit


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    name = make_user("researcher")
    response = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers_allow_only_our_own_scripts(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"


def test_next_parameter_never_leaves_the_site(client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    name = make_user("researcher")
    response = client.post("/login?next=//evil.example/x", data={
        "username": name, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/"


def test_roles_see_what_their_level_allows(app, archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    from archive.models import Collection
    with archive.session() as session:
        granted, other = Collection(title="Granted"), Collection(title="Other")
        session.add_all([granted, other])
        session.flush()
        granted_id, other_id = granted.id, other.id
    public = _item(archive, AccessLevel.public)
    restricted = _item(archive, AccessLevel.restricted)
    secret_granted = _item(archive, AccessLevel.confidential, granted_id)
    secret_other = _item(archive, AccessLevel.confidential, other_id)
    expectations = {
        None: {public},
        "researcher": {public, restricted},
        "archivist+grant": {public, restricted, secret_granted},
        "admin": {public, restricted, secret_granted, secret_other},
    }
    for who, visible in expectations.items():
        client = app.test_client()
        if who == "archivist+grant":
            log_in(client, make_user("archivist", grants=(granted_id,)))
        elif who:
            log_in(client, make_user(who))
        for item_id in (public, restricted, secret_granted, secret_other):
            status = client.get(f"/items/{item_id}").status_code
            assert status == (200 if item_id in visible else 404), (who, item_id)
        listed = {i["id"] for i in client.get("/api/items").get_json()["items"]}
        assert listed == visible, who


def test_users_cli_creates_lists_sets_roles_and_grants(runner, archive: Archive, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    from archive.models import Collection
    with archive.session() as session:
        session.add(Collection(title="Donated tapes"))
    result = runner.invoke(args=["users", "create", "mina", "--role", "archivist", "--password-stdin"],
                           input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "create", "mina", "--role", "archivist", "--password-stdin"],
                         input="a long enough secret\n").exit_code == 1
    short = runner.invoke(args=["users", "create", "joon", "--role", "admin", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert runner.invoke(args=["users", "set-role", "mina", "researcher"]).exit_code == 0
    assert runner.invoke(args=["users", "grant", "mina", "1"]).exit_code == 0
    assert runner.invoke(args=["users", "grant", "mina", "99"]).exit_code == 1
    listing = runner.invoke(args=["users", "list"]).output
    assert "mina\tresearcher\tgrants: 1:Donated tapes" in listing
    assert runner.invoke(args=["users", "revoke", "mina", "1"]).exit_code == 0
    assert "grants: -" in runner.invoke(args=["users", "list"]).output
    log_in(client, "mina", "a long enough secret")


def test_demo_accounts_are_made_once_and_their_passwords_work(archive: Archive, client: FlaskClient) -> None:
    from archive.services import accounts
    with archive.session() as session:
        made = accounts.ensure_demo_users(session)
    with archive.session() as session:
        assert accounts.ensure_demo_users(session) == []
    assert [(name, role.value) for name, role, _ in made] == [
        ("admin", "admin"), ("archivist", "archivist"), ("researcher", "researcher")]
    for name, _, password in made:
        assert len(password) >= 12
    name, _, password = made[1]
    log_in(client, name, password)
    assert "archivist" in client.get("/").get_data(as_text=True)


# -- logins kept in the database (issue 10 §2) --------------------------------------------------

def _can_open(client: FlaskClient, item_id: int) -> bool:
    status = client.get(f"/items/{item_id}").status_code
    assert status in (200, 404)
    return status == 200


def test_a_cookie_replayed_after_logout_opens_nothing(client: FlaskClient, make_user, archive: Archive) -> None:  # type: ignore[no-untyped-def]
    restricted = _item(archive, AccessLevel.restricted)
    log_in(client, make_user("researcher"))
    assert _can_open(client, restricted)
    saved = client.get_cookie("session").value
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert not _can_open(client, restricted)
    client.set_cookie("session", saved)
    assert not _can_open(client, restricted)
    with archive.Session() as session:
        assert session.query(LoginSession).count() == 0


def test_the_cookie_holds_only_a_random_token_whose_hash_is_stored(app, client: FlaskClient, make_user,  # type: ignore[no-untyped-def]
                                                                   archive: Archive) -> None:
    import hashlib
    name = make_user("researcher")
    log_in(client, name)
    content = app.session_interface.get_signing_serializer(app).loads(client.get_cookie("session").value)
    token = content["_user_id"]
    with archive.Session() as session:
        user = session.query(User).filter_by(username=name).one()
        row = session.query(LoginSession).one()
    assert token != str(user.id) and len(token) >= 40
    assert row.user_id == user.id and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash


def test_a_password_role_change_or_deactivation_ends_the_accounts_logins(client: FlaskClient, make_user,  # type: ignore[no-untyped-def]
                                                                        archive: Archive, runner) -> None:
    from archive.services import accounts
    restricted = _item(archive, AccessLevel.restricted)
    name = make_user("researcher")
    changes = [
        lambda session: accounts.set_password(session, name, "another long secret"),
        lambda session: accounts.set_role(session, name, "archivist"),
        lambda session: accounts.set_active(session, name, False),
    ]
    passwords = [PASSWORD, "another long secret", "another long secret"]
    for change, password in zip(changes, passwords):
        log_in(client, name, password)
        assert _can_open(client, restricted)
        with archive.session() as session:
            change(session)
        assert not _can_open(client, restricted), change
    # Deactivated: the right password no longer logs in; reactivated from the CLI it does again.
    response = client.post("/login", data={"username": name, "password": "another long secret",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert runner.invoke(args=["users", "reactivate", name]).exit_code == 0
    log_in(client, name, "another long secret")
    assert _can_open(client, restricted)
    result = runner.invoke(args=["users", "set-password", name, "--password-stdin"], input="a third long secret\n")
    assert result.exit_code == 0, result.output
    assert not _can_open(client, restricted)
    log_in(client, name, "a third long secret")
    assert runner.invoke(args=["users", "deactivate", name]).exit_code == 0
    assert not _can_open(client, restricted)


def test_a_login_ends_after_its_idle_and_its_absolute_lifetime(archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone
    from archive.services import accounts
    lifetimes = accounts.SessionLifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    start = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    name = make_user("researcher")
    with archive.session() as session:
        user = accounts.get_user(session, name)
        idle_token = accounts.start_session(session, user, now=start)
        busy_token = accounts.start_session(session, user, now=start)
    # The busy login is used every 20 minutes, so its idle time never passes 30 minutes ...
    at = start
    while at < start + timedelta(hours=8):
        with archive.session() as session:
            assert accounts.resume_session(session, busy_token, lifetimes, now=at) is not None, at
        at += timedelta(minutes=20)
    # ... until its eight hours are up.
    with archive.session() as session:
        assert accounts.resume_session(session, busy_token, lifetimes, now=start + timedelta(hours=8, minutes=1)) is None
    with archive.session() as session:
        assert accounts.resume_session(session, idle_token, lifetimes, now=start + timedelta(minutes=29)) is not None
    with archive.session() as session:
        assert accounts.resume_session(session, idle_token, lifetimes, now=start + timedelta(minutes=60)) is None
    with archive.Session() as session:
        assert session.query(LoginSession).count() == 0  # both expired rows were deleted


def test_last_seen_is_written_at_most_once_a_minute(archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone
    from archive.services import accounts
    lifetimes = accounts.SessionLifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    start = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    with archive.session() as session:
        token = accounts.start_session(session, accounts.get_user(session, make_user("researcher")), now=start)
    for seconds, seen in ((30, start), (59, start), (61, start + timedelta(seconds=61))):
        with archive.session() as session:
            assert accounts.resume_session(session, token, lifetimes, now=start + timedelta(seconds=seconds))
        with archive.Session() as session:
            assert session.query(LoginSession).one().last_seen_at == seen, seconds


def test_the_web_app_ends_logins_by_the_lifetime_settings(settings: dict[str, object]) -> None:
    from archive.app import create_app
    settings["session_lifetime_hours"] = 0  # every login is over by its next request
    app = create_app(settings)
    try:
        archive = app.extensions["crossings"]
        restricted = _item(archive, AccessLevel.restricted)
        from archive.services import accounts
        with archive.session() as session:
            accounts.create_user(session, "mina", PASSWORD, "researcher")
        client = app.test_client()
        log_in(client, "mina")
        assert not _can_open(client, restricted)
    finally:
        app.extensions["crossings"].close()


# -- login throttling per account and address, counted atomically (issue 10 §2) -----------------

def _try(archive: Archive, username: str, password: str, address: str, limits) -> str:  # type: ignore[no-untyped-def]
    """One login through the services as the web does it: 'ok', 'wrong' or 'refused'."""
    from archive.services import accounts
    with archive.Session() as session:
        attempt = accounts.reserve_login(session, username, address)
        session.commit()
        try:
            user = accounts.authenticate(session, attempt, password, limits)
        except accounts.TooManyAttempts:
            return "refused"
        finally:
            session.commit()
    return "ok" if user is not None else "wrong"


def test_simultaneous_wrong_passwords_cannot_pass_the_limit(archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from archive.services import accounts
    assert archive.engine.url.database not in (None, "", ":memory:")  # shared by the threads' connections
    name = make_user("admin")
    limits = accounts.LoginLimits(max_failures=5, max_failures_per_address=100, window_seconds=900)
    start = threading.Barrier(7)

    def guess(n: int) -> str:
        start.wait()
        return _try(archive, name, f"guess number {n}", "203.0.113.7", limits)

    with ThreadPoolExecutor(7) as pool:
        results = list(pool.map(guess, range(7)))
    assert results.count("ok") == 0
    # At most the limit get their password checked; when all seven are reserved before any is
    # counted (PostgreSQL runs them truly at once), all may be refused early, which is allowed.
    assert results.count("wrong") <= 5, results
    assert results.count("wrong") + results.count("refused") == 7
    with archive.Session() as session:
        assert session.query(LoginAttempt).filter(LoginAttempt.succeeded.is_(None)).count() == 0
        assert session.query(LoginAttempt).count() == results.count("wrong")


def test_a_stranger_guessing_cannot_lock_the_owner_out(client: FlaskClient, make_user, archive: Archive) -> None:  # type: ignore[no-untyped-def]
    name = make_user("admin")
    stranger, owner = {"REMOTE_ADDR": "198.51.100.66"}, {"REMOTE_ADDR": "192.0.2.10"}
    for _ in range(archive.settings["login_max_failures"]):
        response = client.post("/login", environ_base=stranger, data={
            "username": name, "password": "guess guess", "csrf_token": csrf_token(client)})
        assert response.status_code == 401
    response = client.post("/login", environ_base=stranger, data={
        "username": name, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 429  # the stranger's pair is locked, the right password or not
    response = client.post("/login", environ_base=owner, data={
        "username": name, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302  # the owner, from their own address, logs in


def test_one_address_guessing_many_accounts_is_locked(archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    from archive.services import accounts
    limits = accounts.LoginLimits(max_failures=5, max_failures_per_address=8, window_seconds=900)
    names = [make_user("researcher") for _ in range(3)]
    results = [_try(archive, names[n % 3], "guess guess", "198.51.100.66", limits) for n in range(8)]
    assert results == ["wrong"] * 8
    assert _try(archive, names[0], PASSWORD, "198.51.100.66", limits) == "refused"
    assert _try(archive, names[0], PASSWORD, "192.0.2.10", limits) == "ok"


def test_a_success_clears_its_pair_and_a_lock_ends_with_its_window(archive: Archive, make_user) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone
    from archive.services import accounts
    limits = accounts.LoginLimits(max_failures=3, max_failures_per_address=100, window_seconds=900)
    name = make_user("researcher")
    assert [_try(archive, name, "guess guess", "192.0.2.10", limits) for _ in range(2)] == ["wrong"] * 2
    assert _try(archive, name, PASSWORD, "192.0.2.10", limits) == "ok"
    assert [_try(archive, name, "guess guess", "192.0.2.10", limits) for _ in range(3)] == ["wrong"] * 3
    assert _try(archive, name, PASSWORD, "192.0.2.10", limits) == "refused"
    later = datetime.now(timezone.utc) + timedelta(seconds=901)
    with archive.Session() as session:
        attempt = accounts.reserve_login(session, name, "192.0.2.10", now=later)
        session.commit()
        assert accounts.authenticate(session, attempt, PASSWORD, limits, now=later) is not None


def test_the_csrf_token_is_rotated_at_login(client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    name = make_user("researcher")
    before = csrf_token(client)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    # A token an attacker planted or read before the login is worthless after it ...
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert name in client.get("/").get_data(as_text=True)  # still logged in
    # ... and the page after the login carries a fresh one that works.
    after = csrf_token(client, "/")
    assert after != before
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302


def test_every_account_changes_its_own_password_and_its_other_logins_end(app, client: FlaskClient, make_user,  # type: ignore[no-untyped-def]
                                                                          archive: Archive) -> None:
    from archive.models import AuditEntry
    restricted = _item(archive, AccessLevel.restricted)
    name = make_user("researcher")
    other = app.test_client()
    log_in(client, name)
    log_in(other, name)
    assert client.get("/account/password").status_code == 200
    wrong = client.post("/account/password", data={"old_password": "not my password", "new_password": "a new long secret",
                                                   "csrf_token": csrf_token(client, "/account/password")})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    short = client.post("/account/password", data={"old_password": PASSWORD, "new_password": "short",
                                                   "csrf_token": csrf_token(client, "/account/password")})
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    done = client.post("/account/password", data={"old_password": PASSWORD, "new_password": "a new long secret",
                                                  "csrf_token": csrf_token(client, "/account/password")})
    assert done.status_code == 302
    assert _can_open(client, restricted)      # this browser stays logged in
    assert not _can_open(other, restricted)   # the other one is logged out
    log_in(other, name, "a new long secret")
    with archive.Session() as session:
        entry = session.query(AuditEntry).filter_by(object_type="user").order_by(AuditEntry.id.desc()).first()
        assert entry is not None and entry.actor == name and "password_hash" in entry.changes
    assert app.test_client().get("/account/password").status_code == 302  # anonymous: log in first
