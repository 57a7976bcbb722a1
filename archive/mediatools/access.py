"""Access copies: what a viewer who may not have an original gets instead of its bytes.

An original may say where it was made in carriers no reader of ours looks at: EXIF and XMP, PNG
text chunks, ICC profile text, QuickTime user data, GPS data tracks (GoPro's GPMF), subtitle tracks
(drones write their telemetry as subtitles), chapters, cover pictures with their own EXIF. So an
access copy keeps only what it must: a still's pixels, re-encoded; the audio and video streams of
footage and recordings, copied bit for bit into a new container that is given no metadata at all.
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from .frames import to_display_mode
from .probe import open_image
from .runner import FFMPEG, ToolError, run

#: JPEG quality of a re-encoded JPEG still: a full-quality copy, not a thumbnail.
JPEG_QUALITY = 95


@dataclass(frozen=True)
class AccessCopy:
    """A file an access copy was written to, and its type."""
    path: Path
    mime_type: str


@dataclass(frozen=True)
class Container:
    muxer: str  #: ffmpeg's -f
    mime_type: str
    extension: str  #: with its dot


#: Containers an access copy of audio or video keeps when its original was in one of them; anything
#: else is copied into Matroska, which takes every codec.
CONTAINERS = {
    "video/mp4": Container("mp4", "video/mp4", ".mp4"),
    "video/quicktime": Container("mov", "video/quicktime", ".mov"),
    "video/webm": Container("webm", "video/webm", ".webm"),
    "video/x-matroska": Container("matroska", "video/x-matroska", ".mkv"),
    "audio/mp4": Container("mp4", "audio/mp4", ".m4a"),
    "audio/mpeg": Container("mp3", "audio/mpeg", ".mp3"),
    "audio/flac": Container("flac", "audio/flac", ".flac"),
    "audio/wav": Container("wav", "audio/wav", ".wav"),
    "audio/x-wav": Container("wav", "audio/wav", ".wav"),
    "audio/ogg": Container("ogg", "audio/ogg", ".ogg"),
    "audio/webm": Container("webm", "audio/webm", ".webm"),
    "audio/x-matroska": Container("matroska", "audio/x-matroska", ".mka"),
}
MATROSKA_VIDEO = Container("matroska", "video/x-matroska", ".mkv")
MATROSKA_AUDIO = Container("matroska", "audio/x-matroska", ".mka")


def container_for(mime_type: str, kind: str) -> Container:
    """The container an access copy of an original of this type (kind "video" or "audio") is written in."""
    return CONTAINERS.get(mime_type) or (MATROSKA_AUDIO if kind == "audio" else MATROSKA_VIDEO)


def _url(path: Path) -> str:
    # "file:" keeps ffmpeg from reading a colon as a protocol or a leading "-" as an option.
    return f"file:{Path(path).resolve()}"


def access_copy_cmd(src: Path, dest: Path, *, muxer: str) -> list[str]:
    """The ffmpeg command that copies the audio and video of `src` into `dest` (a `muxer` file), and nothing else."""
    return [
        FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-v", "error",
        "-protocol_whitelist", "file", "-i", _url(src),
        # V, not v: video that is not an attached picture. A cover picture is a JPEG with EXIF of its
        # own; data, subtitle and attachment streams (GPS tracks, telemetry, fonts) are never mapped.
        "-map", "0:V?", "-map", "0:a?", "-c", "copy",
        # No metadata: neither the file's nor its streams' (handler names are free text), nor chapters.
        "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
        # bitexact: the muxer writes no encoder name, creation date or other tag of its own.
        "-fflags", "+bitexact",
        *(["-movflags", "+faststart"] if muxer in ("mp4", "mov") else []),
        "-f", muxer, "-y", _url(dest),
    ]


def make_av_access_copy(src: Path, out_dir: Path, *, mime_type: str, kind: str, timeout: float) -> AccessCopy:
    """Copy the audio and video streams of `src` into `out_dir`/access.<ext>; see access_copy_cmd.

    The original's container is kept where it is a common one; when its streams do not fit it (ffmpeg
    refuses), or for any other container, the copy is Matroska.
    """
    container = container_for(mime_type, kind)
    try:
        return _remux(src, Path(out_dir), container, timeout)
    except ToolError:
        fallback = MATROSKA_AUDIO if kind == "audio" else MATROSKA_VIDEO
        if container.muxer == fallback.muxer:
            raise
        return _remux(src, Path(out_dir), fallback, timeout)


def _remux(src: Path, out_dir: Path, container: Container, timeout: float) -> AccessCopy:
    dest = out_dir / f"access{container.extension}"
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        run(access_copy_cmd(src, part, muxer=container.muxer), timeout=timeout)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return AccessCopy(dest, container.mime_type)


# -- stills -----------------------------------------------------------------------------------------

#: Modes a PNG holds as they are; every other is turned into RGB, RGBA or L first.
_PNG_MODES = frozenset({"1", "L", "LA", "RGB", "RGBA", "I;16", "I"})
_SRGB = ImageCms.createProfile("sRGB")


def make_still_access_copy(src: Path, out_dir: Path, *, max_image_pixels: int) -> AccessCopy:
    """Re-encode a still from its pixels alone into `out_dir`: JPEG (quality JPEG_QUALITY, the original's
    chroma subsampling) for JPEG, HEIF and AVIF originals, lossless PNG for the rest.

    The picture is turned upright as its EXIF orientation says, since the EXIF goes; its colours are
    converted to sRGB when it has an ICC profile, since the profile (free text included) goes too.
    Nothing else of the file survives: no EXIF, XMP, ICC, comment or PNG text chunk, only the first
    frame of an animation or a multi-picture file.
    """
    out_dir = Path(out_dir)
    with open_image(src, max_image_pixels=max_image_pixels) as img:
        fmt = img.format or ""
        subsampling = JpegImagePlugin.get_sampling(img) if fmt in ("JPEG", "MPO") else -1
        icc = img.info.get("icc_profile")
        upright = ImageOps.exif_transpose(img)
        pixels = _in_srgb(upright, icc) if icc else upright
        as_jpeg = fmt in ("JPEG", "MPO", "HEIF", "AVIF")
        pixels = _jpeg_mode(pixels) if as_jpeg else _png_mode(pixels)
        # A new image given only the pixels: no info, EXIF, ICC or text can ride along into the save.
        clean = Image.new(pixels.mode, pixels.size)
        clean.paste(pixels)
    if as_jpeg:
        dest = out_dir / "access.jpg"
        clean.save(dest, "JPEG", quality=JPEG_QUALITY, subsampling=subsampling if subsampling >= 0 else 0,
                   optimize=True)
        return AccessCopy(dest, "image/jpeg")
    dest = out_dir / "access.png"
    clean.save(dest, "PNG", optimize=False)
    return AccessCopy(dest, "image/png")


def _in_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """The picture's colours converted from its ICC profile to sRGB; as it is when that cannot be done
    (a grey picture's profile, a broken one): the pixels are still right, only their tint may shift."""
    if img.mode in ("L", "LA", "1", "I", "I;16", "F"):
        return img
    source = img if img.mode in ("RGB", "RGBA", "CMYK") else img.convert("RGBA" if "A" in img.mode else "RGB")
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(source, profile, _SRGB, outputMode="RGBA" if source.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img


def _jpeg_mode(img: Image.Image) -> Image.Image:
    return img if img.mode in ("RGB", "L", "CMYK") else to_display_mode(img)


def _png_mode(img: Image.Image) -> Image.Image:
    if img.mode in _PNG_MODES:
        return img
    if img.mode == "I;16B" or img.mode == "I;16L":
        return img.convert("I;16")
    if img.mode in ("P", "PA") and ("transparency" in img.info or img.mode == "PA"):
        return img.convert("RGBA")
    if img.mode in ("RGBa", "La"):
        return img.convert("RGBA" if img.mode == "RGBa" else "LA")
    if img.mode == "F":
        return to_display_mode(img)
    return img.convert("RGB")  # P without transparency, CMYK, YCbCr, LAB, HSV
