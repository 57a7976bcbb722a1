"""Thumbnails, posters, storyboards and waveforms, written into a directory the caller gives.

Every derivative is saved fresh from pixels: no EXIF, GPS, ICC or XMP rides along into a thumbnail.
One ffmpeg call per video (all its frames at once; a few calls for 4K, to bound memory) and one per
audio file (both waveform sizes at once).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
from PIL import Image, ImageOps, ImageStat

from .probe import MediaInfo, open_image
from .runner import FFMPEG, FFPROBE, MediaToolError, ToolError, run

#: Formats derivatives may be saved in, with their file extension.
FORMATS = {"webp": "webp", "jpeg": "jpg"}
#: Poster candidates tried before the storyboard frames, as fractions of the duration.
POSTER_FRACTIONS = (0.10, 0.33)
#: WebP cannot be wider than this; a storyboard strip must fit.
WEBP_MAX = 16383
#: Waveform sizes as width / height.
WAVEFORM_ASPECT = {"grid": 16 / 9, "page": 4.0}
WAVEFORM_COLOUR = "#4a4a4a"
#: What transparent pixels become (JPEG has none; a thumbnail reads better opaque), waveform ground too.
BACKGROUND = (255, 255, 255)
#: Bytes one open video decoder holds per coded pixel: 1.5 (4:2:0) times some 16 frames (references
#: and threads). ffmpeg keeps every input's decoder open at once, so this bounds inputs per call.
DECODER_BYTES_PER_PIXEL = 24
#: What the decoders of one frame-grabbing ffmpeg may take: all frames of HD in one call, 4K in a few.
FRAME_GRAB_MEMORY = 768 * 2**20


@dataclass(frozen=True)
class Derivatives:
    """Files one original's derivatives were written to."""

    grid: Path  #: grid thumbnail (poster or waveform), grid width
    page: Path  #: item-page poster, still or waveform, page width
    storyboard: Path | None = None  #: video only: a strip of frames side by side
    frame_times: tuple[float, ...] = ()  #: seconds into the video of each storyboard frame
    poster_time: float | None = None  #: seconds into the video of the poster frame
    #: What could not be made as usual (a storyboard of fewer frames), in sentences for editors.
    warnings: tuple[str, ...] = ()


class NoVideoFrames(MediaToolError):
    """Not one frame of the video decodes; its sound may (see probe.as_audio)."""


def _extension(fmt: str) -> str:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown thumbnail format {fmt!r} (use webp or jpeg)") from None


def _url(path: Path) -> str:
    # "file:" keeps ffmpeg from reading a colon as a protocol or a leading "-" as an option.
    return f"file:{Path(path).resolve()}"


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _base_cmd(*outputs: ffmpeg.nodes.OutputStream) -> list[str]:
    return (ffmpeg.merge_outputs(*outputs)
            .global_args("-hide_banner", "-nostdin", "-nostats", "-v", "error")
            .compile(cmd=FFMPEG, overwrite_output=True))


# -- video frames -----------------------------------------------------------------------------

def frames_cmd(src: Path, times: Sequence[float], size: tuple[int, int], outs: Sequence[Path], *,
               deinterlace: bool = False, seek: bool = True) -> list[str]:
    """One ffmpeg command writing one BMP per time, each scaled to `size` (width, height) upright.

    seek=True opens the file once per time with a fast seek (-ss before -i); seek=False reads it
    once from the start and splits the frames off as it passes them, for files that do not seek.
    """
    if len(set(times)) != len(times):
        raise ValueError("frame times must be distinct")  # ffmpeg-python would merge equal inputs
    if seek:
        # V (not v) skips cover art; ffmpeg turns the picture upright (autorotate) before the scale.
        # threads=2: one decoder per input, all open at once; more threads each only add memory.
        streams = [ffmpeg.input(_url(src), ss=f"{t:.3f}", threads=2, protocol_whitelist="file")["V:0"]
                   for t in times]
    else:
        source = ffmpeg.input(_url(src), protocol_whitelist="file")["V:0"]
        split = source.filter_multi_output("split", len(times)) if len(times) > 1 else None
        streams = [(split[i] if split is not None else source).filter("trim", start=f"{t:.3f}")
                   for i, t in enumerate(times)]
    outputs = []
    for stream, out in zip(streams, outs, strict=True):
        if deinterlace:
            stream = stream.filter("yadif", deint="interlaced")
        stream = stream.filter("scale", size[0], size[1]).filter("setsar", 1)
        # BMP: no compression on either side, the cheapest picture to write and to read back.
        # update=1: one picture to exactly this name, no %d pattern expansion of the path.
        outputs.append(stream.output(_url(out), vframes=1, update=1, format="image2", vcodec="bmp"))
    return _base_cmd(*outputs)


