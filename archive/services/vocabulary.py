"""The tag vocabulary: terms as a tree with what each viewer may count, and its upkeep.

Renames and merges are labelled in the audit trail ("rename", "merge"; a merge's entries share
one batch). Every function raises Invalid naming the form field ("name", "parent", "target",
"tag"), flushes and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.access import SYSTEM, Viewer, item_filter, tag_filter
from archive.models import Item, Tag, TimeRange, item_tags
from archive.services import Invalid, NotFound, audit, saving_version, touch
from archive.services.editing import NAME_MAX, get_or_create_tag

#: Who keeps the vocabulary, and so sees all of it (others see only tags with a visible use).


@dataclass
class TagNode:
    """A tag in the tree, with how much of what the viewer may see uses it."""
    tag: Tag
    items: int = 0  #: visible items that carry the tag
    ranges: int = 0  #: time ranges with the tag on visible items
    children: list[TagNode] = field(default_factory=list)

    @property
    def used(self) -> bool:
        return bool(self.items or self.ranges)


@dataclass(frozen=True)
class MergeResult:
    target: Tag
    items: int  #: items that carried the merged tag
    ranges: int  #: time ranges that carried it
    children: int  #: narrower terms moved under the target


def get_tag(session: Session, tag_id: int, viewer: Viewer = SYSTEM) -> Tag:
    """The tag, or NotFound when it does not exist or `viewer` may not know it (see access.tag_filter)."""
    tag = session.scalar(select(Tag).where(Tag.id == tag_id, tag_filter(viewer)))
    if tag is None:
        raise NotFound(f"tag {tag_id}")
    return tag


def find_tag(session: Session, name: str) -> Tag | None:
    """The tag called `name`, matched exactly first and then ignoring case."""
    name = " ".join(name.split())
    return session.scalar(select(Tag).where(Tag.name == name)) or session.scalar(
        select(Tag).where(func.lower(Tag.name) == name.lower()).order_by(Tag.id))


def tag_names(session: Session, viewer: Viewer, *, leave_out: Iterable[Tag] = ()) -> list[str]:
    """The names of the tags `viewer` may know, but those of `leave_out`, for pickers."""
    ids = [t.id for t in leave_out]
    names = session.scalars(select(Tag.name).where(tag_filter(viewer), Tag.id.not_in(ids)))
    return sorted(names, key=lambda name: (name.casefold(), name))


def existing_tag(session: Session, name: str, form_field: str, viewer: Viewer = SYSTEM) -> Tag:
    """The tag called `name` (ignoring case) that `viewer` may know; Invalid naming `form_field` when none."""
    tag = find_tag(session, _clean_name(name, form_field))
    if tag is None or session.scalar(select(Tag.id).where(Tag.id == tag.id, tag_filter(viewer))) is None:
        raise Invalid(f"there is no tag {' '.join(name.split())!r}", form_field)
    return tag


def children(session: Session, tag: Tag) -> list[Tag]:
    """The narrower terms right under `tag`, by name."""
    return sorted(session.scalars(select(Tag).where(Tag.parent_id == tag.id)),
                  key=lambda t: (t.name.casefold(), t.name))


def tag_tree(session: Session, viewer: Viewer) -> list[TagNode]:
    """The vocabulary as a tree (by name at each level), with counts of what `viewer` may see.

    Everyone gets the tags access.tag_filter lets them know (editors: unused ones too) and, above
    them, broader terms that nothing uses (headings); a term used only on material the viewer may
    not see is left out, and what hangs under it moves up to the nearest term shown.
    """
    item_counts, range_counts = _visible_counts(session, viewer)
    tags = {t.id: t for t in session.scalars(select(Tag))}
    nodes = {tag_id: TagNode(t, item_counts.get(tag_id, 0), range_counts.get(tag_id, 0))
             for tag_id, t in tags.items()}
    used = _used_anywhere(session)
    shown = set(session.scalars(select(Tag.id).where(tag_filter(viewer))))
    for tag_id in list(shown):
        for ancestor in _ancestors(tags[tag_id]) or ():
            if ancestor.id not in used:
                shown.add(ancestor.id)
    nodes = {tag_id: node for tag_id, node in nodes.items() if tag_id in shown}
    roots: list[TagNode] = []
    for node in nodes.values():
        ancestors = _ancestors(node.tag)
        parent = None if ancestors is None else next((a for a in ancestors if a.id in nodes), None)
        (nodes[parent.id].children if parent is not None else roots).append(node)
    _sort(roots)
    return roots


def usage(session: Session, viewer: Viewer, tag: Tag) -> TagNode:
    """How much of what `viewer` may see uses `tag` (without children)."""
    item_counts, range_counts = _visible_counts(session, viewer, tag.id)
    return TagNode(tag, item_counts.get(tag.id, 0), range_counts.get(tag.id, 0))


#: Most time ranges a tag's page lists.
TAGGED_RANGES_SHOWN = 200


def tagged_ranges(session: Session, viewer: Viewer, tag: Tag, *, limit: int = TAGGED_RANGES_SHOWN) -> list[TimeRange]:
    """The time ranges carrying `tag` on items `viewer` may see, by item title, then start."""
    return list(session.scalars(
        select(TimeRange).join(Item, Item.id == TimeRange.item_id)
        .where(TimeRange.tag_id == tag.id, item_filter(viewer))
        .options(selectinload(TimeRange.item))
        .order_by(Item.title, Item.id, TimeRange.start_sec, TimeRange.end_sec, TimeRange.id).limit(limit)))


def _visible_counts(session: Session, viewer: Viewer,
                    tag_id: int | None = None) -> tuple[dict[int, int], dict[int, int]]:
    """{tag id: visible items carrying it}, {tag id: time ranges with it on visible items}."""
    items = (select(item_tags.c.tag_id, func.count()).join(Item, Item.id == item_tags.c.item_id)
             .where(item_filter(viewer)).group_by(item_tags.c.tag_id))
    ranges = (select(TimeRange.tag_id, func.count()).join(Item, Item.id == TimeRange.item_id)
              .where(item_filter(viewer)).group_by(TimeRange.tag_id))
    if tag_id is not None:
        items, ranges = items.where(item_tags.c.tag_id == tag_id), ranges.where(TimeRange.tag_id == tag_id)
    return ({t: n for t, n in session.execute(items).all()}, {t: n for t, n in session.execute(ranges).all()})


def _used_anywhere(session: Session) -> set[int]:
    """Ids of tags that any item (trash included) or time range uses, whoever may see it."""
    return set(session.scalars(select(item_tags.c.tag_id).distinct())) | set(
        session.scalars(select(TimeRange.tag_id).distinct()))


def _sort(nodes: list[TagNode]) -> None:
    nodes.sort(key=lambda n: (n.tag.name.casefold(), n.tag.name))
    for node in nodes:
        _sort(node.children)


def term(session: Session, name: str, form_field: str) -> Tag:
    """The tag called `name` (ignoring case), created when missing; Invalid names `form_field`."""
    name = _clean_name(name, form_field)
    return find_tag(session, name) or get_or_create_tag(session, name)


def broader_terms(tag: Tag) -> list[Tag]:
    """The terms above `tag`, from the top down."""
    return list(reversed(_ancestors(tag) or []))


def descendants(session: Session, tag: Tag) -> list[Tag]:
    """Every tag under `tag`, at any depth."""
    children: dict[int | None, list[Tag]] = {}
    for t in session.scalars(select(Tag)):
        children.setdefault(t.parent_id, []).append(t)
    found: list[Tag] = []
    todo = list(children.get(tag.id, []))
    while todo:
        t = todo.pop()
        if t not in found:
            found.append(t)
            todo.extend(children.get(t.id, []))
    return found


def in_use(session: Session, tag: Tag) -> bool:
    """Whether any item (the trash included, so a restore loses nothing) or time range uses `tag`."""
    return bool(session.scalar(select(item_tags.c.item_id).where(item_tags.c.tag_id == tag.id).limit(1))
                or session.scalar(select(TimeRange.id).where(TimeRange.tag_id == tag.id).limit(1)))


# -- upkeep -----------------------------------------------------------------------------------

def rename_tag(session: Session, tag_id: int, name: str, *, expected_version: int | str | None = None) -> Tag:
    """Give the tag a new name; a name another tag has is refused with a suggestion to merge, and
    (Stale) a rename from a page of another version than `expected_version`."""
    tag = get_tag(session, tag_id)
    name = _clean_name(name, "name")
    other = find_tag(session, name)
    if other is not None and other is not tag:
        raise Invalid(f"there is already a tag {other.name!r}; to make one term of the two, merge "
                      f"{tag.name!r} into {other.name!r} instead", "name")
    with saving_version(tag, "tag", expected_version):
        if name != tag.name:
            with audit.labelled(session, "rename", batch=True):
                for item in session.scalars(select(Item).join(item_tags, item_tags.c.item_id == Item.id)
                                            .where(item_tags.c.tag_id == tag.id)):
                    touch(item)  # a form of the item from before the rename would bring the old name back
                tag.name = name
    return tag


def set_parent(session: Session, tag_id: int, parent_id: int | None, *,
               expected_version: int | str | None = None) -> Tag:
    """Put the tag under a broader term, or at the top with None; a term may not end up under itself.
    Refused (Stale) from a page of another version of the tag than `expected_version`."""
    tag = get_tag(session, tag_id)
    with saving_version(tag, "tag", expected_version):
        return _set_parent(session, tag, parent_id)


def _set_parent(session: Session, tag: Tag, parent_id: int | None) -> Tag:
    parent = None
    if parent_id is not None:
        parent = session.get(Tag, parent_id)
        if parent is None:
            raise Invalid(f"there is no tag {parent_id}", "parent")
        above = _ancestors(parent)
        if parent is tag or above is None or tag in above:
            where = "itself" if parent is tag else f"{parent.name!r}, which is under it"
            raise Invalid(f"{tag.name!r} cannot go under {where}: that would make a loop", "parent")
    if tag.parent is not parent:
        tag.parent = parent
        session.flush()
    return tag


def merge_tags(session: Session, source_id: int, target_id: int, *,
               expected_version: int | str | None = None) -> MergeResult:
    """Make tag `source` part of `target`: its items, time ranges and narrower terms follow, and it goes.

    The changes are recorded as one "merge" batch in the audit trail. Refused (Stale) from a page of
    another version of `source` than `expected_version`.
    """
    source, target = get_tag(session, source_id), get_tag(session, target_id)
    if source is target:
        raise Invalid(f"{source.name!r} cannot be merged into itself", "target")
    with saving_version(source, "tag", expected_version), audit.labelled(session, "merge", batch=True):
        items = list(session.scalars(select(Item).join(item_tags, item_tags.c.item_id == Item.id)
                                     .where(item_tags.c.tag_id == source.id)))
        for item in items:
            touch(item)  # a form of the item from before the merge would put the old tag back
            item.tags = sorted({*item.tags, target} - {source}, key=lambda t: t.name)
        ranges = list(session.scalars(select(TimeRange).where(TimeRange.tag_id == source.id)))
        for time_range in ranges:
            time_range.tag = target
        # A target under the source takes the source's place first, so that the source's other
        # children can go under it without making a loop.
        if source in (_ancestors(target) or ()):
            target.parent = source.parent
        children = [t for t in session.scalars(select(Tag).where(Tag.parent_id == source.id)) if t is not target]
        for child in children:
            child.parent = target
        session.flush()
        session.delete(source)
    return MergeResult(target, len(items), len(ranges), len(children))


def delete_tag(session: Session, tag_id: int, *, expected_version: int | str | None = None) -> None:
    """Remove a tag nothing uses; its narrower terms move up to its own broader term. Refused
    (Stale) from a page of another version of the tag than `expected_version`."""
    tag = get_tag(session, tag_id)
    if in_use(session, tag):
        raise Invalid(f"{tag.name!r} is still in use; merge it into another tag instead", "tag")
    with saving_version(tag, "tag", expected_version):
        for child in session.scalars(select(Tag).where(Tag.parent_id == tag.id)):
            child.parent = tag.parent
        session.flush()
        session.delete(tag)
        session.flush()


def _clean_name(value: str, form_field: str) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name:
        raise Invalid("give the tag's name", form_field)
    if len(name) > NAME_MAX:
        raise Invalid(f"a tag name is at most {NAME_MAX} characters", form_field)
    return name


def _ancestors(tag: Tag) -> list[Tag] | None:
    """Broader terms from the nearest up; None when the chain loops (the services never make one)."""
    found: list[Tag] = []
    parent = tag.parent
    while parent is not None:
        if parent is tag or parent in found:
            return None
        found.append(parent)
        parent = parent.parent
    return found
