"""The one access policy: what a viewer may know exists.

Every listing, page, file, search hit and export asks this module. Anything a viewer may not
see is treated as absent (404), never as forbidden (403), so that its existence is not confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_

from archive.models import AccessLevel, Item, Role

__all__ = ["ANONYMOUS", "SYSTEM", "Role", "Viewer", "can_see", "item_filter"]


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
