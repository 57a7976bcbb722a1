"""Originals, proxies, access copies and thumbnails, streamed with HTTP Range support.

Every route loads the item through the catalogue (so what a viewer may not see is a 404) and
takes the file's location from the database record only, never from the URL.
"""

from __future__ import annotations

import logging
import mimetypes
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, redirect, request, send_file
from werkzeug.wsgi import wrap_file

from archive.access import may_have_original
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.cors import share_item_if_public
from archive.models import AccessLevel, Item
from archive.services import NotFound
from archive.services.catalogue import get_item
from archive.services.access_copies import ACCESS
from archive.web.links import THUMB_KINDS, access_copy_url

log = logging.getLogger(__name__)

bp = Blueprint("files", __name__)

#: Types a browser may show inline; anything else is offered as a download, never rendered.
_INLINE_PREFIXES = ("image/", "video/", "audio/")
_NEVER_INLINE = {"image/svg+xml"}


@bp.get("/items/<id:item_id>/original")
def original(item_id: int) -> Response:
    """The original file, byte for byte."""
    item = get_item(db_session(), current_viewer(), item_id)
    media = item.media
    if media is None or not may_have_original(current_viewer(), item):
        raise NotFound(f"the original of item {item_id}")
    path = _stored(current_archive().store.original_relpath(media.sha256), f"the original of item {item_id}")
    mime = media.mime_type or "application/octet-stream"
    inline = mime.startswith(_INLINE_PREFIXES) and mime not in _NEVER_INLINE
    disposition = content_disposition(download_name(item, mime), fallback_stem=f"item-{item.id}", inline=inline)
    return _send(item, path, mime if inline else "application/octet-stream", etag=media.sha256,
                 disposition=disposition)


@bp.get("/items/<id:item_id>/access")
def access_copy(item_id: int) -> Response:
    """The access copy, offered to download where the archive offers them (offer_access_copy_downloads):
    what a viewer who may not have the original gets instead of it (archive.access.may_have_original)."""
    item = get_item(db_session(), current_viewer(), item_id)
    found = item.media.derivative(ACCESS) if item.media is not None else None
    if found is None or access_copy_url(item) is None:
        raise NotFound(f"the access copy of item {item_id}")
    path = _stored(found.path, f"the access copy of item {item_id}")
    mime = found.mime_type or "application/octet-stream"
    # Its own checksum: it names this file and no other, and says nothing of the original's.
    etag = (found.info or {}).get("sha256") or f"item-{item.id}-{ACCESS}-{found.id}"
    return _send(item, path, mime, etag=etag, disposition=content_disposition(
        download_name(item, mime), fallback_stem=f"item-{item.id}", inline=False))


@bp.get("/items/<id:item_id>/proxy")
def proxy(item_id: int) -> Response:
    """The browser-ready copy of footage whose original browsers cannot play."""
    return _derivative(item_id, "proxy")


@bp.get(f"/items/<id:item_id>/thumbs/<any({', '.join(THUMB_KINDS)}):kind>")
def thumbnail(item_id: int, kind: str) -> Response:
    """A grid thumbnail, page-size poster or still, or the storyboard strip."""
    return _derivative(item_id, kind)


def _derivative(item_id: int, kind: str) -> Response:
    item = get_item(db_session(), current_viewer(), item_id)
    media = item.media
    found = media.derivative(kind) if media is not None else None
    if media is None or found is None:
        raise NotFound(f"the {kind} of item {item_id}")
    path = _stored(found.path, f"the {kind} of item {item_id}")
    # The derivative's own id (it changes when the file is made again), never the original's
    # checksum: that would confirm to a viewer who may not have the original which file it is.
    return _send(item, path, found.mime_type or "application/octet-stream", etag=f"item-{item.id}-{kind}-{found.id}")


def _stored(relpath: str, what: str) -> str:
    """The relative path from the catalogue, checked to be in the store; else NotFound."""
    try:
        size = current_archive().store.size(relpath)
    except ValueError:
        log.error("refusing to serve %s: recorded path %r leaves the store", what, relpath)
        raise NotFound(what) from None
    if size is None:
        log.warning("%s is missing from the store: %s", what, relpath)
        raise NotFound(what)
    return relpath


