"""Reading PBCore 2.0/2.1 XML into plain records: no database, so every value is checked before any is kept.

    read_records(data, source_name) -> list[Record | Refusal]   (raises Unreadable for the whole file)

A file holds one `pbcoreDescriptionDocument`, a `pbcoreCollection` of them, or one
`pbcoreInstantiationDocument` (the technical-only record MediaInfo writes). Both PBCore versions
use the namespace http://www.pbcore.org/PBCore/PBCoreNamespace.html; documents without a
namespace are read the same way. Elements of other namespaces (extensions) are left to the kept
source record. The parser resolves no entities, loads no DTD and opens no network connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

import pycountry
from lxml import etree

from archive.dates import ParsedDate, parse_date
from archive.timecode import parse_timecode

#: A spatial coverage that is a latitude and longitude in decimal degrees, not a place name.
POSITION = re.compile(r"^\s*[-+]?\d{1,2}(\.\d+)?\s*[,;]\s*[-+]?\d{1,3}(\.\d+)?\s*$")

PBCORE_NS = "http://www.pbcore.org/PBCore/PBCoreNamespace.html"
ROOTS = ("pbcoreDescriptionDocument", "pbcoreCollection", "pbcoreInstantiationDocument")
TITLE_MAX = 500  # Item.title
NAME_MAX = 200  # short fields: creator, a person's name, a role, a tag
KEY_MAX = 1000  # RecordKey.key

#: Title types from the most specific to the least: the item's title is the first present. Series and
#: collection titles name the collection instead; an episode number is not a title at all.
_TITLE_RANK = {"episode": 0, "program": 0, "segment": 0, "clip": 0, "story": 0, "title": 0, "": 1,
               "alternative": 3, "series": 4, "collection": 5, "episode number": 9}
#: Date types that say when the material was made, preferred to broadcast or availability dates.
_MADE_DATE_TYPES = ("created", "recorded", "filmed", "shot", "captured", "production", "content", "")
_SERIES_TYPES = ("series", "collection")


class Unreadable(ValueError):
    """The file as a whole cannot be read: not well-formed XML, or not PBCore. The message says where."""


@dataclass
class Refusal:
    path: str  #: the record's element path, e.g. pbcoreCollection/pbcoreDescriptionDocument[3]
    reason: str


@dataclass
class Record:
    """One PBCore record, read and checked: what maps onto an item, and the record as it came."""
    path: str
    xml: str  #: the record's element serialised (the whole document when it is the root)
    title: str
    titled: bool = True  #: False when the title is an identifier, for want of a pbcoreTitle
    other_titles: list[tuple[str, str]] = field(default_factory=list)  # (titleType, title)
    series: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (source, value) of pbcoreIdentifier
    description: str = ""
    date: ParsedDate = field(default_factory=lambda: ParsedDate("", None, None))
    credits: list[tuple[str, str]] = field(default_factory=list)  # (name, role) in document order
    creator: str = ""
    subjects: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # BCP 47 (ISO 639-1 where it has a code)
    rights: str = ""
    spatial: list[tuple[str, str]] = field(default_factory=list)  # (place name, element path)
    #: Where ingest finds this record's file: "name:<identifier or file name>", "sha256:<hex>", "md5:<hex>".
    keys: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The source line of each element path walked, to give messages in the document's order.
    lines: dict[str, int] = field(default_factory=dict, repr=False)

    def in_document_order(self, messages: list[str]) -> list[str]:
        """Messages that start with an element path ("path: ..."), ordered as the elements are in the file."""
        return sorted(messages, key=lambda m: self.lines.get(m.split(": ", 1)[0], 0))


def _parser() -> etree.XMLParser:
    # Safe: no entity expansion (billion laughs, external files), no DTD, no network, no huge trees.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, strip_cdata=False, remove_comments=False)


def read_records(data: bytes, source_name: str) -> list[Record | Refusal]:
    """The records of one PBCore file, each read or refused; Unreadable when the file is not PBCore XML."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        message = re.sub(r",? line \d+, column \d+$", "", exc.msg or "not well-formed").strip()
        raise Unreadable(f"line {line}, column {column}: {message}") from None
    except ValueError as exc:  # e.g. a declared encoding lxml does not know
        raise Unreadable(f"not readable as XML: {exc}") from None
    if not isinstance(root.tag, str):
        raise Unreadable("no root element")
    name = etree.QName(root)
    if name.localname not in ROOTS or name.namespace not in (PBCORE_NS, None):
        found = f"{{{name.namespace}}}{name.localname}" if name.namespace else name.localname
        raise Unreadable(f"the root element is <{found}>, not a PBCore document "
                         f"({', '.join(ROOTS)} in the namespace {PBCORE_NS} or none)")
    ns = name.namespace
    if name.localname == "pbcoreCollection":
        docs = _children(root, ns, "pbcoreDescriptionDocument")
        if not docs:
            raise Unreadable("the pbcoreCollection holds no pbcoreDescriptionDocument")
        return [_read(doc, ns, f"pbcoreCollection/pbcoreDescriptionDocument[{i}]", _serialised(doc))
                for i, doc in enumerate(docs, 1)]
    return [_read(root, ns, name.localname, _document_text(data, root))]


