"""Identify a file from its content (Pillow for stills, ffprobe for video and audio) and read its metadata.

Conventions of `MediaInfo`: width and height are the coded size (before rotation); `rotation` is the
clockwise turn, in degrees (0, 90, 180 or 270), that shows the picture upright; times are aware UTC
datetimes; positions are WGS84 degrees (north and east positive) and metres above sea level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import pillow_heif
from PIL import Image

from .metadata import exif_datetime, gps_from_exif, iso_datetime, number, parse_iso6709, text_value
from .runner import FFPROBE, ToolError, run

pillow_heif.register_heif_opener()

Kind = Literal["video", "still", "audio"]


class NotMedia(ValueError):
    """The file is not something the archive can show; the message is the reason, fit for a user."""


@dataclass(frozen=True)
class MediaInfo:
    """What a file is and what it says about itself."""

    kind: Kind
    mime_type: str
    #: Friendly container name: "mp4", "mov", "m4b", "webm", "mkv", "avi", "jpeg", "heic", ...
    container: str | None = None
    #: The raw name: ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2") or Pillow's format ("JPEG").
    format_name: str | None = None
    duration: float | None = None  #: seconds
    width: int | None = None  #: coded pixels, before rotation
    height: int | None = None  #: coded pixels, before rotation
    #: Clockwise degrees (0, 90, 180, 270) to turn the coded picture upright: from the display
    #: matrix for video, from the EXIF orientation for stills.
    rotation: int = 0
    sample_aspect_ratio: float = 1.0  #: width of one coded pixel over its height (DV, anamorphic)
    frame_rate: float | None = None  #: frames per second (average)
    #: Frames of the video stream as the container counts them (nb_frames); None when it does not say.
    frame_count: int | None = None
    interlaced: bool = False  #: stored as fields (DV, broadcast): frames are deinterlaced for thumbnails
    video_codec: str | None = None
    audio_codec: str | None = None
    pixel_format: str | None = None  #: ffprobe pix_fmt ("yuv420p") or Pillow mode ("RGB", "I;16")
    bit_rate: int | None = None  #: bits per second, whole file
    audio_channels: int | None = None
    audio_sample_rate: int | None = None  #: Hz
    creation_time: datetime | None = None  #: aware, UTC
    latitude: float | None = None  #: WGS84 degrees, north positive
    longitude: float | None = None  #: WGS84 degrees, east positive
    altitude: float | None = None  #: metres above sea level
    camera_make: str | None = None
    camera_model: str | None = None
    web_ready: bool = False  #: a browser plays (or shows) the original as it is
    exif_orientation: int | None = None  #: EXIF Orientation tag, 1-8, as found
    tags: dict[str, str] = field(default_factory=dict, hash=False)  #: raw container (format) tags

    @property
    def display_size(self) -> tuple[int, int] | None:
        """(width, height) as shown: square pixels, after rotation."""
        if not self.width or not self.height:
            return None
        width, height = max(1, round(self.width * self.sample_aspect_ratio)), self.height
        return (height, width) if self.rotation in (90, 270) else (width, height)


def identify(path: Path, *, ffprobe_timeout: float, max_image_pixels: int) -> MediaInfo:
    """Say what `path` is from its content; raise NotMedia (with the reason) if it is nothing we show.

    ToolTimeout and other MediaToolErrors from ffprobe propagate: they say nothing about the file.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise NotMedia("empty file (0 bytes)")
    still = _identify_still(path, max_image_pixels)
    if still is not None:
        return still
    with path.open("rb") as f:
        head = f.read(512)
    try:
        out = run(probe_cmd(path), timeout=ffprobe_timeout)
    except ToolError as exc:
        raise NotMedia(_probe_failure(exc.stderr, path, head)) from exc
    try:
        data = json.loads(out.decode("utf-8", "replace") or "{}")
    except ValueError as exc:
        raise NotMedia(f"ffprobe gave unreadable output: {exc}") from exc
    return info_from_probe(data, head=head)


# -- stills (Pillow) ------------------------------------------------------------------------

# Formats Pillow opens for us. An allowlist, because formats without a signature (TGA, for one)
# otherwise let Pillow claim random bytes as an image.
_STILL_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "BMP", "HEIF", "AVIF", "JPEG2000", "PPM")
_WEB_STILLS = {"JPEG", "MPO", "PNG", "GIF", "WEBP"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}


