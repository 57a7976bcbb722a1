"""Pillow pictures for the demo: landscapes and interiors, pencil and crayon drawings, title cards.

Everything is drawn from a seed, so the same recipe always gives the same pixels.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

Colour = tuple[int, int, int]

#: Fonts tried in order; Noto Sans CJK also has Hangul, so Korean captions need it.
SANS_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MONO_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass(frozen=True)
class Fonts:
    sans: str | None
    mono: str | None

    @property
    def has_hangul(self) -> bool:
        return self.sans is not None and "CJK" in self.sans

    @classmethod
    def find(cls) -> Fonts:
        def first(paths: Sequence[str]) -> str | None:
            return next((p for p in paths if Path(p).is_file()), None)
        return cls(first(SANS_FONTS), first(MONO_FONTS))

    def pil(self, size: int, mono: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        path = self.mono if mono else self.sans
        return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


#: Rough courses (lat, lon) of the two rivers the route crosses, for the sketch map only.
RIVERS = {
    "Yalu": [(41.95, 128.3), (41.4, 128.18), (41.1, 127.0), (40.9, 126.0), (40.5, 125.2), (40.13, 124.39)],
    "Mekong": [(25.5, 99.3), (22.0, 100.8), (20.27, 100.09), (19.9, 102.1), (17.97, 102.6), (16.5, 104.7),
               (15.1, 105.8), (13.5, 105.9), (11.6, 104.9), (10.3, 106.4)],
}


@dataclass(frozen=True)
class Palette:
    sky_top: Colour
    sky_horizon: Colour
    far: Colour
    near: Colour
    ground: Colour
    water: Colour
    light: Colour


PALETTES = {
    "night": Palette((4, 6, 16), (18, 26, 46), (22, 28, 44), (12, 15, 22), (8, 10, 14), (10, 16, 30),
                     (255, 196, 110)),
    "dawn": Palette((58, 66, 118), (238, 168, 120), (120, 104, 128), (62, 60, 70), (52, 56, 46), (120, 112, 140),
                    (255, 220, 160)),
    "day": Palette((84, 144, 212), (204, 226, 240), (128, 150, 170), (70, 96, 70), (96, 122, 74), (72, 112, 140),
                   (255, 250, 230)),
    "dusk": Palette((36, 38, 86), (232, 122, 84), (92, 70, 96), (42, 40, 52), (40, 40, 40), (70, 62, 96),
                    (255, 206, 120)),
}


def _mix(a: Colour, b: Colour, f: float) -> Colour:
    return tuple(round(x + (y - x) * f) for x, y in zip(a, b))  # type: ignore[return-value]


def _vertical_gradient(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    column = Image.new("RGB", (1, 256))
    column.putdata([_mix(top, bottom, i / 255) for i in range(256)])
    return column.resize(size, Image.Resampling.BILINEAR)


def _ridge(rng: random.Random, width: int, base: float, height: float, roughness: int) -> list[tuple[float, float]]:
    points, x = [], 0.0
    while x <= width:
        points.append((x, base - height * (0.45 + 0.55 * rng.random())))
        x += width / roughness * (0.6 + 0.8 * rng.random())
    points.append((width, base - height * rng.random()))
    return [(0, base), *points, (width, base)]


def paint_scene(size: tuple[int, int], features: Sequence[str], time: str, seed: int) -> Image.Image:
    """A landscape or interior built from `features` (see demo.toml) under the light of `time`."""
    w, h = size
    rng = random.Random(seed)
    pal = PALETTES[time]
    f = set(features)
    horizon = h * (0.52 if "river" in f else 0.6)
    img = _vertical_gradient((w, h), pal.sky_top, pal.sky_horizon)
    d = ImageDraw.Draw(img)
    if "stars" in f or time == "night":
        for _ in range(w * h // 3000):
            v = rng.randint(90, 230)
            d.point((rng.randrange(w), rng.randrange(int(horizon))), fill=(v, v, v + min(25, 255 - v)))
    if "moon" in f:
        r, cx, cy = h * 0.05, w * (0.2 + 0.6 * rng.random()), h * 0.16
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(232, 230, 210))
    if "far-mountains" in f:
        d.polygon(_ridge(rng, w, horizon, h * 0.16, 9), fill=pal.far)
    if "mountains" in f:
        ridge = _ridge(rng, w, horizon + h * 0.02, h * 0.32, 6)
        d.polygon(ridge, fill=pal.near)
        if "snow" in f:
            for (x1, y1), (x2, y2) in zip(ridge[1:-2], ridge[2:-1]):
                if min(y1, y2) < horizon - h * 0.2:
                    d.line((x1, y1, x2, y2), fill=(236, 238, 244), width=max(3, h // 90))
    if "city" in f:
        x = 0.0
        while x < w:
            bw, bh = w * (0.03 + 0.05 * rng.random()), h * (0.08 + 0.25 * rng.random())
            d.rectangle((x, horizon - bh, x + bw, horizon), fill=_mix(pal.near, pal.far, rng.random() * 0.5))
            for wy in range(int(horizon - bh + 6), int(horizon - 4), 9):
                for wx in range(int(x + 4), int(x + bw - 4), 8):
                    if rng.random() < (0.35 if time in ("night", "dusk") else 0.1):
                        d.rectangle((wx, wy, wx + 3, wy + 4), fill=_mix(pal.light, pal.near, 0.2 * rng.random()))
            x += bw + rng.random() * 6
    ground = (pal.ground if "snow" not in f else _mix(pal.ground, (228, 232, 240), 0.8))
    d.rectangle((0, horizon, w, h), fill=ground)
    if "river" in f:
        top, bottom = horizon + h * 0.03, horizon + h * 0.3
        d.rectangle((0, top, w, bottom), fill=pal.water)
        for _ in range(w // 6):
            y = rng.uniform(top, bottom)
            x = rng.uniform(0, w)
            d.line((x, y, x + rng.uniform(8, 40), y), fill=_mix(pal.water, pal.light, 0.25 + 0.2 * rng.random()))
        if "ice" in f:
            for _ in range(w // 40):
                x, y = rng.uniform(0, w), rng.uniform(top, bottom)
                d.ellipse((x, y, x + rng.uniform(20, 70), y + rng.uniform(4, 12)),
                          fill=_mix(pal.water, (220, 226, 236), 0.7))
    if "lights" in f:
        for _ in range(w // 25):
            x, y = rng.uniform(0, w), horizon - rng.uniform(0, h * 0.03)
            d.ellipse((x - 2, y - 2, x + 2, y + 2), fill=pal.light)
    if "road" in f:
        d.polygon([(w * 0.46, horizon), (w * 0.54, horizon), (w * 0.9, h), (w * 0.1, h)],
                  fill=_mix(pal.ground, (60, 60, 64), 0.7))
        for i in range(6):
            y1, y2 = horizon + (h - horizon) * (i / 6) ** 1.5, horizon + (h - horizon) * ((i + 0.5) / 6) ** 1.5
            d.line((w / 2, y1, w / 2, y2), fill=_mix(pal.light, pal.ground, 0.3), width=max(1, int(2 + i)))
    if "runway" in f:
        d.polygon([(w * 0.3, horizon + 4), (w * 0.7, horizon + 4), (w, h * 0.8), (0, h * 0.8)], fill=(54, 56, 60))
        for i in range(12):
            y = horizon + 4 + (h * 0.8 - horizon) * i / 12
            d.ellipse((w * 0.3 - i * w * 0.025 - 3, y - 3, w * 0.3 - i * w * 0.025 + 3, y + 3), fill=pal.light)
            d.ellipse((w * 0.7 + i * w * 0.025 - 3, y - 3, w * 0.7 + i * w * 0.025 + 3, y + 3), fill=pal.light)
    if "trees" in f or "jungle" in f:
        count = w // (8 if "jungle" in f else 30)
        for _ in range(count):
            x = rng.uniform(0, w)
            y = rng.uniform(horizon - h * 0.02, h if "jungle" in f else horizon + h * 0.05)
            r = rng.uniform(h * 0.02, h * (0.09 if "jungle" in f else 0.05))
            d.ellipse((x - r, y - r * 1.4, x + r, y + r), fill=_mix(pal.near, (20, 70, 30), 0.4 + 0.4 * rng.random()))
    if "boat" in f:
        bx, by, bl = w * (0.3 + 0.3 * rng.random()), horizon + h * 0.18, w * 0.16
        d.polygon([(bx, by), (bx + bl, by - h * 0.01), (bx + bl * 0.92, by + h * 0.035),
                   (bx + bl * 0.06, by + h * 0.035)], fill=(30, 24, 20))
        d.line((bx + bl * 0.85, by - h * 0.01, bx + bl * 0.98, by - h * 0.05), fill=(30, 24, 20), width=3)
    if "wall" in f:
        x1, x2, y1 = w * 0.15, w * 0.85, horizon - h * 0.3
        d.rectangle((x1, y1, x2, h * 0.92), fill=_mix(pal.near, (180, 170, 150), 0.5))
        for i in range(5):
            wx = x1 + (x2 - x1) * (0.08 + 0.18 * i)
            d.rectangle((wx, y1 + h * 0.08, wx + w * 0.06, y1 + h * 0.16), fill=_mix(pal.light, pal.near, 0.6))
        d.rectangle((w * 0.47, h * 0.7, w * 0.53, h * 0.92), fill=(40, 36, 34))
    if "fence" in f:
        for x in range(0, w, max(12, w // 40)):
            d.line((x, h * 0.55, x, h), fill=(30, 30, 32), width=max(2, w // 400))
        for y in (h * 0.6, h * 0.72, h * 0.84):
            d.line((0, y, w, y), fill=(50, 50, 54), width=max(1, w // 800))
    if "window" in f:  # seen from inside: the room's wall frames the view
        frame = _mix(pal.near, (150, 130, 110), 0.55)
        mx, my = w * 0.2, h * 0.15
        for box in ((0, 0, w, my), (0, h - my, w, h), (0, 0, mx, h), (w - mx, 0, w, h)):
            d.rectangle(box, fill=frame)
        d.rectangle((mx, my, w - mx, h - my), outline=(60, 50, 44), width=max(4, w // 120))
        d.line((w / 2, my, w / 2, h - my), fill=(60, 50, 44), width=max(3, w // 160))
    return img.filter(ImageFilter.GaussianBlur(0.6))


def paint_route_map(size: tuple[int, int], route: Sequence[dict], seed: int, fonts: Fonts) -> Image.Image:
    """A pencil map of the route: places from `route` (name, lat, lon), legs in order, air leg dotted."""
    w, h = size
    rng = random.Random(seed)
    img = Image.new("RGB", size, (244, 239, 224))
    d = ImageDraw.Draw(img)
    for _ in range(w * h // 400):  # paper grain
        v = rng.randint(225, 240)
        d.point((rng.randrange(w), rng.randrange(h)), fill=(v, v - 4, v - 16))
    lat0, lat1, lon0, lon1 = 10.0, 45.0, 96.0, 132.0

    def at(lat: float, lon: float) -> tuple[float, float]:
        return (w * 0.06 + (lon - lon0) / (lon1 - lon0) * w * 0.88,
                h * 0.06 + (lat1 - lat) / (lat1 - lat0) * h * 0.88)

    def pencil(points: list[tuple[float, float]], width: int, dash: bool = False) -> None:
        for i, ((x1, y1), (x2, y2)) in enumerate(zip(points, points[1:])):
            if dash and i % 2:
                continue
            j = lambda: rng.uniform(-1.5, 1.5)  # noqa: E731 - a hand never draws a straight line
            d.line((x1 + j(), y1 + j(), x2 + j(), y2 + j()), fill=(70, 70, 76), width=width)

    def segment(a: tuple[float, float], b: tuple[float, float], steps: int = 24) -> list[tuple[float, float]]:
        return [(a[0] + (b[0] - a[0]) * t / steps, a[1] + (b[1] - a[1]) * t / steps) for t in range(steps + 1)]

    for river in RIVERS.values():
        pencil([pt for a, b in zip(river, river[1:]) for pt in segment(at(*a), at(*b), 8)], 2)
    font, small = fonts.pil(max(14, h // 45)), fonts.pil(max(12, h // 60))
    points = [at(p["lat"], p["lon"]) for p in route]
    for i, (a, b) in enumerate(zip(points, points[1:])):
        pencil(segment(a, b), max(2, w // 500), dash=route[i + 1].get("by") == "air")
    label_at: dict[int, str] = {}
    for i, (x, y) in enumerate(points):  # places a few pixels apart share one label
        near = next((j for j in label_at if abs(points[j][0] - x) + abs(points[j][1] - y) < w / 60), None)
        if near is None:
            label_at[i] = route[i]["name"]
        else:
            label_at[near] += " / " + route[i]["name"]
    for i, name in label_at.items():
        x, y = points[i]
        d.ellipse((x - 5, y - 5, x + 5, y + 5), outline=(40, 40, 44), width=2)
        d.text((x + 9, y - 9), name, fill=(40, 40, 44), font=font)
    for p, (x, y) in zip(route, points):
        if "leg" in p:
            d.text((x - 26, y + 4), str(p["leg"]), fill=(150, 50, 40), font=small)
    return img


def paint_child_drawing(size: tuple[int, int], seed: int) -> Image.Image:
    """A crayon drawing of a crowded room with a high window and, in the corner, a boat on a river."""
    w, h = size
    rng = random.Random(seed)
    img = Image.new("RGB", size, (250, 250, 246))
    d = ImageDraw.Draw(img)

    def crayon(box: tuple[float, float, float, float], colour: Colour) -> None:
        x1, y1, x2, y2 = box
        for _ in range(3):
            j = [rng.uniform(-4, 4) for _ in range(8)]
            d.line([(x1 + j[0], y1 + j[1]), (x2 + j[2], y1 + j[3]), (x2 + j[4], y2 + j[5]), (x1 + j[6], y2 + j[7]),
                    (x1 + j[0], y1 + j[1])], fill=colour, width=4)

    crayon((w * 0.08, h * 0.1, w * 0.92, h * 0.9), (90, 90, 110))
    crayon((w * 0.42, h * 0.14, w * 0.58, h * 0.28), (60, 110, 200))
    for i in range(1, 4):
        d.line((w * (0.42 + 0.04 * i), h * 0.14, w * (0.42 + 0.04 * i), h * 0.28), fill=(60, 60, 60), width=3)
    for row in range(3):
        for col in range(4):
            x, y = w * (0.14 + 0.19 * col), h * (0.42 + 0.14 * row)
            colour = [(220, 80, 70), (240, 170, 40), (70, 160, 90)][(row + col) % 3]
            crayon((x, y, x + w * 0.15, y + h * 0.08), colour)
            for k in range(0, int(w * 0.15), 9):  # scribbled fill
                d.line((x + k, y + h * 0.08, x + k + rng.uniform(6, 14), y), fill=colour, width=2)
    d.line([(w * (0.7 + 0.012 * i), h * (0.85 + 0.006 * (-1) ** i)) for i in range(18)], fill=(50, 120, 220), width=6)
    d.polygon([(w * 0.75, h * 0.8), (w * 0.87, h * 0.8), (w * 0.85, h * 0.83), (w * 0.77, h * 0.83)],
              fill=(140, 90, 40))
    return img


def paint_card(size: tuple[int, int], heading: str, subheading: str, seed: int, fonts: Fonts) -> Image.Image:
    """A plain title card: a dark gradient, a heading and a line under it."""
    w, h = size
    rng = random.Random(seed)
    img = _vertical_gradient(size, (12, 16, 24), _mix((12, 16, 24), (rng.randint(40, 90), 50, 70), 0.9))
    d = ImageDraw.Draw(img)
    big, small = fonts.pil(max(24, min(w // 12, h // 8))), fonts.pil(max(14, w // 50))
    for text, font, y, fill in ((heading, big, h * 0.45, (236, 232, 220)),
                                (subheading, small, h * 0.58, (170, 170, 180))):
        box = d.textbbox((0, 0), text, font=font)
        d.text(((w - (box[2] - box[0])) / 2, y - (box[3] - box[1]) / 2), text, font=font, fill=fill)
    d.rectangle((w * 0.04, h * 0.04, w * 0.96, h * 0.96), outline=(90, 90, 100), width=2)
    return img


def caption(img: Image.Image, text: str, fonts: Fonts) -> Image.Image:
    """Burn `text` into a translucent band at the bottom of `img`."""
    w, h = img.size
    font = fonts.pil(max(14, h // 36))
    band = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(band)
    box = d.textbbox((0, 0), text, font=font)
    pad, th = max(6, h // 120), box[3] - box[1]
    d.rectangle((0, h - th - 4 * pad, w, h), fill=(0, 0, 0, 140))
    d.text((2 * pad, h - th - 2 * pad - box[1]), text, font=font, fill=(255, 255, 255, 255))
    return Image.alpha_composite(img.convert("RGBA"), band).convert("RGB")


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, minutes = int(value), int(value * 60 % 60)
    return float(degrees), float(minutes), round((value * 3600) % 60, 2)


def exif_for(*, taken: datetime | None, place: tuple[float, float] | None, orientation: int = 1,
             description: str = "") -> Image.Exif:
    """EXIF of a demo photo: camera, DateTimeOriginal with its offset, GPS position, orientation."""
    exif = Image.Exif()
    exif[0x010F] = "Crossings demo"  # Make
    exif[0x0110] = "Synthetic camera"  # Model
    exif[0x0131] = "crossings demo"  # Software
    exif[0x010E] = description  # ImageDescription
    if orientation != 1:
        exif[0x0112] = orientation
    if taken is not None:
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal, local time
        offset = taken.strftime("%z")
        sub[0x9011] = f"{offset[:3]}:{offset[3:]}" if offset else ""  # OffsetTimeOriginal
    if place is not None:
        lat, lon = place
        gps = exif.get_ifd(0x8825)
        gps.update({0: b"\x02\x03\x00\x00", 1: "N" if lat >= 0 else "S", 2: _dms(lat),
                    3: "E" if lon >= 0 else "W", 4: _dms(lon)})
    return exif
