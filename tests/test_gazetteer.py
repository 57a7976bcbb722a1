"""Gazetteer import: CSV and GeoNames rows, a clear line per bad row, the good rows kept; the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.access import SYSTEM, Viewer
from archive.core import Archive
from archive.models import Place, PlaceKind, Role
from archive.services import NotFound
from archive.services.gazetteer import geonames_kind, guess_format, import_gazetteer

HEADER = "name,kind,country,latitude,longitude,alt_names,parent,description\n"


def _import(archive: Archive, text: str, fmt: str | None = None, source: str = "places.csv"):  # type: ignore[no-untyped-def]
    with archive.session() as session:
        return import_gazetteer(session, SYSTEM, text.splitlines(keepends=True), fmt=fmt, source=source)  # type: ignore[arg-type]


def _places(archive: Archive) -> dict[str, Place]:
    with archive.Session() as session:
        return {p.name: p for p in session.scalars(select(Place))}


def test_csv_rows_become_places_with_parents(archive: Archive) -> None:
    report = _import(archive, HEADER + (
        'Changbai landing,crossing point,CN,41.4123,128.1934,,Changbai,"On the bank, below the town"\n'
        "Hyesan,city,kp,41.40,128.18,혜산|惠山,,\n"
        "Changbai,town,CN,41.42,128.20,长白; 장백,,\n"))
    assert (report.created, report.updated, report.problems) == (3, 0, [])
    found = _places(archive)
    assert found["Hyesan"].alt_names == ["혜산", "惠山"] and found["Hyesan"].country_code == "KP"
    assert found["Changbai"].alt_names == ["长白", "장백"]
    assert found["Changbai landing"].kind is PlaceKind.crossing_point
    assert found["Changbai landing"].parent_id == found["Changbai"].id  # a parent later in the file
    assert found["Changbai landing"].description == "On the bank, below the town"


def test_each_bad_row_is_reported_and_the_good_rows_kept(archive: Archive) -> None:
    report = _import(archive, HEADER + (
        "Hyesan,city,KP,41.40,128.18,,,\n"          # 2: good
        "Atlantis,city,XX,10,10,,,\n"                 # 3: unknown country
        "North Pole camp,camp,,91.5,0,,,\n"           # 4: latitude out of range
        ",village,CN,41,128,,,\n"                     # 5: missing name
        "Manpo,city,KP,41.15,east,,,\n"               # 6: a number that is not one
        "Manpo,castle,KP,41.15,126.29,,,\n"           # 7: unknown kind
        "Sinuiju,city,KP\n"                           # 8: too few fields
        "Hyesan,town,KP,41.41,128.19,,,\n"            # 9: the same place twice in one file
        "Dandong,city,CN,40.13,124.39,,Nowhere,\n"    # 10: good, but its parent is unknown
        "\n"                                          # 11: blank lines are skipped
        "Changbai,town,CN,41.42,128.20,,,\n"))        # 12: good
    assert report.created == 3 and report.updated == 0
    assert set(_places(archive)) == {"Hyesan", "Dandong", "Changbai"}
    assert report.messages() == [
        "places.csv, line 3: unknown country code 'XX' (ISO 3166-1 alpha-2, such as KP, CN or TH)",
        "places.csv, line 4: latitude 91.5 is out of range (-90 to 90)",
        "places.csv, line 5: the name is missing",
        "places.csv, line 6: longitude must be a number of decimal degrees, not 'east'",
        "places.csv, line 7: unknown kind 'castle' (one of " + ", ".join(k.value for k in PlaceKind) + ")",
        "places.csv, line 8: 3 fields where the header has 8",
        "places.csv, line 9: repeats line 2 (the same name and country); left out",
        "places.csv, line 10: parent 'Nowhere' is not a place in the file or the archive; Dandong was imported "
        "without it",
    ]


def test_an_existing_place_is_updated_not_duplicated(archive: Archive) -> None:
    _import(archive, HEADER + "Hyesan,town,KP,41.3,128.1,혜산,,\n")
    report = _import(archive, HEADER + "Hyesan,city,KP,41.40,128.18,Hyesan-si,,On the Yalu.\n")
    assert (report.created, report.updated) == (0, 1)
    with archive.Session() as session:
        assert session.scalar(select(func.count(Place.id))) == 1
    hyesan = _places(archive)["Hyesan"]
    assert (hyesan.kind, hyesan.latitude, hyesan.longitude) == (PlaceKind.city, 41.40, 128.18)
    assert hyesan.alt_names == ["혜산", "Hyesan-si"] and hyesan.description == "On the Yalu."


def test_a_header_without_the_required_columns_imports_nothing(archive: Archive) -> None:
    report = _import(archive, "name,country\nHyesan,KP\n")
    assert report.imported == 0
    assert report.messages() == ["places.csv, line 1: the header has no column 'latitude', 'longitude' (it needs "
                                 "name, latitude and longitude; it may have name, kind, country, latitude, "
                                 "longitude, alt_names, parent, description)"]


def test_header_aliases_and_unknown_columns(archive: Archive) -> None:
    report = _import(archive, "Name,Lat,Lng,Country,Population\nSeoul,37.57,126.98,KR,9700000\n")
    assert report.created == 1
    assert report.messages() == ["places.csv, line 1: column 'population' is not a gazetteer column and is ignored"]


def _geonames(*rows: tuple[str, ...]) -> str:
    return "".join("\t".join(row) + "\n" for row in rows)


def _row(geonameid: str, name: str, lat: str, lon: str, klass: str, code: str, country: str,
         population: str = "0", alternates: str = "") -> tuple[str, ...]:
    return (geonameid, name, name, alternates, lat, lon, klass, code, country, "", "", "", "", "", population, "",
            "100", "Asia/Pyongyang", "2024-01-01")


def test_geonames_rows_map_feature_codes_to_kinds(archive: Archive) -> None:
    text = _geonames(
        _row("2044757", "Hyesan", "41.39111", "128.19278", "P", "PPLA", "KP", "192680", "Hjesan,Hyesan-si,혜산"),
        _row("1", "Amnok-kang", "40.1", "124.3", "H", "STM", "KP"),
        _row("2", "Paektu-san", "42.0", "128.06", "T", "MT", "KP"),
        _row("3", "Tiny", "41.0", "128.0", "P", "PPL", "KP", "120"),
        _row("4", "Nowhere", "95", "128.0", "P", "PPL", "KP"),        # bad latitude
        _row("5", "Elsewhere", "41", "128.0", "P", "PPL", "QQ"),      # bad country
        ("6", "Short row", "41"))                                      # not 19 columns
    assert guess_format(text.splitlines()[0]) == "geonames"
    report = _import(archive, text, source="KP.txt")
    assert report.created == 4
    found = _places(archive)
    assert {name: p.kind for name, p in found.items()} == {
        "Hyesan": PlaceKind.city, "Amnok-kang": PlaceKind.river, "Paektu-san": PlaceKind.mountain,
        "Tiny": PlaceKind.village}
    assert found["Hyesan"].alt_names == ["Hjesan", "Hyesan-si", "혜산"]
    assert found["Hyesan"].description == "GeoNames 2044757 (P.PPLA)"
    assert report.messages() == [
        "KP.txt, line 5: latitude 95 is out of range (-90 to 90)",
        "KP.txt, line 6: unknown country code 'QQ' (ISO 3166-1 alpha-2, such as KP, CN or TH)",
        "KP.txt, line 7: 3 tab-separated columns where a GeoNames row has 19",
    ]


@pytest.mark.parametrize(("klass", "code", "population", "kind"), [
    ("P", "PPLC", 0, PlaceKind.city), ("P", "PPL", 150_000, PlaceKind.city), ("P", "PPL", 8_000, PlaceKind.town),
    ("P", "PPL", 50, PlaceKind.village), ("S", "PSTB", 0, PlaceKind.border_post), ("S", "CMPRF", 0, PlaceKind.camp),
    ("S", "AIRP", 0, PlaceKind.airport), ("H", "LK", 0, PlaceKind.lake), ("A", "ADM1", 0, PlaceKind.region),
    ("T", "PASS", 0, PlaceKind.mountain), ("R", "RD", 0, PlaceKind.other), ("S", "SCH", 0, PlaceKind.building),
])
def test_geonames_kind(klass: str, code: str, population: int, kind: PlaceKind) -> None:
    assert geonames_kind(klass, code, population) is kind


def test_only_editors_import(archive: Archive) -> None:
    with archive.session() as session, pytest.raises(NotFound):
        import_gazetteer(session, Viewer(role=Role.researcher), [HEADER])


# -- the command line ---------------------------------------------------------------------------

def test_cli_import_exits_0_when_anything_was_imported(runner, archive: Archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "route.csv"
    path.write_text(HEADER + "Hyesan,city,KP,41.40,128.18,,,\nAtlantis,city,XX,1,1,,,\n", encoding="utf-8")
    result = runner.invoke(args=["places", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}, line 3: unknown country code 'XX'" in result.stderr
    assert "1 places created, 0 updated, 1 problems" in result.stdout
    listed = runner.invoke(args=["places", "list", "--country", "KP"])
    assert listed.exit_code == 0 and "Hyesan\tcity\tKP\t41.40000, 128.18000\texact\t0 items" in listed.stdout
    geojson = runner.invoke(args=["places", "list", "--json"])
    assert '"coordinates": [128.18, 41.4]' in geojson.stdout


def test_cli_import_exits_1_when_nothing_was_imported(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Atlantis,city,XX,1,1,,,\n", encoding="utf-8")
    result = runner.invoke(args=["places", "import", str(bad)])
    assert result.exit_code == 1 and f"{bad}, line 2: unknown country code" in result.stderr
    binary = tmp_path / "latin1.csv"  # a spreadsheet saved as Latin-1
    binary.write_bytes(HEADER.encode() + "Hà Noi,city,VN,21.03,105.85,,,\n".encode("latin-1"))
    result = runner.invoke(args=["places", "import", str(binary)])
    assert result.exit_code == 1 and "cannot read it as UTF-8 text" in result.stderr
    missing = runner.invoke(args=["places", "import", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2


def test_cli_imports_a_big_geonames_file_with_a_format_option(runner, archive: Archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cities.txt"
    path.write_text(_geonames(*(_row(str(n), f"Town {n}", f"{10 + n / 1000:.4f}", "100.5", "P", "PPL", "TH", "9000")
                                for n in range(1500))), encoding="utf-8")
    result = runner.invoke(args=["places", "import", str(path), "--format", "geonames"])
    assert result.exit_code == 0, result.output
    assert "1500 places created" in result.stdout
    with archive.Session() as session:
        assert session.scalar(select(func.count(Place.id)).where(Place.kind == PlaceKind.town)) == 1500
