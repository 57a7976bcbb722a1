"""Web proxies: an H.264/AAC MP4 every browser plays, made for footage a browser cannot play, and an
AAC M4A of a recording, made for viewers who may not have its original (see archive.access)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import ffmpeg

from .probe import MediaInfo
from .runner import FFMPEG, run


def needs_proxy(info: MediaInfo) -> bool:
    """True for video a browser cannot play as stored."""
    return info.kind == "video" and not info.web_ready


def _url(path: Path) -> str:
    return f"file:{Path(path).resolve()}"


def proxy_cmd(src: Path, dest: Path, *, max_height: int = 720, crf: int = 23,
              preset: str = "veryfast") -> list[str]:
    """The ffmpeg command that writes a web proxy of `src` to `dest` (MP4, whatever its name)."""
    source = ffmpeg.input(_url(src), protocol_whitelist="file")
    video = (source["V:0"]  # V: the footage, never a cover-art picture
             # Only frames flagged as interlaced (DV, broadcast) are deinterlaced; the rest pass.
             .filter("yadif", deint="interlaced")
             # Square pixels, at most max_height high (never taller than the source), even sizes
             # as 4:2:0 needs; dar keeps anamorphic (DV, HDV) footage its true shape. ffmpeg has
             # already turned rotated phone video upright (autorotate) by the time it gets here.
             .filter("scale", w="trunc(oh*dar/2)*2", h=f"trunc(min(ih,{int(max_height)})/2)*2")
             .filter("setsar", 1))
    audio = source["a:0?"]  # the first audio stream if there is one; silent footage stays silent
    out = ffmpeg.output(
        video, audio, _url(dest), format="mp4",
        vcodec="libx264", preset=preset, crf=crf, pix_fmt="yuv420p",
        acodec="aac", audio_bitrate="128k", ac=2,
        movflags="+faststart",  # index first: playback starts before the download ends
        # No metadata: neither the file's nor its streams' (-map_metadata -1 alone keeps the latter),
        # nor chapters, subtitles or data tracks, any of which can carry where it was shot.
        map_metadata=-1, **{"map_metadata:s": -1}, map_chapters=-1, sn=None, dn=None,
        max_muxing_queue_size=1024)  # sparse audio in long-GOP sources would otherwise overflow
    return (out.global_args("-hide_banner", "-nostdin", "-nostats", "-v", "error")
            .compile(cmd=FFMPEG, overwrite_output=True))


def audio_proxy_cmd(src: Path, dest: Path, *, bitrate: str = "160k") -> list[str]:
    """The ffmpeg command that writes a playable copy of a recording's first audio stream to `dest` (M4A)."""
    source = ffmpeg.input(_url(src), protocol_whitelist="file")
    out = ffmpeg.output(
        source["a:0"], _url(dest), format="mp4", acodec="aac", audio_bitrate=bitrate,
        movflags="+faststart", fflags="+bitexact",
        # As for video: no metadata of the file or its stream, no chapters; the only stream mapped is
        # the audio, so no cover picture (a JPEG with EXIF of its own) comes along.
        map_metadata=-1, **{"map_metadata:s": -1}, map_chapters=-1)
    return (out.global_args("-hide_banner", "-nostdin", "-nostats", "-v", "error")
            .compile(cmd=FFMPEG, overwrite_output=True))


def make_proxy(src: Path, dest: Path, *, timeout: float, max_height: int = 720, crf: int = 23,
               preset: str = "veryfast", audio_only: bool = False) -> Path:
    """Encode a web proxy to `dest` (of a recording with `audio_only`); it appears there only when
    complete (temp name, then rename)."""
    dest = Path(dest)
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    cmd = (audio_proxy_cmd(src, part) if audio_only
           else proxy_cmd(src, part, max_height=max_height, crf=crf, preset=preset))
    try:
        run(cmd, timeout=timeout)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return dest
