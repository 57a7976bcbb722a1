"""An item's catalogue record in the field's formats: /items/<id>.pbcore.xml (PBCore 2.1) and
/items/<id>.dc.xml (Dublin Core, oai_dc), as the viewer may see the item; a 404 where its page is one,
and cached as the item's files are (archive.web.files.set_caching: never stored unless public)."""

from __future__ import annotations

from flask import Blueprint, Response

from archive.interchange.dublin_core import dc_document
from archive.models import Item
from archive.interchange.pbcore import pbcore_document
from archive.services.catalogue import get_item
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.files import set_caching

bp = Blueprint("records", __name__)

XML = "application/xml; charset=utf-8"
#: A browser shows these as documents: nothing in them may run or load, whatever an imported record
#: (exported to editors as it came) holds, e.g. XHTML script elements inside an extension.
RECORD_CSP = "default-src 'none'; sandbox"


@bp.get("/items/<id:item_id>.pbcore.xml")
def pbcore(item_id: int) -> Response:
    """The item's pbcoreDescriptionDocument."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    return _xml(item, pbcore_document(session, viewer, item, current_archive().identity))


@bp.get("/items/<id:item_id>.dc.xml")
def dublin_core(item_id: int) -> Response:
    """The item's oai_dc:dc record."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    return _xml(item, dc_document(session, viewer, item, current_archive().identity))


def _xml(item: Item, body: bytes) -> Response:
    response = Response(body, content_type=XML)
    response.headers["Content-Security-Policy"] = RECORD_CSP
    return set_caching(response, item)