def _serialised(element: etree._Element) -> str:
    """A record inside a collection as its own XML: lxml puts the namespace declarations it inherits on it."""
    return etree.tostring(element, encoding="unicode", with_tail=False)


_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>\s*")


def _document_text(data: bytes, root: etree._Element) -> str:
    """A record that is the whole file, as it came: its text without the XML declaration (which names an
    encoding the stored text no longer has)."""
    encoding = root.getroottree().docinfo.encoding or "utf-8"
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return etree.tostring(root, encoding="unicode")
    return _DECLARATION.sub("", text, count=1).strip()


# -- walking one record ---------------------------------------------------------------------------

def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(parent: etree._Element, ns: str | None, local: str) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and etree.QName(c).namespace == ns and _local(c) == local]


def _child(parent: etree._Element, ns: str | None, local: str) -> etree._Element | None:
    found = _children(parent, ns, local)
    return found[0] if found else None


def _text(element: etree._Element | None) -> str:
    """The element's text content, whitespace collapsed ("" for None)."""
    if element is None:
        return ""
    return " ".join(_flat(element).split())


def _flat(element: etree._Element) -> str:
    """Text and descendants' text; entity references are left out (they are not expanded: see _parser),
    and so are comments and processing instructions."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_flat(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _attr(element: etree._Element, name: str) -> str:
    return " ".join((element.get(name) or "").split())


class _Walk:
    """Element paths under a record, as `record/child[i]/grandchild[j]`, for warnings."""

    def __init__(self, ns: str | None) -> None:
        self.ns = ns
        self.lines: dict[str, int] = {}

    def each(self, parent: etree._Element, local: str, parent_path: str) -> list[tuple[etree._Element, str]]:
        found = [(c, f"{parent_path}/{local}[{i}]") for i, c in enumerate(_children(parent, self.ns, local), 1)]
        for element, path in found:
            self.lines[path] = element.sourceline or 0
            for child in element:  # coverage/coverage[1] and the like, named by the importer
                if isinstance(child.tag, str):
                    self.lines.setdefault(f"{path}/{_local(child)}[1]", child.sourceline or 0)
        return found


def _read(doc: etree._Element, ns: str | None, path: str, xml: str) -> Record | Refusal:
    try:
        return _read_record(doc, ns, path, xml)
    except RecursionError:
        return Refusal(path, "nested too deeply to read")


def _read_record(doc: etree._Element, ns: str | None, path: str, xml: str) -> Record | Refusal:
    walk = _Walk(ns)
    warnings: list[str] = []
    instantiation_only = _local(doc) == "pbcoreInstantiationDocument"
    titles = [(_attr(e, "titleType"), _text(e)) for e, _ in walk.each(doc, "pbcoreTitle", path)]
    titles = [(kind, text) for kind, text in titles if text]
    identifiers = [(_attr(e, "source"), _text(e)) for e, _ in walk.each(doc, "pbcoreIdentifier", path)]
    identifiers = [(source, value) for source, value in identifiers if value]
    instantiations = [(doc, path)] if instantiation_only else walk.each(doc, "pbcoreInstantiation", path)
    keys: list[str] = []
    inst_ids: list[str] = []
    for inst, inst_path in instantiations:
        inst_ids += _instantiation(inst, inst_path, walk, keys, warnings)
    if not titles and not identifiers and not (instantiation_only and inst_ids):
        return Refusal(path, "no identifier and no title")
    keys += [f"name:{value}" for _, value in identifiers]
    ranked = sorted(titles, key=lambda t: _TITLE_RANK.get(t[0].lower(), 2))
    usable = [t for t in ranked if _TITLE_RANK.get(t[0].lower(), 2) < 9] or ranked
    title = usable[0][1] if usable else (identifiers[0][1] if identifiers else inst_ids[0])
    series = next((text for kind, text in titles if kind.lower() in _SERIES_TYPES), "")
    record = Record(path=path, xml=xml, title=title[:TITLE_MAX], titled=bool(usable), series=series[:TITLE_MAX],
                    other_titles=[t for t in titles if t[1] != title], identifiers=identifiers,
                    keys=list(dict.fromkeys(k[:KEY_MAX] for k in keys)), warnings=warnings)
    record.description = "\n\n".join(dict.fromkeys(
        text for e, _ in walk.each(doc, "pbcoreDescription", path) if (text := _text(e))))
    record.date = _asset_date(doc, walk, path, warnings)
    for element, role_name, default in (("pbcoreCreator", "creator", "creator"),
                                        ("pbcoreContributor", "contributor", "contributor"),
                                        ("pbcorePublisher", "publisher", "publisher")):
        for e, _ in walk.each(doc, element, path):
            name = _text(_child(e, ns, role_name))
            role = _text(_child(e, ns, f"{role_name}Role")) or default
            if name:
                name, role = name[:NAME_MAX].strip(), role[:NAME_MAX].strip()
                record.credits.append((name, role))
                if element == "pbcoreCreator" and not record.creator:
                    record.creator = name
    record.subjects = list(dict.fromkeys(
        text[:NAME_MAX].strip() for e, _ in walk.each(doc, "pbcoreSubject", path) if (text := _text(e))))
    for e, p in walk.each(doc, "pbcoreCoverage", path):
        value = _text(_child(e, ns, "coverage"))
        # A position ("41.39000, 128.19000", as Crossings writes one) names no place: it stays in the
        # source record, and the places named beside it are what is linked.
        if value and _text(_child(e, ns, "coverageType")).lower() == "spatial" and not POSITION.match(value):
            record.spatial.append((value, f"{p}/coverage[1]"))
    record.rights = "\n\n".join(dict.fromkeys(
        text for e, _ in walk.each(doc, "pbcoreRightsSummary", path)
        for part in ("rightsSummary", "rightsLink") if (text := _text(_child(e, ns, part)))))
    for inst, inst_path in instantiations:
        for e, p in walk.each(inst, "instantiationLanguage", inst_path):
            _language(_text(e), p, record.languages, warnings)
    record.lines = walk.lines
    record.warnings = record.in_document_order(warnings)
    return record


def _asset_date(doc: etree._Element, walk: _Walk, path: str, warnings: list[str]) -> ParsedDate:
    """The date the material was made: each pbcoreAssetDate is checked, the best-typed valid one is taken."""
    dated: list[tuple[int, ParsedDate]] = []
    for e, p in walk.each(doc, "pbcoreAssetDate", path):
        value = _text(e)
        if not value:
            continue
        parsed = _date(value, p, warnings)
        if parsed is not None:
            kind = _attr(e, "dateType").lower()
            rank = _MADE_DATE_TYPES.index(kind) if kind in _MADE_DATE_TYPES else len(_MADE_DATE_TYPES)
            dated.append((rank, parsed))
    return min(dated, key=lambda d: d[0])[1] if dated else ParsedDate("", None, None)


def _date(value: str, path: str, warnings: list[str]) -> ParsedDate | None:
    try:
        return parse_date(value)
    except ValueError:
        warnings.append(f"{path}: \"{value}\" is not a date")
        return None


def _language(value: str, path: str, into: list[str], warnings: list[str]) -> None:
    """ISO 639-2 codes as PBCore writes them ("kor", "eng;kor") as BCP 47 tags ("ko", "en")."""
    for code in filter(None, (part.strip() for part in re.split(r"[;,]", value))):
        primary = code.split("-")[0].lower()
        found = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2 else
                 pycountry.languages.get(alpha_3=primary) or pycountry.languages.get(bibliographic=primary)
                 if len(primary) == 3 else None)
        if found is None or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", code):
            warnings.append(f"{path}: \"{code}\" is not a language code (ISO 639 or BCP 47)")
            continue
        tag = getattr(found, "alpha_2", None) or found.alpha_3
        rest = code.split("-")[1:]
        tag = "-".join([tag, *rest])
        if tag not in into:
            into.append(tag)


# -- instantiations and their essence tracks: kept in the source record, checked for warnings -------

_FRAME_SIZE = re.compile(r"\d+\s*[x×X]\s*\d+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_RATIO = re.compile(r"[0-9]+(?:\.[0-9]+)?\s*/\s*[0-9]+(?:\.[0-9]+)?")
#: PBCore durations: HH:MM:SS, with a fraction (.mmm) or a frame count after ; or : (drop and non-drop frame).
_TIMECODE_FRAMES = re.compile(r"\d+:[0-5]\d:[0-5]\d[:;]\d+")
_CHECKSUM_SOURCES = {"md5": 32, "sha256": 64, "sha-256": 64}


def _duration_ok(value: str) -> bool:
    if _TIMECODE_FRAMES.fullmatch(value):
        return True
    try:
        parse_timecode(value)
        return True
    except ValueError:
        return False


def _number_ok(value: str) -> bool:
    return bool(_NUMBER.fullmatch(value.replace(",", "")))


#: Essence track and instantiation fields that must parse, with what they must be.
_CHECKS = {
    "essenceTrackFrameSize": (lambda v: bool(_FRAME_SIZE.fullmatch(v)), "is not a frame size (WIDTHxHEIGHT)"),
    "essenceTrackFrameRate": (lambda v: bool(_NUMBER.fullmatch(v) or _RATIO.fullmatch(v)),
                              "is not a frame rate (frames per second, e.g. 29.97 or 30000/1001)"),
    "essenceTrackSamplingRate": (_number_ok, "is not a sampling rate (a number)"),
    "essenceTrackBitDepth": (_number_ok, "is not a bit depth (a number)"),
    "essenceTrackDataRate": (_number_ok, "is not a data rate (a number)"),
    "essenceTrackDuration": (_duration_ok, "is not a duration (HH:MM:SS, HH:MM:SS;FF or seconds)"),
    "instantiationDuration": (_duration_ok, "is not a duration (HH:MM:SS, HH:MM:SS;FF or seconds)"),
    "instantiationFileSize": (_number_ok, "is not a file size (a number)"),
    "instantiationDataRate": (_number_ok, "is not a data rate (a number)"),
    "instantiationTracks": (lambda v: v.isdigit(), "is not a number of tracks"),
}


def _check(element: etree._Element, path: str, warnings: list[str]) -> None:
    check, problem = _CHECKS[_local(element)]
    value = _text(element)
    if value and not check(value):
        warnings.append(f"{path}: \"{value}\" {problem}")


def _instantiation(inst: etree._Element, path: str, walk: _Walk, keys: list[str], warnings: list[str]) -> list[str]:
    """Check one instantiation's values and gather the keys its file will be found by; its identifiers."""
    identifiers = []
    for e, p in walk.each(inst, "instantiationIdentifier", path):
        value, source = _text(e), _attr(e, "source").lower().replace(" ", "")
        if not value:
            continue
        identifiers.append(value)
        length = next((n for name, n in _CHECKSUM_SOURCES.items() if name in source), None)
        if length is not None:
            if re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", value):
                keys.append(f"{'md5' if length == 32 else 'sha256'}:{value.lower()}")
            else:
                warnings.append(f"{p}: \"{value}\" is not a {source} checksum")
        else:
            keys.append(f"name:{value}")
    for e, p in walk.each(inst, "instantiationLocation", path):
        value = _text(e)  # a path names a file; a shelf or a vault ("WRVT shelf 12") does not
        if "/" in value or "\\" in value:
            name = PureWindowsPath(value).name if "\\" in value else PurePosixPath(value).name
            if name:
                keys.append(f"name:{name}")
    for e, p in walk.each(inst, "instantiationDate", path):
        if _text(e):
            _date(_text(e), p, warnings)
    for local in ("instantiationDuration", "instantiationFileSize", "instantiationDataRate", "instantiationTracks"):
        for e, p in walk.each(inst, local, path):
            _check(e, p, warnings)
    for track, track_path in walk.each(inst, "instantiationEssenceTrack", path):
        for local in ("essenceTrackFrameSize", "essenceTrackFrameRate", "essenceTrackSamplingRate",
                      "essenceTrackBitDepth", "essenceTrackDataRate", "essenceTrackDuration"):
            for e, p in walk.each(track, local, track_path):
                _check(e, p, warnings)
    return identifiers
