"""Make small media files at test time: video and audio with ffmpeg, stills with Pillow, tags with ExifTool.

Plain factory functions (no pytest here), so any test module can `from mediagen import make_video`.
Everything is tiny (320x240, a second or two) so a whole suite can afford to make its own.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image, ImageStat, TiffImagePlugin

pillow_heif.register_heif_opener()

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe") or "ffprobe"

# Encoder settings per video codec: fastest presets, a keyframe every second (as cameras do, and
# so seeks land near where they aim).
VIDEO_CODECS: dict[str, list[str]] = {
    "libx264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "libx265": ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-x265-params", "log-level=error"],
    "mpeg4": ["-c:v", "mpeg4", "-q:v", "5"],
    "mpeg2video": ["-c:v", "mpeg2video", "-q:v", "5"],
    "dvvideo": ["-c:v", "dvvideo", "-pix_fmt", "yuv420p"],
    "prores_ks": ["-c:v", "prores_ks", "-profile:v", "0", "-pix_fmt", "yuv422p10le"],
    "libvpx-vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
    "libvpx": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
    "mjpeg": ["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"],
}
AUDIO_CODECS: dict[str, list[str]] = {
    "aac": ["-c:a", "aac", "-b:a", "96k"],
    "libopus": ["-c:a", "libopus", "-b:a", "48k"],
    "libvorbis": ["-c:a", "libvorbis", "-q:a", "2"],
    "libmp3lame": ["-c:a", "libmp3lame", "-b:a", "96k"],
    "mp2": ["-c:a", "mp2", "-b:a", "128k"],
    "pcm_s16le": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
}
# The audio each container gets when none is asked for.
DEFAULT_AUDIO = {"mp4": "aac", "mov": "aac", "m4v": "aac", "mkv": "libopus", "webm": "libopus",
                 "avi": "libmp3lame", "mxf": "pcm_s16le", "dv": "pcm_s16le", "ts": "aac", "mpg": "mp2",
                 "opus": "libopus", "ogg": "libvorbis", "m4a": "aac", "m4b": "aac", "mp3": "libmp3lame",
                 "wav": "pcm_s16le", "flac": "flac"}
# Muxers whose name is not the file extension (or which need a nudge).
MUXERS = {"mkv": "matroska", "ts": "mpegts", "mpg": "mpeg", "m4b": "ipod", "m4a": "ipod", "opus": "opus"}


def ffmpeg(*args: str, timeout: float = 60) -> None:
    """Run ffmpeg quietly; fail with its stderr."""
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-v", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")


@lru_cache(maxsize=1)
def ffmpeg_major() -> int:
    """ffmpeg's major version (rotation metadata is written differently across versions)."""
    out = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"version n?(\d+)\.", out)
    return int(match.group(1)) if match else 5


def _ext(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


def make_video(path: Path, *, codec: str = "libx264", container: str | None = None, duration: float = 2.0,
               size: tuple[int, int] = (320, 240), rate: int = 25, audio: bool = True,
               audio_codec: str | None = None, black_seconds: float = 0.0, rotate: int | None = None,
               location: str | None = None, creation_time: str | None = None,
               source: str = "testsrc2", vf: str | None = None, keyint: int | None = 25,
               metadata: dict[str, str] | None = None, extra: Sequence[str] = ()) -> Path:
    """Write a test-pattern video (with a sine tone unless audio=False) and return its path.

    rotate: clockwise degrees a player must turn the picture (90 = iPhone portrait); mov/mp4 only.
    location: an ISO 6709 string, e.g. "+41.4000+128.1800/". source: the lavfi video source, e.g.
    "color=c=white" (size, rate and duration are added); vf: filters drawn over it. keyint=None
    leaves the encoder's GOP (x264: one keyframe in 250 frames, which defeats seeking in MPEG-TS).
    """
    path = Path(path)
    ext = container or _ext(path)
    width, height = size
    joiner = ":" if "=" in source else "="
    args = ["-f", "lavfi", "-i", f"{source}{joiner}size={width}x{height}:rate={rate}:duration={duration}"]
    if audio:
        channels = 2 if codec == "dvvideo" else 1
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}"]
        args += ["-ac", str(channels)]
    filters = [vf] if vf else []
    if black_seconds:
        filters.append(f"drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='lt(t,{black_seconds})'")
    if filters:
        args += ["-vf", ",".join(filters)]
    args += VIDEO_CODECS.get(codec, ["-c:v", codec])
    if keyint and codec not in ("dvvideo", "prores_ks", "mjpeg"):  # intra-only codecs have no GOP
        args += ["-g", str(keyint)]
    if audio:
        args += AUDIO_CODECS[audio_codec or DEFAULT_AUDIO.get(ext, "aac")]
    meta: list[str] = []
    for key, value in {**(metadata or {}), "location": location, "creation_time": creation_time}.items():
        if value is not None:
            meta += ["-metadata", f"{key}={value}"]
    muxer = ["-f", MUXERS.get(ext, ext)]
    if rotate:
        # Metadata goes on in the second (copying) pass, which would not carry it over.
        tmp = path.with_name(path.name + ".unrotated")
        ffmpeg(*args, *extra, *muxer, str(tmp))
        _set_rotation(tmp, path, rotate, ext, meta)
        tmp.unlink()
    else:
        ffmpeg(*args, *extra, *meta, *muxer, str(path))
    return path


