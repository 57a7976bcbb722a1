"""archive.mediatools against real media made by ffmpeg and Pillow at test time (see mediagen)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from mediagen import (
    halves,
    make_audio,
    make_one_picture_recording,
    make_pictureless_video,
    make_empty,
    make_heic,
    make_jpeg,
    make_png_bomb,
    make_text,
    make_tiff,
    make_video,
    mean_luma,
    probe,
    truncate,
)
from PIL import Image

from archive import mediatools
from archive.mediatools import runner
from archive.mediatools.metadata import exif_datetime, gps_from_exif, iso_datetime

LIMIT = 120_000_000
SIZES: dict[str, Any] = dict(grid_width=120, page_width=240, fmt="webp")
WHITE_LEFT = "drawbox=x=iw/2:y=0:w=iw/2:h=ih:color=black:t=fill"  # on white: left white, right black


def _tiny_png(path: Path) -> Path:
    """64x48, left half opaque red, right half fully transparent."""
    img = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (32, 48), (255, 0, 0, 255)), (0, 0))
    img.save(path)
    return path


# Every file a test may ask for, made on first use and shared for the session (per xdist worker).
RECIPES: dict[str, Callable[[Path], Path]] = {
    "h264.mp4": lambda p: make_video(p, creation_time="2021-05-06T07:08:09Z"),
    "hevc.mkv": lambda p: make_video(p, codec="libx265"),
    "mpeg4.avi": lambda p: make_video(p, codec="mpeg4"),
    "mpeg2.mxf": lambda p: make_video(p, codec="mpeg2video"),
    "pal.dv": lambda p: make_video(p, codec="dvvideo", size=(720, 576), duration=1.0),
    "h264.ts": lambda p: make_video(p),
    "vp9.webm": lambda p: make_video(p, codec="libvpx-vp9"),
    "prores.mov": lambda p: make_video(p, codec="prores_ks", audio_codec="pcm_s16le", duration=1.0),
    "rotated.mov": lambda p: make_video(p, rotate=90, location="+41.4000+128.1800/", audio=False,
                                        creation_time="2019-11-02T10:00:00Z"),
    "halves-rotated.mov": lambda p: make_video(p, source="color=c=white", vf=WHITE_LEFT, rotate=90,
                                               audio=False, duration=1.0),
    # Matroska keeps these literally (the mov muxer writes an unset time instead).
    "unix-epoch.mkv": lambda p: make_video(p, creation_time="1970-01-01T00:00:00Z", duration=1.0, audio=False),
    "quicktime-epoch.mkv": lambda p: make_video(p, creation_time="1904-01-01T00:00:00Z", duration=1.0,
                                                audio=False),
    "black-start.mp4": lambda p: make_video(p, duration=3.0, black_seconds=2.0, audio=False),
    "sparse-keys.ts": lambda p: make_video(p, keyint=None, audio=False),
    "big-hevc.mkv": lambda p: make_video(p, codec="libx265", size=(1280, 960), duration=1.0),
    "tone.opus": lambda p: make_audio(p),
    "book.m4b": lambda p: make_audio(p),
    "cover.mp3": lambda p: make_audio(p, cover=True),
    "tone.wav": lambda p: make_audio(p),
    "tone.flac": lambda p: make_audio(p),
    "gps.jpg": lambda p: make_jpeg(p, gps=(-33.856784, -70.6483, 512.0), date="2021:05:06 09:08:09",
                                   offset="+02:00", make="Canon", model="Canon EOS 5D"),
    "null-gps.jpg": lambda p: make_jpeg(p, date="0000:00:00 00:00:00",
                                        gps_ifd={2: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0)}),
    "turned.jpg": lambda p: make_jpeg(p, image=halves((640, 480)), orientation=6),
    "photo.heic": lambda p: make_heic(p, gps=(48.8584, 2.2945)),
    "grey16.tif": lambda p: make_tiff(p, mode="I;16"),
    "cmyk.tif": lambda p: make_tiff(p, mode="CMYK"),
    "bomb.png": lambda p: make_png_bomb(p),
    "tiny.png": _tiny_png,
    "empty.mp4": make_empty,
    "text.mp4": lambda p: make_text(p),
}


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """media("h264.mp4") -> path of that test file, made once per session."""
    root = tmp_path_factory.mktemp("media")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = RECIPES[name](root / name)
        return made[name]
    return get


def identify(path: Path, *, ffprobe_timeout: float = 30.0, max_image_pixels: int = LIMIT) -> mediatools.MediaInfo:
    return mediatools.identify(path, ffprobe_timeout=ffprobe_timeout, max_image_pixels=max_image_pixels)


def video_derivatives(path: Path, out: Path, **kw: object) -> mediatools.Derivatives:
    args: dict[str, object] = dict(SIZES, storyboard_frames=6, storyboard_frame_width=40, timeout=60.0)
    args.update(kw)
    return mediatools.video_derivatives(path, identify(path), out, **args)  # type: ignore[arg-type]


def has_metadata(path: Path) -> bool:
    with Image.open(path) as img:
        return bool(img.getexif()) or any(k in img.info for k in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp"))


# -- runner -----------------------------------------------------------------------------------

def test_run_returns_stdout() -> None:
    assert b"ffmpeg version" in mediatools.run(["ffmpeg", "-hide_banner", "-version"], timeout=30)


def test_run_raises_tool_error_with_stderr(tmp_path: Path) -> None:
    with pytest.raises(mediatools.ToolError) as caught:
        mediatools.run(["ffmpeg", "-hide_banner", "-i", str(tmp_path / "missing.mp4")], timeout=30)
    err = caught.value
    assert err.returncode == 1 and "No such file or directory" in err.stderr
    assert str(err).startswith("ffmpeg exited 1: ") and "missing.mp4" in str(err)
    assert err.args_list[0] == "ffmpeg"


def test_run_kills_hanging_ffmpeg_on_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []

    class Recording(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, *args: object, **kw: object) -> None:
            super().__init__(*args, **kw)  # type: ignore[arg-type]
            started.append(self)

    monkeypatch.setattr(runner.subprocess, "Popen", Recording)
    with pytest.raises(mediatools.ToolTimeout) as caught:
        mediatools.run(["ffmpeg", "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc2", "-f", "null", "-"],
                       timeout=1)
    assert str(caught.value) == "ffmpeg timed out after 1 s"
    assert "testsrc2" in caught.value.stderr  # what it said before it was stopped is kept
    (proc,) = started
    assert proc.returncode is not None and proc.returncode < 0  # killed and reaped, not left running


def test_run_names_the_signal_that_killed_the_tool() -> None:
    with pytest.raises(mediatools.ToolError, match="^sh was killed by SIGTERM: "):
        mediatools.run(["sh", "-c", "echo about to go >&2; kill -TERM $$"], timeout=10)


def test_a_tool_dies_with_the_process_that_ran_it(tmp_path: Path) -> None:
    """An ingest or worker killed with SIGKILL leaves no ffmpeg behind writing into its work folder."""
    pid_file = tmp_path / "tool.pid"
    script = ("import sys; from archive.mediatools import runner; "
              f"runner.run(['sh', '-c', 'echo $$ > {pid_file}; exec sleep 60'], timeout=120)")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.is_file() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.02)
        tool = int(pid_file.read_text())
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while _running(tool) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _running(tool), "the tool outlived the process that started it"
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_run_reports_missing_executable() -> None:
    with pytest.raises(mediatools.MediaToolError, match="no-such-ffmpeg not found"):
        mediatools.run(["no-such-ffmpeg", "-version"], timeout=5)


# -- identify: video and audio ------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("h264.mp4", dict(container="mp4", mime_type="video/mp4", video_codec="h264", audio_codec="aac", web_ready=True)),
    ("hevc.mkv", dict(container="mkv", mime_type="video/x-matroska", video_codec="hevc", audio_codec="opus",
                      web_ready=False)),
    ("mpeg4.avi", dict(container="avi", mime_type="video/x-msvideo", video_codec="mpeg4", audio_codec="mp3",
                       web_ready=False)),
    ("mpeg2.mxf", dict(container="mxf", mime_type="application/mxf", video_codec="mpeg2video",
                       audio_codec="pcm_s16le", web_ready=False)),
    ("pal.dv", dict(container="dv", mime_type="video/x-dv", video_codec="dvvideo", audio_codec="pcm_s16le",
                    web_ready=False, duration=1.0)),
    ("h264.ts", dict(container="mpegts", mime_type="video/mp2t", video_codec="h264", audio_codec="aac",
                     web_ready=False)),
    ("vp9.webm", dict(container="webm", mime_type="video/webm", video_codec="vp9", audio_codec="opus",
                      web_ready=True)),
    ("prores.mov", dict(container="mov", mime_type="video/quicktime", video_codec="prores",
                        audio_codec="pcm_s16le", pixel_format="yuv422p10le", web_ready=False, duration=1.0)),
])
def test_identify_classifies_video_formats(media: Callable[[str], Path], name: str, expected: dict) -> None:
    info = identify(media(name))
    expected = dict(expected)
    duration = expected.pop("duration", 2.0)
    assert info.kind == "video"
    assert {k: getattr(info, k) for k in expected} == expected
    assert info.duration == pytest.approx(duration, abs=0.15)
    assert mediatools.needs_proxy(info) is not info.web_ready


def test_identify_reads_mp4_details(media: Callable[[str], Path]) -> None:
    info = identify(media("h264.mp4"))
    assert (info.width, info.height, info.display_size, info.rotation) == (320, 240, (320, 240), 0)
    assert info.frame_rate == pytest.approx(25.0)
    assert (info.audio_channels, info.audio_sample_rate, info.pixel_format) == (1, 48000, "yuv420p")
    assert info.bit_rate and info.bit_rate > 0
    assert info.creation_time == datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2" and info.tags["major_brand"] == "isom"


def test_identify_dv_is_anamorphic_and_interlaced(media: Callable[[str], Path]) -> None:
    info = identify(media("pal.dv"))
    assert (info.width, info.height) == (720, 576)
    assert info.sample_aspect_ratio == pytest.approx(16 / 15)
    assert info.display_size == (768, 576)  # 4:3 with square pixels
    assert info.interlaced


def test_identify_rotated_mov_reads_rotation_and_location(media: Callable[[str], Path]) -> None:
    info = identify(media("rotated.mov"))
    assert (info.width, info.height, info.rotation) == (320, 240, 90)
    assert info.display_size == (240, 320)
    assert (info.latitude, info.longitude) == (pytest.approx(41.4), pytest.approx(128.18))
    assert info.creation_time == datetime(2019, 11, 2, 10, 0, tzinfo=timezone.utc)
    assert info.audio_codec is None and info.web_ready  # silent H.264 is still web-ready


@pytest.mark.parametrize(("name", "placeholder"), [("unix-epoch.mkv", "1970-01-01T00:00:00"),
                                                  ("quicktime-epoch.mkv", "1904-01-01T00:00:00")])
def test_identify_placeholder_creation_time_is_none(media: Callable[[str], Path], name: str,
                                                    placeholder: str) -> None:
    path = media(name)
    assert probe(path)["format"]["tags"]["creation_time"].startswith(placeholder)
    assert identify(path).creation_time is None


@pytest.mark.parametrize(("name", "container", "mime_type", "codec"), [
    ("tone.opus", "ogg", "audio/ogg", "opus"),
    ("book.m4b", "m4a", "audio/mp4", "aac"),  # ffmpeg 5.1 brands its ipod output "M4A "
    ("cover.mp3", "mp3", "audio/mpeg", "mp3"),
    ("tone.wav", "wav", "audio/wav", "pcm_s16le"),
    ("tone.flac", "flac", "audio/flac", "flac"),
])
def test_identify_classifies_audio_formats(media: Callable[[str], Path], name: str, container: str,
                                           mime_type: str, codec: str) -> None:
    info = identify(media(name))
    assert (info.kind, info.container, info.mime_type, info.audio_codec) == ("audio", container, mime_type, codec)
    assert info.video_codec is None and info.width is None  # the mp3's cover picture is not video
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.web_ready and not mediatools.needs_proxy(info)


# -- identify: stills ---------------------------------------------------------------------------

def test_identify_jpeg_reads_gps_date_and_camera(media: Callable[[str], Path]) -> None:
    info = identify(media("gps.jpg"))
    assert (info.kind, info.mime_type, info.container, info.web_ready) == ("still", "image/jpeg", "jpeg", True)
    assert (info.width, info.height) == (640, 480)
    assert info.latitude == pytest.approx(-33.856784, abs=1e-5)  # S and W refs make it negative
    assert info.longitude == pytest.approx(-70.6483, abs=1e-5)
    assert info.altitude == pytest.approx(512.0)
    assert info.creation_time == datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)  # +02:00 applied
    assert (info.camera_make, info.camera_model) == ("Canon", "Canon EOS 5D")


def test_identify_jpeg_placeholder_date_and_null_gps_are_none(media: Callable[[str], Path]) -> None:
    info = identify(media("null-gps.jpg"))
    assert info.creation_time is None
    assert (info.latitude, info.longitude, info.altitude) == (None, None, None)


def test_identify_jpeg_orientation_turns_display_size(media: Callable[[str], Path]) -> None:
    info = identify(media("turned.jpg"))
    assert (info.exif_orientation, info.rotation, info.display_size) == (6, 90, (480, 640))


def test_identify_heic_is_a_still_browsers_cannot_show(media: Callable[[str], Path]) -> None:
    info = identify(media("photo.heic"))
    assert (info.kind, info.mime_type, info.container, info.web_ready) == ("still", "image/heic", "heic", False)
    assert (info.latitude, info.longitude) == (pytest.approx(48.8584, abs=1e-5), pytest.approx(2.2945, abs=1e-5))


@pytest.mark.parametrize(("name", "mode"), [("grey16.tif", "I;16"), ("cmyk.tif", "CMYK")])
def test_identify_tiff_is_a_still_browsers_cannot_show(media: Callable[[str], Path], name: str, mode: str) -> None:
    info = identify(media(name))
    assert (info.kind, info.mime_type, info.pixel_format, info.web_ready) == ("still", "image/tiff", mode, False)


# -- identify: refusals -------------------------------------------------------------------------

def test_identify_rejects_empty_file(media: Callable[[str], Path]) -> None:
    with pytest.raises(mediatools.NotMedia, match=r"^empty file \(0 bytes\)$"):
        identify(media("empty.mp4"))


def test_identify_rejects_text_renamed_mp4(media: Callable[[str], Path]) -> None:
    with pytest.raises(mediatools.NotMedia, match="^not a media file$"):
        identify(media("text.mp4"))


def test_identify_rejects_truncated_video(media: Callable[[str], Path], tmp_path: Path) -> None:
    cut = truncate(media("h264.mp4"), tmp_path / "cut.mp4")  # moov comes last: half a file has none
    with pytest.raises(mediatools.NotMedia, match="^corrupt or truncated video: moov atom not found$"):
        identify(cut)


def test_identify_rejects_corrupt_png(media: Callable[[str], Path], tmp_path: Path) -> None:
    data = bytearray(media("tiny.png").read_bytes())
    data[data.index(b"IDAT") + 10] ^= 0xFF  # a flipped byte the chunk's CRC gives away
    broken = tmp_path / "broken.png"
    broken.write_bytes(bytes(data))
    with pytest.raises(mediatools.NotMedia, match=r"^corrupt or truncated image \(PNG\): .*checksum"):
        identify(broken)


def test_identify_refuses_decompression_bomb(media: Callable[[str], Path]) -> None:
    bomb = media("bomb.png")
    assert bomb.stat().st_size < 200_000
    with pytest.raises(mediatools.NotMedia) as caught:
        identify(bomb, max_image_pixels=10_000_000)
    assert str(caught.value) == ("image too large: 20000x20000 pixels (limit 10,000,000); "
                                 "refused as a possible decompression bomb")


def test_identify_refuses_playlists_that_read_other_files(media: Callable[[str], Path], tmp_path: Path) -> None:
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:{media('h264.ts')}\n#EXT-X-ENDLIST\n")
    with pytest.raises(mediatools.NotMedia, match="not a media file"):
        identify(playlist)


def test_identify_times_out_slow_ffprobe(media: Callable[[str], Path]) -> None:
    with pytest.raises(mediatools.ToolTimeout, match="^ffprobe timed out after 0.001 s$"):
        identify(media("hevc.mkv"), ffprobe_timeout=0.001)


# -- metadata parsing (pure) --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("+41.4000+128.1800+010.000/", (41.4, 128.18, 10.0)),
    ("+41.4+128.18/", (41.4, 128.18, None)),
    ("-33.8568-070.6483/", (-33.8568, -70.6483, None)),
    ("+4124.00+12810.80/", (41.4, 128.18, None)),  # degrees and minutes
    ("+412400+1281048/", (41.4, 128.18, None)),  # degrees, minutes and seconds
    ("+91.0000+128.1800/", (None, None, None)),  # out of range
    ("+00.0000+000.0000/", (None, None, None)),  # an unset position
    ("somewhere nice", (None, None, None)),
])
def test_parse_iso6709_reads_the_forms_found_in_files(text: str, expected: tuple) -> None:
    got = mediatools.parse_iso6709(text)
    assert got == pytest.approx(expected) if expected[0] is not None else got == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2021-05-06T07:08:09.000000Z", datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)),
    ("2021-05-06T09:08:09+0200", datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)),
    ("1970-01-01T00:00:00.000000Z", None),
    ("1904-01-01T00:00:00.000000Z", None),
    ("0000-00-00T00:00:00Z", None),
    ("2999-01-01T00:00:00Z", None),
])
def test_iso_datetime_drops_placeholders(text: str, expected: datetime | None) -> None:
    assert iso_datetime(text) == expected


def test_exif_datetime_applies_offset_and_drops_blanks() -> None:
    assert exif_datetime("2021:05:06 07:08:09", "-05:00") == datetime(2021, 5, 6, 12, 8, 9, tzinfo=timezone.utc)
    assert exif_datetime("2021:05:06 07:08:09") == datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert exif_datetime("0000:00:00 00:00:00") is None
    assert exif_datetime("    :  :     :  :  ") is None
    assert exif_datetime("1970:01:01 00:00:00") is None


def test_gps_from_exif_needs_refs_for_zero_and_checks_range() -> None:
    zero = (0.0, 0.0, 0.0)
    assert gps_from_exif({2: zero, 4: zero}) == (None, None, None)
    assert gps_from_exif({1: "N", 2: zero, 3: "E", 4: zero})[:2] == (0.0, 0.0)
    assert gps_from_exif({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: zero}) == (None, None, None)
    assert gps_from_exif({1: "S", 2: (41.0, 24.0, 0.0), 3: "W", 4: (2.0, 30.0, 0.0)})[:2] == (-41.4, -2.5)


def _stream(**extra: object) -> dict:
    return {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
            "pix_fmt": "yuv420p", "avg_frame_rate": "30000/1001", **extra}


@pytest.mark.parametrize(("stream", "rotation"), [
    (_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": -90}]), 90),  # iPhone portrait
    (_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": 90}]), 270),
    (_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": 180}]), 180),
    (_stream(tags={"rotate": "90"}), 90),  # ffmpeg 4 and older
    (_stream(), 0),
])
def test_info_from_probe_turns_rotation_clockwise(stream: dict, rotation: int) -> None:
    data = {"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "3.0",
                       "tags": {"major_brand": "qt  "}}, "streams": [stream]}
    info = mediatools.info_from_probe(data)
    assert info.rotation == rotation and info.frame_rate == pytest.approx(29.97, abs=0.01)


def test_info_from_probe_reads_apple_tags_and_skips_cover_art() -> None:
    cover = {"codec_type": "video", "codec_name": "mjpeg", "width": 600, "height": 600,
             "disposition": {"attached_pic": 1}}
    data = {"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "3.0", "tags": {
        "major_brand": "qt  ", "com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 12",
        "com.apple.quicktime.location.ISO6709": "+51.5007-000.1246+012.345/",
        "com.apple.quicktime.creationdate": "2022-07-01T18:30:00+0100",
        "creation_time": "2022-07-01T17:31:02.000000Z"}},
        "streams": [cover, {"codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "44100"}]}
    info = mediatools.info_from_probe(data)
    assert (info.kind, info.video_codec, info.mime_type) == ("audio", None, "audio/mp4")
    assert (info.camera_make, info.camera_model) == ("Apple", "iPhone 12")
    assert (info.latitude, info.longitude, info.altitude) == (51.5007, -0.1246, 12.345)
    assert info.creation_time == datetime(2022, 7, 1, 17, 30, tzinfo=timezone.utc)


def test_info_from_probe_rejects_subtitles_only() -> None:
    data = {"format": {"format_name": "srt", "duration": "30.0"},
            "streams": [{"codec_type": "subtitle", "codec_name": "subrip"}]}
    with pytest.raises(mediatools.NotMedia, match="^not a media file$"):
        mediatools.info_from_probe(data)


def test_info_from_probe_web_ready_needs_8bit_h264() -> None:
    data = {"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "3.0", "tags": {"major_brand": "isom"}},
            "streams": [_stream(pix_fmt="yuv420p10le")]}
    assert not mediatools.info_from_probe(data).web_ready


# -- video derivatives ----------------------------------------------------------------------------

def test_video_derivatives_skip_black_opening(media: Callable[[str], Path], tmp_path: Path) -> None:
    made = video_derivatives(media("black-start.mp4"), tmp_path)
    assert made.poster_time is not None and made.poster_time >= 2.0
    assert mean_luma(made.page) > 40 and mean_luma(made.grid) > 40


def test_video_derivatives_sizes_and_storyboard(media: Callable[[str], Path], tmp_path: Path) -> None:
    made = video_derivatives(media("h264.mp4"), tmp_path, storyboard_frames=7, storyboard_frame_width=48)
    assert {p.name for p in tmp_path.iterdir()} == {"grid.webp", "page.webp", "storyboard.webp"}
    with Image.open(made.grid) as grid, Image.open(made.page) as page, Image.open(made.storyboard) as board:
        assert (grid.format, grid.size, page.size) == ("WEBP", (120, 90), (240, 180))
        assert board.size == (7 * 48, 36)
    assert len(made.frame_times) == 7
    assert made.frame_times == pytest.approx([2.0 * (i + 0.5) / 7 for i in range(7)], abs=0.002)


def test_video_derivatives_turn_rotated_video_upright(media: Callable[[str], Path], tmp_path: Path) -> None:
    made = video_derivatives(media("halves-rotated.mov"), tmp_path)
    with Image.open(made.page) as page:
        assert page.size == (240, 320)  # portrait, as a phone shows it
        # Turned 90 degrees clockwise, the white left half of the coded picture is on top.
        assert mean_luma(page, (0, 0, 240, 150)) > 200 and mean_luma(page, (0, 170, 240, 320)) < 50


def test_video_derivatives_square_the_pixels_of_dv(media: Callable[[str], Path], tmp_path: Path) -> None:
    made = video_derivatives(media("pal.dv"), tmp_path, page_width=384)
    with Image.open(made.page) as page:
        assert page.size == (384, 288)  # 4:3, not the 5:4 of the coded 720x576


def test_video_derivatives_read_through_when_seeking_fails(media: Callable[[str], Path], tmp_path: Path) -> None:
    # x264's default GOP puts one keyframe in this MPEG-TS: every fast seek comes back empty.
    made = video_derivatives(media("sparse-keys.ts"), tmp_path)
    with Image.open(made.storyboard) as board:
        assert board.width == 6 * 40
    assert mean_luma(made.page) > 40


def test_video_derivatives_of_truncated_mkv_use_the_frames_that_decode(media: Callable[[str], Path],
                                                                        tmp_path: Path) -> None:
    cut = truncate(media("hevc.mkv"), tmp_path / "cut.mkv", 0.2)
    info = identify(cut)  # Matroska keeps its header up front, so the damage shows only when decoding
    made = mediatools.video_derivatives(cut, info, tmp_path, storyboard_frames=6, storyboard_frame_width=40,
                                        timeout=60, **SIZES)  # type: ignore[arg-type]
    existing = mediatools.decodable_frame_times(cut, timeout=60)
    assert 0 < len(existing) < 50  # of the 2 s at 25 fps
    assert set(made.frame_times) <= set(existing) and len(set(made.frame_times)) == len(made.frame_times)
    assert max(made.frame_times) < 2.0 * 0.5  # all from the part that is there
    [warning] = made.warnings
    assert "decode" in warning and "damaged or truncated" in warning
    with Image.open(made.storyboard) as board:
        assert board.width == 40 * len(made.frame_times)


@pytest.mark.parametrize("name, make, frames", [
    ("one-frame.webm", lambda p: make_video(p, codec="libvpx-vp9", duration=0.04, audio=False), 1),
    ("one-picture.mp4", lambda p: make_one_picture_recording(p, duration=3.0), 1),
    ("three-frames.mp4", lambda p: make_video(p, duration=0.12, audio=False), 3),
])
def test_video_derivatives_of_few_frames_show_each_once(tmp_path: Path, name: str, make: Callable[[Path], Path],
                                                        frames: int) -> None:
    src = make(tmp_path / name)
    made = video_derivatives(src, tmp_path, storyboard_frames=6)
    assert len(made.frame_times) == frames and len(set(made.frame_times)) == frames  # never a time code twice
    assert made.poster_time in made.frame_times
    assert mean_luma(made.page) > 40  # a real picture, not black
    with Image.open(made.storyboard) as board:
        assert board.width == 40 * frames
    assert made.warnings and f"only {frames} frame" in made.warnings[0]


def test_video_derivatives_of_a_short_clip_never_repeat_a_frame(tmp_path: Path) -> None:
    # Seven frames for six places, the last place past the last frame: it is left out, not filled
    # with its neighbour's frame (which would show one time code twice).
    src = make_video(tmp_path / "seven.mp4", duration=0.28, audio=False)
    made = video_derivatives(src, tmp_path, storyboard_frames=6)
    assert len(made.frame_times) == 5 and len(set(made.frame_times)) == 5
    with Image.open(made.storyboard) as board:
        assert board.width == 40 * 5


def test_video_derivatives_raise_no_video_frames_when_none_decodes(tmp_path: Path) -> None:
    src = make_pictureless_video(tmp_path / "blind.mp4")
    with pytest.raises(mediatools.NoVideoFrames, match="no video frame of blind.mp4 decodes"):
        video_derivatives(src, tmp_path)


def test_as_audio_keeps_the_sound_and_drops_the_picture(tmp_path: Path) -> None:
    info = identify(make_pictureless_video(tmp_path / "blind.mp4"))
    audio = mediatools.as_audio(info)
    assert (audio.kind, audio.mime_type, audio.audio_codec, audio.web_ready) == ("audio", "audio/mp4", "aac", True)
    assert (audio.width, audio.video_codec, audio.frame_count) == (None, None, None)
    assert audio.duration == info.duration


@pytest.mark.parametrize("per_call", [None, 2])
def test_extract_frames_gives_none_past_the_end(media: Callable[[str], Path], tmp_path: Path,
                                                per_call: int | None) -> None:
    frames = mediatools.extract_frames(media("h264.mp4"), [0.5, 30.0, 1.0, 1.5], 64, tmp_path, timeout=60,
                                       per_call=per_call)
    assert frames[1] is None and None not in (frames[0], frames[2], frames[3])
    with Image.open(frames[0]) as img:  # type: ignore[arg-type]
        assert img.size == (64, 48)


def test_seeks_per_call_keeps_4k_decoders_in_bounds() -> None:
    def info(w: int, h: int) -> mediatools.MediaInfo:
        return mediatools.MediaInfo(kind="video", mime_type="video/mp4", width=w, height=h)
    assert mediatools.seeks_per_call(info(1920, 1080)) >= 12  # HD: a whole storyboard in one call
    assert 1 <= mediatools.seeks_per_call(info(3840, 2160)) <= 6
    assert mediatools.seeks_per_call(info(16384, 16384)) == 1


# -- still and audio derivatives -------------------------------------------------------------------

def test_still_derivatives_apply_exif_orientation(media: Callable[[str], Path], tmp_path: Path) -> None:
    src = media("turned.jpg")
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.page) as page, Image.open(made.grid) as grid:
        assert (page.size, grid.size) == ((240, 320), (120, 160))
        # Orientation 6 turns the picture clockwise: the white left half ends up on top.
        assert mean_luma(page, (0, 0, 240, 150)) > 200 and mean_luma(page, (0, 170, 240, 320)) < 50


@pytest.mark.parametrize("name", ["gps.jpg", "photo.heic", "grey16.tif", "cmyk.tif"])
def test_still_derivatives_are_8bit_and_carry_no_metadata(media: Callable[[str], Path], tmp_path: Path,
                                                          name: str) -> None:
    src = media(name)
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    for path in (made.grid, made.page):
        assert not has_metadata(path)
        with Image.open(path) as img:
            assert img.mode in ("RGB", "L") and img.width in (120, 240)
            low, high = img.convert("L").getextrema()
            assert high - low > 100  # the picture survived: not clipped to white or black


def test_still_derivatives_never_enlarge_and_flatten_alpha(media: Callable[[str], Path], tmp_path: Path) -> None:
    src = media("tiny.png")
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.grid) as grid, Image.open(made.page) as page:
        assert grid.size == page.size == (64, 48)
        rgb = page.convert("RGB")
        assert rgb.getpixel((8, 24))[0] > 200 and min(rgb.getpixel((56, 24))) > 230  # red, then white ground


def test_still_derivatives_in_jpeg(media: Callable[[str], Path], tmp_path: Path) -> None:
    src = media("gps.jpg")
    made = mediatools.still_derivatives(src, identify(src), tmp_path, grid_width=120, page_width=240, fmt="jpeg",
                                        max_image_pixels=LIMIT)
    assert (made.grid.name, made.page.name) == ("grid.jpg", "page.jpg")
    with Image.open(made.page) as page:
        assert (page.format, page.size) == ("JPEG", (240, 180))
    assert not has_metadata(made.page)


def test_still_derivatives_refuse_decompression_bomb(media: Callable[[str], Path], tmp_path: Path) -> None:
    src = media("bomb.png")
    info = mediatools.MediaInfo(kind="still", mime_type="image/png", width=20000, height=20000)
    with pytest.raises(mediatools.NotMedia, match="image too large"):
        mediatools.still_derivatives(src, info, tmp_path, max_image_pixels=10_000_000, **SIZES)


def test_video_derivatives_carry_no_metadata(media: Callable[[str], Path], tmp_path: Path) -> None:
    made = video_derivatives(media("rotated.mov"), tmp_path)
    assert not any(has_metadata(p) for p in (made.grid, made.page, made.storyboard))


@pytest.mark.parametrize("name", ["book.m4b", "cover.mp3"])
def test_audio_derivatives_draw_waveform(media: Callable[[str], Path], tmp_path: Path, name: str) -> None:
    src = media(name)
    made = mediatools.audio_derivatives(src, identify(src), tmp_path, timeout=60, **SIZES)
    assert made.storyboard is None
    with Image.open(made.grid) as grid, Image.open(made.page) as page:
        assert (grid.width, page.width) == (120, 240)
        assert page.width / page.height == pytest.approx(4, abs=0.1)
        low, high = page.convert("L").getextrema()
        assert low < 128 < high  # a drawn wave on a plain ground
    assert not has_metadata(made.page)


# -- proxies -----------------------------------------------------------------------------------

def test_proxy_cmd_builds_web_mp4(tmp_path: Path) -> None:
    cmd = mediatools.proxy_cmd(Path("in.mkv"), Path("out.mp4"), max_height=480, crf=28, preset="fast")
    assert cmd[0] == "ffmpeg" and "-filter_complex" in cmd
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert graph.startswith("[0:V:0]") and "min(ih\\,480)" in graph
    for option, value in [("-vcodec", "libx264"), ("-acodec", "aac"), ("-b:a", "128k"), ("-ac", "2"),
                          ("-pix_fmt", "yuv420p"), ("-movflags", "+faststart"), ("-crf", "28"),
                          ("-preset", "fast"), ("-f", "mp4")]:
        assert cmd[cmd.index(option) + 1] == value
    assert "0:a:0?" in cmd  # silent footage makes a silent proxy, not an error


def test_needs_proxy_only_for_video_browsers_cannot_play(media: Callable[[str], Path]) -> None:
    assert mediatools.needs_proxy(identify(media("hevc.mkv")))
    assert not mediatools.needs_proxy(identify(media("h264.mp4")))
    assert not mediatools.needs_proxy(identify(media("grey16.tif")))  # stills never get a video proxy


def test_make_proxy_turns_hevc_mkv_into_web_mp4(media: Callable[[str], Path], tmp_path: Path) -> None:
    dest = mediatools.make_proxy(media("big-hevc.mkv"), tmp_path / "proxy.mp4", timeout=120)
    info = identify(dest)
    assert (info.container, info.video_codec, info.audio_codec, info.pixel_format) == ("mp4", "h264", "aac", "yuv420p")
    assert (info.width, info.height, info.audio_channels) == (960, 720, 2)
    assert info.web_ready and info.duration == pytest.approx(1.0, abs=0.1)
    data = dest.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: playback starts before the download ends
    assert [p.name for p in tmp_path.iterdir()] == ["proxy.mp4"]


def test_make_proxy_turns_silent_rotated_video_upright(media: Callable[[str], Path], tmp_path: Path) -> None:
    dest = mediatools.make_proxy(media("rotated.mov"), tmp_path / "proxy.mp4", timeout=120)
    info = identify(dest)
    assert (info.width, info.height, info.rotation, info.audio_codec) == (240, 320, 0, None)


def test_make_proxy_leaves_nothing_behind_on_failure(media: Callable[[str], Path], tmp_path: Path) -> None:
    with pytest.raises(mediatools.ToolError):
        mediatools.make_proxy(media("text.mp4"), tmp_path / "proxy.mp4", timeout=60)
    assert list(tmp_path.iterdir()) == []
