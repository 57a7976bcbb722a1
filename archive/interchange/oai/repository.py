"""The six verbs over the harvest log (archive.services.harvest_log) and the items' records.

Everything is answered as the anonymous visitor sees it (archive.access.ANONYMOUS), whoever asks, so
a harvest is the same for everyone and holds only what anyone may see. Records are PBCore and Dublin
Core as the item's own record pages give them (archive.interchange.pbcore, dublin_core). Lists are
read a page at a time in the harvest log's id order; a page's items are loaded together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lxml import etree
from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session

from archive.access import ANONYMOUS, collection_filter, item_filter
from archive.identity import Identity
from archive.interchange import record
from archive.interchange.dublin_core import OAI_DC_NS, dc_element
from archive.interchange.oai import tokens
from archive.interchange.oai.arguments import OAIError, Request, date_range, datestamp_text, parse_request
from archive.interchange.pbcore import pbcore_element
from archive.interchange.pbcore_xml import PBCORE_NS, SCHEMA_LOCATION
from archive.models import Collection, HarvestRecord, Item

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
SET_PREFIX = "collection:"


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    element: Callable[[Session, Item, Identity], etree._Element]


FORMATS = {f.prefix: f for f in (
    MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS,
                   lambda session, item, identity: dc_element(session, ANONYMOUS, item, identity)),
    MetadataFormat("pbcore", SCHEMA_LOCATION.split()[1], PBCORE_NS,
                   lambda session, item, identity: pbcore_element(session, ANONYMOUS, item, identity)),
)}


@dataclass(frozen=True)
class Repository:
    """What a response needs besides the database: who the archive is and how lists are paged."""
    identity: Identity
    base_url: str  #: the absolute URL of the OAI-PMH endpoint, Identify's baseURL
    token_key: bytes  #: tokens.signing_key(the archive's secret)
    page_size: int = 100
    token_lifetime: timedelta = timedelta(hours=24)


def respond(session: Session, repository: Repository, pairs: list[tuple[str, str]],
            now: datetime | None = None) -> bytes:
    """The OAI-PMH response (UTF-8 XML) to a request of these (name, value) arguments. Errors are the
    protocol's own error elements; the HTTP status is 200 either way, as the protocol says."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    etree.SubElement(root, f"{{{OAI_NS}}}responseDate").text = datestamp_text(now)
    request_element = etree.SubElement(root, f"{{{OAI_NS}}}request")
    request_element.text = repository.base_url
    try:
        request = parse_request(pairs)
    except OAIError as error:  # badVerb, badArgument: the request is echoed without its arguments
        _error(root, error)
        return _serialise(root)
    request_element.set("verb", request.verb)
    for name, value in request.arguments.items():
        request_element.set(name, value)
    try:
        VERB_HANDLERS[request.verb](_Context(session, repository, now), root, request)
    except OAIError as error:
        del root[2:]
        if error.code == "badArgument":  # found late (a date, a set): still echoed without arguments
            request_element.attrib.clear()
        _error(root, error)
    return _serialise(root)


@dataclass(frozen=True)
class _Context:
    session: Session
    repository: Repository
    now: datetime


def _sub(parent: etree._Element, name: str, text: object = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI_NS}}}{name}", attributes)
    if text is not None:
        element.text = str(text)
    return element


def _error(root: etree._Element, error: OAIError) -> None:
    for each in (error, *error.others):
        _sub(root, "error", each.message, code=each.code)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- Identify, ListMetadataFormats, ListSets --------------------------------------------------------

def _identify(ctx: _Context, root: etree._Element, _request: Request) -> None:
    identity = ctx.repository.identity
    earliest = ctx.session.scalar(select(func.min(HarvestRecord.datestamp)))
    element = _sub(root, "Identify")
    _sub(element, "repositoryName", identity.name)
    _sub(element, "baseURL", ctx.repository.base_url)
    _sub(element, "protocolVersion", "2.0")
    if identity.contact_email:
        _sub(element, "adminEmail", identity.contact_email)
    _sub(element, "earliestDatestamp", datestamp_text(earliest or ctx.now))
    _sub(element, "deletedRecord", "persistent")
    _sub(element, "granularity", GRANULARITY)


