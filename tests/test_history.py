"""Histories on item and collection pages, the admins' log with its filters, its CSV export, accounts."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from archive.access import SYSTEM, Role, Viewer
from archive.core import Archive
from archive.models import AuditEntry, Collection, Item
from archive.services import audit, editing, trash
from conftest import log_in
from test_web import add_item, text

MINA = Viewer(role=Role.archivist, name="mina")
JIN = Viewer(role=Role.archivist, name="jin")


def _client(app: Flask, make_user, role: str | None, **kwargs) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role:
        log_in(client, make_user(role, **kwargs))
    return client


def _edit(archive: Archive, item_id: int, actor: Viewer = MINA, **fields: str) -> None:
    with archive.session(actor) as session:
        editing.update_item(session, session.get(Item, item_id), **fields)


def _history_section(html: str) -> str:
    match = re.search(r'<section class="history-section".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _set_time(archive: Archive, moments: dict[int, datetime]) -> None:
    with archive.session() as session:
        for entry_id, at in moments.items():
            session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(at=at))


def _item_entry_ids(archive: Archive, item_id: int) -> list[int]:
    with archive.Session() as session:
        return list(session.scalars(select(AuditEntry.id).where(AuditEntry.object_type == "item",
                                                                AuditEntry.object_id == item_id)
                                    .order_by(AuditEntry.id)))


# -- histories on pages -----------------------------------------------------------------------

def test_item_page_shows_its_history_with_old_and_new_values_to_archivists(client: FlaskClient, archive: Archive,
                                                                           login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Yalu at dusk", tags=("river",))
    _edit(archive, item_id, title="Yalu at night", date_shot="2019-04~")
    with archive.session(JIN) as session:
        editing.set_item_tags(session, session.get(Item, item_id), ["river", "night"])
    login("archivist")

    section = _history_section(text(client.get(f"/items/{item_id}")))

    assert "<h2 id=\"history-heading\">History</h2>" in section
    title_change = re.search(r"<dt>Title</dt>\s*<dd>(.*?)</dd>", section, re.S).group(1)
    assert re.search(r'history-old">Yalu at dusk</span>.*history-new">Yalu at night</span>', title_change, re.S)
    assert "<dt>Date shot</dt>" in section and "2019-04~" in section
    # Tags as lists, the newest change first, each with who made it.
    assert section.index(">jin<") < section.index(">mina<") < section.index(">system<")
    tags = re.search(r"<dt>Tags</dt>\s*<dd>(.*?)</dd>", section, re.S).group(1)
    assert re.findall(r"<li>([^<]+)</li>", tags) == ["river", "night", "river"]
    assert "Edited" in section and "Created" in section


@pytest.mark.parametrize("role", [None, "researcher"])
def test_history_is_hidden_from_the_public_and_researchers(app: Flask, archive: Archive, make_user,
                                                           role: str | None) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Yalu at dusk", collection="Field tapes", original_name="clip.mov")
    _edit(archive, item_id, title="Yalu at night")
    client = _client(app, make_user, role)

    for path in (f"/items/{item_id}", f"/collections/{_collection_id(archive, 'Field tapes')}"):
        html = text(client.get(path))
        assert "history-section" not in html and "mina" not in html and "Yalu at dusk" not in html, path


def test_long_text_is_shortened_with_the_whole_a_click_away(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    long_text = "The broker waits by the river. " * 20 + "The end of the description."
    _edit(archive, item_id, description=long_text)
    login("admin")

    section = _history_section(text(client.get(f"/items/{item_id}")))

    full = re.search(r'<details class="history-long"><summary>(.*?)</summary>'
                     r'<div class="history-long__full">(.*?)</div></details>', section, re.S)
    assert full and full.group(1).endswith("…") and len(full.group(1)) <= 121
    assert full.group(2) == long_text.strip()


def test_collection_field_changes_show_titles(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip", collection="Field tapes")
    with archive.session(MINA) as session:
        target = Collection(title="Donated tapes")
        session.add(target)
        session.flush()
        editing.update_item(session, session.get(Item, item_id), collection_id=target.id)
    login("archivist")

    section = _history_section(text(client.get(f"/items/{item_id}")))

    assert re.search(r'<dt>Collection</dt>\s*<dd><span class="history-old">Field tapes</span>.*'
                     r'<span class="history-new">Donated tapes</span>', section, re.S)


def _collection_id(archive: Archive, title: str) -> int:
    with archive.Session() as session:
        return session.scalar(select(Collection.id).where(Collection.title == title))


def test_collection_page_shows_its_own_history_and_admins_a_link_to_the_log(app: Flask, archive: Archive,
                                                                            make_user) -> None:  # type: ignore[no-untyped-def]
    add_item(archive, "Clip", collection="Field tapes")
    with archive.session(MINA) as session:
        editing.upsert_collection(session, "Field tapes", year=2019, synopsis="Tapes from the border.")
    collection_id = _collection_id(archive, "Field tapes")
    log_link = f'href="/admin/log?type=collection&amp;id={collection_id}"'

    archivist = _history_section(text(_client(app, make_user, "archivist").get(f"/collections/{collection_id}")))
    admin = _history_section(text(_client(app, make_user, "admin").get(f"/collections/{collection_id}")))

    assert "<dt>Year</dt>" in archivist and "2019" in archivist and "Tapes from the border." in archivist
    assert "mina" in archivist and "Clip" not in archivist  # its own entries, not its items'
    assert log_link in admin and log_link not in archivist


def test_older_changes_fold_away(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Take 0")
    for n in range(1, 13):
        _edit(archive, item_id, title=f"Take {n}")
    login("archivist")

    section = _history_section(text(client.get(f"/items/{item_id}")))

    assert "Show 3 earlier changes" in section
    assert section.index("Take 12") < section.index('<details class="history-earlier">') < section.index(">Take 1<")


# -- the log ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["researcher", "archivist"])
def test_log_and_accounts_are_for_admins_only(app: Flask, make_user, role: str) -> None:  # type: ignore[no-untyped-def]
    client = _client(app, make_user, role)
    for path in ("/admin/log", "/admin/log.csv", "/admin/users"):
        assert client.get(path).status_code == 404, path
    assert 'href="/admin/log"' not in text(client.get("/"))


def test_anonymous_visitors_are_sent_to_log_in_for_the_log(client: FlaskClient) -> None:
    for path in ("/admin/log", "/admin/log.csv", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), path


def test_log_lists_every_entry_newest_first(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Yalu at dusk")
    _edit(archive, item_id, title="Yalu at night")
    login("admin")

    html = text(client.get("/admin/log"))

    assert 'href="/admin/log" aria-current="page">Log</a>' in html
    rows = re.findall(r'<tr class="history-row history-row--(\w+)">.*?log-object__type">(\w+)', html, re.S)
    assert rows == [("create", "user"), ("edit", "item"), ("create", "item")]  # the admin's account is newest
    assert 'history-new">Yalu at night</span>' in html


def test_log_filters_by_user(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    _edit(archive, item_id, title="By mina")
    _edit(archive, item_id, JIN, title="By jin")
    login("admin")

    html = text(client.get("/admin/log?user=jin"))

    assert "1–1 of 1 entry" in html
    assert "By jin" in html and "history-new\">By mina" not in html
    assert '<option value="jin" selected>jin</option>' in html
    assert '<option value="mina">mina</option>' in html


def test_log_filters_by_date_range_whole_days_included(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Take 0")
    for n in range(1, 4):
        _edit(archive, item_id, title=f"Take {n}")
    create, first, second, third = _item_entry_ids(archive, item_id)
    _set_time(archive, {create: datetime(2024, 2, 28, 12, tzinfo=timezone.utc),
                        first: datetime(2024, 3, 1, 0, 0, tzinfo=timezone.utc),
                        second: datetime(2024, 3, 2, 23, 59, 59, tzinfo=timezone.utc),
                        third: datetime(2024, 3, 3, 0, 0, tzinfo=timezone.utc)})
    login("admin")

    html = text(client.get("/admin/log?from=2024-03-01&to=2024-03-02&type=item"))

    assert "of 2 entries" in html
    assert ">Take 1<" in html and ">Take 2<" in html and ">Take 3<" not in html
    assert 'name="from" type="date" value="2024-03-01"' in html


def test_log_filters_by_object_and_action(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    first, second = add_item(archive, "First"), add_item(archive, "Second")
    _edit(archive, first, title="First, renamed")
    with archive.session() as session:
        trash.move_to_trash(session, SYSTEM, [second])
    login("admin")

    by_object = text(client.get(f"/admin/log?type=item&id={first}"))
    by_action = text(client.get("/admin/log?action=delete"))

    assert "of 2 entries" in by_object and "Second" not in by_object
    assert "1–1 of 1 entry" in by_action and "Moved to the trash" in by_action and "First" not in by_action


@pytest.mark.parametrize("query, field, message", [
    ("from=yesterday", "from", "&#39;yesterday&#39; is not a date; write it as YYYY-MM-DD"),
    ("to=2024-02-30", "to", "&#39;2024-02-30&#39; is not a date"),
    ("from=2024-03-02&to=2024-03-01", "to", "the end date 2024-03-01 is before the start date 2024-03-02"),
    ("type=spaceship", "type", "type must be one of"),
])
def test_log_refuses_a_bad_filter_with_a_message_next_to_its_field(client: FlaskClient, login, query: str,
                                                                   field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    login("admin")

    response = client.get(f"/admin/log?{query}")

    html = text(response)
    assert response.status_code == 400
    block = re.search(rf'<div class="field field--error">\s*<label for="log-{field}">.*?</div>', html, re.S)
    assert block and f'<p class="field__error" id="error-{field}">' in block.group(0)
    assert message in block.group(0)
    assert 'aria-invalid="true"' in block.group(0)


@pytest.mark.parametrize("query, status", [
    ("page=0", 400), ("page=%C2%B2", 400), ("page=99999999999", 400), ("id=abc", 400),
    ("to=9999-12-31", 200), ("from=0001-01-01&to=0001-01-01", 200),
])
def test_log_answers_odd_numbers_and_extreme_dates_without_crashing(client: FlaskClient, login, query: str,
                                                                    status: int) -> None:  # type: ignore[no-untyped-def]
    login("admin")

    assert client.get(f"/admin/log?{query}").status_code == status
    assert client.get(f"/admin/log.csv?{query}").status_code == status


def test_log_links_objects_that_still_exist_and_are_visible(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    alive = add_item(archive, "Still here", collection="Field tapes")
    trashed = add_item(archive, "In the trash")
    with archive.session() as session:
        trash.move_to_trash(session, SYSTEM, [trashed])
    login("admin")

    html = text(client.get("/admin/log"))

    assert f'<a href="/items/{alive}">Still here</a>' in html
    assert f'<a href="/collections/{_collection_id(archive, "Field tapes")}">Field tapes</a>' in html
    assert "<span>In the trash</span>" in html and f'href="/items/{trashed}"' not in html
    assert f'href="/admin/log?type=item&amp;id={trashed}"' in html


def test_log_is_paginated(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Take 0")
    for n in range(1, 60):
        _edit(archive, item_id, title=f"Take {n}")
    login("admin")

    first = text(client.get("/admin/log?type=item"))
    second = text(client.get("/admin/log?type=item&page=2"))

    assert "1–50 of 60 entries" in first and ">Take 59<" in first
    assert 'href="/admin/log?type=item&amp;page=2" rel="next"' in first
    assert "51–60 of 60 entries" in second and ">Take 1<" in second and ">Take 59<" not in second
    assert client.get("/admin/log?page=0").status_code == 400


# -- CSV --------------------------------------------------------------------------------------

def _rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(text(response))))


def test_log_exports_csv_one_row_per_changed_field_with_json_values(client: FlaskClient, archive: Archive,
                                                                    login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Yalu at dusk", tags=("river",))
    _edit(archive, item_id, title="Yalu at night", date_shot="2019-04~")
    with archive.session(MINA) as session:
        editing.set_item_tags(session, session.get(Item, item_id), ["river", "night"])
    login("admin")

    response = client.get("/admin/log.csv?user=mina&type=item")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = datetime.now(timezone.utc).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == f"attachment; filename=crossings-audit-{today}.csv"
    assert text(response).splitlines()[0] == ",".join(audit.CSV_COLUMNS)
    rows = _rows(response)
    assert [(r["field"], r["old"], r["new"]) for r in rows] == [
        ("title", '"Yalu at dusk"', '"Yalu at night"'),
        ("date_shot", '""', '"2019-04~"'),
        ("tags", '["river"]', '["night", "river"]'),
    ]
    assert {r["actor"] for r in rows} == {"mina"} and {r["object_id"] for r in rows} == {str(item_id)}
    assert rows[0]["id"] == rows[1]["id"] != rows[2]["id"]


def test_csv_export_keeps_the_date_filter_and_marks_purges(client: FlaskClient, archive: Archive, login) -> None:  # type: ignore[no-untyped-def]
    item_id = add_item(archive, "Clip")
    with archive.session() as session:
        trash.move_to_trash(session, SYSTEM, [item_id])
    with archive.session() as session:
        trash.empty_trash(session, SYSTEM, [item_id])
    old = _item_entry_ids(archive, item_id)[0]
    _set_time(archive, {old: datetime(2020, 1, 1, tzinfo=timezone.utc)})
    login("admin")
    today = datetime.now(timezone.utc).date().isoformat()

    rows = _rows(client.get(f"/admin/log.csv?type=item&from={today}"))

    assert [(r["action"], r["field"]) for r in rows][0] == ("delete", "deleted_at")
    purged = {r["field"]: (r["old"], r["new"]) for r in rows if r["action"] == "purge"}
    # A purge keeps the last values of what was deleted for good.
    assert purged["title"] == ('"Clip"', "") and purged["kind"] == ('"still"', "")
    page = text(client.get(f"/admin/log?type=item&from={today}"))
    assert f'href="/admin/log.csv?from={today}&amp;type=item" download>Download CSV</a>' in page


def test_csv_export_refuses_a_bad_date(client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    login("admin")

    response = client.get("/admin/log.csv?to=31.12.2024")

    assert response.status_code == 400 and "is not a date" in text(response)


def test_csv_cells_that_look_like_formulas_are_defused(archive: Archive) -> None:
    add_item(archive, "=HYPERLINK(\"http://example.com\")")
    with archive.Session() as session:
        rows = list(csv.DictReader(io.StringIO("".join(audit.export_csv(session, audit.AuditQuery())))))
    assert {r["object_label"] for r in rows if r["object_type"] == "item"} == {"'=HYPERLINK(\"http://example.com\")"}


def test_audit_query_dates_are_utc_days(archive: Archive) -> None:
    item_id = add_item(archive, "Clip")
    [entry_id] = _item_entry_ids(archive, item_id)
    _set_time(archive, {entry_id: datetime(2024, 5, 1, 23, 30, tzinfo=timezone.utc)})
    from datetime import date
    with archive.Session() as session:
        found = [audit.find_entries(session, audit.AuditQuery(object_type="item", since=day, until=day))[1]
                 for day in (date(2024, 5, 1), date(2024, 5, 2))]
    assert found == [1, 0]


# -- accounts ---------------------------------------------------------------------------------

def test_accounts_page_lists_roles_and_grants(client: FlaskClient, archive: Archive, make_user, login) -> None:  # type: ignore[no-untyped-def]
    add_item(archive, "Clip", collection="Private donation")
    make_user("researcher", "ana", grants=(_collection_id(archive, "Private donation"),))
    login("admin")

    html = text(client.get("/admin/users"))

    ana = re.search(r'<tr id="user-ana">.*?</tr>', html, re.S).group(0)
    assert "role--researcher" in ana and "<li>Private donation</li>" in ana and "never" in ana
    assert 'href="/admin/log?user=ana"' in ana
    assert "all (admin)" in html
