"""People and their credits on items and collections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, can_see, collection_filter, item_filter, person_filter
from archive.models import Collection, Credit, Item, Person
from archive.services import Invalid, NotFound, Paginated, counted, saving_version
from archive.services.catalogue import get_item
from archive.services.editing import fields as f
from archive.services.editing.collections import get_known_collection
from archive.services.editing.fields import KEEP, Changes, Keep


@dataclass
class PeoplePage(Paginated):
    people: list[tuple[Person, int]]  #: each with the number of their credits
    total: int
    page: int
    per_page: int


def find_people(session: Session, viewer: Viewer, text: str = "", *, page: int = 1,
                per_page: int = 50) -> PeoplePage:
    """People `viewer` may know of whose name contains `text` (ignoring case), by name."""
    stmt = select(Person).where(person_filter(viewer))
    if text.strip():
        stmt = stmt.where(Person.name.icontains(" ".join(text.split()), autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    credits = (select(func.count(Credit.id)).where(Credit.person_id == Person.id)
               .correlate(Person).scalar_subquery())
    rows = session.execute(stmt.add_columns(credits).order_by(Person.name)
                           .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return PeoplePage([(person, n) for person, n in rows], total, page, per_page)


def person_names(session: Session, viewer: Viewer, limit: int = 2000) -> list[str]:
    """Names to suggest in credit forms."""
    return list(session.scalars(select(Person.name).where(person_filter(viewer)).order_by(Person.name)
                                .limit(limit)))


def credit_roles(session: Session, limit: int = 200) -> list[str]:
    """Roles already in use, most used first, to suggest in credit forms."""
    return list(session.scalars(select(Credit.role).group_by(Credit.role)
                                .order_by(func.count(Credit.id).desc(), Credit.role).limit(limit)))


def get_person(session: Session, viewer: Viewer, person_id: int) -> Person:
    """The person, or NotFound when they do not exist or `viewer` may not know of them."""
    person = session.scalar(select(Person).where(Person.id == person_id, person_filter(viewer))
                            .options(selectinload(Person.credits).selectinload(Credit.item),
                                     selectinload(Person.credits).selectinload(Credit.collection)))
    if person is None:
        raise NotFound(f"person {person_id}")
    return person


def person_credits(session: Session, viewer: Viewer, person: Person) -> tuple[list[Credit], int]:
    """The person's credits on material `viewer` may see, and how many others there are."""
    known = set(session.scalars(select(Credit.id).where(
        Credit.person_id == person.id,
        Credit.item.has(item_filter(viewer)) | Credit.collection.has(collection_filter(viewer)))))
    shown = [c for c in person.credits if c.id in known]
    return shown, len(person.credits) - len(shown)


def _new_name(session: Session, value: str, *, current: Person | None = None) -> str:
    name = f.name(value, "name")
    other = session.scalar(select(Person).where(Person.name == name))
    if other is not None and other is not current:
        raise Invalid(f"there is already a person named {name!r}", "name")
    return name


def create_person(session: Session, name: str, note: str = "") -> Person:
    """A new person; refuses a name that another person has (names are unique)."""
    values = f.validated({"name": partial(_new_name, session, name), "note": partial(f.text, note, "note")})
    person = Person(**values)
    session.add(person)
    session.flush()
    return person


def edit_person(session: Session, viewer: Viewer, person_id: int, *, name: str | Keep = KEEP,
                note: str | Keep = KEEP, expected_version: int | str | None = None) -> Changes:
    """Rename a person or change their note; return {field: (old, new)}. With `expected_version`,
    a save from a form of another version is refused (Stale)."""
    person = get_person(session, viewer, person_id)
    checks: dict[str, Callable[[], Any]] = {}
    if name is not KEEP:
        checks["name"] = partial(_new_name, session, name, current=person)
    if note is not KEEP:
        checks["note"] = partial(f.text, note, "note")
    values = f.validated(checks)
    with saving_version(person, "person", expected_version):
        changes = f.apply_changes(person, values)
        session.flush()
    return changes


