"""URLs of an item's page and files, shared by the templates and the JSON API."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from archive.models import Derivative, Item
from archive.access import may_have_original
from archive.services.access_copies import ACCESS
from archive.web.context import current_archive, current_viewer

#: Derivatives served as images under /items/<id>/thumbs/<kind>; the proxy has its own route.
THUMB_KINDS = ("grid", "page", "storyboard")


def derivative(item: Item, kind: str) -> Derivative | None:
    media = item.media
    return media.derivative(kind) if media is not None else None


def item_url(item: Item, *, external: bool = False) -> str:
    return url_for("pages.item", item_id=item.id, _external=external)


def thumb_url(item: Item, kind: str = "grid", *, external: bool = False) -> str | None:
    """The URL of a thumbnail, or None when the item has none of that kind."""
    if kind not in THUMB_KINDS or derivative(item, kind) is None:
        return None
    return url_for("files.thumbnail", item_id=item.id, kind=kind, _external=external)


def original_url(item: Item, *, external: bool = False) -> str | None:
    """The original file's URL; None without a file or when the current viewer may not have it."""
    if item.media is None or not may_have_original(current_viewer(), item):
        return None
    return url_for("files.original", item_id=item.id, _external=external)


def holds_original(item: Item) -> bool:
    """May the current viewer have the item's original, its checksum and its file name?"""
    return may_have_original(current_viewer(), item)


def access_copy_url(item: Item, *, external: bool = False) -> str | None:
    """The access copy's URL (archive.services.access_copies); None unless downloads of them are offered
    and this one has been made."""
    if not downloads_offered() or derivative(item, ACCESS) is None:
        return None
    return url_for("files.access_copy", item_id=item.id, _external=external)


def downloads_offered() -> bool:
    """Are access copies offered to download to viewers who may not have the original?"""
    return bool(current_archive().settings["offer_access_copy_downloads"])


def derivative_url(item: Item, kind: str, *, external: bool = False) -> str | None:
    if kind == ACCESS:
        return access_copy_url(item, external=external)
    if kind == "proxy":
        if derivative(item, "proxy") is None:
            return None
        return url_for("files.proxy", item_id=item.id, _external=external)
    return thumb_url(item, kind, external=external)


def url_with(**changes: Any) -> str:
    """This page's URL with some query parameters changed (None drops one); the rest are kept."""
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None or value == "":
            args.pop(name, None)
        else:
            args[name] = [str(value)]
    return url_for(request.endpoint or "pages.home", **(request.view_args or {}), **args)
