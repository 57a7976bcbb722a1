"""/api/v1 collections, the tag vocabulary and the trash."""

from __future__ import annotations

from datetime import datetime

from flask import Response
from pydantic import BaseModel, Field

from archive.services import trash, vocabulary
from archive.services.vocabulary import TagNode
from archive.web.api.items import ItemIds, ItemSummary, Trashed
from archive.web.api.legacy import item_summary
from archive.web.api.models import Page, PageQuery, next_page_url, page_of, page_size
from archive.web.api.operations import operation, reply
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
