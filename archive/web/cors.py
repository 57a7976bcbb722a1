"""Cross-origin sharing of public material, so IIIF viewers on other sites can load it.

One rule: `Access-Control-Allow-Origin: *` goes only on what anyone would get, a public item's (or
a public collection's) manifest, captions and media as served to a visitor who is not logged in;
never on anything a login opened. A cross-site request with `*` is sent without cookies, so what
it gets is exactly the anonymous answer, which is the one this rule shares.
"""

from __future__ import annotations

from flask import Response, request

from archive.access import ANONYMOUS, can_see
from archive.models import AccessLevel, Item
from archive.services import NotFound
from archive.services.catalogue import get_item
from archive.web.context import current_viewer, db_session

#: Routes of an item that a viewer on another site loads: answered to preflight requests too.
ITEM_ENDPOINTS = frozenset({"files.original", "files.proxy", "files.access_copy", "files.thumbnail",
                            "transcripts.export", "iiif.manifest", "iiif.search"})
#: Headers a player reads from a ranged media answer.
EXPOSED = "Content-Range, Accept-Ranges, Content-Length, ETag"


def share_if_public(response: Response, public: bool) -> Response:
    """Let any origin read `response` when it holds only public material, as anyone gets it."""
    if public and current_viewer().is_anonymous:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
    return response


def share_item_if_public(response: Response, item: Item) -> Response:
    return share_if_public(response, item.access is AccessLevel.public and can_see(ANONYMOUS, item))


def answer_preflight(response: Response) -> Response:
    """A CORS preflight (OPTIONS) of an item's route: allowed when a visitor without login may see the item.

    Preflights never carry cookies, so the question is asked for an anonymous visitor; a hidden or
    missing item gets no CORS headers, as if the route did not share (nothing tells it exists)."""
    if request.method != "OPTIONS" or request.endpoint not in ITEM_ENDPOINTS:
        return response
    item_id = (request.view_args or {}).get("item_id")
    try:
        item = get_item(db_session(), ANONYMOUS, item_id) if isinstance(item_id, int) else None
    except NotFound:
        item = None
    if item is not None and item.access is AccessLevel.public:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Range, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "600"
    return response
