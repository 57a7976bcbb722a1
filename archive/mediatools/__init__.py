"""All ffprobe, ffmpeg, exiftool and Pillow work of the archive: plain functions and dataclasses, no app imports.

`identify` says what a file is, `read_embedded` the positions and times ExifTool finds in carriers
identify does not read, the `*_derivatives` functions make its thumbnails, `make_proxy` a web copy
of footage browsers cannot play, the `make_*_access_copy` functions what a viewer who may not have
the original gets instead (archive.access.may_have_original). Every tool call has a timeout; failures
raise MediaToolError (ToolTimeout, ToolError) carrying the tool's stderr, files we will not show raise
NotMedia.
"""

from .access import (
    AccessCopy,
    access_copy_cmd,
    container_for,
    make_av_access_copy,
    make_still_access_copy,
)
from .exiftool import Embedded, exiftool_cmd, read_embedded, with_embedded
from .frames import (
    Derivatives,
    NoVideoFrames,
    decodable_frame_times,
    audio_derivatives,
    extract_frames,
    frame_score,
    frames_cmd,
    seeks_per_call,
    still_derivatives,
    storyboard_times,
    video_derivatives,
    waveform_cmd,
)
from .probe import MediaInfo, NotMedia, as_audio, identify, info_from_probe, open_image, parse_iso6709, probe_cmd
from .proxy import audio_proxy_cmd, make_proxy, needs_proxy, proxy_cmd
from .runner import MediaToolError, ToolError, ToolTimeout, run

__all__ = [
    "AccessCopy", "access_copy_cmd", "audio_proxy_cmd", "container_for", "make_av_access_copy",
    "make_still_access_copy",
    "Derivatives", "Embedded", "MediaInfo", "MediaToolError", "NoVideoFrames", "NotMedia", "ToolError",
    "ToolTimeout", "as_audio", "audio_derivatives", "decodable_frame_times", "exiftool_cmd", "extract_frames",
    "frame_score", "frames_cmd", "identify", "info_from_probe", "make_proxy", "needs_proxy", "open_image",
    "parse_iso6709", "probe_cmd", "proxy_cmd", "read_embedded", "run", "seeks_per_call", "still_derivatives",
    "storyboard_times", "video_derivatives", "waveform_cmd", "with_embedded",
]
