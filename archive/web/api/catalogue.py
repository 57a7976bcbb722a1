"""/api/v1 collections, the tag vocabulary and the trash."""

from __future__ import annotations

from datetime import datetime

from flask import Response
from pydantic import BaseModel, Field

from archive.services import NotFound, trash, vocabulary
from archive.services.vocabulary import TagNode
from archive.web.api.items import ItemIds, ItemSummary, Trashed
from archive.web.api.legacy import item_summary
from archive.web.api.models import Body, Page, PageQuery, Text, next_page_url, page_of, page_size
from archive.web.api.operations import expected_version, operation, reply
from archive.web.context import current_viewer, db_session
from archive.web.pages import visible_collections


class Collection(BaseModel):
    id: int
    version: int
    title: str
    year: int | None
    kind: str
    synopsis: str
    description: str
    rights: str
    items: int = Field(description="How many of its items the viewer may see.")


CollectionPage = Page[Collection]


class TagOut(BaseModel):
    id: int
    version: int
    name: str
    parent_id: int | None = Field(description="The broader term shown to the viewer, if any.")
    items: int = Field(description="Visible items that carry it.")
    ranges: int = Field(description="Time ranges of visible items that carry it.")


TagPage = Page[TagOut]


class TrashEntry(BaseModel):
    item: ItemSummary
    deleted_at: datetime | None
    deleted_by: str


TrashPage = Page[TrashEntry]


@operation("GET", "/collections", summary="List collections", tag="catalogue", query=PageQuery,
           response=CollectionPage)
def collections(query: PageQuery) -> Response:
    """The collections with an item the viewer may see, with that count."""
    found = visible_collections(db_session(), current_viewer())
    return reply(CollectionPage.model_validate(page_of([Collection(
        id=c.id, version=c.version, title=c.title, year=c.year, kind=c.kind, synopsis=c.synopsis,
        description=c.description, rights=c.rights, items=n) for c, n in found], query)))


@operation("GET", "/tags", summary="List tags", tag="catalogue", query=PageQuery, response=TagPage)
def tags(query: PageQuery) -> Response:
    """The vocabulary the viewer may know, broader terms first, each with its visible uses."""
    out: list[TagOut] = []

    def walk(nodes: list[TagNode], parent: int | None) -> None:
        for node in nodes:
            out.append(TagOut(id=node.tag.id, version=node.tag.version, name=node.tag.name, parent_id=parent,
                              items=node.items, ranges=node.ranges))
            walk(node.children, node.tag.id)
    walk(vocabulary.tag_tree(db_session(), current_viewer()), None)
    return reply(TagPage.model_validate(page_of(out, query)))


@operation("GET", "/trash", summary="List the trash", tag="trash", query=PageQuery, response=TrashPage,
           writes=True, admins=True)
def trash_list(query: PageQuery) -> Response:
    """Items in the trash, most recently deleted first: admins only."""
    found = trash.list_trash(db_session(), current_viewer(), page=query.page, per_page=page_size(query))
    entries = [TrashEntry(item=ItemSummary.model_validate({**item_summary(e.item), "version": e.item.version}),
                          deleted_at=e.item.deleted_at, deleted_by=e.deleted_by) for e in found.entries]
    return reply(TrashPage(items=entries, total=found.total, page=found.page, per_page=found.per_page,
                           next=next_page_url(found.page, found.per_page, found.total)))


@operation("POST", "/trash/restore", summary="Restore items from the trash", tag="trash", body=ItemIds,
           response=Trashed, writes=True, admins=True)
def restore(body: ItemIds) -> Response:
    """Take the items out of the trash (all or none): admins only."""
    restored = trash.restore(db_session(), current_viewer(), body.items)
    db_session().commit()
    return reply(Trashed(items=[i.id for i in restored]))


class TagChange(Body):
    name: Text = Field(None, min_length=1, max_length=200)
    parent: Text | None = Field(None, max_length=200, description="The broader term's name (made as a heading "
                                "when new); empty or null puts the tag at the top.")


class TagMerge(Body):
    into: Text = Field(min_length=1, max_length=200, description="The name of the tag it becomes part of.")


def _tag(tag_id: int) -> Response:
    session, viewer = db_session(), current_viewer()
    tag = vocabulary.get_tag(session, tag_id, viewer)
    node = vocabulary.usage(session, viewer, tag)
    parent_id = tag.parent_id
    if parent_id is not None:
        try:
            vocabulary.get_tag(session, parent_id, viewer)
        except NotFound:  # a term the viewer may not know is not named
            parent_id = None
    return reply(TagOut(id=tag.id, version=tag.version, name=tag.name, parent_id=parent_id,
                        items=node.items, ranges=node.ranges), etag=tag.version)


def _known_tag(tag_id: int) -> object:
    return vocabulary.get_tag(db_session(), tag_id, current_viewer())


@operation("PATCH", "/tags/<id:tag_id>", summary="Rename a tag or move it under another", tag="catalogue",
           body=TagChange, response=TagOut, writes=True, versioned=True, find=_known_tag)
def edit_tag(tag_id: int, body: TagChange) -> Response:
    """A name another tag has is refused (merge them instead)."""
    session, given, version = db_session(), body.model_dump(exclude_unset=True), expected_version()
    if "name" in given:
        vocabulary.rename_tag(session, tag_id, given["name"], expected_version=version)
        version = None  # checked by the rename, which moved it
    if "parent" in given:
        broader = vocabulary.term(session, given["parent"], "parent") if (given["parent"] or "").strip() else None
        vocabulary.set_parent(session, tag_id, broader.id if broader else None, expected_version=version)
    session.commit()
    return _tag(tag_id)


@operation("POST", "/tags/<id:tag_id>/merge", summary="Merge a tag into another", tag="catalogue", body=TagMerge,
           response=TagOut, writes=True, versioned=True, find=_known_tag,
           request_headers={"If-Match": ("The merged tag's ETag; 412 when it was saved since.", False)})
def merge_tag(tag_id: int, body: TagMerge) -> Response:
    """Its items, time ranges and narrower terms follow into the other tag, and it goes; the answer is that tag."""
    session = db_session()
    target = vocabulary.existing_tag(session, body.into, "into", current_viewer())
    result = vocabulary.merge_tags(session, tag_id, target.id, expected_version=expected_version())
    session.commit()
    return _tag(result.target.id)


@operation("DELETE", "/tags/<id:tag_id>", summary="Delete a tag nothing uses", tag="catalogue", response=None,
           status=204, writes=True, versioned=True, find=_known_tag)
def delete_tag(tag_id: int) -> Response:
    vocabulary.delete_tag(db_session(), tag_id, expected_version=expected_version())
    db_session().commit()
    return reply(None)