def _still_formats() -> list[str]:
    Image.init()
    return [f for f in _STILL_FORMATS if f in Image.ID]


def open_image(path: Path, *, max_image_pixels: int) -> Image.Image:
    """Open a still (header only) and refuse it before any decoding if it has too many pixels.

    Raises PIL.UnidentifiedImageError (an OSError) if it is not a still we handle.
    """
    # Pillow's own guard is one process-wide number that only warns between 1x and 2x of it, and
    # ingest runs in threads, so no per-call setting of it (or of warning filters) is safe. It is
    # switched off and replaced by the check below, which every Pillow open here goes through and
    # which runs right after the header is read, before a single pixel is decoded.
    Image.MAX_IMAGE_PIXELS = None
    img = Image.open(path, formats=_still_formats())
    width, height = img.size
    if width * height > max_image_pixels:
        img.close()
        raise NotMedia(f"image too large: {width}x{height} pixels (limit {max_image_pixels:,}); "
                       "refused as a possible decompression bomb")
    return img


def _identify_still(path: Path, max_image_pixels: int) -> MediaInfo | None:
    try:
        img = open_image(path, max_image_pixels=max_image_pixels)
    except Image.UnidentifiedImageError:
        return None
    if img.format == "PNG":
        # PNG is the one format whose verify() checks something (chunk CRCs, without decoding);
        # it must come straight after open, so the metadata is read from a second open.
        with img:
            try:
                img.verify()
            except Exception as exc:  # Pillow raises assorted types here (SyntaxError, OSError, ...)
                raise NotMedia(f"corrupt or truncated image (PNG): {exc}") from exc
        img = open_image(path, max_image_pixels=max_image_pixels)
    with img:
        fmt = img.format or "?"
        exif = _exif(img)
        orientation = exif.get(0x0112)
        orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
        exif_ifd = exif.get_ifd(0x8769)
        lat, lon, alt = gps_from_exif(exif.get_ifd(0x8825))
        created = exif_datetime(exif_ifd.get(0x9003) or exif_ifd.get(0x9004),
                                exif_ifd.get(0x9011) or exif_ifd.get(0x9012))
        container, mime = fmt.lower(), Image.MIME.get(fmt, "application/octet-stream")
        if fmt == "MPO":  # a camera JPEG with extra pictures appended; to everyone else a JPEG
            container, mime = "jpeg", "image/jpeg"
        elif fmt == "HEIF":
            with path.open("rb") as f:
                brand = f.read(12)[8:12]
            container, mime = ("heic", "image/heic") if brand in _HEIC_BRANDS else ("heif", "image/heif")
        return MediaInfo(
            kind="still", mime_type=mime, container=container, format_name=fmt,
            width=img.width, height=img.height, rotation=_ORIENTATION_ROTATION.get(orientation or 1, 0),
            pixel_format=img.mode, creation_time=created, latitude=lat, longitude=lon, altitude=alt,
            camera_make=text_value(exif.get(0x010F)), camera_model=text_value(exif.get(0x0110)),
            web_ready=fmt in _WEB_STILLS, exif_orientation=orientation,
            tags={k: v for k, v in img.info.items()  # PNG text chunks and the like; XMP is too bulky
                  if isinstance(k, str) and isinstance(v, str) and "xmp" not in k.lower()})


def _exif(img: Image.Image) -> Image.Exif:
    """The image's EXIF, read without decoding pixels."""
    if img.format == "PNG" and "exif" not in img.info:
        # Pillow would decode the whole PNG looking for an eXIf chunk after the pixels; one
        # before them (where the spec asks for it) is already in info.
        return Image.Exif()
    return img.getexif()


# Orientations 5-8 turn the picture a quarter; the mirrored ones (2, 4, 5, 7) also flip, which
# does not change the size, so only the turn is recorded.
_ORIENTATION_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}


# -- video and audio (ffprobe) ----------------------------------------------------------------

def probe_cmd(path: Path) -> list[str]:
    """The ffprobe command that describes `path` as JSON."""
    # "file:" keeps a name with a colon from being read as a protocol and one starting with "-"
    # from being read as an option; the whitelist keeps playlists from reaching the network.
    return [FFPROBE, "-hide_banner", "-v", "error", "-protocol_whitelist", "file",
            "-print_format", "json", "-show_format", "-show_streams", f"file:{Path(path).resolve()}"]