#: The longest a presigned URL may live, whatever s3_public_redirect_seconds says: minutes, not hours.
MAX_REDIRECT_SECONDS = 900


def _send(item: Item, relpath: str, mime: str, *, etag: str, disposition: str | None = None) -> Response:
    """Stream a stored file through the app, so access checks and caching headers apply to every byte.

    conditional: Range requests, and 304 to an If-None-Match that names the ETag. A file in S3 is read
    as a seekable stream of ranged GETs (archive.objects), never downloaded whole first. Only a public
    item's file may instead be a redirect to a presigned URL (s3_public_redirect_seconds).
    """
    archive = current_archive()
    store = archive.store
    seconds = min(archive.settings["s3_public_redirect_seconds"], MAX_REDIRECT_SECONDS)
    presign = getattr(store.objects, "presigned_url", None)
    if item.access is AccessLevel.public and seconds > 0 and presign is not None:
        params = {"ResponseContentType": mime, "ResponseCacheControl": "no-cache"}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        response = redirect(presign(relpath, expires_seconds=seconds, **params), code=302)
        # The redirect names a URL that expires: no cache may keep it.
        response.headers["Cache-Control"] = "no-store"
        return share_item_if_public(response, item)
    local = store.local_path(relpath)
    if local is not None:
        response = send_file(local, mimetype=mime, conditional=True, etag=etag, max_age=None)
    else:
        size = store.size(relpath)
        response = Response(wrap_file(request.environ, store.open(relpath)), mimetype=mime, direct_passthrough=True)
        response.content_length = size
        response.set_etag(etag)
        response = response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if disposition:
        response.headers["Content-Disposition"] = disposition
    return set_caching(response, item)


def set_caching(response: Response, item: Item) -> Response:
    """What caches may do with a file or transcript of `item`: the one rule for everything served from an item.

    Restricted and confidential material is never stored, by shared caches or by the browser
    (`private, no-store`). Public material may be stored but must be revalidated on every use
    (`no-cache`, answered 304 while its ETag holds), so that once the item is made restricted or
    confidential, or put in the trash, no cache serves it again: the revalidation gets a 404.
    """
    response.headers["Cache-Control"] = "no-cache" if item.access is AccessLevel.public else "private, no-store"
    response.headers.pop("Expires", None)
    # The same distinction decides who else may read it: a public item's files, as anyone gets them,
    # are shared with viewers on other sites (archive.web.cors).
    return share_item_if_public(response, item)


def download_name(item: Item, mime: str) -> str:
    """The file name a download is offered under: the item's id and the extension of its detected
    type, never the uploaded name (it may name a person or a place) nor its extension (it may lie)."""
    return f"item-{item.id}{extension_for(mime)}"


#: Extensions of the types the archive holds where mimetypes' first guess is odd (.jpe, .qt...).
_EXTENSIONS = {"image/jpeg": ".jpg", "image/tiff": ".tif", "video/quicktime": ".mov", "audio/mpeg": ".mp3",
               "video/x-matroska": ".mkv", "audio/x-matroska": ".mka", "video/mp4": ".mp4", "audio/mp4": ".m4a",
               "audio/wav": ".wav", "audio/x-wav": ".wav", "image/heic": ".heic", "image/heif": ".heif",
               "audio/ogg": ".ogg", "audio/webm": ".webm"}


def extension_for(mime: str) -> str:
    """The usual extension of a MIME type, with its dot; "" when it has none."""
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime, strict=False) or ""


def content_disposition(name: str, *, fallback_stem: str, inline: bool = True) -> str:
    """A Content-Disposition value with an ASCII `filename` and, for other names, `filename*` (RFC 6266)."""
    disposition = "inline" if inline else "attachment"
    ascii_name = _ascii_fallback(name, fallback_stem)
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def _ascii_fallback(name: str, stem: str) -> str:
    """`name` reduced to printable ASCII without quotes; `stem` plus the extension if little is left."""
    decomposed = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = "".join(ch for ch in decomposed if ch.isprintable() and ch not in '"\\/;')
    base, dot, ext = cleaned.rpartition(".")
    if not dot:
        base, ext = cleaned, ""
    if not base.strip(" ._-"):
        base = stem
    return f"{base}.{ext}" if ext else base