def _set_rotation(src: Path, dest: Path, clockwise: int, ext: str, meta: Sequence[str] = ()) -> None:
    """Copy src to dest with a display rotation (ffmpeg 5 writes one only when stream-copying)."""
    major = ffmpeg_major()
    if major >= 6:  # -display_rotation is an input option, in counter-clockwise degrees
        ffmpeg("-display_rotation", str(-clockwise % 360), "-i", str(src), "-map", "0", "-c", "copy", *meta,
               "-f", MUXERS.get(ext, ext), str(dest))
        return
    # ffmpeg 5 turns a "rotate" tag into a display matrix counter-clockwise (4.x read it clockwise).
    tag = -clockwise % 360 if major == 5 else clockwise % 360
    ffmpeg("-i", str(src), "-map", "0", "-c", "copy", "-metadata:s:v:0", f"rotate={tag}", *meta,
           "-f", MUXERS.get(ext, ext), str(dest))


def make_audio(path: Path, *, codec: str | None = None, container: str | None = None, duration: float = 2.0,
               sample_rate: int = 48000, channels: int = 1, cover: bool = False,
               metadata: dict[str, str] | None = None) -> Path:
    """Write a sine tone (optionally with a cover picture, as music files carry) and return its path."""
    path = Path(path)
    ext = container or _ext(path)
    args = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={sample_rate}:duration={duration}"]
    if cover:
        args += ["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=1:duration=1", "-map", "0:a", "-map", "1:v",
                 "-c:v", "mjpeg", "-frames:v", "1", "-disposition:v:0", "attached_pic"]
    args += ["-ac", str(channels)] + AUDIO_CODECS[codec or DEFAULT_AUDIO.get(ext, "aac")]
    for key, value in (metadata or {}).items():
        args += ["-metadata", f"{key}={value}"]
    ffmpeg(*args, "-f", MUXERS.get(ext, ext), str(path))
    return path


