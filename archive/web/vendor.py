"""Front-end libraries installed by `make setup` into node_modules/, served from our own origin.

Only the files the pages use are served, by name, so nothing else under node_modules/ is
reachable. The maps need no internet: Leaflet comes from here and the country outlines from
static/geodata/.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, send_from_directory
from flask.typing import ResponseReturnValue

from archive.web.auth import CSP
from archive.web.errors import error_response

bp = Blueprint("vendor", __name__)

NODE_MODULES = Path(__file__).resolve().parent.parent.parent / "node_modules"
LEAFLET_DIST = NODE_MODULES / "leaflet" / "dist"
LEAFLET_FILES = frozenset({
    "leaflet.js", "leaflet.js.map", "leaflet.css",
    # leaflet.css points at these for the layer control and the default marker
    "images/layers.png", "images/layers-2x.png",
    "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png",
})


MIRADOR_DIST = NODE_MODULES / "mirador" / "dist"
#: Only the browser bundle (it loads nothing else; the viewer page is archive.web.iiif.viewer).
MIRADOR_FILES = frozenset({"mirador.min.js"})


@bp.get("/static/vendor/mirador/<path:filename>")
def mirador(filename: str) -> ResponseReturnValue:
    """Mirador 4's browser bundle, for the IIIF viewer page."""
    if filename not in MIRADOR_FILES:
        return error_response(404, "There is nothing at this address.")
    if not (MIRADOR_DIST / filename).is_file():
        return error_response(404, "Mirador is not installed on this server, so the IIIF viewer cannot open; "
                                   "`make setup` installs it (npm ci) into node_modules/.")
    return send_from_directory(MIRADOR_DIST, filename)


@bp.get("/static/vendor/leaflet/<path:filename>")
def leaflet(filename: str) -> ResponseReturnValue:
    """One of Leaflet's distributed files (leaflet.js, leaflet.css, images/...)."""
    if filename not in LEAFLET_FILES:
        return error_response(404, "There is nothing at this address.")
    if not (LEAFLET_DIST / filename).is_file():
        return error_response(404, "Leaflet is not installed on this server, so maps cannot be drawn; "
                                   "`make setup` installs it (npm ci) into node_modules/.")
    return send_from_directory(LEAFLET_DIST, filename)


def tile_origin(tile_url: str) -> str | None:
    """The scheme://host[:port] a tile URL template loads from, or None for an empty or relative one."""
    parts = urlsplit(tile_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@bp.after_app_request
def _allow_tile_server(response: Response) -> Response:
    """With a `map_tile_url` set, let the pages' images come from that server too.

    The policy itself is archive.web.auth's; this only widens img-src, and only when an admin has
    configured a tile server, so an archive without one keeps loading nothing from elsewhere.
    """
    origin = tile_origin(current_app.config["CROSSINGS"]["map_tile_url"])
    if origin is None:
        return response
    policy = response.headers.get("Content-Security-Policy", CSP)
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    widened = [f"{d} {origin}" if d.split()[0] == "img-src" and origin not in d.split() else d
               for d in directives]
    response.headers["Content-Security-Policy"] = "; ".join(widened)
    return response
