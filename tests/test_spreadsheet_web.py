"""The spreadsheet round trip from the web (Download as CSV → edit a cell → upload → dry run → apply →
the audit batch) and from the command line."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.core import Archive
from archive.interchange.spreadsheet import BOM
from archive.models import AccessLevel, AuditEntry, Item, ItemKind
from conftest import csrf_token
from test_web import add_item


@pytest.fixture
def items(archive: Archive) -> dict[str, int]:
    return {"river": add_item(archive, "At the river", access=AccessLevel.public, collection="Film", tags=("river",)),
            "bank": add_item(archive, "River bank", access=AccessLevel.public, collection="Film", tags=("river",)),
            "house": add_item(archive, "Safe house", access=AccessLevel.restricted, tags=("house",)),
            "secret": add_item(archive, "Hidden tape", access=AccessLevel.confidential, collection="Hidden")}


def rows_of(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM.encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def upload(client: FlaskClient, data: bytes, name: str = "sheet.csv"):  # type: ignore[no-untyped-def]
    return client.post("/import/csv", data={"csrf_token": csrf_token(client, "/import/csv"),
                                            "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_browse_downloads_every_matching_item_as_csv(client: FlaskClient, items: dict[str, int]) -> None:
    response = client.get("/items.csv?tag=river&sort=title&per_page=1&page=2")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == f"attachment; filename=crossings-items-{today}.csv"
    assert [r["title"] for r in rows_of(response.data)] == ["At the river", "River bank"]  # every page, in its sort
    # anonymous visitors: public items only
    assert {r["title"] for r in rows_of(client.get("/items.csv").data)} == {"At the river", "River bank"}
    assert client.get("/items.csv?kind=nonsense").status_code == 400
    page = client.get("/items?tag=river&sort=title&page=1").get_data(as_text=True)
    assert 'href="/items.csv?tag=river&amp;sort=title"' in page


def test_search_and_collection_download_what_they_show(client: FlaskClient, login, items: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    titles = {r["title"] for r in rows_of(client.get("/search.csv?q=river").data)}
    assert titles == {"At the river", "River bank"}
    assert "/search.csv?q=river" in client.get("/search?q=river").get_data(as_text=True)
    with client.application.extensions["crossings"].Session() as session:
        film, hidden = (session.scalar(select(Item.collection_id).where(Item.id == items[name])) for name in ("river", "secret"))
    response = client.get(f"/collections/{film}.csv")
    assert response.status_code == 200 and f"crossings-collection-{film}-" in response.headers["Content-Disposition"]
    assert len(rows_of(response.data)) == 2
    assert client.get(f"/collections/{hidden}.csv").status_code == 404  # as its page is
    login("researcher")
    assert {r["title"] for r in rows_of(client.get("/items.csv").data)} == {"At the river", "River bank", "Safe house"}
    assert client.get("/import/csv").status_code == 404  # not an editor: the import is absent


def test_the_round_trip_from_the_web(client: FlaskClient, archive: Archive, login, items: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    login("admin")
    exported = client.get("/items.csv?tag=river").data.decode("utf-8-sig")
    edited = exported.replace("River bank,", "River bank at dusk,")
    edited += ",,A reel in the donor's attic,,,,,,,,,,,,,,,,,,,,\r\n"
    page = upload(client, edited.encode("utf-8-sig"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "1 item would change, 1 would be created, 0 problems" in html
    assert "River bank at dusk" in html and "A reel in the donor&#39;s attic" in html
    with archive.Session() as session:
        assert session.get(Item, items["bank"]).title == "River bank"  # the dry run changed nothing
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    done = client.post("/import/csv/apply", data={"csrf_token": csrf_token(client, "/import/csv"), "token": token})
    html = done.get_data(as_text=True)
    assert done.status_code == 200, html
    assert "1 item changed, 1 created, 0 problems" in html
    with archive.Session() as session:
        assert session.get(Item, items["bank"]).title == "River bank at dusk"
        created = session.scalar(select(Item).where(Item.title == "A reel in the donor's attic"))
        assert created.kind is ItemKind.catalogued
    batch_url = re.search(r'href="(/admin/log\?batch=[0-9a-f]+)"', html).group(1)
    log = client.get(batch_url).get_data(as_text=True)
    assert "River bank at dusk" in log and "A reel in the donor" in log and "At the river" not in log
    assert client.get("/admin/log?batch=not!a+batch").status_code == 400
    # the token is spent: applying twice is refused
    again = client.post("/import/csv/apply", data={"csrf_token": csrf_token(client, "/import/csv"), "token": token})
    assert again.status_code == 400 and "upload the file again" in again.get_data(as_text=True)


def test_a_bad_upload_is_a_readable_400(client: FlaskClient, login, items: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    login("archivist")
    response = upload(client, "id,title\n1,Café\n".encode("latin-1"))
    assert response.status_code == 400 and "not UTF-8" in response.get_data(as_text=True)
    response = client.post("/import/csv", data={"csrf_token": csrf_token(client, "/import/csv")})
    assert response.status_code == 400 and "Choose a CSV file" in response.get_data(as_text=True)
    html = upload(client, f"id,title,colour\n{items['secret']},x,red\n".encode()).get_data(as_text=True)
    assert "line 1, column colour (C): unknown column" in html
    assert f"line 2: item {items['secret']} does not exist or you may not see it" in html
    assert "Apply these changes" not in html  # nothing to apply


def test_the_round_trip_from_the_command_line(runner: CliRunner, archive: Archive, items: dict[str, int],
                                             tmp_path: Path) -> None:
    out = tmp_path / "items.csv"
    result = runner.invoke(args=["export", "csv", "-o", str(out), "--public"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(BOM.encode())
    assert {r["title"] for r in rows_of(out.read_bytes())} == {"At the river", "River bank"}
    out.write_text(out.read_text(encoding="utf-8-sig").replace("At the river,", "At the river at night,"),
                   encoding="utf-8-sig")
    dry = runner.invoke(args=["import", "csv", str(out)])
    assert dry.exit_code == 0, dry.output
    assert "'At the river' → 'At the river at night'" in dry.output
    assert "1 item would change, 0 would be created, 0 problems" in dry.output
    with archive.Session() as session:
        assert session.get(Item, items["river"]).title == "At the river"
    applied = runner.invoke(args=["import", "csv", str(out), "--apply", "--json"])
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.stdout.splitlines()[0])
    assert [row["id"] for row in report["updated"]] == [items["river"]] and report["batch"]
    with archive.Session() as session:
        assert session.get(Item, items["river"]).title == "At the river at night"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"id,title,date_shot\n{items['bank']},Bank,not a date\n", encoding="utf-8")
    refused = runner.invoke(args=["import", "csv", str(bad), "--apply"])
    assert refused.exit_code == 1
    assert f"crossings: {bad}: line 2, column date_shot (C): " in refused.output
    found = runner.invoke(args=["export", "csv", "--search", "river", "--filter", "tag=river"])
    assert found.exit_code == 0, found.output
    assert {r["title"] for r in rows_of(found.stdout_bytes)} == {"At the river at night", "River bank"}
    stdout = runner.invoke(args=["export", "csv", "--collection", "999999"])
    assert stdout.exit_code == 1 and "does not exist" in stdout.output


def test_the_command_line_acts_as_an_account(runner: CliRunner, archive: Archive, make_user,  # type: ignore[no-untyped-def]
                                             items: dict[str, int], tmp_path: Path) -> None:
    researcher, archivist = make_user("researcher"), make_user("archivist")
    exported = runner.invoke(args=["export", "csv", "--as", researcher])
    assert exported.exit_code == 0, exported.output
    assert {r["title"] for r in rows_of(exported.stdout_bytes)} == {"At the river", "River bank", "Safe house"}
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"id,title\n{items['house']},Safe house, upstairs\n{items['secret']},Hidden\n".replace(
        "Safe house, upstairs", '"Safe house, upstairs"'), encoding="utf-8")
    refused = runner.invoke(args=["import", "csv", str(sheet), "--as", researcher])
    assert refused.exit_code == 1 and "only archivists and admins import" in refused.output
    assert "there is no account 'nobody'" in runner.invoke(args=["import", "csv", str(sheet), "--as", "nobody"]).output
    applied = runner.invoke(args=["import", "csv", str(sheet), "--as", archivist, "--apply"])
    assert applied.exit_code == 1  # the confidential item is not theirs to see
    assert f"line 3: item {items['secret']} does not exist or you may not see it" in applied.output
    with archive.Session() as session:
        assert session.get(Item, items["house"]).title == "Safe house, upstairs"
        entry = session.scalar(select(AuditEntry).where(AuditEntry.object_id == items["house"],
                                                        AuditEntry.action == "csv_import"))
        assert entry.actor == archivist


def test_an_item_saved_between_the_dry_run_and_the_apply_is_not_reverted(client: FlaskClient, archive: Archive,
                                                                         login, items: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    login("archivist")
    sheet = f"id,title,creator\r\n{items['river']},At the river,Mina\r\n{items['bank']},River bank,Mina\r\n"
    html = upload(client, sheet.encode()).get_data(as_text=True)
    assert "2 items would change" in html
    with archive.session() as session:  # someone else renames one item meanwhile
        session.get(Item, items["river"]).title = "Renamed by someone else"
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    done = client.post("/import/csv/apply", data={"csrf_token": csrf_token(client, "/import/csv"), "token": token})
    html = done.get_data(as_text=True)
    assert "1 item changed, 0 created, 1 problem" in html
    assert f"line 2: conflict: item {items['river']} was changed by someone else after the dry run" in html
    assert "/admin/log?batch=" not in html  # the audit log is for admins
    with archive.Session() as session:
        assert session.get(Item, items["river"]).title == "Renamed by someone else"
        assert session.get(Item, items["bank"]).creator == "Mina"
