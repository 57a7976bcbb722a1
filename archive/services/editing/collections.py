"""Editing collections, and which collections an editor may know of."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, collection_filter
from archive.models import Collection, Credit
from archive.services import Invalid, NotFound, saving_version
from archive.services.editing import fields as f
from archive.services.editing.fields import KEEP, NAME_MAX, TITLE_MAX, Changes, Keep


def known_collections(session: Session, viewer: Viewer) -> list[Collection]:
    """Collections `viewer` may put items in, by title."""
    return list(session.scalars(select(Collection).where(collection_filter(viewer)).order_by(Collection.title)))


def is_known_collection(session: Session, viewer: Viewer, collection_id: int) -> bool:
    return session.scalar(select(Collection.id).where(Collection.id == collection_id,
                                                      collection_filter(viewer))) is not None


def known_collection_id(session: Session, viewer: Viewer, value: int | str | None) -> int | None:
    """The collection id a form gives (None for none); Invalid unless `viewer` may know that collection."""
    collection_id = f.whole_number(value, "collection_id")
    if collection_id is not None and not is_known_collection(session, viewer, collection_id):
        raise Invalid(f"there is no collection {collection_id}", "collection_id")
    return collection_id


def get_known_collection(session: Session, viewer: Viewer, collection_id: int) -> Collection:
    """The collection with its credits, or NotFound when it does not exist or `viewer` may not know it."""
    collection = session.scalar(select(Collection).where(Collection.id == collection_id, collection_filter(viewer))
                                .options(selectinload(Collection.credits).selectinload(Credit.person)))
    if collection is None:
        raise NotFound(f"collection {collection_id}")
    return collection


def _title(session: Session, value: str, *, current: Collection | None = None) -> str:
    title = f.text(value, "title", limit=TITLE_MAX, required=True)
    other = session.scalar(select(Collection).where(Collection.title == title))
    if other is not None and other is not current:
        raise Invalid(f"there is already a collection titled {title!r}", "title")
    return title


#: How each editable field of a collection is checked: (session, value) -> clean value.
COLLECTION_FIELDS: dict[str, Callable[[Session, Any], Any]] = {
    "year": lambda s, v: f.year(v),
    "kind": lambda s, v: f.text(v, "kind", limit=NAME_MAX),
    "synopsis": lambda s, v: f.text(v, "synopsis"),
    "description": lambda s, v: f.text(v, "description"),
    "rights": lambda s, v: f.text(v, "rights"),
}


def create_collection(session: Session, title: str, *, year: int | str | None = None, kind: str = "",
                      synopsis: str = "", description: str = "", rights: str = "") -> Collection:
    """A new collection; refuses a title that another collection has."""
    given = dict(year=year, kind=kind, synopsis=synopsis, description=description, rights=rights)
    checks: dict[str, Callable[[], Any]] = {"title": partial(_title, session, title)}
    checks.update({name: partial(COLLECTION_FIELDS[name], session, value) for name, value in given.items()})
    collection = Collection(**f.validated(checks))
    session.add(collection)
    session.flush()
    return collection


def edit_collection(session: Session, viewer: Viewer, collection_id: int, *, title: str | Keep = KEEP,
                    year: int | str | None | Keep = KEEP, kind: str | Keep = KEEP, synopsis: str | Keep = KEEP,
                    description: str | Keep = KEEP, rights: str | Keep = KEEP,
                    expected_version: int | str | None = None) -> Changes:
    """Change the given fields of a collection `viewer` may know of; return {field: (old, new)}.
    With `expected_version`, a save from a form of another version is refused (Stale)."""
    collection = get_known_collection(session, viewer, collection_id)
    checks: dict[str, Callable[[], Any]] = {}
    if title is not KEEP:
        checks["title"] = partial(_title, session, title, current=collection)
    given = dict(year=year, kind=kind, synopsis=synopsis, description=description, rights=rights)
    checks.update({name: partial(COLLECTION_FIELDS[name], session, value) for name, value in given.items()
                   if value is not KEEP})
    values = f.validated(checks)
    with saving_version(collection, "collection", expected_version):
        changes = f.apply_changes(collection, values)
        session.flush()
    return changes


def upsert_collection(session: Session, title: str, *, year: int | None | Keep = KEEP, kind: str | Keep = KEEP,
                      synopsis: str | Keep = KEEP, description: str | Keep = KEEP,
                      rights: str | Keep = KEEP) -> tuple[Collection, bool]:
    """The collection titled `title`, created when missing, with the given fields set; (collection, created)."""
    title = f.text(title, "title", limit=TITLE_MAX, required=True)
    collection = session.scalar(select(Collection).where(Collection.title == title))
    created = collection is None
    if collection is None:
        collection = Collection(title=title, kind="", synopsis="", description="", rights="")
        session.add(collection)
    if year is not KEEP:
        if isinstance(year, str):  # a number, not its text, as before edit forms existed
            raise Invalid(f"year must be a whole number from 1 to 9999, not {year!r}", "year")
        collection.year = f.year(year)
    if kind is not KEEP:
        collection.kind = f.text(kind, "kind", limit=NAME_MAX)
    for name, value in (("synopsis", synopsis), ("description", description), ("rights", rights)):
        if value is not KEEP:
            setattr(collection, name, f.text(value, name))
    session.flush()
    return collection, created