def delete_person(session: Session, viewer: Viewer, person_id: int) -> str:
    """Delete a person nobody credits; return their name. A credited person is refused, not unlinked."""
    person = get_person(session, viewer, person_id)
    if person.credits:
        count = len(person.credits)
        raise Invalid(f"{person.name} is credited {counted(count, 'time')}; "
                      "remove those credits before deleting them", "delete")
    name = person.name
    session.delete(person)
    session.flush()
    return name


def get_or_create_person(session: Session, name: str, *, note: str | None = None) -> Person:
    """The person named exactly `name`, created when missing; `note` replaces theirs when given."""
    name = f.name(name, "name")
    person = session.scalar(select(Person).where(Person.name == name))
    if person is None:
        person = Person(name=name, note="")
        session.add(person)
    if note is not None:
        person.note = f.text(note, "note")
    session.flush()
    return person


# -- credits ----------------------------------------------------------------------------------

def add_credit(session: Session, person: Person, role: str, *, collection: Collection | None = None,
               item: Item | None = None, position: int | None = None) -> Credit:
    """Credit `person` in `role` on a collection or an item (exactly one); refuse the same credit twice."""
    if (collection is None) == (item is None):
        raise Invalid("a credit belongs to a collection or to an item, exactly one of the two", "target")
    role = f.name(role, "role")
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


def _credit(session: Session, person_name: str, role: str, *, item: Item | None = None,
            collection: Collection | None = None) -> Credit:
    # Both fields are checked before anything is made, so a form can mark both.
    f.validated({"person": partial(f.name, person_name, "person"), "role": partial(f.name, role, "role")})
    return add_credit(session, get_or_create_person(session, person_name), role, item=item,
                      collection=collection)


def credit_item(session: Session, viewer: Viewer, item_id: int, person_name: str, role: str) -> Credit:
    """Credit a person (made when the name is new) in `role` on an item `viewer` may see."""
    return _credit(session, person_name, role, item=get_item(session, viewer, item_id))


def credit_collection(session: Session, viewer: Viewer, collection_id: int, person_name: str,
                      role: str) -> Credit:
    """Credit a person (made when the name is new) in `role` on a collection `viewer` may know of."""
    return _credit(session, person_name, role, collection=get_known_collection(session, viewer, collection_id))


def _visible_credit(session: Session, viewer: Viewer, credit_id: int) -> Credit:
    credit = session.get(Credit, credit_id)
    if credit is None:
        raise NotFound(f"credit {credit_id}")
    if credit.item is not None and not can_see(viewer, credit.item):
        raise NotFound(f"credit {credit_id}")
    if credit.collection is not None:
        get_known_collection(session, viewer, credit.collection.id)  # NotFound when hidden
    return credit


def _siblings(session: Session, credit: Credit) -> list[Credit]:
    target = (Credit.item_id == credit.item_id if credit.item_id is not None
              else Credit.collection_id == credit.collection_id)
    return list(session.scalars(select(Credit).where(target).order_by(Credit.position, Credit.id)))


def remove_credit(session: Session, viewer: Viewer, credit_id: int) -> Credit:
    """Delete a credit on material `viewer` may see (the person stays); return it."""
    credit = _visible_credit(session, viewer, credit_id)
    others = [c for c in _siblings(session, credit) if c is not credit]
    session.delete(credit)
    for position, other in enumerate(others):  # close the gap
        other.position = position
    session.flush()
    return credit


def move_credit(session: Session, viewer: Viewer, credit_id: int, step: int) -> Credit:
    """Move a credit `step` places up (negative) or down its list; the ends stop it."""
    credit = _visible_credit(session, viewer, credit_id)
    ordered = _siblings(session, credit)
    index = ordered.index(credit)
    ordered.insert(max(0, min(len(ordered) - 1, index + step)), ordered.pop(index))
    for position, each in enumerate(ordered):
        if each.position != position:
            each.position = position
    session.flush()
    return credit
