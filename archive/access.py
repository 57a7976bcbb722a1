"""The one access policy: what a viewer may know exists.

Every listing, page, file, search hit and export asks this module. Anything a viewer may not
see is treated as absent (404), never as forbidden (403), so that its existence is not confirmed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, true

from archive.models import AccessLevel, Item


class Role(str, enum.Enum):
    public = "public"          # anonymous visitors
    researcher = "researcher"  # reads restricted material
    archivist = "archivist"    # reads restricted material, edits the catalogue
    admin = "admin"            # sees everything, manages users and settings


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


def item_filter(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Item keeping only what `viewer` may see."""
    if viewer.role is Role.admin:
        return true()
    if viewer.role is Role.public:
        return Item.access == AccessLevel.public
    confidential = (and_(Item.access == AccessLevel.confidential,
                         Item.collection_id.in_(sorted(viewer.granted_collections)))
                    if viewer.granted_collections else false())
    return or_(Item.access.in_([AccessLevel.public, AccessLevel.restricted]), confidential)


def can_see(viewer: Viewer, item: Item) -> bool:
    """The same rule as item_filter, for an item already loaded."""
    if viewer.role is Role.admin or item.access is AccessLevel.public:
        return True
    if viewer.role is Role.public:
        return False
    if item.access is AccessLevel.restricted:
        return True
    return item.collection_id is not None and item.collection_id in viewer.granted_collections
