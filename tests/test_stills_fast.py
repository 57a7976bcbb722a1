"""Still derivatives from JPEGs decoded at a DCT scale (draft): size, orientation, colour, recorded metadata."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from mediagen import make_heic, make_jpeg, mean_luma
from PIL import Image, ImageStat
from sqlalchemy import select

from archive import mediatools
from archive.core import Archive
from archive.mediatools import frames
from archive.models import MediaFile
from archive.services.ingest import IngestOptions, ingest_paths

LIMIT = 120_000_000
SIZES = dict(grid_width=120, page_width=240, fmt="webp")
#: Upright pictures big enough that a 240 px page is drafted at 1/4 (1280 // 240 = 5).
LANDSCAPE, PORTRAIT = (1280, 960), (960, 1280)
#: Quadrant colours of the upright picture: top left, top right, bottom left, bottom right.
QUADRANTS = ((255, 0, 0), (0, 200, 0), (0, 0, 255), (255, 255, 255))

# How a camera stores an upright picture under each EXIF orientation: the inverse of what a viewer
# does to show it (2: mirror, 3: half turn, 4: flip, 5: transpose, 6: stored turned a quarter
# anticlockwise, shown turned clockwise, 7: transverse, 8: the other way round from 6).
STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
         4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
         7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def quadrants(size: tuple[int, int]) -> Image.Image:
    img = Image.new("RGB", size)
    w, h = size
    for i, colour in enumerate(QUADRANTS):
        x, y = (i % 2) * (w // 2), (i // 2) * (h // 2)
        img.paste(colour, (x, y, x + w // 2, y + h // 2))
    return img


def stored_jpeg(path: Path, upright: tuple[int, int], orientation: int, **exif: str) -> Path:
    """A JPEG whose pixels, turned as `orientation` says, show quadrants(upright)."""
    img = quadrants(upright)
    if STORE[orientation] is not None:
        img = img.transpose(STORE[orientation])
    return make_jpeg(path, image=img, quality=92, orientation=orientation, **exif)


def quadrant_colours(img: Image.Image) -> list[tuple[float, ...]]:
    """Mean colour near the middle of each quadrant (away from edges the resize blends)."""
    rgb, (w, h) = img.convert("RGB"), img.size
    boxes = [(x * w // 2 + w // 8, y * h // 2 + h // 8, x * w // 2 + 3 * w // 8, y * h // 2 + 3 * h // 8)
             for y in (0, 1) for x in (0, 1)]
    return [tuple(ImageStat.Stat(rgb.crop(box)).mean) for box in boxes]


def assert_shows_quadrants(img: Image.Image) -> None:
    for found, expected in zip(quadrant_colours(img), QUADRANTS, strict=True):
        assert all(abs(f - e) < 24 for f, e in zip(found, expected, strict=True)), (found, expected)


def identify(path: Path) -> mediatools.MediaInfo:
    return mediatools.identify(path, ffprobe_timeout=30, max_image_pixels=LIMIT)


# -- draft_size --------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, orientation, width, expected", [
    ((4000, 3000), 1, 960, (960, 720)),
    ((4000, 3000), 3, 960, (960, 720)),  # a half turn keeps the sides
    ((4000, 3000), 6, 960, (1280, 960)),  # shown 3000 wide: the coded height must give 960
    ((3000, 4000), 8, 960, (720, 960)),  # shown 4000x3000: 960x720 upright is 720x960 coded
    ((3000, 4000), 1, 960, (960, 1280)),
    ((640, 480), 1, 960, (640, 480)),  # never more than the picture has
    ((40, 4000), 1, 960, (40, 4000)),
])
def test_draft_size_asks_for_the_upright_width_in_coded_orientation(size: tuple[int, int], orientation: int,
                                                                    width: int, expected: tuple[int, int]) -> None:
    assert frames.draft_size(size, orientation, width) == expected


# -- drafted decode -----------------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("upright", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_still_derivatives_from_draft_are_upright_at_their_sizes(tmp_path: Path, orientation: int,
                                                                 upright: tuple[int, int]) -> None:
    src = stored_jpeg(tmp_path / "in.jpg", upright, orientation)
    info = identify(src)
    coded = upright[::-1] if orientation >= 5 else upright
    assert (info.width, info.height) == coded  # the original's size, from the header
    assert info.display_size == upright

    with frames.open_still(src, width=240, max_image_pixels=LIMIT) as img:
        # Decoded at 1/4: the smallest DCT scale whose upright width still covers the page.
        assert img.size == (coded[0] // 4, coded[1] // 4)
    made = mediatools.still_derivatives(src, info, tmp_path, max_image_pixels=LIMIT, **SIZES)
    page_size = (240, 180) if upright == LANDSCAPE else (240, 320)
    grid_size = (120, 90) if upright == LANDSCAPE else (120, 160)
    with Image.open(made.page) as page, Image.open(made.grid) as grid:
        assert (page.size, grid.size) == (page_size, grid_size)
        assert_shows_quadrants(page)
        assert_shows_quadrants(grid)


def test_draft_of_a_turned_still_covers_its_upright_width(tmp_path: Path) -> None:
    # Coded 1300x600, shown 600x1300. Drafting by the coded width would take 1/4 and leave 150 px
    # upright, under the 300 px page; it must stop at 1/2 (300 px upright).
    src = stored_jpeg(tmp_path / "in.jpg", (600, 1300), 6)
    with frames.open_still(src, width=300, max_image_pixels=LIMIT) as img:
        assert img.size == (650, 300)
    made = mediatools.still_derivatives(src, identify(src), tmp_path, grid_width=100, page_width=300,
                                        fmt="webp", max_image_pixels=LIMIT)
    with Image.open(made.page) as page:
        assert page.size == (300, 650)
        assert_shows_quadrants(page)


def test_still_derivatives_of_cmyk_jpeg_keep_colours(tmp_path: Path) -> None:
    cmyk = quadrants(LANDSCAPE).convert("CMYK")
    src = tmp_path / "cmyk.jpg"
    cmyk.save(src, "JPEG", quality=92)
    with Image.open(src) as img:
        assert img.mode == "CMYK"
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.page) as page:
        assert (page.mode, page.size) == ("RGB", (240, 180))
        assert_shows_quadrants(page)


def test_still_derivatives_of_greyscale_jpeg_stay_grey(tmp_path: Path) -> None:
    src = make_jpeg(tmp_path / "grey.jpg", image=quadrants(PORTRAIT).convert("L"), orientation=3)
    with frames.open_still(src, width=240, max_image_pixels=LIMIT) as img:
        assert (img.mode, img.size) == ("L", (240, 320))
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.page) as page:
        assert page.size == (240, 320)
        # Turned a half: the white bottom right quadrant is now top left, the blue one top right.
        assert mean_luma(page, (20, 20, 100, 140)) > 230 and mean_luma(page, (140, 20, 220, 140)) < 60


def test_png_is_decoded_whole(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    quadrants(LANDSCAPE).save(src)
    with frames.open_still(src, width=240, max_image_pixels=LIMIT) as img:
        assert img.size == LANDSCAPE  # no draft outside JPEG
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.page) as page:
        assert page.size == (240, 180)
        assert_shows_quadrants(page)


def test_heic_derivatives(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    src = make_heic(tmp_path / "in.heic", image=quadrants(PORTRAIT))
    info = identify(src)
    assert (info.width, info.height) == PORTRAIT
    made = mediatools.still_derivatives(src, info, tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.page) as page:
        assert page.size == (240, 320)
        assert_shows_quadrants(page)


def test_ingest_records_the_original_size_and_drafted_thumbnails(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # Shown 2000x1500, coded 1500x2000: decoded at 1/2 for the 960 px page.
    stored_jpeg(folder / "turned.jpg", (2000, 1500), 6, date="2024:02:29 10:00:00")
    archive = Archive.open({"data": str(tmp_path / "data"), "database_url": database_url})
    try:
        report = ingest_paths(archive, [folder], IngestOptions())
        assert len(report.ingested) == 1, report.failed
        with archive.Session() as session:
            media = session.scalars(select(MediaFile)).one()
            assert (media.width, media.height, media.rotation) == (1500, 2000, 90)
            item = media.item
            assert (item.date_shot, item.date_lower, item.date_upper) == ("2024-02-29", date(2024, 2, 29),
                                                                          date(2024, 2, 29))
            for kind, size in (("page", (960, 720)), ("grid", (320, 240))):
                made = media.derivative(kind)
                assert made is not None and (made.width, made.height) == size
                with Image.open(tmp_path / "data" / made.path) as img:
                    assert img.size == size
                    assert_shows_quadrants(img)
    finally:
        archive.close()


def test_mpo_is_drafted_like_a_jpeg_from_its_first_picture(tmp_path: Path) -> None:
    src = tmp_path / "in.mpo"  # a camera JPEG with a second picture appended (stereo, depth)
    quadrants(LANDSCAPE).save(src, "MPO", save_all=True, append_images=[Image.new("RGB", LANDSCAPE, "black")])
    with frames.open_still(src, width=240, max_image_pixels=LIMIT) as img:
        assert (img.format, img.size) == ("MPO", (320, 240))
    made = mediatools.still_derivatives(src, identify(src), tmp_path, max_image_pixels=LIMIT, **SIZES)
    with Image.open(made.page) as page:
        assert page.size == (240, 180)
        assert_shows_quadrants(page)