# Codecs of single pictures: a stream of one of these is cover art or an image, not footage.
_PICTURE_CODECS = {
    "mjpeg", "png", "apng", "bmp", "gif", "webp", "tiff", "jpeg2000", "jpegls", "ljpeg", "pam", "pbm",
    "pgm", "pgmyuv", "ppm", "pcx", "targa", "sgi", "sunrast", "xbm", "xpm", "xwd", "qoi", "photocd",
    "psd", "dds", "exr", "hdr", "svg", "jpegxl", "alias_pix", "pictor", "dpx", "pfm", "phm", "gem",
}
# Demuxers that read other files named inside this one: an upload must never pull in another
# item's original (or anything else on the server).
_REFERENCE_FORMATS = {"hls", "concat", "dash", "imf", "ffmetadata", "sdp", "image2"}

_VIDEO_MIME = {"mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "3gp": "video/3gpp",
               "3g2": "video/3gpp2", "mj2": "video/mj2", "webm": "video/webm", "mkv": "video/x-matroska",
               "avi": "video/x-msvideo", "mxf": "application/mxf", "dv": "video/x-dv",
               "mpegts": "video/mp2t", "mpeg": "video/mpeg", "ogg": "video/ogg", "asf": "video/x-ms-asf",
               "flv": "video/x-flv", "gxf": "application/gxf"}
_AUDIO_MIME = {"mp4": "audio/mp4", "m4a": "audio/mp4", "m4b": "audio/mp4", "mov": "audio/mp4",
               "3gp": "audio/3gpp", "webm": "audio/webm", "mkv": "audio/x-matroska", "ogg": "audio/ogg",
               "mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "aac": "audio/aac",
               "aiff": "audio/aiff", "asf": "audio/x-ms-wma", "caf": "audio/x-caf", "amr": "audio/amr",
               "w64": "audio/x-w64", "mpeg": "audio/mpeg", "ac3": "audio/ac3", "mxf": "application/mxf"}
_MOV_BRANDS = {"qt": "mov", "m4a": "m4a", "m4b": "m4b", "m4p": "m4a", "m4v": "m4v", "m4vh": "m4v",
               "m4vp": "m4v", "mj2": "mj2", "mjp2": "mj2"}