def _find(ctx: _Context, identifier: str) -> HarvestRecord:
    found = ctx.session.scalar(select(HarvestRecord).where(HarvestRecord.pid == identifier))
    if found is None:
        raise OAIError("idDoesNotExist", f"no record has the identifier {identifier!r}")
    return found


def _list_metadata_formats(ctx: _Context, root: etree._Element, request: Request) -> None:
    if request.get("identifier") is not None:
        _find(ctx, request.arguments["identifier"])  # every record is offered in every format
    element = _sub(root, "ListMetadataFormats")
    for fmt in FORMATS.values():
        entry = _sub(element, "metadataFormat")
        _sub(entry, "metadataPrefix", fmt.prefix)
        _sub(entry, "schema", fmt.schema)
        _sub(entry, "metadataNamespace", fmt.namespace)


def _visible_sets(session: Session) -> list[Collection]:
    """Collections with an item the anonymous visitor may see: the sets."""
    return list(session.scalars(select(Collection).where(collection_filter(ANONYMOUS)).order_by(Collection.id)))


def _list_sets(ctx: _Context, root: etree._Element, request: Request) -> None:
    if request.get("resumptionToken") is not None:
        raise OAIError("badResumptionToken", "ListSets is answered whole; this repository issues no token for it")
    sets = _visible_sets(ctx.session)
    if not sets:
        raise OAIError("noSetHierarchy", "this repository has no sets")
    element = _sub(root, "ListSets")
    for collection in sets:
        entry = _sub(element, "set")
        _sub(entry, "setSpec", f"{SET_PREFIX}{collection.id}")
        _sub(entry, "setName", collection.title)


# -- GetRecord, ListIdentifiers, ListRecords --------------------------------------------------------

def _format(prefix: str) -> MetadataFormat:
    if prefix not in FORMATS:
        raise OAIError("cannotDisseminateFormat",
                       f"the metadataPrefix {prefix!r} is not offered; ListMetadataFormats names {', '.join(FORMATS)}")
    return FORMATS[prefix]


def _header(parent: etree._Element, row: HarvestRecord, deleted: bool) -> None:
    header = _sub(parent, "header", **({"status": "deleted"} if deleted else {}))
    _sub(header, "identifier", row.pid)
    _sub(header, "datestamp", datestamp_text(row.datestamp))
    if row.collection_id is not None:
        _sub(header, "setSpec", f"{SET_PREFIX}{row.collection_id}")


def _records(ctx: _Context, parent: etree._Element, rows: list[HarvestRecord], fmt: MetadataFormat | None) -> None:
    """Each row's record (`fmt` None: its header only). A row the log holds live but whose item the
    anonymous visitor cannot see (the log behind the catalogue) is given as deleted, never shown."""
    live = [row.item_id for row in rows if not row.deleted and row.item_id is not None]
    if fmt is None:  # headers only: whether each is still visible, without loading the records
        visible = set(ctx.session.execute(select(Item.id, Item.pid).where(Item.id.in_(live), item_filter(ANONYMOUS))))
        for row in rows:
            _header(parent, row, (row.item_id, row.pid) not in visible)
        return
    items = {item.id: item for item in record.load_items(ctx.session, ANONYMOUS, live)}
    for row in rows:
        item = items.get(row.item_id) if not row.deleted and row.item_id is not None else None
        if item is not None and item.pid != row.pid:  # never one item's record under another's identifier
            item = None
        entry = _sub(parent, "record")
        _header(entry, row, item is None)
        if item is not None:
            metadata = _sub(entry, "metadata")
            metadata.append(fmt.element(ctx.session, item, ctx.repository.identity))