def seeks_per_call(info: MediaInfo) -> int:
    """How many seeking inputs one ffmpeg call may open for this video without hogging memory."""
    pixels = (info.width or 1920) * (info.height or 1080)
    return max(1, FRAME_GRAB_MEMORY // (pixels * DECODER_BYTES_PER_PIXEL))


def extract_frames(src: Path, times: list[float], width: int, out_dir: Path, *, timeout: float,
                   height: int | None = None, deinterlace: bool = False, seek: bool = True,
                   per_call: int | None = None) -> list[Path | None]:
    """Grab the frame at each time with one ffmpeg process; None where there was none (past the end).

    Without `height` the frames keep the coded aspect ratio (even height); pass one for anamorphic
    footage. per_call caps the seeks one process makes (see seeks_per_call); more calls are made
    if needed, each with `timeout`. The list lines up with `times`.
    """
    out_dir = Path(out_dir)
    unique = sorted(set(times))
    tag = "s" if seek else "r"  # a second (reading) pass must not find the first pass's files
    outs = [out_dir / f"frame-{tag}{i:03d}.bmp" for i in range(len(unique))]
    size = (_even(width), -2 if height is None else _even(height))
    step = len(unique) if not seek or not per_call else max(1, per_call)
    for start in range(0, len(unique), step):
        run(frames_cmd(src, unique[start:start + step], size, outs[start:start + step],
                       deinterlace=deinterlace, seek=seek), timeout=timeout)
    found = {t: (p if p.is_file() and p.stat().st_size > 0 else None) for t, p in zip(unique, outs, strict=True)}
    return [found[t] for t in times]


def frame_times_cmd(src: Path, *, keyframes_only: bool = False) -> list[str]:
    """The ffprobe command listing the time of every frame of the video that decodes (only keyframes: faster)."""
    skip = ["-skip_frame", "nokey"] if keyframes_only else []
    return [FFPROBE, "-hide_banner", "-v", "error", "-protocol_whitelist", "file", "-select_streams", "V:0", *skip,
            "-show_entries", "frame=best_effort_timestamp_time:format=start_time", "-print_format", "json",
            _url(src)]


def decodable_frame_times(src: Path, *, timeout: float, keyframes_only: bool = False) -> list[float]:
    """Seconds from the start (ffmpeg's -ss timeline) of each frame that decodes, in order; [] if none does.

    Times are cut down to the millisecond, so that seeking to one lands on that frame, not the next.
    """
    try:
        out = run(frame_times_cmd(src, keyframes_only=keyframes_only), timeout=timeout)
    except ToolError:  # a stream that decodes nothing can make ffprobe give up altogether
        return []
    try:
        data = json.loads(out.decode("utf-8", "replace") or "{}")
    except ValueError:
        return []
    start = _seconds((data.get("format") or {}).get("start_time")) or 0.0
    times = {math.floor((t - start) * 1000 + 1e-6) / 1000 for frame in data.get("frames") or ()
             if (t := _seconds(frame.get("best_effort_timestamp_time"))) is not None}
    return sorted(t for t in times if t >= 0)


def _seconds(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def spread(times: Sequence[float], count: int) -> list[float]:
    """`count` of `times` evenly spread over them (all of them when there are no more)."""
    if len(times) <= count:
        return list(times)
    return [times[int((i + 0.5) * len(times) / count)] for i in range(count)]


def storyboard_times(duration: float, count: int) -> list[float]:
    """Middles of `count` equal slices of the video: never the first frame (often black) nor past the end."""
    return [round(duration * (i + 0.5) / count, 3) for i in range(count)]


def frame_score(img: Image.Image) -> tuple[bool, float]:
    """(good, score) of a candidate poster: dark or flat frames (black, fades, blank slates) are not good."""
    luma = img.convert("L")
    if luma.width > 160:  # statistics of a small copy say the same, much faster
        luma = luma.reduce(max(1, luma.width // 160))
    stat = ImageStat.Stat(luma)
    mean, spread = stat.mean[0], stat.stddev[0]
    good = mean >= 24 and spread >= 12
    return good, spread * min(1.0, mean / 48)


def _pick_poster(frames: list[tuple[float, Image.Image]]) -> tuple[float, Image.Image]:
    best, best_score = frames[0], -1.0
    for time, img in frames:
        good, score = frame_score(img)
        if good:
            return time, img
        if score > best_score:
            best, best_score = (time, img), score
    return best


def video_derivatives(src: Path, info: MediaInfo, out_dir: Path, *, grid_width: int, page_width: int,
                      storyboard_frames: int, storyboard_frame_width: int, fmt: str,
                      timeout: float) -> Derivatives:
    """Poster at grid and page width and a storyboard strip, from one ffmpeg call (a few for 4K)."""
    ext = _extension(fmt)
    if fmt == "webp" and storyboard_frames * storyboard_frame_width > WEBP_MAX:
        raise ValueError(f"storyboard of {storyboard_frames} x {storyboard_frame_width} px is wider than "
                         f"WebP allows ({WEBP_MAX} px)")
    out_dir = Path(out_dir)
    duration = info.duration or 0.0
    display_w, display_h = info.display_size or (16, 9)
    # Frames come out at page width (never wider than the picture); the storyboard shrinks them.
    width = _even(min(page_width, display_w))
    height = _even(width * display_h / display_w)
    board_times = storyboard_times(duration, storyboard_frames)
    poster_times = [round(duration * f, 3) for f in POSTER_FRACTIONS]
    times = list(dict.fromkeys(poster_times + board_times))
    expected = info.frame_count or (round(duration * info.frame_rate) if info.frame_rate else None)
    grab = dict(width=width, height=height, timeout=timeout, deinterlace=info.interlaced)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="frames-", dir=out_dir) as tmp:
        frames: dict[float, Image.Image] = {}
        # A clip of fewer frames than the storyboard has places: its own frames, one each.
        if expected is None or expected > storyboard_frames:
            frames = _grab(src, times, Path(tmp), per_call=seeks_per_call(info), read_through=True, **grab)
        board = [t for t in board_times if t in frames]
        # A few missing frames at the end are normal (audio outlasting the picture); most missing is not:
        # the frames that do decode are looked for, and the storyboard is made of those.
        if len(board) * 2 < len(board_times) or not frames:
            existing = decodable_frame_times(src, timeout=timeout, keyframes_only=True)
            if len(existing) < storyboard_frames:
                existing = decodable_frame_times(src, timeout=timeout)
            board_times = spread(existing, storyboard_frames)
            frames = _grab(src, board_times, Path(tmp), per_call=seeks_per_call(info), read_through=False, **grab)
            board = sorted(frames)
            if not board:
                raise NoVideoFrames(f"no video frame of {Path(src).name} decodes", args_list=[FFMPEG])
            poster_times = []
            warnings.append(_scarce_warning(len(existing), expected, len(board), storyboard_frames))
    order = [t for t in poster_times if t in frames] + board
    poster_time, poster = _pick_poster([(t, frames[t]) for t in order])
    shown = board  # never the same frame (or time code) twice

    page = out_dir / f"page.{ext}"
    grid = out_dir / f"grid.{ext}"
    storyboard = out_dir / f"storyboard.{ext}"
    save_image(poster, page, fmt)
    save_image(_resize_to_width(poster, min(grid_width, poster.width), reducing_gap=1.0), grid, fmt)
    frame_h = _even(storyboard_frame_width * height / width)
    strip = Image.new("RGB", (storyboard_frame_width * len(shown), frame_h))
    for i, time in enumerate(shown):
        strip.paste(frames[time].resize((storyboard_frame_width, frame_h), Image.Resampling.BICUBIC,
                                        reducing_gap=1.0), (i * storyboard_frame_width, 0))
    save_image(strip, storyboard, fmt)
    return Derivatives(grid=grid, page=page, storyboard=storyboard, frame_times=tuple(shown),
                       poster_time=poster_time, warnings=tuple(warnings))


def _grab(src: Path, times: list[float], tmp: Path, *, width: int, height: int, timeout: float, deinterlace: bool,
          per_call: int, read_through: bool) -> dict[float, Image.Image]:
    """The frames at `times` that decode, as RGB images; reading the file through once if seeking fails."""
    if not times:
        return {}
    try:
        grabbed = extract_frames(src, times, width, tmp, height=height, timeout=timeout, deinterlace=deinterlace,
                                 per_call=per_call)
    except ToolError:  # ffmpeg gives up when no input yields a frame: nothing decodes where it looked
        grabbed = [None] * len(times)
    found = dict(zip(times, grabbed, strict=True))
    missing = [t for t in times if found[t] is None]
    if read_through and len(missing) * 2 > len(times):
        # Seeking failed (no index, keyframes too far apart): read the file through once instead.
        try:
            grabbed = extract_frames(src, missing, width, tmp, height=height, timeout=timeout,
                                     deinterlace=deinterlace, seek=False)
        except ToolError:
            grabbed = [None] * len(missing)
        found.update(zip(missing, grabbed, strict=True))
    frames: dict[float, Image.Image] = {}
    for time, path in found.items():
        if path is not None:
            with Image.open(path) as img:
                frames[time] = img.convert("RGB")
    return frames


def _scarce_warning(decodable: int, expected: int | None, shown: int, wanted: int) -> str:
    frames = f"{decodable} frame{'s' if decodable != 1 else ''}"
    if expected is not None and decodable * 2 >= expected:
        return f"the video has only {frames}: the storyboard shows {shown} instead of {wanted}"
    of = f" of about {expected}" if expected else ""
    return (f"only {frames}{of} of the video decode (damaged or truncated?): the poster and the storyboard "
            f"({shown} instead of {wanted}) are made from {'it' if decodable == 1 else 'them'}")


# -- stills -------------------------------------------------------------------------------------

def to_display_mode(img: Image.Image) -> Image.Image:
    """An RGB or L image for any mode Pillow decodes: CMYK, palette, alpha, 16-bit and float."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode.startswith("I") or img.mode == "F":  # I;16 (and its byte orders), I, F
        # Stretch the range used to 8 bits; a plain convert("L") clips 16-bit images to white.
        img = img if img.mode == "F" else img.convert("I").convert("F")
        low, high = img.getextrema()  # one band: (min, max)
        assert isinstance(low, (int, float)) and isinstance(high, (int, float))
        scale = 255.0 / (high - low) if high > low else 0.0
        return img.point(lambda v: v * scale - low * scale).convert("L")
    if img.mode == "1":
        return img.convert("L")
    if img.mode == "P" and "transparency" not in img.info:
        return img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        # Flatten transparency onto white: JPEG has no alpha, and a thumbnail reads better opaque.
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV


#: Filter for the last step down to a still's page size. JPEG drafts leave less than 2x of it to do
#: (1000 -> 960 px for a 12-megapixel photo), where BICUBIC keeps the detail that BILINEAR blurs
#: (bench/stills.py: 37.8 against 33.7 dB PSNR to LANCZOS from the full picture) for ~4 ms more.
STILL_RESAMPLE = Image.Resampling.BICUBIC
#: libwebp effort, 0-6, at quality 80. Pillow's default 4 takes three times as long as 1, for files
#: from 5 % larger (grainy pictures) to 13 % smaller (smooth ones); 1 for grid thumbnails, which
#: every browse page shows by the dozen.
WEBP_METHOD = 1
#: A still's page image: 0 saves a fifth of the encoding (2-5 ms a still) at the same PSNR, for
#: files 0-11 % larger (grainy to smooth pictures; bench/stills.py). Grids at 0 would be 6-13 %
#: larger to save 0.3 ms.
STILL_PAGE_WEBP_METHOD = 0
#: EXIF orientations that turn the picture a quarter (transpose, 90, transverse, 270): sides swap.
QUARTER_TURNS = (5, 6, 7, 8)


def _resize_to_width(img: Image.Image, width: int, *, reducing_gap: float = 2.0,
                     resample: Image.Resampling = Image.Resampling.BICUBIC) -> Image.Image:
    height = max(1, round(img.height * width / img.width))
    if (width, height) == img.size:
        return img
    # reducing_gap: shrink by whole factors first (a box average, fast), then filter the rest
    # properly; 1.0 leans on the box average most, plenty for a small thumbnail.
    return img.resize((width, height), resample, reducing_gap=reducing_gap)


def save_image(img: Image.Image, path: Path, fmt: str, *, webp_method: int = WEBP_METHOD) -> None:
    """Save pixels only: a new image object carries no EXIF, ICC or XMP from the source."""
    clean = img if img.mode in ("RGB", "L") else img.convert("RGB")
    clean.info = {}
    if fmt == "webp":
        clean.save(path, "WEBP", quality=80, method=webp_method)
    elif fmt == "jpeg":
        clean.save(path, "JPEG", quality=85)
    else:
        raise ValueError(f"unknown thumbnail format {fmt!r} (use webp or jpeg)")


def draft_size(size: tuple[int, int], orientation: int, width: int) -> tuple[int, int]:
    """What to ask JPEG draft() for, in the file's coded orientation, to get at least `width` upright.

    `size` is the coded (width, height), `orientation` the EXIF tag; a quarter turn makes the
    coded height the upright width.
    """
    turned = orientation in QUARTER_TURNS
    upright_w, upright_h = (size[1], size[0]) if turned else size
    target_w = min(width, upright_w)
    target_h = max(1, round(upright_h * target_w / upright_w))
    return (target_h, target_w) if turned else (target_w, target_h)


def open_still(src: Path, *, width: int, max_image_pixels: int) -> Image.Image:
    """Open a still for derivatives at most `width` wide upright, its pixels not yet decoded.

    A JPEG is set to decode straight at the smallest DCT scale (1/2, 1/4 or 1/8) that still gives
    `width`: libjpeg then skips most of the inverse DCT, and the resize after it has at most 2x
    left to do. The image's size is then the drafted one; the original's is MediaInfo's, read by
    identify from the header.
    """
    img = open_image(src, max_image_pixels=max_image_pixels)
    if img.format in ("JPEG", "MPO"):
        orientation = img.getexif().get(0x0112, 1)
        img.draft(None, draft_size(img.size, orientation if isinstance(orientation, int) else 1, width))
    return img


def upright_pixels(img: Image.Image) -> Image.Image:
    """Decode (at the draft scale, if one was set), turn upright as EXIF says, in RGB or L."""
    ImageOps.exif_transpose(img, in_place=True)
    return to_display_mode(img)


def still_derivatives(src: Path, info: MediaInfo, out_dir: Path, *, grid_width: int, page_width: int,
                      fmt: str, max_image_pixels: int) -> Derivatives:
    """Grid and page versions of a still, upright, in 8-bit RGB or grey, without metadata."""
    ext = _extension(fmt)
    out_dir = Path(out_dir)
    with open_still(src, width=page_width, max_image_pixels=max_image_pixels) as img:
        upright = upright_pixels(img)
        page_img = _resize_to_width(upright, min(page_width, upright.width), resample=STILL_RESAMPLE)
        grid_img = _resize_to_width(page_img, min(grid_width, page_img.width), reducing_gap=1.0)
    page, grid = out_dir / f"page.{ext}", out_dir / f"grid.{ext}"
    save_image(page_img, page, fmt, webp_method=STILL_PAGE_WEBP_METHOD)
    save_image(grid_img, grid, fmt)
    return Derivatives(grid=grid, page=page)


# -- audio ------------------------------------------------------------------------------------

def waveform_cmd(src: Path, outs: Sequence[tuple[Path, int, int]]) -> list[str]:
    """One ffmpeg command drawing the waveform of the first audio stream once per (path, width, height)."""
    audio = ffmpeg.input(_url(src), protocol_whitelist="file")["a:0"]
    split = audio.filter_multi_output("asplit", len(outs)) if len(outs) > 1 else None
    outputs = []
    for i, (path, width, height) in enumerate(outs):
        stream = split[i] if split is not None else audio
        stream = stream.filter("showwavespic", s=f"{width}x{height}", colors=WAVEFORM_COLOUR,
                               split_channels=0, scale="sqrt")  # sqrt: quiet speech still shows
        outputs.append(stream.output(_url(path), vframes=1, update=1, format="image2", vcodec="png"))
    return _base_cmd(*outputs)


def audio_derivatives(src: Path, info: MediaInfo, out_dir: Path, *, grid_width: int, page_width: int,
                      fmt: str, timeout: float) -> Derivatives:
    """A waveform picture at grid and page width, both drawn by one ffmpeg call."""
    ext = _extension(fmt)
    out_dir = Path(out_dir)
    sizes = {name: (_even(w), _even(w / WAVEFORM_ASPECT[name]))
             for name, w in (("grid", grid_width), ("page", page_width))}
    with tempfile.TemporaryDirectory(prefix="wave-", dir=out_dir) as tmp:
        raw = {name: Path(tmp) / f"{name}.png" for name in sizes}
        run(waveform_cmd(src, [(raw[n], *sizes[n]) for n in sizes]), timeout=timeout)
        made = {}
        for name, path in raw.items():
            if not path.is_file():
                raise MediaToolError(f"ffmpeg drew no waveform for {Path(src).name}", args_list=[FFMPEG])
            with Image.open(path) as img:
                made[name] = to_display_mode(img)
    page, grid = out_dir / f"page.{ext}", out_dir / f"grid.{ext}"
    save_image(made["page"], page, fmt)
    save_image(made["grid"], grid, fmt)
    return Derivatives(grid=grid, page=page)

