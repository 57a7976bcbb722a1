"""The spreadsheet round trip as a service: the columns, formulas neutralised and back, the dry run,
applying it as one audit batch, bad cells, unknown columns, stale rows, and what each viewer's export holds."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from archive.access import ANONYMOUS, SYSTEM, Role, Viewer
from archive.core import Archive
from archive.interchange.spreadsheet import (BOM, COLUMN_NAMES, COLUMNS, column_letter, join_list, neutralise,
                                             split_list, unneutralise, write_items_csv)
from archive.interchange.spreadsheet_import import apply_csv_import, plan_csv_import
from archive.models import (AccessLevel, AuditEntry, Collection, Item, ItemKind, Journey, Leg, LocationPrecision,
                            Place, SourceRecord)
from archive.services import NotFound
from test_web import add_item

ARCHIVIST = Viewer(role=Role.archivist, user_id=None, name="archivist")
RESEARCHER = Viewer(role=Role.researcher, name="researcher")
TRICKY_TITLES = ("=HYPERLINK(\"http://evil.example\",\"click\")", "-3 °C at the river", "'=already quoted", "@night",
                 "+82 10", "\tindented", "''+twice quoted", "plain ' quote")


@pytest.fixture
def catalogue(archive: Archive) -> dict[str, int]:
    ids = {"film": 0}
    ids["exact"] = add_item(archive, "At the river", access=AccessLevel.public, collection="Film", tags=("river", "night"),
                            date_shot="2019-04", location_precision=LocationPrecision.exact,
                            original_name="river.jpg", media={"duration": 12.5})
    ids["km10"] = add_item(archive, "Safe house", access=AccessLevel.restricted, collection="Film",
                           location_precision=LocationPrecision.km10, original_name="safehouse.jpg")
    ids["secret"] = add_item(archive, "Confidential tape", access=AccessLevel.confidential, collection="Hidden")
    with archive.session() as session:
        hyesan = Place(name="Hyesan", latitude=41.4, longitude=128.2, access=AccessLevel.public)
        changbai = Place(name="Changbai", latitude=41.42, longitude=128.19, access=AccessLevel.public)
        hidden = Place(name="Secret camp", latitude=41.0, longitude=128.0, access=AccessLevel.confidential)
        journey = Journey(title="Across the Yalu", access=AccessLevel.public)
        leg = Leg(journey=journey, position=1, from_place=hyesan, to_place=changbai)
        item = session.get(Item, ids["exact"])
        item.places = [hyesan, hidden]
        item.legs = [leg]
        session.add_all([hyesan, changbai, hidden, journey, leg])
        session.flush()
        ids.update(hyesan=hyesan.id, changbai=changbai.id, hidden_place=hidden.id, leg=leg.id,
                   film=session.scalar(select(Collection.id).where(Collection.title == "Film")))
    return ids


def export(archive: Archive, viewer: Viewer, ids: list[int] | None = None) -> str:
    out = io.StringIO(newline="")
    with archive.Session() as session:
        if ids is None:
            ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        write_items_csv(out, session, viewer, ids)
    return out.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))


def plan(archive: Archive, text: str | bytes, viewer: Viewer = ARCHIVIST):  # type: ignore[no-untyped-def]
    with archive.Session() as session:
        return plan_csv_import(session, viewer, text, source_name="sheet.csv")


def apply(archive: Archive, text: str | bytes, viewer: Viewer = ARCHIVIST):  # type: ignore[no-untyped-def]
    with archive.session(viewer) as session:
        made = plan_csv_import(session, viewer, text, source_name="sheet.csv")
        return apply_csv_import(session, viewer, made, settings=archive.settings)


def sheet(*rows: dict[str, Any]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_the_columns_are_declared_once_with_help() -> None:
    assert COLUMN_NAMES[:3] == ("id", "pid", "title")
    assert len(set(COLUMN_NAMES)) == len(COLUMN_NAMES)
    assert all(column.help.endswith(".") or column.help.endswith(")") for column in COLUMNS)
    editable = {c.name for c in COLUMNS if c.editable}
    assert editable == {"title", "date_shot", "access", "location_precision", "collection", "tags", "places",
                        "legs", "creator", "description", "language", "rights", "source"}
    assert [column_letter(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]


def test_the_export_holds_one_row_per_item_with_the_documented_columns(archive: Archive,
                                                                     catalogue: dict[str, int]) -> None:
    text = export(archive, SYSTEM)
    assert text.startswith(BOM + "id,pid,title,")
    rows = {int(r["id"]): r for r in rows_of(text)}
    row = rows[catalogue["exact"]]
    assert row["title"] == "At the river" and row["kind"] == "still"
    assert (row["date_shot"], row["date_lower"], row["date_upper"]) == ("2019-04", "2019-04-01", "2019-04-30")
    assert row["collection"] == "Film" and row["tags"] == "night; river"
    assert row["places"] == f"Hyesan [{catalogue['hyesan']}]; Secret camp [{catalogue['hidden_place']}]"
    assert row["legs"] == f"Across the Yalu, leg 1 [{catalogue['leg']}]"
    assert row["duration"] == "12.5" and row["original_name"] == "river.jpg" and len(row["sha256"]) == 64
    assert row["pid"].startswith(("ark:", "urn:uuid:")) and row["version"].isdigit()


def test_a_researchers_export_holds_only_what_they_may_see(archive: Archive, catalogue: dict[str, int]) -> None:
    rows = {int(r["id"]): r for r in rows_of(export(archive, RESEARCHER))}
    assert set(rows) == {catalogue["exact"], catalogue["km10"]}  # no confidential item
    assert rows[catalogue["km10"]]["sha256"] == "" and rows[catalogue["km10"]]["original_name"] == ""
    assert len(rows[catalogue["exact"]]["sha256"]) == 64  # exact precision: the original is theirs to have
    assert "Secret camp" not in rows[catalogue["exact"]]["places"]
    assert {int(r["id"]) for r in rows_of(export(archive, ANONYMOUS))} == {catalogue["exact"]}


@pytest.mark.parametrize("title", TRICKY_TITLES)
def test_formulas_are_neutralised_and_the_round_trip_is_exact(title: str) -> None:
    cell = neutralise(title)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralise(cell) == title


def test_the_tricky_titles_survive_export_and_import(archive: Archive, catalogue: dict[str, int]) -> None:
    ids = [add_item(archive, title) for title in TRICKY_TITLES]
    text = export(archive, SYSTEM, ids)
    cells = [r["title"] for r in rows_of(text)]
    assert cells[0] == "'" + TRICKY_TITLES[0] and cells[2] == "''=already quoted" and cells[3] == "'@night"
    assert cells[-1] == "plain ' quote"
    made = plan(archive, text)
    assert made.problems == [] and made.updates == [] and made.unchanged == len(TRICKY_TITLES)
    # changed to another formula-like title, it is taken back without its quote
    edited = text.replace("'-3 °C at the river", "'-5 °C at the river")
    result = apply(archive, edited)
    assert [c.new for r in result.updated for c in r.changes] == ["-5 °C at the river"]
    with archive.Session() as session:
        assert session.get(Item, ids[1]).title == "-5 °C at the river"


def test_lists_escape_their_separator() -> None:
    assert join_list(["a;b", "c\\d", "e"]) == "a\\;b; c\\\\d; e"
    assert split_list(join_list(["a;b", "c\\d", "e"])) == ["a;b", "c\\d", "e"]
    assert split_list(" ; x ;; ") == ["x"]


def test_the_dry_run_lists_changes_and_changes_nothing(archive: Archive, catalogue: dict[str, int]) -> None:
    rows = rows_of(export(archive, ARCHIVIST))
    for row in rows:
        if int(row["id"]) == catalogue["exact"]:
            row.update(title="At the river, at dawn", tags="river; dawn", access="restricted")
    rows.append({name: "" for name in COLUMN_NAMES} | {"title": "A tape not yet digitised", "date_shot": "1998?"})
    made = plan(archive, sheet(*rows))
    assert made.problems == []
    assert [(r.item_id, [(c.column, c.old, c.new) for c in r.changes]) for r in made.updates] == [
        (catalogue["exact"], [("title", "At the river", "At the river, at dawn"), ("access", "public", "restricted"),
                              ("tags", "night; river", "river; dawn")])]
    assert [r.title for r in made.creates] == ["A tape not yet digitised"]
    assert made.summary() == "1 item would change, 1 would be created, 0 problems"
    with archive.Session() as session:
        assert session.get(Item, catalogue["exact"]).title == "At the river"
        assert session.scalar(select(Item).where(Item.title == "A tape not yet digitised")) is None


def test_apply_changes_items_creates_catalogued_ones_in_one_audit_batch(archive: Archive,
                                                                       catalogue: dict[str, int]) -> None:
    text = sheet({"id": catalogue["exact"], "title": "At the river, at dawn", "tags": "river; dawn",
                  "places": f"Changbai [{catalogue['changbai']}]", "location_precision": "km10"},
                 {"id": "", "title": "A tape not yet digitised", "tags": "tape", "places": "Hyesan"})
    result = apply(archive, text)
    assert result.problems == [] and len(result.updated) == 1 and len(result.created) == 1
    with archive.Session() as session:
        item = session.get(Item, catalogue["exact"])
        assert item.title == "At the river, at dawn" and [t.name for t in item.tags] == ["dawn", "river"]
        assert [p.name for p in item.places] == ["Changbai"] and item.location_precision is LocationPrecision.km10
        new = session.get(Item, result.created[0].item_id)
        assert new.kind is ItemKind.catalogued and new.media is None and [t.name for t in new.tags] == ["tape"]
        assert new.access is AccessLevel(archive.settings["default_access"]) and [p.name for p in new.places] == ["Hyesan"]
        record = session.scalar(select(SourceRecord).where(SourceRecord.item_id == new.id))
        assert record.format == "csv" and "A tape not yet digitised" in record.content
        assert record.item_version == new.version
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.batch == result.batch)))
        assert {e.action for e in entries} == {"csv_import"}
        assert {e.object_id for e in entries if e.object_type == "item"} == {item.id, new.id}


def test_each_bad_cell_names_its_line_and_column_and_good_rows_still_apply(archive: Archive,
                                                                          catalogue: dict[str, int]) -> None:
    text = ("id,title,date_shot,access,collection,places,duration,colour\r\n"
            f"{catalogue['exact']},Renamed,\"not a\ndate\",public,Film,,12.5,red\r\n"
            f"{catalogue['km10']},Also renamed,2020,secret,Nowhere,Secret camp [{catalogue['hidden_place']}],,\r\n"
            f"{catalogue['secret']},Fine title,,confidential,Hidden,,99,\r\n"
            "999999,Ghost,,,,,,\r\n"
            ",,2020,,,,,\r\n")
    made = plan(archive, text, ARCHIVIST)
    problems = [str(p) for p in made.problems]
    assert problems[0].startswith("line 1, column colour (H): unknown column 'colour'")
    assert any(p.startswith("line 2, column date_shot (C): ") for p in problems)  # the row starts on line 2
    assert "line 4, column access (D): access must be one of public, restricted, confidential, not 'secret'" in problems
    assert any(p.startswith("line 4, column collection (E): there is no collection titled 'Nowhere'") for p in problems)
    # a plain archivist may not see the confidential item: absent, on the line of its row
    assert "line 5: item %d does not exist or you may not see it" % catalogue["secret"] in problems
    assert "line 6: item 999999 does not exist or you may not see it" in problems
    assert any(p.startswith("line 7: no id and no title") for p in problems)
    assert made.updates == [] and made.creates == []
    # an admin sees the confidential item; its read-only duration is reported and its title still applies
    result = apply(archive, text, SYSTEM)
    assert [r.item_id for r in result.updated] == [catalogue["secret"]]
    assert any(str(p).startswith("line 5, column duration (G): column not editable") for p in result.problems)
    with archive.Session() as session:
        assert session.get(Item, catalogue["secret"]).title == "Fine title"
        assert session.get(Item, catalogue["exact"]).title == "At the river"  # its row had a bad date


def test_only_editors_import_and_missing_places_and_legs_are_refused(archive: Archive,
                                                                    catalogue: dict[str, int]) -> None:
    text = sheet({"id": catalogue["exact"], "places": "Atlantis [987654]", "legs": "Some journey, leg 9 [987654]"})
    with pytest.raises(NotFound):
        plan(archive, text, RESEARCHER)
    problems = [str(p) for p in plan(archive, text).problems]
    assert any(p.startswith("line 2, column places (B): there is no place") for p in problems)
    assert "line 2, column legs (C): there is no leg 987654" in problems


def test_a_sheet_of_some_columns_touches_only_those(archive: Archive, catalogue: dict[str, int]) -> None:
    result = apply(archive, sheet({"id": catalogue["exact"], "title": "Only the title"}))
    assert result.problems == []
    with archive.Session() as session:
        item = session.get(Item, catalogue["exact"])
        assert item.title == "Only the title" and [t.name for t in item.tags] == ["night", "river"]
        assert item.collection.title == "Film" and len(item.places) == 2


def test_a_row_exported_before_someone_else_saved_the_item_is_a_conflict(archive: Archive,
                                                                         catalogue: dict[str, int]) -> None:
    text = export(archive, SYSTEM, [catalogue["exact"], catalogue["km10"]])
    with archive.session() as session:
        session.get(Item, catalogue["exact"]).creator = "Someone else"
    edited = text.replace("At the river", "Mine").replace("Safe house", "Also mine")
    result = apply(archive, edited)
    assert [r.item_id for r in result.updated] == [catalogue["km10"]]
    assert len(result.problems) == 1 and str(result.problems[0]).startswith("line 2, column version (W): conflict")
    with archive.Session() as session:
        assert session.get(Item, catalogue["exact"]).title == "At the river"


def test_a_file_that_is_not_utf8_is_refused(archive: Archive, catalogue: dict[str, int]) -> None:
    from archive.services import Invalid
    with pytest.raises(Invalid, match="not UTF-8"):
        plan(archive, "id,title\n1,Caf\u00e9\n".encode("latin-1"))
    # with and without a byte order mark
    for data in (f"id,title\n{catalogue['exact']},Caf\u00e9\n".encode("utf-8-sig"),
                 f"id,title\n{catalogue['exact']},Caf\u00e9\n".encode()):
        assert [c.new for r in plan(archive, data).updates for c in r.changes] == ["Caf\u00e9"]


def test_the_export_is_streamed_in_chunks(archive: Archive, catalogue: dict[str, int],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.interchange import spreadsheet
    monkeypatch.setattr(spreadsheet, "CHUNK", 2)
    with archive.Session() as session:
        ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        pieces = list(spreadsheet.iter_items_csv(session, SYSTEM, ids))
    assert len(pieces) == 3 and "".join(pieces) == export(archive, SYSTEM, ids)


def test_the_docs_table_matches_the_columns() -> None:
    from archive.interchange.spreadsheet import markdown_table
    doc = (Path(__file__).resolve().parent.parent / "docs" / "interchange.md").read_text(encoding="utf-8")
    section = doc.split("\n## CSV", 1)[1].split("\n## ", 1)[0]
    assert markdown_table() in section, "regenerate the table: python -c 'from archive.interchange.spreadsheet " \
                                        "import markdown_table; print(markdown_table())'"


def test_a_full_export_reads_back_as_unchanged(archive: Archive, catalogue: dict[str, int]) -> None:
    with archive.session() as session:
        session.get(Item, catalogue["exact"]).description = "Two lines,\nwith a comma and \"quotes\"."
    text = export(archive, SYSTEM)
    made = plan(archive, text, SYSTEM)
    assert made.problems == [] and made.updates == [] and made.unchanged == 3
    # the same with names dropped from places and legs (the ids decide) and tags reordered in another case
    row = rows_of(text)[0]
    edited = sheet({"id": row["id"], "tags": "River; NIGHT", "places": f"[{catalogue['hyesan']}]; "
                    f"[{catalogue['hidden_place']}]", "legs": f"[{catalogue['leg']}]", "duration": "12.50"})
    made = plan(archive, edited, SYSTEM)
    assert made.problems == [] and made.updates == [] and made.unchanged == 1


def test_a_sheet_saved_with_semicolons_is_read(archive: Archive, catalogue: dict[str, int]) -> None:
    made = plan(archive, f"id;title\r\n{catalogue['exact']};\"At the river; again\"\r\n")
    assert [c.new for r in made.updates for c in r.changes] == ["At the river; again"]


def test_the_audit_log_finds_an_import_by_its_batch(archive: Archive, catalogue: dict[str, int]) -> None:
    from archive.services import Invalid, audit
    result = apply(archive, sheet({"id": catalogue["exact"], "title": "Renamed", "creator": ""},
                                  {"id": catalogue["km10"], "title": "Safe house", "creator": "Mina"}))
    apply(archive, sheet({"id": catalogue["exact"], "title": "Renamed again"}))  # another batch
    with archive.Session() as session:
        page = audit.entry_page(session, audit.parse_audit_query({"batch": result.batch}))
        assert sorted(e.object_id for e in page.entries) == sorted([catalogue["exact"], catalogue["km10"]])
        assert audit.query_args(audit.parse_audit_query({"batch": result.batch})) == {"batch": result.batch}
    with pytest.raises(Invalid, match="batch"):
        audit.parse_audit_query({"batch": "'; drop"})


def test_a_repeated_item_and_an_empty_column_are_handled(archive: Archive, catalogue: dict[str, int]) -> None:
    text = (f"id,title,,notes\r\n{catalogue['exact']},First,,\r\n{catalogue['exact']},Second,,x\r\n"
            f"{catalogue['km10']},1e3,,\r\n")
    made = plan(archive, text)
    problems = [str(p) for p in made.problems]
    assert problems[0].startswith("line 1, column notes (D): unknown column 'notes'")  # the empty column C is not
    assert f"line 3, column id (A): item {catalogue['exact']} is on an earlier row too; this row is not applied" \
        in problems
    assert len(problems) == 2
    assert [(r.item_id, r.changes[0].new) for r in made.updates] == [(catalogue["exact"], "First"),
                                                                      (catalogue["km10"], "1e3")]


def test_a_researchers_export_imported_by_an_editor_reports_no_withheld_cells(archive: Archive,
                                                                              catalogue: dict[str, int]) -> None:
    text = export(archive, RESEARCHER)
    assert rows_of(text)[1]["sha256"] == ""  # withheld from the researcher: the editor's import is not told
    made = plan(archive, text, SYSTEM)
    # the exact item's hidden place was left out of the researcher's sheet: the dry run says it would go
    assert made.problems == [] and [(r.item_id, [c.column for c in r.changes]) for r in made.updates] == [
        (catalogue["exact"], ["places"])]
