"""Importing PBCore records as items catalogued before their media (docs/interchange.md, "PBCore 2.1, in").

    import_pbcore(session, viewer, path_or_bytes, *, source_name, collection=None, access=None) -> ImportReport

Each record becomes an item of the kind `catalogued`, or updates the item whose persistent
identifier it names; the record is kept whole beside it (SourceRecord), and the identifiers and
file names of its instantiations become the keys by which ingest later attaches the file
(RecordKey). A file that is not PBCore XML is refused as a whole; a record with neither identifier
nor title is refused and the others import; a value that does not parse is a warning naming its
element. Flushes, never commits: the caller imports each file in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.access import Viewer, item_filter, may_edit, place_filter
from archive.interchange.pbcore_records import Record, Refusal, Unreadable, read_records
from archive.models import (AccessLevel, Collection, Credit, Item, ItemKind, Person, Place, RecordKey,
                            SourceRecord, Tag)
from archive.services import Invalid
from archive.services.editing.items import update_item
from archive.services.ingest import new_item_levels

#: Largest file read (bytes): a catalogue export of some ten thousand records; larger ones are split first.
MAX_BYTES = 200 * 1024 * 1024


@dataclass
class RecordOutcome:
    """What became of one record: created, updated or refused, with its warnings or its reason."""
    path: str  #: the record's element path; "" for a file refused as a whole
    outcome: str  #: "created", "updated" or "refused"
    item_id: int | None = None
    title: str = ""
    messages: list[str] = field(default_factory=list)

    def as_json(self, source_name: str) -> dict[str, Any]:
        return {"file": source_name, "record": self.path, "outcome": self.outcome, "item_id": self.item_id,
                "title": self.title, "messages": self.messages}


@dataclass
class ImportReport:
    source_name: str
    records: list[RecordOutcome] = field(default_factory=list)

    def _count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.records)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def updated(self) -> int:
        return self._count("updated")

    @property
    def refused(self) -> int:
        return self._count("refused")

    @property
    def warned(self) -> int:
        """Records imported with warnings (a value left to the source record)."""
        return sum(r.outcome != "refused" and bool(r.messages) for r in self.records)


def import_pbcore(session: Session, viewer: Viewer, path_or_bytes: Path | str | bytes, *, source_name: str,
                  collection: str | None = None, access: AccessLevel | str | None = None) -> ImportReport:
    """Import the records of one PBCore file (see the module docstring); flushed, not committed."""
    if not may_edit(viewer):
        raise Invalid("only archivists and admins import records", "viewer")
    report = ImportReport(source_name)
    try:
        data = path_or_bytes if isinstance(path_or_bytes, bytes) else _read(Path(path_or_bytes))
        records = read_records(data, source_name)
    except (Unreadable, OSError) as exc:
        report.records.append(RecordOutcome("", "refused", messages=[str(exc)]))
        return report
    archive = session.info.get("archive")
    settings = archive.settings if archive is not None else {"default_access": "restricted",
                                                            "default_location_precision": "km10"}
    level, precision = new_item_levels(settings, access)
    places, words = _Gazetteer(session, viewer), _Vocabulary(session)
    words.prepare([r for r in records if isinstance(r, Record)], collection)
    pending: list[tuple[RecordOutcome, Item, SourceRecord]] = []
    # Records are flushed FLUSH_EVERY at a time, not one by one: a flush costs more than reading a record.
    with session.no_autoflush:
        for record in records:
            if isinstance(record, Refusal):
                report.records.append(RecordOutcome(record.path, "refused", messages=[record.reason]))
                continue
            outcome, made = _import_record(session, viewer, record, source_name, collection, level, precision,
                                           places, words)
            report.records.append(outcome)
            if made is not None:
                pending.append((outcome, *made))
            if len(pending) >= FLUSH_EVERY:
                _settle(session, pending)
        _settle(session, pending)
    return report


#: Records imported between two flushes.
FLUSH_EVERY = 200


def _settle(session: Session, pending: list[tuple[RecordOutcome, Item, SourceRecord]]) -> None:
    """Flush the pending records; then each source record takes the version its item has after the flush
    (new: 1; SQLAlchemy bumps it on each UPDATE), which an untouched item keeps."""
    session.flush()
    settled = False
    for outcome, item, source in pending:
        outcome.item_id = item.id
        if source.item_version != item.version:
            source.item_version, settled = item.version, True
    if settled:
        session.flush()  # source records only: the items' versions stay
    for _, item, _ in pending:  # written: a 10,000-record file need not hold every item in memory
        session.expunge(item)
    pending.clear()


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except IsADirectoryError:
        raise Unreadable("a folder, not a file") from None
    except PermissionError:
        raise Unreadable("permission denied: cannot read the file") from None
    if len(data) > MAX_BYTES:
        raise Unreadable(f"larger than {MAX_BYTES // (1024 * 1024)} MB: split it into several files")
    return data


def _existing(session: Session, viewer: Viewer, record: Record) -> Item | None:
    """The item whose persistent identifier the record names (Crossings' own export writes it)."""
    values = [value for _, value in record.identifiers]
    if not values:
        return None
    item = session.scalar(select(Item).where(Item.pid.in_(values)).order_by(Item.id).limit(1))
    if item is None:
        return None
    if item.deleted_at is not None:
        raise Invalid(f"its identifier {item.pid} is item {item.id}'s, which is in the trash: restore it first")
    if session.scalar(select(Item.id).where(Item.id == item.id, item_filter(viewer))) is None:
        raise Invalid(f"its identifier {item.pid} is taken")
    return item


def _import_record(session: Session, viewer: Viewer, record: Record, source_name: str, collection: str | None,
                   level: AccessLevel, precision: Any, places: _Gazetteer, words: _Vocabulary,
                   ) -> tuple[RecordOutcome, tuple[Item, SourceRecord] | None]:
    """The outcome of one record, and the item and source record it made, not flushed yet (see _settle)."""
    messages = list(record.warnings)
    try:
        item = _existing(session, viewer, record)
    except Invalid as exc:
        return RecordOutcome(record.path, "refused", title=record.title, messages=[str(exc)]), None
    target = (collection or record.series or "").strip()
    collection_row = words.collection(target[:500]) if target else None
    if item is None:
        outcome = "created"
        item = Item(title=record.title, kind=ItemKind.catalogued, access=level, location_precision=precision,
                    description=record.description, creator=record.creator, rights=record.rights,
                    language=", ".join(record.languages), source=_source(record, source_name),
                    date_shot=record.date.text, date_lower=record.date.lower, date_upper=record.date.upper,
                    collection=collection_row)
        session.add(item)
    else:
        outcome = "updated"
        given = {name: value for name, value in (
            ("title", record.title if record.titled else ""), ("description", record.description),
            ("creator", record.creator), ("rights", record.rights), ("language", ", ".join(record.languages)),
            ("date_shot", record.date.text)) if value}
        if collection_row is not None:
            given["collection_id"] = collection_row.id
        update_item(session, item, **given)
    words.add_tags(item, record.subjects)
    _add_credits(session, item, record.credits, words)
    for name, path in record.spatial:
        place, problem = places.find(name)
        if place is None:
            messages.append(f"{path}: \"{name}\" {problem}; kept in the source record")
        elif place not in item.places:
            item.places.append(place)
    known = {k.key for k in item.record_keys}
    item.record_keys.extend(RecordKey(key=key) for key in record.keys if key not in known)
    source = SourceRecord(format="pbcore", source_name=source_name[:1000], content=record.xml,
                          item_version=item.version or 1)
    item.source_records.append(source)
    return RecordOutcome(record.path, outcome, item.id, item.title, record.in_document_order(messages)), (item, source)


def _source(record: Record, source_name: str) -> str:
    """Item.source of an imported record: the file, and the identifiers that name the record elsewhere."""
    named = "; ".join(f"{value} ({source})" if source else value for source, value in record.identifiers)
    return f"PBCore record {record.path} of {source_name}" + (f"; identifiers: {named}" if named else "")


def _add_credits(session: Session, item: Item, credits: list[tuple[str, str]], words: _Vocabulary) -> None:
    """Credit the record's people on the item, after its credits, each (person, role) once."""
    have = {(c.person.name, c.role) for c in item.credits} if item.id is not None else set()
    for name, role in credits:
        if (name, role) not in have:
            item.credits.append(Credit(person=words.person(name), role=role, position=len(item.credits)))
            have.add((name, role))


class _Vocabulary:
    """The tags, people and collections a file's records name, read (and the missing ones made) at once
    before the records are: a catalogue of thousands of records names the same few hundred again and
    again, and a look-up per name cost a flush each (a 10,000-record file: minutes instead of seconds)."""

    #: Names per IN (...) of a look-up, well under SQLite's limit on bound parameters.
    CHUNK = 500

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tags: dict[str, Tag] = {}  # by lower-cased name, as get_or_create_tag matches them
        self.people: dict[str, Person] = {}
        self.collections: dict[str, Collection] = {}

    def prepare(self, records: list[Record], collection: str | None) -> None:
        """Load the names `records` use, and make the missing ones (flushed once)."""
        tags = {name.lower(): name for r in records for name in r.subjects}
        people = {name for r in records for name, _ in r.credits}
        titles = {t for t in ([(collection or "").strip()[:500]] if collection else
                              [r.series.strip()[:500] for r in records]) if t}
        with self.session.no_autoflush:
            for chunk in self._chunks(sorted(tags)):
                for tag in self.session.scalars(select(Tag).where(func.lower(Tag.name).in_(chunk)).order_by(Tag.id)):
                    # An exact spelling wins over another case, as in get_or_create_tag.
                    if tag.name.lower() not in self.tags or tag.name == tags.get(tag.name.lower()):
                        self.tags[tag.name.lower()] = tag
            for chunk in self._chunks(sorted(people)):
                found = self.session.scalars(select(Person).where(Person.name.in_(chunk)))
                self.people.update((person.name, person) for person in found)
            for chunk in self._chunks(sorted(titles)):
                self.collections.update(
                    (c.title, c) for c in self.session.scalars(select(Collection).where(Collection.title.in_(chunk))))
            made: list[Any] = []
            for key, name in tags.items():
                if key not in self.tags:
                    self.tags[key] = Tag(name=name)
                    made.append(self.tags[key])
            for name in people - set(self.people):
                self.people[name] = Person(name=name, note="")
                made.append(self.people[name])
            for title in titles - set(self.collections):
                self.collections[title] = Collection(title=title)
                made.append(self.collections[title])
        self.session.add_all(made)
        self.session.flush()

    def _chunks(self, names: list[str]) -> list[list[str]]:
        return [names[i:i + self.CHUNK] for i in range(0, len(names), self.CHUNK)]

    def add_tags(self, item: Item, names: list[str]) -> None:
        have = {t.name.lower() for t in item.tags} if item.id is not None else set()
        for name in names:
            if name.lower() not in have:
                item.tags.append(self.tags[name.lower()])
                have.add(name.lower())

    def person(self, name: str) -> Person:
        return self.people[name]

    def collection(self, title: str) -> Collection:
        return self.collections[title]


class _Gazetteer:
    """Place names and other names of the places the importing viewer may see, read once per file when
    a record first names a place. Places are never made by an import: an unknown name is reported."""

    def __init__(self, session: Session, viewer: Viewer) -> None:
        self.session, self.viewer = session, viewer
        self.by_name: dict[str, list[Place]] | None = None

    def find(self, name: str) -> tuple[Place | None, str]:
        if self.by_name is None:
            self.by_name = {}
            for place in self.session.scalars(select(Place).where(place_filter(self.viewer))):
                for known in {place.name, *(place.alt_names or [])}:
                    self.by_name.setdefault(known.casefold(), []).append(place)
        found = list(dict.fromkeys(self.by_name.get(" ".join(name.split()).casefold(), [])))
        if not found and "," in name:  # "Chiang Saen, Thailand": the place of that name in that country
            head, country = (" ".join(part.split()).casefold() for part in name.rsplit(",", 1))
            found = [p for p in dict.fromkeys(self.by_name.get(head, []))
                     if p.country is not None and country in (p.country.name.casefold(), p.country.code.casefold())]
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, "matches no place of the gazetteer"
        return None, f"matches {len(found)} places ({', '.join(sorted(p.name for p in found))}): not linked"

