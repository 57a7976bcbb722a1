#!/usr/bin/env python3
"""Convert world-atlas's Natural Earth country outlines into the map's committed base data.

Writes static/geodata/countries.geojson (the base layer the browser draws: one feature per
country, properties {iso2, name, label_point}, label_point being the [lon, lat] where the map
writes its name) and archive/geodata/country_points.json (the same representative point inside
each country, keyed by ISO 3166-1 alpha-2). Both are committed, so neither the app
nor `make setup` runs this; regenerate after upgrading world-atlas in package.json:

    npm ci && .venv/bin/python scripts/build-geodata.py

Natural Earth is public domain. world-atlas ids are ISO 3166-1 numeric codes; the few units
without one (Kosovo, Somaliland, N. Cyprus...) are drawn but have no iso2 and no point.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"
GEOJSON_OUT = ROOT / "static" / "geodata" / "countries.geojson"
POINTS_OUT = ROOT / "archive" / "geodata" / "country_points.json"

#: Degrees; 3 decimals is about 110 m, finer than the 1:50m source needs.
DECIMALS = 3
#: Degrees an outline may move when simplified for drawing (0.02 is about 2 km, a few pixels at
#: zoom 8); the points are computed from the full outlines.
TOLERANCE = 0.02

# pycountry's names where they read as a register entry rather than a map label.
NAME_OVERRIDES = {
    "CD": "DR Congo",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "MF": "Saint Martin",
    "PS": "Palestine",
    "RU": "Russia",
    "SX": "Sint Maarten",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}

Point = tuple[float, float]  # (lon, lat)
Ring = list[Point]
Polygon = list[Ring]  # exterior ring first, then holes


def decode_arcs(topology: dict) -> list[list[Point]]:
    """The topology's arcs as absolute (lon, lat) points (arcs are quantised and delta-encoded)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def simplify_arc(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker on one arc. Simplifying arcs, not rings, keeps a border shared by two
    countries identical on both sides: no slivers or gaps between neighbours."""
    if tolerance <= 0 or len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    if points[0] == points[-1]:  # a closed arc (an island): pin its far side so it stays a ring
        far = max(range(len(points)), key=lambda i: (points[i][0] - points[0][0]) ** 2 + (points[i][1] - points[0][1]) ** 2)
        keep[far] = True
        spans = [(0, far), (far, len(points) - 1)]
    else:
        spans = [(0, len(points) - 1)]
    while spans:
        first, last = spans.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        worst, worst_distance = None, tolerance
        for i in range(first + 1, last):
            px, py = points[i]
            distance = (abs(dx * (ay - py) - dy * (ax - px)) / length if length
                        else math.hypot(px - ax, py - ay))
            if distance > worst_distance:
                worst, worst_distance = i, distance
        if worst is not None:
            keep[worst] = True
            spans += [(first, worst), (worst, last)]
    return [point for point, kept in zip(points, keep) if kept]


def stitch_ring(arc_indexes: list[int], arcs: list[list[Point]]) -> Ring:
    """Join arcs into one ring; a negative index ~i means arc i walked backwards."""
    ring: Ring = []
    for index in arc_indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        # Each arc starts where the previous one ended: keep that shared point once.
        ring.extend(points if not ring else points[1:])
    return ring


def geometry_polygons(geometry: dict, arcs: list[list[Point]]) -> list[Polygon]:
    """A TopoJSON Polygon or MultiPolygon as a list of polygons."""
    if geometry["type"] == "Polygon":
        parts = [geometry["arcs"]]
    elif geometry["type"] == "MultiPolygon":
        parts = geometry["arcs"]
    else:
        raise ValueError(f"{geometry.get('id')}: unexpected geometry type {geometry['type']}")
    return [[stitch_ring(ring, arcs) for ring in polygon] for polygon in parts]


def signed_area(ring: Ring) -> float:
    """Shoelace area in square degrees; positive when counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])) / 2


def ground_area(polygon: Polygon) -> float:
    """The exterior ring's area with degrees of longitude shrunk by latitude (to rank polygons)."""
    ring = polygon[0]
    mid_lat = (min(y for _, y in ring) + max(y for _, y in ring)) / 2
    return abs(signed_area(ring)) * math.cos(math.radians(mid_lat))


