"""The one access policy: what a viewer may know exists.

Every listing, page, file, search hit and export asks this module. Anything a viewer may not
see is treated as absent (404), never as forbidden (403), so that its existence is not confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from archive.models import AccessLevel, Collection, Credit, Item, Person, Role, Tag, TimeRange

__all__ = ["ANONYMOUS", "EDITORS", "SYSTEM", "Role", "Viewer", "can_see", "collection_filter", "item_filter",
           "may_edit", "person_filter", "tag_filter"]

#: Roles that change the catalogue.
EDITORS = frozenset({Role.archivist, Role.admin})


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a role and the collections granted to them for confidential material."""
    role: Role = Role.public
    granted_collections: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None
    name: str = "anonymous"

    @property
    def is_anonymous(self) -> bool:
        return self.role is Role.public


def may_edit(viewer: Viewer) -> bool:
    return viewer.role in EDITORS


ANONYMOUS = Viewer()
#: The CLI acts with full rights: whoever runs it already holds the data root.
SYSTEM = Viewer(role=Role.admin, name="system")


def item_filter(viewer: Viewer, *, in_trash: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on Item keeping only what `viewer` may see.

    Items in the trash are absent for everyone; `in_trash` selects them instead, for the trash
    page, where the same access rule still applies.
    """
    trash = Item.deleted_at.is_not(None) if in_trash else Item.deleted_at.is_(None)
    if viewer.role is Role.admin:
        return trash
    if viewer.role is Role.public:
        return and_(trash, Item.access == AccessLevel.public)
    confidential = (and_(Item.access == AccessLevel.confidential,
                         Item.collection_id.in_(sorted(viewer.granted_collections)))
                    if viewer.granted_collections else false())
    return and_(trash, or_(Item.access.in_([AccessLevel.public, AccessLevel.restricted]), confidential))


def can_see(viewer: Viewer, item: Item) -> bool:
    """The same rule as item_filter, for an item already loaded (and not in the trash)."""
    if item.deleted_at is not None:
        return False
    if viewer.role is Role.admin or item.access is AccessLevel.public:
        return True
    if viewer.role is Role.public:
        return False
    if item.access is AccessLevel.restricted:
        return True
    return item.collection_id is not None and item.collection_id in viewer.granted_collections


# Collections, people and tags have no access level of their own: they are known through the
# items they belong to, so that a title, a name or a term never reveals hidden material.

def collection_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Collection: those with an item `viewer` may see, or (editors) with none at all."""
    if viewer.role is Role.admin:
        return true()
    known = Collection.items.any(item_filter(viewer))
    if may_edit(viewer):  # a collection just made, with nothing in it yet
        return known | ~Collection.items.any(Item.deleted_at.is_(None))
    return known


def person_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Person: a name can itself endanger someone, so it is as hidden as their credits."""
    if viewer.role is Role.admin:
        return true()
    credited = Person.credits.any(Credit.item.has(item_filter(viewer))
                                  | Credit.collection.has(collection_filter(viewer)))
    return (~Person.credits.any() | credited) if may_edit(viewer) else credited


def tag_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Tag: terms used on an item or a range `viewer` may see, or (editors) unused ones."""
    if viewer.role is Role.admin:
        return true()
    used_visibly = Tag.items.any(item_filter(viewer)) | Tag.id.in_(
        select(TimeRange.tag_id).join(Item, Item.id == TimeRange.item_id).where(item_filter(viewer)))
    if may_edit(viewer):
        unused = ~Tag.items.any() & Tag.id.not_in(select(TimeRange.tag_id))
        return used_visibly | unused
    return used_visibly