_WEB_AUDIO = {"mp3": {"mp3"}, "m4a": {"aac"}, "m4b": {"aac"}, "mp4": {"aac"}, "aac": {"aac"},
              "ogg": {"vorbis", "opus"}, "webm": {"vorbis", "opus"}, "flac": {"flac"},
              "wav": {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_f32le"}}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ratio(value: Any) -> float | None:
    """ "30000/1001" (or "16:15") -> a float; None for "0/0", "N/A" and the like."""
    try:
        number = float(Fraction(str(value).replace(":", "/")))
    except (ValueError, ZeroDivisionError):
        return None
    return number if number > 0 else None


def _rotation(stream: dict[str, Any]) -> int:
    """Clockwise degrees from a stream's display matrix or its legacy "rotate" tag."""
    for side in stream.get("side_data_list") or ():
        if "rotation" in side:
            # ffprobe prints the display matrix angle counter-clockwise (iPhone portrait: -90).
            degrees = -(number(side["rotation"]) or 0)
            break
    else:
        # ffmpeg before 5.0 exposed the same as a "rotate" tag, clockwise (iPhone portrait: 90).
        degrees = number((stream.get("tags") or {}).get("rotate")) or 0
    return int(round(degrees / 90) * 90) % 360


def _interlaced(video: dict[str, Any]) -> bool:
    order = video.get("field_order")
    # DV flags interlacing per frame, not per stream, and is nearly always interlaced.
    return order in ("tt", "bb", "tb", "bt") or (video.get("codec_name") == "dvvideo" and order in (None, "unknown"))


def _is_picture(stream: dict[str, Any], format_name: str, format_duration: float | None) -> bool:
    """True for cover art and single images, which ffprobe also reports as video streams."""
    if (stream.get("disposition") or {}).get("attached_pic"):
        return True
    if format_name.endswith("_pipe") or format_name == "image2":
        return True
    if stream.get("codec_name") in _PICTURE_CODECS:  # mjpeg is also real (old camera) footage
        frames = _int(stream.get("nb_frames"))
        if frames is not None:
            return frames <= 1
        return not (number(stream.get("duration")) or format_duration)
    return False


def _container(format_name: str, tags: dict[str, str], head: bytes) -> str:
    first = format_name.split(",")[0]
    if first == "mov":
        brand = (tags.get("major_brand") or "").strip().lower()
        if brand.startswith("3g2"):
            return "3g2"
        if brand.startswith("3gp"):
            return "3gp"
        return _MOV_BRANDS.get(brand, "mp4" if brand else "mov")
    if first == "matroska":
        return "webm" if matroska_doctype(head) == "webm" else "mkv"
    return {"mp3": "mp3", "aiff": "aiff", "mpegts": "mpegts", "mpeg": "mpeg"}.get(first, first)


def matroska_doctype(head: bytes) -> str | None:
    """The DocType ("webm" or "matroska") from the EBML header at the start of a Matroska file."""
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    at = head.find(b"\x42\x82")
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return None
    size = head[at + 2] & 0x7F
    return head[at + 3:at + 3 + size].decode("ascii", "replace")


def _video_web_ready(container: str, video: dict[str, Any], audio: dict[str, Any] | None) -> bool:
    vcodec, acodec = video.get("codec_name"), audio.get("codec_name") if audio else None
    if container in ("mp4", "mov", "m4v"):
        # 8-bit 4:2:0 H.264 is the one H.264 every browser decodes; 10-bit and 4:2:2 are not.
        return vcodec == "h264" and video.get("pix_fmt") in ("yuv420p", "yuvj420p") and acodec in (None, "aac")
    if container == "webm":
        return vcodec in ("vp8", "vp9") and acodec in (None, "vorbis", "opus")
    return False


def _pick(tags: dict[str, str], *names: str) -> str | None:
    for name in names:
        value = text_value(tags.get(name))
        if value:
            return value
    return None


def info_from_probe(data: dict[str, Any], *, head: bytes = b"") -> MediaInfo:
    """Build MediaInfo from ffprobe's JSON (`-show_format -show_streams`); `head` is the file's first bytes."""
    fmt = data.get("format") or {}
    format_name = fmt.get("format_name") or ""
    if format_name in _REFERENCE_FORMATS:
        raise NotMedia(f"not a media file ({format_name} files refer to other files)")
    raw_tags = {str(k): str(v) for k, v in (fmt.get("tags") or {}).items()}
    tags = {k.lower(): v for k, v in raw_tags.items()}
    format_duration = number(fmt.get("duration"))
    streams = data.get("streams") or []
    pictures = [s for s in streams if s.get("codec_type") == "video"
                and _is_picture(s, format_name, format_duration)]
    videos = [s for s in streams if s.get("codec_type") == "video" and s not in pictures]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if videos:
        kind: Kind = "video"
    elif audios:
        kind = "audio"
    elif pictures:
        codec = pictures[0].get("codec_name") or format_name
        raise NotMedia(f"unsupported or corrupt image ({codec})")
    else:
        raise NotMedia("not a media file")

    video = videos[0] if videos else None
    audio = audios[0] if audios else None
    main = video or audio
    assert main is not None
    if not main.get("codec_name") or (video and not (_int(video.get("width")) and _int(video.get("height")))):
        raise NotMedia(f"corrupt or truncated {kind}: no decodable {kind} stream")
    duration = format_duration or number(main.get("duration"))
    if kind == "video" and not duration:
        raise NotMedia("corrupt or truncated video: no duration (damaged, or a raw stream without a container)")

    container = _container(format_name, tags, head)
    if kind == "video":
        mime = _VIDEO_MIME.get(container, "application/octet-stream")
        web_ready = _video_web_ready(container, video, audio)  # type: ignore[arg-type]
    else:
        mime = _AUDIO_MIME.get(container, "application/octet-stream")
        web_ready = (audio or {}).get("codec_name") in _WEB_AUDIO.get(container, set())

    lat, lon, alt = parse_iso6709(_pick(tags, "com.apple.quicktime.location.iso6709", "location",
                                        "location-eng"))
    stream_tags = {k.lower(): v for k, v in ((main.get("tags") or {}).items())}
    created = (iso_datetime(_pick(tags, "com.apple.quicktime.creationdate"))
               or iso_datetime(_pick(tags, "creation_time"))
               or iso_datetime(_pick(stream_tags, "creation_time")))
    sar = _ratio((video or {}).get("sample_aspect_ratio")) or 1.0
    return MediaInfo(
        kind=kind, mime_type=mime, container=container, format_name=format_name, duration=duration,
        width=_int(video.get("width")) if video else None, height=_int(video.get("height")) if video else None,
        rotation=_rotation(video) if video else 0, sample_aspect_ratio=sar,
        frame_rate=(_ratio(video.get("avg_frame_rate")) or _ratio(video.get("r_frame_rate"))) if video else None,
        frame_count=_int(video.get("nb_frames")) if video else None,
        interlaced=bool(video) and _interlaced(video),  # type: ignore[arg-type]
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        pixel_format=video.get("pix_fmt") if video else None, bit_rate=_int(fmt.get("bit_rate")),
        audio_channels=_int(audio.get("channels")) if audio else None,
        audio_sample_rate=_int(audio.get("sample_rate")) if audio else None,
        creation_time=created, latitude=lat, longitude=lon, altitude=alt,
        camera_make=_pick(tags, "com.apple.quicktime.make", "make", "com.android.manufacturer"),
        camera_model=_pick(tags, "com.apple.quicktime.model", "model", "com.android.model"),
        web_ready=web_ready, tags=raw_tags)


def as_audio(info: MediaInfo) -> MediaInfo:
    """A video whose picture does not decode, as the sound recording it still is (its audio stream)."""
    if not info.audio_codec:
        raise ValueError("as_audio: the file has no audio stream")
    container = info.container or ""
    return replace(info, kind="audio", mime_type=_AUDIO_MIME.get(container, "application/octet-stream"),
                   width=None, height=None, rotation=0, sample_aspect_ratio=1.0, frame_rate=None, frame_count=None,
                   interlaced=False, video_codec=None, pixel_format=None,
                   web_ready=info.audio_codec in _WEB_AUDIO.get(container, set()))


# -- when ffprobe gives up ----------------------------------------------------------------

# Signatures of containers: a file that starts like one but fails to probe is damaged media,
# anything else is simply not media (ffprobe picks a demuxer by extension when content says nothing).
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "video"), (4, b"moov", "video"), (4, b"mdat", "video"), (4, b"wide", "video"),
    (0, b"\x1a\x45\xdf\xa3", "video"), (0, b"\x06\x0e\x2b\x34", "video"), (0, b"\x00\x00\x01\xba", "video"),
    (0, b"\x30\x26\xb2\x75", "video"), (0, b"FLV", "video"), (0, b"OggS", "audio"), (0, b"fLaC", "audio"),
    (0, b"ID3", "audio"), (0, b"FORM", "audio"),
)
_DEMUXER_LINE = re.compile(r"^\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*")


