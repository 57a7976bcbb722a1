"""Writing the catalogue: item fields, tags, collections, people and credits.

Every function validates plain values and raises Invalid naming the field; it flushes but
never commits. Item edits return the changes as {field: (old, new)}, for the audit trail.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import pycountry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.dates import parse_date
from archive.models import AccessLevel, Collection, Credit, Item, Person, Tag
from archive.services import Invalid

Changes = dict[str, tuple[Any, Any]]

TITLE_MAX = 500
NAME_MAX = 200  # people, tags, roles, creator, language, collection kind


class Keep(enum.Enum):
    """Type of KEEP, the default of a keyword that was not given (None may be a real value)."""
    KEEP = "keep"


KEEP = Keep.KEEP

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def _text(value: str, field: str, *, limit: int | None = None, required: bool = False) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text", field)
    value = value.strip()
    if required and not value:
        raise Invalid(f"{field} may not be empty", field)
    if limit is not None and len(value) > limit:
        raise Invalid(f"{field} is longer than {limit} characters", field)
    return value


def _name(value: str, field: str) -> str:
    """A one-line name: trimmed, inner whitespace collapsed, not empty, at most NAME_MAX characters."""
    return _text(" ".join(value.split()) if isinstance(value, str) else value, field, limit=NAME_MAX,
                 required=True)


def _languages(value: str) -> str:
    """Comma-separated BCP 47 tags whose primary language ISO 639 knows, e.g. "ko, en"."""
    tags = [t.strip() for t in _text(value, "language", limit=NAME_MAX).split(",") if t.strip()]
    for tag in tags:
        primary = tag.split("-")[0].lower()
        known = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2
                 else pycountry.languages.get(alpha_3=primary))
        if not _LANGUAGE_TAG.fullmatch(tag) or known is None:
            raise Invalid(f"{tag!r} is not a language tag (BCP 47, e.g. ko, en, zh-Hans)", "language")
    return ", ".join(dict.fromkeys(tags))


def _access(value: AccessLevel | str) -> AccessLevel:
    try:
        return AccessLevel(value)
    except ValueError:
        choices = ", ".join(a.value for a in AccessLevel)
        raise Invalid(f"access must be one of {choices}, not {value!r}", "access") from None


def update_item(session: Session, item: Item, *, title: str | Keep = KEEP, description: str | Keep = KEEP,
                date_shot: str | Keep = KEEP, creator: str | Keep = KEEP, language: str | Keep = KEEP,
                rights: str | Keep = KEEP, source: str | Keep = KEEP, access: AccessLevel | str | Keep = KEEP,
                collection_id: int | None | Keep = KEEP) -> Changes:
    """Change the given fields of `item` (all or none); return {field: (old, new)} of those that changed."""
    new: dict[str, Any] = {}
    if title is not KEEP:
        new["title"] = _text(title, "title", limit=TITLE_MAX, required=True)
    for field, value in (("description", description), ("rights", rights), ("source", source)):
        if value is not KEEP:
            new[field] = _text(value, field)
    if creator is not KEEP:
        new["creator"] = _text(creator, "creator", limit=NAME_MAX)
    if language is not KEEP:
        new["language"] = _languages(language)
    if access is not KEEP:
        new["access"] = _access(access)
    if collection_id is not KEEP:
        if collection_id is not None and session.get(Collection, collection_id) is None:
            raise Invalid(f"there is no collection {collection_id}", "collection_id")
        new["collection_id"] = collection_id
    bounds = None
    if date_shot is not KEEP:
        try:
            bounds = parse_date(_text(date_shot, "date_shot", limit=NAME_MAX))
        except ValueError as exc:
            raise Invalid(str(exc), "date_shot") from exc
        new["date_shot"] = bounds.text

    changes = {field: (getattr(item, field), value) for field, value in new.items()
               if getattr(item, field) != value}
    for field, (_, value) in changes.items():
        setattr(item, field, value)
    if bounds is not None:  # the bounds follow the text, and are not reported separately
        item.date_lower, item.date_upper = bounds.lower, bounds.upper
    session.flush()
    return changes


def get_or_create_tag(session: Session, name: str, parent: Tag | None = None) -> Tag:
    """The tag named `name` (matched ignoring case), created when missing; `parent` is set when given."""
    name = _name(name, "tags")
    tag = session.scalar(select(Tag).where(Tag.name == name)) or session.scalar(
        select(Tag).where(func.lower(Tag.name) == name.lower()))
    if tag is None:
        tag = Tag(name=name)
        session.add(tag)
    if parent is not None and tag.parent is not parent:
        ancestor: Tag | None = parent
        while ancestor is not None:  # a term may not end up under itself
            if ancestor is tag:
                raise Invalid(f"{parent.name!r} cannot be the broader term of {name!r}: it is under it", "parent")
            ancestor = ancestor.parent
        tag.parent = parent
    session.flush()
    return tag


def set_item_tags(session: Session, item: Item, names: list[str]) -> Changes:
    """Give `item` exactly these tags (trimmed, duplicates dropped), creating missing ones."""
    cleaned: dict[str, str] = {}
    for raw in names:
        name = _name(raw, "tags")
        cleaned.setdefault(name.lower(), name)
    old = [t.name for t in item.tags]
    tags = [get_or_create_tag(session, name) for name in cleaned.values()]
    item.tags = sorted(tags, key=lambda t: t.name)
    session.flush()
    new = [t.name for t in item.tags]
    return {"tags": (old, new)} if sorted(old) != sorted(new) else {}


def upsert_collection(session: Session, title: str, *, year: int | None | Keep = KEEP, kind: str | Keep = KEEP,
                      synopsis: str | Keep = KEEP, description: str | Keep = KEEP,
                      rights: str | Keep = KEEP) -> tuple[Collection, bool]:
    """The collection titled `title`, created when missing, with the given fields set; (collection, created)."""
    title = _text(title, "title", limit=TITLE_MAX, required=True)
    collection = session.scalar(select(Collection).where(Collection.title == title))
    created = collection is None
    if collection is None:
        collection = Collection(title=title, kind="", synopsis="", description="", rights="")
        session.add(collection)
    if year is not KEEP:
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999):
            raise Invalid(f"year must be a whole number from 1 to 9999, not {year!r}", "year")
        collection.year = year
    if kind is not KEEP:
        collection.kind = _text(kind, "kind", limit=NAME_MAX)
    for field, value in (("synopsis", synopsis), ("description", description), ("rights", rights)):
        if value is not KEEP:
            setattr(collection, field, _text(value, field))
    session.flush()
    return collection, created


def get_or_create_person(session: Session, name: str, *, note: str | None = None) -> Person:
    """The person named exactly `name`, created when missing; `note` replaces theirs when given."""
    name = _name(name, "name")
    person = session.scalar(select(Person).where(Person.name == name))
    if person is None:
        person = Person(name=name, note="")
        session.add(person)
    if note is not None:
        person.note = _text(note, "note")
    session.flush()
    return person


def add_credit(session: Session, person: Person, role: str, *, collection: Collection | None = None,
               item: Item | None = None, position: int | None = None) -> Credit:
    """Credit `person` in `role` on a collection or an item (exactly one); refuse the same credit twice."""
    if (collection is None) == (item is None):
        raise Invalid("a credit belongs to a collection or to an item, exactly one of the two", "target")
    role = _name(role, "role")
    session.flush()  # ids of objects made in this transaction
    target = Credit.collection_id == collection.id if collection is not None else Credit.item_id == item.id
    if session.scalar(select(Credit.id).where(Credit.person_id == person.id, Credit.role == role, target)):
        where = f"collection {collection.title!r}" if collection is not None else f"item {item.id}"
        raise Invalid(f"{person.name} is already credited as {role} on {where}", "role")
    if position is None:
        last = session.scalar(select(func.max(Credit.position)).where(target))
        position = 0 if last is None else last + 1
    elif isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise Invalid(f"position must be a whole number from 0, not {position!r}", "position")
    credit = Credit(person=person, role=role, collection=collection, item=item, position=position)
    session.add(credit)
    session.flush()
    return credit
