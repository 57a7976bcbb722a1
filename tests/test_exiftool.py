"""Location and capture time from every carrier (issue 10 §1): ExifTool, one call per batch, at ingest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive import mediatools
from archive.core import Archive
from archive.mediatools import exiftool
from archive.models import MediaFile
from archive.services.ingest import IngestOptions, ingest_paths
from mediagen import (DJI_NEW_STYLE, DJI_OLD_STYLE, make_gpmf_video, make_jpeg, make_png_late_exif,
                      make_subtitle_gps_video, make_video, make_xmp_jpeg, xmp_gps_tags, exiftool_write,
                      exiftool_write_each)

LAT, LON, ALT = 41.5, -128.25, 10.0
LIMIT = 120_000_000


def identify(path: Path) -> mediatools.MediaInfo:
    return mediatools.identify(path, ffprobe_timeout=30, max_image_pixels=LIMIT)


# Each carrier of the issue, made at test time. ffprobe and Pillow find none of these but ©xyz,
# which stays here to show that what they read keeps being read.
CARRIERS: dict[str, Callable[[Path], Path]] = {
    "xmp-only.jpg": lambda p: make_xmp_jpeg(p, LAT, LON, ALT, date="2021:05:06 07:08:09+02:00"),
    "late-exif.png": lambda p: make_png_late_exif(p, gps=(LAT, LON, ALT), date="2021:05:06 07:08:09"),
    "xmp.mov": lambda p: exiftool_write(make_video(p, duration=1.0), *xmp_gps_tags(LAT, LON)),
    "keys.mov": lambda p: exiftool_write(make_video(p, duration=1.0), f"-Keys:GPSCoordinates={LAT}, {LON}, {ALT}"),
    "phone-xyz.mov": lambda p: make_video(p, duration=1.0, location=f"{LAT:+08.4f}{LON:+09.4f}+010.000/"),
    "gopro.mp4": lambda p: make_gpmf_video(p, LAT, LON, ALT, duration=1.0),
    "drone-old.mp4": lambda p: make_subtitle_gps_video(p, LAT, LON, ALT, style=DJI_OLD_STYLE, duration=2.0),
    "drone-new.mp4": lambda p: make_subtitle_gps_video(p, LAT, LON, ALT, style=DJI_NEW_STYLE, duration=2.0),
}
#: Carriers the reading before ExifTool missed.
MISSED_BEFORE = set(CARRIERS) - {"phone-xyz.mov", "keys.mov"}


@pytest.fixture(scope="module")
def carriers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("carriers")
    for name, make in CARRIERS.items():
        make(folder / name)
    return folder


def test_read_embedded_finds_every_carrier_in_one_call(carriers: Path) -> None:
    paths = [carriers / name for name in CARRIERS]
    found = dict(zip(CARRIERS, mediatools.read_embedded(paths, timeout=120), strict=True))
    for name, embedded in found.items():
        assert (embedded.latitude, embedded.longitude) == pytest.approx((LAT, LON), abs=2e-4), name
    assert found["gopro.mp4"].carrier.startswith("Track")  # from the timed GPMF samples (-ee)
    assert found["xmp-only.jpg"].carrier == "XMP-exif"
    assert found["late-exif.png"].altitude == pytest.approx(ALT)
    assert found["drone-new.mp4"].altitude == pytest.approx(ALT)  # abs_alt (above sea level), not rel_alt
    # Zones: XMP's +02:00 is taken off; the GPMF clock is UTC.
    assert found["xmp-only.jpg"].creation_time == datetime(2021, 5, 6, 5, 8, 9, tzinfo=timezone.utc)
    assert found["gopro.mp4"].creation_time == datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def test_identify_alone_misses_what_exiftool_finds(carriers: Path) -> None:
    """The gap the issue names: without ExifTool these positions stay unknown."""
    for name in MISSED_BEFORE:
        assert identify(carriers / name).latitude is None, name


def test_ingest_catalogues_the_position_of_every_carrier(carriers: Path, archive: Archive) -> None:
    report = ingest_paths(archive, [carriers], IngestOptions())
    assert not report.failed and len(report.ingested) == len(CARRIERS)
    with archive.Session() as session:
        media = {m.original_name: m for m in session.scalars(select(MediaFile))}
    for name in CARRIERS:
        assert (media[name].latitude, media[name].longitude) == pytest.approx((LAT, LON), abs=2e-4), name
        assert media[name].warnings == []
    assert media["xmp-only.jpg"].creation_time == datetime(2021, 5, 6, 5, 8, 9, tzinfo=timezone.utc)


def test_ingest_keeps_what_ffprobe_and_pillow_read(tmp_path: Path, archive: Archive) -> None:
    # EXIF says one place and time, XMP another: the EXIF block Pillow reads stays the catalogue's.
    photo = make_jpeg(tmp_path / "both.jpg", gps=(20.27, 100.09), date="2019:05:02 23:10:00")
    exiftool_write(photo, *xmp_gps_tags(LAT, LON, date="2021:05:06 07:08:09"))
    ingest_paths(archive, [photo], IngestOptions())
    with archive.Session() as session:
        media = session.scalars(select(MediaFile)).one()
    assert (media.latitude, media.longitude) == pytest.approx((20.27, 100.09), abs=1e-4)
    assert media.creation_time == datetime(2019, 5, 2, 23, 10, tzinfo=timezone.utc)


def test_with_embedded_adds_only_what_is_missing() -> None:
    info = mediatools.MediaInfo(kind="video", mime_type="video/mp4",
                                creation_time=datetime(2020, 1, 1, tzinfo=timezone.utc))
    found = mediatools.Embedded(latitude=LAT, longitude=LON, altitude=ALT,
                                creation_time=datetime(2021, 1, 1, tzinfo=timezone.utc))
    merged = mediatools.with_embedded(info, found)
    assert (merged.latitude, merged.longitude, merged.altitude) == (LAT, LON, ALT)
    assert merged.creation_time == info.creation_time
    assert mediatools.with_embedded(merged, mediatools.Embedded(latitude=1.0, longitude=2.0)).latitude == LAT


def _json(**tags: Any) -> dict[str, Any]:
    return {"SourceFile": "/tmp/x/0.jpg", **{k.replace("__", ":"): v for k, v in tags.items()}}


@pytest.mark.parametrize("record, expected", [
    # The EXIF GPS block as -n prints it: unsigned degrees and their hemisphere.
    (_json(GPS__GPSLatitude=41.5, GPS__GPSLatitudeRef="S", GPS__GPSLongitude=128.25, GPS__GPSLongitudeRef="W",
           GPS__GPSAltitude=5, GPS__GPSAltitudeRef=1), (-41.5, -128.25, -5.0)),
    (_json(UserData__GPSCoordinates="41.5 -128.25 10"), (41.5, -128.25, 10.0)),
    (_json(Track3__Text="GPS(-128.2500,41.5000,10), D 24.96m"), (41.5, -128.25, 10.0)),
    (_json(Track2__Text="[latitude : 41.5] [longitude : -128.25] [altitude: 30]"), (41.5, -128.25, 30.0)),
    # No fix: 0/0 and out-of-range values are no position, as with EXIF.
    (_json(Composite__GPSLatitude=0, Composite__GPSLongitude=0), (None, None, None)),
    (_json(XMP_exif__GPSLatitude=141.5, XMP_exif__GPSLongitude=10), (None, None, None)),
    # The file's own dates on disk say nothing about where it was filmed.
    (_json(System__FileModifyDate="2021:05:06 07:08:09+00:00"), (None, None, None)),
])
def test_embedded_from_json_reads_each_carrier(record: dict[str, Any], expected: tuple[Any, ...]) -> None:
    found = exiftool.embedded_from_json(record)
    assert (found.latitude, found.longitude, found.altitude) == pytest.approx(expected)


def test_embedded_from_json_times_skip_placeholders_and_file_dates() -> None:
    record = _json(QuickTime__CreateDate="0000:00:00 00:00:00", System__FileModifyDate="2021:05:06 07:08:09+00:00",
                   Keys__CreationDate="2021:05:06 07:08:09-03:00")
    assert exiftool.embedded_from_json(record).creation_time == datetime(2021, 5, 6, 10, 8, 9, tzinfo=timezone.utc)
    offset = _json(ExifIFD__DateTimeOriginal="2021:05:06 07:08:09", ExifIFD__OffsetTimeOriginal="+09:00")
    assert exiftool.embedded_from_json(offset).creation_time == datetime(2021, 5, 5, 22, 8, 9, tzinfo=timezone.utc)
    assert exiftool.embedded_from_json(_json(QuickTime__CreateDate="0000:00:00 00:00:00")).creation_time is None


def test_read_embedded_reads_the_rest_of_a_batch_with_a_file_it_cannot_open(carriers: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone.jpg"  # exiftool exits 1 for it, and prints the others all the same
    odd = tmp_path / "new\nline -n.jpg"  # no argfile line could hold this name
    make_xmp_jpeg(odd, LAT, LON)
    found = mediatools.read_embedded([carriers / "xmp-only.jpg", gone, odd], timeout=60)
    assert found[0].latitude == pytest.approx(LAT) and found[2].latitude == pytest.approx(LAT)
    assert found[1].latitude is None and found[1].error


def test_exiftool_cmd_reads_one_argfile_as_json(tmp_path: Path) -> None:
    cmd = mediatools.exiftool_cmd(tmp_path / "files.args")
    assert cmd[0] == "exiftool" and cmd[-2:] == ["-@", str(tmp_path / "files.args")]
    assert {"-j", "-n", "-G1", "-ee"} <= set(cmd)


@pytest.fixture
def stills(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "stills"
    folder.mkdir()
    return exiftool_write_each([(make_jpeg(folder / f"{i:02d}.jpg", size=(64, 48)), xmp_gps_tags(LAT + i / 100, LON))
                                for i in range(10)])


def test_ingest_reads_a_batch_of_files_with_one_exiftool_call(stills: list[Path], archive: Archive,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    archive.settings["exiftool_batch"] = 4
    calls: list[int] = []
    real = mediatools.read_embedded

    def counting(paths: list[Path], *, timeout: float) -> list[mediatools.Embedded]:
        calls.append(len(paths))
        return real(paths, timeout=timeout)

    monkeypatch.setattr(mediatools, "read_embedded", counting)
    report = ingest_paths(archive, [stills[0].parent], IngestOptions())
    assert len(report.ingested) == 10
    assert calls == [4, 4, 2]
    with archive.Session() as session:
        lats = sorted(session.scalars(select(MediaFile.latitude)))
    assert lats == pytest.approx([LAT + i / 100 for i in range(10)])


def test_one_call_per_batch_reads_what_one_call_each_reads(tmp_path: Path) -> None:
    """The batch call is the fast way (bench/exiftool.py measures it): it must not read anything else."""
    paths = exiftool_write_each([(make_jpeg(tmp_path / f"{i:02d}.jpg", size=(32, 24)), xmp_gps_tags(LAT + i / 100, LON))
                                 for i in range(32)])
    batched = mediatools.read_embedded(paths, timeout=120)
    single = [mediatools.read_embedded([p], timeout=60)[0] for p in paths]
    assert batched == single
    assert [round(e.latitude, 2) for e in batched] == [round(LAT + i / 100, 2) for i in range(32)]


def test_ingest_goes_on_with_a_warning_when_exiftool_fails(tmp_path: Path, archive: Archive, client: FlaskClient,
                                                          login: Callable[..., str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_jpeg(tmp_path / "photo.jpg", gps=(20.27, 100.09))
    monkeypatch.setattr(exiftool, "EXIFTOOL", str(tmp_path / "no-such-exiftool"))
    report = ingest_paths(archive, [photo], IngestOptions())
    assert not report.failed
    [entry] = report.ingested
    [warning] = entry["warnings"]
    assert "exiftool failed" in warning and "not found" in warning
    with archive.Session() as session:
        media = session.scalars(select(MediaFile)).one()
        item_id = media.item_id
    assert media.latitude == pytest.approx(20.27)  # what Pillow read is kept
    assert media.warnings == [warning]
    # Editors see it on the item page; other viewers do not.
    anonymous = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "ingest-warnings" not in anonymous
    login("archivist")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="ingest-warnings"' in page and "exiftool failed" in page