def pattern(size: tuple[int, int]) -> Image.Image:
    """A colourful RGB picture with detail everywhere (thumbnails of it are never blank)."""
    ramp = Image.linear_gradient("L")
    red = ramp.resize(size)
    green = ramp.transpose(Image.Transpose.ROTATE_90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    return Image.merge("RGB", (red, green, blue))


def halves(size: tuple[int, int], left: str = "white", right: str = "black") -> Image.Image:
    """Left half one colour, right half another: shows which way a picture was turned."""
    img = Image.new("RGB", size, left)
    img.paste(Image.new("RGB", (size[0] - size[0] // 2, size[1]), right), (size[0] // 2, 0))
    return img


def _rational(value: float) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(round(value * 10000), 10000)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return (_rational(degrees), _rational(minutes), _rational(seconds))


def make_exif(*, gps: tuple[float, ...] | None = None, orientation: int | None = None,
              date: str | None = None, offset: str | None = None, make: str | None = None,
              model: str | None = None, gps_ifd: dict[int, Any] | None = None) -> Image.Exif:
    """EXIF as cameras write it. gps=(lat, lon[, alt]) in signed degrees, stored as DMS with N/S/E/W refs;
    gps_ifd writes a raw GPS IFD instead (for odd cases such as 0/0 without refs)."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if orientation:
        exif[0x0112] = orientation
    if date or offset:
        sub = exif.get_ifd(0x8769)
        if date:
            sub[0x9003] = date  # DateTimeOriginal, "YYYY:MM:DD HH:MM:SS"
        if offset:
            sub[0x9011] = offset  # OffsetTimeOriginal, "+02:00"
    if gps is not None or gps_ifd is not None:
        ifd = exif.get_ifd(0x8825)
        if gps is not None:
            lat, lon = gps[0], gps[1]
            ifd.update({1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)})
            if len(gps) > 2:
                ifd.update({5: b"\x00" if gps[2] >= 0 else b"\x01", 6: _rational(abs(gps[2]))})
        ifd.update(gps_ifd or {})
    return exif


def make_jpeg(path: Path, *, size: tuple[int, int] = (640, 480), image: Image.Image | None = None,
              quality: int = 85, **exif: Any) -> Path:
    """Write a JPEG of `image` (default: a pattern) with the EXIF of make_exif(**exif)."""
    img = image if image is not None else pattern(size)
    img.save(path, "JPEG", quality=quality, exif=make_exif(**exif))
    return Path(path)


def make_heic(path: Path, *, size: tuple[int, int] = (320, 240), image: Image.Image | None = None,
              **exif: Any) -> Path:
    """Write a HEIC (HEVC-coded HEIF, as iPhones do) with pillow-heif."""
    img = image if image is not None else pattern(size)
    img.save(path, "HEIF", quality=60, exif=make_exif(**exif))
    return Path(path)


def make_tiff(path: Path, *, size: tuple[int, int] = (320, 240), mode: str = "RGB") -> Path:
    """Write a TIFF in `mode`: "RGB", "CMYK", "I;16" (16-bit grey, values spread over the whole range)."""
    img = pattern(size)
    if mode == "I;16":
        grey = img.convert("L").convert("I").point(lambda v: v * 256)
        img = grey.convert("I;16")
    elif mode != "RGB":
        img = img.convert(mode)
    img.save(path, "TIFF", compression="tiff_deflate")
    return Path(path)


def make_png_bomb(path: Path, *, size: tuple[int, int] = (20000, 20000)) -> Path:
    """Write a valid 1-bit PNG of `size` that is tiny on disk (all zeros compress to almost nothing)."""
    width, height = size
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    squash = zlib.compressobj(9)
    data = b"".join(squash.compress(row) for _ in range(height)) + squash.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
                           + chunk(b"IEND", b""))
    return Path(path)


def make_empty(path: Path) -> Path:
    """Write a zero-byte file."""
    Path(path).write_bytes(b"")
    return Path(path)


def make_text(path: Path, text: str = "Minutes of the meeting, 3 March.\nNot a video at all.\n") -> Path:
    """Write a text file (whatever its name says)."""
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


def truncate(src: Path, dest: Path, fraction: float = 0.5) -> Path:
    """Write the first `fraction` of src to dest: a download or copy cut short."""
    data = Path(src).read_bytes()
    Path(dest).write_bytes(data[:int(len(data) * fraction)])
    return Path(dest)


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON for path (format and streams), straight from the tool."""
    out = subprocess.run([FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                          str(path)], capture_output=True, check=True, timeout=30).stdout
    return json.loads(out)


def mean_luma(path_or_image: Path | Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """Average brightness (0-255) of a picture file or image, or of `box` within it."""
    if isinstance(path_or_image, Image.Image):
        grey = path_or_image.convert("L")
    else:
        with Image.open(path_or_image) as img:
            grey = img.convert("L")
    return ImageStat.Stat(grey.crop(box) if box else grey).mean[0]


# -- positions in the carriers only ExifTool reads (issue 10) --------------------------------------

EXIFTOOL = shutil.which("exiftool") or "exiftool"


def exiftool_write(path: Path, *tags: str) -> Path:
    """Write tags ("-XMP:GPSLatitude=41.5", ...) into `path` in place with ExifTool; fail with its stderr."""
    proc = subprocess.run([EXIFTOOL, "-q", "-overwrite_original", *tags, str(path)], capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"exiftool {' '.join(tags)} {path}\n{proc.stderr.decode(errors='replace')}")
    return Path(path)


def exiftool_write_each(jobs: Sequence[tuple[Path, Sequence[str]]]) -> list[Path]:
    """exiftool_write for many files with one exiftool process (its -execute), which is most of the time."""
    args: list[str] = []
    for path, tags in jobs:
        args += ["-q", "-overwrite_original", *tags, str(path), "-execute"]
    proc = subprocess.run([EXIFTOOL, *args], capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"exiftool -execute ...\n{proc.stderr.decode(errors='replace')}")
    return [Path(path) for path, _ in jobs]


def xmp_gps_tags(lat: float, lon: float, alt: float | None = None, date: str | None = None) -> list[str]:
    """ExifTool arguments putting a position (and DateTimeOriginal, "YYYY:MM:DD HH:MM:SS+HH:MM") in XMP only."""
    tags = [f"-XMP:GPSLatitude={lat}", f"-XMP:GPSLongitude={lon}"]
    if alt is not None:
        tags.append(f"-XMP:GPSAltitude={alt}")
    if date is not None:
        tags.append(f"-XMP:DateTimeOriginal={date}")
    return tags


def make_xmp_jpeg(path: Path, lat: float, lon: float, alt: float | None = None, date: str | None = None,
                  **jpeg: Any) -> Path:
    """A JPEG whose position is only in XMP: no EXIF GPS block (as some editors and phones write it)."""
    make_jpeg(path, **jpeg)
    return exiftool_write(path, *xmp_gps_tags(lat, lon, alt, date))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png_late_exif(path: Path, *, size: tuple[int, int] = (64, 48), **exif: Any) -> Path:
    """A PNG whose eXIf chunk (make_exif(**exif)) comes after the image data, where readers stop looking."""
    png = io.BytesIO()
    pattern(size).save(png, "PNG")
    data = png.getvalue()
    body = make_exif(**exif).tobytes()
    body = body.removeprefix(b"Exif\x00\x00")  # eXIf holds the TIFF structure itself
    end = data.rindex(b"IEND") - 4  # the IEND chunk's length field
    Path(path).write_bytes(data[:end] + _png_chunk(b"eXIf", body) + data[end:])
    return Path(path)


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of the ISO BMFF boxes between start and end."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size < 8:
            return
        yield kind, at, at + size
        at += size


def _box(data: bytes | bytearray, parent: tuple[bytes, int, int], *path: bytes) -> tuple[bytes, int, int]:
    for kind in path:
        parent = next(b for b in _boxes(data, parent[1] + 8, parent[2]) if b[0] == kind)
    return parent


def gpmf_payload(lat: float, lon: float, alt: float, when: str = "210506070809.000") -> bytes:
    """One GoPro GPMF sample: a device with a GPS stream (GPSU time, SCAL, one GPS5 fix), as HERO cameras write."""
    def klv(key: bytes, fmt: str, size: int, count: int, value: bytes) -> bytes:
        return key + bytes([ord(fmt) if fmt else 0, size]) + struct.pack(">H", count) + value + b"\0" * (-len(value) % 4)

    def nested(key: bytes, *children: bytes) -> bytes:
        inner = b"".join(children)
        return klv(key, "", 4, len(inner) // 4, inner)

    return nested(b"DEVC", klv(b"DVID", "L", 4, 1, struct.pack(">I", 1)), klv(b"DVNM", "c", 6, 1, b"Camera"),
                  nested(b"STRM", klv(b"STNM", "c", 3, 1, b"GPS"), klv(b"GPSU", "U", 16, 1, when.encode()),
                         klv(b"SCAL", "l", 4, 5, struct.pack(">5i", 10_000_000, 10_000_000, 1000, 1000, 100)),
                         klv(b"GPS5", "l", 20, 1, struct.pack(">5i", round(lat * 1e7), round(lon * 1e7),
                                                              round(alt * 1000), 0, 0))))


def make_gpmf_video(path: Path, lat: float, lon: float, alt: float = 10.0, **video: Any) -> Path:
    """A video with a GoPro-style GPMF timed-metadata track ('meta' handler, 'gpmd' samples) holding its GPS.

    ffmpeg cannot make a gpmd track from scratch, so the samples go in as a raw-video track (one
    192-byte 8x8 RGB "frame" per sample, byte for byte), whose handler and sample format are then
    renamed to those of GPMF.
    """
    path = Path(path)
    base = make_video(path.with_name(path.name + ".base.mov"), container="mov", **video)
    payload = gpmf_payload(lat, lon, alt)
    assert len(payload) <= 192
    samples = path.with_name(path.name + ".gpmf")
    samples.write_bytes((payload + b"\0" * (192 - len(payload))) * 2)  # zeros end a GPMF payload
    muxed = path.with_name(path.name + ".muxed.mov")
    ffmpeg("-i", str(base), "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "8x8", "-r", "1", "-i", str(samples),
           "-map", "0", "-map", "1:v", "-c", "copy", "-f", "mov", str(muxed))
    data = bytearray(muxed.read_bytes())
    moov = next(b for b in _boxes(data, 0, len(data)) if b[0] == b"moov")
    track = [b for b in _boxes(data, moov[1] + 8, moov[2]) if b[0] == b"trak"][-1]
    hdlr = _box(data, track, b"mdia", b"hdlr")
    data[hdlr[1] + 16:hdlr[1] + 20] = b"meta"  # size, type, version+flags, pre_defined, then the handler
    stsd = _box(data, track, b"mdia", b"minf", b"stbl", b"stsd")
    data[stsd[1] + 20:stsd[1] + 24] = b"gpmd"  # the first sample entry's format
    path.write_bytes(bytes(data))
    for tmp in (base, samples, muxed):
        tmp.unlink()
    return path


#: The two ways DJI drones write their position into the subtitle track of their footage.
DJI_OLD_STYLE = "F/2.8, SS 206.20, ISO 100, EV 0, GPS({lon:.4f},{lat:.4f},{alt:g}), D 24.96m, H 11.80m"
DJI_NEW_STYLE = ("FrameCnt: 1, DiffTime: 33ms\n2021-05-06 07:08:09.123\n[iso: 100] [shutter: 1/200.0] [fnum: 2.8] "
                 "[ev: 0] [latitude: {lat:.6f}] [longitude: {lon:.6f}] [rel_alt: 1.500 abs_alt: {alt:.3f}]")


def make_subtitle_gps_video(path: Path, lat: float, lon: float, alt: float = 10.0, *, style: str = DJI_OLD_STYLE,
                            **video: Any) -> Path:
    """An MP4 with a subtitle track whose text carries the position, as DJI drones record it."""
    path = Path(path)
    base = make_video(path.with_name(path.name + ".base.mp4"), container="mp4", **video)
    srt = path.with_name(path.name + ".srt")
    cues = [style.format(lat=lat + i * 1e-4, lon=lon, alt=alt) for i in range(2)]
    srt.write_text("".join(f"{i + 1}\n00:00:0{i},000 --> 00:00:0{i},900\n{cue}\n\n" for i, cue in enumerate(cues)),
                   encoding="utf-8")
    ffmpeg("-i", str(base), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy", "-c:s", "mov_text",
           "-f", "mp4", str(path))
    base.unlink()
    srt.unlink()
    return path


# -- files with few or no decodable frames (issue 10 §4) -------------------------------------------

def make_one_picture_recording(path: Path, *, duration: float = 3.0) -> Path:
    """An MP4 of `duration` seconds of sound and a video track of one picture, as some phones record."""
    path = Path(path)
    picture = path.with_name(path.name + ".picture.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "1", *VIDEO_CODECS["libx264"],
           str(picture))
    ffmpeg("-i", str(picture), "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}",
           "-map", "0", "-map", "1", "-c:v", "copy", *AUDIO_CODECS["aac"], "-f", "mp4", str(path))
    picture.unlink()
    return path


def make_pictureless_video(path: Path, *, duration: float = 2.0) -> Path:
    """An MP4 whose H.264 track has lost every picture (all slices removed) while its sound is intact."""
    path = Path(path)
    whole = make_video(path.with_name(path.name + ".whole.mp4"), duration=duration)
    ffmpeg("-i", str(whole), "-map", "0", "-c", "copy", "-bsf:v", "filter_units=remove_types=1-5", "-f", "mp4",
           str(path))
    whole.unlink()
    return path


# -- carriers of a position, for access copies (tests/test_access_copies.py) --------------------------

#: Where every access_* file says it was made, in as many places as a file can say it.
ACCESS_LAT, ACCESS_LON = 40.1234, 124.3951
#: How the position is spelt in the carriers that hold it as text (QuickTime ©xyz, subtitles, data tracks).
ACCESS_POSITION_TEXT = ("40.1234", "124.3951")
def _access_gps_tags() -> list[str]:
    lat, lon = ACCESS_LAT, ACCESS_LON
    return [f"-EXIF:GPSLatitude={lat}", "-EXIF:GPSLatitudeRef=N", f"-EXIF:GPSLongitude={lon}",
            "-EXIF:GPSLongitudeRef=E", f"-XMP:GPSLatitude={lat}N", f"-XMP:GPSLongitude={lon}E",
            f"-XMP:Location=near {lat} {lon}"]


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile made once: LittleCMS stamps each new profile with the current second, so files
    made from a fresh one would be duplicates or not depending on the clock."""
    from PIL import ImageCms
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def access_gps_jpeg(path: Path, *, size: tuple[int, int] = (320, 240), orientation: int | None = None) -> Path:
    """A JPEG that says where it was shot in EXIF GPS, XMP GPS and an XMP location, with an ICC profile
    and a comment (as phones and editors write them); `orientation` sets the EXIF orientation too."""
    pattern(size).save(path, "JPEG", quality=90, icc_profile=srgb_profile(), exif=make_exif(orientation=orientation))
    return exiftool_write(path, *_access_gps_tags(), f"-Comment=shot at {ACCESS_LAT} {ACCESS_LON}")


def access_gps_png(path: Path, *, size: tuple[int, int] = (320, 240)) -> Path:
    """A PNG that says where it was made in an eXIf chunk (EXIF GPS), XMP (iTXt) and a tEXt comment."""
    pattern(size).save(path, "PNG")
    return exiftool_write(path, *_access_gps_tags(), f"-PNG:Comment=shot at {ACCESS_LAT} {ACCESS_LON}")


def access_gps_footage(path: Path, *, duration: float = 1.0) -> Path:
    """A QuickTime file with every carrier of a position footage has: ©xyz user data, a handler name,
    a GoPro-like GPMF data track ('gpmd'), a GPS subtitle track (as drones write), and a chapter."""
    work = Path(path).with_suffix(".parts")
    work.mkdir(exist_ok=True)
    lat, lon = ACCESS_POSITION_TEXT
    telemetry = work / "gpmf.bin"
    telemetry.write_bytes((f"DEVC STRM GPS5 lat={lat} lon={lon} ".encode()) * 40)
    subtitles = work / "gps.srt"
    subtitles.write_text(f"1\n00:00:00,000 --> 00:00:00,900\nGPS {lat}, {lon}\n", encoding="utf-8")
    chapters = work / "chapters.txt"
    chapters.write_text(f";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=900\ntitle=At {lat} {lon}\n",
                        encoding="utf-8")
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={duration}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}",
           "-f", "data", "-i", str(telemetry), "-i", str(subtitles), "-i", str(chapters),
           "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map_chapters", "4",
           *VIDEO_CODECS["libx264"], "-c:a", "aac", "-c:d", "copy", "-tag:d", "gpmd", "-c:s", "mov_text",
           "-metadata", f"location=+{lat}+{lon}/", "-metadata:s:v", f"handler_name=GPS {lat} {lon}",
           "-f", "mov", str(path))
    shutil.rmtree(work)
    return Path(path)


def access_gps_recording(path: Path, *, duration: float = 1.0) -> Path:
    """An M4A recording that says where it was made in ©xyz user data and in the EXIF GPS of its cover picture."""
    cover = Path(path).with_suffix(".cover.jpg")
    access_gps_jpeg(cover, size=(64, 64))
    lat, lon = ACCESS_POSITION_TEXT
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}", "-i", str(cover),
           "-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "copy", "-disposition:v:0", "attached_pic",
           "-metadata", f"location=+{lat}+{lon}/", "-metadata", f"comment=recorded at {lat} {lon}",
           "-f", "ipod", str(path))
    cover.unlink()
    return Path(path)