def _probe_failure(stderr: str, path: Path, head: bytes) -> str:
    """The NotMedia reason for a file ffprobe could not read."""
    noun = None
    if head.startswith(b"RIFF"):
        noun = "video" if head[8:12] == b"AVI " else "audio"
    elif head[0:1] == head[188:189] == head[376:377] == b"\x47":  # MPEG-TS sync bytes
        noun = "video"
    for offset, magic, kind in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            noun = kind
            if magic == b"ftyp" and head[8:11] in (b"M4A", b"M4B"):
                noun = "audio"
            break
    if noun is None:
        return "not a media file"
    return f"corrupt or truncated {noun}: {_gist(stderr, path)}"


def _gist(stderr: str, path: Path) -> str:
    """The telling part of ffprobe's complaint: the demuxer's own words if it said any."""
    demuxer, other = [], []
    for line in stderr.splitlines():
        line = line.strip()
        if not line or line.startswith("Last message repeated"):
            continue
        if _DEMUXER_LINE.match(line):
            demuxer.append(_DEMUXER_LINE.sub("", line))
        else:
            for prefix in (f"file:{Path(path).resolve()}: ", f"{path}: "):
                line = line.removeprefix(prefix)
            other.append(line)
    gist = (demuxer[:1] or other[-1:] or ["ffprobe could not read it"])[0]
    return gist[:200]