def ring_centroid(ring: Ring) -> Point:
    """The area centroid of a ring (planar, in degrees)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area == 0:
        return ring[0]
    return cx / (3 * area), cy / (3 * area)


def signed_distance(point: Point, polygon: Polygon) -> float:
    """Distance from `point` to the polygon's edges: positive inside, negative outside."""
    px, py = point
    inside = False
    best = math.inf
    for ring in polygon:
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1]):
            if (ay > py) != (by > py) and px < (bx - ax) * (py - ay) / (by - ay) + ax:
                inside = not inside
            dx, dy = bx - ax, by - ay
            t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
            best = min(best, (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2)
    return math.sqrt(best) * (1 if inside else -1)


def pole_of_inaccessibility(polygon: Polygon, precision: float = 0.01) -> tuple[Point, float]:
    """The inside point farthest from the edges and its distance (Mapbox's polylabel: a best-first cell search)."""
    xs = [x for x, _ in polygon[0]]
    ys = [y for _, y in polygon[0]]
    size = min(max(xs) - min(xs), max(ys) - min(ys))
    if size == 0:
        return polygon[0][0], 0.0
    half = size / 2

    def cell(x: float, y: float, h: float) -> tuple[float, float, float, float, float]:
        distance = signed_distance((x, y), polygon)
        # Sort key first: the most any point in this cell could reach (heapq pops the smallest).
        return -(distance + h * math.sqrt(2)), distance, x, y, h

    queue = [cell(x + half, y + half, half)
             for x in _steps(min(xs), max(xs), size) for y in _steps(min(ys), max(ys), size)]
    heapq.heapify(queue)
    centroid = ring_centroid(polygon[0])
    best = cell(*centroid, 0)
    while queue:
        _, distance, x, y, h = heapq.heappop(queue)
        if distance > best[1]:
            best = (0, distance, x, y, h)
        if distance + h * math.sqrt(2) - best[1] <= precision:
            continue
        h /= 2
        for dx in (-h, h):
            for dy in (-h, h):
                heapq.heappush(queue, cell(x + dx, y + dy, h))
    return (best[2], best[3]), best[1]


def _steps(start: float, stop: float, step: float) -> list[float]:
    values = []
    while start < stop:
        values.append(start)
        start += step
    return values


def representative_point(polygons: list[Polygon]) -> Point:
    """A point inside the country's largest polygon: its centroid unless that lies outside or
    hard against an edge (a crescent, a coastline), then the pole of inaccessibility."""
    largest = max(polygons, key=ground_area)
    # Work in a frame where a degree of longitude is as long as a degree of latitude.
    mid_lat = (min(y for _, y in largest[0]) + max(y for _, y in largest[0])) / 2
    shrink = math.cos(math.radians(mid_lat))
    flat = [[(x * shrink, y) for x, y in ring] for ring in largest]
    pole, pole_distance = pole_of_inaccessibility(flat, precision=max(0.005, math.sqrt(ground_area(largest)) / 200))
    centroid = ring_centroid(flat[0])
    chosen = centroid if signed_distance(centroid, flat) >= pole_distance / 4 else pole
    return chosen[0] / shrink, chosen[1]


def country_name(country) -> str:
    return NAME_OVERRIDES.get(country.alpha_2) or getattr(country, "common_name", None) or country.name


def rounded_ring(ring: Ring, clockwise: bool) -> list[list[float]] | None:
    """The ring rounded, closed, wound as RFC 7946 asks; None if rounding collapsed it."""
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or point != out[-1]:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    if len(out) < 4:
        return None
    area = signed_area([tuple(p) for p in out[:-1]])
    if area == 0:
        return None
    if (area < 0) != clockwise:
        out.reverse()
    return out


def rounded_polygon(polygon: Polygon) -> list[list[list[float]]] | None:
    exterior = rounded_ring(polygon[0], clockwise=False)
    if exterior is None:
        return None
    holes = [r for r in (rounded_ring(ring, clockwise=True) for ring in polygon[1:]) if r]
    return [exterior, *holes]


def build(source: Path, tolerance: float = TOLERANCE) -> tuple[dict, dict]:
    """The base-layer FeatureCollection and the points table from a world-atlas countries file."""
    topology = json.loads(source.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    drawn_arcs = [simplify_arc(arc, tolerance) for arc in arcs]
    by_key: dict[str, dict] = {}  # one feature per country: Australia comes in two pieces
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=geometry["id"]) if geometry.get("id") else None
        key = country.alpha_2 if country else geometry["properties"]["name"]
        entry = by_key.setdefault(key, {"country": country, "name": geometry["properties"]["name"],
                                        "polygons": [], "drawn": []})
        entry["polygons"].extend(geometry_polygons(geometry, arcs))
        entry["drawn"].extend(geometry_polygons(geometry, drawn_arcs))

    features, points = [], {}
    for key, entry in sorted(by_key.items()):
        country = entry["country"]
        name = country_name(country) if country else entry["name"]
        # A tiny island state simplified away is drawn from its full outline instead.
        polygons = ([p for p in map(rounded_polygon, entry["drawn"]) if p]
                    or [p for p in map(rounded_polygon, entry["polygons"]) if p])
        if not polygons:
            continue
        geometry = ({"type": "Polygon", "coordinates": polygons[0]} if len(polygons) == 1
                    else {"type": "MultiPolygon", "coordinates": polygons})
        lon, lat = representative_point(entry["polygons"])
        label_point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        feature = {"type": "Feature", "properties": {"iso2": country.alpha_2 if country else None, "name": name,
                                                     "label_point": label_point},
                   "geometry": geometry}
        if country:
            feature["id"] = country.alpha_2
            points[country.alpha_2] = {"name": name, "lat": label_point[1], "lon": label_point[0]}
        features.append(feature)
    collection = {"type": "FeatureCollection",
                  "source": f"Natural Earth 1:50m via world-atlas ({source.name}); public domain",
                  "features": features}
    return collection, points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="a world-atlas countries-*.json")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source}: not found; run `npm ci` first", file=sys.stderr)
        return 1
    collection, points = build(args.source)
    GEOJSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    POINTS_OUT.parent.mkdir(parents=True, exist_ok=True)
    GEOJSON_OUT.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    # One country a line, so a regeneration reads as a diff of the countries that moved.
    lines = (f"{json.dumps(code)}: {json.dumps(point, ensure_ascii=False)}" for code, point in sorted(points.items()))
    POINTS_OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    for path in (GEOJSON_OUT, POINTS_OUT):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")
    print(f"{len(collection['features'])} features, {len(points)} country points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