def _get_record(ctx: _Context, root: etree._Element, request: Request) -> None:
    fmt: MetadataFormat | None = None
    row: HarvestRecord | None = None
    errors: list[OAIError] = []
    try:
        fmt = _format(request.arguments["metadataPrefix"])
    except OAIError as error:
        errors.append(error)
    try:
        row = _find(ctx, request.arguments["identifier"])
    except OAIError as error:
        errors.append(error)
    if errors:  # an unknown format and an unknown identifier are both said
        raise OAIError(errors[0].code, errors[0].message, others=tuple(errors[1:]))
    assert fmt is not None and row is not None
    _records(ctx, _sub(root, "GetRecord"), [row], fmt)


def _set_filter(ctx: _Context, set_spec: str | None) -> ColumnElement[bool]:
    if set_spec is None:
        return true()
    if not _visible_sets(ctx.session):
        raise OAIError("noSetHierarchy", "this repository has no sets")
    number = set_spec.removeprefix(SET_PREFIX)
    if not set_spec.startswith(SET_PREFIX) or not number.isdigit() or len(number) > 10:
        raise OAIError("badArgument", f"set={set_spec!r} is not a set of this repository (they are {SET_PREFIX}N; see ListSets)")
    return HarvestRecord.collection_id == int(number)


def _list(ctx: _Context, root: etree._Element, request: Request, *, with_metadata: bool) -> None:
    repository = ctx.repository
    if "resumptionToken" in request.arguments:
        position = tokens.decode(request.arguments["resumptionToken"], repository.token_key, verb=request.verb,
                                 now=ctx.now)
        arguments = {name: value for name, value in (("metadataPrefix", position.prefix), ("from", position.start),
                                                      ("until", position.end), ("set", position.set_spec)) if value}
        resumed = Request(request.verb, arguments)
    else:
        position, resumed = None, request
    fmt = _format(resumed.arguments["metadataPrefix"])
    start, end = date_range(resumed)
    where = and_(HarvestRecord.datestamp >= start if start else true(), HarvestRecord.datestamp <= end if end else true(),
                 _set_filter(ctx, resumed.get("set")))
    after = position.after if position else 0
    cursor = position.cursor if position else 0
    page: Select[tuple[HarvestRecord]] = (select(HarvestRecord).where(where, HarvestRecord.id > after)
                                          .order_by(HarvestRecord.id).limit(repository.page_size + 1))
    rows = list(ctx.session.scalars(page))
    if not rows:
        if position is None:
            raise OAIError("noRecordsMatch", "no record matches these arguments")
        raise OAIError("badResumptionToken", "the list this resumptionToken continues has no more records")
    more = len(rows) > repository.page_size
    rows = rows[:repository.page_size]
    element = _sub(root, request.verb)
    _records(ctx, element, rows, fmt if with_metadata else None)
    if not more and position is None:
        return  # the whole list in one answer: no token at all
    size = ctx.session.scalar(select(func.count()).select_from(HarvestRecord).where(where))
    attributes = {"completeListSize": str(size), "cursor": str(cursor)}
    if not more:
        _sub(element, "resumptionToken", **attributes)  # the last page: an empty token ends the list
        return
    expires = ctx.now + repository.token_lifetime
    token = tokens.encode(tokens.Position(
        verb=request.verb, prefix=fmt.prefix, start=resumed.get("from"), end=resumed.get("until"),
        set_spec=resumed.get("set"), after=rows[-1].id, cursor=cursor + len(rows), expires=int(expires.timestamp())),
        repository.token_key)
    _sub(element, "resumptionToken", token, expirationDate=datestamp_text(expires), **attributes)


VERB_HANDLERS: dict[str, Callable[[_Context, etree._Element, Request], None]] = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": lambda ctx, root, request: _list(ctx, root, request, with_metadata=False),
    "ListRecords": lambda ctx, root, request: _list(ctx, root, request, with_metadata=True),
}

__all__ = ["FORMATS", "OAI_NS", "Repository", "respond"]
