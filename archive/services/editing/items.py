"""Editing items: their fields and tags, one at a time or many at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer
from archive.dates import parse_date
from archive.models import AccessLevel, Collection, Item, Tag, utcnow
from archive.services import Invalid, Stale, StaleBatch, audit, counted, saving_version, touch, version_number
from archive.services.access_copies import queue_access_copy_if_needed
from archive.services.catalogue import get_item, visible_items
from archive.services.editing import fields as f
from archive.services.editing.collections import known_collection_id
from archive.services.editing.fields import KEEP, NAME_MAX, TITLE_MAX, Changes, Keep

#: Most items one bulk edit may change; a browse page holds at most max_per_page of them.
BULK_MAX = 1000


def _date_shot(value: str) -> Any:
    try:
        return parse_date(f.text(value, "date_shot", limit=NAME_MAX))
    except ValueError as exc:
        raise Invalid(str(exc), "date_shot") from exc


def _collection_id(session: Session, value: int | str | None) -> int | None:
    collection_id = f.whole_number(value, "collection_id")
    if collection_id is not None and session.get(Collection, collection_id) is None:
        raise Invalid(f"there is no collection {collection_id}", "collection_id")
    return collection_id


#: How each editable field of an item is checked: (session, value) -> clean value.
ITEM_FIELDS: dict[str, Callable[[Session, Any], Any]] = {
    "title": lambda s, v: f.text(v, "title", limit=TITLE_MAX, required=True),
    "description": lambda s, v: f.text(v, "description"),
    "date_shot": lambda s, v: _date_shot(v),
    "creator": lambda s, v: f.text(v, "creator", limit=NAME_MAX),
    "language": lambda s, v: f.languages(v),
    "rights": lambda s, v: f.text(v, "rights"),
    "source": lambda s, v: f.text(v, "source"),
    "access": lambda s, v: f.access(v),
    "collection_id": _collection_id,
}


def _item_values(session: Session, given: dict[str, Any]) -> dict[str, Any]:
    """The given fields checked, all at once (InvalidFields names every refused one)."""
    return f.validated({name: partial(ITEM_FIELDS[name], session, value) for name, value in given.items()
                        if value is not KEEP})


def _apply(session: Session, item: Item, values: dict[str, Any]) -> Changes:
    bounds = values.pop("date_shot", None)
    if bounds is not None:
        values["date_shot"] = bounds.text
    changes = f.apply_changes(item, values)
    if bounds is not None:  # the bounds follow the text, and are not reported separately
        item.date_lower, item.date_upper = bounds.lower, bounds.upper
    session.flush()
    if {"access", "collection_id"} & set(changes):  # who may see it changed: non-editors may now need a copy
        queue_access_copy_if_needed(session, item)
    return changes


def update_item(session: Session, item: Item, *, title: str | Keep = KEEP, description: str | Keep = KEEP,
                date_shot: str | Keep = KEEP, creator: str | Keep = KEEP, language: str | Keep = KEEP,
                rights: str | Keep = KEEP, source: str | Keep = KEEP, access: AccessLevel | str | Keep = KEEP,
                collection_id: int | None | Keep = KEEP) -> Changes:
    """Change the given fields of `item` (all or none); return {field: (old, new)} of those that changed."""
    values = _item_values(session, dict(title=title, description=description, date_shot=date_shot,
                                        creator=creator, language=language, rights=rights, source=source,
                                        access=access, collection_id=collection_id))
    return _apply(session, item, values)


def edit_item(session: Session, viewer: Viewer, item_id: int, *, tags: Sequence[str] | Keep = KEEP,
              expected_version: int | str | None = None, **fields: Any) -> Changes:
    """What the edit form does: change an item `viewer` may see, its fields (as in update_item) and tags.

    Every refused value is reported at once (InvalidFields); a collection the viewer may not know
    of is refused as if it did not exist. Returns {field: (old, new)} of what changed. With
    `expected_version`, a save made from a form of another version of the item is refused (Stale).
    """
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"edit_item() got unexpected fields {sorted(unknown)}")
    item = get_item(session, viewer, item_id)
    collection_id = fields.get("collection_id", KEEP)
    checks: dict[str, Callable[[], Any]] = {
        name: partial(ITEM_FIELDS[name], session, value) for name, value in fields.items() if value is not KEEP}
    if collection_id is not KEEP:
        checks["collection_id"] = partial(known_collection_id, session, viewer, collection_id)
    if tags is not KEEP:
        checks["tags"] = partial(f.tag_names, list(tags))
    values = f.validated(checks)
    names = values.pop("tags", None)
    with saving_version(item, "item", expected_version):
        changes = _apply(session, item, values)
        if names is not None:
            changes.update(set_item_tags(session, item, names))
    return changes




def get_or_create_tag(session: Session, name: str, parent: Tag | None = None) -> Tag:
    """The tag named `name` (matched ignoring case), created when missing; `parent` is set when given."""
    name = f.name(name, "tags")
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
    cleaned = f.tag_names(names)
    old = [t.name for t in item.tags]
    tags = [get_or_create_tag(session, name) for name in cleaned]
    if {t.id for t in tags} != {t.id for t in item.tags}:
        touch(item)  # in the same flush as the tags, so that their audit entry has the new version
    item.tags = sorted(tags, key=lambda t: t.name)
    session.flush()
    new = [t.name for t in item.tags]
    return {"tags": (old, new)} if sorted(old) != sorted(new) else {}


def split_tags(value: str) -> list[str]:
    """Tag names typed as comma-separated text ("night, river crossing"); blanks dropped."""
    return [part for part in value.split(",") if part.strip()]


# -- many items at once -----------------------------------------------------------------------

@dataclass
class BulkResult:
    """What a bulk edit did: ids changed, ids already as asked, ids absent or hidden from the viewer."""
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    not_found: list[int] = field(default_factory=list)
    batch: str = ""  #: the audit batch id shared by the entries of this edit

    def summary(self) -> str:
        """"3 items updated, 1 item not found.": for a flash message or a terminal."""
        parts = [f"{counted(len(self.updated), 'item')} updated"]
        if self.unchanged:
            parts.append(f"{counted(len(self.unchanged), 'item')} already as asked")
        if self.not_found:
            parts.append(f"{counted(len(self.not_found), 'item')} not found")
        return ", ".join(parts) + "."


def bulk_edit(session: Session, viewer: Viewer, item_ids: Sequence[int], *, add_tags: Sequence[str] = (),
              remove_tags: Sequence[str] = (), collection_id: int | str | None | Keep = KEEP,
              access: AccessLevel | str | Keep = KEEP,
              versions: Mapping[int, int | str | None] | None = None) -> BulkResult:
    """Add and remove tags, set the collection and the access level of many items in one go.

    Only items `viewer` may see are loaded; other ids are reported as not found and never
    touched. The changes are recorded in the audit trail as one "bulk_edit" batch. `versions`
    gives the version of each item as the page showed it: when any was saved since, nothing is
    changed (StaleBatch names every such item).
    """
    ids = list(dict.fromkeys(item_ids))
    expected = {item_id: version_number(raw) for item_id, raw in (versions or {}).items()}
    checks: dict[str, Callable[[], Any]] = {
        "add_tags": partial(f.tag_names, list(add_tags), "add_tags"),
        "remove_tags": partial(f.tag_names, list(remove_tags), "remove_tags"),
    }
    if collection_id is not KEEP:
        checks["collection_id"] = partial(known_collection_id, session, viewer, collection_id)
    if access is not KEEP:
        checks["access"] = partial(f.access, access)
    values = f.validated(checks)
    adding, removing = values["add_tags"], values["remove_tags"]
    both = {n.lower() for n in adding} & {n.lower() for n in removing}
    if both:
        raise Invalid(f"{', '.join(sorted(both))}: a tag cannot be added and removed at once", "remove_tags")
    if not ids:
        raise Invalid("select at least one item", "items")
    if len(ids) > BULK_MAX:
        raise Invalid(f"a bulk edit changes at most {BULK_MAX} items; {len(ids)} were selected", "items")
    if not (adding or removing or "collection_id" in values or "access" in values):
        raise Invalid("choose a change to make: tags to add or remove, a collection or an access level", "bulk")

    found = {item.id: item for item in session.scalars(
        visible_items(viewer).where(Item.id.in_(ids)).options(selectinload(Item.tags)))}
    stale = [Stale("item", item.id, expected[item.id]) for item in found.values()
             if expected.get(item.id) is not None and expected[item.id] != item.version]
    if stale:
        raise StaleBatch(sorted(stale, key=lambda s: ids.index(s.object_id)))
    result = BulkResult(not_found=[i for i in ids if i not in found])
    drop = {n.lower() for n in removing}
    with audit.labelled(session, "bulk_edit", batch=True) as batch:
        result.batch = batch
        new_tags = [get_or_create_tag(session, name) for name in adding]
        for item_id in ids:
            item = found.get(item_id)
            if item is None:
                continue
            changed = False
            tags = [t for t in item.tags if t.name.lower() not in drop]
            tags += [t for t in new_tags if t not in tags]
            if {t.id for t in tags} != {t.id for t in item.tags}:
                item.tags = sorted(tags, key=lambda t: t.name)
                changed = True
            seen_by = (item.access, item.collection_id)
            for name in ("collection_id", "access"):
                if name in values and getattr(item, name) != values[name]:
                    setattr(item, name, values[name])
                    changed = True
            if changed:
                touch(item)  # a change of tags alone writes no column: the version moves all the same
                try:
                    with saving_version(item, "item", None):  # saved by another since it was loaded
                        session.flush()
                except Stale as exc:
                    raise StaleBatch([exc]) from None
            if (item.access, item.collection_id) != seen_by:
                queue_access_copy_if_needed(session, item)
            (result.updated if changed else result.unchanged).append(item_id)
    return result
